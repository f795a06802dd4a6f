//! Passkeys as a second factor (I3, WebAuthn) through the API, with a software authenticator
//! standing in for the browser's: registration during enrolment, the sign-in step, replayed,
//! foreign and expired challenges, a counter that goes backwards, removal, and a server that
//! has no relying party configured.

use crate::helpers::{Client, PASSWORD, TestApp, assert_error};
use kairan_domain::webauthn::{SoftAuthenticator, b64url_decode, b64url_encode};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ORIGIN: &str = "https://chat.example.lg.jp";
const RP: &str = "chat.example.lg.jp";

async fn app() -> TestApp {
    TestApp::spawn_with(|c| {
        c.webauthn.rp_id = Some(RP.into());
        c.webauthn.origins = vec![ORIGIN.into()];
    })
    .await
}

fn challenge(options: &Value) -> Vec<u8> {
    b64url_decode(options["challenge"].as_str().unwrap()).unwrap()
}

async fn register(
    c: &Client,
    key: &SoftAuthenticator,
    name: &str,
    password: Option<&str>,
) -> (StatusCode, Value) {
    let body = match password {
        Some(p) => json!({ "password": p }),
        None => json!({}),
    };
    let (s, options) = c.post("/api/v1/me/passkeys/options", body).await;
    assert_eq!(s, StatusCode::OK, "{options}");
    assert_eq!(options["rp"]["id"], RP);
    let (cd, att) = key.register(&challenge(&options), ORIGIN, RP);
    c.post(
        "/api/v1/me/passkeys",
        json!({
            "name": name,
            "client_data_json": b64url_encode(&cd),
            "attestation_object": b64url_encode(&att),
        }),
    )
    .await
}

