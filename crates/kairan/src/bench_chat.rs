//! `kairan bench chat`: a load generator for the chat (issue 5). It prepares a scratch body with
//! bench users and talks directly in the database the server uses, signs the users in over
//! HTTP, opens N WebSocket clients, sends at a steady total rate (a `send` frame on the live
//! connection answered by `ack`, or HTTP answered by 201: either means committed), and checks
//! every delivery: lost, duplicated, latency. Prints one JSON line.

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
    /// Connections per user (devices); users are clients ÷ devices.
    #[arg(long, default_value_t = 1)]
    devices: usize,
    /// Total messages per second.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Seconds to send.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// How to send: `ws` (a `send` frame on the sender's live connection, answered by `ack`)
    /// or `http` (`POST …/messages`, answered by 201).
    #[arg(long, default_value = "ws", value_parser = ["ws", "http"])]
    send: String,
    /// Server process ID, to report its peak memory.
    #[arg(long)]
    server_pid: Option<u32>,
}

const PASSWORD: &str = "kairan bench password for load tests";

pub(crate) fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub(crate) fn current_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub(crate) struct BenchUser {
    /// The `Cookie` header of the user's session.
    pub cookie: String,
    pub csrf: String,
}

pub(crate) struct Setup {
    pub users: Vec<BenchUser>,
    pub talks: Vec<(String, Vec<usize>)>, // (talk id, member indexes)
}

/// The shape of the scratch body [`setup`] prepares.
pub(crate) struct Shape {
    pub clients: usize,
    pub devices: usize,
    pub talks: usize,
    pub members: usize,
}

/// Users per insert transaction while preparing.
const SETUP_BATCH: usize = 500;

