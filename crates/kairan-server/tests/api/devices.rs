//! Registered internet devices (I5; seed 003 §8-11, §8-12) through the API: registration at
//! the first sign-in from the internet side, approval, "this device was lost" ending its
//! sessions and live connections at once, blocking until restored, and who may do what.

use crate::helpers::{Client, PASSWORD, TestApp, assert_error};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const OFFICE: &str = "10.1.2.3";
const PHONE: &str = "203.0.113.7";

async fn app() -> TestApp {
    TestApp::spawn_with(|c| {
        c.zones.lgwan = vec!["10.0.0.0/8".into()];
        c.zones.trusted_proxies = vec!["127.0.0.1".into()];
        // Second factors have their own suite; here a password is enough on every device.
        c.mfa.devices = vec![];
    })
    .await
}

async fn sign_in_at(app: &TestApp, ip: &str, login: &str) -> (Client, (StatusCode, Value)) {
    let mut c = app.client_at(ip);
    let r = c.sign_in(login, PASSWORD).await;
    (c, r)
}

async fn actions(app: &TestApp, prefix: &str) -> Vec<(String, Value)> {
    let mut conn = app.state().store.read().await.unwrap();
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT action, details FROM audit_log ORDER BY seq")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    rows.into_iter()
        .filter(|(a, _)| a.starts_with(prefix))
        .map(|(a, d)| (a, serde_json::from_str(&d).unwrap()))
        .collect()
}

