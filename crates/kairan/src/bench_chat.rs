//! `kairan bench chat`: a load generator for the chat (issue 5). It prepares a scratch body with
//! bench users and talks directly in the database the server uses, signs the users in over
//! HTTP, opens N WebSocket clients, sends at a steady total rate over HTTP (201 = acknowledged,
//! i.e. committed), and checks every delivery: lost, duplicated, latency. Prints one JSON line.

use anyhow::{Context, Result};
use clap::Args;
use futures::StreamExt;
use kairan_domain::policy::Actor;
use kairan_server::config::Config;
use kairan_server::services::{admin, chat};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[derive(Args)]
pub struct ChatArgs {
    /// The running server, e.g. http://127.0.0.1:8080
    #[arg(long)]
    url: String,
    /// WebSocket clients to connect (spread over the bench users as devices).
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Talks to send into.
    #[arg(long, default_value_t = 10)]
    talks: usize,
    /// Members per talk.
    #[arg(long, default_value_t = 20)]
    members: usize,
    /// Total messages per second.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Seconds to send.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Server process ID, to report its peak memory.
    #[arg(long)]
    server_pid: Option<u32>,
}

const PASSWORD: &str = "kairan bench password for load tests";

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn current_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

struct Setup {
    users: Vec<(String, String)>,     // (login, id)
    talks: Vec<(String, Vec<usize>)>, // (talk id, member indexes)
}

