//! The dormant-ID report (issue 8, I10; seed 004 5.3(1)③): IDs unused for N days, guests past
//! their period, development or test IDs; disabling them at once; who may see and do it.

use crate::helpers::{TestApp, assert_error, pairs};
use kairan_domain::policy::Actor;
use kairan_server::services::admin;
use reqwest::StatusCode;
use serde_json::{Value, json};

const DAY_US: i64 = 86_400_000_000;

async fn set(app: &TestApp, sql: &str, value: i64, id: &str) {
    let mut tx = app.state().store.write().await.unwrap();
    sqlx::query(sql)
        .bind(value)
        .bind(id)
        .execute(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn unused_ids_overdue_guests_and_test_ids_are_listed_and_disabled_together() {
    let app = TestApp::spawn().await;
    let org = app.create_org("higashi", "東山町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    app.create_user(&org, "head.one", &["section_head"]).await;
    let recent = app.create_user(&org, "recent.one", &["staff"]).await;
    let idle = app.create_user(&org, "idle.one", &["staff"]).await;
    let test_id = admin::create_user(
        app.state(),
        &Actor::Operator,
        &org,
        &admin::NewUserInput {
            login_id: "test.vendor".into(),
            display_name: "試験 用".into(),
            kana: "シケン ヨウ".into(),
            test_id: true,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .user_id;
    let now = kairan_store::now_us();
    set(
        &app,
        "UPDATE users SET last_sign_in_at = $1 WHERE id = $2",
        now - 10 * DAY_US,
        &recent,
    )
    .await;
    set(
        &app,
        "UPDATE users SET created_at = $1 WHERE id = $2",
        now - 200 * DAY_US,
        &idle,
    )
    .await;
    let admin = app.signed_in("admin.one").await;
    let head = app.signed_in("head.one").await;

    // A guest whose last day passed while the clock's pass did not run.
    let (_, a) = head
        .post(
            &format!("/api/v1/orgs/{org}/applications"),
            json!({ "kind": "guest", "fields": crate::applications::guest_fields(1), "submit": true }),
        )
        .await;
    let (_, a) = admin
        .post(
            &format!(
                "/api/v1/applications/{}/transitions",
                a["id"].as_str().unwrap()
            ),
            json!({ "transition": "approve", "version": a["version"] }),
        )
        .await;
    let guest = a["guest"]["user_id"].as_str().unwrap().to_owned();
    {
        let mut tx = app.state().store.write().await.unwrap();
        sqlx::query("UPDATE guests SET end_date = '2020-03-31' WHERE user_id = $1")
            .bind(&guest)
            .execute(tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    let (s, list) = admin
        .get(&format!("/api/v1/orgs/{org}/dormant?days=90"))
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let found = pairs(&list, "login_id", "reason");
    let found: Vec<(&str, &str)> = found
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert!(found.contains(&("idle.one", "unused")), "{found:?}");
    assert!(found.contains(&("test.vendor", "test_id")), "{found:?}");
    let flagged = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["reason"] == "test_id")
        .unwrap();
    assert_eq!(flagged["user_id"], test_id.as_str());
    let login = a["guest"]["login_id"].as_str().unwrap();
    assert!(found.contains(&(login, "guest_past_period")), "{found:?}");
    assert_eq!(
        found.len(),
        3,
        "recent, head and admin are in use: {found:?}"
    );
    let idle_entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["login_id"] == "idle.one")
        .unwrap();
    assert_eq!(idle_entry["days_unused"], 200);
    // With a shorter window the recently used ID appears too.
    let (_, short) = admin
        .get(&format!("/api/v1/orgs/{org}/dormant?days=7"))
        .await;
    assert!(
        short
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["login_id"] == "recent.one")
    );
    // For Excel: UTF-8 with a BOM, Japanese reasons.
    let (s, csv) = admin
        .get_text(&format!("/api/v1/orgs/{org}/dormant?days=90&format=csv"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(csv.starts_with('\u{feff}'));
    assert!(
        csv.contains("idle.one") && csv.contains("長期間未使用") && csv.contains("開発・試験用ID")
    );

    // Disable all three at once; they can no longer sign in, and the report is empty.
    let ids: Vec<Value> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["user_id"].clone())
        .collect();
    let (s, v) = admin
        .post(
            &format!("/api/v1/orgs/{org}/dormant/disable"),
            json!({ "user_ids": ids }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["disabled"], 3);
    let r = app
        .client()
        .sign_in("idle.one", crate::helpers::PASSWORD)
        .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "sign_in_failed");
    let (_, after) = admin
        .get(&format!("/api/v1/orgs/{org}/dormant?days=90"))
        .await;
    assert_eq!(after, json!([]));
    let (_, again) = admin
        .post(
            &format!("/api/v1/orgs/{org}/dormant/disable"),
            json!({ "user_ids": ids }),
        )
        .await;
    assert_eq!(again["disabled"], 0, "already disabled IDs are skipped");
    app.stop().await;
}

#[tokio::test]
async fn only_the_bodys_administrator_sees_or_disables_and_bad_input_is_named() {
    let app = TestApp::spawn().await;
    let org = app.create_org("higashi", "東山町").await;
    let other = app.create_org("kita", "北浜市").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    let staff_id = app.create_user(&org, "staff.one", &["staff"]).await;
    app.create_user(&other, "admin.kita", &["admin"]).await;
    let admin = app.signed_in("admin.one").await;
    let staff = app.signed_in("staff.one").await;
    let stranger = app.signed_in("admin.kita").await;
    for c in [&staff, &stranger] {
        assert_error(
            &c.get(&format!("/api/v1/orgs/{org}/dormant")).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        assert_error(
            &c.post(
                &format!("/api/v1/orgs/{org}/dormant/disable"),
                json!({ "user_ids": [staff_id] }),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
    }
    assert_error(
        &admin
            .get(&format!("/api/v1/orgs/{org}/dormant?days=0"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    // Another body's ID cannot be disabled through this body.
    let (_, theirs) = stranger.get("/api/v1/me").await;
    assert_error(
        &admin
            .post(
                &format!("/api/v1/orgs/{org}/dormant/disable"),
                json!({ "user_ids": [theirs["id"]] }),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    app.stop().await;
}
