//! Personnel transfers (issue 8, I1): a staff CSV prepared for 1 April, checked when prepared,
//! applied by the clock at 00:00 JST on its day (not a minute before), audited; a file that no
//! longer fits on the day fails whole; new people are refused; a batch can be withdrawn.

use crate::helpers::{Client, TestApp, assert_error};
use kairan_domain::fiscal::{self, Date};
use kairan_domain::policy::Actor;
use kairan_server::services::{admin, transfers};
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
    for name in ["総務課", "企画課", "防災課"] {
        admin::create_department(app.state(), &Actor::Operator, &org, name, None)
            .await
            .unwrap();
    }
    app.create_user(&org, "admin.one", &["admin"]).await;
    let admin = app.signed_in("admin.one").await;
    Town { app, org, admin }
}

async fn post_csv(c: &Client, path: &str, body: &str) -> (StatusCode, Value) {
    let r = c
        .http
        .post(format!("{}{path}", c.base))
        .header("x-csrf-token", &c.csrf)
        .header("content-type", "text/csv")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

const TODAY: &str = "職員番号,ログインID,氏名,フリガナ,所属,職名,権限\n\
    1001,sato.ichiro,佐藤 一郎,サトウ イチロウ,総務課,主事,職員\n\
    1002,suzuki.hana,鈴木 花子,スズキ ハナコ,企画課,主任,職員\n";

/// The 1 April file: 佐藤 moves to 防災課 as 主任, 鈴木 becomes a section head.
const APRIL: &str = "職員番号,ログインID,氏名,フリガナ,所属,職名,権限\n\
    1001,sato.ichiro,佐藤 一郎,サトウ イチロウ,防災課,主任,職員\n\
    1002,suzuki.hana,鈴木 花子,スズキ ハナコ,企画課,係長,所属長\n";

async fn profile(t: &Town, login: &str) -> Value {
    let (_, users) = t.admin.get(&format!("/api/v1/orgs/{}/users", t.org)).await;
    users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login_id"] == login)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_transfer_prepared_ahead_takes_effect_at_midnight_on_its_day() {
    let t = town().await;
    let (s, v) = post_csv(
        &t.admin,
        &format!("/api/v1/orgs/{}/staff-import", t.org),
        TODAY,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let state = t.app.state();
    let today = state.clock.today();
    let april = fiscal::fiscal_year_end(today).add_days(1).unwrap();

    let path = format!(
        "/api/v1/orgs/{}/staff-transfers?effective_date={april}",
        t.org
    );
    let (s, batch) = post_csv(&t.admin, &path, APRIL).await;
    assert_eq!(s, StatusCode::CREATED, "{batch}");
    assert_eq!(batch["state"], "scheduled");
    assert_eq!(batch["changes"], 2);
    let columns: Vec<(String, Value)> = batch["preview"]["updated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["login_id"].as_str().unwrap().to_owned(),
                u["columns"].clone(),
            )
        })
        .collect();
    assert_eq!(columns.len(), 2, "{batch}");
    // Nothing changes before the day.
    let before = profile(&t, "sato.ichiro").await;
    assert_eq!(before["title"], "主事");
    let (_, list) = t
        .admin
        .get(&format!("/api/v1/orgs/{}/staff-transfers", t.org))
        .await;
    assert_eq!(list[0]["id"], batch["id"]);

    // 23:59 JST on 31 March: not yet.
    let midnight = april.start_of_day_utc_us();
    state.clock.set(midnight - 60_000_000);
    assert_eq!(transfers::apply_due(state).await.unwrap(), 0);
    assert_eq!(profile(&t, "sato.ichiro").await["title"], "主事");
    // 00:00 JST on 1 April: applied, once.
    state.clock.set(midnight);
    assert_eq!(transfers::apply_due(state).await.unwrap(), 1);
    assert_eq!(transfers::apply_due(state).await.unwrap(), 0);
    let sato = profile(&t, "sato.ichiro").await;
    assert_eq!(sato["title"], "主任", "{sato}");
    assert_ne!(sato["department_id"], before["department_id"], "{sato}");
    assert!(sato["department_id"].is_string(), "{sato}");
    let suzuki = profile(&t, "suzuki.hana").await;
    assert!(
        suzuki["roles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "section_head"),
        "{suzuki}"
    );
    let (_, list) = t
        .admin
        .get(&format!("/api/v1/orgs/{}/staff-transfers", t.org))
        .await;
    assert_eq!(list[0]["state"], "applied", "{list}");
    assert_eq!(list[0]["result"]["updated"], 2);
    // Audited: prepared, the import itself, applied.
    let mut conn = state.store.read().await.unwrap();
    let actions: Vec<(String,)> =
        sqlx::query_as("SELECT action FROM audit_log WHERE action LIKE 'staff.%' ORDER BY seq")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let actions: Vec<&str> = actions.iter().map(|(a,)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "staff.imported",
            "staff.transfer_scheduled",
            "staff.imported",
            "staff.transfer_applied"
        ]
    );
    drop(conn);
    t.app.stop().await;
}

