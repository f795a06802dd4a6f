//! Directory sign-in (I9) against a real OpenLDAP `slapd`: the user's own bind over LDAPS and
//! StartTLS, groups mapped to roles and a department, a wrong password, a disabled directory
//! account, the directory down or answering nonsense (clear error, local IDs still sign in),
//! injection characters, and the local break-glass administrator.

use crate::helpers::{Client, PASSWORD, TestApp, assert_error};
use crate::slapd::{self, SATO_PASSWORD, SUZUKI_PASSWORD, Slapd, TANAKA_PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Town {
    app: TestApp,
    org: String,
    admin: Client,
    soumu: String,
}

async fn town() -> Town {
    let app = TestApp::spawn_with(|c| {
        // Second factors have their own suite; one test below turns them on for a role.
        c.mfa.devices = vec![];
    })
    .await;
    let org = app.create_org("dir-town", "連携町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    for login in ["tanaka", "sato", "suzuki"] {
        app.create_user(&org, login, &["staff"]).await;
    }
    let admin = app.signed_in("admin.one").await;
    let (s, d) = admin
        .post(
            &format!("/api/v1/orgs/{org}/departments"),
            json!({ "name": "総務課" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let soumu = d["id"].as_str().unwrap().to_owned();
    Town {
        app,
        org,
        admin,
        soumu,
    }
}

impl Town {
    async fn configure(&self, settings: Value) -> (StatusCode, Value) {
        self.admin
            .send(
                Method::PUT,
                &format!("/api/v1/orgs/{}/directory-sign-in", self.org),
                Some(settings),
            )
            .await
    }

    async fn mapped(&self, ldap: &Slapd) -> Value {
        ldap.settings(json!({
            "role_groups": [{ "group": slapd::group_dn("kairan-section-heads"), "role": "section_head" }],
            "department_groups": [{ "group": slapd::group_dn("soumu"), "department_id": self.soumu }],
        }))
    }

    async fn user_id(&self, login: &str) -> String {
        let (_, users) = self
            .admin
            .get(&format!("/api/v1/orgs/{}/users", self.org))
            .await;
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["login_id"] == login)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn use_directory(&self, login: &str) -> (StatusCode, Value) {
        let id = self.user_id(login).await;
        self.admin
            .send(
                Method::PUT,
                &format!("/api/v1/users/{id}/sign-in-method"),
                Some(json!({ "method": "directory" })),
            )
            .await
    }

    async fn failures(&self) -> Vec<Value> {
        let mut conn = self.app.state().store.read().await.unwrap();
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT details FROM audit_log WHERE action = 'auth.sign_in_failed' ORDER BY seq",
        )
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        rows.into_iter()
            .map(|(d,)| serde_json::from_str(&d).unwrap())
            .collect()
    }
}

async fn try_sign_in(app: &TestApp, login: &str, password: &str) -> (Client, (StatusCode, Value)) {
    let mut c = app.client();
    let r = c.sign_in(login, password).await;
    (c, r)
}

#[tokio::test]
async fn a_directory_id_signs_in_with_its_directory_password_and_takes_its_groups() {
    let ldap = Slapd::start().await;
    let t = town().await;
    // No directory yet: nobody can be moved to it.
    assert_error(
        &t.use_directory("tanaka").await,
        StatusCode::CONFLICT,
        "directory_not_configured",
    );
    let (s, v) = t.configure(t.mapped(&ldap).await).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Staff cannot read or change the settings.
    let staff = t.app.signed_in("suzuki").await;
    assert_error(
        &staff
            .get(&format!("/api/v1/orgs/{}/directory-sign-in", t.org))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    // suzuki holds 課長 in Kairan today; the directory does not say so.
    let suzuki = t.user_id("suzuki").await;
    let r = t
        .admin
        .post(
            &format!("/api/v1/users/{suzuki}/roles"),
            json!({ "role": "section_head" }),
        )
        .await;
    assert!(r.0.is_success(), "{}", r.1);
    for login in ["tanaka", "sato", "suzuki"] {
        let (s, v) = t.use_directory(login).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    // The moved ID's sessions ended.
    assert_eq!(staff.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);

    // Kairan's old password no longer works; the directory's does.
    let (_, r) = try_sign_in(&t.app, "tanaka", PASSWORD).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "sign_in_failed");
    let (tanaka, r) = try_sign_in(&t.app, "tanaka", TANAKA_PASSWORD).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let (_, me) = tanaka.get("/api/v1/me").await;
    assert_eq!(me["sign_in_method"], "directory");
    assert_eq!(me["department_id"], t.soumu.as_str());
    let mut roles: Vec<&str> = me["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    roles.sort_unstable();
    assert_eq!(roles, ["section_head", "staff"]);
    // The directory keeps the password: Kairan neither changes nor resets it.
    assert_error(
        &tanaka
            .post(
                "/api/v1/me/password",
                json!({ "current_password": TANAKA_PASSWORD, "new_password": "another long pass phrase 2026" }),
            )
            .await,
        StatusCode::CONFLICT,
        "password_in_directory",
    );
    let tanaka_id = t.user_id("tanaka").await;
    assert_error(
        &t.admin
            .post(
                &format!("/api/v1/users/{tanaka_id}/reset-password"),
                json!({}),
            )
            .await,
        StatusCode::CONFLICT,
        "password_in_directory",
    );

    // suzuki is in 総務課 but not a section head in the directory: the role goes.
    let (suzuki_c, r) = try_sign_in(&t.app, "suzuki", SUZUKI_PASSWORD).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let (_, me) = suzuki_c.get("/api/v1/me").await;
    assert_eq!(me["roles"], json!(["staff"]));
    assert_eq!(me["department_id"], t.soumu.as_str());

    // sato's directory account is disabled: the right password is refused.
    let (_, r) = try_sign_in(&t.app, "sato", SATO_PASSWORD).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "sign_in_failed");
    // An empty password would be an anonymous bind that LDAP servers accept.
    let (_, r) = try_sign_in(&t.app, "tanaka", "").await;
    assert_ne!(r.0, StatusCode::OK, "{}", r.1);

    let reasons: Vec<String> = t
        .failures()
        .await
        .iter()
        .map(|d| d["reason"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        reasons.contains(&"directory_refused".to_owned()),
        "{reasons:?}"
    );
    let mut conn = t.app.state().store.read().await.unwrap();
    let synced: Vec<(String, String)> = sqlx::query_as(
        "SELECT target_id, details FROM audit_log WHERE action = 'directory.synced' ORDER BY seq",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let tanaka_sync: Value = serde_json::from_str(
        &synced
            .iter()
            .find(|(id, _)| *id == tanaka_id)
            .expect("tanaka's roles were recorded")
            .1,
    )
    .unwrap();
    assert_eq!(tanaka_sync["roles_added"], json!(["section_head"]));
    assert_eq!(tanaka_sync["department"], t.soumu.as_str());
    let suzuki_sync: Value =
        serde_json::from_str(&synced.iter().find(|(id, _)| *id == suzuki).unwrap().1).unwrap();
    assert_eq!(suzuki_sync["roles_removed"], json!(["section_head"]));
    drop(conn);
    t.app.stop().await;
}

#[tokio::test]
async fn wrong_directory_passwords_lock_the_id_and_the_second_factor_still_applies() {
    let ldap = Slapd::start().await;
    let t = town().await;
    t.configure(t.mapped(&ldap).await).await;
    t.use_directory("tanaka").await;
    // 課長 must use a second factor in this body; the directory's groups make tanaka one.
    let (s, v) = t
        .admin
        .send(
            Method::PUT,
            &format!("/api/v1/orgs/{}/mfa-policy", t.org),
            Some(json!({ "roles": ["section_head"], "devices": [] })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut c = t.app.client();
    let r = c.sign_in_password("tanaka", TANAKA_PASSWORD).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    assert_eq!(r.1["mfa"], "enrol", "{}", r.1);
    // Adding the app later asks for the password again: the directory answers that too.
    c.enrol_totp("tanaka").await;
    let (s, _) = c.get("/api/v1/me").await;
    assert_eq!(s, StatusCode::OK);

    // Five wrong passwords (the staff threshold) lock the ID in Kairan; then even the right
    // one is refused without asking the directory.
    for _ in 0..5 {
        let (_, r) = try_sign_in(&t.app, "tanaka", "not the directory password").await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "sign_in_failed");
    }
    let mut c = t.app.client();
    let r = c.sign_in_password("tanaka", TANAKA_PASSWORD).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "sign_in_failed");
    let last = t.failures().await.pop().unwrap();
    assert_eq!(last["reason"], "locked");
    t.app.stop().await;
}

#[tokio::test]
async fn starttls_works_and_a_connection_that_would_send_the_password_in_clear_is_refused() {
    let ldap = Slapd::start().await;
    let t = town().await;
    let plain = ldap.settings(json!({ "url": ldap.ldap_url() }));
    let (s, v) = t.configure(plain).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"]["message_ja"]
            .as_str()
            .unwrap()
            .contains("StartTLS")
    );
    for (field, bad) in [
        (
            "bind_dn",
            json!("uid=fixed,ou=people,dc=example,dc=lg,dc=jp"),
        ),
        ("user_filter", json!("(uid={login}")),
        ("user_filter", json!("(uid={login})(")),
        (
            "ca_pem",
            json!("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"),
        ),
        ("timeout_seconds", json!(0)),
    ] {
        let (s, v) = t.configure(ldap.settings(json!({ field: bad }))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {v}");
    }
    // A privileged role never comes from a directory group.
    let admins = ldap.settings(json!({
        "role_groups": [{ "group": slapd::group_dn("kairan-section-heads"), "role": "admin" }],
    }));
    assert_eq!(
        t.configure(admins).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let starttls = ldap.settings(json!({ "url": ldap.ldap_url(), "starttls": true }));
    let (s, v) = t.configure(starttls).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    t.use_directory("tanaka").await;
    let (_, r) = try_sign_in(&t.app, "tanaka", TANAKA_PASSWORD).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    t.app.stop().await;
}

#[tokio::test]
async fn a_directory_that_is_down_untrusted_silent_or_talking_nonsense_fails_closed() {
    let mut ldap = Slapd::start().await;
    let other = Slapd::start().await;
    let t = town().await;
    t.configure(t.mapped(&ldap).await).await;
    t.use_directory("tanaka").await;
    let (_, r) = try_sign_in(&t.app, "tanaka", TANAKA_PASSWORD).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);

    // Down: a clear error for directory IDs; the local administrator still signs in.
    ldap.stop();
    let (_, r) = try_sign_in(&t.app, "tanaka", TANAKA_PASSWORD).await;
    assert_error(&r, StatusCode::SERVICE_UNAVAILABLE, "directory_unavailable");
    assert!(
        r.1["error"]["message_ja"]
            .as_str()
            .unwrap()
            .contains("ディレクトリ")
    );
    let (_, r) = try_sign_in(&t.app, "admin.one", PASSWORD).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let last = t.failures().await.pop().unwrap();
    assert_eq!(last["reason"], "directory_unavailable");
    ldap.resume().await;
    let (_, r) = try_sign_in(&t.app, "tanaka", TANAKA_PASSWORD).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);

    // A certificate from a CA the body did not name: no bind, no password sent.
    let (s, _) = t
        .configure(ldap.settings(json!({ "ca_pem": other.ca_pem })))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, r) = try_sign_in(&t.app, "tanaka", TANAKA_PASSWORD).await;
    assert_error(&r, StatusCode::SERVICE_UNAVAILABLE, "directory_unavailable");

    // A server that accepts the connection and never answers: the body's timeout ends it.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            open.push(s);
        }
    });
    let (s, _) = t
        .configure(ldap.settings(json!({
            "url": format!("ldap://127.0.0.1:{silent_port}"),
            "starttls": true,
            "timeout_seconds": 1,
        })))
        .await;
    assert_eq!(s, StatusCode::OK);
    let started = std::time::Instant::now();
    let (_, r) = try_sign_in(&t.app, "tanaka", TANAKA_PASSWORD).await;
    assert_error(&r, StatusCode::SERVICE_UNAVAILABLE, "directory_unavailable");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    held.abort();

    // A server answering bytes that are not LDAP.
    let noisy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let noisy_port = noisy.local_addr().unwrap().port();
    let talker = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = noisy.accept().await {
            let mut buf = [0u8; 256];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"\x30\x84\xff\xff\xff\xff\x02\x01garbage that is not BER")
                .await;
        }
    });
    t.configure(ldap.settings(json!({
        "url": format!("ldap://127.0.0.1:{noisy_port}"),
        "starttls": true,
        "timeout_seconds": 2,
    })))
    .await;
    let (_, r) = try_sign_in(&t.app, "tanaka", TANAKA_PASSWORD).await;
    assert_error(&r, StatusCode::SERVICE_UNAVAILABLE, "directory_unavailable");
    talker.abort();

    // The settings removed: directory IDs fail closed, local ones are untouched.
    let (s, _) = t
        .admin
        .delete(&format!("/api/v1/orgs/{}/directory-sign-in", t.org))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, r) = try_sign_in(&t.app, "tanaka", TANAKA_PASSWORD).await;
    assert_error(&r, StatusCode::SERVICE_UNAVAILABLE, "directory_unavailable");
    let (_, r) = try_sign_in(&t.app, "admin.one", PASSWORD).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let causes: Vec<Value> = t
        .failures()
        .await
        .iter()
        .map(|d| d["cause"].clone())
        .collect();
    assert_eq!(
        causes,
        json!([
            "connect_failed",
            "tls_refused",
            "timeout",
            "protocol",
            "not_configured"
        ])
        .as_array()
        .unwrap()
        .clone()
    );
    t.app.stop().await;
}

