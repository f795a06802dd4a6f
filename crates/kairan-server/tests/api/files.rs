//! Files in talks (C4, G9): scanned by a real clamd before they are stored, typed from their
//! bytes, sent with a message, downloaded only by members and only as attachments; infected
//! files quarantined and reported; uploads fail closed without a scanner and leave nothing
//! behind when they do not finish.

use crate::helpers::{Clamd, Client, EICAR, TestApp, assert_error};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Setup {
    app: TestApp,
    org: String,
    talk: String,
    hanako: Client,
    taro: Client,
    jiro: Client,
    officer: Client,
}

async fn setup(clamd: &str, max_mib: u64) -> Setup {
    setup_with(clamd, move |c| c.files.max_mib = max_mib).await
}

/// [`setup`] with more settings changed.
async fn setup_with(
    clamd: &str,
    tweak: impl FnOnce(&mut kairan_server::config::Config) + Send + 'static,
) -> Setup {
    let clamd = clamd.to_owned();
    let app = TestApp::spawn_with(move |c| {
        c.files.clamd = clamd;
        tweak(c);
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
        org,
        talk: talk["id"].as_str().unwrap().to_owned(),
        taro: app.signed_in("taro.suzuki").await,
        jiro: app.signed_in("jiro.tanaka").await,
        officer: app.signed_in("anzen.kakari").await,
        hanako,
        app,
    }
}

async fn upload(c: &Client, talk: &str, name: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    upload_from(c, None, talk, name, bytes).await
}

/// The body's audit records of one action, newest first, as the officer reads them.
async fn audit(c: &Client, org: &str, action: &str) -> Vec<Value> {
    let (st, log) = c
        .get(&format!("/api/v1/orgs/{org}/audit?action={action}"))
        .await;
    assert_eq!(st, StatusCode::OK, "{log}");
    log.as_array().unwrap().clone()
}

/// Downloads a file (forwarded for `client` by the proxy when given).
async fn fetch(c: &Client, path: &str, client: Option<&str>) -> reqwest::Response {
    let mut r = c.http.get(format!("{}{path}", c.base));
    if let Some(ip) = client {
        r = r.header("x-forwarded-for", ip);
    }
    r.send().await.unwrap()
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

    let r = fetch(&s.taro, &format!("/api/v1/files/{id}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/octet-stream");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(
        h["content-disposition"],
        "attachment; filename=\"_____.csv\"; filename*=UTF-8''%E7%AA%93%E5%8F%A3%E5%BD%93%E7%95%AA%E8%A1%A8.csv"
    );
    assert_eq!(r.bytes().await.unwrap(), text.as_bytes());

    // Someone outside the talk learns nothing.
    assert_error(
        &s.jiro.get(&format!("/api/v1/files/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, list) = s.taro.get(&format!("/api/v1/talks/{}/files", s.talk)).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["name"], "窓口当番表.csv");
    // Both the upload and the download are on record.
    for action in ["file.uploaded", "file.downloaded"] {
        let log = audit(&s.officer, &s.org, action).await;
        assert_eq!(log.len(), 1, "{action}");
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
    let log = audit(&s.officer, &s.org, "file.infected").await;
    assert_eq!(
        log[0]["details"]["signature"],
        "Kairan.Test.EICAR.UNOFFICIAL"
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
    let r = fetch(&s.taro, &format!("/api/v1/files/{first}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap(), unknown);
    // Day 1: the signature arrives; someone uploads the same bytes again.
    clamd
        .add_signature("Kairan.Test.Later", "PRETEND-NEW-MALWARE")
        .await;
    let (st, e) = upload(&s.taro, &s.talk, "tool-copy.txt", unknown).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "file_infected");
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
    assert_eq!(st, StatusCode::OK);
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
    let r = fetch(&s.taro, &format!("/api/v1/files/{id}"), None).await;
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

/// Real .docx/.xlsx/.pptx/.pdf builders, shared with kairan-dlp's extraction tests.
#[path = "../../../kairan-dlp/tests/support/mod.rs"]
mod docs;

/// A PDF line in the Japanese test font of [`docs::japanese_pdf`] (2-byte CIDs).
fn japanese_pdf(text: &str) -> Vec<u8> {
    let cid = |c: char| match c {
        '個' => 1,
        '人' => 2,
        '番' => 3,
        '号' => 4,
        '0'..='9' => 0x10 + (c as u32 - '0' as u32),
        '-' => 0x1a,
        _ => 0x1b,
    };
    let hex: String = text.chars().map(|c| format!("{:04X}", cid(c))).collect();
    docs::japanese_pdf(&format!("BT /F1 12 Tf 72 700 Td <{hex}> Tj ET"))
}

#[tokio::test]
async fn personal_data_inside_documents_is_found_and_handled_like_a_message() {
    let clamd = Clamd::start("64M").await;
    let s = setup(&clamd.endpoint(), 20).await;
    let t = &s.talk;
    let my_number = "申請者の個人番号は1234-5678-9018です。";
    // A My Number in Word, in a PDF, or in a CP932 CSV from the resident system: refused,
    // with the kind named and never the value.
    let cp932 = encoding_rs::SHIFT_JIS
        .encode(&format!("氏名,備考\n山田 太郎,{my_number}\n"))
        .0
        .into_owned();
    for (name, bytes) in [
        ("申請書.docx", docs::docx(&["転入届", my_number])),
        ("申請書.pdf", japanese_pdf("個人番号 1234-5678-9018")),
        ("名簿.csv", cp932),
    ] {
        let (st, e) = upload(&s.hanako, t, name, bytes).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {e}");
        assert_eq!(e["error"]["code"], "file_dlp_refused", "{name}");
        assert_eq!(e["file_dlp"]["kinds"][0]["kind"], "my_number", "{name}");
        assert_eq!(e["file_dlp"]["kinds"][0]["count"], 1, "{name}");
        assert!(
            e["error"]["message_ja"]
                .as_str()
                .unwrap()
                .contains("個人番号")
        );
        assert!(
            !e.to_string().contains("9018"),
            "{name}: the value never comes back"
        );
    }
    let blobs = s.app.state().config.data_dir.join("blobs");
    assert_eq!(files_under(&blobs), Vec::<std::path::PathBuf>::new());
    // The officer hears of every My Number attempt.
    let (_, notes) = s.officer.get("/api/v1/me/notifications").await;
    assert_eq!(notes["items"].as_array().unwrap().len(), 3, "{notes}");

    // 取扱注意 in a spreadsheet only asks; confirmed, the file goes with the class it implies.
    let sheet = docs::xlsx(
        &["件名", "取扱注意 来年度の人事案"],
        &[
            r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>"#,
        ],
    );
    let (st, e) = upload(&s.hanako, t, "人事案.xlsx", sheet.clone()).await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "file_dlp_confirm_required");
    assert_eq!(e["file_dlp"]["kinds"][0]["kind"], "keyword");
    let confirmed = [("name", "人事案.xlsx"), ("confirm_dlp", "true")];
    let (st, f) = post_upload(&s.hanako, None, t, &confirmed, sheet).await;
    assert_eq!(st, StatusCode::CREATED, "{f}");
    assert_eq!(f["text_scan"], "scanned");
    assert_eq!(f["findings"], json!({ "keyword": 1 }));
    assert_eq!(f["class"], 1, "取扱注意 implies 機密性 第2種");
    // The message carrying it takes its class.
    let (st, msg) = s
        .hanako
        .post(
            &format!("/api/v1/talks/{t}/messages"),
            json!({ "body": "案です。", "files": [f["id"]] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{msg}");
    assert_eq!(msg["class"], 1);
    assert_eq!(msg["attachments"][0]["class"], 1);

    // Ordinary slides pass, read.
    let slides = docs::pptx(&[(1, "令和8年度 事業計画"), (2, "窓口の混雑対策")], &[]);
    let (st, f) = upload(&s.hanako, t, "事業計画.pptx", slides).await;
    assert_eq!(st, StatusCode::CREATED, "{f}");
    assert_eq!(f["text_scan"], "scanned");
    assert_eq!(f["findings"], Value::Null);
    s.app.stop().await;
}

#[tokio::test]
async fn office_files_with_macros_or_bombs_and_protected_files_are_refused() {
    let clamd = Clamd::start("64M").await;
    let s = setup(&clamd.endpoint(), 20).await;
    let t = &s.talk;
    let refused = |r: &(StatusCode, Value), code: &str| {
        assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.1);
        assert_eq!(r.1["error"]["code"], code, "{}", r.1);
    };
    let with = |part: &str| docs::docx_with(&["報告書"], &[(part, "x".to_owned())], true);
    refused(
        &upload(&s.hanako, t, "報告書.docx", with("word/vbaProject.bin")).await,
        "file_active_content",
    );
    refused(
        &upload(
            &s.hanako,
            t,
            "報告書.docx",
            with("word/activeX/activeX1.xml"),
        )
        .await,
        "file_active_content",
    );
    refused(
        &upload(
            &s.hanako,
            t,
            "報告書.docx",
            with("word/embeddings/oleObject1.bin"),
        )
        .await,
        "file_active_content",
    );
    // A macro-enabled name, and a Word file named as Excel.
    refused(
        &upload(&s.hanako, t, "報告書.docm", docs::docx(&["報告書"])).await,
        "file_type_not_allowed",
    );
    refused(
        &upload(&s.hanako, t, "報告書.xlsx", docs::docx(&["報告書"])).await,
        "file_type_not_allowed",
    );
    // A decompression bomb: 10 MB of nothing in a few kilobytes.
    let zeros = vec![b' '; 10 * 1024 * 1024];
    let bomb = docs::docx_with(
        &["報告書"],
        &[("word/footer1.xml", String::from_utf8(zeros).unwrap())],
        true,
    );
    assert!(bomb.len() < 100 * 1024);
    refused(
        &upload(&s.hanako, t, "報告書.docx", bomb).await,
        "file_malformed",
    );
    // A broken archive, and a password-protected Office file (an OLE container).
    let mut cut = docs::docx(&["報告書"]);
    cut.truncate(cut.len() / 2);
    refused(
        &upload(&s.hanako, t, "報告書.docx", cut).await,
        "file_malformed",
    );
    let ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00\x00\x00".to_vec();
    refused(
        &upload(&s.hanako, t, "報告書.xlsx", ole).await,
        "file_encrypted",
    );
    // A PDF the text reader cannot follow is accepted, marked as not inspected (whether an
    // encrypted PDF is accepted at all is clamd's AlertEncrypted setting: this one refuses).
    let (st, f) = upload(&s.hanako, t, "古い資料.pdf", b"%PDF-1.4\n%%EOF\n".to_vec()).await;
    assert_eq!(st, StatusCode::CREATED, "{f}");
    assert_eq!(f["text_scan"], "unreadable");
    s.app.stop().await;
}

/// Uploads, as a request forwarded for `client` by the reverse proxy in front of the server
/// when one is given.
async fn upload_from(
    c: &Client,
    client: Option<&str>,
    talk: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    post_upload(c, client, talk, &[("name", name)], bytes).await
}

/// `POST /api/v1/talks/{talk}/files` with this query.
async fn post_upload(
    c: &Client,
    client: Option<&str>,
    talk: &str,
    query: &[(&str, &str)],
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let mut r = c
        .http
        .post(format!("{}/api/v1/talks/{talk}/files", c.base))
        .query(query)
        .header("x-csrf-token", &c.csrf)
        .header("content-type", "image/png") // what a client claims counts for nothing
        .body(bytes);
    if let Some(ip) = client {
        r = r.header("x-forwarded-for", ip);
    }
    let r = r.send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";

#[tokio::test]
async fn phones_and_lgwan_pcs_follow_their_own_file_rules_decided_by_the_network() {
    let clamd = Clamd::start("4M").await;
    let endpoint = clamd.endpoint();
    // The server sits behind a proxy on 127.0.0.1; the LGWAN side is 10.20.0.0/16.
    let app = TestApp::spawn_with(move |c| {
        c.files.clamd = endpoint;
        c.zones.lgwan = vec!["10.20.0.0/16".into()];
        c.zones.trusted_proxies = vec!["127.0.0.1".into()];
        c.files.internet_device.max_mib = 1;
        c.files.internet_device.download = false;
        // Device registration has its own suite; here a new phone is usable at once.
        c.devices.approval = false;
    })
    .await;
    let org = app.create_org("test-town", "試験町").await;
    app.create_user(&org, "hanako.sato", &["staff"]).await;
    let taro_id = app.create_user(&org, "taro.suzuki", &["staff"]).await;
    let hanako = app.signed_in("hanako.sato").await;
    let (_, talk) = hanako
        .post(
            "/api/v1/talks",
            json!({ "kind": "group", "name": "資料", "members": [taro_id] }),
        )
        .await;
    let t = talk["id"].as_str().unwrap();
    let office = Some("10.20.3.4");
    let phone = Some("203.0.113.9");
    let docx = docs::docx(&["会議録"]);
    // From the office: Office files go. From a phone: photos and PDFs only, up to 1 MiB here.
    let (st, f) = upload_from(&hanako, office, t, "会議録.docx", docx.clone()).await;
    assert_eq!(st, StatusCode::CREATED, "{f}");
    let (st, e) = upload_from(&hanako, phone, t, "会議録.docx", docx.clone()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "file_type_not_allowed_on_device");
    assert!(e["error"]["message_ja"].as_str().unwrap().contains("LGWAN"));
    let (st, photo) = upload_from(&hanako, phone, t, "現場.png", PNG.to_vec()).await;
    assert_eq!(st, StatusCode::CREATED, "{photo}");
    assert_eq!(photo["uploaded_from"], "internet_device");
    assert_eq!(f["uploaded_from"], "lgwan_pc");
    let mut big = PNG.to_vec();
    big.resize(2 * 1024 * 1024, 7);
    let (st, e) = upload_from(&hanako, phone, t, "大きい.png", big.clone()).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    assert_eq!(e["error"]["code"], "file_too_large");
    let (st, _) = upload_from(&hanako, office, t, "大きい.png", big).await;
    assert_eq!(st, StatusCode::CREATED);
    // A phone that claims an LGWAN address (its own header, prepended before the proxy's
    // view of it) is still a phone; so is a request through the proxy without the header.
    for claimed in [Some("10.20.3.4, 203.0.113.9"), None] {
        assert_error(
            &upload_from(&hanako, claimed, t, "会議録.docx", docx.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "file_type_not_allowed_on_device",
        );
    }

    // Downloads: the photo is sent; on a phone it is named but not served.
    let id = photo["id"].as_str().unwrap();
    let (st, _) = hanako
        .post(
            &format!("/api/v1/talks/{t}/messages"),
            json!({ "body": "", "files": [id] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let path = format!("/api/v1/files/{id}");
    let r = fetch(&hanako, &path, phone).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "download_not_allowed_on_device");
    let r = fetch(&hanako, &path, office).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap(), PNG);
    // The audit record says which class of device sent each file.
    app.create_user(&org, "anzen.kakari", &["security_officer"])
        .await;
    let officer = app.signed_in("anzen.kakari").await;
    // Three uploads were taken: the office's document and picture, the phone's photo.
    let mut devices: Vec<String> = audit(&officer, &org, "file.uploaded")
        .await
        .iter()
        .map(|e| e["details"]["device"].as_str().unwrap().to_owned())
        .collect();
    devices.sort();
    assert_eq!(devices, ["internet_device", "lgwan_pc", "lgwan_pc"]);
    app.stop().await;
}

#[tokio::test]
async fn pictures_are_shown_in_the_page_and_nothing_else_is() {
    let clamd = Clamd::start("4M").await;
    let s = setup(&clamd.endpoint(), 20).await;
    let picture = send_file(&s.hanako, &s.talk, "現場.png", PNG.to_vec()).await;
    let table = send_file(&s.hanako, &s.talk, "一覧.csv", b"a,b\n".to_vec()).await;
    let r = fetch(&s.taro, &format!("/api/v1/files/{picture}/view"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(r.bytes().await.unwrap(), PNG);
    // Anything but a checked picture is only ever downloaded.
    assert_error(
        &s.taro.get(&format!("/api/v1/files/{table}/view")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // Outsiders see nothing.
    assert_error(
        &s.jiro.get(&format!("/api/v1/files/{picture}/view")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    s.app.stop().await;
}

#[tokio::test]
async fn a_forwarded_message_takes_its_files_to_the_other_talk_and_its_members() {
    let clamd = Clamd::start("4M").await;
    let s = setup(&clamd.endpoint(), 20).await;
    let id = send_file(&s.hanako, &s.talk, "手順書.txt", "受付手順".into()).await;
    let (_, history) = s
        .hanako
        .get(&format!("/api/v1/talks/{}/messages", s.talk))
        .await;
    let message = history.as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Hanako forwards it to a talk with Jiro, who is not in the first talk.
    let (_, me) = s.jiro.get("/api/v1/me").await;
    let (_, other) = s
        .hanako
        .post(
            "/api/v1/talks",
            json!({ "kind": "group", "name": "引継ぎ", "members": [me["id"]] }),
        )
        .await;
    let other = other["id"].as_str().unwrap();
    let (st, fwd) = s
        .hanako
        .post(
            &format!("/api/v1/messages/{message}/forward"),
            json!({ "talk_id": other }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{fwd}");
    let copy = fwd["attachments"][0]["id"].as_str().unwrap();
    assert_ne!(copy, id, "a copy in the other talk");
    assert_eq!(fwd["attachments"][0]["name"], "手順書.txt");
    let r = fetch(&s.jiro, &format!("/api/v1/files/{copy}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "受付手順");
    // The original stays out of Jiro's reach; the copy is listed in its talk.
    assert_error(
        &s.jiro.get(&format!("/api/v1/files/{id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, list) = s.jiro.get(&format!("/api/v1/talks/{other}/files")).await;
    assert_eq!(list[0]["id"], copy);
    s.app.stop().await;
}

#[tokio::test]
async fn with_scans_deferred_uploads_wait_for_the_scanner_and_nobody_fetches_them_before() {
    let gone = std::env::temp_dir().join(format!("kairan-no-clamd-{}.sock", uuid::Uuid::now_v7()));
    let s = setup_with(&format!("unix:{}", gone.display()), |c| {
        c.files.when_scanner_down = "defer".into();
    })
    .await;
    // The administrator's choice is on record from the start.
    let state = s.app.state().clone();
    let mut recorded = 0i64;
    for _ in 0..50 {
        let mut conn = state.store.read().await.unwrap();
        recorded = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'system.scan_deferral'",
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        if recorded > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(recorded, 1);
    // With clamd down, uploads are taken and wait for their scan.
    let (st, memo) = upload(&s.hanako, &s.talk, "メモ.txt", "議事メモ".into()).await;
    assert_eq!(st, StatusCode::CREATED, "{memo}");
    assert_eq!(memo["status"], "pending_scan");
    let (st, bad) = upload(
        &s.hanako,
        &s.talk,
        "手順書.txt",
        format!("手順\n{EICAR}\n").into(),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{bad}");
    let (memo, bad) = (memo["id"].as_str().unwrap(), bad["id"].as_str().unwrap());
    let (st, msg) = s
        .hanako
        .post(
            &format!("/api/v1/talks/{}/messages", s.talk),
            json!({ "body": "資料です。", "files": [memo, bad] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{msg}");
    // Nobody opens them before the scan, not even the uploader.
    for (who, id) in [(&s.taro, memo), (&s.hanako, bad)] {
        assert_error(
            &who.get(&format!("/api/v1/files/{id}")).await,
            StatusCode::CONFLICT,
            "file_scan_pending",
        );
    }
    // Forwarded before their scan: the copies share the bytes and wait with them.
    let (_, jiro) = s.jiro.get("/api/v1/me").await;
    let (_, other) = s
        .hanako
        .post(
            "/api/v1/talks",
            json!({ "kind": "group", "name": "引継ぎ", "members": [jiro["id"]] }),
        )
        .await;
    let (st, fwd) = s
        .hanako
        .post(
            &format!("/api/v1/messages/{}/forward", msg["id"].as_str().unwrap()),
            json!({ "talk_id": other["id"] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{fwd}");
    let memo_copy = fwd["attachments"][0]["id"].as_str().unwrap();
    let bad_copy = fwd["attachments"][1]["id"].as_str().unwrap();
    // clamd is back: the deferred scans run, once per content; the clean file and its copy
    // open, the other is quarantined with its copy.
    let clamd = Clamd::start("4M").await;
    let scanner = kairan_server::scanner::Scanner::new(
        kairan_server::scanner::Endpoint::parse(&clamd.endpoint()).unwrap(),
        std::time::Duration::from_secs(5),
    );
    let scanned = kairan_server::services::files::scan_pending(&state, &scanner)
        .await
        .unwrap();
    assert_eq!(scanned, 2);
    let r = fetch(&s.taro, &format!("/api/v1/files/{memo}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "議事メモ");
    assert_error(
        &s.taro.get(&format!("/api/v1/files/{bad}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let r = fetch(&s.jiro, &format!("/api/v1/files/{memo_copy}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "議事メモ");
    assert_error(
        &s.jiro.get(&format!("/api/v1/files/{bad_copy}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, notes) = s.officer.get("/api/v1/me/notifications").await;
    assert_eq!(notes["items"][0]["kind"], "malware", "{notes}");
    assert_eq!(notes["items"][0]["details"]["scan"], "deferred");
    let data = state.config.data_dir.clone();
    assert_eq!(files_under(&data.join("quarantine")).len(), 1);
    assert_eq!(
        files_under(&data.join("blobs")).len(),
        1,
        "only the clean file is servable"
    );
    let (_, list) = s.taro.get(&format!("/api/v1/talks/{}/files", s.talk)).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    // Nothing is left waiting, and each content was scanned once.
    assert_eq!(
        kairan_server::services::files::scan_pending(&state, &scanner)
            .await
            .unwrap(),
        0
    );
    assert_eq!(audit(&s.officer, &s.org, "file.scanned").await.len(), 1);
    s.app.stop().await;
}

/// G10: a guest's file rights are the body's choice and closed by default: no 📎, uploads and
/// downloads refused with a reason, until the administrator opens downloads, then both.
#[tokio::test]
async fn a_guest_sends_and_fetches_files_only_as_far_as_its_body_allows() {
    let clamd = Clamd::start("4M").await;
    let s = setup(&clamd.endpoint(), 20).await;
    let guest = s.app.create_user(&s.org, "guest.files", &["staff"]).await;
    {
        // A guest as an approved application leaves it (the role is never granted by hand).
        let mut tx = s.app.state().store.write().await.unwrap();
        sqlx::query("UPDATE user_roles SET role = 'guest' WHERE user_id = $1")
            .bind(&guest)
            .execute(tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let (st, _) = s
        .hanako
        .post(
            &format!("/api/v1/talks/{}/members", s.talk),
            json!({ "user_ids": [guest] }),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, f) = upload(
        &s.hanako,
        &s.talk,
        "資料.txt",
        "会議資料".as_bytes().to_vec(),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{f}");
    let (st, m) = s
        .hanako
        .post(
            &format!("/api/v1/talks/{}/messages", s.talk),
            json!({ "body": "資料です", "files": [f["id"]] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    let file = format!("/api/v1/files/{}", f["id"].as_str().unwrap());
    let g = s.app.signed_in("guest.files").await;

    // By default: neither way, with the reason; the talk page offers no 📎.
    let refused = upload(&g, &s.talk, "返信.txt", b"reply".to_vec()).await;
    assert_error(
        &refused,
        StatusCode::FORBIDDEN,
        "files_not_allowed_for_guests",
    );
    assert_error(
        &g.get(&file).await,
        StatusCode::FORBIDDEN,
        "files_not_allowed_for_guests",
    );
    let (_, page) = g.get_text(&format!("/talks/{}", s.talk)).await;
    assert!(
        page.contains("data-upload=\"no\"") && page.contains("data-download=\"no\""),
        "{page}"
    );
    // Staff are not affected.
    assert_eq!(s.taro.get(&file).await.0, StatusCode::OK);

    // Only the body's administrator sets it; then downloads open, uploads stay closed.
    s.app.create_user(&s.org, "admin.files", &["admin"]).await;
    let admin = s.app.signed_in("admin.files").await;
    let path = format!("/api/v1/orgs/{}/guest-settings", s.org);
    assert_eq!(admin.get(&path).await.1, json!({ "files": "none" }));
    let (st, _) = s
        .hanako
        .send(
            reqwest::Method::PUT,
            &path,
            Some(json!({ "files": "download" })),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let bad = admin
        .send(
            reqwest::Method::PUT,
            &path,
            Some(json!({ "files": "everything" })),
        )
        .await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "bad_request");
    assert!(
        bad.1["error"]["message_en"]
            .as_str()
            .unwrap()
            .contains("upload_and_download")
    );
    let (st, v) = admin
        .send(
            reqwest::Method::PUT,
            &path,
            Some(json!({ "files": "download" })),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(g.get(&file).await.0, StatusCode::OK);
    let refused = upload(&g, &s.talk, "返信.txt", b"reply".to_vec()).await;
    assert_error(
        &refused,
        StatusCode::FORBIDDEN,
        "files_not_allowed_for_guests",
    );
    admin
        .send(
            reqwest::Method::PUT,
            &path,
            Some(json!({ "files": "upload_and_download" })),
        )
        .await;
    let (st, v) = upload(&g, &s.talk, "返信.txt", b"reply".to_vec()).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let changes = audit(&s.officer, &s.org, "org.settings_changed").await;
    assert_eq!(changes.len(), 2, "{changes:?}");
    s.app.stop().await;
}