/// The sign-in step with `key`, answering the challenge the server just issued.
async fn assert_with(c: &Client, key: &mut SoftAuthenticator) -> (StatusCode, Value) {
    let (s, options) = c.post("/api/v1/session/passkey/options", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{options}");
    let (cd, ad, sig) = key.sign(&challenge(&options), ORIGIN, RP);
    answer(c, key, &cd, &ad, &sig).await
}

async fn answer(
    c: &Client,
    key: &SoftAuthenticator,
    cd: &[u8],
    ad: &[u8],
    sig: &[u8],
) -> (StatusCode, Value) {
    c.post(
        "/api/v1/session/passkey",
        json!({
            "id": b64url_encode(&key.id),
            "client_data_json": b64url_encode(cd),
            "authenticator_data": b64url_encode(ad),
            "signature": b64url_encode(sig),
        }),
    )
    .await
}

#[tokio::test]
async fn a_passkey_enrolled_at_first_sign_in_passes_the_second_step_after_that() {
    let app = app().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    let mut c = app.client();
    let (_, v) = c.sign_in_password("admin.one", PASSWORD).await;
    assert_eq!(v["mfa"], "enrol");
    let mut key = SoftAuthenticator::new(9).unwrap();
    assert_error(
        &register(&c, &key, "  ", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    let (s, done) = register(&c, &key, "執務室のパソコン", None).await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(done["recovery_codes"].as_array().unwrap().len(), 10);
    let (s, status) = c.get("/api/v1/me/mfa").await;
    assert_eq!(s, StatusCode::OK, "enrolment finished the step: {status}");
    // With a passkey set up, adding an authenticator app takes the password too.
    assert_error(
        &c.post("/api/v1/me/mfa/totp", json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_current_wrong",
    );
    assert_eq!(status["passkeys"][0]["name"], "執務室のパソコン");
    assert_eq!(status["totp"], false);
    // The same authenticator again is refused by the browser (excludeCredentials) and here.
    let (s, options) = c
        .post(
            "/api/v1/me/passkeys/options",
            json!({ "password": PASSWORD }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        options["excludeCredentials"][0]["id"],
        b64url_encode(&key.id)
    );

    // Next sign-in: the passkey answers the second step.
    let mut d = app.client();
    let (_, v) = d.sign_in_password("admin.one", PASSWORD).await;
    assert_eq!(v["mfa"], "verify");
    let (s, ok) = assert_with(&d, &mut key).await;
    assert_eq!(s, StatusCode::OK, "{ok}");
    assert_eq!(ok["method"], "passkey");
    assert_eq!(d.get("/api/v1/me").await.0, StatusCode::OK);
    let (_, status) = d.get("/api/v1/me/mfa").await;
    assert!(status["passkeys"][0]["last_used_at"].is_i64());
    app.stop().await;
}

#[tokio::test]
async fn replayed_foreign_expired_and_cloned_answers_fail_closed() {
    // Six refusals follow; a staff ID would lock at five.
    let app = TestApp::spawn_with(|c| {
        c.webauthn.rp_id = Some(RP.into());
        c.webauthn.origins = vec![ORIGIN.into()];
        c.password.lockout_threshold = 10;
    })
    .await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "staff.one", &["staff"]).await;
    let c = app.signed_in("staff.one").await;
    let mut key = SoftAuthenticator::new(11).unwrap();
    let (s, _) = register(&c, &key, "私用のスマートフォン", None).await;
    assert_eq!(s, StatusCode::OK);

    let mut a = app.client();
    a.sign_in_password("staff.one", PASSWORD).await;
    // An answer to another session's challenge.
    let mut b = app.client();
    b.sign_in_password("staff.one", PASSWORD).await;
    let (_, theirs) = b.post("/api/v1/session/passkey/options", json!({})).await;
    a.post("/api/v1/session/passkey/options", json!({})).await;
    let (cd, ad, sig) = key.sign(&challenge(&theirs), ORIGIN, RP);
    assert_error(
        &answer(&a, &key, &cd, &ad, &sig).await,
        StatusCode::UNAUTHORIZED,
        "passkey_expired",
    );
    // A challenge is used once: an attempt with a spoiled signature spends it, and the right
    // answer to the same challenge afterwards is refused.
    let (s, own) = a.post("/api/v1/session/passkey/options", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let (cd, ad, sig) = key.sign(&challenge(&own), ORIGIN, RP);
    let mut spoiled = sig.clone();
    let last = spoiled.len() - 1;
    spoiled[last] ^= 1;
    assert_error(
        &answer(&a, &key, &cd, &ad, &spoiled).await,
        StatusCode::UNAUTHORIZED,
        "passkey_failed",
    );
    assert_error(
        &answer(&a, &key, &cd, &ad, &sig).await,
        StatusCode::UNAUTHORIZED,
        "passkey_expired",
    );
    // An expired challenge.
    let (_, options) = a.post("/api/v1/session/passkey/options", json!({})).await;
    {
        let mut tx = app.state().store.write().await.unwrap();
        sqlx::query("UPDATE webauthn_challenges SET created_at = created_at - 600000000")
            .execute(tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let (cd, ad, sig) = key.sign(&challenge(&options), ORIGIN, RP);
    assert_error(
        &answer(&a, &key, &cd, &ad, &sig).await,
        StatusCode::UNAUTHORIZED,
        "passkey_expired",
    );
    // Garbage where base64url should be.
    a.post("/api/v1/session/passkey/options", json!({})).await;
    let (s, v) = a
        .post(
            "/api/v1/session/passkey",
            json!({ "id": b64url_encode(&key.id), "client_data_json": "!!", "authenticator_data": "", "signature": "" }),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("passkey_failed"))
    );
    // Four failures so far on a staff ID (five lock it): the right key still passes.
    let (s, v) = assert_with(&b, &mut key).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // A copy of the authenticator whose counter lags behind is refused.
    let mut clone = SoftAuthenticator::new(11).unwrap();
    let mut e = app.client();
    e.sign_in_password("staff.one", PASSWORD).await;
    assert_error(
        &assert_with(&e, &mut clone).await,
        StatusCode::UNAUTHORIZED,
        "passkey_failed",
    );

    let mut conn = app.state().store.read().await.unwrap();
    let reasons: Vec<String> = sqlx::query_scalar(
        "SELECT details FROM audit_log WHERE action = 'mfa.failed' ORDER BY seq",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let reasons: Vec<String> = reasons
        .iter()
        .map(|d| {
            serde_json::from_str::<Value>(d).unwrap()["reason"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "challenge",
            "signature",
            "challenge",
            "challenge",
            "malformed",
            "counter"
        ]
    );
    drop(conn);
    app.stop().await;
}

#[tokio::test]
async fn the_last_passkey_of_a_privileged_id_stays_and_staff_may_remove_theirs() {
    let app = app().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    let mut c = app.client();
    c.sign_in_password("admin.one", PASSWORD).await;
    let key = SoftAuthenticator::new(21).unwrap();
    register(&c, &key, "セキュリティキー", None).await;
    let (_, status) = c.get("/api/v1/me/mfa").await;
    let id = status["passkeys"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/me/passkeys/{id}/remove");
    assert_error(
        &c.post(&path, json!({ "password": "wrong" })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_current_wrong",
    );
    assert_error(
        &c.post(&path, json!({ "password": PASSWORD })).await,
        StatusCode::CONFLICT,
        "mfa_required_by_policy",
    );
    // Adding a second key takes the password now that a factor is set up.
    let other = SoftAuthenticator::new(22).unwrap();
    assert_error(
        &c.post("/api/v1/me/passkeys/options", json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_current_wrong",
    );
    let (s, v) = register(&c, &other, "予備のキー", Some(PASSWORD)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["recovery_codes"],
        json!([]),
        "codes are issued with the first factor only"
    );
    let (s, _) = c.post(&path, json!({ "password": PASSWORD })).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, status) = c.get("/api/v1/me/mfa").await;
    assert_eq!(status["passkeys"].as_array().unwrap().len(), 1);
    assert_eq!(status["passkeys"][0]["name"], "予備のキー");
    // Someone else's key is not found.
    app.create_user(&org, "admin.two", &["admin"]).await;
    let two = app.signed_in("admin.two").await;
    assert_error(
        &two.post(
            &format!(
                "/api/v1/me/passkeys/{}/remove",
                status["passkeys"][0]["id"].as_str().unwrap()
            ),
            json!({ "password": PASSWORD }),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    app.stop().await;
}

#[tokio::test]
async fn removing_the_last_passkey_takes_the_recovery_codes_with_it() {
    let app = app().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "staff.one", &["staff"]).await;
    let c = app.signed_in("staff.one").await;
    let key = SoftAuthenticator::new(31).unwrap();
    let (_, done) = register(&c, &key, "私用のスマートフォン", None).await;
    assert_eq!(done["recovery_codes"].as_array().unwrap().len(), 10);
    let (_, status) = c.get("/api/v1/me/mfa").await;
    let id = status["passkeys"][0]["id"].as_str().unwrap().to_owned();
    let (s, _) = c
        .post(
            &format!("/api/v1/me/passkeys/{id}/remove"),
            json!({ "password": PASSWORD }),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // No factor left: the codes went with it, and a new password is asked for first.
    let mut d = app.client();
    let (_, v) = d.sign_in_password("staff.one", PASSWORD).await;
    assert_eq!(v["must_change_password"], true);
    let mut conn = app.state().store.read().await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(left, 0);
    drop(conn);
    app.stop().await;
}

#[tokio::test]
async fn without_a_configured_relying_party_only_localhost_may_use_passkeys() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "staff.one", &["staff"]).await;
    let c = app.signed_in("staff.one").await;
    // The test client talks to 127.0.0.1, which no passkey may belong to.
    assert_error(
        &c.post("/api/v1/me/passkeys/options", json!({})).await,
        StatusCode::CONFLICT,
        "passkeys_not_configured",
    );
    app.stop().await;
}

#[tokio::test]
async fn two_removals_at_once_never_take_a_privileged_ids_last_two_passkeys() {
    let app = app().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    let mut c = app.client();
    c.sign_in_password("admin.one", PASSWORD).await;
    register(&c, &SoftAuthenticator::new(31).unwrap(), "一本目", None).await;
    for round in 0..4u8 {
        let key = SoftAuthenticator::new(40 + round).unwrap();
        let (s, v) = register(&c, &key, "追加のキー", Some(PASSWORD)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (_, status) = c.get("/api/v1/me/mfa").await;
        let ids: Vec<String> = status["passkeys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids.len(), 2);
        let paths: Vec<String> = ids
            .iter()
            .map(|id| format!("/api/v1/me/passkeys/{id}/remove"))
            .collect();
        let body = json!({ "password": PASSWORD });
        let (a, b) = tokio::join!(
            c.post(&paths[0], body.clone()),
            c.post(&paths[1], body.clone())
        );
        let mut outcomes = [a.0, b.0];
        outcomes.sort();
        assert_eq!(
            outcomes,
            [StatusCode::NO_CONTENT, StatusCode::CONFLICT],
            "round {round}: {a:?} {b:?}"
        );
        let (_, status) = c.get("/api/v1/me/mfa").await;
        assert_eq!(status["passkeys"].as_array().unwrap().len(), 1);
    }
    app.stop().await;
}
