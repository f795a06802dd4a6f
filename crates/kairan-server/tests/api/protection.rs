//! Classification (G1) and per-body personal-data rules (G2) through the HTTP API: talk
//! ceilings, message classes, forwards that keep their class, the security officer's rules,
//! notifications and the detections trail.

use crate::helpers::{Client, TestApp, assert_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Office {
    app: TestApp,
    org: String,
    staff: String,
    colleague: String,
}

/// A body with two staff, a section head and a security officer.
async fn office() -> Office {
    let app = TestApp::spawn().await;
    let org = app.create_org("class-town", "区分町").await;
    let staff = app.create_user(&org, "hanako.sato", &["staff"]).await;
    let colleague = app.create_user(&org, "taro.suzuki", &["staff"]).await;
    app.create_user(&org, "head.kacho", &["section_head"]).await;
    app.create_user(&org, "sec.officer", &["security_officer"])
        .await;
    Office {
        app,
        org,
        staff,
        colleague,
    }
}

async fn talk_with(
    c: &Client,
    name: &str,
    members: &[&String],
    extra: Value,
) -> (StatusCode, Value) {
    let mut body = json!({ "kind": "group", "name": name, "members": members });
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    c.post("/api/v1/talks", body).await
}

async fn send(c: &Client, talk: &str, body: Value) -> (StatusCode, Value) {
    c.post(&format!("/api/v1/talks/{talk}/messages"), body)
        .await
}

#[tokio::test]
async fn a_new_talk_keeps_the_top_class_out_and_refuses_a_message_above_its_ceiling() {
    let o = office().await;
    let hanako = o.app.signed_in("hanako.sato").await;
    let (s, v) = talk_with(&hanako, "窓口", &[&o.colleague], json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let talk = v["id"].as_str().unwrap().to_owned();
    let (_, detail) = hanako.get(&format!("/api/v1/talks/{talk}")).await;
    assert_eq!(detail["scheme"]["preset"], "seed004");
    assert_eq!(detail["ceiling"]["label_ja"], "機密性 第2種");
    assert_eq!(detail["default_class"]["label_ja"], "機密性 第3種");
    assert_eq!(detail["can_allow_top"], false);

    assert_error(
        &send(
            &hanako,
            &talk,
            json!({ "body": "人事の内示です", "class": 2 }),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "class_above_ceiling",
    );
    assert_error(
        &send(&hanako, &talk, json!({ "body": "区分", "class": 7 })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    let (s, m) = send(
        &hanako,
        &talk,
        json!({ "body": "公表前の資料です", "class": 1 }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(m["class"], 1);
    let (s, m) = send(&hanako, &talk, json!({ "body": "お疲れさまです" })).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(m["class"], 0, "the talk's default");

    // The container shows the highest class of its contents, and its ceiling cannot drop
    // below that.
    let (_, list) = hanako.get("/api/v1/talks").await;
    assert_eq!(list[0]["max_class"]["label_ja"], "機密性 第2種");
    assert_error(
        &hanako
            .send(
                Method::PUT,
                &format!("/api/v1/talks/{talk}/class"),
                Some(json!({ "ceiling": 0 })),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    o.app.stop().await;
}

#[tokio::test]
async fn personal_data_implies_the_top_class_which_only_a_section_head_can_allow() {
    let o = office().await;
    let hanako = o.app.signed_in("hanako.sato").await;
    let head = o.app.signed_in("head.kacho").await;
    let birth = "対象の方の生年月日は昭和60年4月1日です。";

    // An ordinary talk takes a birth date only masked.
    let (_, v) = talk_with(&hanako, "福祉", &[&o.colleague], json!({})).await;
    let ordinary = v["id"].as_str().unwrap().to_owned();
    let r = send(
        &hanako,
        &ordinary,
        json!({ "body": birth, "confirm_dlp": true }),
    )
    .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "dlp_mask_required");
    assert_eq!(r.1["dlp"]["findings"][0]["kind"], "birth_date");
    assert_eq!(
        r.1["dlp"]["findings"][0]["above_ceiling_ja"],
        "機密性 第1種"
    );
    assert!(
        r.1["error"]["message_ja"]
            .as_str()
            .unwrap()
            .contains("機密性 第2種")
    );
    let masked = r.1["dlp"]["masked_text"].as_str().unwrap().to_owned();
    assert_eq!(
        send(&hanako, &ordinary, json!({ "body": masked })).await.0,
        StatusCode::CREATED
    );

    // Staff may not open a talk for the top class, nor raise one to it.
    assert_error(
        &talk_with(&hanako, "個人情報", &[], json!({ "ceiling": 2 })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    assert_error(
        &hanako
            .send(
                Method::PUT,
                &format!("/api/v1/talks/{ordinary}/class"),
                Some(json!({ "ceiling": 2 })),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );

    // A section head designates a talk for it; there the sender only confirms.
    let (s, v) = talk_with(
        &head,
        "個人情報の照会",
        &[&o.staff],
        json!({ "ceiling": 2 }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let cleared = v["id"].as_str().unwrap().to_owned();
    assert_error(
        &send(&hanako, &cleared, json!({ "body": birth })).await,
        StatusCode::CONFLICT,
        "dlp_confirm_required",
    );
    let (s, m) = send(
        &hanako,
        &cleared,
        json!({ "body": birth, "confirm_dlp": true }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(
        m["class"], 2,
        "the finding raised the message to the top class"
    );

    // A forward keeps its class: not into the ordinary talk, which is below it.
    let id = m["id"].as_str().unwrap();
    assert_error(
        &hanako
            .post(
                &format!("/api/v1/messages/{id}/forward"),
                json!({ "talk_id": ordinary, "confirm_dlp": true }),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "class_above_ceiling",
    );
    let (s, plain) = send(
        &hanako,
        &cleared,
        json!({ "body": "資料を共有します", "class": 1 }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, fwd) = hanako
        .post(
            &format!("/api/v1/messages/{}/forward", plain["id"].as_str().unwrap()),
            json!({ "talk_id": ordinary }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{fwd}");
    assert_eq!(fwd["class"], 1);
    assert_eq!(fwd["forwarded"], true);
    assert_eq!(fwd["body"], "資料を共有します");

    // Forwarding into a talk one does not belong to reveals nothing.
    let (_, v) = talk_with(&head, "所属長会議", &[], json!({})).await;
    let closed = v["id"].as_str().unwrap();
    assert_error(
        &hanako
            .post(
                &format!("/api/v1/messages/{}/forward", plain["id"].as_str().unwrap()),
                json!({ "talk_id": closed }),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // Every change of class is audited.
    let officer = o.app.signed_in("sec.officer").await;
    let (_, log) = officer
        .get(&format!(
            "/api/v1/orgs/{}/audit?action=message.forwarded",
            o.org
        ))
        .await;
    assert_eq!(log[0]["details"]["class"], 1);
    o.app.stop().await;
}

#[tokio::test]
async fn the_security_officer_sets_the_rules_and_hears_of_every_my_number_attempt() {
    let o = office().await;
    let hanako = o.app.signed_in("hanako.sato").await;
    let officer = o.app.signed_in("sec.officer").await;
    let settings = format!("/api/v1/orgs/{}/protection", o.org);
    let (s, p) = officer.get(&settings).await;
    assert_eq!(s, StatusCode::OK);
    let my_number = p["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "my_number")
        .unwrap()
        .clone();
    assert_eq!(my_number["action"], "mask");
    assert_eq!(my_number["notify"], true);
    assert_eq!(my_number["implies"], 2);

    let (_, v) = talk_with(&hanako, "窓口", &[&o.colleague], json!({})).await;
    let talk = v["id"].as_str().unwrap().to_owned();
    let text = "申請者の個人番号は1234-5678-9018です。";
    assert_error(
        &send(&hanako, &talk, json!({ "body": text })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dlp_mask_required",
    );
    let (_, n) = officer.get("/api/v1/me/notifications").await;
    assert_eq!(n["unread"], 1);
    assert_eq!(n["items"][0]["kind"], "dlp");
    assert_eq!(n["items"][0]["actor_id"], o.staff.as_str());
    assert_eq!(n["items"][0]["details"]["findings"][0]["kind"], "my_number");
    assert!(
        !n.to_string().contains("9018"),
        "no value in a notification: {n}"
    );
    let (_, events) = officer
        .get(&format!("/api/v1/orgs/{}/dlp-events", o.org))
        .await;
    assert_eq!(events[0]["action"], "dlp.blocked");
    assert_eq!(events[0]["findings"][0]["kind"], "my_number");
    assert!(!events.to_string().contains("5678-9018"));
    assert_eq!(
        officer
            .post("/api/v1/me/notifications/read", json!({}))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(officer.get("/api/v1/me/notifications").await.1["unread"], 0);

    // The officer blocks My Number outright and adds a keyword of the body.
    let (s, p) = officer
        .send(
            Method::PUT,
            &settings,
            Some(json!({
                "rules": { "my_number": { "action": "block", "notify": true, "implies": 2 } },
                "keywords": ["秘", "庁内限り"]
            })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_error(
        &send(&hanako, &talk, json!({ "body": text })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dlp_blocked",
    );
    assert_error(
        &send(
            &hanako,
            &talk,
            json!({ "body": "この資料は庁内限りです。" }),
        )
        .await,
        StatusCode::CONFLICT,
        "dlp_confirm_required",
    );
    assert_eq!(
        send(
            &hanako,
            &talk,
            json!({ "body": "この資料は取扱注意です。" })
        )
        .await
        .0,
        StatusCode::CREATED,
        "取扱注意 is no longer on this body's list"
    );
    // Unknown kinds and classes outside the scheme are refused.
    for bad in [
        json!({ "rules": { "my_numbr": { "action": "block" } } }),
        json!({ "rules": { "email": { "action": "confirm", "implies": 5 } } }),
        json!({ "preset": "seed999" }),
        json!({ "levels": "公開" }),
    ] {
        assert_error(
            &officer.send(Method::PUT, &settings, Some(bad)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        );
    }
    let (_, log) = officer
        .get(&format!(
            "/api/v1/orgs/{}/audit?action=protection.changed",
            o.org
        ))
        .await;
    assert_eq!(log.as_array().unwrap().len(), 1);
    o.app.stop().await;
}

#[tokio::test]
async fn a_scheme_can_be_relabelled_but_not_reshaped_once_talks_carry_classes() {
    let o = office().await;
    let officer = o.app.signed_in("sec.officer").await;
    let hanako = o.app.signed_in("hanako.sato").await;
    let settings = format!("/api/v1/orgs/{}/protection", o.org);
    // Before any talk, the body may switch to the seed 003 scheme.
    let (s, p) = officer
        .send(Method::PUT, &settings, Some(json!({ "preset": "seed003" })))
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["scheme"]["confidentiality"][2]["label_ja"], "機密性3");
    let (_, v) = talk_with(&hanako, "連絡", &[], json!({})).await;
    let talk = v["id"].as_str().unwrap().to_owned();
    let (_, detail) = hanako.get(&format!("/api/v1/talks/{talk}")).await;
    assert_eq!(detail["ceiling"]["label_ja"], "機密性2");
    // Now talks carry classes: a scale of another length is refused, new labels are not.
    assert_error(
        &officer
            .send(Method::PUT, &settings, Some(json!({ "levels": "公開,秘" })))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    let (s, p) = officer
        .send(
            Method::PUT,
            &settings,
            Some(json!({ "levels": "公開:Public,庁内限り:Internal,秘:Secret" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["scheme"]["integrity"][1]["label_ja"], "完全性2", "kept");
    let (_, detail) = hanako.get(&format!("/api/v1/talks/{talk}")).await;
    assert_eq!(detail["ceiling"]["label_ja"], "庁内限り");
    assert_eq!(detail["ceiling"]["label_en"], "Internal");
    o.app.stop().await;
}

#[tokio::test]
async fn a_talk_records_integrity_and_availability_classes_when_the_scheme_has_them() {
    let o = office().await;
    let hanako = o.app.signed_in("hanako.sato").await;
    let (s, v) = talk_with(
        &hanako,
        "基幹系の障害連絡",
        &[&o.colleague],
        json!({ "integrity": 3, "availability": 3, "default_class": 1 }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let talk = v["id"].as_str().unwrap();
    let (_, d) = hanako.get(&format!("/api/v1/talks/{talk}")).await;
    assert_eq!(d["integrity"]["label_ja"], "完全性 第1種");
    assert_eq!(d["availability"]["label_en"], "Availability class 1");
    assert_eq!(d["default_class"]["rank"], 1);
    let (_, m) = send(&hanako, talk, json!({ "body": "復旧見込みは15時です" })).await;
    assert_eq!(m["class"], 1, "the talk's default class");
    assert_error(
        &talk_with(&hanako, "x", &[], json!({ "integrity": 4 })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    o.app.stop().await;
}
