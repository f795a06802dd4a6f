//! Files in talks (C4, G9): scanned by a real clamd before they are stored, typed from their
//! bytes, sent with a message, downloaded only by members and only as attachments; infected
//! files quarantined and reported; uploads fail closed without a scanner and leave nothing
//! behind when they do not finish.

use crate::helpers::{Clamd, Client, EICAR, TestApp, assert_error};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Setup {
    app: TestApp,
    talk: String,
    hanako: Client,
    taro: Client,
    jiro: Client,
    officer: Client,
}

async fn setup(clamd: &str, max_mib: u64) -> Setup {
    let clamd = clamd.to_owned();
    let app = TestApp::spawn_with(move |c| {
        c.files.clamd = clamd;
        c.files.max_mib = max_mib;
    })
    .await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "hanako.sato", &["staff"]).await;
    let taro = app.create_user(&org, "taro.suzuki", &["staff"]).await;
    app.create_user(&org, "jiro.tanaka", &["staff"]).await;
    app.create_user(&org, "anzen.kakari", &["security_officer"])
        .await;
    let hanako = app.signed_in("hanako.sato").await;
    let (_, talk) = hanako
        .post(
            "/api/v1/talks",
            json!({ "kind": "group", "name": "資料共有", "members": [taro] }),
        )
        .await;
    Setup {
        talk: talk["id"].as_str().unwrap().to_owned(),
        taro: app.signed_in("taro.suzuki").await,
        jiro: app.signed_in("jiro.tanaka").await,
        officer: app.signed_in("anzen.kakari").await,
        hanako,
        app,
    }
}

