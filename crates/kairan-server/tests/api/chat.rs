//! Talks, messages, read positions and live delivery (C1–C3).

use crate::helpers::{Client, TestApp, assert_error};
use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

struct Town {
    app: TestApp,
    org: String,
    ids: Vec<String>,
}

async fn town() -> Town {
    town_with(|_| {}).await
}

async fn town_with(tweak: impl FnOnce(&mut kairan_server::config::Config)) -> Town {
    let app = TestApp::spawn_with(tweak).await;
    let org = app.create_org("test-town", "試験町").await;
    let mut ids = Vec::new();
    for login in ["hanako.sato", "taro.suzuki", "jiro.tanaka"] {
        ids.push(app.create_user(&org, login, &["staff"]).await);
    }
    Town { app, org, ids }
}

/// No practical send limit, for tests that stream messages.
fn unlimited(c: &mut kairan_server::config::Config) {
    c.chat.messages_per_second = 100_000;
    c.chat.message_burst = 100_000;
}

async fn group(c: &Client, name: &str, members: &[&String]) -> String {
    let (s, v) = c
        .post(
            "/api/v1/talks",
            json!({ "kind": "group", "name": name, "members": members }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_one_to_one_talk_is_reopened_not_duplicated() {
    let t = town().await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let taro = t.app.signed_in("taro.suzuki").await;
    let (s, first) = hanako
        .post(
            "/api/v1/talks",
            json!({ "kind": "direct", "user_id": t.ids[1] }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, again) = hanako
        .post(
            "/api/v1/talks",
            json!({ "kind": "direct", "user_id": t.ids[1] }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, from_taro) = taro
        .post(
            "/api/v1/talks",
            json!({ "kind": "direct", "user_id": t.ids[0] }),
        )
        .await;
    assert_eq!(first["id"], again["id"]);
    assert_eq!(first["id"], from_taro["id"]);
    let (_, list) = taro.get("/api/v1/talks").await;
    assert_eq!(list[0]["name"], "試験 太郎");
    assert_error(
        &hanako
            .post(
                "/api/v1/talks",
                json!({ "kind": "direct", "user_id": t.ids[0] }),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    t.app.stop().await;
}

#[tokio::test]
async fn only_members_can_read_a_talk_or_learn_that_it_exists() {
    let t = town().await;
    let other_org = t.app.create_org("other-city", "他市").await;
    t.app
        .create_user(&other_org, "outsider.one", &["staff"])
        .await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let jiro = t.app.signed_in("jiro.tanaka").await;
    let outsider = t.app.signed_in("outsider.one").await;
    let talk = group(&hanako, "住民課連絡", &[&t.ids[1]]).await;
    for c in [&jiro, &outsider] {
        assert_error(
            &c.get(&format!("/api/v1/talks/{talk}")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_error(
            &c.get(&format!("/api/v1/talks/{talk}/messages")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_error(
            &c.post(
                &format!("/api/v1/talks/{talk}/messages"),
                json!({ "body": "入れて" }),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        let (_, list) = c.get("/api/v1/talks").await;
        assert_eq!(list, json!([]));
    }
    let missing = "01a20000-0000-7000-8000-000000000000";
    let same = hanako.get(&format!("/api/v1/talks/{missing}")).await;
    assert_eq!(
        same,
        jiro.get(&format!("/api/v1/talks/{talk}")).await,
        "a hidden talk looks exactly like a missing one"
    );
    // A colleague from another body cannot be added either.
    let (_, other_users) = outsider.get("/api/v1/me").await;
    assert_error(
        &hanako
            .post(
                &format!("/api/v1/talks/{talk}/members"),
                json!({ "user_ids": [other_users["id"]] }),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    t.app.stop().await;
}

#[tokio::test]
async fn messages_are_numbered_per_talk_and_unread_counts_follow_reading() {
    let t = town().await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let taro = t.app.signed_in("taro.suzuki").await;
    let talk = group(&hanako, "窓口当番", &[&t.ids[1]]).await;
    for body in [
        "おはようございます。",
        "本日の窓口は\n午前：佐藤\n午後：鈴木\nです。",
        "<script>alert(1)</script>",
    ] {
        let (s, m) = hanako
            .post(
                &format!("/api/v1/talks/{talk}/messages"),
                json!({ "body": body }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
    }
    let (_, list) = taro.get(&format!("/api/v1/talks/{talk}/messages")).await;
    let seqs: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2, 3]);
    assert_eq!(
        list[1]["body"],
        "本日の窓口は\n午前：佐藤\n午後：鈴木\nです。"
    );
    assert_eq!(
        list[2]["body"], "<script>alert(1)</script>",
        "stored as typed; escaping is the renderer's job"
    );
    let (_, talks) = taro.get("/api/v1/talks").await;
    assert_eq!(talks[0]["unread"], 3);
    let (_, mine) = hanako.get("/api/v1/talks").await;
    assert_eq!(
        mine[0]["unread"], 0,
        "the sender has read their own messages"
    );
    assert_eq!(
        taro.post(&format!("/api/v1/talks/{talk}/read"), json!({ "seq": 2 }))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, talks) = taro.get("/api/v1/talks").await;
    assert_eq!(talks[0]["unread"], 1);
    let (_, detail) = hanako.get(&format!("/api/v1/talks/{talk}")).await;
    let reads: BTreeSet<i64> = detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["last_read_seq"].as_i64().unwrap())
        .collect();
    assert_eq!(reads, BTreeSet::from([2, 3]));
    let (_, after) = taro
        .get(&format!("/api/v1/talks/{talk}/messages?after=2"))
        .await;
    assert_eq!(after.as_array().unwrap().len(), 1);
    let (_, before) = taro
        .get(&format!("/api/v1/talks/{talk}/messages?before=3&limit=1"))
        .await;
    assert_eq!(before[0]["seq"], 2);
    t.app.stop().await;
}

#[tokio::test]
async fn empty_oversized_and_malformed_messages_get_clear_errors() {
    let t = town().await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let talk = group(&hanako, "試験", &[]).await;
    let path = format!("/api/v1/talks/{talk}/messages");
    assert_error(
        &hanako.post(&path, json!({ "body": "  \n " })).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    let r = hanako
        .post(&path, json!({ "body": "あ".repeat(4001) }))
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert!(
        r.1["error"]["message_ja"]
            .as_str()
            .unwrap()
            .contains("4000文字以内")
    );
    assert_error(
        &hanako.post(&path, json!({ "text": "hi" })).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &hanako
            .post("/api/v1/talks/nope/messages", json!({ "body": "hi" }))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    t.app.stop().await;
}

#[tokio::test]
async fn a_member_who_left_can_no_longer_read_or_post() {
    let t = town().await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let taro = t.app.signed_in("taro.suzuki").await;
    let talk = group(&hanako, "係内", &[&t.ids[1]]).await;
    assert_eq!(
        taro.delete(&format!("/api/v1/talks/{talk}/members/me"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &taro
            .post(
                &format!("/api/v1/talks/{talk}/messages"),
                json!({ "body": "まだいます" }),
            )
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &taro.get(&format!("/api/v1/talks/{talk}/messages")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, d) = hanako.get(&format!("/api/v1/talks/{talk}")).await;
    assert_eq!(d["members"].as_array().unwrap().len(), 1);
    t.app.stop().await;
}

async fn connect(
    app: &TestApp,
    c: &Client,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let url = app.url("/api/v1/ws").replace("http://", "ws://");
    let cookies = c.cookie_header();
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert("cookie", cookies.parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("websocket");
    ws
}

async fn next_json(
    ws: &mut (impl StreamExt<Item = Result<Ws, tokio_tungstenite::tungstenite::Error>> + Unpin),
) -> Value {
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .unwrap()
            .unwrap();
        if let Ws::Text(t) = frame {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

#[tokio::test]
async fn a_cross_site_websocket_is_refused() {
    let t = town().await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let url = t.app.url("/api/v1/ws").replace("http://", "ws://");
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("cookie", hanako.cookie_header().parse().unwrap());
    let mut same_site = req.clone();
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
            assert_eq!(r.status(), StatusCode::FORBIDDEN)
        }
        other => panic!("expected 403, got {other:?}"),
    }
    // The same request from the server's own origin is accepted.
    let origin = t.app.base.clone();
    same_site
        .headers_mut()
        .insert("origin", origin.parse().unwrap());
    assert!(tokio_tungstenite::connect_async(same_site).await.is_ok());
    t.app.stop().await;
}

#[tokio::test]
async fn live_messages_reach_every_member_and_a_resume_misses_nothing_and_repeats_nothing() {
    // This test hammers the resume window with a stream of sends; the per-user send limit has
    // its own test.
    let t = town_with(unlimited).await;
    let hanako = std::sync::Arc::new(t.app.signed_in("hanako.sato").await);
    let taro = std::sync::Arc::new(t.app.signed_in("taro.suzuki").await);
    let talk = group(&hanako, "災害対策本部", &[&t.ids[1]]).await;
    for i in 0..5 {
        hanako
            .post(
                &format!("/api/v1/talks/{talk}/messages"),
                json!({ "body": format!("事前{i}") }),
            )
            .await;
    }
    // Two senders post concurrently while a receiver connects and resumes from seq 2: the
    // window between reading the backlog and going live is hammered.
    let total = 5 + 2 * 60;
    let mut senders = Vec::new();
    for c in [hanako.clone(), taro.clone()] {
        let talk = talk.clone();
        senders.push(tokio::spawn(async move {
            for i in 0..60 {
                let (s, v) = c
                    .post(
                        &format!("/api/v1/talks/{talk}/messages"),
                        json!({ "body": format!("連絡{i}") }),
                    )
                    .await;
                assert_eq!(s, StatusCode::CREATED, "{v}");
            }
        }));
    }
    let mut ws = connect(&t.app, &taro).await;
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    ws.send(Ws::Text(
        json!({ "type": "resume", "talks": { &talk: 2 } })
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let mut seen = Vec::new();
    while seen.len() < total - 2 {
        let v = next_json(&mut ws).await;
        if v["type"] == "message" && v["talk_id"] == talk.as_str() {
            seen.push(v["message"]["seq"].as_i64().unwrap());
        }
    }
    for s in senders {
        s.await.unwrap();
    }
    let expected: Vec<i64> = (3..=total as i64).collect();
    assert_eq!(seen, expected, "every message after 2, once each, in order");
    t.app.stop().await;
}

#[tokio::test]
async fn a_removed_member_stops_receiving_at_once() {
    let t = town().await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let taro = t.app.signed_in("taro.suzuki").await;
    let talk = group(&hanako, "一時", &[&t.ids[1]]).await;
    let mut ws = connect(&t.app, &taro).await;
    next_json(&mut ws).await;
    ws.send(Ws::Text(
        json!({ "type": "resume", "talks": { &talk: 0 } })
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "caught_up");
    hanako
        .post(
            &format!("/api/v1/talks/{talk}/messages"),
            json!({ "body": "一通目" }),
        )
        .await;
    assert_eq!(next_json(&mut ws).await["message"]["body"], "一通目");
    assert_eq!(
        taro.delete(&format!("/api/v1/talks/{talk}/members/me"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(next_json(&mut ws).await["type"], "talk");
    let (s, _) = hanako
        .post(
            &format!("/api/v1/talks/{talk}/messages"),
            json!({ "body": "二通目" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    ws.send(Ws::Text(json!({ "type": "ping" }).to_string().into()))
        .await
        .unwrap();
    // The pong arrives; the second message never does.
    assert_eq!(next_json(&mut ws).await["type"], "pong");
    t.app.stop().await;
}

#[tokio::test]
async fn a_malformed_websocket_frame_gets_an_error_and_the_connection_stays_up() {
    let t = town().await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let mut ws = connect(&t.app, &hanako).await;
    next_json(&mut ws).await;
    ws.send(Ws::Text("{not json".into())).await.unwrap();
    let e = next_json(&mut ws).await;
    assert_eq!(e["type"], "error");
    assert_eq!(e["error"]["code"], "bad_request");
    ws.send(Ws::Text(json!({ "type": "ping" }).to_string().into()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "pong");
    t.app.stop().await;
}

#[tokio::test]
async fn sending_a_message_is_in_the_audit_log_without_its_text() {
    let t = town().await;
    t.app
        .create_user(&t.org, "audit.person", &["auditor"])
        .await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let talk = group(&hanako, "監査", &[]).await;
    hanako
        .post(
            &format!("/api/v1/talks/{talk}/messages"),
            json!({ "body": "秘密の本文です" }),
        )
        .await;
    let auditor = t.app.signed_in("audit.person").await;
    let (_, log) = auditor
        .get(&format!(
            "/api/v1/orgs/{}/audit?action=message.posted",
            t.org
        ))
        .await;
    assert_eq!(log.as_array().unwrap().len(), 1);
    assert_eq!(log[0]["details"]["seq"], 1);
    assert!(!log.to_string().contains("秘密の本文"));
    t.app.stop().await;
}

#[tokio::test]
async fn a_my_number_is_refused_and_its_masked_form_can_be_sent() {
    let t = town().await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let talk = group(&hanako, "住民票", &[&t.ids[1]]).await;
    let path = format!("/api/v1/talks/{talk}/messages");
    let text = "申請者の個人番号は1234-5678-9018です。確認をお願いします。";
    let r = hanako.post(&path, json!({ "body": text })).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "dlp_mask_required");
    let f = &r.1["dlp"]["findings"][0];
    assert_eq!(f["kind"], "my_number");
    assert_eq!(f["label_ja"], "個人番号");
    let (s, e) = (
        f["start"].as_u64().unwrap() as usize,
        f["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(
        &r.1["dlp"]["checked_text"].as_str().unwrap()[s..e],
        "1234-5678-9018"
    );
    // Confirming does not override the rule: only the masked text passes.
    assert_error(
        &hanako
            .post(&path, json!({ "body": text, "confirm_dlp": true }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "dlp_mask_required",
    );
    let masked = r.1["dlp"]["masked_text"].as_str().unwrap().to_owned();
    assert!(masked.contains("****-****-9018"), "{masked}");
    let (s, m) = hanako.post(&path, json!({ "body": masked })).await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    let (_, list) = hanako.get(&path).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "the unmasked text was never stored"
    );
    t.app.stop().await;
}

#[tokio::test]
async fn a_confidentiality_stamp_asks_for_confirmation_and_the_choice_is_audited() {
    let t = town().await;
    t.app
        .create_user(&t.org, "audit.person", &["auditor"])
        .await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let talk = group(&hanako, "福祉", &[]).await;
    let path = format!("/api/v1/talks/{talk}/messages");
    let text = "この資料は取扱注意です。";
    assert_error(
        &hanako.post(&path, json!({ "body": text })).await,
        StatusCode::CONFLICT,
        "dlp_confirm_required",
    );
    let (s, _) = hanako
        .post(&path, json!({ "body": text, "confirm_dlp": true }))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let auditor = t.app.signed_in("audit.person").await;
    let (_, posted) = auditor
        .get(&format!(
            "/api/v1/orgs/{}/audit?action=message.posted",
            t.org
        ))
        .await;
    assert_eq!(posted[0]["details"]["dlp_confirmed"][0]["kind"], "keyword");
    // 取扱注意 marks class 2 information: the message carries that class.
    assert_eq!(posted[0]["details"]["class"], 1);
    let (_, asked) = auditor
        .get(&format!(
            "/api/v1/orgs/{}/audit?action=dlp.confirm_requested",
            t.org
        ))
        .await;
    assert_eq!(asked.as_array().unwrap().len(), 1);
    t.app.stop().await;
}

#[tokio::test]
async fn no_detected_value_reaches_the_audit_log_or_the_metrics() {
    let t = town().await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let talk = group(&hanako, "全種類", &[]).await;
    let path = format!("/api/v1/talks/{talk}/messages");
    // One message per kind, each value distinctive enough to search for, with what the default
    // rules do with it in a talk whose ceiling is 第2種.
    let samples = [
        (
            "個人番号は123456789018です",
            "123456789018",
            "my_number",
            "dlp_mask_required",
        ),
        (
            "基礎年金番号 1234-567890",
            "1234-567890",
            "basic_pension_number",
            "dlp_mask_required",
        ),
        (
            "在留カード番号はAB12345678CDです",
            "AB12345678CD",
            "residence_card_number",
            "dlp_mask_required",
        ),
        (
            "旅券番号 TZ1234567",
            "TZ1234567",
            "passport_number",
            "dlp_mask_required",
        ),
        (
            "カード 4111 1111 1111 1111",
            "4111 1111 1111 1111",
            "credit_card",
            "dlp_mask_required",
        ),
        (
            "口座は普通 1234567 です",
            "1234567",
            "bank_account",
            "dlp_mask_required",
        ),
        (
            "生年月日：1985年4月1日",
            "1985年4月1日",
            "birth_date",
            "dlp_mask_required",
        ),
        (
            "住所は東京都千代田区霞が関1-2-3です",
            "霞が関1-2-3",
            "address",
            "dlp_confirm_required",
        ),
        (
            "携帯は090-1234-5678",
            "090-1234-5678",
            "phone_number",
            "sent",
        ),
        (
            "連絡先 hanako.sato@example.lg.jp",
            "hanako.sato@example.lg.jp",
            "email",
            "sent",
        ),
    ];
    for (text, _, kind, outcome) in samples {
        let (s, v) = hanako.post(&path, json!({ "body": text })).await;
        if outcome == "sent" {
            assert_eq!(s, StatusCode::CREATED, "{text}: {v}");
            continue;
        }
        assert_eq!(v["error"]["code"], outcome, "{text}: {v}");
        assert_eq!(v["dlp"]["findings"][0]["kind"], kind, "{text}: {v}");
        let retry = if outcome == "dlp_confirm_required" {
            json!({ "body": text, "confirm_dlp": true })
        } else {
            json!({ "body": v["dlp"]["masked_text"] })
        };
        assert_eq!(
            hanako.post(&path, retry).await.0,
            StatusCode::CREATED,
            "{text}"
        );
    }
    // Everything the audit log holds, read directly from the database.
    let mut conn = t.app.state().store.read().await.unwrap();
    let rows = kairan_store::audit::list(
        &mut conn,
        &kairan_store::audit::Query {
            org_id: t.org.clone(),
            before_seq: None,
            action: None,
            actor_id: None,
            limit: 10_000,
        },
    )
    .await
    .unwrap();
    drop(conn);
    // The details are where a value could leak (IDs and hashes are not searched: a hex hash
    // could hold any digits by chance).
    let audit: String = rows.iter().map(|r| r.details.as_str()).collect();
    for (_, _, kind, outcome) in samples {
        if outcome != "sent" {
            assert!(
                audit.contains(&format!("\"kind\":\"{kind}\"")),
                "{kind} was recorded"
            );
        }
    }
    let (_, metrics) = hanako.get_text("/metrics").await;
    for (_, value, _, _) in samples {
        assert!(!audit.contains(value), "audit log holds {value}");
        assert!(!metrics.contains(value), "metrics hold {value}");
    }
    t.app.stop().await;
}

#[tokio::test]
async fn edits_and_deletions_show_to_members_and_every_version_is_kept() {
    let t = town().await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let taro = t.app.signed_in("taro.suzuki").await;
    let talk = group(&hanako, "議事録", &[&t.ids[1]]).await;
    let (_, m) = hanako
        .post(
            &format!("/api/v1/talks/{talk}/messages"),
            json!({ "body": "会議は10時からです" }),
        )
        .await;
    let id = m["id"].as_str().unwrap().to_owned();
    let (s, edited) = hanako
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/messages/{id}"),
            Some(json!({ "body": "会議は11時からです" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{edited}");
    assert_eq!(edited["edited"], true);
    // Only the sender edits or deletes.
    assert_error(
        &taro
            .send(
                reqwest::Method::PATCH,
                &format!("/api/v1/messages/{id}"),
                Some(json!({ "body": "改ざん" })),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    assert_error(
        &taro.delete(&format!("/api/v1/messages/{id}")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    let (_, list) = taro.get(&format!("/api/v1/talks/{talk}/messages")).await;
    assert_eq!(list[0]["body"], "会議は11時からです");
    assert_eq!(list[0]["edited"], true);
    assert_eq!(
        hanako.delete(&format!("/api/v1/messages/{id}")).await.0,
        StatusCode::OK
    );
    let (_, list) = taro.get(&format!("/api/v1/talks/{talk}/messages")).await;
    assert_eq!(list[0]["deleted"], true);
    assert_eq!(list[0]["body"], "", "members no longer see the text");
    assert_eq!(list[0]["seq"], 1, "the message keeps its place");
    assert_error(
        &hanako.delete(&format!("/api/v1/messages/{id}")).await,
        StatusCode::CONFLICT,
        "message_deleted",
    );
    // Both earlier texts are kept, with who and why, for auditors.
    let mut conn = t.app.state().store.read().await.unwrap();
    let versions = kairan_store::chat::versions(&mut conn, &id).await.unwrap();
    let kept: Vec<(&str, &str)> = versions
        .iter()
        .map(|v| (v.body.as_str(), v.reason.as_str()))
        .collect();
    assert_eq!(
        kept,
        [
            ("会議は10時からです", "edited"),
            ("会議は11時からです", "deleted")
        ]
    );
    assert!(versions.iter().all(|v| v.replaced_by == t.ids[0]));
    t.app.stop().await;
}

#[tokio::test]
async fn an_edit_passes_the_same_personal_data_check_as_a_new_message() {
    let t = town().await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let talk = group(&hanako, "窓口", &[]).await;
    let (_, m) = hanako
        .post(
            &format!("/api/v1/talks/{talk}/messages"),
            json!({ "body": "確認しました" }),
        )
        .await;
    let id = m["id"].as_str().unwrap();
    let r = hanako
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/messages/{id}"),
            Some(json!({ "body": "個人番号は123456789018です" })),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "dlp_mask_required");
    t.app.stop().await;
}

#[tokio::test]
async fn stamps_show_who_reacted_and_replies_must_stay_in_their_talk() {
    let t = town().await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let taro = t.app.signed_in("taro.suzuki").await;
    let talk = group(&hanako, "連絡", &[&t.ids[1]]).await;
    let other = group(&hanako, "別件", &[]).await;
    let (_, m) = hanako
        .post(
            &format!("/api/v1/talks/{talk}/messages"),
            json!({ "body": "資料を共有しました" }),
        )
        .await;
    let id = m["id"].as_str().unwrap().to_owned();
    assert_eq!(
        taro.post(
            &format!("/api/v1/messages/{id}/reactions"),
            json!({ "stamp": "thanks" })
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        hanako
            .post(
                &format!("/api/v1/messages/{id}/reactions"),
                json!({ "stamp": "thanks" })
            )
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &taro
            .post(
                &format!("/api/v1/messages/{id}/reactions"),
                json!({ "stamp": "💩" }),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    let (_, list) = taro.get(&format!("/api/v1/talks/{talk}/messages")).await;
    assert_eq!(
        list[0]["reactions"],
        json!([{ "stamp": "thanks", "user_ids": [t.ids[1], t.ids[0]] }])
    );
    assert_eq!(
        taro.delete(&format!("/api/v1/messages/{id}/reactions/thanks"))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let (_, list) = taro.get(&format!("/api/v1/talks/{talk}/messages")).await;
    assert_eq!(
        list[0]["reactions"],
        json!([{ "stamp": "thanks", "user_ids": [t.ids[0]] }])
    );
    // A reply quotes a message of the same talk, never one from elsewhere.
    let (s, reply) = taro
        .post(
            &format!("/api/v1/talks/{talk}/messages"),
            json!({ "body": "ありがとうございます", "reply_to": id }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(reply["reply_to"], id.as_str());
    assert_error(
        &hanako
            .post(
                &format!("/api/v1/talks/{other}/messages"),
                json!({ "body": "転記", "reply_to": id }),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    t.app.stop().await;
}

#[tokio::test]
async fn a_pinned_message_stays_at_hand_for_every_member_until_unpinned() {
    let t = town().await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let taro = t.app.signed_in("taro.suzuki").await;
    let talk = group(&hanako, "年末業務", &[&t.ids[1]]).await;
    let (_, m) = hanako
        .post(
            &format!("/api/v1/talks/{talk}/messages"),
            json!({ "body": "仕事納めは12月28日です" }),
        )
        .await;
    let id = m["id"].as_str().unwrap().to_owned();
    let (s, pinned) = taro
        .post(&format!("/api/v1/messages/{id}/pin"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(pinned["pinned"], true);
    let (_, d) = hanako.get(&format!("/api/v1/talks/{talk}")).await;
    assert_eq!(d["pinned"][0]["id"], id.as_str());
    assert_eq!(
        hanako.delete(&format!("/api/v1/messages/{id}/pin")).await.0,
        StatusCode::OK
    );
    let (_, d) = taro.get(&format!("/api/v1/talks/{talk}")).await;
    assert_eq!(d["pinned"], json!([]));
    // A deleted message cannot stay pinned.
    let (s, _) = taro
        .post(&format!("/api/v1/messages/{id}/pin"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, d) = taro.get(&format!("/api/v1/talks/{talk}")).await;
    assert_eq!(d["pinned"][0]["id"], id.as_str(), "pinned again");
    assert_eq!(
        hanako.delete(&format!("/api/v1/messages/{id}")).await.0,
        StatusCode::OK
    );
    let (_, d) = taro.get(&format!("/api/v1/talks/{talk}")).await;
    assert_eq!(d["pinned"], json!([]));
    t.app.stop().await;
}

#[tokio::test]
async fn a_mention_names_a_member_and_shows_as_a_badge_until_read() {
    let t = town().await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let taro = t.app.signed_in("taro.suzuki").await;
    let talk = group(&hanako, "予算", &[&t.ids[1]]).await;
    let path = format!("/api/v1/talks/{talk}/messages");
    // The test users are all named 試験 太郎.
    let (s, m) = hanako.post(&path, json!({ "body": "＠試験 太郎 さん、見積書の確認をお願いします", "mentions": [t.ids[1]] })).await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(m["mentions"], json!([t.ids[1]]));
    let (_, talks) = taro.get("/api/v1/talks").await;
    assert_eq!(talks[0]["unread_mentions"], 1);
    let (_, list) = taro.get(&path).await;
    assert_eq!(list[0]["mentions"], json!([t.ids[1]]));
    taro.post(&format!("/api/v1/talks/{talk}/read"), json!({ "seq": 1 }))
        .await;
    let (_, talks) = taro.get("/api/v1/talks").await;
    assert_eq!(talks[0]["unread_mentions"], 0);
    // Not a member, or not named in the text: refused.
    assert_error(
        &hanako
            .post(
                &path,
                json!({ "body": "@試験 太郎 さん", "mentions": [t.ids[2]] }),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    assert_error(
        &hanako
            .post(
                &path,
                json!({ "body": "よろしくお願いします", "mentions": [t.ids[1]] }),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    t.app.stop().await;
}

#[tokio::test]
async fn suspending_a_user_closes_their_live_connection_at_once() {
    let t = town().await;
    let taro = t.app.signed_in("taro.suzuki").await;
    let mut ws = connect(&t.app, &taro).await;
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    // Let the connection's first periodic session check pass; the next one is 5 s away.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    kairan_server::services::admin::set_active(
        t.app.state(),
        &kairan_domain::policy::Actor::Operator,
        &t.ids[1],
        false,
    )
    .await
    .unwrap();
    // Closed by the suspension itself, well before the periodic check could have done it.
    let closed = tokio::time::timeout(std::time::Duration::from_secs(3), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Ws::Close(_))) => return true,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert_eq!(closed, Ok(true), "the connection stayed open");
    t.app.stop().await;
}

#[tokio::test]
async fn a_resumed_message_carries_its_mentions_and_stamps_as_the_list_does() {
    let t = town().await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let taro = t.app.signed_in("taro.suzuki").await;
    let talk = group(&hanako, "確認", &[&t.ids[1]]).await;
    let (_, me) = taro.get("/api/v1/me").await;
    let (s, m) = hanako
        .post(
            &format!("/api/v1/talks/{talk}/messages"),
            json!({ "body": format!("@{} 確認をお願いします", me["display_name"].as_str().unwrap()), "mentions": [&t.ids[1]] }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    let id = m["id"].as_str().unwrap();
    let (s, _) = taro
        .post(
            &format!("/api/v1/messages/{id}/reactions"),
            json!({ "stamp": "ok" }),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, list) = taro.get(&format!("/api/v1/talks/{talk}/messages")).await;

    let mut ws = connect(&t.app, &taro).await;
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    ws.send(Ws::Text(
        json!({ "type": "resume", "talks": { &talk: 0 } })
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let resumed = next_json(&mut ws).await;
    assert_eq!(resumed["type"], "message");
    assert_eq!(resumed["message"]["mentions"], json!([&t.ids[1]]));
    assert_eq!(
        resumed["message"]["reactions"],
        json!([{ "stamp": "ok", "user_ids": [&t.ids[1]] }])
    );
    assert_eq!(resumed["message"], list[0], "the same message either way");
    t.app.stop().await;
}

/// Reads frames until one of `kind` arrives (skipping activity and live messages).
async fn next_of(
    ws: &mut (impl StreamExt<Item = Result<Ws, tokio_tungstenite::tungstenite::Error>> + Unpin),
    kind: &str,
) -> Value {
    loop {
        let v = next_json(ws).await;
        if v["type"] == kind {
            return v;
        }
        // A refusal while waiting for something else fails here, not as a timeout.
        assert_ne!(v["type"], "error", "waiting for {kind}: {v}");
    }
}

async fn ws_send(
    ws: &mut (impl SinkExt<Ws, Error = tokio_tungstenite::tungstenite::Error> + Unpin),
    frame: Value,
) {
    ws.send(Ws::Text(frame.to_string().into())).await.unwrap();
}

#[tokio::test]
async fn a_message_sent_on_the_live_connection_is_acknowledged_after_commit_and_delivered() {
    let t = town().await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let taro = t.app.signed_in("taro.suzuki").await;
    let talk = group(&hanako, "窓口", &[&t.ids[1]]).await;
    let mut sender = connect(&t.app, &hanako).await;
    next_json(&mut sender).await;
    let mut receiver = connect(&t.app, &taro).await;
    next_json(&mut receiver).await;
    ws_send(
        &mut receiver,
        json!({ "type": "resume", "talks": { &talk: 0 } }),
    )
    .await;
    assert_eq!(next_json(&mut receiver).await["type"], "caught_up");

    ws_send(
        &mut sender,
        json!({ "type": "send", "ref": "c-1", "talk_id": talk, "body": "受付は9時からです\n窓口2番へ" }),
    )
    .await;
    let ack = next_of(&mut sender, "ack").await;
    assert_eq!(ack["ref"], "c-1");
    assert_eq!(ack["message"]["seq"], 1);
    assert_eq!(ack["message"]["body"], "受付は9時からです\n窓口2番へ");
    let live = next_of(&mut receiver, "message").await;
    assert_eq!(live["message"]["id"], ack["message"]["id"]);
    // Acknowledged means stored: the list over HTTP has it.
    let (_, list) = taro.get(&format!("/api/v1/talks/{talk}/messages")).await;
    assert_eq!(list[0]["id"], ack["message"]["id"]);

    // Refusals name the send they answer, and the connection carries on.
    ws_send(
        &mut sender,
        json!({ "type": "send", "ref": "c-2", "talk_id": "no-such-talk", "body": "届かない" }),
    )
    .await;
    let e = next_of(&mut sender, "error").await;
    assert_eq!(
        (e["ref"].as_str(), e["error"]["code"].as_str()),
        (Some("c-2"), Some("not_found"))
    );
    ws_send(
        &mut sender,
        json!({ "type": "send", "ref": "c-3", "talk_id": talk, "body": "  " }),
    )
    .await;
    let e = next_of(&mut sender, "error").await;
    assert_eq!(e["ref"], "c-3");
    assert_eq!(e["error"]["code"], "invalid_field");
    assert!(!e["error"]["message_ja"].as_str().unwrap().is_empty());
    ws_send(
        &mut sender,
        json!({ "type": "send", "ref": "c-4", "talk_id": talk, "body": "マイナンバーは123456789018です" }),
    )
    .await;
    let e = next_of(&mut sender, "error").await;
    assert_eq!(e["ref"], "c-4");
    assert_eq!(e["error"]["code"], "dlp_mask_required");
    assert_eq!(e["dlp"]["masked_text"], "マイナンバーは********9018です");
    ws_send(&mut sender, json!({ "type": "ping" })).await;
    // Still connected: it answers.
    next_of(&mut sender, "pong").await;
    let (_, list) = taro.get(&format!("/api/v1/talks/{talk}/messages")).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "nothing refused was stored"
    );
    t.app.stop().await;
}

#[tokio::test]
async fn a_flood_from_one_user_is_refused_with_a_clear_error_and_others_are_not_held_up() {
    let t = town_with(|c| {
        c.chat.messages_per_second = 1;
        c.chat.message_burst = 5;
    })
    .await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let taro = t.app.signed_in("taro.suzuki").await;
    let talk = group(&hanako, "連絡", &[&t.ids[1]]).await;
    let path = format!("/api/v1/talks/{talk}/messages");
    for i in 0..5 {
        let (s, v) = hanako
            .post(&path, json!({ "body": format!("連絡 {i}") }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let r = hanako
        .http
        .post(t.app.url(&path))
        .header("x-csrf-token", &hanako.csrf)
        .json(&json!({ "body": "6通目" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // One message a second: the next token is at most a second away.
    assert_eq!(retry, 1);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "rate_limited");
    assert!(
        v["error"]["message_ja"]
            .as_str()
            .unwrap()
            .contains("1秒ほど待って")
    );
    // The same limit holds on the live connection, which stays open.
    let mut ws = connect(&t.app, &hanako).await;
    next_json(&mut ws).await;
    ws_send(
        &mut ws,
        json!({ "type": "send", "ref": "x", "talk_id": talk, "body": "7通目" }),
    )
    .await;
    let e = next_of(&mut ws, "error").await;
    assert_eq!(
        (e["ref"].as_str(), e["error"]["code"].as_str()),
        (Some("x"), Some("rate_limited"))
    );
    ws_send(&mut ws, json!({ "type": "ping" })).await;
    // Still connected: it answers.
    next_of(&mut ws, "pong").await;
    // Someone else in the same talk sends as usual.
    let (s, _) = taro.post(&path, json!({ "body": "了解しました" })).await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, list) = taro.get(&path).await;
    assert_eq!(list.as_array().unwrap().len(), 6, "five of hers and his");
    t.app.stop().await;
}

#[tokio::test]
async fn concurrent_senders_in_several_talks_get_gapless_numbers_and_one_audit_record_each() {
    let t = town_with(unlimited).await;
    let clients = [
        std::sync::Arc::new(t.app.signed_in("hanako.sato").await),
        std::sync::Arc::new(t.app.signed_in("taro.suzuki").await),
        std::sync::Arc::new(t.app.signed_in("jiro.tanaka").await),
    ];
    let all = [&t.ids[1], &t.ids[2]];
    let mut talks = Vec::new();
    for name in ["総務", "防災", "福祉"] {
        talks.push(group(&clients[0], name, &all).await);
    }
    // 3 people × 3 talks × 20 messages, all at once: the writer takes them in batches.
    let mut tasks = Vec::new();
    for (ci, c) in clients.iter().enumerate() {
        for talk in &talks {
            for i in 0..20 {
                let (c, talk) = (c.clone(), talk.clone());
                tasks.push(tokio::spawn(async move {
                    let (s, v) = c
                        .post(
                            &format!("/api/v1/talks/{talk}/messages"),
                            json!({ "body": format!("{ci}-{i}") }),
                        )
                        .await;
                    assert_eq!(s, StatusCode::CREATED, "{v}");
                    v["id"].as_str().unwrap().to_owned()
                }));
            }
        }
    }
    let mut acked = BTreeSet::new();
    for task in tasks {
        acked.insert(task.await.unwrap());
    }
    assert_eq!(acked.len(), 180);
    let mut stored = BTreeSet::new();
    let mut own_last = std::collections::BTreeMap::new();
    for talk in &talks {
        let (_, list) = clients[0]
            .get(&format!("/api/v1/talks/{talk}/messages?limit=100"))
            .await;
        let seqs: Vec<i64> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(seqs, (1..=60).collect::<Vec<_>>(), "talk {talk}");
        // Jiro's newest message here: his read position must be exactly there.
        let jiros_last = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["sender_id"] == t.ids[2].as_str())
            .map(|m| m["seq"].as_i64().unwrap())
            .max()
            .unwrap();
        own_last.insert(talk.clone(), jiros_last);
        stored.extend(
            list.as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(stored, acked);
    // Each sender has read their own messages: their read position is their newest post.
    let (_, mine) = clients[2].get("/api/v1/talks").await;
    for talk in mine.as_array().unwrap() {
        let id = talk["id"].as_str().unwrap();
        assert_eq!(talk["last_read_seq"], own_last[id], "{talk}");
    }
    let mut conn = t.app.state().store.read().await.unwrap();
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'message.posted'")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert_eq!(audited, 180);
    drop(conn);
    assert!(matches!(
        kairan_store::audit::verify(&t.app.state().store)
            .await
            .unwrap(),
        kairan_store::audit::Verdict::Intact { .. }
    ));
    t.app.stop().await;
}

#[tokio::test]
async fn sends_on_one_connection_are_stored_in_the_order_they_were_sent() {
    let t = town_with(unlimited).await;
    let hanako = t.app.signed_in("hanako.sato").await;
    let talk = group(&hanako, "順序", &[&t.ids[1]]).await;
    let mut ws = connect(&t.app, &hanako).await;
    next_json(&mut ws).await;
    // Alternate heavier sends (a personal-data finding to confirm, a reply) with plain ones,
    // all at once: each must still get the next number in the order sent.
    ws_send(
        &mut ws,
        json!({ "type": "send", "ref": "0", "talk_id": talk, "body": "最初の連絡です" }),
    )
    .await;
    let first = next_of(&mut ws, "ack").await;
    let first_id = first["message"]["id"].as_str().unwrap().to_owned();
    for i in 1..30 {
        let frame = match i % 3 {
            0 => {
                json!({ "type": "send", "ref": i.to_string(), "talk_id": talk, "body": format!("{i}: 返信です"), "reply_to": first_id })
            }
            1 => {
                json!({ "type": "send", "ref": i.to_string(), "talk_id": talk, "body": format!("{i}: 電話は03-1234-5678です"), "confirm_dlp": true })
            }
            _ => {
                json!({ "type": "send", "ref": i.to_string(), "talk_id": talk, "body": format!("{i}: 了解") })
            }
        };
        ws_send(&mut ws, frame).await;
    }
    let mut got = Vec::new();
    while got.len() < 29 {
        let v = next_json(&mut ws).await;
        match v["type"].as_str() {
            Some("ack") => got.push((
                v["ref"].as_str().unwrap().parse::<i64>().unwrap(),
                v["message"]["seq"].as_i64().unwrap(),
            )),
            Some("error") => panic!("{v}"),
            _ => {}
        }
    }
    for (reference, seq) in got {
        assert_eq!(seq, reference + 1, "send {reference} stored as #{seq}");
    }
    t.app.stop().await;
}
