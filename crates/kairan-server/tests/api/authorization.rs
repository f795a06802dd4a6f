//! Walks every cell of `docs/authorization.md` through the real HTTP API: each role × each
//! action × own body and another body. The same table drives the policy's unit test, so the
//! document, the code and the behaviour agree.

use crate::helpers::{Client, TestApp, assert_error};
use kairan_domain::Role;
use kairan_domain::policy::Actor;
use kairan_domain::policy::{Action, Cell, parse_matrix};
use kairan_server::services::admin;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::HashMap;

const MATRIX: &str = include_str!("../../../../docs/authorization.md");

struct Body {
    id: String,
    clients: HashMap<Role, Client>,
}

async fn body(app: &TestApp, code: &str) -> Body {
    let id = app.create_org(code, "試験団体").await;
    let mut clients = HashMap::new();
    for role in Role::ALL {
        let login = format!("{}.{}", code, role.code().replace('_', "-"));
        app.create_user(&id, &login, &[role.code()]).await;
        clients.insert(role, app.signed_in(&login).await);
    }
    Body { id, clients }
}

/// A fresh staff member of `org` in the state the action needs.
async fn victim(app: &TestApp, org: &str, n: usize, action: Action) -> String {
    let id = app
        .create_user(org, &format!("victim{n}.x"), &["staff"])
        .await;
    if action == Action::ReactivateUser {
        admin::set_active(app.state(), &Actor::Operator, &id, false)
            .await
            .unwrap();
    }
    if action == Action::ResetMfa {
        app.signed_in(&format!("victim{n}.x"))
            .await
            .enrol_totp(&format!("victim{n}.x"))
            .await;
    }
    id
}

/// The request that exercises `action` on body `org`; `peer` is another body (for a group
/// shared with it).
fn request(
    action: Action,
    org: &str,
    peer: &str,
    victim: &str,
    n: usize,
) -> (Method, String, Option<serde_json::Value>) {
    use Method as M;
    match action {
        Action::ViewDirectory => (M::GET, format!("/api/v1/orgs/{org}/directory"), None),
        Action::CreateDepartment => (
            M::POST,
            format!("/api/v1/orgs/{org}/departments"),
            Some(json!({ "name": format!("部署{n}") })),
        ),
        Action::ViewUsers => (M::GET, format!("/api/v1/orgs/{org}/users"), None),
        Action::CreateUser => (
            M::POST,
            format!("/api/v1/orgs/{org}/users"),
            Some(
                json!({ "login_id": format!("made{n}.x"), "display_name": "新規 職員", "kana": "シンキ ショクイン" }),
            ),
        ),
        Action::SuspendUser => (
            M::POST,
            format!("/api/v1/users/{victim}/suspend"),
            Some(json!({})),
        ),
        Action::ReactivateUser => (
            M::POST,
            format!("/api/v1/users/{victim}/reactivate"),
            Some(json!({})),
        ),
        Action::ResetPassword => (
            M::POST,
            format!("/api/v1/users/{victim}/reset-password"),
            Some(json!({})),
        ),
        Action::GrantRole => (
            M::POST,
            format!("/api/v1/users/{victim}/roles"),
            Some(json!({ "role": "section_head" })),
        ),
        Action::RevokeRole => (
            M::DELETE,
            format!("/api/v1/users/{victim}/roles/staff"),
            None,
        ),
        Action::ReadAuditLog => (M::GET, format!("/api/v1/orgs/{org}/audit"), None),
        Action::ListPrivileged => (M::GET, format!("/api/v1/orgs/{org}/privileged"), None),
        Action::ConfigureProtection => (
            M::PUT,
            format!("/api/v1/orgs/{org}/protection"),
            Some(json!({ "keywords": ["秘", format!("取扱注意{n}")] })),
        ),
        Action::ViewDlpEvents => (M::GET, format!("/api/v1/orgs/{org}/dlp-events"), None),
        Action::ReviewContent => (M::GET, format!("/api/v1/orgs/{org}/talks"), None),
        Action::ResetMfa => (
            M::POST,
            format!("/api/v1/users/{victim}/reset-mfa"),
            Some(json!({ "reason": "スマートフォン紛失の届出を受けたため" })),
        ),
        Action::ManageDevices => (M::GET, format!("/api/v1/orgs/{org}/devices"), None),
        Action::ConfigureSignIn => (
            M::PUT,
            format!("/api/v1/orgs/{org}/mfa-policy"),
            Some(json!({ "roles": ["section_head"], "devices": ["internet_device"] })),
        ),
        Action::ApplyGuest => (
            M::POST,
            format!("/api/v1/orgs/{org}/applications"),
            Some(json!({ "kind": "guest", "fields": crate::applications::guest_fields(n) })),
        ),
        Action::ApplyGroup => (
            M::POST,
            format!("/api/v1/orgs/{org}/applications"),
            Some(
                json!({ "kind": "inter_org_group", "fields": crate::groups::group_fields(n, peer, &[]) }),
            ),
        ),
        Action::DecideApplication => (
            M::GET,
            format!("/api/v1/orgs/{org}/applications?view=queue"),
            None,
        ),
    }
}

