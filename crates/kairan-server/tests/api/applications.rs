//! Guest applications and their approval (issue 10, I6, I8; seed 003 §6): a section head
//! applies, an administrator of the same body decides, nobody decides on their own
//! application, a period never crosses 31 March, and every step is kept and audited.

use crate::helpers::{Client, TestApp, assert_error};
use kairan_domain::fiscal::{self, Date};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn today() -> Date {
    Date::from_utc_us(kairan_store::now_us())
}

/// A complete guest application for today only (always inside one fiscal year); `n` makes
/// each one distinct.
pub fn guest_fields(n: usize) -> Value {
    let t = today().to_string();
    json!({
        "purpose": format!("防災訓練の合同準備（{n}）"),
        "need": "資料の確認を毎日やり取りするため",
        "guest_name": "山田 花子",
        "guest_affiliation": "株式会社東山防災",
        "guest_email": "hanako.yamada@example.co.jp",
        "start_date": t,
        "end_date": t,
        "environment_confirmed": true,
    })
}

struct Town {
    app: TestApp,
    org: String,
    head_id: String,
    admin_id: String,
    head: Client,
    admin: Client,
}

async fn town() -> Town {
    let app = TestApp::spawn().await;
    let org = app.create_org("higashi", "東山町").await;
    let head_id = app.create_user(&org, "head.one", &["section_head"]).await;
    let admin_id = app.create_user(&org, "admin.one", &["admin"]).await;
    // A name of their own, so that a list shows whose application it is, not the reader's.
    {
        let mut tx = app.state().store.write().await.unwrap();
        sqlx::query("UPDATE users SET display_name = '伊藤 誠' WHERE id = $1")
            .bind(&head_id)
            .execute(tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let head = app.signed_in("head.one").await;
    let admin = app.signed_in("admin.one").await;
    Town {
        app,
        org,
        head_id,
        admin_id,
        head,
        admin,
    }
}

async fn apply(c: &Client, org: &str, fields: Value, submit: bool) -> (StatusCode, Value) {
    c.post(
        &format!("/api/v1/orgs/{org}/applications"),
        json!({ "kind": "guest", "fields": fields, "submit": submit }),
    )
    .await
}

async fn step(c: &Client, a: &Value, body: Value) -> (StatusCode, Value) {
    let mut body = body;
    if body.get("version").is_none() {
        body["version"] = a["version"].clone();
    }
    c.post(
        &format!(
            "/api/v1/applications/{}/transitions",
            a["id"].as_str().unwrap()
        ),
        body,
    )
    .await
}

async fn audit_details(app: &TestApp, action: &str) -> Vec<Value> {
    let mut conn = app.state().store.read().await.unwrap();
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT details FROM audit_log WHERE action = $1 ORDER BY seq")
            .bind(action)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    rows.iter()
        .map(|(d,)| serde_json::from_str(d).unwrap())
        .collect()
}

#[tokio::test]
async fn a_section_head_applies_for_a_guest_and_an_administrator_approves() {
    let t = town().await;
    let (s, a) = apply(&t.head, &t.org, guest_fields(1), true).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["state"], "submitted");
    assert_eq!(a["state_label_ja"], "申請中");
    assert_eq!(a["fields"]["guest_name"], "山田 花子");
    assert_eq!(a["days_left"], 0, "the period is today only");
    assert_eq!(
        a["fiscal_year"],
        fiscal::fiscal_year_label_ja(fiscal::fiscal_year(today()))
    );
    // The applicant may withdraw it, not decide on it.
    assert_eq!(a["can"], json!(["withdraw"]));

    // It waits in the administrator's queue, with what the administrator may do.
    let (s, queue) = t
        .admin
        .get(&format!("/api/v1/orgs/{}/applications?view=queue", t.org))
        .await;
    assert_eq!(s, StatusCode::OK, "{queue}");
    let queue = queue.as_array().unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0]["id"], a["id"]);
    assert_eq!(queue[0]["applicant_id"], t.head_id.as_str());
    assert_eq!(queue[0]["applicant_name"], "伊藤 誠");
    assert_eq!(
        queue[0]["can"],
        json!(["approve", "reject", "request_changes"])
    );

    // The administrator was told it waits, in the product.
    let (_, notes) = t.admin.get("/api/v1/me/notifications").await;
    let waiting: Vec<&Value> = notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "application_waiting")
        .collect();
    assert_eq!(waiting.len(), 1, "{notes}");
    assert_eq!(waiting[0]["target_id"], a["id"]);
    // The home page says so once, with a link to the application.
    // (The page escapes the slashes of the link's path; the ID is what identifies it.)
    let link = a["id"].as_str().unwrap().to_owned();
    let (_, home) = t.admin.get_text("/").await;
    assert!(
        home.contains("承認を待っている申請があります") && home.contains(&link),
        "{home}"
    );
    let (_, again) = t.admin.get_text("/").await;
    assert!(!again.contains("承認を待っている申請があります"));

    let (s, done) = step(&t.admin, &a, json!({ "transition": "approve" })).await;
    assert_eq!(s, StatusCode::OK, "{done}");
    // The applicant is told of the decision.
    let (_, notes) = t.head.get("/api/v1/me/notifications").await;
    let decided: Vec<&Value> = notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "application_decided")
        .collect();
    assert_eq!(decided.len(), 1, "{notes}");
    assert_eq!(decided[0]["details"]["transition"], "approve");
    let (_, home) = t.head.get_text("/").await;
    assert!(home.contains("あなたの申請が承認されました") && home.contains(&link));
    // The period begins today, so the approval puts it in effect at once.
    assert_eq!(done["state"], "active");
    // Approved is no longer waiting; the applicant sees it with every step.
    let (_, queue) = t
        .admin
        .get(&format!("/api/v1/orgs/{}/applications?view=queue", t.org))
        .await;
    assert_eq!(queue, json!([]));
    let (_, mine) = t
        .head
        .get(&format!("/api/v1/orgs/{}/applications", t.org))
        .await;
    assert_eq!(mine[0]["state"], "active");
    let (_, full) = t
        .head
        .get(&format!(
            "/api/v1/applications/{}",
            a["id"].as_str().unwrap()
        ))
        .await;
    let steps: Vec<(&str, &str)> = full["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["transition"].as_str().unwrap(),
                e["to_state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("submit", "submitted"),
            ("approve", "approved"),
            ("activate", "active")
        ]
    );
    assert_eq!(full["events"][1]["actor_id"], t.admin_id.as_str());
    assert_eq!(full["events"][0]["actor_id"], t.head_id.as_str());
    assert_eq!(full["events"][2]["actor_id"], Value::Null, "the clock");

    // The audit log has both steps and never the guest's name or address.
    let created = audit_details(&t.app, "application.created").await;
    let moved = audit_details(&t.app, "application.transition").await;
    assert_eq!(created.len(), 1);
    assert_eq!(moved.len(), 2);
    assert_eq!(moved[0]["from"], "submitted");
    assert_eq!(moved[0]["to"], "approved");
    assert_eq!(moved[1]["to"], "active");
    assert_eq!(moved[1]["by"], "clock");
    for d in created.iter().chain(&moved) {
        let text = d.to_string();
        assert!(!text.contains("山田") && !text.contains("hanako"), "{text}");
    }
    t.app.stop().await;
}

