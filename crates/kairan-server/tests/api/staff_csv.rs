//! The staff list as CSV through the API (issue 8, I1): a Shift_JIS file from Excel previewed,
//! imported all at once with temporary passwords, imported again without a change; problems
//! listed by line and column with nothing written; export in every encoding, with formula cells
//! neutralised and characters Shift_JIS cannot hold reported; who may do it.

use crate::helpers::{Client, TestApp, assert_error, pairs};
use encoding_rs::SHIFT_JIS;
use kairan_domain::policy::Actor;
use kairan_server::services::admin;
use reqwest::StatusCode;
use serde_json::Value;

struct Town {
    app: TestApp,
    org: String,
    admin: Client,
}

async fn town() -> Town {
    let app = TestApp::spawn().await;
    let org = app.create_org("higashi", "東山町").await;
    for name in ["総務課", "企画課"] {
        admin::create_department(app.state(), &Actor::Operator, &org, name, None)
            .await
            .unwrap();
    }
    app.create_user(&org, "admin.one", &["admin"]).await;
    let admin = app.signed_in("admin.one").await;
    Town { app, org, admin }
}

fn sjis(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = SHIFT_JIS.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

async fn import(c: &Client, org: &str, body: Vec<u8>, dry_run: bool) -> (StatusCode, Value) {
    let r = c
        .http
        .post(format!(
            "{}/api/v1/orgs/{org}/staff-import?dry_run={dry_run}",
            c.base
        ))
        .header("x-csrf-token", &c.csrf)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

async fn export(c: &Client, org: &str, encoding: &str) -> (StatusCode, String, Vec<u8>) {
    let r = c
        .http
        .get(format!(
            "{}/api/v1/orgs/{org}/staff.csv?encoding={encoding}",
            c.base
        ))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let ctype = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ctype, r.bytes().await.unwrap().to_vec())
}

const FILE: &str = "職員番号,ログインID,氏名,フリガナ,所属,職名,権限\r\n\
    1001,takahashi.kenta,髙橋 健太,タカハシ ケンタ,総務課,主事,職員\r\n\
    1002,yamasaki.hana,山﨑 花子,やまさき はなこ,企画課,\"係長,広報担当\",所属長\r\n\
    1003,kabu.ichiro,㈱出向 一郎,シュッコウ イチロウ,,①番窓口,\r\n";

async fn logins(t: &Town) -> Vec<String> {
    let (_, users) = t.admin.get(&format!("/api/v1/orgs/{}/users", t.org)).await;
    let mut ids: Vec<String> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["login_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_shift_jis_file_is_previewed_imported_whole_and_imported_again_without_change() {
    let t = town().await;
    let before = logins(&t).await;
    let (s, preview) = import(&t.admin, &t.org, sjis(FILE), true).await;
    assert_eq!(s, StatusCode::OK, "{preview}");
    assert_eq!(preview["encoding"], "cp932");
    assert_eq!(preview["rows"], 3);
    assert_eq!(preview["created"].as_array().unwrap().len(), 3);
    assert_eq!(preview["applied"], false);
    assert_eq!(logins(&t).await, before, "a preview writes nothing");

    let (s, done) = import(&t.admin, &t.org, sjis(FILE), false).await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(done["applied"], true);
    let issued = done["issued"].as_array().unwrap();
    assert_eq!(issued.len(), 3);
    let after = logins(&t).await;
    for id in ["kabu.ichiro", "takahashi.kenta", "yamasaki.hana"] {
        assert!(after.iter().any(|l| l == id), "{after:?}");
    }
    // The characters Excel's Shift_JIS carries arrive intact.
    let (_, users) = t.admin.get(&format!("/api/v1/orgs/{}/users", t.org)).await;
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["display_name"].as_str().unwrap())
        .collect();
    for n in ["髙橋 健太", "山﨑 花子", "㈱出向 一郎"] {
        assert!(names.contains(&n), "{names:?}");
    }
    // A new person signs in with the temporary password and must change it.
    let first = issued
        .iter()
        .find(|i| i["login_id"] == "yamasaki.hana")
        .unwrap();
    let mut c = t.app.client();
    let r = c
        .sign_in(
            "yamasaki.hana",
            first["temporary_password"].as_str().unwrap(),
        )
        .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    assert_eq!(r.1["must_change_password"], true);
    let (_, me) = c.get("/api/v1/me").await;
    assert_eq!(me["roles"], serde_json::json!(["section_head"]));

    // The same file again: nothing changes.
    let (s, again) = import(&t.admin, &t.org, sjis(FILE), false).await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["created"], serde_json::json!([]));
    assert_eq!(again["updated"], serde_json::json!([]));
    assert_eq!(again["unchanged"], 3);
    // A change of title and department, and of roles, is reported by column.
    let changed = FILE.replace("総務課,主事,職員", "企画課,主任,所属長");
    let (s, moved) = import(&t.admin, &t.org, changed.into_bytes(), false).await;
    assert_eq!(s, StatusCode::OK, "{moved}");
    assert_eq!(moved["encoding"], "utf-8");
    assert_eq!(moved["updated"][0]["login_id"], "takahashi.kenta");
    assert_eq!(
        moved["updated"][0]["columns"],
        serde_json::json!(["title", "department", "roles"])
    );
    // One audit record per applied file, with its hash and counts (the preview has none).
    let mut conn = t.app.state().store.read().await.unwrap();
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT details FROM audit_log WHERE action = 'staff.imported' ORDER BY seq",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    assert_eq!(rows.len(), 3);
    let first: Value = serde_json::from_str(&rows[0].0).unwrap();
    assert_eq!(first["created"], 3);
    assert_eq!(first["file_sha256"].as_str().unwrap().len(), 64);
    assert!(!rows[0].0.contains("髙橋"), "no names in the audit log");
    t.app.stop().await;
}

