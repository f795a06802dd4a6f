//! The administrator's screens for directory sign-in (I9): the ディレクトリ連携 card on
//! 管理 › サインインの設定 (saved, refused with what was typed kept, removed), who reaches it,
//! and the sign-in method switch on one ID's page, with the break-glass rule. No directory
//! is needed: saving settings never connects.

use crate::helpers::{Client, PASSWORD, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A self-signed CA certificate (its key was thrown away): something real to paste.
const CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBijCCAS+gAwIBAgIUJHdTLGykZlDlC59VgblB3vn83IMwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOS2FpcmFuIHRlc3QgQ0EwIBcNMjYxMjA0MTUyOTU0WhgPMjEy
NjExMTAxNTI5NTRaMBkxFzAVBgNVBAMMDkthaXJhbiB0ZXN0IENBMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEOBINdbWTGLCzc5xWP2kWTetROJc/DHtqOWFTCKrU
4QMOt4YNiGhZjapeD9I+/0k/PnAVSNpyELFDRkvFTCt8gaNTMFEwHQYDVR0OBBYE
FN2JWbGzj7UKyu/qCGxhrAPzXMocMB8GA1UdIwQYMBaAFN2JWbGzj7UKyu/qCGxh
rAPzXMocMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAIuCxvyc
KnbJ3rE1XpN2eKiD+vNt7VK8UDy0Okv6pJfAAiEA3Mfz/GfGVEp+iaxrXdw2y1+e
3W/CxCxwyuacNbAyyA8=
-----END CERTIFICATE-----";

/// A page's text with the template engine's escapes undone (it writes `/` as `&#x2f;`), so
/// the checks below can say what a person reads.
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&gt;", ">")
        .replace("&lt;", "<")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

async fn open(c: &Client, path: &str) -> (StatusCode, String) {
    let (s, html) = c.get_text(path).await;
    (s, unescape(&html))
}

/// Posts an HTML form as the browser does, with the page's CSRF token. Returns the status,
/// the page (when one is shown) and where a redirect leads.
async fn post_form(
    c: &Client,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let mut form = vec![("csrf", c.csrf.as_str())];
    form.extend_from_slice(fields);
    let r = c
        .http
        .post(format!("{}{}", c.base, path))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let html = r.text().await.unwrap_or_default();
    (status, unescape(&html), location)
}

/// A good setting, as typed into the card: CRLF line ends, a full-width `=>` and digits
/// from an IME, a department by its name and the user filter left empty.
fn good_form(department: &str) -> Vec<(&'static str, String)> {
    vec![
        ("url", "ldaps://127.0.0.1:1".into()),
        ("bind_dn", "uid={login},ou=people,dc=example,dc=jp".into()),
        ("user_base", "ou=people,dc=example,dc=jp".into()),
        ("user_filter", String::new()),
        ("group_base", "ou=groups,dc=example,dc=jp".into()),
        ("ca_pem", CA_PEM.replace('\n', "\r\n")),
        ("timeout_seconds", "１０".into()),
        (
            "role_groups",
            "cn=heads,ou=groups,dc=example,dc=jp => section_head\r\n\r\ncn=all,ou=groups,dc=example,dc=jp ＝＞ 職員".into(),
        ),
        (
            "department_groups",
            format!("cn=soumu,ou=groups,dc=example,dc=jp => {department}"),
        ),
    ]
}

fn fields<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

struct Town {
    app: TestApp,
    org: String,
    admin: Client,
    soumu: String,
}

async fn town() -> Town {
    let app = TestApp::spawn().await;
    let org = app.create_org("dir-pages", "連携町").await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    app.create_user(&org, "staff.one", &["staff"]).await;
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
    async fn api_settings(&self) -> Value {
        let (s, v) = self
            .admin
            .get(&format!("/api/v1/orgs/{}/directory-sign-in", self.org))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    }

    async fn user(&self, login: &str) -> Value {
        let (_, users) = self
            .admin
            .get(&format!("/api/v1/orgs/{}/users", self.org))
            .await;
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["login_id"] == login)
            .unwrap()
            .clone()
    }
}

