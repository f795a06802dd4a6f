//! The hash-chained audit log (G5): events are recorded, the chain never forks under
//! concurrent writers, and `kairan audit verify` finds every kind of tampering done directly in
//! the database, on SQLite and on PostgreSQL alike.

use crate::helpers::{PASSWORD, TestApp};
use kairan_store::audit::{self, Verdict};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn verify(app: &TestApp) -> Verdict {
    audit::verify(&app.state().store)
        .await
        .expect("verify runs")
}

async fn exec(app: &TestApp, sql: &str) {
    let mut tx = app.state().store.write().await.unwrap();
    sqlx::query(sql).execute(tx.conn()).await.unwrap();
    tx.commit().await.unwrap();
}

/// A body with a few recorded events: 1 org, 2 users, sign-ins, a failure.
async fn with_events() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "audit.person", &["auditor"]).await;
    app.create_user(&org, "hanako.sato", &["staff"]).await;
    let mut c = app.client();
    c.sign_in("hanako.sato", "wrong password").await;
    c.sign_in("hanako.sato", PASSWORD).await;
    (app, org)
}

#[tokio::test]
async fn security_events_are_recorded_without_secrets() {
    let (app, org) = with_events().await;
    let auditor = app.signed_in("audit.person").await;
    let (s, log) = auditor.get(&format!("/api/v1/orgs/{org}/audit")).await;
    assert_eq!(s, StatusCode::OK);
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    for expected in [
        "org.created",
        "user.created",
        "auth.sign_in_failed",
        "auth.sign_in",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    let text = log.to_string();
    assert!(!text.contains(PASSWORD) && !text.contains("wrong password"));
    assert!(
        !text.contains("hanako.sato"),
        "login IDs typed at sign-in are not stored"
    );
    let failed: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "auth.sign_in_failed")
        .collect();
    assert_eq!(failed[0]["details"]["reason"], "wrong_password");
    let (s, filtered) = auditor
        .get(&format!(
            "/api/v1/orgs/{org}/audit?action=auth.sign_in_failed"
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        filtered
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["action"] == "auth.sign_in_failed")
    );
    app.stop().await;
}

#[tokio::test]
async fn an_auditor_reads_the_log_page_in_japanese() {
    let (app, _) = with_events().await;
    let auditor = app.signed_in("audit.person").await;
    let (s, html) = auditor.get_text("/audit").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("監査ログ") && html.contains("サインイン失敗"),
        "{html}"
    );
    let staff = app.signed_in("hanako.sato").await;
    let (s, html) = staff.get_text("/audit").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(html.contains("権限がありません"));
    app.stop().await;
}

#[tokio::test]
async fn many_concurrent_writers_never_fork_the_chain() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    let admin = std::sync::Arc::new(app.signed_in("admin.one").await);
    let mut tasks = Vec::new();
    for w in 0..8 {
        let admin = admin.clone();
        let org = org.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..6 {
                let r = admin
                    .post(
                        &format!("/api/v1/orgs/{org}/departments"),
                        json!({ "name": format!("課{w}-{i}") }),
                    )
                    .await;
                assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
            }
        }));
    }
    // Failed sign-ins from other clients at the same time, through a different path.
    for _ in 0..4 {
        let mut c = app.client();
        tasks.push(tokio::spawn(async move {
            for _ in 0..3 {
                c.sign_in("nobody.at.all", "x").await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    match verify(&app).await {
        // org + user (+ role in same record) + sign-in + the administrator's enrolment of
        // a second factor + 48 departments + 12 failures
        Verdict::Intact { checked } => assert_eq!(checked, 4 + 48 + 12),
        Verdict::Broken(f) => panic!("chain broken: {f}"),
    }
    app.stop().await;
}

#[tokio::test]
async fn verify_names_a_modified_record() {
    let (app, _) = with_events().await;
    assert!(matches!(verify(&app).await, Verdict::Intact { .. }));
    exec(
        &app,
        "UPDATE audit_log SET details = '{\"reason\":\"nothing to see\"}' WHERE seq = 3",
    )
    .await;
    let v = verify(&app).await;
    assert!(
        matches!(&v, Verdict::Broken(f) if f.to_string().starts_with("record 3:") && f.to_string().contains("modified")),
        "{v:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn verify_finds_a_deleted_record() {
    let (app, _) = with_events().await;
    exec(&app, "DELETE FROM audit_log WHERE seq = 2").await;
    let v = verify(&app).await;
    assert!(
        matches!(&v, Verdict::Broken(f) if f.to_string().contains("expected record 2")),
        "{v:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn verify_finds_records_deleted_from_the_end() {
    let (app, _) = with_events().await;
    exec(
        &app,
        "DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)",
    )
    .await;
    // Five records: the body, two staff IDs, a failed and a good sign-in. The last one is gone.
    let v = verify(&app).await;
    assert!(
        matches!(&v, Verdict::Broken(f) if f.to_string().starts_with("record 5: missing")),
        "{v:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn verify_finds_reordered_records() {
    let (app, _) = with_events().await;
    // Swap the contents of records 2 and 3, keeping each sequence number in place.
    exec(&app, "UPDATE audit_log SET seq = -2 WHERE seq = 2").await;
    exec(&app, "UPDATE audit_log SET seq = 2 WHERE seq = 3").await;
    exec(&app, "UPDATE audit_log SET seq = 3 WHERE seq = -2").await;
    let v = verify(&app).await;
    assert!(
        matches!(&v, Verdict::Broken(f) if f.to_string().starts_with("record 2:")),
        "{v:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn verify_finds_an_inserted_record() {
    let (app, _) = with_events().await;
    // Shift the tail up by one and insert a forged record in the gap, copying a real hash.
    exec(&app, "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 3").await;
    exec(
        &app,
        "UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1003",
    )
    .await;
    exec(
        &app,
        "INSERT INTO audit_log (seq, id, at_us, org_id, actor_id, action, target_id, ip, details, prev_hash, hash)
         SELECT 3, 'forged', at_us, org_id, actor_id, 'auth.sign_in', target_id, ip, '{}', hash, hash FROM audit_log WHERE seq = 2",
    )
    .await;
    let v = verify(&app).await;
    assert!(
        matches!(&v, Verdict::Broken(f) if f.to_string().starts_with("record 3:")),
        "{v:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn two_nodes_on_one_database_share_sessions_and_never_fork_the_chain() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    // A second server process in all but name: its own pool, hasher and port, same database.
    let second = kairan_server::open(app.state().config.clone())
        .await
        .unwrap();
    let node_b = kairan_server::spawn(second, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let a = app.signed_in("admin.one").await;
    // The session cookie from node A works on node B: sessions live in the database.
    let mut b = app.signed_in("admin.one").await;
    b.base = format!("http://{}", node_b.addr);
    assert_eq!(b.get("/api/v1/me").await.0, StatusCode::OK);
    let a = std::sync::Arc::new(a);
    let b = std::sync::Arc::new(b);
    let mut tasks = Vec::new();
    for w in 0..6 {
        let c = if w % 2 == 0 { a.clone() } else { b.clone() };
        let org = org.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..5 {
                let r = c
                    .post(
                        &format!("/api/v1/orgs/{org}/departments"),
                        json!({ "name": format!("課{w}-{i}") }),
                    )
                    .await;
                assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    node_b.stop().await;
    match verify(&app).await {
        // org, user, two sign-ins, the first one's enrolment of a second factor and the
        // second one's code, 30 departments
        Verdict::Intact { checked } => assert_eq!(checked, 6 + 30),
        Verdict::Broken(f) => panic!("chain broken: {f}"),
    }
    app.stop().await;
}