#[tokio::test]
async fn a_file_with_problems_is_refused_whole_with_each_named_by_line_and_column() {
    let t = town().await;
    t.app.create_user(&t.org, "numbered.one", &["staff"]).await;
    // numbered.one holds employee number 9000 after this import.
    let seed = "ログインID,氏名,フリガナ,職員番号\nnumbered.one,試験 太郎,シケン タロウ,9000\n";
    let (s, v) = import(&t.admin, &t.org, seed.as_bytes().to_vec(), false).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let before = logins(&t).await;
    let bad = "ログインID,氏名,フリガナ,所属,権限,職員番号\n\
        good.one,良 一,リョウ イチ,総務課,,\n\
        dept.bad,所 属,ショ ゾク,存在しない課,,\n\
        admin.want,管 理,カン リ,,システム管理者,\n\
        number.taken,番 号,バン ゴウ,,,9000\n\
        admin.one,重 複,ジュウ フク,,,\n\
        good.one,二 重,ニ ジュウ,,,\n";
    let (s, v) = import(&t.admin, &t.org, bad.as_bytes().to_vec(), false).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["code"], "csv_invalid");
    let found = pairs(&v["report"]["errors"], "line", "column");
    // The duplicate on line 7 is found by reading; the rest against the body.
    assert_eq!(found, [("7".into(), "login_id".into())]);
    let fixed = bad.replace("good.one,二 重,ニ ジュウ,,,\n", "");
    let (s, v) = import(&t.admin, &t.org, fixed.into_bytes(), false).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let found = pairs(&v["report"]["errors"], "line", "column");
    assert_eq!(
        found,
        [
            ("3".to_owned(), "department".to_owned()),
            ("4".into(), "roles".into()),
            ("5".into(), "employee_no".into())
        ],
        "{v}"
    );
    assert!(
        v["report"]["errors"][0]["message_ja"]
            .as_str()
            .unwrap()
            .contains("存在しない課")
    );
    // Nothing was written, not even the good row; the administrator's own row was matched.
    assert_eq!(logins(&t).await, before);
    // A broken encoding is named as such.
    let (s, v) = import(&t.admin, &t.org, b"\xff\xfe\xfa,\x81".to_vec(), true).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["report"]["errors"][0]["message_ja"]
            .as_str()
            .unwrap()
            .contains("文字コード")
    );
    t.app.stop().await;
}