async fn upload(c: &Client, talk: &str, name: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let r = c
        .http
        .post(format!("{}/api/v1/talks/{talk}/files", c.base))
        .query(&[("name", name)])
        .header("x-csrf-token", &c.csrf)
        .header("content-type", "image/png") // what a client claims counts for nothing
        .body(bytes)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Uploads and sends a file with a message; returns the file's id.
async fn send_file(c: &Client, talk: &str, name: &str, bytes: Vec<u8>) -> String {
    let (st, f) = upload(c, talk, name, bytes).await;
    assert_eq!(st, StatusCode::CREATED, "{f}");
    let id = f["id"].as_str().unwrap().to_owned();
    let (st, m) = c
        .post(
            &format!("/api/v1/talks/{talk}/messages"),
            json!({ "body": "", "files": [id] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    id
}

/// Every file under `dir`, however deep (none when it does not exist).
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn a_clean_file_is_stored_and_only_members_download_it_as_an_attachment() {
    let clamd = Clamd::start("4M").await;
    let s = setup(&clamd.endpoint(), 20).await;
    let text = "令和8年度 窓口当番表\n月曜,佐藤\n火曜,鈴木\n".repeat(100);
    let (st, f) = upload(
        &s.hanako,
        &s.talk,
        "窓口当番表.csv",
        text.clone().into_bytes(),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{f}");
    assert_eq!(f["content_type"], "text/csv");
    assert_eq!(f["status"], "clean");
    assert_eq!(f["size"], text.len());
    let id = f["id"].as_str().unwrap();
    // Until it is sent, the file is its uploader's alone.
    assert_error(
        &s.taro.get(&format!("/api/v1/files/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (st, msg) = s
        .hanako
        .post(
            &format!("/api/v1/talks/{}/messages", s.talk),
            json!({ "body": "来年度の当番表です。", "files": [id] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{msg}");
    assert_eq!(msg["attachments"][0]["name"], "窓口当番表.csv");
    assert_eq!(msg["attachments"][0]["size"], text.len());
    let (_, history) = s
        .taro
        .get(&format!("/api/v1/talks/{}/messages", s.talk))
        .await;
    let last = history.as_array().unwrap().last().unwrap();
    assert_eq!(last["attachments"][0]["id"], id, "{last}");

    let r = s
        .taro
        .http
        .get(format!("{}/api/v1/files/{id}", s.taro.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/octet-stream");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let disposition = h["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''%E7%AA%93"),
        "{disposition}"
    );
    assert_eq!(r.bytes().await.unwrap(), text.as_bytes());

    // Someone outside the talk learns nothing.
    assert_error(
        &s.jiro.get(&format!("/api/v1/files/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, list) = s.taro.get(&format!("/api/v1/talks/{}/files", s.talk)).await;
    assert_eq!(list[0]["name"], "窓口当番表.csv");
    // Both the upload and the download are on record.
    let (_, me) = s.officer.get("/api/v1/me").await;
    let org = me["org_id"].as_str().unwrap();
    for action in ["file.uploaded", "file.downloaded"] {
        let (_, log) = s
            .officer
            .get(&format!("/api/v1/orgs/{org}/audit?action={action}"))
            .await;
        assert_eq!(log[0]["target_id"], id, "{action}");
    }
    s.app.stop().await;
}

#[tokio::test]
async fn an_infected_file_is_quarantined_reported_and_never_served() {
    let clamd = Clamd::start("4M").await;
    let s = setup(&clamd.endpoint(), 20).await;
    let body = format!("添付の手順書です。\n{EICAR}\n");
    let (st, e) = upload(&s.hanako, &s.talk, "手順書.txt", body.into_bytes()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "file_infected");
    assert!(e["error"]["message_ja"].as_str().unwrap().contains("隔離"));
    // Nothing to list or fetch; the officer is told; the audit log names the signature.
    let (_, list) = s.taro.get(&format!("/api/v1/talks/{}/files", s.talk)).await;
    assert_eq!(list, json!([]));
    let (_, notes) = s.officer.get("/api/v1/me/notifications").await;
    let alert = &notes["items"][0];
    assert_eq!(alert["kind"], "malware", "{notes}");
    assert_eq!(alert["target_id"], s.talk.as_str());
    assert_eq!(alert["details"]["outcome"], "quarantined");
    let (_, me) = s.officer.get("/api/v1/me").await;
    let org = me["org_id"].as_str().unwrap();
    let (_, log) = s
        .officer
        .get(&format!("/api/v1/orgs/{org}/audit?action=file.infected"))
        .await;
    assert!(
        log[0]["details"]["signature"]
            .as_str()
            .unwrap()
            .contains("Kairan.Test.EICAR")
    );
    let file_id = log[0]["target_id"].as_str().unwrap();
    assert_error(
        &s.hanako.get(&format!("/api/v1/files/{file_id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let data = s.app.state().config.data_dir.clone();
    assert_eq!(files_under(&data.join("quarantine")).len(), 1);
    assert_eq!(
        files_under(&data.join("blobs")),
        Vec::<std::path::PathBuf>::new(),
        "nothing infected among servable blobs"
    );
    s.app.stop().await;
}

#[tokio::test]
async fn bad_names_types_and_sizes_get_clear_errors() {
    let clamd = Clamd::start("4M").await;
    let s = setup(&clamd.endpoint(), 1).await;
    let t = &s.talk;
    let refused = |r: &(StatusCode, Value), status: StatusCode, code: &str| {
        assert_eq!(r.0, status, "{}", r.1);
        assert_eq!(r.1["error"]["code"], code, "{}", r.1);
    };
    refused(
        &upload(&s.hanako, t, "空.txt", Vec::new()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "file_empty",
    );
    // An executable renamed as a photo; a PNG named as a PDF; HTML.
    refused(
        &upload(&s.hanako, t, "photo.png", b"MZ\x90\x00\x03\x00".to_vec()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "file_type_not_allowed",
    );
    refused(
        &upload(&s.hanako, t, "資料.pdf", b"\x89PNG\r\n\x1a\n0000".to_vec()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "file_type_not_allowed",
    );
    refused(
        &upload(
            &s.hanako,
            t,
            "page.html",
            b"<script>alert(1)</script>".to_vec(),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "file_type_not_allowed",
    );
    for name in ["../../etc/passwd.txt", "請求書\u{202E}txt.exe", "a\nb.txt"] {
        refused(
            &upload(&s.hanako, t, name, b"hello".to_vec()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        );
    }
    refused(
        &upload(&s.hanako, t, "大きい.txt", vec![b'a'; 1024 * 1024 + 1]).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "file_too_large",
    );
    // Not a member of the talk.
    refused(
        &upload(&s.jiro, t, "メモ.txt", b"hello".to_vec()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, list) = s.taro.get(&format!("/api/v1/talks/{t}/files")).await;
    assert_eq!(list, json!([]));
    s.app.stop().await;
}

#[tokio::test]
async fn without_a_scanner_uploads_fail_closed_and_nothing_is_stored() {
    let gone = std::env::temp_dir().join(format!("kairan-no-clamd-{}.sock", uuid::Uuid::now_v7()));
    let s = setup(&format!("unix:{}", gone.display()), 20).await;
    let (st, e) = upload(&s.hanako, &s.talk, "メモ.txt", b"hello".to_vec()).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{e}");
    assert_eq!(e["error"]["code"], "scanner_unavailable");
    assert!(!e["error"]["message_ja"].as_str().unwrap().is_empty());
    let (_, list) = s.taro.get(&format!("/api/v1/talks/{}/files", s.talk)).await;
    assert_eq!(list, json!([]));
    let blobs = s.app.state().config.data_dir.join("blobs");
    assert_eq!(files_under(&blobs), Vec::<std::path::PathBuf>::new());
    s.app.stop().await;
}

#[tokio::test]
async fn bytes_found_infected_later_are_no_longer_served_from_an_earlier_clean_copy() {
    // Day 0: the scanner has no signature yet, so the file is stored as clean.
    let clamd = Clamd::start("4M").await;
    let s = setup(&clamd.endpoint(), 20).await;
    let unknown = b"PRETEND-NEW-MALWARE-NOT-YET-IN-SIGNATURES\n".to_vec();
    let first = send_file(&s.hanako, &s.talk, "tool.txt", unknown.clone()).await;
    let (st, _) = s.taro.get(&format!("/api/v1/files/{first}")).await;
    assert_eq!(st, StatusCode::OK);
    // Day 1: the signature arrives; someone uploads the same bytes again.
    clamd
        .add_signature("Kairan.Test.Later", "PRETEND-NEW-MALWARE")
        .await;
    let (st, e) = upload(&s.taro, &s.talk, "tool-copy.txt", unknown).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    // The day-0 copy is no longer served to anyone.
    assert_error(
        &s.taro.get(&format!("/api/v1/files/{first}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, list) = s.taro.get(&format!("/api/v1/talks/{}/files", s.talk)).await;
    assert_eq!(list, json!([]));
    s.app.stop().await;
}

#[tokio::test]
async fn only_the_uploader_sends_a_file_once_in_its_own_talk_and_deleting_the_message_hides_it() {
    let clamd = Clamd::start("4M").await;
    let s = setup(&clamd.endpoint(), 20).await;
    async fn post(c: &Client, talk: &str, files: Value) -> (StatusCode, Value) {
        c.post(
            &format!("/api/v1/talks/{talk}/messages"),
            json!({ "body": "", "files": files }),
        )
        .await
    }
    let (_, f) = upload(&s.hanako, &s.talk, "議事録.txt", "議事録".into()).await;
    let id = f["id"].as_str().unwrap().to_owned();
    // Not someone else's upload, not twice in one message, not more than ten, not nothing.
    assert_error(
        &post(&s.taro, &s.talk, json!([id])).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    assert_error(
        &post(&s.hanako, &s.talk, json!([id, id])).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    let eleven: Vec<String> = (0..11).map(|_| id.clone()).collect();
    assert_error(
        &post(&s.hanako, &s.talk, json!(eleven)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    assert_error(
        &post(&s.hanako, &s.talk, json!([])).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    // Not into another talk.
    let (_, other) = s
        .hanako
        .post(
            "/api/v1/talks",
            json!({ "kind": "group", "name": "別件", "members": [] }),
        )
        .await;
    let other = other["id"].as_str().unwrap();
    assert_error(
        &post(&s.hanako, other, json!([id])).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    // Sent once; a second message cannot carry it again.
    let (st, msg) = post(&s.hanako, &s.talk, json!([id])).await;
    assert_eq!(st, StatusCode::CREATED, "{msg}");
    assert_eq!(msg["body"], "");
    assert_error(
        &post(&s.hanako, &s.talk, json!([id])).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    );
    let (_, list) = s.taro.get(&format!("/api/v1/talks/{}/files", s.talk)).await;
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["message_id"], msg["id"]);
    // Deleting the message takes its files out of the talk.
    let (st, _) = s
        .hanako
        .delete(&format!("/api/v1/messages/{}", msg["id"].as_str().unwrap()))
        .await;
    assert!(st.is_success(), "{st}");
    let (_, list) = s.taro.get(&format!("/api/v1/talks/{}/files", s.talk)).await;
    assert_eq!(list, json!([]));
    assert_error(
        &s.taro.get(&format!("/api/v1/files/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, history) = s
        .taro
        .get(&format!("/api/v1/talks/{}/messages", s.talk))
        .await;
    let last = history.as_array().unwrap().last().unwrap();
    assert_eq!(last["attachments"], json!([]), "{last}");
    s.app.stop().await;
}

#[tokio::test]
async fn a_large_upload_is_streamed_and_an_interrupted_one_leaves_nothing() {
    let clamd = Clamd::start("64M").await;
    let s = setup(&clamd.endpoint(), 40).await;
    // 30 MB of text arrives whole and byte for byte.
    let line = "令和8年度 事業計画 第1四半期 進捗報告\n";
    let big: Vec<u8> = line.repeat(30 * 1024 * 1024 / line.len()).into_bytes();
    let id = send_file(&s.hanako, &s.talk, "事業計画.txt", big.clone()).await;
    let r = s
        .taro
        .http
        .get(format!("{}/api/v1/files/{id}", s.taro.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let got = r.bytes().await.unwrap();
    assert_eq!(got.len(), big.len());
    assert!(got == big, "the download differs from the upload");

    // A client that promises 5 MB, sends 64 KB and goes away.
    use tokio::io::AsyncWriteExt;
    let addr = s.hanako.base.trim_start_matches("http://").to_owned();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/talks/{}/files?name=cut.txt HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\nx-csrf-token: {}\r\nContent-Length: 5000000\r\n\r\n",
        s.talk,
        s.hanako.cookie_header(),
        s.hanako.csrf
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&[b'a'; 64 * 1024]).await.unwrap();
    tcp.flush().await.unwrap();
    let blobs = s.app.state().config.data_dir.join("blobs");
    let partial = || {
        files_under(&blobs)
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with(".tmp-")
            })
            .collect::<Vec<_>>()
    };
    // While the client is still there, its partial upload sits in a temporary file.
    let mut left = Vec::new();
    for _ in 0..50 {
        left = partial();
        if !left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        left.len(),
        1,
        "the upload in progress is received into a file"
    );
    drop(tcp);
    for _ in 0..50 {
        left = partial();
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        left,
        Vec::<std::path::PathBuf>::new(),
        "a partial upload was left"
    );
    let (_, list) = s.taro.get(&format!("/api/v1/talks/{}/files", s.talk)).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    s.app.stop().await;
}

#[tokio::test]
async fn the_sweep_removes_what_a_crash_left_and_keeps_what_is_stored() {
    let clamd = Clamd::start("4M").await;
    let s = setup(&clamd.endpoint(), 20).await;
    let id = send_file(&s.hanako, &s.talk, "残す.txt", b"keep me".to_vec()).await;
    // What kill -9 leaves: a half-written upload, and bytes stored whose row never committed.
    let blobs = s.app.state().config.data_dir.join("blobs");
    std::fs::write(blobs.join(".tmp-crashed"), b"half").unwrap();
    std::fs::create_dir_all(blobs.join("ff")).unwrap();
    std::fs::write(blobs.join("ff").join("ff".repeat(32)), b"orphan").unwrap();
    assert_eq!(files_under(&blobs).len(), 3);
    // Young leftovers may be uploads in progress: an hour's grace.
    let state = s.app.state().clone();
    let swept = kairan_server::services::files::sweep(&state, std::time::Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(swept, 0);
    let swept = kairan_server::services::files::sweep(&state, std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(swept, 2);
    assert_eq!(files_under(&blobs).len(), 1);
    let (st, _) = s.taro.get(&format!("/api/v1/files/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    s.app.stop().await;
}
