//! Health, readiness, metrics, OpenAPI and security headers.

use crate::helpers::TestApp;
use reqwest::StatusCode;

#[tokio::test]
async fn health_and_readiness_answer_and_readiness_checks_the_database() {
    let app = TestApp::spawn().await;
    let c = app.client();
    assert_eq!(c.get_text("/healthz").await, (StatusCode::OK, "ok".into()));
    assert_eq!(
        c.get_text("/readyz").await,
        (StatusCode::OK, "ready".into())
    );
    app.state().store.close().await;
    assert_eq!(
        c.get_text("/readyz").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    app.stop().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_not_by_raw_path() {
    let app = TestApp::spawn().await;
    let c = app.client();
    c.get_text("/healthz").await;
    c.get_text("/api/v1/orgs/some-secret-id/users").await;
    let (s, text) = c.get_text("/metrics").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        text.contains(
            "kairan_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("route=\"/api/v1/orgs/{org}/users\""),
        "{text}"
    );
    assert!(!text.contains("some-secret-id"));
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let app = TestApp::spawn().await;
    let (s, doc) = app.client().get("/api/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        doc["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3.")
    );
    for path in [
        "/api/v1/session",
        "/api/v1/me",
        "/api/v1/orgs/{org}/users",
        "/api/v1/orgs/{org}/audit",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    app.stop().await;
}

#[tokio::test]
async fn pages_carry_a_strict_csp_and_no_inline_script() {
    let app = TestApp::spawn().await;
    let r = app
        .client()
        .http
        .get(app.url("/login"))
        .send()
        .await
        .unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("<html lang=\"ja\">"));
    // Every script tag has a src; none carries code.
    for tag in html.split("<script").skip(1) {
        let head = tag.split('>').next().unwrap_or("");
        assert!(head.contains("src=\"/static/"), "inline script: {tag}");
        assert!(
            tag.trim_start_matches(|c| c != '>')
                .starts_with("></script>")
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn cookies_are_secure_when_the_server_is_not_on_plain_loopback() {
    let app = TestApp::spawn_with(|c| c.secure_cookies = Some(true)).await;
    let r = app
        .client()
        .http
        .get(app.url("/login"))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    app.stop().await;
}

#[tokio::test]
async fn unknown_pages_get_a_japanese_not_found_page() {
    let app = TestApp::spawn().await;
    let (s, html) = app.client().get_text("/no/such/page").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(html.contains("見つかりませんでした"));
    app.stop().await;
}

#[tokio::test]
async fn the_suite_runs_on_the_engine_it_was_asked_for() {
    let app = TestApp::spawn().await;
    let expected = if std::env::var("KAIRAN_TEST_POSTGRES_URL").is_ok() {
        kairan_store::Engine::Postgres
    } else {
        kairan_store::Engine::Sqlite
    };
    assert_eq!(app.state().store.engine(), expected);
    app.stop().await;
}
