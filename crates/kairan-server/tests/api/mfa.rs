//! The second factor (I3) through the API: enrolment forced on privileged IDs, the code step
//! of a sign-in, replayed and wrong codes, recovery codes, lockout, an administrator's reset,
//! the body's policy, and secrets kept sealed at rest.

use crate::helpers::{Client, PASSWORD, TestApp, assert_error, authenticators, now_step};
use kairan_domain::mfa::{base32_decode, code_at};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest;

async fn audit_actions(app: &TestApp, prefix: &str) -> Vec<Value> {
    let mut conn = app.state().store.read().await.unwrap();
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT action, details FROM audit_log ORDER BY seq")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    rows.into_iter()
        .filter(|(a, _)| a.starts_with(prefix))
        .map(|(a, d)| json!({ "action": a, "details": serde_json::from_str::<Value>(&d).unwrap() }))
        .collect()
}

fn code_for(app: &TestApp, login: &str, step: i64) -> String {
    let all = authenticators();
    let a = &all[&(app.base.clone(), login.to_owned())];
    format!("{:06}", code_at(&a.secret, step))
}

#[tokio::test]
async fn a_privileged_id_must_enrol_before_anything_else_and_then_gives_a_code_at_each_sign_in() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;

    let mut c = app.client();
    let (s, v) = c.sign_in_password("admin.one", PASSWORD).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["mfa"], "enrol");
    // Nothing opens until enrolment: not the API, not a password change.
    for r in [
        c.get("/api/v1/me").await,
        c.get(&format!("/api/v1/orgs/{org}/users")).await,
        c.post(
            "/api/v1/me/password",
            json!({ "current_password": PASSWORD, "new_password": "an entirely new passphrase here" }),
        )
        .await,
    ] {
        assert_error(&r, StatusCode::FORBIDDEN, "mfa_enrolment_required");
    }
    // A wrong first code does not finish the enrolment.
    let (s, setup) = c.post("/api/v1/me/mfa/totp", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{setup}");
    assert!(
        setup["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/Kairan%20")
    );
    let secret = base32_decode(setup["secret"].as_str().unwrap()).unwrap();
    assert_eq!(secret.len(), 20);
    let wrong = format!("{:06}", (code_at(&secret, now_step()) + 1) % 1_000_000);
    assert_error(
        &c.post("/api/v1/me/mfa/totp/confirm", json!({ "code": wrong }))
            .await,
        StatusCode::UNAUTHORIZED,
        "mfa_failed",
    );
    assert_error(
        &c.get("/api/v1/me").await,
        StatusCode::FORBIDDEN,
        "mfa_enrolment_required",
    );
    // The helper enrols as the screen does: a new secret, its current code.
    let codes = c.enrol_totp("admin.one").await;
    assert_eq!(codes.len(), 10);
    let distinct: std::collections::BTreeSet<_> = codes.iter().collect();
    assert_eq!(distinct.len(), 10);
    for code in &codes {
        assert_eq!(code.len(), 19, "{code}");
        assert_eq!(code.matches('-').count(), 3, "{code}");
    }
    assert_eq!(c.get("/api/v1/me").await.0, StatusCode::OK);
    let (_, status) = c.get("/api/v1/me/mfa").await;
    assert_eq!(status["totp"], true);
    assert_eq!(status["recovery_codes_left"], 10);
    assert_eq!(status["required_everywhere"], true);

    // The next sign-in owes the code.
    let mut d = app.client();
    let (_, v) = d.sign_in_password("admin.one", PASSWORD).await;
    assert_eq!(v["mfa"], "verify");
    assert_error(
        &d.get("/api/v1/me").await,
        StatusCode::FORBIDDEN,
        "mfa_required",
    );
    // A second factor cannot be set up anew from a session that has not passed the first.
    assert_error(
        &d.post("/api/v1/me/mfa/totp", json!({})).await,
        StatusCode::FORBIDDEN,
        "mfa_required",
    );
    // The code the enrolment used is spent; a malformed one is simply wrong. (Two failures:
    // a third would lock a privileged ID.)
    let used = authenticators()[&(app.base.clone(), "admin.one".to_owned())].last_step;
    for bad in [code_for(&app, "admin.one", used), "12345".into()] {
        assert_error(
            &d.post("/api/v1/session/mfa", json!({ "code": bad })).await,
            StatusCode::UNAUTHORIZED,
            "mfa_failed",
        );
    }
    let next = c.authenticator_code("admin.one").await;
    let (s, ok) = d.post("/api/v1/session/mfa", json!({ "code": next })).await;
    assert_eq!(s, StatusCode::OK, "{ok}");
    assert_eq!(ok["method"], "totp");
    assert_eq!(d.get("/api/v1/me").await.0, StatusCode::OK);
    // The same code on a third sign-in is a replay.
    let mut e = app.client();
    e.sign_in_password("admin.one", PASSWORD).await;
    assert_error(
        &e.post("/api/v1/session/mfa", json!({ "code": next })).await,
        StatusCode::UNAUTHORIZED,
        "mfa_failed",
    );

    let events = audit_actions(&app, "mfa.").await;
    let names: Vec<_> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "mfa.failed",   // wrong first code at enrolment
            "mfa.enrolled", // the helper's enrolment
            "mfa.failed",   // the enrolment's own code, replayed
            "mfa.failed",   // five digits
            "mfa.verified",
            "mfa.failed", // the replay on the third sign-in
        ]
    );
    assert_eq!(events[2]["details"]["reason"], "replayed");
    assert_eq!(events[3]["details"]["reason"], "wrong_code");
    assert_eq!(events[5]["details"]["reason"], "replayed");
    app.stop().await;
}