#[tokio::test]
async fn a_period_past_31_march_is_refused_naming_the_last_allowed_day() {
    let t = town().await;
    let last = fiscal::fiscal_year_end(today());
    let mut f = guest_fields(1);
    f["end_date"] = json!(last.add_days(1).unwrap().to_string());
    let r = apply(&t.head, &t.org, f, true).await;
    assert_error(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "period_crosses_fiscal_year",
    );
    assert!(
        r.1["error"]["message_ja"]
            .as_str()
            .unwrap()
            .contains(&last.label_ja()),
        "{}",
        r.1
    );
    assert!(
        r.1["error"]["message_en"]
            .as_str()
            .unwrap()
            .contains(&last.label_en())
    );
    // The last day itself is accepted.
    let mut f = guest_fields(2);
    f["end_date"] = json!(last.to_string());
    let (s, a) = apply(&t.head, &t.org, f, true).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");

    // Other bad fields are named; nothing was stored for them.
    for (field, value, code) in [
        ("guest_email", json!("hanako"), "invalid_field"),
        ("environment_confirmed", json!(false), "invalid_field"),
        ("start_date", json!("2026-02-30"), "invalid_field"),
        ("purpose", json!(""), "invalid_field"),
    ] {
        let mut f = guest_fields(3);
        f[field] = value;
        let r = apply(&t.head, &t.org, f, true).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, code);
    }
    let (_, mine) = t
        .head
        .get(&format!("/api/v1/orgs/{}/applications", t.org))
        .await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    t.app.stop().await;
}

#[tokio::test]
async fn nobody_decides_on_their_own_application_whatever_roles_they_hold() {
    let t = town().await;
    // A section head who is also an administrator.
    t.app
        .create_user(&t.org, "both.one", &["section_head", "admin"])
        .await;
    let both = t.app.signed_in("both.one").await;
    let (_, a) = apply(&both, &t.org, guest_fields(1), true).await;
    for transition in ["approve", "reject", "request_changes"] {
        let r = step(
            &both,
            &a,
            json!({ "transition": transition, "reason": "自分で判断したい" }),
        )
        .await;
        assert_error(&r, StatusCode::FORBIDDEN, "self_approval");
    }
    // It is in the queue they see, but offers them nothing to decide.
    let (_, queue) = both
        .get(&format!("/api/v1/orgs/{}/applications?view=queue", t.org))
        .await;
    assert_eq!(queue[0]["can"], json!(["withdraw"]));
    // Another administrator approves it.
    let (s, done) = step(&t.admin, &a, json!({ "transition": "approve" })).await;
    assert_eq!(s, StatusCode::OK, "{done}");
    // An approved application cannot be edited into something else.
    let r = step(
        &both,
        &done,
        json!({ "transition": "edit", "fields": guest_fields(9) }),
    )
    .await;
    assert_error(&r, StatusCode::CONFLICT, "edit_after_approval");

    // Staff cannot apply; the administrator does not apply for guests either.
    app_staff_cannot_apply(&t).await;
    t.app.stop().await;
}