/// Prepares a scratch body in the server's database: users (one per `devices` clients) with a
/// live session each, made directly in the store (signing 20,000 users in over HTTP would
/// measure Argon2, not chat), and talks whose members cover the users evenly.
pub(crate) async fn setup(config: Config, a: &Shape) -> Result<Setup> {
    let state = kairan_server::open(config)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let code = format!("bench-{}", std::process::id());
    let op = Actor::Operator;
    let org = admin::create_org(&state, &op, &code, "負荷試験町", "")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let n_users = a.clients.div_ceil(a.devices.max(1)).max(a.members).max(2);
    let hash = state
        .hasher
        .hash(PASSWORD)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut users = Vec::with_capacity(n_users);
    let mut ids = Vec::with_capacity(n_users);
    for start in (0..n_users).step_by(SETUP_BATCH) {
        let mut tx = state.store.write().await?;
        for i in start..(start + SETUP_BATCH).min(n_users) {
            let login = format!("{code}.u{i}");
            let name = format!("負荷 {i}");
            let id = kairan_store::users::insert(
                &mut tx,
                &kairan_store::users::NewUser {
                    org_id: &org.id,
                    department_id: None,
                    login_id: &login,
                    display_name: &name,
                    kana: "フカ",
                    title: None,
                    password_hash: &hash,
                    must_change_password: false,
                    created_by: None,
                },
            )
            .await?;
            kairan_store::users::grant_role(&mut tx, &id, "staff", None).await?;
            let token = kairan_server::token::random_hex(32);
            let csrf = kairan_server::token::random_hex(32);
            kairan_store::sessions::insert(
                &mut tx,
                &kairan_store::sessions::NewSession {
                    token_hash: &kairan_server::token::sha256_hex(&token),
                    user_id: &id,
                    csrf_token: &csrf,
                    ip: Some("127.0.0.1"),
                    user_agent: Some("kairan bench chat"),
                    prev_sign_in_at: None,
                    failed_before: 0,
                    mfa_state: "none",
                    device_id: None,
                    idle_minutes: None,
                },
            )
            .await?;
            users.push(BenchUser {
                cookie: format!("kairan_session={token}; kairan_csrf={csrf}"),
                csrf,
            });
            ids.push(id);
        }
        tx.commit().await?;
    }
    let mut talks = Vec::new();
    for t in 0..a.talks {
        let members: Vec<usize> = (0..a.members.min(n_users))
            .map(|k| (t * a.members + k) % n_users)
            .collect();
        let creator = &ids[members[0]];
        let actor = Actor::User(kairan_domain::policy::UserActor {
            user_id: kairan_domain::UserId(creator.clone()),
            org_id: kairan_domain::OrgId(org.id.clone()),
            roles: vec![kairan_domain::Role::Staff],
        });
        let m = chat::Member {
            actor: &actor,
            user_id: creator,
            org_id: &org.id,
            device: kairan_domain::DeviceClass::LgwanPc,
        };
        let others: Vec<String> = members.iter().skip(1).map(|&i| ids[i].clone()).collect();
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

/// What a reader counts, shared by all connections.
#[derive(Default)]
struct Tally {
    delivered: AtomicU64,
    duplicated: AtomicU64,
    acked: AtomicU64,
    errors: AtomicU64,
    recv_lat: std::sync::Mutex<Vec<f64>>,
    ack_lat: std::sync::Mutex<Vec<f64>>,
}

impl Tally {
    fn record(&self, list: &std::sync::Mutex<Vec<f64>>, ms: f64) {
        list.lock().unwrap_or_else(|p| p.into_inner()).push(ms);
    }

    fn take(list: &std::sync::Mutex<Vec<f64>>) -> Vec<f64> {
        std::mem::take(&mut *list.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// The frames a reader looks at; everything else is skipped unparsed beyond `type`.
#[derive(serde::Deserialize)]
struct Frame<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    #[serde(default, borrow)]
    talk_id: Option<&'a str>,
    #[serde(default, rename = "ref", borrow)]
    reference: Option<&'a str>,
    #[serde(default, borrow)]
    message: Option<FrameMessage<'a>>,
}

#[derive(serde::Deserialize)]
struct FrameMessage<'a> {
    seq: i64,
    #[serde(borrow)]
    body: std::borrow::Cow<'a, str>,
}

/// Microseconds since the run began, carried in each message's text and reference so that
/// readers time deliveries without sharing a table of send times.
fn since(epoch: Instant) -> u64 {
    epoch.elapsed().as_micros() as u64
}

fn elapsed_ms(epoch: Instant, sent_us: &str) -> Option<f64> {
    let t: u64 = sent_us.parse().ok()?;
    Some((since(epoch).saturating_sub(t)) as f64 / 1000.0)
}

type Sink = futures::stream::SplitSink<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    Ws,
>;

pub async fn run(config: Config, a: ChatArgs) -> Result<()> {
    let base = a.url.trim_end_matches('/').to_owned();
    let shape = Shape {
        clients: a.clients,
        devices: a.devices,
        talks: a.talks,
        members: a.members,
    };
    let s = setup(config, &shape).await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let idle_before = a.server_pid.and_then(current_rss_kib);
    let epoch = Instant::now();

    // Expected receivers per talk: every connected client whose user is a member.
    let mut client_user = Vec::new();
    for c in 0..a.clients {
        client_user.push(c % s.users.len());
    }
    let mut expected_per_talk = vec![0u64; s.talks.len()];
    for (t, (_, members)) in s.talks.iter().enumerate() {
        expected_per_talk[t] = client_user.iter().filter(|u| members.contains(u)).count() as u64;
    }
    let talk_index: Arc<HashMap<String, usize>> = Arc::new(
        s.talks
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (id.clone(), i))
            .collect(),
    );
    let sent_per_talk: Arc<Vec<AtomicU64>> =
        Arc::new((0..s.talks.len()).map(|_| AtomicU64::new(0)).collect());

    let tally = Arc::new(Tally::default());
    let ws_base = base.replace("http://", "ws://");
    let mut readers = Vec::new();
    // Each user's first connection, which sends for that user when sending over WebSocket.
    let mut sinks: HashMap<usize, Arc<Mutex<Sink>>> = HashMap::new();
    let connect_started = Instant::now();
    for &u in &client_user {
        let mut req = format!("{ws_base}/api/v1/ws").into_client_request()?;
        req.headers_mut()
            .insert("cookie", s.users[u].cookie.parse()?);
        let (ws, _) = tokio_tungstenite::connect_async_with_config(req, None, true)
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
        let tx = Arc::new(Mutex::new(tx));
        sinks.entry(u).or_insert_with(|| tx.clone());
        let (tally, talk_index, per_talk) =
            (tally.clone(), talk_index.clone(), sent_per_talk.clone());
        readers.push(tokio::spawn(async move {
            // Keep the sending half alive: dropping it would close the socket.
            let _tx = tx;
            let mut last: HashMap<usize, i64> = HashMap::new();
            while let Some(Ok(frame)) = rx.next().await {
                let Ws::Text(t) = frame else { continue };
                let Ok(f) = serde_json::from_str::<Frame>(&t) else {
                    continue;
                };
                match f.kind {
                    "message" => {
                        let (Some(talk), Some(m)) = (f.talk_id, f.message) else {
                            continue;
                        };
                        let Some(&ti) = talk_index.get(talk) else {
                            continue;
                        };
                        let prev = last.entry(ti).or_insert(0);
                        if m.seq <= *prev {
                            tally.duplicated.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        *prev = m.seq;
                        tally.delivered.fetch_add(1, Ordering::Relaxed);
                        // "bench <i> <sent µs>"
                        if let Some(ms) =
                            m.body.rsplit(' ').next().and_then(|t| elapsed_ms(epoch, t))
                        {
                            tally.record(&tally.recv_lat, ms);
                        }
                    }
                    // "<talk index>:<sent µs>"
                    "ack" | "error" => {
                        let Some((ti, t)) = f.reference.and_then(|r| r.split_once(':')) else {
                            continue;
                        };
                        if f.kind == "error" {
                            tally.errors.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        tally.acked.fetch_add(1, Ordering::Relaxed);
                        if let Ok(ti) = ti.parse::<usize>() {
                            per_talk[ti].fetch_add(1, Ordering::Relaxed);
                        }
                        if let Some(ms) = elapsed_ms(epoch, t) {
                            tally.record(&tally.ack_lat, ms);
                        }
                    }
                    _ => {}
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
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut senders = Vec::new();
    let over_ws = a.send == "ws";
    for i in 0..total {
        ticker.tick().await;
        let t = (i as usize) % s.talks.len();
        let (talk, members) = &s.talks[t];
        let sender = members[(i as usize / s.talks.len()) % members.len()];
        let body = format!("bench {i} {}", since(epoch));
        if over_ws {
            let Some(sink) = sinks.get(&sender).cloned() else {
                tally.errors.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            let frame = json!({
                "type": "send", "ref": format!("{t}:{}", since(epoch)), "talk_id": talk, "body": body,
            })
            .to_string();
            let tally = tally.clone();
            senders.push(tokio::spawn(async move {
                let mut sink = sink.lock().await;
                if futures::SinkExt::send(&mut *sink, Ws::Text(frame.into()))
                    .await
                    .is_err()
                {
                    tally.errors.fetch_add(1, Ordering::Relaxed);
                }
            }));
            continue;
        }
        let (cookie, csrf) = (s.users[sender].cookie.clone(), s.users[sender].csrf.clone());
        let (talk, base, http) = (talk.clone(), base.clone(), http.clone());
        let (tally, per_talk) = (tally.clone(), sent_per_talk.clone());
        senders.push(tokio::spawn(async move {
            let t0 = Instant::now();
            let r = http
                .post(format!("{base}/api/v1/talks/{talk}/messages"))
                .header("cookie", cookie)
                .header("x-csrf-token", csrf)
                .json(&json!({ "body": body }))
                .send()
                .await;
            match r {
                Ok(r) if r.status().as_u16() == 201 => {
                    tally.acked.fetch_add(1, Ordering::Relaxed);
                    per_talk[t].fetch_add(1, Ordering::Relaxed);
                    tally.record(&tally.ack_lat, t0.elapsed().as_secs_f64() * 1000.0);
                }
                _ => {
                    tally.errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for s in senders {
        let _ = s.await;
    }
    // Over WebSocket the answers come back on the readers: wait for every send's answer.
    let wait_until = Instant::now() + Duration::from_secs(10);
    while tally.acked.load(Ordering::Relaxed) + tally.errors.load(Ordering::Relaxed) < total
        && Instant::now() < wait_until
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let send_secs = started.elapsed().as_secs_f64();
    // Let the last deliveries arrive.
    let expected: u64 = (0..s.talks.len())
        .map(|t| sent_per_talk[t].load(Ordering::Relaxed) * expected_per_talk[t])
        .sum();
    let wait_until = Instant::now() + Duration::from_secs(10);
    while tally.delivered.load(Ordering::Relaxed) < expected && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total_secs = started.elapsed().as_secs_f64();
    for r in readers {
        r.abort();
    }
    let mut ack = Tally::take(&tally.ack_lat);
    let mut rcv = Tally::take(&tally.recv_lat);
    let got = tally.delivered.load(Ordering::Relaxed);
    let acked = tally.acked.load(Ordering::Relaxed);
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
            "send": a.send, "connect_s": (connect_secs * 100.0).round() / 100.0,
            "sent": total, "acknowledged": acked, "errors": tally.errors.load(Ordering::Relaxed),
            "acked_per_s": ((acked as f64 / send_secs) * 10.0).round() / 10.0,
            "expected_deliveries": expected, "delivered": got, "lost": expected.saturating_sub(got),
            "duplicated": tally.duplicated.load(Ordering::Relaxed),
            "deliveries_per_s": (got as f64 / total_secs).round(),
            "send_ack_ms": { "p50": pct(&mut ack, 0.5), "p95": pct(&mut ack, 0.95), "p99": pct(&mut ack, 0.99) },
            "send_receive_ms": { "p50": pct(&mut rcv, 0.5), "p95": pct(&mut rcv, 0.95), "p99": pct(&mut rcv, 0.99) },
            "server_peak_rss_kib": a.server_pid.and_then(rss_kib),
            "server_kib_per_idle_connection": per_conn_kib,
        })
    );
    Ok(())
}
