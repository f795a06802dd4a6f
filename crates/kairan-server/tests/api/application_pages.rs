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

// ---- inter-body groups, extensions and the guest list on the pages ----

/// Gives an ID a name of its own, so a page shows whose it is.
async fn rename(app: &TestApp, id: &str, name: &str) {
    let mut tx = app.state().store.write().await.unwrap();
    kairan_store::users::update_profile(
        &mut tx,
        id,
        &kairan_store::users::Profile {
            display_name: name,
            kana: "",
            title: None,
            department_id: None,
            employee_no: None,
            last_day: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// 10:00 JST on a day well inside a fiscal year, so the days left and the last allowed day are
/// known whatever the date the tests run on.
fn fixed_day(app: &TestApp) -> Date {
    let day = Date::new(2026, 10, 1).unwrap();
    app.state()
        .clock
        .set(day.start_of_day_utc_us() + 10 * 3_600_000_000);
    assert_eq!(app.state().clock.today(), day);
    day
}

/// Two bodies on one server: 東山市 (the applicant's) and 西山市, each with an administrator
/// and staff of their own.
struct Region {
    app: TestApp,
    east: String,
    west: String,
    head_id: String,
    head: Client,
    east_head: Client,
    east_admin: Client,
    west_admin: Client,
    east_staff: String,
    west_staff: String,
    west_other: String,
    today: Date,
}

async fn region() -> Region {
    let app = TestApp::spawn().await;
    let today = fixed_day(&app);
    let east = app.create_org("higashiyama", "東山市").await;
    let west = app.create_org("nishiyama", "西山市").await;
    let head_id = app.create_user(&east, "head.east", &["section_head"]).await;
    app.create_user(&east, "head2.east", &["section_head"])
        .await;
    app.create_user(&east, "admin.east", &["admin"]).await;
    app.create_user(&west, "admin.west", &["admin"]).await;
    let east_staff = app.create_user(&east, "staff.east", &["staff"]).await;
    let west_staff = app.create_user(&west, "staff.west", &["staff"]).await;
    let west_other = app.create_user(&west, "other.west", &["staff"]).await;
    rename(&app, &head_id, "東山 課長").await;
    rename(&app, &east_staff, "東山 一郎").await;
    rename(&app, &west_staff, "西山 花子").await;
    rename(&app, &west_other, "西山 次郎").await;
    Region {
        head: app.signed_in("head.east").await,
        east_head: app.signed_in("head2.east").await,
        east_admin: app.signed_in("admin.east").await,
        west_admin: app.signed_in("admin.west").await,
        app,
        east,
        west,
        head_id,
        east_staff,
        west_staff,
        west_other,
        today,
    }
}

/// The group form as typed: 西山市 asked for two people of its disaster-prevention section,
/// the applicant's colleague 東山 一郎 named, for this period.
fn group_typed(r: &Region, start: Date, end: Date) -> Vec<(String, String)> {
    [
        ("purpose", "広域避難訓練の調整".to_owned()),
        (
            "need",
            "二つの市の担当者で日々の段取りを確認するため".into(),
        ),
        ("talk_name", "広域避難訓練 調整".into()),
        ("own_members", r.east_staff.clone()),
        ("body", r.west.clone()),
        (&format!("requested.{}", r.west), "防災課の担当者2名".into()),
        ("start_date", start.to_string()),
        ("end_date", end.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Posts the group form.
async fn post_group(r: &Region, typed: &[(String, String)]) -> (StatusCode, String, String) {
    let fields: Vec<(&str, String)> = typed.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    post_form(&r.head, "/applications/new/group", &fields).await
}

/// A guest of 東山市 admitted through the API, for `days` more days after today; returns the
/// guest application's ID and the guest's user ID.
async fn admitted_guest(
    app: &TestApp,
    org: &str,
    head: &Client,
    admin: &Client,
    end: Date,
) -> (String, String) {
    let mut fields = guest_fields(7);
    fields["start_date"] = Value::from(app.state().clock.today().to_string());
    fields["end_date"] = Value::from(end.to_string());
    let (s, a) = head
        .post(
            &format!("/api/v1/orgs/{org}/applications"),
            serde_json::json!({ "kind": "guest", "fields": fields, "submit": true }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let id = a["id"].as_str().unwrap().to_owned();
    let (s, a) = admin
        .post(
            &format!("/api/v1/applications/{id}/transitions"),
            serde_json::json!({ "transition": "approve", "version": a["version"] }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let guest = a["guest"]["user_id"].as_str().map(str::to_owned);
    let guest = match guest {
        Some(g) => g,
        None => {
            let (_, a) = admin.get(&format!("/api/v1/applications/{id}")).await;
            a["guest"]["user_id"]
                .as_str()
                .expect("the guest")
                .to_owned()
        }
    };
    (id, guest)
}

/// Applies on the group form for today up to 31 March and returns the application's ID.
async fn applied_group(r: &Region) -> String {
    let last = fiscal::fiscal_year_end(r.today);
    let (s, page, location) = post_group(r, &group_typed(r, r.today, last)).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{page}");
    assert!(location.ends_with("?done=submit"), "{location}");
    created_id(&location)
}

/// Posts a body's approval from its page: the version shown and the colleagues ticked.
async fn approve_for_body(c: &Client, id: &str, members: &[&str]) -> (StatusCode, String, String) {
    let (_, page) = open(c, &format!("/applications/{id}")).await;
    let mut form = vec![
        ("transition", "approve".to_owned()),
        ("version", version(&page)),
    ];
    form.extend(members.iter().map(|m| ("members", (*m).to_owned())));
    post_form(c, &format!("/applications/{id}/step"), &form).await
}

#[tokio::test]
async fn a_section_head_applies_for_an_inter_body_group_on_its_form() {
    let r = region().await;
    let last = fiscal::fiscal_year_end(r.today);
    // A guest of 東山市 is never offered as a member.
    let (_, guest_id) = admitted_guest(&r.app, &r.east, &r.east_head, &r.east_admin, last).await;

    // The new application page offers both kinds.
    let (s, page) = open(&r.head, "/applications/new").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("data-testid=\"kind-choice\""), "{page}");
    assert!(page.contains("href=\"/applications/new/group\""));
    let (_, list) = open(&r.head, "/applications").await;
    assert!(list.contains("団体間グループを申請する"));

    let (s, form) = open(&r.head, "/applications/new/group").await;
    assert_eq!(s, StatusCode::OK);
    assert!(form.contains("<h1>団体間グループの申請</h1>"), "{form}");
    for label in [
        "利用目的",
        "グループが必要な理由",
        "グループ名",
        "自団体の参加者",
        "参加する団体",
        "参加をお願いする職員",
        "開始日",
        "終了日",
    ] {
        assert!(form.contains(label), "{label}");
    }
    // Own colleagues to tick: active staff, never the applicant (always in), never a guest,
    // never another body's staff.
    assert!(form.contains(&format!("name=\"own_members\" value=\"{}\"", r.east_staff)));
    assert!(form.contains("東山 一郎"));
    assert!(!form.contains(&format!("value=\"{}\"", r.head_id)));
    assert!(!form.contains(&format!("value=\"{guest_id}\"")), "{form}");
    assert!(!form.contains(&format!("value=\"{}\"", r.west_staff)));
    assert!(!form.contains("西山 花子"));
    // The other bodies, never one's own.
    assert!(form.contains(&format!("name=\"body\" value=\"{}\"", r.west)));
    assert!(form.contains("西山市"));
    assert!(!form.contains(&format!("name=\"body\" value=\"{}\"", r.east)));
    assert!(form.contains(&format!("今年度に始まる場合は{}まで", last.label_ja())));

    // A period past 31 March: shown again with everything kept and the end date marked.
    let too_late = last.add_days(1).unwrap();
    let (s, page, _) = post_group(&r, &group_typed(&r, r.today, too_late)).await;
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
    assert!(!tag(&page, "start_date").contains("aria-invalid"));
    assert!(tag(&page, "talk_name").contains("value=\"広域避難訓練 調整\""));
    assert!(page.contains("広域避難訓練の調整</textarea>"));
    assert!(page.contains(&format!("value=\"{}\" checked", r.east_staff)));
    assert!(page.contains(&format!("value=\"{}\" checked", r.west)));
    assert!(page.contains("value=\"防災課の担当者2名\""));
    let (_, mine) = r
        .head
        .get(&format!("/api/v1/orgs/{}/applications", r.east))
        .await;
    assert_eq!(mine, Value::Array(vec![]), "nothing is stored");

    // No body ticked: the bodies are named, what was typed for the body stays.
    let no_body: Vec<_> = group_typed(&r, r.today, last)
        .into_iter()
        .filter(|(k, _)| k != "body")
        .collect();
    let (s, page, _) = post_group(&r, &no_body).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("参加する団体: "), "{page}");
    assert!(page.contains("value=\"防災課の担当者2名\""));

    // Staff cannot apply.
    let staff = r.app.signed_in("staff.east").await;
    assert_eq!(
        staff.get_text("/applications/new/group").await.0,
        StatusCode::FORBIDDEN
    );

    // Up to the last day it is accepted and waits for both bodies.
    let id = applied_group(&r).await;
    let (s, page) = open(&r.head, &format!("/applications/{id}?done=submit")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("団体間グループの申請"), "{page}");
    assert!(page.contains("data-testid=\"talk-name\">広域避難訓練 調整<"));
    assert!(page.contains("二つの市の担当者で日々の段取りを確認するため"));
    assert!(page.contains(&format!("{}～{}", r.today.label_ja(), last.label_ja())));
    assert!(page.contains("data-testid=\"bodies\""));
    assert_eq!(page.matches("data-testid=\"body-row\"").count(), 2);
    assert!(page.contains("防災課の担当者2名"));
    assert!(page.contains("申請者が指名した職員：東山 一郎"), "{page}");
    assert_eq!(page.matches("承認待ち</span>").count(), 2);
    assert!(
        !page.contains("自団体として承認する"),
        "the applicant cannot decide"
    );
    assert!(!page.contains("data-testid=\"open-talk\""));
    // The list names the group by its name and its bodies, the applicant's first.
    let (_, list) = open(&r.head, "/applications").await;
    assert!(
        list.contains("広域避難訓練 調整</a><div class=\"kana\">東山市 → 西山市</div>"),
        "{list}"
    );
    r.app.stop().await;
}

#[tokio::test]
async fn each_body_approves_on_the_page_with_its_own_staff_only() {
    let r = region().await;
    let id = applied_group(&r).await;

    // 西山市's administrator sees 西山市's staff to tick, never 東山市's.
    let (s, page) = open(&r.west_admin, &format!("/applications/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("自団体から参加する職員"), "{page}");
    assert!(page.contains("自団体として承認する"));
    assert!(page.contains("data-testid=\"approve-group-form\""));
    for own in [&r.west_staff, &r.west_other] {
        assert!(
            page.contains(&format!("name=\"members\" value=\"{own}\"")),
            "{own}"
        );
    }
    assert!(!page.contains(&format!("value=\"{}\"", r.east_staff)));
    assert!(
        !page.contains("東山 一郎"),
        "another body's directory stays hidden"
    );
    assert!(!page.contains(&format!("value=\"{}\" checked", r.west_staff)));
    assert!(page.contains("防災課の担当者2名"));
    assert!(page.contains("申請者が指名した職員：1名"), "{page}");

    // Nobody ticked: refused, the members named.
    let (s, page, _) = approve_for_body(&r.west_admin, &id, &[]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("自団体から参加する職員を1人以上選んでください。"),
        "{page}"
    );
    // Someone of another body slipped into the form: refused, what was ticked kept.
    let (s, page, _) = approve_for_body(&r.west_admin, &id, &[&r.west_staff, &r.east_staff]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("自団体の利用中の職員（ゲストを除く）を選んでください。"),
        "{page}"
    );
    assert!(page.contains(&format!("value=\"{}\" checked", r.west_staff)));

    // Approved for 西山市 with 西山 花子: it waits for 東山市.
    let (s, _, location) = approve_for_body(&r.west_admin, &id, &[&r.west_staff]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("/applications/{id}?done=approve_body"));
    let (_, page) = open(&r.west_admin, &location).await;
    assert!(
        page.contains("自団体として承認しました。他の団体の承認を待っています。"),
        "{page}"
    );
    assert!(page.contains("申請中"));
    assert!(!page.contains("data-testid=\"approve-group-form\""));
    assert!(page.contains("承認済み</span>"));
    assert!(
        page.contains("data-testid=\"body-members\">西山 花子<"),
        "{page}"
    );
    assert!(page.contains("団体として承認"), "in the history");

    // 東山市's administrator sees 東山市's staff, the applicant's choice ticked.
    let (_, page) = open(&r.east_admin, &format!("/applications/{id}")).await;
    assert!(
        page.contains("data-testid=\"approve-group-form\""),
        "{page}"
    );
    assert!(page.contains(&format!(
        "name=\"members\" value=\"{}\" checked",
        r.east_staff
    )));
    assert!(!page.contains(&format!("value=\"{}\"", r.west_staff)));
    assert!(!page.contains(&format!("value=\"{}\"", r.west_other)));
    assert!(!page.contains(&format!("name=\"members\" value=\"{}\"", r.head_id)));
    assert!(page.contains("申請者（東山 課長）は、選ばなくても参加します。"));
    let (s, _, location) = approve_for_body(&r.east_admin, &id, &[&r.east_staff]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("/applications/{id}?done=approve"));

    // Every body approved and the period began today: the talk is there for its members.
    let (_, a) = r.head.get(&format!("/api/v1/applications/{id}")).await;
    let talk = a["talk_id"].as_str().expect("the group's talk").to_owned();
    let (_, page) = open(&r.head, &format!("/applications/{id}")).await;
    assert!(page.contains("有効"), "{page}");
    assert!(page.contains(&format!("href=\"/talks/{talk}\"")));
    assert!(page.contains("グループのトークを開く"));
    // Once all agreed, the applicant's body lists the applicant too: the talk's members.
    assert!(
        page.contains("data-testid=\"body-members\">東山 課長、東山 一郎<"),
        "{page}"
    );
    assert!(page.contains("data-testid=\"body-members\">西山 花子<"));
    // An administrator who is not a member is not offered the talk.
    let (_, page) = open(&r.west_admin, &format!("/applications/{id}")).await;
    assert!(!page.contains("data-testid=\"open-talk\""));
    r.app.stop().await;
}

#[tokio::test]
async fn the_applicant_asks_for_a_later_last_day_from_the_page() {
    let r = region().await;
    let last = fiscal::fiscal_year_end(r.today);
    // A group for today only, approved by both bodies.
    let mut typed = group_typed(&r, r.today, r.today);
    typed.retain(|(k, _)| k != "own_members");
    let (s, _, location) = post_group(&r, &typed).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let id = created_id(&location);
    approve_for_body(&r.west_admin, &id, &[&r.west_staff]).await;
    let (s, _, _) = approve_for_body(&r.east_admin, &id, &[&r.east_staff]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);

    let (_, page) = open(&r.head, &format!("/applications/{id}")).await;
    assert!(page.contains("期間の延長を申請"), "{page}");
    assert!(page.contains(&format!("action=\"/applications/{id}/extend\"")));
    let end = tag(&page, "ext_end_date");
    assert!(
        end.contains(&format!("min=\"{}\"", r.today.add_days(1).unwrap())),
        "{end}"
    );
    assert!(end.contains(&format!("max=\"{last}\"")), "{end}");
    // Only the applicant asks.
    let (_, page) = open(&r.west_admin, &format!("/applications/{id}")).await;
    assert!(!page.contains("data-testid=\"extend-form\""));

    // Past 31 March: the page again, the message beside the form, everything kept.
    let (s, page, _) = post_form(
        &r.head,
        &format!("/applications/{id}/extend"),
        &[
            ("end_date", last.add_days(1).unwrap().to_string()),
            ("reason", "訓練の振り返りを行うため".into()),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("data-testid=\"extend-error\""), "{page}");
    assert!(page.contains(&format!(
        "年度末（{}）までの日付を指定してください。",
        last.label_ja()
    )));
    assert!(tag(&page, "ext_end_date").contains("aria-invalid=\"true\""));
    assert!(page.contains("訓練の振り返りを行うため</textarea>"));
    // No reason: the reason is named.
    let later = r.today.add_days(30).unwrap();
    let (s, page, _) = post_form(
        &r.head,
        &format!("/applications/{id}/extend"),
        &[("end_date", later.to_string()), ("reason", " ".into())],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        tag(&page, "ext_reason").contains("aria-invalid=\"true\""),
        "{page}"
    );
    assert!(tag(&page, "ext_end_date").contains(&format!("value=\"{later}\"")));

    // Applied for: the extension's own page, waiting for both bodies again.
    let (s, _, location) = post_form(
        &r.head,
        &format!("/applications/{id}/extend"),
        &[
            ("end_date", later.to_string()),
            ("reason", "訓練の振り返りを行うため".into()),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(location.ends_with("?done=submit"), "{location}");
    let ext = created_id(&location);
    assert_ne!(ext, id);
    let (_, page) = open(&r.head, &location).await;
    assert!(page.contains("団体間グループの期間の延長の申請"), "{page}");
    assert!(page.contains(&format!("href=\"/applications/{id}\"")));
    assert!(page.contains(&later.label_ja()));
    assert!(page.contains("訓練の振り返りを行うため"));
    assert_eq!(page.matches("承認待ち</span>").count(), 2);
    // Each body approves it for itself, with no one to pick.
    let (_, page) = open(&r.west_admin, &format!("/applications/{ext}")).await;
    assert!(!page.contains("data-testid=\"approve-group-form\""));
    assert!(page.contains("自団体として承認する"), "{page}");
    let (s, _, location) = post_form(
        &r.west_admin,
        &format!("/applications/{ext}/step"),
        &[
            ("transition", "approve".into()),
            ("version", version(&page)),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("/applications/{ext}?done=approve_body"));
    r.app.stop().await;
}

#[tokio::test]
async fn an_administrator_lists_the_bodys_guests_with_their_days_left() {
    let t = town().await;
    let today = fixed_day(&t.app);
    let (_, me) = t.head.get("/api/v1/me").await;
    rename(&t.app, me["id"].as_str().expect("my ID"), "東山 課長").await;
    let in_twelve = today.add_days(12).unwrap();
    let (app_id, _) = admitted_guest(&t.app, &t.org, &t.head, &t.admin, in_twelve).await;

    // Administrators reach it from the applications list.
    let (_, list) = open(&t.admin, "/applications").await;
    assert!(list.contains("href=\"/applications/guests\""), "{list}");
    assert!(list.contains("ゲストの一覧"));
    let (_, list) = open(&t.head, "/applications").await;
    assert!(!list.contains("href=\"/applications/guests\""));

    let (s, page) = open(&t.admin, "/applications/guests").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("<h1>ゲストの一覧</h1>"));
    assert!(page.contains("data-testid=\"guests-current\""), "{page}");
    assert!(page.contains("山田 花子"));
    assert!(page.contains("株式会社東山防災"));
    assert!(
        page.contains("data-testid=\"guest-status\">利用中<"),
        "{page}"
    );
    assert!(
        page.contains("data-testid=\"guest-days\">あと12日<"),
        "{page}"
    );
    assert!(page.contains(&format!("{}～{}", today.label_ja(), in_twelve.label_ja())));
    assert!(page.contains("東山 課長"), "the sponsor");
    assert!(page.contains(&format!("href=\"/applications/{app_id}\"")));
    assert!(page.contains("data-testid=\"guests-ended-empty\""));

    // Section heads and staff do not list guests.
    assert_eq!(
        t.head.get_text("/applications/guests").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.staff.get_text("/applications/guests").await.0,
        StatusCode::FORBIDDEN
    );

    // The applicant asks for a later last day from the guest's application.
    let (_, page) = open(&t.head, &format!("/applications/{app_id}")).await;
    assert!(page.contains("data-testid=\"extend-form\""), "{page}");
    let later = in_twelve.add_days(10).unwrap();
    let (s, _, location) = post_form(
        &t.head,
        &format!("/applications/{app_id}/extend"),
        &[
            ("end_date", later.to_string()),
            ("reason", "報告書の確認が続くため".into()),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, page) = open(&t.head, &location).await;
    assert!(page.contains("ゲスト利用期間の延長の申請"), "{page}");
    assert!(page.contains("報告書の確認が続くため"));
    // Administrators do not ask for it.
    let (_, page) = open(&t.admin, &format!("/applications/{app_id}")).await;
    assert!(!page.contains("data-testid=\"extend-form\""));

    // On the last day, 「本日まで」; the next day it is over.
    t.app
        .state()
        .clock
        .set(in_twelve.start_of_day_utc_us() + 3_600_000_000);
    let (_, page) = open(&t.admin, "/applications/guests").await;
    assert!(
        page.contains("data-testid=\"guest-days\">本日まで<"),
        "{page}"
    );
    t.app
        .state()
        .clock
        .set(in_twelve.add_days(1).unwrap().start_of_day_utc_us() + 3_600_000_000);
    let (_, page) = open(&t.admin, "/applications/guests").await;
    assert!(page.contains("data-testid=\"guests-ended\""), "{page}");
    assert!(page.contains("data-testid=\"guest-status\">終了<"));
    assert!(page.contains("data-testid=\"guest-days\">終了<"));
    assert!(page.contains("data-testid=\"guests-current-empty\""));
    t.app.stop().await;
}