#[tokio::test]
async fn a_transfer_is_refused_for_new_people_bad_rows_or_days_past_and_can_be_withdrawn() {
    let t = town().await;
    post_csv(
        &t.admin,
        &format!("/api/v1/orgs/{}/staff-import", t.org),
        TODAY,
    )
    .await;
    let state = t.app.state();
    let tomorrow: Date = state.clock.today().add_days(1).unwrap();
    let base = format!("/api/v1/orgs/{}/staff-transfers", t.org);

    // Someone not on the list: an ordinary import registers new people.
    let with_new = format!("{APRIL}1003,new.person,新人 太郎,シンジン タロウ,総務課,主事,職員\n");
    let (s, v) = post_csv(
        &t.admin,
        &format!("{base}?effective_date={tomorrow}"),
        &with_new,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["code"], "csv_invalid");
    assert!(
        v["report"]["errors"][0]["message_ja"]
            .as_str()
            .unwrap()
            .contains("new.person"),
        "{v}"
    );
    // An unknown department, by line and column.
    let bad = APRIL.replace("防災課", "危機管理課");
    let (s, v) = post_csv(&t.admin, &format!("{base}?effective_date={tomorrow}"), &bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["report"]["errors"][0]["line"], 2);
    // Today or a day past is not "ahead"; a malformed day is named.
    let today = state.clock.today();
    let r = post_csv(&t.admin, &format!("{base}?effective_date={today}"), APRIL).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let r = post_csv(&t.admin, &format!("{base}?effective_date=4月1日"), APRIL).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    // Only administrators.
    t.app.create_user(&t.org, "staff.one", &["staff"]).await;
    let staff = t.app.signed_in("staff.one").await;
    let r = post_csv(&staff, &format!("{base}?effective_date={tomorrow}"), APRIL).await;
    assert_eq!(r.0, StatusCode::FORBIDDEN);

    // Withdrawn before its day: nothing happens on the day.
    let (s, batch) = post_csv(
        &t.admin,
        &format!("{base}?effective_date={tomorrow}"),
        APRIL,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{batch}");
    let cancel = format!(
        "/api/v1/staff-transfers/{}/cancel",
        batch["id"].as_str().unwrap()
    );
    let (s, v) = t.admin.post(&cancel, serde_json::json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "cancelled");
    let r = t.admin.post(&cancel, serde_json::json!({})).await;
    assert_error(&r, StatusCode::CONFLICT, "transfer_not_scheduled");
    state.clock.set(tomorrow.start_of_day_utc_us());
    assert_eq!(transfers::apply_due(state).await.unwrap(), 0);
    assert_eq!(profile(&t, "sato.ichiro").await["title"], "主事");

    // A batch that no longer fits on its day fails whole and says why: here, in between,
    // 佐藤 got another employee number and a newcomer was given his old one.
    let day2 = tomorrow.add_days(1).unwrap();
    let (s, batch) = post_csv(&t.admin, &format!("{base}?effective_date={day2}"), APRIL).await;
    assert_eq!(s, StatusCode::CREATED, "{batch}");
    let import = format!("/api/v1/orgs/{}/staff-import", t.org);
    let renumbered = TODAY.replace("1001,sato.ichiro", "1009,sato.ichiro");
    let (s, v) = post_csv(&t.admin, &import, &renumbered).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let newcomer = "職員番号,ログインID,氏名,フリガナ,所属,職名,権限\n\
        1001,other.person,別人 三郎,ベツジン サブロウ,総務課,主事,職員\n";
    let (s, v) = post_csv(&t.admin, &import, newcomer).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    state.clock.set(day2.start_of_day_utc_us());
    assert_eq!(transfers::apply_due(state).await.unwrap(), 0);
    let (_, list) = t.admin.get(&base).await;
    assert_eq!(list[0]["state"], "failed", "{list}");
    assert!(list[0]["result"]["errors"].as_u64().unwrap() > 0, "{list}");
    assert_eq!(
        profile(&t, "sato.ichiro").await["title"],
        "主事",
        "nothing in part"
    );
    let (_, notes) = t.admin.get("/api/v1/me/notifications").await;
    assert!(
        notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "transfer_failed" && n["target_id"] == batch["id"]),
        "{notes}"
    );
    t.app.stop().await;
}
