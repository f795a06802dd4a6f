//! The 申請 screens (issue 10) driven as a browser does, with forms and the CSRF token: a
//! section head's form refused for a period past 31 March (what was typed kept, the end date
//! marked, the last allowed day named), submitted, found in the administrator's queue and
//! approved there; the invitation shown to the applicant only; a draft corrected and
//! submitted; a form showing an old version refused with the reason; staff kept out.

use crate::applications::guest_fields;
use crate::helpers::{Client, TestApp};
use kairan_domain::fiscal::{self, Date};
use reqwest::StatusCode;
use serde_json::Value;

/// A page's text with the template engine's escapes undone (it writes `/` as `&#x2f;`).
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

/// Posts a form with the page's CSRF token: the status, the page shown and where a redirect
/// leads.
async fn post_form(
    c: &Client,
    path: &str,
    fields: &[(&str, String)],
) -> (StatusCode, String, String) {
    let mut form: Vec<(&str, &str)> = vec![("csrf", c.csrf.as_str())];
    form.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
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
    (
        status,
        unescape(&r.text().await.unwrap_or_default()),
        location,
    )
}

/// The start tag of the element with this id.
fn tag<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element {id}"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

/// The version a page's step forms carry.
fn version(html: &str) -> String {
    let at = html
        .find("name=\"version\" value=\"")
        .expect("a version field")
        + 22;
    html[at..].split('"').next().unwrap().to_owned()
}

/// The guest form as typed: the test's guest fields with this period.
fn typed(n: usize, start: Date, end: Date, action: &str) -> Vec<(&'static str, String)> {
    let f = guest_fields(n);
    let s = |k: &str| f[k].as_str().unwrap().to_owned();
    vec![
        ("purpose", s("purpose")),
        ("need", s("need")),
        ("guest_name", s("guest_name")),
        ("guest_affiliation", s("guest_affiliation")),
        ("guest_email", s("guest_email")),
        ("start_date", start.to_string()),
        ("end_date", end.to_string()),
        ("environment_confirmed", "1".into()),
        ("action", action.into()),
    ]
}

fn created_id(location: &str) -> String {
    location
        .strip_prefix("/applications/")
        .and_then(|rest| rest.split('?').next())
        .unwrap_or_else(|| panic!("redirect to {location}"))
        .to_owned()
}

struct Town {
    app: TestApp,
    org: String,
    head: Client,
    admin: Client,
    staff: Client,
    today: Date,
}

async fn town() -> Town {
    let app = TestApp::spawn().await;
    let org = app.create_org("pages-town", "東山町").await;
    app.create_user(&org, "head.one", &["section_head"]).await;
    app.create_user(&org, "admin.one", &["admin"]).await;
    app.create_user(&org, "staff.one", &["staff"]).await;
    let head = app.signed_in("head.one").await;
    let admin = app.signed_in("admin.one").await;
    let staff = app.signed_in("staff.one").await;
    let today = app.state().clock.today();
    Town {
        app,
        org,
        head,
        admin,
        staff,
        today,
    }
}

