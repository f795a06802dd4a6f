//! Guests admitted by approved applications (issue 10, I6; seed 003 §6): the ID and the
//! one-time invitation, what a guest may and may not do, and the period starting and ending by
//! the clock, down to 00:00 JST on 1 April.

use crate::applications::guest_fields;
use crate::helpers::{Client, TestApp, assert_error, pairs};
use kairan_domain::fiscal::{self, Date};
use kairan_server::services::guests;
use reqwest::StatusCode;
use serde_json::{Value, json};

const GUEST_PASSWORD: &str = "防災訓練の資料は毎朝確認します";

struct Town {
    app: TestApp,
    org: String,
    head: Client,
    admin: Client,
    colleague: String,
}

async fn town() -> Town {
    let app = TestApp::spawn().await;
    let org = app.create_org("higashi", "東山町").await;
    app.create_user(&org, "head.one", &["section_head"]).await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    let colleague = app.create_user(&org, "staff.one", &["staff"]).await;
    let head = app.signed_in("head.one").await;
    let admin = app.signed_in("admin.one").await;
    Town {
        app,
        org,
        head,
        admin,
        colleague,
    }
}

fn today(app: &TestApp) -> Date {
    app.state().clock.today()
}

/// Applies for a guest for `start..=end` and has the administrator approve it; returns the
/// application as its applicant sees it.
async fn approved(t: &Town, start: Date, end: Date) -> Value {
    let mut f = guest_fields(1);
    f["start_date"] = json!(start.to_string());
    f["end_date"] = json!(end.to_string());
    let (s, a) = t
        .head
        .post(
            &format!("/api/v1/orgs/{}/applications", t.org),
            json!({ "kind": "guest", "fields": f, "submit": true }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let (s, done) = t
        .admin
        .post(
            &format!(
                "/api/v1/applications/{}/transitions",
                a["id"].as_str().unwrap()
            ),
            json!({ "transition": "approve", "version": a["version"] }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    // The administrator sees the guest's ID, never the invitation meant for the applicant.
    assert!(
        done["guest"]["login_id"]
            .as_str()
            .unwrap()
            .starts_with("guest-")
    );
    assert_eq!(done["guest"]["invitation_path"], Value::Null);
    t.head
        .get(&format!(
            "/api/v1/applications/{}",
            a["id"].as_str().unwrap()
        ))
        .await
        .1
}

fn token_of(a: &Value) -> String {
    a["guest"]["invitation_path"]
        .as_str()
        .expect("the applicant sees the invitation")
        .trim_start_matches("/invite/")
        .to_owned()
}

async fn accept(app: &TestApp, token: &str, password: &str) -> (StatusCode, Value) {
    let mut c = app.client();
    c.fetch_csrf().await;
    c.post(
        &format!("/api/v1/invitations/{token}"),
        json!({ "password": password, "confirmation": password }),
    )
    .await
}

async fn group_with(t: &Town, members: &[&str]) -> String {
    let (s, v) = t
        .head
        .post(
            "/api/v1/talks",
            json!({ "kind": "group", "name": "防災訓練準備", "members": members }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_approved_guest_sets_a_password_once_and_sees_only_the_talks_it_is_invited_into() {
    let t = town().await;
    let d = today(&t.app);
    let a = approved(&t, d, d).await;
    assert_eq!(a["state"], "active", "the period began today");
    let guest_id = a["guest"]["user_id"].as_str().unwrap().to_owned();
    let login = a["guest"]["login_id"].as_str().unwrap().to_owned();
    assert_eq!(a["guest"]["status"], "active");
    let token = token_of(&a);

    // The link shows who is invited by whom, as which ID; no session needed.
    let anon = t.app.client();
    let (s, inv) = anon.get(&format!("/api/v1/invitations/{token}")).await;
    assert_eq!(s, StatusCode::OK, "{inv}");
    assert_eq!(inv["org_name"], "東山町");
    assert_eq!(inv["guest_name"], "山田 花子");
    assert_eq!(inv["login_id"], login.as_str());
    let (_, page) = anon.get_text(&format!("/invite/{token}")).await;
    assert!(
        page.contains("東山町から") && page.contains(&login),
        "{page}"
    );

    // The body's password rules apply; then the link works once.
    let r = accept(&t.app, &token, "short").await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "password_too_short");
    let (s, v) = accept(&t.app, &token, GUEST_PASSWORD).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["login_id"], login.as_str());
    let r = accept(&t.app, &token, "別のパスワードを後から設定する試み").await;
    assert_error(&r, StatusCode::CONFLICT, "invitation_invalid");
    let (_, again) = t
        .head
        .get(&format!(
            "/api/v1/applications/{}",
            a["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(again["guest"]["invitation_path"], Value::Null);
    assert!(again["guest"]["accepted_at"].as_i64().is_some());

    // The guest signs in and sees nothing of the body: no directory, no talks, none to start.
    let mut guest = t.app.client();
    let r = guest.sign_in(&login, GUEST_PASSWORD).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    assert_error(
        &guest
            .get(&format!("/api/v1/orgs/{}/directory", t.org))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_eq!(guest.get("/api/v1/talks").await.1, json!([]));
    // Its pages open (home, talks) without the directory behind them.
    for page in ["/", "/talks"] {
        let (s, html) = guest.get_text(page).await;
        assert_eq!(s, StatusCode::OK, "{page}: {html}");
    }
    // The talks page offers a guest no way to start a talk, and says where talks come from.
    let (_, talks_page) = guest.get_text("/talks").await;
    assert!(!talks_page.contains("id=\"new-talk\""), "{talks_page}");
    assert!(talks_page.contains("招待されたトークはまだありません"));
    let (_, staff_page) = t.head.get_text("/talks").await;
    assert!(staff_page.contains("id=\"new-talk\""));
    let r = guest
        .post(
            "/api/v1/talks",
            json!({ "kind": "direct", "user_id": t.colleague }),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(guest.get("/api/v1/talks").await.1, json!([]));

    // Staff invite the guest into one talk: it reads and writes there, and only there.
    let _other = group_with(&t, &[&t.colleague]).await;
    let talk = group_with(&t, &[&t.colleague, &guest_id]).await;
    let (_, list) = guest.get("/api/v1/talks").await;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [talk.as_str()]);
    let (s, v) = guest
        .post(
            &format!("/api/v1/talks/{talk}/messages"),
            json!({ "body": "資料を拝見しました。" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // Staff see the guest marked as a guest of its company in the directory.
    let (_, dir) = t
        .head
        .get(&format!("/api/v1/orgs/{}/directory", t.org))
        .await;
    let entry = dir
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == guest_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["title"], "ゲスト（株式会社東山防災）");

    // Nobody grants the guest role by hand.
    let r = t
        .admin
        .post(
            &format!("/api/v1/users/{}/roles", t.colleague),
            json!({ "role": "guest" }),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");

    // The audit log records the admission and the acceptance, not the guest's name or address.
    let mut conn = t.app.state().store.read().await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, details FROM audit_log WHERE action LIKE 'guest.%' ORDER BY seq",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    let actions: Vec<&str> = rows.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["guest.admitted", "guest.invitation_accepted"]);
    for (_, d) in &rows {
        assert!(!d.contains("山田") && !d.contains("hanako"), "{d}");
    }
    t.app.stop().await;
}

#[tokio::test]
async fn a_guest_is_locked_out_at_midnight_in_japan_when_the_fiscal_year_ends() {
    let t = town().await;
    let d = today(&t.app);
    let last = fiscal::fiscal_year_end(d);
    let a = approved(&t, d, last).await;
    let guest_id = a["guest"]["user_id"].as_str().unwrap().to_owned();
    let login = a["guest"]["login_id"].as_str().unwrap().to_owned();
    accept(&t.app, &token_of(&a), GUEST_PASSWORD).await;
    let mut guest = t.app.client();
    assert_eq!(
        guest.sign_in(&login, GUEST_PASSWORD).await.0,
        StatusCode::OK
    );
    let talk = group_with(&t, &[&t.colleague, &guest_id]).await;
    let (s, _) = guest
        .post(
            &format!("/api/v1/talks/{talk}/messages"),
            json!({ "body": "年度末までよろしくお願いします。" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);

    // Fourteen days before the last day, the applicant is reminded, once.
    let state = t.app.state();
    let remind_from = last.add_days(-14).unwrap();
    if remind_from.add_days(-1).unwrap() > d {
        state
            .clock
            .set(remind_from.add_days(-1).unwrap().start_of_day_utc_us());
        assert_eq!(guests::run_once(state).await.unwrap().reminded, 0);
        state.clock.set(remind_from.start_of_day_utc_us());
        assert_eq!(guests::run_once(state).await.unwrap().reminded, 1);
        assert_eq!(guests::run_once(state).await.unwrap().reminded, 0);
        let (_, notes) = t.head.get("/api/v1/me/notifications").await;
        let ending: Vec<&Value> = notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "guest_ending")
            .collect();
        assert_eq!(ending.len(), 1, "{notes}");
        assert_eq!(ending[0]["details"]["days_left"], 14);
        assert_eq!(ending[0]["target_id"], a["id"]);
    }

    // 23:59 JST on 31 March: still the guest's period, with a live connection open.
    let midnight = last.end_of_day_utc_us();
    state.clock.set(midnight - 60_000_000);
    assert_eq!(guests::run_once(state).await.unwrap().ended, 0);
    assert_eq!(guest.get("/api/v1/me").await.0, StatusCode::OK);
    let mut ws = {
        use futures::StreamExt;
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = t.app.url("/api/v1/ws").replace("http://", "ws://");
        let mut req = url.into_client_request().unwrap();
        req.headers_mut()
            .insert("cookie", guest.cookie_header().parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        let hello = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(hello.to_text().unwrap().contains("\"hello\""), "{hello}");
        ws
    };

    // 00:00 JST on 1 April: the period is over.
    state.clock.set(midnight);
    assert_eq!(Date::from_utc_us(midnight).to_string()[5..], *"04-01");
    let pass = guests::run_once(state).await.unwrap();
    assert_eq!(pass.ended, 1);
    // Its live connection closes at once, and its old session is refused.
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        use futures::StreamExt;
        while let Some(frame) = ws.next().await {
            match frame {
                Ok(tokio_tungstenite::tungstenite::Message::Close(_)) | Err(_) => return true,
                Ok(_) => continue,
            }
        }
        true
    })
    .await
    .unwrap_or(false);
    assert!(
        closed,
        "the guest's live connection closes at the end of its period"
    );
    assert_eq!(guest.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let r = t.app.client().sign_in(&login, GUEST_PASSWORD).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "sign_in_failed");
    // Out of the talk; what the guest wrote stays, attributed.
    let (_, talk_view) = t.head.get(&format!("/api/v1/talks/{talk}")).await;
    let members: Vec<&str> = talk_view["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap())
        .collect();
    assert!(!members.contains(&guest_id.as_str()), "{talk_view}");
    let (_, msgs) = t.head.get(&format!("/api/v1/talks/{talk}/messages")).await;
    let texts = pairs(&msgs, "body", "sender_id");
    assert!(
        texts.contains(&(
            "年度末までよろしくお願いします。".to_owned(),
            guest_id.clone()
        )),
        "{msgs}"
    );
    let (_, ended) = t
        .head
        .get(&format!(
            "/api/v1/applications/{}",
            a["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(ended["state"], "ended");
    assert_eq!(ended["guest"]["status"], "ended");
    assert_eq!(
        ended["events"].as_array().unwrap().last().unwrap()["actor_id"],
        Value::Null
    );
    // A second pass (another node, the next tick) changes nothing.
    assert_eq!(
        guests::run_once(state).await.unwrap(),
        guests::Pass::default()
    );

    // Ninety days on (the default), the guest's name, affiliation and address go; the
    // purpose, the period and what it wrote stay.
    let day = 86_400_000_000i64;
    state.clock.set(midnight + 89 * day);
    assert_eq!(guests::run_once(state).await.unwrap().purged, 0);
    state.clock.set(midnight + 91 * day);
    assert_eq!(guests::run_once(state).await.unwrap().purged, 1);
    let (_, purged) = t
        .head
        .get(&format!(
            "/api/v1/applications/{}",
            a["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(purged["fields"]["guest_name"], "");
    assert_eq!(purged["fields"]["guest_email"], "");
    assert_eq!(purged["fields"]["guest_affiliation"], "");
    assert!(
        purged["fields"]["purpose"]
            .as_str()
            .unwrap()
            .contains("防災訓練")
    );
    let mut conn = state.store.read().await.unwrap();
    let (name, title): (String, Option<String>) =
        sqlx::query_as("SELECT display_name, title FROM users WHERE id = $1")
            .bind(&guest_id)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    let (email, affiliation): (String, String) =
        sqlx::query_as("SELECT email, affiliation FROM guests WHERE user_id = $1")
            .bind(&guest_id)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    let recorded: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'guest.purged'")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    drop(conn);
    assert_eq!((name.as_str(), title), (guests::PURGED_NAME, None));
    assert_eq!((email.as_str(), affiliation.as_str()), ("", ""));
    assert_eq!(recorded, 1);
    let (_, msgs) = t.head.get(&format!("/api/v1/talks/{talk}/messages")).await;
    assert!(
        msgs.as_array()
            .unwrap()
            .iter()
            .any(|m| m["sender_id"] == guest_id.as_str())
    );
    assert_eq!(guests::run_once(state).await.unwrap().purged, 0);
    t.app.stop().await;
}

#[tokio::test]
async fn a_guest_whose_period_has_not_begun_waits_and_an_expired_invitation_is_void() {
    let t = town().await;
    let d = today(&t.app);
    // Tomorrow, or today when tomorrow is already the next fiscal year.
    let start = d
        .add_days(1)
        .filter(|s| *s <= fiscal::fiscal_year_end(d))
        .unwrap_or(d);
    let a = approved(&t, start, start).await;
    let login = a["guest"]["login_id"].as_str().unwrap().to_owned();
    if start > d {
        assert_eq!(a["state"], "approved");
        assert_eq!(a["guest"]["status"], "pending");
        accept(&t.app, &token_of(&a), GUEST_PASSWORD).await;
        let r = t.app.client().sign_in(&login, GUEST_PASSWORD).await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "sign_in_failed");
        t.app.state().clock.set(start.start_of_day_utc_us());
        assert_eq!(guests::run_once(t.app.state()).await.unwrap().started, 1);
        let r = t.app.client().sign_in(&login, GUEST_PASSWORD).await;
        assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    }

    // An invitation left unused past its seven days no longer opens, even inside a longer
    // period (a month here, or up to 31 March when that comes first).
    let now = t.app.state().clock.now_us();
    let today = t.app.state().clock.today();
    let end = today
        .add_days(30)
        .unwrap()
        .min(fiscal::fiscal_year_end(today));
    let b = approved(&t, today, end).await;
    let token = token_of(&b);
    if end > today.add_days(8).unwrap() {
        t.app.state().clock.set(now + 6 * 86_400_000_000);
        let (s, _) = t
            .app
            .client()
            .get(&format!("/api/v1/invitations/{token}"))
            .await;
        assert_eq!(s, StatusCode::OK, "six days on, the link still opens");
    }
    t.app.state().clock.set(now + 8 * 86_400_000_000);
    assert_error(
        &t.app
            .client()
            .get(&format!("/api/v1/invitations/{token}"))
            .await,
        StatusCode::CONFLICT,
        "invitation_invalid",
    );
    assert_error(
        &accept(&t.app, &token, GUEST_PASSWORD).await,
        StatusCode::CONFLICT,
        "invitation_invalid",
    );
    let (s, page) = t.app.client().get_text(&format!("/invite/{token}")).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(page.contains("有効期限"), "{page}");
    // A made-up token says the same, and no page reveals anything.
    let r = t
        .app
        .client()
        .get(&format!("/api/v1/invitations/{}", "0".repeat(64)))
        .await;
    assert_error(&r, StatusCode::CONFLICT, "invitation_invalid");
    t.app.stop().await;
}

#[tokio::test]
async fn an_extension_within_the_fiscal_year_is_approved_like_an_application_and_keeps_the_guest() {
    let t = town().await;
    let d = today(&t.app);
    let last = fiscal::fiscal_year_end(d);
    if last == d {
        // On 31 March there is no later day in the year to extend to; the rules are the
        // domain's and are tested there for every day.
        t.app.stop().await;
        return;
    }
    let a = approved(&t, d, d).await;
    let id = a["id"].as_str().unwrap().to_owned();
    let extend = |end: Date, of: &str| {
        json!({ "kind": "guest_extension", "submit": true, "fields": {
            "application_id": of, "end_date": end.to_string(),
            "reason": "訓練の日程が年度末まで延びたため" } })
    };
    let path = format!("/api/v1/orgs/{}/applications", t.org);
    // Past 31 March: refused with the last allowed day; someone else's application: unknown.
    let r = t
        .head
        .post(&path, extend(last.add_days(1).unwrap(), &id))
        .await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "period_crosses_fiscal_year",
    );
    t.app
        .create_user(&t.org, "head.two", &["section_head"])
        .await;
    let other = t.app.signed_in("head.two").await;
    let r = other.post(&path, extend(last, &id)).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(
        r.1["error"]["message_en"]
            .as_str()
            .unwrap()
            .split(':')
            .next(),
        Some("application_id")
    );

    let (s, x) = t.head.post(&path, extend(last, &id)).await;
    assert_eq!(s, StatusCode::CREATED, "{x}");
    assert_eq!(x["kind"], "guest_extension");
    assert_eq!(x["state"], "submitted");
    let (s, done) = t
        .admin
        .post(
            &format!(
                "/api/v1/applications/{}/transitions",
                x["id"].as_str().unwrap()
            ),
            json!({ "transition": "approve", "version": x["version"] }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    let (_, now) = t.head.get(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(now["end_date"], last.to_string());
    assert_eq!(now["fields"]["end_date"], last.to_string());
    assert_eq!(now["state"], "active");
    let last_step = now["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last_step["transition"], "extend");

    // The old last day passes and the guest stays; the new one ends it.
    let state = t.app.state();
    state.clock.set(d.end_of_day_utc_us());
    assert_eq!(guests::run_once(state).await.unwrap().ended, 0);
    state.clock.set(last.end_of_day_utc_us());
    assert_eq!(guests::run_once(state).await.unwrap().ended, 1);
    // An ended guest cannot be extended.
    let r = t.head.post(&path, extend(last, &id)).await;
    assert_error(&r, StatusCode::CONFLICT, "extension_target_closed");
    t.app.stop().await;
}