#[tokio::test]
async fn a_new_phone_waits_for_approval_and_a_lost_one_is_cut_off_at_once() {
    let app = app().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "staff.one", &["staff"]).await;
    app.create_user(&org, "admin.one", &["admin"]).await;

    // First sign-in from a phone: registered, then refused until approved.
    let (phone, r) = sign_in_at(&app, PHONE, "staff.one").await;
    assert_error(&r, StatusCode::FORBIDDEN, "device_pending_approval");
    assert!(phone.get("/api/v1/me").await.0 == StatusCode::UNAUTHORIZED);
    // The office PC needs no registration.
    let (office, r) = sign_in_at(&app, OFFICE, "staff.one").await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let (_, mine) = office.get("/api/v1/me/devices").await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["status"], "pending");
    let device = mine[0]["id"].as_str().unwrap().to_owned();
    // The owner is told of the new device (shown once on the home page of their other devices).
    let (_, notes) = office.get("/api/v1/me/notifications").await;
    let note = &notes["items"][0];
    assert_eq!(note["kind"], "new_device");
    assert_eq!(note["target_id"], device.as_str());
    assert_eq!(note["details"]["ip"], PHONE);

    // Staff cannot approve their own device; the administrator (in the office) does.
    assert_error(
        &office
            .post(&format!("/api/v1/devices/{device}/approve"), json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (admin, _) = sign_in_at(&app, OFFICE, "admin.one").await;
    let (s, list) = admin.get(&format!("/api/v1/orgs/{org}/devices")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list[0]["id"], device.as_str());
    assert_eq!(list[0]["status"], "pending");
    let (s, _) = admin
        .post(&format!("/api/v1/devices/{device}/approve"), json!({}))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_error(
        &admin
            .post(&format!("/api/v1/devices/{device}/approve"), json!({}))
            .await,
        StatusCode::CONFLICT,
        "device_state_changed",
    );

    // The same phone (same device cookie) now signs in, and opens a live connection.
    let mut phone = phone;
    let r = phone.sign_in("staff.one", PASSWORD).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let url = app.url("/api/v1/ws").replace("http://", "ws://");
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("cookie", phone.cookie_header().parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let hello = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(hello.to_text().unwrap().contains("\"hello\""), "{hello}");

    // Lost: reported from the office PC. The phone's session and socket end at once.
    let (s, v) = office
        .post(&format!("/api/v1/devices/{device}/lost"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["sessions_ended"], 1);
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
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
    assert!(closed, "the lost phone's live connection closes");
    assert_error(
        &phone.get("/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_eq!(
        office.get("/api/v1/me").await.0,
        StatusCode::OK,
        "the office PC stays"
    );
    // Blocked: the right password on the lost phone is refused until restored.
    assert_error(
        &phone.sign_in("staff.one", PASSWORD).await,
        StatusCode::FORBIDDEN,
        "device_lost",
    );
    let (s, _) = admin
        .post(&format!("/api/v1/devices/{device}/restore"), json!({}))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(phone.sign_in("staff.one", PASSWORD).await.0, StatusCode::OK);

    let names: Vec<String> = actions(&app, "device.")
        .await
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert_eq!(
        names,
        [
            "device.registered",
            "device.approved",
            "device.lost",
            "device.restored"
        ]
    );
    let refusals: Vec<Value> = actions(&app, "auth.sign_in_failed")
        .await
        .into_iter()
        .map(|(_, d)| d["reason"].clone())
        .collect();
    assert_eq!(
        refusals,
        [json!("device_pending_approval"), json!("device_lost")]
    );
    app.stop().await;
}

#[tokio::test]
async fn devices_are_private_to_their_owner_and_their_body_administrators() {
    let app = app().await;
    let org = app.create_org("test-town", "試験町").await;
    let other = app.create_org("other-town", "他町").await;
    app.create_user(&org, "staff.one", &["staff"]).await;
    app.create_user(&org, "staff.two", &["staff"]).await;
    app.create_user(&other, "admin.far", &["admin"]).await;
    sign_in_at(&app, PHONE, "staff.one").await;
    let (one, _) = sign_in_at(&app, OFFICE, "staff.one").await;
    let device = one.get("/api/v1/me/devices").await.1[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (two, _) = sign_in_at(&app, OFFICE, "staff.two").await;
    let (far, _) = sign_in_at(&app, OFFICE, "admin.far").await;
    for c in [&two, &far] {
        for action in ["lost", "approve", "restore"] {
            assert_error(
                &c.post(&format!("/api/v1/devices/{device}/{action}"), json!({}))
                    .await,
                StatusCode::NOT_FOUND,
                "not_found",
            );
        }
    }
    assert_error(
        &far.get(&format!("/api/v1/orgs/{org}/devices")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert!(
        two.get("/api/v1/me/devices")
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The owner names it.
    assert_error(
        &one.send(
            reqwest::Method::PATCH,
            &format!("/api/v1/me/devices/{device}"),
            Some(json!({ "name": "" })),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    let (s, _) = one
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/me/devices/{device}"),
            Some(json!({ "name": "業務用スマートフォン" })),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        one.get("/api/v1/me/devices").await.1[0]["name"],
        "業務用スマートフォン"
    );
    app.stop().await;
}

#[tokio::test]
async fn nobody_approves_their_own_device_and_a_lost_one_cannot_come_back_as_new() {
    let app = app().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    app.create_user(&org, "admin.two", &["admin"]).await;
    app.create_user(&org, "staff.one", &["staff"]).await;
    let (_, r) = sign_in_at(&app, PHONE, "admin.one").await;
    assert_error(&r, StatusCode::FORBIDDEN, "device_pending_approval");
    let (one, _) = sign_in_at(&app, OFFICE, "admin.one").await;
    let device = one.get("/api/v1/me/devices").await.1[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_error(
        &one.post(&format!("/api/v1/devices/{device}/approve"), json!({}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden_on_self",
    );
    let (two, _) = sign_in_at(&app, OFFICE, "admin.two").await;
    let (s, _) = two
        .post(&format!("/api/v1/devices/{device}/approve"), json!({}))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // With approval off, a staff phone is usable at once; once it is reported lost, a phone
    // that cleared its cookies (a new device) waits for an administrator again.
    let (s, _) = two
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/orgs/{org}/device-policy"),
            Some(json!({ "approval": false })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (phone, r) = sign_in_at(&app, PHONE, "staff.one").await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let lost = phone.get("/api/v1/me/devices").await.1[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, _) = two
        .post(&format!("/api/v1/devices/{lost}/lost"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, r) = sign_in_at(&app, PHONE, "staff.one").await;
    assert_error(&r, StatusCode::FORBIDDEN, "device_pending_approval");
    app.stop().await;
}

#[tokio::test]
async fn a_body_may_let_new_devices_in_without_approval() {
    let app = app().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "staff.one", &["staff"]).await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    let (admin, _) = sign_in_at(&app, OFFICE, "admin.one").await;
    let (s, v) = admin
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/orgs/{org}/device-policy"),
            Some(json!({ "approval": false })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (phone, r) = sign_in_at(&app, PHONE, "staff.one").await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    assert_eq!(
        phone.get("/api/v1/me/devices").await.1[0]["status"],
        "active"
    );
    app.stop().await;
}

/// Signs in from `c` with a proof by `key` over a fresh challenge (or the one given), as the
/// sign-in page's script does. Returns the answer and the challenge used.
async fn sign_in_with_key(
    c: &mut Client,
    login: &str,
    key: Option<&kairan_domain::device_key::SoftDeviceKey>,
    challenge: Option<String>,
) -> ((StatusCode, Value), String) {
    let fresh: Value = c
        .http
        .get(format!("{}/api/v1/csrf", c.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    c.csrf = fresh["csrf_token"].as_str().unwrap().to_owned();
    let challenge =
        challenge.unwrap_or_else(|| fresh["device_challenge"].as_str().unwrap().to_owned());
    let proof = key.map(|k| {
        let p = k.prove(&challenge, login);
        json!({ "public_key": p.public_key, "challenge": p.challenge, "signature": p.signature })
    });
    let r = c
        .http
        .post(format!("{}/api/v1/session", c.base))
        .header("x-csrf-token", &c.csrf)
        .json(&json!({ "login_id": login, "password": PASSWORD, "device_proof": proof }))
        .send()
        .await
        .unwrap();
    let s = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    ((s, v), challenge)
}

/// A town whose phones need no approval (the key is what these tests look at), with one
/// member of staff, `staff.one`.
async fn keyed_app() -> TestApp {
    let app = TestApp::spawn_with(|c| {
        c.zones.lgwan = vec!["10.0.0.0/8".into()];
        c.zones.trusted_proxies = vec!["127.0.0.1".into()];
        c.mfa.devices = vec![];
        c.devices.approval = false;
    })
    .await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "staff.one", &["staff"]).await;
    app
}

#[tokio::test]
async fn a_device_is_bound_to_its_key_and_its_cookie_alone_no_longer_signs_in() {
    use kairan_domain::device_key::SoftDeviceKey;
    let app = keyed_app().await;
    let key = SoftDeviceKey::from_seed([7; 32]).unwrap();
    let thief = SoftDeviceKey::from_seed([9; 32]).unwrap();

    // First sign-in from the phone registers it with its key.
    let mut phone = app.client_at(PHONE);
    let (r, used) = sign_in_with_key(&mut phone, "staff.one", Some(&key), None).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let (_, mine) = phone.get("/api/v1/me/devices").await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["has_key"], true);
    let registered = actions(&app, "device.registered").await;
    assert_eq!(registered[0].1["key"], true);

    // The same device cookie: without the key, with another key, with a used or forged
    // challenge, the sign-in is refused; every refusal looks the same from outside.
    let ((s, v), _) = sign_in_with_key(&mut phone, "staff.one", None, None).await;
    assert_error(&(s, v), StatusCode::FORBIDDEN, "device_key_invalid");
    let (r, _) = sign_in_with_key(&mut phone, "staff.one", Some(&thief), None).await;
    assert_error(&r, StatusCode::FORBIDDEN, "device_key_invalid");
    let (r, _) = sign_in_with_key(&mut phone, "staff.one", Some(&key), Some(used)).await;
    assert_error(&r, StatusCode::FORBIDDEN, "device_key_invalid");
    let forged = format!(
        "{}.{}.{}",
        kairan_store::now_us() / 1_000_000,
        "ab".repeat(16),
        "0".repeat(32)
    );
    let (r, _) = sign_in_with_key(&mut phone, "staff.one", Some(&key), Some(forged)).await;
    assert_error(&r, StatusCode::FORBIDDEN, "device_key_invalid");
    // A proof made for another ID does not carry over.
    let mut other_id = app.client_at(PHONE);
    let fresh: Value = other_id.get("/api/v1/csrf").await.1;
    let challenge = fresh["device_challenge"].as_str().unwrap().to_owned();
    let p = key.prove(&challenge, "someone.else");
    other_id.csrf = fresh["csrf_token"].as_str().unwrap().to_owned();
    let r = other_id
        .post(
            "/api/v1/session",
            json!({ "login_id": "staff.one", "password": PASSWORD,
                    "device_proof": { "public_key": p.public_key, "challenge": p.challenge, "signature": p.signature } }),
        )
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "device_key_invalid");

    // The audit log names each reason; the holder of the key still signs in.
    let reasons: Vec<Value> = actions(&app, "auth.sign_in_failed")
        .await
        .into_iter()
        .map(|(_, d)| d["reason"].clone())
        .collect();
    assert_eq!(
        reasons,
        [
            json!("device_key_required"),
            json!("device_key_mismatch"),
            json!("device_challenge_replayed"),
            json!("device_challenge_expired"),
            json!("device_signature_invalid"),
        ]
    );
    let (r, _) = sign_in_with_key(&mut phone, "staff.one", Some(&key), None).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    app.stop().await;
}

#[tokio::test]
async fn a_device_registered_without_a_key_takes_the_first_key_it_proves() {
    use kairan_domain::device_key::SoftDeviceKey;
    let app = keyed_app().await;
    let key = SoftDeviceKey::from_seed([7; 32]).unwrap();
    let mut phone = app.client_at(PHONE);
    // A client without a key (an old app, no WebCrypto): a cookie-only device.
    let (r, _) = sign_in_with_key(&mut phone, "staff.one", None, None).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let (r, _) = sign_in_with_key(&mut phone, "staff.one", None, None).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    // Its first proof binds the key; from then on the cookie alone is not enough.
    let (r, _) = sign_in_with_key(&mut phone, "staff.one", Some(&key), None).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    assert_eq!(actions(&app, "device.key_bound").await.len(), 1);
    let (r, _) = sign_in_with_key(&mut phone, "staff.one", None, None).await;
    assert_error(&r, StatusCode::FORBIDDEN, "device_key_invalid");
    // The LGWAN side has no registered devices and ignores proofs, even one by another key.
    let mut office = app.client_at("10.1.2.3");
    let (r, _) = sign_in_with_key(&mut office, "staff.one", None, None).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let other = SoftDeviceKey::from_seed([9; 32]).unwrap();
    let mut office = app.client_at("10.1.2.3");
    let (r, _) = sign_in_with_key(&mut office, "staff.one", Some(&other), None).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    app.stop().await;
}
