//! Sign-in, forced password change, password rules, lockout, sessions and CSRF (I2, I4).

use crate::helpers::{PASSWORD, TestApp, assert_error};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_new_user_must_change_the_temporary_password_before_doing_anything_else() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    let (_, temp) = app.create_user_temp(&org, "new.person", &["staff"]).await;
    let mut c = app.client();
    let (s, v) = c.sign_in("new.person", &temp).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["must_change_password"], true);
    assert_error(
        &c.get(&format!("/api/v1/orgs/{org}/directory")).await,
        StatusCode::FORBIDDEN,
        "password_change_required",
    );
    let r = c
        .post(
            "/api/v1/me/password",
            json!({ "current_password": temp, "new_password": PASSWORD }),
        )
        .await;
    assert_eq!(r.0, StatusCode::NO_CONTENT, "{}", r.1);
    assert_eq!(
        c.get(&format!("/api/v1/orgs/{org}/directory")).await.0,
        StatusCode::OK
    );
    app.stop().await;
}

#[tokio::test]
async fn password_rules_are_enforced_with_a_named_error() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "hanako.sato", &["staff"]).await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    let c = app.signed_in("hanako.sato").await;
    let change = |new: &str| json!({ "current_password": PASSWORD, "new_password": new });
    assert_error(
        &c.post("/api/v1/me/password", change("short one")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_too_short",
    );
    assert_error(
        &c.post("/api/v1/me/password", change("password12345678"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_common",
    );
    assert_error(
        &c.post("/api/v1/me/password", change("hanako.sato is my password"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_contains_personal_info",
    );
    assert_error(
        &c.post(
            "/api/v1/me/password",
            json!({ "current_password": "wrong", "new_password": "a much longer pass phrase" }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_current_wrong",
    );
    // The current password is one of the last five.
    assert_error(
        &c.post("/api/v1/me/password", change(PASSWORD)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_reused",
    );
    // 15 characters is enough for staff, not for a privileged ID.
    let fifteen = "kT9vQ2mR7wZ4pLx";
    assert_eq!(
        c.post("/api/v1/me/password", change(fifteen)).await.0,
        StatusCode::NO_CONTENT
    );
    let admin = app.signed_in("admin.one").await;
    assert_error(
        &admin.post("/api/v1/me/password", change(fifteen)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_too_short",
    );
    app.stop().await;
}

#[tokio::test]
async fn sign_in_gives_the_same_answer_for_an_unknown_id_and_a_wrong_password() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "real.person", &["staff"]).await;
    let mut c = app.client();
    let unknown = c.sign_in("nobody.here", "whatever password").await;
    let wrong = c.sign_in("real.person", "whatever password").await;
    assert_error(&unknown, StatusCode::UNAUTHORIZED, "sign_in_failed");
    assert_eq!(unknown, wrong);
    app.stop().await;
}

#[tokio::test]
async fn five_failures_lock_a_staff_id_and_three_lock_a_privileged_id() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "staff.person", &["staff"]).await;
    app.create_user(&org, "audit.person", &["auditor"]).await;
    let mut c = app.client();
    for _ in 0..4 {
        c.sign_in("staff.person", "wrong password").await;
    }
    assert_eq!(
        c.sign_in("staff.person", PASSWORD).await.0,
        StatusCode::OK,
        "4 failures do not lock"
    );
    let mut c = app.client();
    for _ in 0..5 {
        c.sign_in("staff.person", "wrong password").await;
    }
    // Locked: even the right password fails, with the same answer as any failure.
    assert_error(
        &c.sign_in("staff.person", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "sign_in_failed",
    );
    for _ in 0..3 {
        c.sign_in("audit.person", "wrong password").await;
    }
    assert_error(
        &c.sign_in("audit.person", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "sign_in_failed",
    );
    // An administrator's reset clears the lock.
    app.create_user(&org, "admin.one", &["admin"]).await;
    let admin = app.signed_in("admin.one").await;
    let (_, list) = admin.get(&format!("/api/v1/orgs/{org}/users")).await;
    let locked = list
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login_id"] == "staff.person")
        .unwrap()
        .clone();
    assert_eq!(locked["locked"], true);
    let (_, reset) = admin
        .post(
            &format!(
                "/api/v1/users/{}/reset-password",
                locked["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    let temp = reset["temporary_password"].as_str().unwrap();
    assert_eq!(
        app.client().sign_in("staff.person", temp).await.0,
        StatusCode::OK
    );
    app.stop().await;
}

#[tokio::test]
async fn after_sign_in_the_user_sees_the_previous_sign_in_and_the_failures_since() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "hanako.sato", &["staff"]).await;
    let first = app.signed_in("hanako.sato").await;
    let (_, me) = first.get("/api/v1/me").await;
    assert_eq!(me["previous_sign_in_at"], serde_json::Value::Null);
    assert_eq!(me["failed_attempts_since"], 0);
    let mut c = app.client();
    c.sign_in("hanako.sato", "not my password").await;
    c.sign_in("hanako.sato", "not my password either").await;
    c.sign_in("hanako.sato", PASSWORD).await;
    let (_, me) = c.get("/api/v1/me").await;
    assert!(me["previous_sign_in_at"].as_i64().is_some());
    assert_eq!(me["failed_attempts_since"], 2);
    let (s, html) = c.get_text("/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("前回のサインイン"), "{html}");
    assert!(html.contains("data-testid=\"failed-since\">2<"), "{html}");
    app.stop().await;
}

#[tokio::test]
async fn a_user_sees_their_sessions_and_can_sign_one_out() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "hanako.sato", &["staff"]).await;
    let phone = app.signed_in("hanako.sato").await;
    let pc = app.signed_in("hanako.sato").await;
    let (s, list) = pc.get("/api/v1/me/sessions").await;
    assert_eq!(s, StatusCode::OK);
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(
        list.iter().all(|s| s["ip"] == "127.0.0.1"
            && s["started_at"].is_i64()
            && s["last_seen_at"].is_i64())
    );
    let other = list.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        pc.delete(&format!("/api/v1/me/sessions/{other}")).await.0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &phone.get("/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_eq!(pc.get("/api/v1/me").await.0, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn nobody_can_end_another_users_session() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "hanako.sato", &["staff"]).await;
    app.create_user(&org, "taro.suzuki", &["staff"]).await;
    let hanako = app.signed_in("hanako.sato").await;
    let taro = app.signed_in("taro.suzuki").await;
    let (_, list) = hanako.get("/api/v1/me/sessions").await;
    let id = list[0]["id"].as_str().unwrap().to_owned();
    assert_error(
        &taro.delete(&format!("/api/v1/me/sessions/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(hanako.get("/api/v1/me").await.0, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn an_idle_session_ends_after_the_configured_timeout() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    let user = app.create_user(&org, "hanako.sato", &["staff"]).await;
    let c = app.signed_in("hanako.sato").await;
    assert_eq!(c.get("/api/v1/me").await.0, StatusCode::OK);
    // Move the session's last activity back past the 30-minute default.
    let mut tx = app.state().store.write().await.unwrap();
    let past = kairan_store::now_us() - 31 * 60 * 1_000_000;
    for s in kairan_store::sessions::live_for_user(tx.conn(), &user)
        .await
        .unwrap()
    {
        kairan_store::sessions::touch(tx.conn(), &s.id, past)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    assert_error(
        &c.get("/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let page = c.http.get(app.url("/")).send().await.unwrap();
    assert_eq!(
        page.status(),
        StatusCode::SEE_OTHER,
        "pages send the person back to sign in"
    );
    assert_eq!(page.headers()["location"], "/login");
    app.stop().await;
}

#[tokio::test]
async fn unsafe_requests_without_the_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    let mut c = app.signed_in("admin.one").await;
    let body = json!({ "name": "企画課" });
    let path = format!("/api/v1/orgs/{org}/departments");
    let good = c.csrf.clone();
    c.csrf = "0".repeat(64);
    assert_error(
        &c.post(&path, body.clone()).await,
        StatusCode::FORBIDDEN,
        "csrf_failed",
    );
    c.csrf = String::new();
    assert_error(
        &c.post(&path, body.clone()).await,
        StatusCode::FORBIDDEN,
        "csrf_failed",
    );
    // A cross-site form post with a forged Origin is refused even with the right token.
    let r = c
        .http
        .post(app.url(&path))
        .header("x-csrf-token", &good)
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    c.csrf = good;
    assert_eq!(c.post(&path, body).await.0, StatusCode::CREATED);
    app.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_large_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    let c = app.signed_in("admin.one").await;
    let path = format!("/api/v1/orgs/{org}/users");
    assert_error(
        &c.post(&path, json!({ "login_id": "ok.id" })).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    let r = c
        .post(
            &path,
            json!({ "login_id": "<script>", "display_name": "x", "kana": "エックス" }),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert!(
        r.1["error"]["message_ja"]
            .as_str()
            .unwrap()
            .contains("ログインID")
    );
    let r = c
        .post(
            &path,
            json!({ "login_id": "ok.id", "display_name": "x", "kana": "Latin" }),
        )
        .await;
    assert!(
        r.1["error"]["message_ja"]
            .as_str()
            .unwrap()
            .contains("フリガナ")
    );
    let huge = "あ".repeat(100_000);
    assert_error(
        &c.post(
            &path,
            json!({ "login_id": "ok.id", "display_name": huge, "kana": "エ" }),
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    app.stop().await;
}

#[tokio::test]
async fn an_administrator_manages_staff_ids_end_to_end() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    let admin = app.signed_in("admin.one").await;
    let (s, dept) = admin
        .post(
            &format!("/api/v1/orgs/{org}/departments"),
            json!({ "name": "情報政策課" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_error(
        &admin
            .post(
                &format!("/api/v1/orgs/{org}/departments"),
                json!({ "name": "情報政策課" }),
            )
            .await,
        StatusCode::CONFLICT,
        "department_exists",
    );
    let (s, issued) = admin
        .post(
            &format!("/api/v1/orgs/{org}/users"),
            json!({ "login_id": "Kenta.Hayashi", "display_name": "林 健太", "kana": "はやし けんた", "department_id": dept["id"], "roles": ["staff"] }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{issued}");
    let user = issued["user_id"].as_str().unwrap().to_owned();
    let temp = issued["temporary_password"].as_str().unwrap().to_owned();
    assert_error(
        &admin
            .post(
                &format!("/api/v1/orgs/{org}/users"),
                json!({ "login_id": "kenta.hayashi", "display_name": "林", "kana": "ハヤシ" }),
            )
            .await,
        StatusCode::CONFLICT,
        "login_id_taken",
    );
    let (_, list) = admin.get(&format!("/api/v1/orgs/{org}/users")).await;
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == user.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["login_id"], "kenta.hayashi");
    assert_eq!(row["kana"], "ハヤシ　ケンタ");
    assert_eq!(row["must_change_password"], true);

    assert_eq!(
        admin
            .post(
                &format!("/api/v1/users/{user}/roles"),
                json!({ "role": "section_head" })
            )
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &admin
            .post(
                &format!("/api/v1/users/{user}/roles"),
                json!({ "role": "king" }),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    assert_eq!(
        admin
            .delete(&format!("/api/v1/users/{user}/roles/staff"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );

    // Sign-in works with the temporary password; suspension ends that session at once.
    let mut person = app.client();
    assert_eq!(
        person.sign_in("kenta.hayashi", &temp).await.0,
        StatusCode::OK
    );
    assert_eq!(
        admin
            .post(&format!("/api/v1/users/{user}/suspend"), json!({}))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &person.get("/api/v1/me").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_error(
        &person.sign_in("kenta.hayashi", &temp).await,
        StatusCode::UNAUTHORIZED,
        "sign_in_failed",
    );
    assert_error(
        &admin
            .post(&format!("/api/v1/users/{user}/suspend"), json!({}))
            .await,
        StatusCode::CONFLICT,
        "already_suspended",
    );
    assert_eq!(
        admin
            .post(&format!("/api/v1/users/{user}/reactivate"), json!({}))
            .await
            .0,
        StatusCode::NO_CONTENT
    );

    let (s, reset) = admin
        .post(&format!("/api/v1/users/{user}/reset-password"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let new_temp = reset["temporary_password"].as_str().unwrap();
    assert_ne!(new_temp, temp);
    let mut person = app.client();
    assert_error(
        &person.sign_in("kenta.hayashi", &temp).await,
        StatusCode::UNAUTHORIZED,
        "sign_in_failed",
    );
    let (s, v) = person.sign_in("kenta.hayashi", new_temp).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["must_change_password"], true);
    app.stop().await;
}

#[tokio::test]
async fn the_sign_in_page_is_japanese_with_the_banner_and_english_on_request() {
    let app =
        TestApp::spawn_with(|c| c.login.banner_ja = "許可された職員以外の利用を禁じます。".into())
            .await;
    let c = app.client();
    let (s, html) = c.get_text("/login").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("許可された職員以外の利用を禁じます。"));
    assert!(html.contains("サインイン"));
    let r = c
        .http
        .get(app.url("/lang/en?next=/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = c.get_text("/login").await;
    assert!(
        html.contains("<html lang=\"en\">") && html.contains("Sign in"),
        "{html}"
    );
    // The language switch only returns to local pages.
    let r = c
        .http
        .get(app.url("/lang/ja?next=//evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/");
    app.stop().await;
}

#[tokio::test]
async fn a_bodys_own_password_rules_apply_to_its_staff() {
    let app = TestApp::spawn().await;
    let org = app.create_org("strict-town", "厳格町").await;
    let mut rules = serde_json::Map::new();
    rules.insert("min_length".into(), 20.into());
    kairan_server::services::admin::set_password_policy(
        app.state(),
        &kairan_domain::policy::Actor::Operator,
        &org,
        rules,
    )
    .await
    .unwrap();
    app.create_user(&org, "hanako.sato", &["staff"]).await;
    let c = app.signed_in("hanako.sato").await;
    let change = |new: &str| json!({ "current_password": PASSWORD, "new_password": new });
    let r = c
        .post("/api/v1/me/password", change("kT9vQ2mR7wZ4pLxa"))
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "password_too_short");
    assert!(
        r.1["error"]["message_ja"]
            .as_str()
            .unwrap()
            .contains("20文字以上")
    );
    assert_eq!(
        c.post("/api/v1/me/password", change("kT9vQ2mR7wZ4pLxa-longer"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    app.stop().await;
}
