//! "Logs keep where and what kind, never the value" (G2; seed 003 §8-9): the real server runs at
//! debug level with its output captured; a member sends one message per kind of personal data
//! (each refused, confirmed or masked as the rules say); then the application log, the metrics
//! and the audit log are searched for every value, and none is found.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{TestDb, free_port, serve, sign_in, wait_ready};
use serde_json::{Value, json};
use std::process::Stdio;

const PASSWORD: &str = "log test demo password 2026";

/// (text, the value that must never be logged)
const SAMPLES: [(&str, &str); 12] = [
    ("申請者の個人番号は1234-5678-9018です", "5678-9018"),
    ("基礎年金番号 1234-567890 の照会", "1234-567890"),
    ("在留カード番号はAB12345678CDです", "AB12345678CD"),
    ("旅券番号 TZ1234567 で確認", "TZ1234567"),
    ("カード 4111 1111 1111 1111 で決済", "4111 1111 1111 1111"),
    ("振込先は普通 7654321 です", "7654321"),
    ("生年月日：1985年4月1日", "1985年4月1日"),
    ("住所は東京都千代田区霞が関1-2-3です", "霞が関1-2-3"),
    ("携帯は090-1234-5678です", "090-1234-5678"),
    (
        "連絡先 hanako.sato@example.lg.jp",
        "hanako.sato@example.lg.jp",
    ),
    ("住民票コード 12345678901 を確認", "12345678901"),
    ("運転免許証の番号は301234567890です", "301234567890"),
];

#[tokio::test]
async fn no_detected_value_reaches_the_application_log_the_metrics_or_the_audit_log() {
    let db = TestDb::new("logs").await;
    let port = free_port();
    let log_path = db.dir.join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = serve(&db.dir, &db.url, port, Some(PASSWORD))
        // As talkative as an operator would ever make it.
        .env("KAIRAN_LOG_LEVEL", "debug")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    assert!(wait_ready(&base).await, "server did not start");

    let hanako = sign_in(&base, "sato.hanako", PASSWORD).await;
    let post = |path: String, body: Value| {
        let (http, csrf, base) = (hanako.http.clone(), hanako.csrf.clone(), base.clone());
        async move {
            let r = http
                .post(format!("{base}{path}"))
                .header("x-csrf-token", csrf)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, talk) = post(
        "/api/v1/talks".into(),
        json!({ "kind": "group", "name": "ログ確認", "members": [] }),
    )
    .await;
    assert_eq!(s, 201, "{talk}");
    let path = format!("/api/v1/talks/{}/messages", talk["id"].as_str().unwrap());
    let mut outcomes = Vec::new();
    for (text, _) in SAMPLES {
        let (s, v) = post(path.clone(), json!({ "body": text })).await;
        outcomes.push(s);
        match s {
            409 => {
                let (s, _) = post(path.clone(), json!({ "body": text, "confirm_dlp": true })).await;
                assert_eq!(s, 201);
            }
            422 if v["error"]["code"] == "dlp_mask_required" => {
                let masked = v["dlp"]["masked_text"].as_str().unwrap().to_owned();
                let (s, _) = post(path.clone(), json!({ "body": masked })).await;
                assert_eq!(s, 201);
            }
            _ => {}
        }
    }
    assert!(outcomes.contains(&422) && outcomes.contains(&409) && outcomes.contains(&201));

    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let officer = sign_in(&base, "sasaki.yumi", PASSWORD).await;
    let me: Value = officer
        .http
        .get(format!("{base}/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let org = me["org_id"].as_str().unwrap();
    let audit = officer
        .http
        .get(format!("{base}/api/v1/orgs/{org}/audit?limit=500"))
        .send()
        .await
        .unwrap();
    assert_eq!(audit.status().as_u16(), 200);
    let audit = audit.text().await.unwrap();
    assert!(audit.contains("message.posted") && audit.contains("dlp.blocked"));
    let events = officer
        .http
        .get(format!("{base}/api/v1/orgs/{org}/dlp-events"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let output = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        output.contains("/messages"),
        "the log holds the requests: {}",
        &output[..output.len().min(2000)]
    );
    assert!(events.contains("my_number"), "the detections were recorded");
    for (_, value) in SAMPLES {
        assert!(!output.contains(value), "application log holds {value}");
        assert!(!metrics.contains(value), "metrics hold {value}");
        assert!(!audit.contains(value), "audit log holds {value}");
        assert!(!events.contains(value), "detections hold {value}");
    }
    db.drop_all().await;
}
