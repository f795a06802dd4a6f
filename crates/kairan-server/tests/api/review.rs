//! Reading talks for audit (G7): only auditors, the security officer and CSIRT, only with a
//! stated reason, recorded before anything is shown, with every earlier version; the
//! administrator and members themselves cannot use this way in.

use crate::helpers::{TestApp, assert_error};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn an_auditor_reads_a_talk_only_with_a_reason_sees_every_version_and_the_reading_is_recorded()
{
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    let hanako_id = app.create_user(&org, "hanako.sato", &["staff"]).await;
    let taro_id = app.create_user(&org, "taro.suzuki", &["staff"]).await;
    app.create_user(&org, "kansa.ichiro", &["auditor"]).await;
    app.create_user(&org, "kanri.jiro", &["admin"]).await;
    let hanako = app.signed_in("hanako.sato").await;
    let (s, talk) = hanako
        .post(
            "/api/v1/talks",
            json!({ "kind": "group", "name": "窓口応対", "members": [taro_id] }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{talk}");
    let talk = talk["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/talks/{talk}/messages");
    let (_, first) = hanako.post(&path, json!({ "body": "第一報です" })).await;
    let first = first["id"].as_str().unwrap().to_owned();
    let (s, _) = hanako
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/messages/{first}"),
            Some(json!({ "body": "第一報（訂正）です" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, second) = hanako
        .post(&path, json!({ "body": "誤送信しました" }))
        .await;
    let second = second["id"].as_str().unwrap().to_owned();
    assert_eq!(
        hanako.delete(&format!("/api/v1/messages/{second}")).await.0,
        StatusCode::OK
    );

    let auditor = app.signed_in("kansa.ichiro").await;
    let (s, talks) = auditor.get(&format!("/api/v1/orgs/{org}/talks")).await;
    assert_eq!(s, StatusCode::OK);
    let listed = talks
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == talk.as_str())
        .expect("the talk is listed");
    assert_eq!(listed["name"], "窓口応対");
    assert_eq!(listed["messages"], 2);
    assert!(
        !talks.to_string().contains("第一報"),
        "the list holds no content"
    );

    // No reason, no reading, and nothing recorded.
    let review = format!("/api/v1/talks/{talk}/review");
    assert_error(
        &auditor.post(&review, json!({ "reason": "確認" })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    let (_, readings) = auditor
        .get(&format!("/api/v1/orgs/{org}/content-reviews"))
        .await;
    assert_eq!(readings.as_array().unwrap().len(), 0);

    let reason = "住民からの苦情（受付番号2026-118）に関する応対記録の確認";
    let (s, r) = auditor.post(&review, json!({ "reason": reason })).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let msgs = r["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0]["body"], "第一報（訂正）です");
    // Every test user bears the same name: the id says who sent it.
    assert_eq!(msgs[0]["sender_id"], hanako_id.as_str());
    assert_eq!(msgs[0]["sender_name"], "試験 太郎");
    assert_eq!(msgs[0]["versions"].as_array().unwrap().len(), 1);
    assert_eq!(msgs[0]["versions"][0]["body"], "第一報です");
    assert_eq!(msgs[0]["versions"][0]["reason"], "edited");
    assert_eq!(msgs[0]["versions"][0]["replaced_by"], hanako_id.as_str());
    assert!(msgs[1]["deleted_at"].is_i64());
    assert_eq!(msgs[1]["body"], "");
    assert_eq!(msgs[1]["versions"][0]["body"], "誤送信しました");
    assert_eq!(msgs[1]["versions"][0]["reason"], "deleted");

    // The reading is on record: who, which talk, why; the audit log points to it by ID only.
    let (_, readings) = auditor
        .get(&format!("/api/v1/orgs/{org}/content-reviews"))
        .await;
    let readings = readings.as_array().unwrap();
    assert_eq!(readings.len(), 1);
    assert_eq!(readings[0]["reason"], reason);
    assert_eq!(readings[0]["talk_id"], talk.as_str());
    assert_eq!(readings[0]["id"], r["review_id"]);
    let (_, log) = auditor
        .get(&format!("/api/v1/orgs/{org}/audit?action=content.reviewed"))
        .await;
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["target_id"], talk.as_str());
    assert_eq!(log[0]["details"]["review"], r["review_id"]);
    assert!(
        !log[0].to_string().contains("苦情"),
        "the reason text stays out of the log"
    );

    // The administrator runs the system but does not read what people wrote; a member uses
    // the talk itself, not this way in. Neither learns anything here, nor leaves a record.
    for login in ["kanri.jiro", "taro.suzuki"] {
        let c = app.signed_in(login).await;
        assert_error(
            &c.post(&review, json!({ "reason": reason })).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        assert_error(
            &c.post(
                "/api/v1/talks/no-such-talk/review",
                json!({ "reason": reason }),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
    }
    // An auditor of another body cannot reach this body's talk.
    let other = app.create_org("other-town", "他町").await;
    app.create_user(&other, "kansa.other", &["auditor"]).await;
    let outsider = app.signed_in("kansa.other").await;
    assert_error(
        &outsider.post(&review, json!({ "reason": reason })).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, readings) = auditor
        .get(&format!("/api/v1/orgs/{org}/content-reviews"))
        .await;
    assert_eq!(
        readings.as_array().unwrap().len(),
        1,
        "refusals record nothing"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_reading_page_asks_for_the_reason_and_shows_the_versions() {
    let app = TestApp::spawn().await;
    let org = app.create_org("test-town", "試験町").await;
    let taro_id = app.create_user(&org, "taro.suzuki", &["staff"]).await;
    app.create_user(&org, "hanako.sato", &["staff"]).await;
    app.create_user(&org, "csirt.saburo", &["csirt"]).await;
    let hanako = app.signed_in("hanako.sato").await;
    let (_, talk) = hanako
        .post(
            "/api/v1/talks",
            json!({ "kind": "group", "name": "<b>防災</b>", "members": [taro_id] }),
        )
        .await;
    let talk = talk["id"].as_str().unwrap().to_owned();
    hanako
        .post(
            &format!("/api/v1/talks/{talk}/messages"),
            json!({ "body": "<script>alert(1)</script>避難所を開設します" }),
        )
        .await;
    let csirt = app.signed_in("csirt.saburo").await;
    let (s, html) = csirt.get_text("/audit/talks").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("閲覧の理由"));
    assert!(
        html.contains("&lt;b&gt;防災&lt;&#x2f;b&gt;"),
        "names are escaped"
    );
    // CSIRT reads for an incident; the list of readings is the auditors' (and the officer's).
    assert!(!html.contains("これまでの閲覧記録"));
    let r = csirt
        .http
        .post(app.url("/audit/talks"))
        .form(&[
            ("csrf", csirt.csrf.as_str()),
            ("talk", talk.as_str()),
            ("reason", "不審なURLの投稿に関する事案調査（CSIRT-2026-07）"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("この閲覧は記録されました"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;避難所を開設します"));
    assert!(!html.contains("<script>alert(1)"));
    // A staff member does not see the page at all.
    let (s, _) = hanako.get_text("/audit/talks").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    app.stop().await;
}