async fn app_staff_cannot_apply(t: &Town) {
    t.app.create_user(&t.org, "staff.one", &["staff"]).await;
    let staff = t.app.signed_in("staff.one").await;
    for c in [&staff, &t.admin] {
        let r = apply(c, &t.org, guest_fields(5), true).await;
        assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    }
}

#[tokio::test]
async fn a_returned_application_is_corrected_and_resubmitted_and_stale_or_closed_steps_fail() {
    let t = town().await;
    let (_, a) = apply(&t.head, &t.org, guest_fields(1), false).await;
    assert_eq!(a["state"], "draft");
    assert_eq!(a["can"], json!(["edit", "submit", "withdraw"]));
    let (_, a) = step(&t.head, &a, json!({ "transition": "submit" })).await;
    assert_eq!(a["state"], "submitted");

    // Returning it needs a reason; the reason reaches the applicant.
    let r = step(&t.admin, &a, json!({ "transition": "request_changes" })).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let (s, back) = step(
        &t.admin,
        &a,
        json!({ "transition": "request_changes", "reason": "ゲストの所属を正式名称で記入してください。" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{back}");
    assert_eq!(back["state"], "changes_requested");
    // The applicant's screen was older: acting on it is refused, not applied to a new state.
    let r = step(&t.head, &a, json!({ "transition": "withdraw" })).await;
    assert_error(&r, StatusCode::CONFLICT, "application_changed");
    let (_, seen) = t
        .head
        .get(&format!(
            "/api/v1/applications/{}",
            a["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        seen["events"].as_array().unwrap().last().unwrap()["reason"],
        "ゲストの所属を正式名称で記入してください。"
    );
    assert_eq!(seen["can"], json!(["edit", "resubmit", "withdraw"]));

    let mut fixed = guest_fields(1);
    fixed["guest_affiliation"] = json!("株式会社東山防災研究所");
    let (s, edited) = step(
        &t.head,
        &seen,
        json!({ "transition": "edit", "fields": fixed }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{edited}");
    assert_eq!(edited["state"], "changes_requested");
    assert_eq!(
        edited["fields"]["guest_affiliation"],
        "株式会社東山防災研究所"
    );
    let (_, again) = step(&t.head, &edited, json!({ "transition": "resubmit" })).await;
    assert_eq!(again["state"], "submitted");

    // Rejected is final: no approval after it.
    let (_, rejected) = step(
        &t.admin,
        &again,
        json!({ "transition": "reject", "reason": "今回の訓練ではゲストの参加を見送るため。" }),
    )
    .await;
    assert_eq!(rejected["state"], "rejected");
    let r = step(&t.admin, &rejected, json!({ "transition": "approve" })).await;
    assert_error(&r, StatusCode::CONFLICT, "application_closed");
    let r = step(&t.admin, &rejected, json!({ "transition": "promote" })).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    // The reasons stay with the application; the audit log keeps only their hashes.
    for d in audit_details(&t.app, "application.transition").await {
        assert!(!d.to_string().contains("見送る"), "{d}");
    }
    t.app.stop().await;
}

#[tokio::test]
async fn only_the_applicant_and_the_bodys_approvers_learn_that_an_application_exists() {
    let t = town().await;
    let other = t.app.create_org("kita", "北浜市").await;
    t.app.create_user(&other, "admin.kita", &["admin"]).await;
    t.app
        .create_user(&t.org, "head.two", &["section_head"])
        .await;
    let stranger = t.app.signed_in("admin.kita").await;
    let colleague = t.app.signed_in("head.two").await;
    let (_, a) = apply(&t.head, &t.org, guest_fields(1), true).await;
    let path = format!("/api/v1/applications/{}", a["id"].as_str().unwrap());
    for c in [&stranger, &colleague] {
        assert_error(&c.get(&path).await, StatusCode::NOT_FOUND, "not_found");
        let r = step(c, &a, json!({ "transition": "approve" })).await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    }
    // Another body's administrator has no queue here, and nobody lists another body's.
    assert_error(
        &stranger
            .get(&format!("/api/v1/orgs/{}/applications?view=queue", t.org))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &stranger
            .get(&format!("/api/v1/orgs/{}/applications", t.org))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (_, theirs) = colleague
        .get(&format!("/api/v1/orgs/{}/applications", t.org))
        .await;
    assert_eq!(theirs, json!([]));
    t.app.stop().await;
}
