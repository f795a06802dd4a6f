//! Inter-body groups (issue 10, I7; seed 003 §7): a section head applies for a talk shared
//! with other bodies, each body's administrator approves for its own staff and picks them,
//! the talk exists only once all have approved, members of every body read and write it and
//! see each other's body, nothing else crosses, and the clock turns it read-only at the end
//! and takes it out of sight later.

use crate::helpers::{Client, TestApp, assert_error};
use kairan_domain::fiscal::{self, Date};
use kairan_server::services::guests;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A complete group application with body `peer`, for today only (inside one fiscal year);
/// `own` are colleagues of the applicant who join too.
pub fn group_fields(n: usize, peer: &str, own: &[&str]) -> Value {
    let t = Date::from_utc_us(kairan_store::now_us()).to_string();
    json!({
        "purpose": format!("広域避難訓練の調整（{n}）"),
        "need": "二つの市の担当者で日々の段取りを確認するため",
        "talk_name": "広域避難訓練 調整",
        "own_members": own,
        "bodies": [{ "org_id": peer, "requested": "防災課の担当者2名" }],
        "start_date": t,
        "end_date": t,
    })
}

/// Two bodies on one server: 東山市 (the applicant's) and 西山市.
struct Region {
    app: TestApp,
    east: String,
    west: String,
    head: Client,
    east_admin: Client,
    west_admin: Client,
    east_staff: String,
    west_staff: String,
    west_other: String,
}

async fn region() -> Region {
    let app = TestApp::spawn().await;
    let east = app.create_org("higashiyama", "東山市").await;
    let west = app.create_org("nishiyama", "西山市").await;
    app.create_user(&east, "head.east", &["section_head"]).await;
    app.create_user(&east, "admin.east", &["admin"]).await;
    app.create_user(&west, "admin.west", &["admin"]).await;
    let east_staff = app.create_user(&east, "staff.east", &["staff"]).await;
    let west_staff = app.create_user(&west, "staff.west", &["staff"]).await;
    let west_other = app.create_user(&west, "other.west", &["staff"]).await;
    Region {
        head: app.signed_in("head.east").await,
        east_admin: app.signed_in("admin.east").await,
        west_admin: app.signed_in("admin.west").await,
        app,
        east,
        west,
        east_staff,
        west_staff,
        west_other,
    }
}

fn today(app: &TestApp) -> Date {
    app.state().clock.today()
}

async fn apply(r: &Region, fields: Value) -> (StatusCode, Value) {
    r.head
        .post(
            &format!("/api/v1/orgs/{}/applications", r.east),
            json!({ "kind": "inter_org_group", "fields": fields, "submit": true }),
        )
        .await
}

async fn step(c: &Client, a: &Value, body: Value) -> (StatusCode, Value) {
    let mut body = body;
    body["version"] = a["version"].clone();
    c.post(
        &format!(
            "/api/v1/applications/{}/transitions",
            a["id"].as_str().unwrap()
        ),
        body,
    )
    .await
}

