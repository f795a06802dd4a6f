//! A body's sign-in screen and session settings (I4, seed 004 5.3(3)): its own message on the
//! sign-in page, the idle limit (also for sessions already open), the lockout of general
//! staff, and whether people see their previous sign-in; who may set them.

use crate::helpers::{Client, PASSWORD, TestApp, assert_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn settings(extra: Value) -> Value {
    let mut v = json!({
        "message_ja": "連携町の職員専用です。\n業務以外で利用しないでください。",
        "message_en": "For Renkei Town staff only.",
        "idle_minutes": 10,
        "show_last_sign_in": false,
        "lockout_threshold": 3,
        "lockout_minutes": 20,
    });
    if let (Some(m), Value::Object(e)) = (v.as_object_mut(), extra) {
        m.extend(e);
    }
    v
}

async fn put(c: &Client, org: &str, body: Value) -> (StatusCode, Value) {
    c.send(
        Method::PUT,
        &format!("/api/v1/orgs/{org}/sign-in-settings"),
        Some(body),
    )
    .await
}

/// Moves a session's last activity back by `minutes`, as if its owner had walked away.
async fn idle_for(app: &TestApp, user_login: &str, minutes: i64) {
    let state = app.state();
    let mut tx = state.store.write().await.unwrap();
    sqlx::query(
        "UPDATE sessions SET last_seen_at = last_seen_at - $1
         WHERE user_id = (SELECT id FROM users WHERE login_id = $2)",
    )
    .bind(minutes * 60_000_000)
    .bind(user_login)
    .execute(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn an_administrator_sets_the_message_idle_limit_lockout_and_last_sign_in_display() {
    let app = TestApp::spawn().await;
    let org = app.create_org("renkei", "連携町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    app.create_user(&org, "staff.one", &["staff"]).await;
    app.create_user(&org, "staff.two", &["staff"]).await;
    let admin = app.signed_in("admin.one").await;
    // staff.one signed in before the change: the new idle limit reaches this session too.
    let early = app.signed_in("staff.one").await;

    let (s, v) = admin
        .get(&format!("/api/v1/orgs/{org}/sign-in-settings"))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["idle_minutes"], Value::Null);
    assert_eq!(v["default_idle_minutes"], 30);
    assert_eq!(v["lockout_threshold"], 5);
    assert_eq!(v["show_last_sign_in"], true);

    let (s, v) = put(&admin, &org, settings(json!({}))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["idle_minutes"], 10);
    assert_eq!(v["lockout_threshold"], 3);

    // The sign-in page of the body shows its message; the language switch keeps the body.
    let anon = app.client();
    let (_, html) = anon.get_text("/login?org=renkei").await;
    assert!(html.contains("連携町の職員専用です。"), "{html}");
    assert!(html.contains("name=\"org\" value=\"renkei\""));
    assert!(html.contains("next=/login%3Forg%3Drenkei"));
    // With one body on the server, /login shows it too; with two, the server's own warning.
    let (_, html) = anon.get_text("/login").await;
    assert!(html.contains("連携町の職員専用です。"));
    app.create_org("other", "他町").await;
    let (_, html) = anon.get_text("/login").await;
    assert!(!html.contains("連携町の職員専用です。"));
    assert!(html.contains("許可された職員"), "the server's warning");
    // A wrong password keeps the body's page.
    let mut c = app.client();
    c.fetch_csrf().await;
    let page = c
        .http
        .post(app.url("/login"))
        .form(&[
            ("csrf", c.csrf.as_str()),
            ("login_id", "staff.two"),
            ("password", "wrong"),
            ("org", "renkei"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::UNAUTHORIZED);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("連携町の職員専用です。")
    );

    // Idle: ten minutes now, for the open session and a new one alike.
    idle_for(&app, "staff.one", 11).await;
    assert_eq!(early.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let late = app.signed_in("staff.one").await;
    idle_for(&app, "staff.one", 9).await;
    assert_eq!(late.get("/api/v1/me").await.0, StatusCode::OK);

    // The home page leaves out the previous sign-in when the body says so.
    let (_, home) = late.get_text("/").await;
    assert!(!home.contains("data-testid=\"previous-sign-in\""));
    assert!(!home.contains("data-testid=\"last-sign-in\""));

    // Lockout: a third wrong password now locks a staff ID (two already failed above: one).
    for _ in 0..2 {
        let r = app.client().sign_in("staff.two", "wrong password").await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "sign_in_failed");
    }
    let r = app.client().sign_in("staff.two", PASSWORD).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "sign_in_failed");

    // The message is free text: the audit record keeps its hash, not its words.
    let mut conn = app.state().store.read().await.unwrap();
    let (details,): (String,) = sqlx::query_as(
        "SELECT details FROM audit_log WHERE action = 'org.sign_in_settings' ORDER BY seq DESC",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert!(!details.contains("職員専用"));
    let d: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(d["idle_minutes"], 10);
    assert_eq!(
        d["sessions_updated"], 2,
        "admin.one's and staff.one's open sessions"
    );
    assert_eq!(d["lockout_threshold_privileged"], 3);
    drop(conn);
    app.stop().await;
}

#[tokio::test]
async fn bad_values_are_refused_and_only_the_bodys_administrator_may_set_them() {
    let app = TestApp::spawn().await;
    let org = app.create_org("renkei", "連携町").await;
    let other = app.create_org("other", "他町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    app.create_user(&org, "staff.one", &["staff"]).await;
    app.create_user(&other, "admin.other", &["admin"]).await;
    let admin = app.signed_in("admin.one").await;
    for (field, bad) in [
        ("idle_minutes", json!(4)),
        ("idle_minutes", json!(481)),
        ("lockout_threshold", json!(2)),
        ("lockout_threshold", json!(11)),
        ("lockout_minutes", json!(1441)),
        ("message_ja", json!("あ".repeat(1001))),
    ] {
        let r = put(&admin, &org, settings(json!({ field: bad }))).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    }
    // A word where a number belongs, with every other field right: refused for that field.
    let r = put(&admin, &org, settings(json!({ "idle_minutes": "ten" }))).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    assert!(
        r.1["error"]["message_en"]
            .as_str()
            .unwrap()
            .contains("idle_minutes"),
        "{r:?}"
    );
    let staff = app.signed_in("staff.one").await;
    assert_error(
        &put(&staff, &org, settings(json!({}))).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let stranger = app.signed_in("admin.other").await;
    assert_error(
        &put(&stranger, &org, settings(json!({}))).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &stranger
            .get(&format!("/api/v1/orgs/{org}/sign-in-settings"))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    app.stop().await;
}

#[tokio::test]
async fn in_maintenance_only_administrators_sign_in_and_everyone_else_is_signed_out() {
    let app = TestApp::spawn().await;
    let org = app.create_org("renkei", "連携町").await;
    let other = app.create_org("other", "他町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    app.create_user(&org, "staff.one", &["staff"]).await;
    app.create_user(&org, "officer.one", &["security_officer"])
        .await;
    app.create_user(&other, "staff.other", &["staff"]).await;
    let admin = app.signed_in("admin.one").await;
    let staff = app.signed_in("staff.one").await;
    let elsewhere = app.signed_in("staff.other").await;
    let path = format!("/api/v1/orgs/{org}/maintenance");
    let (s, v) = admin
        .send(
            Method::PUT,
            &path,
            Some(json!({ "on": true, "message_ja": "12月5日18時まで", "message_en": "until 18:00 on 5 December" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Signed out at once; another body is untouched; the administrator works on.
    assert_eq!(staff.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(elsewhere.get("/api/v1/me").await.0, StatusCode::OK);
    assert_eq!(admin.get("/api/v1/me").await.0, StatusCode::OK);
    // The right password gets the notice with the body's note, in both languages.
    for login in ["staff.one", "officer.one"] {
        let r = app.client().sign_in(login, PASSWORD).await;
        assert_error(&r, StatusCode::SERVICE_UNAVAILABLE, "maintenance");
        assert!(
            r.1["error"]["message_ja"]
                .as_str()
                .unwrap()
                .contains("保守作業中")
        );
        assert!(
            r.1["error"]["message_ja"]
                .as_str()
                .unwrap()
                .contains("12月5日18時まで")
        );
        assert!(
            r.1["error"]["message_en"]
                .as_str()
                .unwrap()
                .contains("until 18:00 on 5 December")
        );
    }
    // The sign-in page shows it too.
    let mut c = app.client();
    c.fetch_csrf().await;
    let page = c
        .http
        .post(app.url("/login"))
        .form(&[
            ("csrf", c.csrf.as_str()),
            ("login_id", "staff.one"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.text().await.unwrap().contains("保守作業中"));
    assert_eq!(
        app.client().sign_in("admin.one", PASSWORD).await.0,
        StatusCode::OK
    );
    // Staff cannot switch it; off again, staff sign in.
    assert_error(
        &elsewhere
            .send(Method::PUT, &path, Some(json!({ "on": false })))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (s, _) = admin
        .send(Method::PUT, &path, Some(json!({ "on": false })))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        app.client().sign_in("staff.one", PASSWORD).await.0,
        StatusCode::OK
    );
    let mut conn = app.state().store.read().await.unwrap();
    let details: Vec<(String,)> = sqlx::query_as(
        "SELECT details FROM audit_log WHERE action = 'org.maintenance' ORDER BY seq",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    assert_eq!(details.len(), 2);
    let first: Value = serde_json::from_str(&details[0].0).unwrap();
    assert_eq!(first["on"], true);
    assert_eq!(first["users_signed_out"], 1);
    app.stop().await;
}