#[tokio::test]
async fn a_recovery_code_works_once_however_it_is_typed() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "officer.one", &["security_officer"])
        .await;
    let c = app.signed_in("officer.one").await;
    let codes = authenticators()[&(app.base.clone(), "officer.one".to_owned())]
        .recovery_codes
        .clone();
    drop(c);
    // Typed in lower case with spaces, as full-width characters from an IME left on.
    let first = codes[0].to_lowercase().replace('-', " ");
    let full_width: String = codes[1]
        .chars()
        .map(|ch| char::from_u32(ch as u32 + 0xFEE0).unwrap())
        .collect();
    for typed in [first, full_width] {
        let mut c = app.client();
        c.sign_in_password("officer.one", PASSWORD).await;
        let (s, v) = c
            .post("/api/v1/session/mfa", json!({ "code": typed }))
            .await;
        assert_eq!(s, StatusCode::OK, "{typed}: {v}");
        assert_eq!(v["method"], "recovery_code");
    }
    let mut c = app.client();
    c.sign_in_password("officer.one", PASSWORD).await;
    assert_error(
        &c.post("/api/v1/session/mfa", json!({ "code": codes[0] }))
            .await,
        StatusCode::UNAUTHORIZED,
        "mfa_failed",
    );
    let (s, v) = c
        .post("/api/v1/session/mfa", json!({ "code": codes[2] }))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["recovery_codes_left"], 7);

    // New codes take the password, and the old ones stop working.
    assert_error(
        &c.post(
            "/api/v1/me/mfa/recovery-codes",
            json!({ "password": "not it" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_current_wrong",
    );
    let (s, fresh) = c
        .post(
            "/api/v1/me/mfa/recovery-codes",
            json!({ "password": PASSWORD }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(fresh["recovery_codes"].as_array().unwrap().len(), 10);
    let mut d = app.client();
    d.sign_in_password("officer.one", PASSWORD).await;
    assert_error(
        &d.post("/api/v1/session/mfa", json!({ "code": codes[3] }))
            .await,
        StatusCode::UNAUTHORIZED,
        "mfa_failed",
    );
    let (s, _) = d
        .post(
            "/api/v1/session/mfa",
            json!({ "code": fresh["recovery_codes"][0] }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn wrong_codes_lock_the_id_like_wrong_passwords_and_end_the_waiting_session() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "auditor.one", &["auditor"]).await;
    // The real user, fully signed in: someone with only the password must not sign them out.
    let working = app.signed_in("auditor.one").await;
    let threshold = app.state().config.password.lockout_threshold_privileged;
    let mut c = app.client();
    c.sign_in_password("auditor.one", PASSWORD).await;
    for _ in 0..threshold {
        assert_error(
            &c.post("/api/v1/session/mfa", json!({ "code": "000000" }))
                .await,
            StatusCode::UNAUTHORIZED,
            "mfa_failed",
        );
    }
    // The waiting session is gone and the right password no longer opens the ID.
    let code = c.authenticator_code("auditor.one").await;
    assert_error(
        &c.post("/api/v1/session/mfa", json!({ "code": code })).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let mut d = app.client();
    assert_error(
        &d.sign_in_password("auditor.one", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "sign_in_failed",
    );
    let locks = audit_actions(&app, "auth.locked").await;
    assert_eq!(locks.len(), 1);
    assert_eq!(locks[0]["details"]["stage"], "second_factor");
    assert_eq!(working.get("/api/v1/me").await.0, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn a_lock_reached_with_wrong_passwords_ends_a_session_waiting_for_its_code() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    app.signed_in("admin.one").await;
    let threshold = app.state().config.password.lockout_threshold_privileged;
    // A session waiting for its code, then wrong passwords up to the lock: wrong codes and
    // wrong passwords in turn must not add up to unlimited guesses on that session.
    let mut waiting = app.client();
    waiting.sign_in_password("admin.one", PASSWORD).await;
    assert_error(
        &waiting
            .post("/api/v1/session/mfa", json!({ "code": "000000" }))
            .await,
        StatusCode::UNAUTHORIZED,
        "mfa_failed",
    );
    // One wrong code and threshold − 1 wrong passwords: they count together.
    for _ in 0..threshold - 1 {
        assert_error(
            &app.client()
                .sign_in_password("admin.one", "not the password")
                .await,
            StatusCode::UNAUTHORIZED,
            "sign_in_failed",
        );
    }
    let locks = audit_actions(&app, "auth.locked").await;
    assert_eq!(locks.len(), 1);
    assert_eq!(locks[0]["details"]["stage"], "password");
    let code = waiting.authenticator_code("admin.one").await;
    assert_error(
        &waiting
            .post("/api/v1/session/mfa", json!({ "code": code }))
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    app.stop().await;
}

#[tokio::test]
async fn the_password_step_alone_never_clears_the_failures_of_the_code_step() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    app.signed_in("admin.one").await;
    let threshold = app.state().config.password.lockout_threshold_privileged;
    // One wrong code per fresh password step: the count still reaches the threshold.
    for _ in 0..threshold {
        let mut c = app.client();
        let (s, v) = c.sign_in_password("admin.one", PASSWORD).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_error(
            &c.post("/api/v1/session/mfa", json!({ "code": "000000" }))
                .await,
            StatusCode::UNAUTHORIZED,
            "mfa_failed",
        );
    }
    assert_error(
        &app.client().sign_in_password("admin.one", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "sign_in_failed",
    );
    app.stop().await;
}

#[tokio::test]
async fn staff_need_a_second_factor_on_internet_devices_by_default_and_as_the_body_sets() {
    // Loopback is not LGWAN here, so every request is an internet device.
    let app = TestApp::spawn_with(|c| {
        c.zones.lgwan = vec!["10.0.0.0/8".into()];
        // Device registration has its own suite; here a new device is usable at once.
        c.devices.approval = false;
    })
    .await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "staff.one", &["staff"]).await;
    app.create_user(&org, "head.one", &["section_head"]).await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    let (_, v) = app.client().sign_in_password("staff.one", PASSWORD).await;
    assert_eq!(v["mfa"], "enrol");
    let admin = app.signed_in("admin.one").await;
    // The body drops the device rule and requires section heads everywhere.
    assert_error(
        &admin
            .send(
                reqwest::Method::PUT,
                &format!("/api/v1/orgs/{org}/mfa-policy"),
                Some(json!({ "roles": ["wizard"], "devices": [] })),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    let (s, p) = admin
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/orgs/{org}/mfa-policy"),
            Some(json!({ "roles": ["section_head", "section_head"], "devices": [] })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p, json!({ "roles": ["section_head"], "devices": [] }));
    assert_eq!(
        admin.get(&format!("/api/v1/orgs/{org}/mfa-policy")).await.1,
        p
    );
    let (_, v) = app.client().sign_in_password("staff.one", PASSWORD).await;
    assert_eq!(v["mfa"], "none");
    let (_, v) = app.client().sign_in_password("head.one", PASSWORD).await;
    assert_eq!(v["mfa"], "enrol");
    let changes = audit_actions(&app, "mfa.policy_changed").await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["details"]["roles"], json!(["section_head"]));
    app.stop().await;
}

#[tokio::test]
async fn staff_may_turn_their_own_second_factor_off_but_privileged_ids_may_not() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "staff.one", &["staff"]).await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    let staff = app.signed_in("staff.one").await;
    staff.enrol_totp("staff.one").await;
    assert_error(
        &staff
            .post("/api/v1/me/mfa/remove", json!({ "password": "wrong" }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_current_wrong",
    );
    // Replacing the app takes the password too.
    assert_error(
        &staff.post("/api/v1/me/mfa/totp", json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_current_wrong",
    );
    let (s, _) = staff
        .post("/api/v1/me/mfa/remove", json!({ "password": PASSWORD }))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // A password may have been chosen under the shorter minimum a second factor allows (8
    // against 15): without the factor, a new one is asked for, now and at the next sign-in.
    assert_error(
        &staff.get("/api/v1/me/mfa").await,
        StatusCode::FORBIDDEN,
        "password_change_required",
    );
    let (_, v) = app.client().sign_in_password("staff.one", PASSWORD).await;
    assert_eq!(v["mfa"], "none");
    assert_eq!(v["must_change_password"], true);

    let admin = app.signed_in("admin.one").await;
    assert_error(
        &admin
            .post("/api/v1/me/mfa/remove", json!({ "password": PASSWORD }))
            .await,
        StatusCode::CONFLICT,
        "mfa_required_by_policy",
    );
    app.stop().await;
}

#[tokio::test]
async fn an_administrator_resets_a_lost_second_factor_with_a_reason_and_the_user_is_told() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    let other = app.create_org("other-town", "他町").await;
    let officer = app
        .create_user(&org, "officer.one", &["security_officer"])
        .await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    app.create_user(&other, "admin.two", &["admin"]).await;
    let lost = app.signed_in("officer.one").await;
    let admin = app.signed_in("admin.one").await;
    let path = format!("/api/v1/users/{officer}/reset-mfa");
    assert_error(
        &admin.post(&path, json!({ "reason": "紛失" })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    assert_error(
        &app.signed_in("admin.two")
            .await
            .post(
                &path,
                json!({ "reason": "スマートフォン紛失の届出を受けたため" }),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (s, v) = admin
        .post(
            &path,
            json!({ "reason": "スマートフォン紛失の届出を受けたため" }),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    // The lost phone's session ends; the next sign-in enrols a new app.
    assert_error(
        &lost.get("/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let mut again = app.client();
    let (_, v) = again.sign_in_password("officer.one", PASSWORD).await;
    assert_eq!(v["mfa"], "enrol");
    again.enrol_totp("officer.one").await;
    let (_, notes) = again.get("/api/v1/me/notifications").await;
    let note = notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "mfa_reset")
        .cloned()
        .unwrap_or_else(|| panic!("no mfa_reset notice in {notes}"));
    assert!(note.to_string().contains("スマートフォン紛失"), "{note}");
    let resets = audit_actions(&app, "mfa.reset").await;
    assert_eq!(resets.len(), 1);
    // The free-text reason stays out of the chain: the record names the notice that holds it
    // and carries its hash.
    assert_eq!(resets[0]["details"]["notice"], note["id"]);
    assert_eq!(
        resets[0]["details"]["reason_sha256"],
        hex::encode(sha2::Sha256::digest(
            "スマートフォン紛失の届出を受けたため".as_bytes()
        ))
    );
    assert!(!resets[0].to_string().contains("紛失"));
    assert_eq!(resets[0]["details"]["sessions_ended"], 1);
    // Nothing left to reset on someone without a second factor.
    let plain = app.create_user(&org, "staff.one", &["staff"]).await;
    assert_error(
        &admin
            .post(
                &format!("/api/v1/users/{plain}/reset-mfa"),
                json!({ "reason": "スマートフォン紛失の届出を受けたため" }),
            )
            .await,
        StatusCode::CONFLICT,
        "mfa_not_enrolled",
    );
    app.stop().await;
}

#[tokio::test]
async fn secrets_and_recovery_codes_are_not_in_the_database_in_the_clear() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    app.signed_in("admin.one").await;
    let (secret, codes) = {
        let all = authenticators();
        let a = &all[&(app.base.clone(), "admin.one".to_owned())];
        (
            kairan_domain::mfa::base32_encode(&a.secret),
            a.recovery_codes.clone(),
        )
    };
    let mut conn = app.state().store.read().await.unwrap();
    let (user_id, sealed): (String, String) =
        sqlx::query_as("SELECT user_id, secret_sealed FROM totp_credentials")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    let raw = base32_decode(&secret).unwrap();
    assert!(sealed.starts_with("v1."));
    assert!(
        !sealed.contains(&hex::encode(&raw)),
        "not the secret in hex"
    );
    // It is the secret, sealed with the server key and bound to its user.
    let key = &app.state().key;
    assert_eq!(key.open(&sealed, &user_id), Some(raw));
    assert_eq!(key.open(&sealed, "another user"), None);
    // The stored recovery codes are exactly the keyed hashes of the issued ones.
    let mut hashes: Vec<String> = sqlx::query_scalar("SELECT code_hash FROM recovery_codes")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let mut expected: Vec<String> = codes
        .iter()
        .map(|c| {
            let canonical = kairan_domain::mfa::normalize_recovery_code(c).unwrap();
            assert!(!hashes.iter().any(|h| h.contains(&canonical.to_lowercase())));
            key.mac_hex(&user_id, &canonical)
        })
        .collect();
    hashes.sort();
    expected.sort();
    assert_eq!(hashes, expected);
    drop(conn);
    // A node with another key on the same database refuses to start.
    let mut config = app.state().config.clone();
    config.secret_key = Some(kairan_server::config::Secret("11".repeat(32)));
    let refused = kairan_server::open(config).await;
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("secret key"), "{message}");
    app.stop().await;
}

#[tokio::test]
async fn signing_out_works_while_the_code_is_still_owed() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    app.signed_in("admin.one").await;
    let mut c: Client = app.client();
    c.sign_in_password("admin.one", PASSWORD).await;
    // The raw cookies of the waiting session, replayed after sign-out by a fresh client: the
    // server must have ended the session, not only told the browser to forget it.
    let cookies = c.cookie_header();
    let csrf = c.csrf.clone();
    assert_eq!(c.delete("/api/v1/session").await.0, StatusCode::NO_CONTENT);
    let code = c.authenticator_code("admin.one").await;
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/session/mfa"))
        .header("cookie", cookies)
        .header("x-csrf-token", csrf)
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_error(&(status, body), StatusCode::UNAUTHORIZED, "unauthenticated");
    app.stop().await;
}