#[tokio::test]
async fn a_section_head_applies_on_the_form_and_an_administrator_approves_it_from_the_queue() {
    let t = town().await;
    let last = fiscal::fiscal_year_end(t.today);

    // The menu leads section heads and administrators to 申請; staff do not see it, and the
    // form is refused to them.
    let (s, home) = open(&t.head, "/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(home.contains("href=\"/applications\""), "{home}");
    let (_, home) = open(&t.staff, "/").await;
    assert!(!home.contains("href=\"/applications\""));
    assert_eq!(
        t.staff.get_text("/applications/new").await.0,
        StatusCode::FORBIDDEN
    );
    let (s, _, _) = post_form(
        &t.staff,
        "/applications",
        &typed(1, t.today, t.today, "submit"),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (s, list) = open(&t.head, "/applications").await;
    assert_eq!(s, StatusCode::OK);
    assert!(list.contains("ゲストの利用を申請する"));
    assert!(list.contains("申請はまだありません。"));

    // The form names the last day of this fiscal year in the Japanese calendar.
    let (s, form) = open(&t.head, "/applications/new").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        form.contains(&format!("今年度に始まる場合は{}まで", last.label_ja())),
        "{form}"
    );
    assert!(form.contains(&format!("min=\"{}\"", t.today)));

    // A period past 31 March: shown again with everything typed, the end date marked and the
    // last allowed day named; nothing is stored.
    let too_late = last.add_days(1).unwrap();
    let (s, page, _) = post_form(
        &t.head,
        "/applications",
        &typed(1, t.today, too_late, "submit"),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains(&format!(
            "年度末（{}）までの日付を指定してください。",
            last.label_ja()
        )),
        "{page}"
    );
    assert!(page.contains("data-testid=\"form-error\""));
    let end = tag(&page, "end_date");
    assert!(end.contains("aria-invalid=\"true\""), "{end}");
    assert!(end.contains(&format!("value=\"{too_late}\"")), "{end}");
    assert!(
        end.contains("form-error"),
        "described by the message: {end}"
    );
    assert!(!tag(&page, "start_date").contains("aria-invalid"));
    assert!(tag(&page, "guest_name").contains("value=\"山田 花子\""));
    assert!(tag(&page, "guest_affiliation").contains("value=\"株式会社東山防災\""));
    assert!(tag(&page, "guest_email").contains("value=\"hanako.yamada@example.co.jp\""));
    assert!(page.contains("防災訓練の合同準備（1）</textarea>"));
    assert!(page.contains("資料の確認を毎日やり取りするため</textarea>"));
    assert!(tag(&page, "environment_confirmed").contains("checked"));
    let (_, mine) = t
        .head
        .get(&format!("/api/v1/orgs/{}/applications", t.org))
        .await;
    assert_eq!(mine, Value::Array(vec![]));

    // The last day itself is accepted, and the application waits for a decision.
    let (s, _, location) =
        post_form(&t.head, "/applications", &typed(1, t.today, last, "submit")).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(location.ends_with("?done=submit"), "{location}");
    let id = created_id(&location);
    let (s, page) = open(&t.head, &location).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("申請しました。"));
    assert!(page.contains("申請中"));
    assert!(page.contains(&fiscal::fiscal_year_label_ja(fiscal::fiscal_year(t.today))));
    assert!(page.contains(&format!("{}～{}", t.today.label_ja(), last.label_ja())));
    assert!(page.contains("取り下げる"));
    assert!(!page.contains("承認する"), "the applicant cannot decide");
    assert!(!page.contains("data-testid=\"invitation-card\""));

    // The administrator finds it in the queue, with who applied and for whom.
    let (s, queue) = open(&t.admin, "/applications?view=queue").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        queue.contains(&format!("href=\"/applications/{id}\"")),
        "{queue}"
    );
    assert!(queue.contains("株式会社東山防災"));
    assert!(queue.contains("試験 太郎"));
    assert!(queue.contains("data-testid=\"queue-list\""));
    // An administrator who does not apply starts on the queue.
    let (_, start) = open(&t.admin, "/applications").await;
    assert!(start.contains("data-testid=\"queue-list\""));
    let (s, page) = open(&t.admin, &format!("/applications/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    for button in ["承認する", "差し戻す", "却下する"] {
        assert!(page.contains(button), "{button}");
    }
    assert!(!page.contains("取り下げる"));
    let shown = version(&page);

    // Returning needs a reason: the page again, the reason marked.
    let (s, page, _) = post_form(
        &t.admin,
        &format!("/applications/{id}/step"),
        &[
            ("transition", "request_changes".into()),
            ("version", shown.clone()),
            ("reason", "  ".into()),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("理由: "), "{page}");
    assert!(tag(&page, "reason").contains("aria-invalid=\"true\""));

    // A form showing an older version is refused with the reason, and the page shows the
    // application as it is now.
    let older = (shown.parse::<i64>().unwrap() - 1).to_string();
    let (s, page, _) = post_form(
        &t.admin,
        &format!("/applications/{id}/step"),
        &[("transition", "approve".into()), ("version", older)],
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(page.contains("data-code=\"application_changed\""));
    assert!(page.contains("他の担当者が先に処理しました"), "{page}");
    assert!(page.contains("現在の内容を表示しています。"));

    // Approved from the page it showed.
    let (s, _, location) = post_form(
        &t.admin,
        &format!("/applications/{id}/step"),
        &[("transition", "approve".into()), ("version", shown.clone())],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("/applications/{id}?done=approve"));
    let (_, page) = open(&t.admin, &location).await;
    assert!(page.contains("承認しました。申請者に通知しました。"));
    // The period began today, so the guest is in effect at once; the administrator sees the
    // ID and its status, never the link.
    assert!(page.contains("data-testid=\"guest-card\""), "{page}");
    assert!(page.contains("data-testid=\"guest-login-id\">guest-"));
    assert!(page.contains("利用中"));
    assert!(!page.contains("/invite/"));
    assert!(!page.contains("承認する"));
    // Nothing is waiting any more.
    let (_, queue) = open(&t.admin, "/applications?view=queue").await;
    assert!(queue.contains("承認を待っている申請はありません。"));

    // The same page a second time (a double submit, another administrator) changes nothing.
    let (s, page, _) = post_form(
        &t.admin,
        &format!("/applications/{id}/step"),
        &[("transition", "approve".into()), ("version", shown)],
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(page.contains("data-code=\"application_changed\""));

    // The applicant sees the invitation to pass on: the ID, the path, its expiry, used once.
    let (_, page) = open(&t.head, &format!("/applications/{id}")).await;
    assert!(page.contains("data-testid=\"invitation-card\""), "{page}");
    let at = page
        .find("data-path=\"/invite/")
        .expect("the invitation path")
        + 11;
    let path: String = page[at..].split('"').next().unwrap().to_owned();
    assert_eq!(path.len(), "/invite/".len() + 64, "{path}");
    assert!(page.contains("1回だけ使えます"));
    assert!(page.contains("data-testid=\"invitation-expires\""));
    let (s, invite) = open(&t.app.client(), &path).await;
    assert_eq!(s, StatusCode::OK);
    assert!(invite.contains("山田 花子"));
    let (_, list) = open(&t.head, "/applications").await;
    assert!(list.contains("有効"), "{list}");

    // Nobody else learns the application exists.
    assert_eq!(
        t.staff.get_text(&format!("/applications/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    t.app.stop().await;
}

#[tokio::test]
async fn a_draft_is_corrected_and_submitted_from_its_page_and_a_stale_form_is_refused() {
    let t = town().await;
    let (s, _, location) = post_form(
        &t.head,
        "/applications",
        &typed(2, t.today, t.today, "draft"),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(location.ends_with("?done=draft"), "{location}");
    let id = created_id(&location);
    let (_, page) = open(&t.head, &location).await;
    assert!(page.contains("下書きとして保存しました。"));
    assert!(page.contains("提出する"));
    assert!(page.contains(&format!("href=\"/applications/{id}/edit\"")));
    // A draft waits for no one.
    let (_, queue) = open(&t.admin, "/applications?view=queue").await;
    assert!(!queue.contains(&id));

    // The edit form is the application form, filled in, carrying the version.
    let (s, form) = open(&t.head, &format!("/applications/{id}/edit")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(tag(&form, "guest_name").contains("value=\"山田 花子\""));
    assert!(tag(&form, "start_date").contains(&format!("value=\"{}\"", t.today)));
    assert!(form.contains(&format!("action=\"/applications/{id}/edit\"")));
    assert!(form.contains("保存して提出する"));
    let shown = version(&form);

    // A refused correction keeps what was typed.
    let mut bad = typed(2, t.today, t.today, "save");
    bad.push(("version", shown.clone()));
    bad[4].1 = "hanako".into();
    let (s, page, _) = post_form(&t.head, &format!("/applications/{id}/edit"), &bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(tag(&page, "guest_email").contains("aria-invalid=\"true\""));
    assert!(tag(&page, "guest_email").contains("value=\"hanako\""));

    // Corrected and submitted in one go.
    let mut good = typed(2, t.today, t.today, "save_submit");
    good.push(("version", shown.clone()));
    good[2].1 = "山田 花".into();
    let (s, _, location) = post_form(&t.head, &format!("/applications/{id}/edit"), &good).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("/applications/{id}?done=submit"));
    let (_, page) = open(&t.head, &location).await;
    assert!(page.contains("申請中"));
    assert!(page.contains("山田 花</dd>"));
    for step in ["下書きを作成", "内容を修正", "提出"] {
        assert!(page.contains(step), "{step} in the history");
    }
    // The edit form of an application that moved on leads back to it.
    let (s, _, location) = post_form(&t.head, &format!("/applications/{id}/edit"), &good).await;
    assert_eq!(s, StatusCode::CONFLICT, "{location}");
    let (s, _) = t.head.get_text(&format!("/applications/{id}/edit")).await;
    assert_eq!(s, StatusCode::SEE_OTHER);

    // Withdrawn by the applicant while an administrator had it open: the administrator's
    // approval is refused with the reason, and the page shows it withdrawn.
    let (_, admin_page) = open(&t.admin, &format!("/applications/{id}")).await;
    let seen = version(&admin_page);
    let (_, head_page) = open(&t.head, &format!("/applications/{id}")).await;
    let (s, _, _) = post_form(
        &t.head,
        &format!("/applications/{id}/step"),
        &[
            ("transition", "withdraw".into()),
            ("version", version(&head_page)),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, page, _) = post_form(
        &t.admin,
        &format!("/applications/{id}/step"),
        &[("transition", "approve".into()), ("version", seen)],
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(page.contains("他の担当者が先に処理しました"), "{page}");
    assert!(page.contains("取り下げ"));
    assert!(!page.contains("data-testid=\"approve\""));
    t.app.stop().await;
}