#[tokio::test]
async fn injection_characters_never_reach_the_directory_as_filter_or_dn_syntax() {
    let ldap = Slapd::start().await;
    let t = town().await;
    t.configure(t.mapped(&ldap).await).await;
    t.use_directory("tanaka").await;
    for login in [
        "*",
        "tanaka)(uid=*",
        "tanaka*",
        "tanaka,ou=people",
        "uid=tanaka",
        "tanaka\u{0}",
        "*)(|(uid=*",
        "tanaka\\2a",
    ] {
        let (_, r) = try_sign_in(&t.app, login, TANAKA_PASSWORD).await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "sign_in_failed");
    }
    // A user filter written with the ID in it still matches only that one entry.
    let (s, _) = t
        .configure(ldap.settings(json!({ "user_filter": "(|(uid={login})(cn=Tanaka*))" })))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, r) = try_sign_in(&t.app, "tanaka", TANAKA_PASSWORD).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    // A filter that matches several people does not pick one of them.
    let (s, _) = t
        .configure(
            ldap.settings(json!({ "user_filter": "(|(uid={login})(objectClass=inetOrgPerson))" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, r) = try_sign_in(&t.app, "tanaka", TANAKA_PASSWORD).await;
    assert_error(&r, StatusCode::SERVICE_UNAVAILABLE, "directory_unavailable");
    let last = t.failures().await.pop().unwrap();
    assert_eq!(last["cause"], "ambiguous_entry");
    t.app.stop().await;
}

#[tokio::test]
async fn the_last_local_administrator_stays_local_and_an_id_can_come_back_to_a_local_password() {
    let ldap = Slapd::start().await;
    let t = town().await;
    t.configure(t.mapped(&ldap).await).await;
    let admin_id = t.user_id("admin.one").await;
    let to_directory = json!({ "method": "directory" });
    let r = t
        .admin
        .send(
            Method::PUT,
            &format!("/api/v1/users/{admin_id}/sign-in-method"),
            Some(to_directory.clone()),
        )
        .await;
    assert_error(&r, StatusCode::CONFLICT, "last_local_admin");
    assert_error(
        &t.admin
            .send(
                Method::PUT,
                &format!("/api/v1/users/{admin_id}/sign-in-method"),
                Some(json!({ "method": "kerberos" })),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );

    // tanaka goes to the directory and back: a temporary password, changed at sign-in, and
    // the directory password no longer works.
    t.use_directory("tanaka").await;
    let tanaka = t.user_id("tanaka").await;
    let (s, v) = t
        .admin
        .send(
            Method::PUT,
            &format!("/api/v1/users/{tanaka}/sign-in-method"),
            Some(json!({ "method": "local" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let temporary = v["temporary_password"].as_str().unwrap().to_owned();
    let (_, r) = try_sign_in(&t.app, "tanaka", TANAKA_PASSWORD).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "sign_in_failed");
    let (c, r) = try_sign_in(&t.app, "tanaka", &temporary).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let (_, me) = c.get("/api/v1/me").await;
    assert_eq!(me["must_change_password"], true);
    assert_eq!(me["sign_in_method"], "local");

    // Another body's administrator cannot touch this body's IDs.
    let other = t.app.create_org("other-town", "他町").await;
    t.app.create_user(&other, "admin.other", &["admin"]).await;
    let stranger = t.app.signed_in("admin.other").await;
    let r = stranger
        .send(
            Method::PUT,
            &format!("/api/v1/users/{tanaka}/sign-in-method"),
            Some(to_directory),
        )
        .await;
    assert!(
        r.0 == StatusCode::FORBIDDEN || r.0 == StatusCode::NOT_FOUND,
        "{:?}",
        r
    );
    assert_error(
        &stranger
            .send(
                Method::PUT,
                &format!("/api/v1/orgs/{}/directory-sign-in", t.org),
                Some(ldap.settings(json!({}))),
            )
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    t.app.stop().await;
}