#[tokio::test]
async fn an_administrator_saves_and_removes_directory_sign_in_on_the_settings_page() {
    let t = town().await;
    let (s, page) = open(&t.admin, "/admin/sign-in").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("ディレクトリ連携（LDAP / Active Directory）"));
    assert!(page.contains("action=\"/admin/sign-in/directory\""));
    assert!(page.contains("未設定"));
    assert!(
        !page.contains("/admin/sign-in/directory/remove"),
        "nothing to remove yet"
    );

    let good = good_form("総務課");
    let (s, _, to) = post_form(&t.admin, "/admin/sign-in/directory", &fields(&good)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(to, "/admin/sign-in?done=1");

    let (_, page) = open(&t.admin, "/admin/sign-in?done=1").await;
    assert!(page.contains("保存しました"));
    assert!(page.contains("value=\"ldaps://127.0.0.1:1\""), "{page}");
    assert!(page.contains("設定済み"));
    assert!(
        page.contains("value=\"(uid={login})\""),
        "the default filter"
    );
    assert!(page.contains("value=\"10\""));
    assert!(page.contains("cn=soumu,ou=groups,dc=example,dc=jp => 総務課"));
    assert!(page.contains("cn=all,ou=groups,dc=example,dc=jp => staff"));
    assert!(page.contains("MIIBijCCAS+gAwIBAgIUJHdTLGykZlDlC59VgblB3vn83IMw"));
    assert!(page.contains("data-confirm=\"ディレクトリ連携の設定を削除すると、ディレクトリを使うIDはサインインできなくなります。"));

    let v = t.api_settings().await;
    assert_eq!(v["configured"], true);
    let c = &v["config"];
    assert_eq!(c["url"], "ldaps://127.0.0.1:1");
    assert_eq!(c["starttls"], false);
    assert_eq!(c["user_filter"], "(uid={login})");
    assert_eq!(c["timeout_seconds"], 10);
    assert_eq!(c["ca_pem"], CA_PEM, "line ends as the PEM has them");
    assert_eq!(
        c["role_groups"],
        json!([
            { "group": "cn=heads,ou=groups,dc=example,dc=jp", "role": "section_head" },
            { "group": "cn=all,ou=groups,dc=example,dc=jp", "role": "staff" },
        ])
    );
    assert_eq!(
        c["department_groups"],
        json!([{ "group": "cn=soumu,ou=groups,dc=example,dc=jp", "department_id": t.soumu }])
    );
    // The department may be given by its ID too.
    let by_id = good_form(&t.soumu);
    let (s, _, _) = post_form(&t.admin, "/admin/sign-in/directory", &fields(&by_id)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        t.api_settings().await["config"]["department_groups"][0]["department_id"],
        t.soumu.as_str()
    );

    // Plain LDAP without StartTLS: refused, the page again with everything as typed.
    let mut plain = good_form("総務課");
    plain[0].1 = "ldap://127.0.0.1:389".into();
    let (s, page, _) = post_form(&t.admin, "/admin/sign-in/directory", &fields(&plain)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("data-testid=\"directory-error\""), "{page}");
    assert!(page.contains(
        "ディレクトリ連携: 接続先は ldaps:// で始めるか、ldap:// と StartTLS を組み合わせてください"
    ));
    assert!(page.contains("value=\"ldap://127.0.0.1:389\""));
    assert!(page.contains("value=\"１０\""), "the timeout as typed");
    assert!(page.contains("cn=soumu,ou=groups,dc=example,dc=jp => 総務課"));
    // The rest of the page is there too.
    assert!(page.contains("data-testid=\"screen-form\""));
    // Nothing was saved.
    assert_eq!(
        t.api_settings().await["config"]["url"],
        "ldaps://127.0.0.1:1"
    );

    // What only the form can get wrong is named by its line; a privileged role, by the rule.
    let mut cases = Vec::new();
    let mut unknown_role = good_form("総務課");
    unknown_role[7].1 = "cn=a,dc=example,dc=jp => 課長".into();
    cases.push((unknown_role, "1行目の権限「課長」はありません"));
    let mut privileged = good_form("総務課");
    privileged[7].1 = "cn=a,dc=example,dc=jp => admin".into();
    cases.push((
        privileged,
        "「システム管理者」はディレクトリのグループから与えられません",
    ));
    let mut no_arrow = good_form("総務課");
    no_arrow[8].1 = "cn=soumu,ou=groups,dc=example,dc=jp\n".into();
    cases.push((no_arrow, "1行目に「=>」がありません"));
    let unknown_dept = good_form("福祉課");
    cases.push((unknown_dept, "所属「福祉課」はこの団体にありません"));
    let mut bad_ca = good_form("総務課");
    bad_ca[5].1 =
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----".into();
    cases.push((bad_ca, "CA証明書を読み取れません"));
    for (form, want) in &cases {
        let (s, page, _) = post_form(&t.admin, "/admin/sign-in/directory", &fields(form)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{want}");
        assert!(page.contains(want), "{want}: {page}");
    }
    // The typed CA certificate comes back in its field, not in the message.
    let (_, page, _) = post_form(&t.admin, "/admin/sign-in/directory", &fields(&cases[4].0)).await;
    assert!(page.contains("bm90IGEgY2VydGlmaWNhdGU="));
    assert_eq!(page.matches("bm90IGEgY2VydGlmaWNhdGU=").count(), 1);

    // The audit record says what changed, without the certificate.
    let mut conn = t.app.state().store.read().await.unwrap();
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT details FROM audit_log WHERE action = 'directory.configured' ORDER BY seq",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    assert_eq!(rows.len(), 2, "two saves; the refused ones left none");
    assert!(rows.iter().all(|(d,)| !d.contains("BEGIN CERTIFICATE")));

    // English.
    let (_, _) = open(&t.admin, "/lang/en?next=/admin/sign-in").await;
    let (_, page) = open(&t.admin, "/admin/sign-in").await;
    assert!(page.contains("Directory sign-in (LDAP / Active Directory)"));
    assert!(page.contains("Remove the directory settings"));
    let (_, _) = open(&t.admin, "/lang/ja?next=/admin/sign-in").await;

    // Removed: directory IDs can no longer sign in, and the page says it is not set up.
    let (s, _, to) = post_form(&t.admin, "/admin/sign-in/directory/remove", &[]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(to, "/admin/sign-in?done=1");
    assert_eq!(t.api_settings().await["configured"], false);
    let (_, page) = open(&t.admin, "/admin/sign-in").await;
    assert!(page.contains("未設定"));
    assert!(!page.contains("value=\"ldaps://127.0.0.1:1\""));
    t.app.stop().await;
}

#[tokio::test]
async fn only_the_bodys_administrator_reaches_the_directory_settings_and_the_switch() {
    let t = town().await;
    let staff = t.app.signed_in("staff.one").await;
    let good = good_form("総務課");
    assert_eq!(
        open(&staff, "/admin/sign-in").await.0,
        StatusCode::FORBIDDEN
    );
    let (s, _, _) = post_form(&staff, "/admin/sign-in/directory", &fields(&good)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = post_form(&staff, "/admin/sign-in/directory/remove", &[]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let me = t.user("staff.one").await;
    let staff_id = me["id"].as_str().unwrap();
    let path = format!("/admin/users/{staff_id}/sign-in-method");
    let (s, _, _) = post_form(&staff, &path, &[("method", "directory")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Another body's administrator: not this body's settings, not this body's IDs.
    let other = t.app.create_org("other-town", "他町").await;
    t.app.create_user(&other, "admin.other", &["admin"]).await;
    let stranger = t.app.signed_in("admin.other").await;
    let (s, _) = stranger
        .get(&format!("/api/v1/orgs/{}/directory-sign-in", t.org))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = post_form(&stranger, &path, &[("method", "directory")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Their own form sets their own body only.
    let (s, page, _) = post_form(&stranger, "/admin/sign-in/directory", &fields(&good)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "総務課 is not theirs");
    assert!(page.contains("所属「総務課」はこの団体にありません"));
    let mut mine = good_form("総務課");
    mine[8].1 = String::new();
    let (s, _, _) = post_form(&stranger, "/admin/sign-in/directory", &fields(&mine)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(t.api_settings().await["configured"], false);
    assert_eq!(t.user("staff.one").await["sign_in_method"], "local");
    t.app.stop().await;
}

#[tokio::test]
async fn an_administrator_switches_an_ids_sign_in_method_on_its_page() {
    let t = town().await;
    let staff_id = t.user("staff.one").await["id"].as_str().unwrap().to_owned();
    let admin_id = t.user("admin.one").await["id"].as_str().unwrap().to_owned();
    let staff_page = format!("/admin/users/{staff_id}");
    let switch = format!("/admin/users/{staff_id}/sign-in-method");

    let (_, page) = open(&t.admin, &staff_page).await;
    assert!(page.contains("data-testid=\"user-sign-in-method\">Kairanのパスワード<"));
    assert!(page.contains("ディレクトリでのサインインに切り替える"));

    // No directory set up yet: the reason, on the page.
    let (s, page, _) = post_form(&t.admin, &switch, &[("method", "directory")]).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        page.contains("ディレクトリ連携が設定されていません"),
        "{page}"
    );
    assert!(page.contains("data-testid=\"sign-in-method\""));

    let good = good_form("総務課");
    let (s, _, _) = post_form(&t.admin, "/admin/sign-in/directory", &fields(&good)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let staff = t.app.signed_in("staff.one").await;

    let (s, _, to) = post_form(&t.admin, &switch, &[("method", "directory")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(to, format!("{staff_page}?done=method_changed"));
    let (_, page) = open(&t.admin, &to).await;
    assert!(page.contains("サインイン方法を切り替えました。"));
    assert!(
        page.contains(
            "data-testid=\"user-sign-in-method\">ディレクトリ（LDAP / Active Directory）<"
        )
    );
    assert!(page.contains("Kairanのパスワードに切り替える"));
    assert!(
        !page.contains("/reset-password"),
        "the directory keeps the password"
    );
    assert_eq!(t.user("staff.one").await["sign_in_method"], "directory");
    assert_eq!(
        staff.get("/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED,
        "signed out"
    );
    let (_, page) = open(&t.admin, "/admin/sign-in").await;
    assert!(page.contains("data-testid=\"directory-users\">1<"));
    // The directory at 127.0.0.1:1 does not answer: the old password does not get in.
    let r = t.app.client().sign_in_password("staff.one", PASSWORD).await;
    assert_eq!(r.0, StatusCode::SERVICE_UNAVAILABLE, "{}", r.1);

    // Back to a Kairan password: a temporary password, shown once on the answer.
    let (s, page, _) = post_form(&t.admin, &switch, &[("method", "local")]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("サインイン方法をKairanのパスワードに切り替えました。"));
    let temporary = page
        .split("data-testid=\"temporary-password\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    assert!(temporary.len() >= 12, "{temporary}");
    assert_eq!(t.user("staff.one").await["sign_in_method"], "local");
    let (_, page) = open(&t.admin, &staff_page).await;
    assert!(!page.contains(&temporary), "shown once");
    let r = t
        .app
        .client()
        .sign_in_password("staff.one", &temporary)
        .await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);

    // The body's only local administrator stays local: someone must get in when the
    // directory is down.
    let (s, page, _) = post_form(
        &t.admin,
        &format!("/admin/users/{admin_id}/sign-in-method"),
        &[("method", "directory")],
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        page.contains("ローカルの管理者を1人以上残してください"),
        "{page}"
    );
    assert_eq!(t.user("admin.one").await["sign_in_method"], "local");
    assert_eq!(t.admin.get("/api/v1/me").await.0, StatusCode::OK);
    t.app.stop().await;
}
