//! Scale-out (O2): two server processes on one database, joined by a real NATS and then a real
//! Redis. A client on node A sends; a client on node B receives it live; a client that was away
//! resumes on the other node and gets exactly what it missed. PostgreSQL when
//! `KAIRAN_TEST_POSTGRES_URL` is set, else one SQLite file shared by both processes.

// Test code may panic on a broken precondition: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{TestDb, User, free_port, serve, sign_in, wait_ready};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::process::Child;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const PASSWORD: &str = "cluster test demo password 2026";

struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn node(dir: &std::path::Path, db: &str, bus: &str, demo: bool) -> Node {
    let port = free_port();
    // Only the first node fills in the demo; both sign its users in with the same password.
    let child = serve(dir, db, port, demo.then_some(PASSWORD))
        .env("KAIRAN_DEMO_PASSWORD", PASSWORD)
        .env("KAIRAN_BUS", bus)
        .spawn()
        .unwrap();
    let node = Node {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    assert!(wait_ready(&node.base).await, "node did not start");
    node
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(base: &str, u: &User) -> Socket {
    let mut req = format!("{}/api/v1/ws", base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "cookie",
        format!("kairan_session={}; kairan_csrf={}", u.session, u.csrf)
            .parse()
            .unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(next(&mut ws).await["type"], "hello");
    ws
}

async fn next(ws: &mut Socket) -> Value {
    loop {
        let f = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .unwrap()
            .unwrap();
        if let Ws::Text(t) = f {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

async fn post(base: &str, u: &User, talk: &str, body: &str) -> i64 {
    let v: Value = u
        .http
        .post(format!("{base}/api/v1/talks/{talk}/messages"))
        .header("x-csrf-token", &u.csrf)
        .json(&json!({ "body": body }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["seq"]
        .as_i64()
        .unwrap_or_else(|| panic!("send failed: {v}"))
}

async fn run(bus: &str) {
    let db = TestDb::new("cluster").await;
    let (dir, url) = (db.dir.clone(), db.url.clone());
    let a = node(&dir, &url, bus, true).await;
    let hanako = sign_in(&a.base, "sato.hanako", PASSWORD).await;
    let b = node(&dir, &url, bus, false).await;
    let shota = sign_in(&b.base, "suzuki.shota", PASSWORD).await;
    let talk: Value = hanako
        .http
        .post(format!("{}/api/v1/talks", a.base))
        .header("x-csrf-token", &hanako.csrf)
        .json(&json!({ "kind": "group", "name": "ノード間", "members": [shota.id] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let talk = talk["id"].as_str().unwrap().to_owned();

    // Shota listens on node B; Hanako sends on node A.
    let mut ws = connect(&b.base, &shota).await;
    ws.send(Ws::Text(
        json!({ "type": "resume", "talks": { &talk: 0 } })
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    // The talk's creation may still be on its way from node A (a `talk` event); the resume
    // ends with `caught_up` and, the talk being empty, carries no message.
    loop {
        let v = next(&mut ws).await;
        if v["type"] == "caught_up" {
            break;
        }
        assert_eq!(v["type"], "talk", "unexpected before caught_up: {v}");
    }
    for i in 1..=5 {
        assert_eq!(
            post(&a.base, &hanako, &talk, &format!("A から {i}")).await,
            i
        );
        let mut got = next(&mut ws).await;
        while got["type"] != "message" {
            got = next(&mut ws).await;
        }
        assert_eq!(got["message"]["seq"], i, "via {bus}");
    }
    // Shota goes away; three more arrive; he resumes on node A and gets exactly those.
    drop(ws);
    for i in 6..=8 {
        post(&a.base, &hanako, &talk, &format!("A から {i}")).await;
    }
    let mut ws = connect(&a.base, &shota).await;
    ws.send(Ws::Text(
        json!({ "type": "resume", "talks": { &talk: 5 } })
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let mut seqs = Vec::new();
    loop {
        let v = next(&mut ws).await;
        if v["type"] == "caught_up" {
            break;
        }
        if v["type"] == "message" {
            seqs.push(v["message"]["seq"].as_i64().unwrap());
        }
    }
    assert_eq!(seqs, vec![6, 7, 8]);

    // Shota signs out on node A; his live connection on node B closes at once (the event
    // crosses the broker), not at node B's next periodic session check 30 s later.
    let mut on_b = connect(&b.base, &shota).await;
    let r = reqwest::Client::new()
        .delete(format!("{}/api/v1/session", a.base))
        .header("x-csrf-token", &shota.csrf)
        .header(
            "cookie",
            format!(
                "kairan_session={}; kairan_csrf={}",
                shota.session, shota.csrf
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let closed = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match on_b.next().await {
                None | Some(Err(_)) | Some(Ok(Ws::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "node B kept the connection open via {bus}");
    drop((a, b));
    db.drop_all().await;
}

#[tokio::test]
async fn two_nodes_joined_by_nats_deliver_and_resume_across_nodes() {
    run(&std::env::var("KAIRAN_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".into()))
        .await;
}

#[tokio::test]
async fn two_nodes_joined_by_redis_deliver_and_resume_across_nodes() {
    run(&std::env::var("KAIRAN_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()))
        .await;
}