#[tokio::test]
async fn every_role_action_and_body_behaves_as_documented() {
    let app = TestApp::spawn().await;
    let own = body(&app, "own").await;
    let other = body(&app, "other").await;
    let cells = parse_matrix(MATRIX).unwrap();
    assert_eq!(cells.len(), Action::ALL.len() * Role::ALL.len());
    let mut n = 0;
    let mut failures = Vec::new();
    for (action, role, cell) in cells {
        for (target, expect_allowed) in [(&own, cell == Cell::Own), (&other, false)] {
            n += 1;
            let victim = victim(&app, &target.id, n, action).await;
            let peer = if std::ptr::eq(target, &own) {
                &other.id
            } else {
                &own.id
            };
            let (method, path, body) = request(action, &target.id, peer, &victim, n);
            let client = &own.clients[&role];
            let (status, v) = client.send(method, &path, body).await;
            let ok = if expect_allowed {
                status.is_success()
            } else {
                status == StatusCode::FORBIDDEN && v["error"]["code"] == "forbidden"
            };
            if !ok {
                let side = if std::ptr::eq(target, &own) {
                    "own"
                } else {
                    "other"
                };
                failures.push(format!(
                    "{} as {} on {side} body: {status} {v}",
                    action.code(),
                    role.code()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} cells differ from docs/authorization.md:\n{}",
        failures.len(),
        failures.join("\n")
    );
    app.stop().await;
}

#[tokio::test]
async fn an_administrator_cannot_grant_themselves_a_role_or_reset_their_own_password() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    let me = app.create_user(&org, "admin.one", &["admin"]).await;
    let c = app.signed_in("admin.one").await;
    assert_error(
        &c.post(
            &format!("/api/v1/users/{me}/roles"),
            json!({ "role": "auditor" }),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden_on_self",
    );
    assert_error(
        &c.post(&format!("/api/v1/users/{me}/reset-password"), json!({}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden_on_self",
    );
    assert_error(
        &c.post(&format!("/api/v1/users/{me}/suspend"), json!({}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden_on_self",
    );
    let (_, roles) = c.get("/api/v1/me").await;
    assert_eq!(roles["roles"], json!(["admin"]));
    app.stop().await;
}

#[tokio::test]
async fn signed_out_callers_get_401_everywhere_in_the_api() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    let c = app.client();
    for path in [
        "/api/v1/me",
        &format!("/api/v1/orgs/{org}/users"),
        &format!("/api/v1/orgs/{org}/audit"),
    ] {
        assert_error(
            &c.get(path).await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        );
    }
    app.stop().await;
}
