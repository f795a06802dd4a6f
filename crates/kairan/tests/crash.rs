//! A message acknowledged to its sender survives `kill -9` of the server (C2, "nothing is
//! lost"): the real binary is killed in the middle of a stream of sends, restarted on the same
//! data, and every acknowledged message must be there exactly once. SQLite, or PostgreSQL when
//! `KAIRAN_TEST_POSTGRES_URL` is set.

// Test code may panic on a broken precondition: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{TestDb, free_port, serve, sign_in, wait_ready};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::process::{Child, Command};
use std::time::Duration;

const PASSWORD: &str = "crash test demo password 2026";

struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// SIGKILL: no shutdown, no flush; then reaped.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A failed assertion must not leave a server running.
impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn start(data: &std::path::Path, db_url: &str, port: u16) -> Server {
    start_with(data, db_url, port, &[]).await
}

/// [`start`] with more settings in the environment.
async fn start_with(
    data: &std::path::Path,
    db_url: &str,
    port: u16,
    env: &[(&str, &str)],
) -> Server {
    let child = serve(data, db_url, port, Some(PASSWORD))
        // The test streams sends as fast as it can; the per-user limit is tested elsewhere.
        .env("KAIRAN_CHAT_MESSAGES_PER_SECOND", "100000")
        .env("KAIRAN_CHAT_MESSAGE_BURST", "100000")
        .envs(env.iter().copied())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    if !wait_ready(&base).await {
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
        panic!("server did not start");
    }
    Server { child, base }
}

#[tokio::test]
async fn every_acknowledged_message_survives_kill_9_exactly_once() {
    let db = TestDb::new("crash").await;
    let (dir, db_url) = (db.dir.clone(), db.url.clone());
    let port = free_port();
    let mut server = start(&dir, &db_url, port).await;
    let hanako = sign_in(&server.base, "sato.hanako", PASSWORD).await;
    let (http, csrf) = (hanako.http, hanako.csrf);
    let directory: Value = {
        let me: Value = http
            .get(format!("{}/api/v1/me", server.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        http.get(format!(
            "{}/api/v1/orgs/{}/directory",
            server.base,
            me["org_id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
    };
    let members: Vec<&str> = directory
        .as_array()
        .unwrap()
        .iter()
        .take(5)
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    let talk: Value = http
        .post(format!("{}/api/v1/talks", server.base))
        .header("x-csrf-token", &csrf)
        .json(&json!({ "kind": "group", "name": "障害試験", "members": members }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let talk = talk["id"].as_str().unwrap().to_owned();

    // Four senders stream messages; the server is killed after about 120 acknowledgements.
    let acked = std::sync::Arc::new(tokio::sync::Mutex::new(HashMap::<String, i64>::new()));
    let mut senders = Vec::new();
    for w in 0..4 {
        let (http, csrf, base, talk, acked) = (
            http.clone(),
            csrf.clone(),
            server.base.clone(),
            talk.clone(),
            acked.clone(),
        );
        senders.push(tokio::spawn(async move {
            for i in 0..10_000 {
                let body = format!("送信者{w} 連番{i}");
                let r = http
                    .post(format!("{base}/api/v1/talks/{talk}/messages"))
                    .header("x-csrf-token", &csrf)
                    .json(&json!({ "body": body }))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let v: Value = r.json().await.unwrap_or(Value::Null);
                        if let Some(seq) = v["seq"].as_i64() {
                            acked.lock().await.insert(body, seq);
                        }
                    }
                    // The server is gone: whatever was not acknowledged may or may not exist.
                    _ => return,
                }
            }
        }));
    }
    // Senders that fail early must fail the test, not hang it.
    let enough = tokio::time::timeout(Duration::from_secs(60), async {
        while acked.lock().await.len() < 120 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(
        enough.is_ok(),
        "120 sends were not acknowledged within 60 s"
    );
    server.kill(); // SIGKILL: no shutdown, no flush
    for s in senders {
        s.await.unwrap();
    }
    let acked = acked.lock().await.clone();

    let server = start(&dir, &db_url, port).await;
    let http = sign_in(&server.base, "sato.hanako", PASSWORD).await.http;
    let mut stored: Vec<Value> = Vec::new();
    let mut after = 0;
    loop {
        let page: Vec<Value> = http
            .get(format!(
                "{}/api/v1/talks/{talk}/messages?after={after}&limit=200",
                server.base
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().unwrap()["seq"].as_i64().unwrap();
        stored.extend(page);
    }
    let mut by_body: HashMap<String, Vec<i64>> = HashMap::new();
    for m in &stored {
        by_body
            .entry(m["body"].as_str().unwrap().to_owned())
            .or_default()
            .push(m["seq"].as_i64().unwrap());
    }
    for (body, seq) in &acked {
        assert_eq!(
            by_body.get(body),
            Some(&vec![*seq]),
            "acknowledged message {body} (seq {seq}) must be stored exactly once"
        );
    }
    let seqs: Vec<i64> = stored.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "sequence numbers stay dense after the crash"
    );
    let mut server = server;
    server.kill();
    // The audit chain survived the crash too.
    let verify = Command::new(env!("CARGO_BIN_EXE_kairan"))
        .args(["audit", "verify", "--database-url", &db_url, "--data"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    db.drop_all().await;
}

/// Lists the files directly under `dir/` and its `ab/` subdirectories.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn an_upload_cut_by_kill_9_is_never_visible_and_its_leftover_is_swept() {
    use tokio::io::AsyncWriteExt;
    let db = TestDb::new("crashupload").await;
    let (dir, db_url) = (db.dir.clone(), db.url.clone());
    let port = free_port();
    let mut server = start(&dir, &db_url, port).await;
    let hanako = sign_in(&server.base, "sato.hanako", PASSWORD).await;
    let talk: Value = hanako
        .http
        .post(format!("{}/api/v1/talks", server.base))
        .header("x-csrf-token", &hanako.csrf)
        .json(&json!({ "kind": "group", "name": "障害試験", "members": [] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let talk = talk["id"].as_str().unwrap().to_owned();
    // A 50 MB upload of which 2 MB have arrived when the server dies.
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/talks/{talk}/files?name=%E8%AD%B0%E4%BA%8B%E9%8C%B2.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: kairan_session={}; kairan_csrf={}\r\nx-csrf-token: {}\r\nContent-Length: 50000000\r\n\r\n",
        hanako.session, hanako.csrf, hanako.csrf
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&vec![b'a'; 2 * 1024 * 1024]).await.unwrap();
    let blobs = dir.join("blobs");
    let mut partial = Vec::new();
    for _ in 0..100 {
        partial = files_under(&blobs);
        if !partial.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(partial.len(), 1, "the upload is being received into a file");
    server.kill(); // SIGKILL: the upload's own clean-up never runs
    drop(tcp);
    assert_eq!(
        files_under(&blobs),
        partial,
        "kill -9 leaves the partial file behind"
    );

    // Restarted with the sweep taking everything old: the leftover goes, nothing is listed.
    let mut server = start_with(
        &dir,
        &db_url,
        port,
        &[("KAIRAN_FILES_SWEEP_AFTER_MINUTES", "0")],
    )
    .await;
    let mut left = partial.clone();
    for _ in 0..100 {
        left = files_under(&blobs);
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        left,
        Vec::<std::path::PathBuf>::new(),
        "the sweep removed it"
    );
    let hanako = sign_in(&server.base, "sato.hanako", PASSWORD).await;
    let list: Value = hanako
        .http
        .get(format!("{}/api/v1/talks/{talk}/files", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
    server.kill();
    db.drop_all().await;
}