async fn read(c: &Client, a: &Value) -> Value {
    let (s, v) = c
        .get(&format!(
            "/api/v1/applications/{}",
            a["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Applies for the whole fiscal year from today and has both bodies approve; returns the
/// application as the applicant sees it afterwards.
async fn approved_group(r: &Region) -> Value {
    let d = today(&r.app);
    let mut f = group_fields(1, &r.west, &[&r.east_staff]);
    f["end_date"] = json!(fiscal::fiscal_year_end(d).to_string());
    let (s, a) = apply(r, f).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    // A body's approval names at least one of its staff.
    let refused = step(
        &r.east_admin,
        &a,
        json!({ "transition": "approve", "members": [] }),
    )
    .await;
    assert_error(&refused, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let (s, a) = step(
        &r.east_admin,
        &a,
        json!({ "transition": "approve", "members": [r.east_staff] }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let (s, a) = step(
        &r.west_admin,
        &a,
        json!({ "transition": "approve", "members": [r.west_staff] }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    read(&r.head, &a).await
}

#[tokio::test]
async fn every_body_approves_its_own_staff_and_then_the_group_is_a_talk_of_both() {
    let r = region().await;
    let (s, a) = apply(&r, group_fields(1, &r.west, &[&r.east_staff])).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["kind_label_ja"], "団体間グループ");
    assert_eq!(a["state"], "submitted");
    let bodies: Vec<(&str, bool)> = a["bodies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["org_name"].as_str().unwrap(),
                b["approved"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(bodies, [("東山市", false), ("西山市", false)]);
    assert_eq!(a["bodies"][1]["requested"], "防災課の担当者2名");

    // Both bodies' administrators have it in their queue, and are told.
    for admin in [&r.east_admin, &r.west_admin] {
        let (_, org) = admin.get("/api/v1/me").await;
        let org = org["org_id"].as_str().unwrap().to_owned();
        let (s, q) = admin
            .get(&format!("/api/v1/orgs/{org}/applications?view=queue"))
            .await;
        assert_eq!(s, StatusCode::OK, "{q}");
        assert_eq!(ids(&q), [a["id"].as_str().unwrap()], "{q}");
        assert_eq!(q[0]["can"], json!(["approve", "reject", "request_changes"]));
        let (_, notes) = admin.get("/api/v1/me/notifications").await;
        assert!(
            notes["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["kind"] == "application_waiting" && n["target_id"] == a["id"]),
            "{notes}"
        );
    }
    // West's staff are West's to choose: the East administrator cannot put them in.
    let (s, v) = step(
        &r.east_admin,
        &a,
        json!({ "transition": "approve", "members": [r.west_staff] }),
    )
    .await;
    assert_error(&(s, v), StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");

    // East approves for East: the application waits for West, no talk yet.
    let (s, a) = step(
        &r.east_admin,
        &a,
        json!({ "transition": "approve", "members": [r.east_staff] }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["state"], "submitted");
    assert_eq!(a["bodies"][0]["approved"], true);
    assert_eq!(
        a["can"],
        json!(["reject", "request_changes"]),
        "approved once"
    );
    let (_, q) = r
        .east_admin
        .get(&format!("/api/v1/orgs/{}/applications?view=queue", r.east))
        .await;
    assert!(ids(&q).is_empty(), "East decided: {q}");
    // Approving again for East is refused.
    let again = step(
        &r.east_admin,
        &a,
        json!({ "transition": "approve", "members": [r.east_staff] }),
    )
    .await;
    assert_error(&again, StatusCode::CONFLICT, "already_approved");
    let (_, talks) = r.head.get("/api/v1/talks").await;
    assert!(talks.as_array().unwrap().is_empty(), "{talks}");

    // West approves with one of its staff: the group starts today, as a talk of both.
    let (s, a) = step(
        &r.west_admin,
        &a,
        json!({ "transition": "approve", "members": [r.west_staff] }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let a = read(&r.head, &a).await;
    assert_eq!(a["state"], "active", "{a}");
    assert_eq!(a["bodies"][1]["members"][0]["user_id"], r.west_staff);
    let talk = a["talk_id"].as_str().expect("the group's talk").to_owned();

    let west = r.app.signed_in("staff.west").await;
    let east = r.app.signed_in("staff.east").await;
    let (s, v) = west
        .post(
            &format!("/api/v1/talks/{talk}/messages"),
            json!({ "body": "西山市防災課です。よろしくお願いします。" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, msgs) = east.get(&format!("/api/v1/talks/{talk}/messages")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(msgs[0]["sender_id"], r.west_staff);
    // Members see each other's body beside the name; their own body is not repeated.
    let (_, detail) = east.get(&format!("/api/v1/talks/{talk}")).await;
    assert_eq!(detail["shared"], true);
    assert_eq!(detail["closed"], false);
    let from: Vec<(String, Value)> = detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user_id"].as_str().unwrap().to_owned(),
                m["org_name"].clone(),
            )
        })
        .collect();
    assert_eq!(from.len(), 3, "{detail}");
    assert!(
        from.contains(&(r.west_staff.clone(), json!("西山市"))),
        "{detail}"
    );
    assert!(
        from.contains(&(r.east_staff.clone(), Value::Null)),
        "{detail}"
    );
    let (_, talks) = west.get("/api/v1/talks").await;
    assert_eq!(talks[0]["shared"], true);

    // Nothing else crosses: West's member cannot invite anyone, rename the talk, or read
    // East's directory; West's other staff do not learn the talk exists.
    let (s, _) = west
        .post(
            &format!("/api/v1/talks/{talk}/members"),
            json!({ "user_ids": [r.west_other] }),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = west
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/talks/{talk}"),
            Some(json!({ "name": "改名" })),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = west
        .get(&format!("/api/v1/orgs/{}/directory", r.east))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let other = r.app.signed_in("other.west").await;
    let (s, _) = other.get(&format!("/api/v1/talks/{talk}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The West administrator decided, but is not a member.
    let (s, _) = r.west_admin.get(&format!("/api/v1/talks/{talk}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Audited: each body's approval as a step, the start with the number of members.
    let mut conn = r.app.state().store.read().await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, details FROM audit_log WHERE action IN ('application.transition', 'group.started') ORDER BY seq",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let seen: Vec<String> = rows
        .iter()
        .map(|(a, d)| {
            let d: Value = serde_json::from_str(d).unwrap();
            format!("{a} {}", d["transition"].as_str().unwrap_or(""))
        })
        .collect();
    assert_eq!(
        seen,
        [
            "application.transition approve_body",
            "application.transition approve",
            "application.transition activate",
            "group.started ",
        ],
        "{rows:?}"
    );
    let started: Value = serde_json::from_str(&rows[3].1).unwrap();
    assert_eq!(started["members"], 3);
    drop(conn);
    r.app.stop().await;
}

#[tokio::test]
async fn nobody_approves_their_own_group_and_a_returned_one_is_approved_again_by_all() {
    let r = region().await;
    // A section head who is also an administrator of East applies.
    let both = r
        .app
        .create_user(&r.east, "head.admin", &["section_head", "admin"])
        .await;
    let c = r.app.signed_in("head.admin").await;
    let (s, a) = c
        .post(
            &format!("/api/v1/orgs/{}/applications", r.east),
            json!({ "kind": "inter_org_group", "fields": group_fields(2, &r.west, &[]), "submit": true }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["can"], json!(["withdraw"]));
    let (s, v) = step(
        &c,
        &a,
        json!({ "transition": "approve", "members": [both] }),
    )
    .await;
    assert_error(&(s, v), StatusCode::FORBIDDEN, "self_approval");

    // West approves, then East's other administrator returns it: West's approval is gone.
    let (s, a) = step(
        &r.west_admin,
        &a,
        json!({ "transition": "approve", "members": [r.west_staff] }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let (s, a) = step(
        &r.east_admin,
        &a,
        json!({ "transition": "request_changes", "reason": "期間を年度内に収まるよう見直してください。" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["state"], "changes_requested");
    assert!(
        a["bodies"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["approved"] == false),
        "{a}"
    );
    // The applicant is told, and resubmits; both bodies have it in their queue again.
    let a = read(&c, &a).await;
    let (s, a) = step(&c, &a, json!({ "transition": "resubmit" })).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let (_, q) = r
        .west_admin
        .get(&format!("/api/v1/orgs/{}/applications?view=queue", r.west))
        .await;
    assert_eq!(ids(&q), [a["id"].as_str().unwrap()]);
    r.app.stop().await;
}

#[tokio::test]
async fn a_group_application_is_refused_field_by_field() {
    let r = region().await;
    let d = today(&r.app);
    let cases: Vec<(Value, &str)> = vec![
        (
            {
                let mut f = group_fields(1, &r.west, &[]);
                f["end_date"] = json!(fiscal::fiscal_year_end(d).add_days(1).unwrap().to_string());
                f
            },
            "period_crosses_fiscal_year",
        ),
        (
            {
                let mut f = group_fields(1, &r.west, &[]);
                f["start_date"] = json!(d.add_days(-1).unwrap().to_string());
                f
            },
            "invalid_field",
        ),
        (group_fields(1, &r.east, &[]), "invalid_field"),
        (group_fields(1, "no-such-body", &[]), "invalid_field"),
        (group_fields(1, &r.west, &[&r.west_staff]), "invalid_field"),
        (
            {
                let mut f = group_fields(1, &r.west, &[]);
                f["talk_name"] = json!("");
                f
            },
            "invalid_field",
        ),
    ];
    for (fields, code) in cases {
        let (s, v) = apply(&r, fields.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{fields} {v}");
        assert_eq!(v["error"]["code"], code, "{fields} {v}");
    }
    // The period error names the last allowed day.
    let mut f = group_fields(1, &r.west, &[]);
    f["end_date"] = json!(fiscal::fiscal_year_end(d).add_days(1).unwrap().to_string());
    let (_, v) = apply(&r, f).await;
    let last = fiscal::fiscal_year_end(d);
    assert!(
        v["error"]["message_ja"]
            .as_str()
            .unwrap()
            .contains(&last.label_ja()),
        "{v}"
    );
    // Staff may not apply at all.
    let staff = r.app.signed_in("staff.east").await;
    let (s, _) = staff
        .post(
            &format!("/api/v1/orgs/{}/applications", r.east),
            json!({ "kind": "inter_org_group", "fields": group_fields(1, &r.west, &[]), "submit": true }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    r.app.stop().await;
}

#[tokio::test]
async fn at_the_end_the_group_turns_read_only_and_later_leaves_every_list() {
    let r = region().await;
    let a = approved_group(&r).await;
    assert_eq!(a["state"], "active", "{a}");
    let talk = a["talk_id"].as_str().unwrap().to_owned();
    let west = r.app.signed_in("staff.west").await;
    let (s, _) = west
        .post(
            &format!("/api/v1/talks/{talk}/messages"),
            json!({ "body": "年度末まで、こちらで調整します。" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);

    // An extension is approved by both bodies again; the first approval alone moves nothing.
    let last = fiscal::fiscal_year_end(today(&r.app));
    let state = r.app.state();
    let end = Date::parse_iso(a["end_date"].as_str().unwrap()).unwrap();
    assert_eq!(end, last);

    // 00:00 JST the day after the last day: the group ends, read-only for everyone.
    let midnight = last.end_of_day_utc_us();
    state.clock.set(midnight - 60_000_000);
    assert_eq!(guests::run_once(state).await.unwrap().ended, 0);
    state.clock.set(midnight);
    assert_eq!(guests::run_once(state).await.unwrap().ended, 1);
    let (s, v) = west
        .post(
            &format!("/api/v1/talks/{talk}/messages"),
            json!({ "body": "終わった後の書き込み" }),
        )
        .await;
    assert_error(&(s, v), StatusCode::CONFLICT, "talk_closed");
    let (s, msgs) = west.get(&format!("/api/v1/talks/{talk}/messages")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(msgs.as_array().unwrap().len(), 1);
    let (_, detail) = r.head.get(&format!("/api/v1/talks/{talk}")).await;
    assert_eq!(detail["closed"], true);
    assert_eq!(read(&r.head, &a).await["state"], "ended");

    // Ninety days on (the default), it leaves every member's list; the messages stay.
    let day = 86_400_000_000i64;
    state.clock.set(midnight + 89 * day);
    guests::run_once(state).await.unwrap();
    assert_eq!(
        r.head.get(&format!("/api/v1/talks/{talk}")).await.0,
        StatusCode::OK
    );
    state.clock.set(midnight + 91 * day);
    guests::run_once(state).await.unwrap();
    assert_eq!(
        r.head.get(&format!("/api/v1/talks/{talk}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, talks) = west.get("/api/v1/talks").await;
    assert!(talks.as_array().unwrap().is_empty(), "{talks}");
    let mut conn = state.store.read().await.unwrap();
    let (kept,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages WHERE talk_id = $1")
        .bind(&talk)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(kept, 1);
    let actions: Vec<(String,)> =
        sqlx::query_as("SELECT action FROM audit_log WHERE action LIKE 'group.%' ORDER BY seq")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let actions: Vec<&str> = actions.iter().map(|(a,)| a.as_str()).collect();
    assert_eq!(actions, ["group.started", "group.ended", "group.removed"]);
    drop(conn);
    r.app.stop().await;
}

#[tokio::test]
async fn a_group_extension_is_approved_by_every_body_again() {
    let r = region().await;
    // A group for today only, extended to the end of the fiscal year.
    let (s, a) = apply(&r, group_fields(3, &r.west, &[])).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let (_, a) = step(
        &r.east_admin,
        &a,
        json!({ "transition": "approve", "members": [r.east_staff] }),
    )
    .await;
    let (s, a) = step(
        &r.west_admin,
        &a,
        json!({ "transition": "approve", "members": [r.west_staff] }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let last = fiscal::fiscal_year_end(today(&r.app));
    let (s, x) = r
        .head
        .post(
            &format!("/api/v1/orgs/{}/applications", r.east),
            json!({ "kind": "group_extension", "submit": true, "fields": {
                "application_id": a["id"], "end_date": last.to_string(), "reason": "訓練の振り返りまで続けるため" } }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{x}");
    assert_eq!(x["bodies"].as_array().unwrap().len(), 2, "{x}");
    let (s, x) = step(&r.west_admin, &x, json!({ "transition": "approve" })).await;
    assert_eq!(s, StatusCode::OK, "{x}");
    assert_eq!(
        read(&r.head, &a).await["end_date"],
        a["end_date"],
        "one body is not enough"
    );
    let (s, x) = step(&r.east_admin, &x, json!({ "transition": "approve" })).await;
    assert_eq!(s, StatusCode::OK, "{x}");
    assert_eq!(x["state"], "approved");
    assert_eq!(read(&r.head, &a).await["end_date"], last.to_string());
    // A guest extension cannot name a group, nor a group extension a guest.
    let (s, v) = r
        .head
        .post(
            &format!("/api/v1/orgs/{}/applications", r.east),
            json!({ "kind": "guest_extension", "submit": true, "fields": {
                "application_id": a["id"], "end_date": last.to_string(), "reason": "理由" } }),
        )
        .await;
    assert_error(&(s, v), StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    r.app.stop().await;
}