#[tokio::test]
async fn export_is_in_the_chosen_encoding_neutralises_formulas_and_reports_what_shift_jis_cannot_hold()
 {
    let t = town().await;
    let file =
        "ログインID,氏名,フリガナ,職名\nformula.one,式 一,シキ イチ,=HYPERLINK(\"http://x\")\n";
    let (s, v) = import(&t.admin, &t.org, file.as_bytes().to_vec(), false).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, ctype, body) = export(&t.admin, &t.org, "utf-8-bom").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ctype, "text/csv; charset=utf-8");
    assert!(body.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    assert!(text.starts_with("職員番号,ログインID,氏名"), "{text}");
    assert!(text.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{text}");
    let (s, ctype, body) = export(&t.admin, &t.org, "cp932").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ctype, "text/csv; charset=Shift_JIS");
    let (decoded, _, bad) = SHIFT_JIS.decode(&body);
    assert!(!bad);
    assert!(decoded.contains("式 一"));
    // An exported file imports back without a change.
    let (s, v) = import(&t.admin, &t.org, body, false).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["created"], serde_json::json!([]));
    assert_eq!(v["updated"], serde_json::json!([]));

    // A name Shift_JIS cannot hold stops a CP932 export and says where; UTF-8 still works.
    let file = "ログインID,氏名,フリガナ\nyoshida.one,𠮷田 一,ヨシダ ハジメ\n";
    import(&t.admin, &t.org, file.as_bytes().to_vec(), false).await;
    let (s, _, body) = export(&t.admin, &t.org, "cp932").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["error"]["code"], "csv_unmappable");
    assert_eq!(v["unmappable"][0]["character"], "𠮷");
    assert_eq!(v["unmappable"][0]["column"], "display_name");
    assert_eq!(export(&t.admin, &t.org, "utf-8").await.0, StatusCode::OK);
    assert_eq!(
        export(&t.admin, &t.org, "latin-1").await.0,
        StatusCode::BAD_REQUEST
    );
    t.app.stop().await;
}

#[tokio::test]
async fn only_the_bodys_administrator_imports_or_exports() {
    let t = town().await;
    let other = t.app.create_org("kita", "北浜市").await;
    t.app.create_user(&t.org, "staff.one", &["staff"]).await;
    t.app.create_user(&other, "admin.kita", &["admin"]).await;
    let staff = t.app.signed_in("staff.one").await;
    let stranger = t.app.signed_in("admin.kita").await;
    for c in [&staff, &stranger] {
        let r = import(c, &t.org, FILE.as_bytes().to_vec(), true).await;
        assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(export(c, &t.org, "utf-8").await.0, StatusCode::FORBIDDEN);
    }
    t.app.stop().await;
}

#[tokio::test]
async fn a_leaver_set_by_the_file_is_disabled_at_midnight_after_the_last_day() {
    let t = town().await;
    let today = t.app.state().clock.today();
    let file = format!(
        "ログインID,氏名,フリガナ,退職日\nleaving.one,退 職,タイ ショク,{}/{}/{}\n",
        today.year(),
        today.month(),
        today.day()
    );
    let (s, v) = import(&t.admin, &t.org, file.into_bytes(), false).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let password = v["issued"][0]["temporary_password"].as_str().unwrap();
    let mut leaver = t.app.client();
    assert_eq!(
        leaver.sign_in("leaving.one", password).await.0,
        StatusCode::OK
    );
    // The export carries the day; the same file imports back without a change.
    let (_, _, body) = export(&t.admin, &t.org, "utf-8").await;
    let text = String::from_utf8(body.clone()).unwrap();
    assert!(
        text.contains(&format!("leaving.one,退 職,タイ　ショク,,,staff,{today}")),
        "{text}"
    );
    let (_, again) = import(&t.admin, &t.org, body, false).await;
    assert_eq!(again["updated"], serde_json::json!([]), "{again}");

    // Still the last day at 23:59 JST; at 00:00 the ID is disabled and its session ends.
    let state = t.app.state();
    let midnight = today.end_of_day_utc_us();
    state.clock.set(midnight - 60_000_000);
    assert_eq!(
        kairan_server::services::dormant::retire_leavers(state)
            .await
            .unwrap(),
        0
    );
    assert_eq!(leaver.get("/api/v1/me").await.0, StatusCode::OK);
    state.clock.set(midnight);
    assert_eq!(
        kairan_server::services::dormant::retire_leavers(state)
            .await
            .unwrap(),
        1
    );
    assert_eq!(leaver.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let r = t.app.client().sign_in("leaving.one", password).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "sign_in_failed");
    // Not deleted: the administrator still sees the ID, disabled.
    let (_, users) = t.admin.get(&format!("/api/v1/orgs/{}/users", t.org)).await;
    let row = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login_id"] == "leaving.one")
        .unwrap()
        .clone();
    assert_eq!(row["status"], "left");
    let mut conn = state.store.read().await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'user.left'")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(n, 1);
    drop(conn);
    t.app.stop().await;
}