async fn setup(config: Config, a: &ChatArgs) -> Result<Setup> {
    let state = kairan_server::open(config)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let code = format!("bench-{}", std::process::id());
    let op = Actor::Operator;
    let org = admin::create_org(&state, &op, &code, "負荷試験町", "")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let n_users = a.members.max(2).max(a.clients.min(200));
    let hash = state
        .hasher
        .hash(PASSWORD)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut users = Vec::new();
    for i in 0..n_users {
        let login = format!("{code}.u{i}");
        let input = admin::NewUserInput {
            login_id: login.clone(),
            display_name: format!("負荷 {i}"),
            kana: "フカ".into(),
            ..Default::default()
        };
        let issued = admin::create_user(&state, &op, &org.id, &input)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut tx = state.store.write().await?;
        kairan_store::users::set_password(&mut tx, &issued.user_id, &hash, false).await?;
        tx.commit().await?;
        users.push((login, issued.user_id));
    }
    let mut talks = Vec::new();
    for t in 0..a.talks {
        let members: Vec<usize> = (0..a.members.min(n_users))
            .map(|k| (t * 7 + k) % n_users)
            .collect();
        let creator = &users[members[0]].1;
        let actor = Actor::User(kairan_domain::policy::UserActor {
            user_id: kairan_domain::UserId(creator.clone()),
            org_id: kairan_domain::OrgId(org.id.clone()),
            roles: vec![kairan_domain::Role::Staff],
        });
        let m = chat::Member {
            actor: &actor,
            user_id: creator,
            org_id: &org.id,
        };
        let others: Vec<String> = members
            .iter()
            .skip(1)
            .map(|&i| users[i].1.clone())
            .collect();
        let id = chat::create_group(
            &state,
            &m,
            &format!("負荷 {t}"),
            &others,
            &Default::default(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        talks.push((id, members));
    }
    state.store.close().await;
    Ok(Setup { users, talks })
}

struct Session {
    http: reqwest::Client,
    csrf: String,
    cookie: String,
}

async fn sign_in(base: &str, login: &str) -> Result<Session> {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .pool_max_idle_per_host(64)
        .build()?;
    let csrf: Value = http
        .get(format!("{base}/api/v1/csrf"))
        .send()
        .await?
        .json()
        .await?;
    let r = http
        .post(format!("{base}/api/v1/session"))
        .header(
            "x-csrf-token",
            csrf["csrf_token"].as_str().unwrap_or_default(),
        )
        .json(&json!({ "login_id": login, "password": PASSWORD }))
        .send()
        .await?;
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| {
            c.to_str()
                .ok()?
                .strip_prefix("kairan_session=")
                .map(|v| v.split(';').next().unwrap_or("").to_owned())
        })
        .next()
        .context("no session cookie")?;
    let v: Value = r.json().await?;
    let csrf = v["csrf_token"].as_str().unwrap_or_default().to_owned();
    Ok(Session {
        cookie: format!("kairan_session={session}; kairan_csrf={csrf}"),
        http,
        csrf,
    })
}

pub async fn run(config: Config, a: ChatArgs) -> Result<()> {
    let base = a.url.trim_end_matches('/').to_owned();
    let s = setup(config, &a).await?;
    let mut sessions = Vec::new();
    for (login, _) in &s.users {
        sessions.push(Arc::new(sign_in(&base, login).await?));
    }
    let idle_before = a.server_pid.and_then(current_rss_kib);

    // Expected receivers per talk: every connected client whose user is a member.
    let mut client_user = Vec::new();
    for c in 0..a.clients {
        client_user.push(c % s.users.len());
    }
    let mut expected_per_talk = vec![0u64; s.talks.len()];
    for (t, (_, members)) in s.talks.iter().enumerate() {
        expected_per_talk[t] = client_user.iter().filter(|u| members.contains(u)).count() as u64;
    }

    let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let delivered = Arc::new(AtomicU64::new(0));
    let duplicated = Arc::new(AtomicU64::new(0));
    let recv_lat: Arc<Mutex<Vec<f64>>> = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(AtomicU64::new(0));
    let ws_base = base.replace("http://", "ws://");
    let mut readers = Vec::new();
    let connect_started = Instant::now();
    for &u in &client_user {
        let mut req = format!("{ws_base}/api/v1/ws").into_client_request()?;
        req.headers_mut()
            .insert("cookie", sessions[u].cookie.parse()?);
        let (ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .context("websocket")?;
        let (mut tx, mut rx) = ws.split();
        // Resume this user's talks from the start, as a client opening them would.
        let talks: serde_json::Map<String, Value> = s
            .talks
            .iter()
            .filter(|(_, members)| members.contains(&u))
            .map(|(id, _)| (id.clone(), json!(0)))
            .collect();
        let resume = json!({ "type": "resume", "talks": talks }).to_string();
        futures::SinkExt::send(&mut tx, Ws::Text(resume.into())).await?;
        let (sent_at, delivered, duplicated, recv_lat) = (
            sent_at.clone(),
            delivered.clone(),
            duplicated.clone(),
            recv_lat.clone(),
        );
        readers.push(tokio::spawn(async move {
            // Keep the sending half alive: dropping it would close the socket.
            let _tx = tx;
            let mut last: HashMap<String, i64> = HashMap::new();
            while let Some(Ok(frame)) = rx.next().await {
                let Ws::Text(t) = frame else { continue };
                let Ok(v) = serde_json::from_str::<Value>(&t) else {
                    continue;
                };
                if v["type"] != "message" {
                    continue;
                }
                let talk = v["talk_id"].as_str().unwrap_or_default().to_owned();
                let seq = v["message"]["seq"].as_i64().unwrap_or(0);
                let prev = last.entry(talk).or_insert(0);
                if seq <= *prev {
                    duplicated.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                *prev = seq;
                delivered.fetch_add(1, Ordering::Relaxed);
                let key = v["message"]["body"].as_str().unwrap_or_default().to_owned();
                if let Some(t0) = sent_at.lock().await.get(&key) {
                    recv_lat
                        .lock()
                        .await
                        .push(t0.elapsed().as_secs_f64() * 1000.0);
                }
            }
        }));
    }
    let connect_secs = connect_started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle_after = a.server_pid.and_then(current_rss_kib);

    // Senders: one task per message slot, at a steady total rate.
    let total = (a.rate * a.duration as f64).round() as u64;
    let interval = Duration::from_secs_f64(1.0 / a.rate.max(0.001));
    let acked = Arc::new(AtomicU64::new(0));
    let ack_lat: Arc<Mutex<Vec<f64>>> = Arc::new(Mutex::new(Vec::new()));
    let sent_per_talk: Arc<Vec<AtomicU64>> =
        Arc::new((0..s.talks.len()).map(|_| AtomicU64::new(0)).collect());
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut senders = Vec::new();
    for i in 0..total {
        ticker.tick().await;
        let t = (i as usize) % s.talks.len();
        let (talk, members) = &s.talks[t];
        let sender = members[(i as usize / s.talks.len()) % members.len()];
        let session = sessions[sender].clone();
        let (talk, base) = (talk.clone(), base.clone());
        let (sent_at, acked, ack_lat, errors, per_talk) = (
            sent_at.clone(),
            acked.clone(),
            ack_lat.clone(),
            errors.clone(),
            sent_per_talk.clone(),
        );
        senders.push(tokio::spawn(async move {
            let body = format!("bench {i}");
            let t0 = Instant::now();
            sent_at.lock().await.insert(body.clone(), t0);
            let r = session
                .http
                .post(format!("{base}/api/v1/talks/{talk}/messages"))
                .header("x-csrf-token", &session.csrf)
                .json(&json!({ "body": body }))
                .send()
                .await;
            match r {
                Ok(r) if r.status().as_u16() == 201 => {
                    acked.fetch_add(1, Ordering::Relaxed);
                    per_talk[t].fetch_add(1, Ordering::Relaxed);
                    ack_lat
                        .lock()
                        .await
                        .push(t0.elapsed().as_secs_f64() * 1000.0);
                }
                _ => {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for s in senders {
        let _ = s.await;
    }
    let send_secs = started.elapsed().as_secs_f64();
    // Let the last deliveries arrive.
    let expected: u64 = (0..s.talks.len())
        .map(|t| sent_per_talk[t].load(Ordering::Relaxed) * expected_per_talk[t])
        .sum();
    let wait_until = Instant::now() + Duration::from_secs(10);
    while delivered.load(Ordering::Relaxed) < expected && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total_secs = started.elapsed().as_secs_f64();
    for r in readers {
        r.abort();
    }
    let mut ack = ack_lat.lock().await.clone();
    let mut rcv = recv_lat.lock().await.clone();
    let got = delivered.load(Ordering::Relaxed);
    let per_conn_kib = match (idle_before, idle_after) {
        (Some(b), Some(a2)) if a.clients > 0 => {
            Some((a2.saturating_sub(b)) as f64 / a.clients as f64)
        }
        _ => None,
    };
    println!(
        "{}",
        json!({
            "clients": a.clients, "talks": a.talks, "members": a.members, "rate": a.rate, "duration_s": a.duration,
            "connect_s": (connect_secs * 100.0).round() / 100.0,
            "sent": total, "acknowledged": acked.load(Ordering::Relaxed), "errors": errors.load(Ordering::Relaxed),
            "acked_per_s": ((acked.load(Ordering::Relaxed) as f64 / send_secs) * 10.0).round() / 10.0,
            "expected_deliveries": expected, "delivered": got, "lost": expected.saturating_sub(got),
            "duplicated": duplicated.load(Ordering::Relaxed),
            "deliveries_per_s": (got as f64 / total_secs).round(),
            "send_ack_ms": { "p50": pct(&mut ack, 0.5), "p95": pct(&mut ack, 0.95), "p99": pct(&mut ack, 0.99) },
            "send_receive_ms": { "p50": pct(&mut rcv, 0.5), "p95": pct(&mut rcv, 0.95), "p99": pct(&mut rcv, 0.99) },
            "server_peak_rss_kib": a.server_pid.and_then(rss_kib),
            "server_kib_per_idle_connection": per_conn_kib,
        })
    );
    Ok(())
}
