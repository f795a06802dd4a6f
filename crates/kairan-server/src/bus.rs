//! Buses that connect several server nodes (O2): every committed event is published to a real
//! broker, and each node delivers what the others published to its own connections. Nodes keep
//! no state another node needs; a lost broker message is recovered by the clients' resume by
//! sequence number, never by the bus.
//!
//! The wire clients are small on purpose: the NATS core text protocol (`CONNECT`, `SUB`, `PUB`,
//! `MSG`, `PING`/`PONG`) and Redis RESP pub/sub (`SUBSCRIBE`, `PUBLISH`) are a few lines each,
//! and avoid pulling TLS stacks and runtimes we do not use.

use crate::realtime::{Bus, Event, WireEvent};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc};

const SUBJECT: &str = "kairan.events";

/// A bus over NATS or Redis. Local connections get events at once; other nodes get them through
/// the broker, and a node ignores its own echo.
pub struct NetBus {
    node: String,
    local: broadcast::Sender<Event>,
    outbox: mpsc::Sender<Vec<u8>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Broker {
    Nats,
    Redis,
}

impl NetBus {
    /// `url` is `nats://host:port` or `redis://host:port`.
    pub fn connect(url: &str) -> Result<NetBus, String> {
        let (broker, addr) = if let Some(a) = url.strip_prefix("nats://") {
            (Broker::Nats, a)
        } else if let Some(a) = url.strip_prefix("redis://") {
            (Broker::Redis, a)
        } else {
            return Err(format!(
                "bus must be local, nats://… or redis://… (got {url})"
            ));
        };
        let addr = addr.trim_end_matches('/').to_owned();
        let node = uuid::Uuid::now_v7().to_string();
        let (local, _) = broadcast::channel(8192);
        let (outbox, rx) = mpsc::channel::<Vec<u8>>(8192);
        tokio::spawn(publisher(broker, addr.clone(), rx));
        tokio::spawn(subscriber(broker, addr, node.clone(), local.clone()));
        Ok(NetBus {
            node,
            local,
            outbox,
        })
    }
}

impl Bus for NetBus {
    fn publish(&self, event: Event) {
        if let Ok(bytes) = serde_json::to_vec(&WireEvent::from_event(&self.node, &event)) {
            // A full outbox means the broker is far behind; remote nodes will resume by seq.
            let _ = self.outbox.try_send(bytes);
        }
        let _ = self.local.send(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }
}

fn resp(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", parts.len()).into_bytes();
    for p in parts {
        out.extend_from_slice(format!("${}\r\n", p.len()).as_bytes());
        out.extend_from_slice(p);
        out.extend_from_slice(b"\r\n");
    }
    out
}

async fn open(broker: Broker, addr: &str) -> std::io::Result<TcpStream> {
    let mut s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    if broker == Broker::Nats {
        s.write_all(b"CONNECT {\"verbose\":false,\"pedantic\":false,\"name\":\"kairan\"}\r\n")
            .await?;
    }
    Ok(s)
}

async fn publisher(broker: Broker, addr: String, mut rx: mpsc::Receiver<Vec<u8>>) {
    let mut pending: Option<Vec<u8>> = None;
    loop {
        let mut conn = match open(broker, &addr).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "bus: cannot reach the broker; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        // Replies (Redis integer replies, NATS PINGs) are read and dropped so buffers never fill.
        let (mut reader, mut writer) = conn.split();
        let mut sink = [0u8; 4096];
        loop {
            let payload = match pending.take() {
                Some(p) => p,
                None => tokio::select! {
                    p = rx.recv() => match p { Some(p) => p, None => return },
                    n = reader.read(&mut sink) => {
                        match n {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if broker == Broker::Nats
                                    && sink[..n].windows(4).any(|w| w == b"PING")
                                    && writer.write_all(b"PONG\r\n").await.is_err()
                                {
                                    break;
                                }
                                continue;
                            }
                        }
                    }
                },
            };
            let frame = match broker {
                Broker::Nats => {
                    let mut f = format!("PUB {SUBJECT} {}\r\n", payload.len()).into_bytes();
                    f.extend_from_slice(&payload);
                    f.extend_from_slice(b"\r\n");
                    f
                }
                Broker::Redis => resp(&[b"PUBLISH", SUBJECT.as_bytes(), &payload]),
            };
            if writer.write_all(&frame).await.is_err() {
                pending = Some(payload);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn subscriber(broker: Broker, addr: String, node: String, local: broadcast::Sender<Event>) {
    loop {
        match subscribe_once(broker, &addr, &node, &local).await {
            Ok(()) => {}
            Err(e) => tracing::warn!(error = %e, "bus: subscription lost; reconnecting"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn deliver(node: &str, local: &broadcast::Sender<Event>, payload: &[u8]) {
    match serde_json::from_slice::<WireEvent>(payload) {
        Ok(w) if w.node != node => {
            let _ = local.send(w.into_event());
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "bus: unreadable event dropped"),
    }
}

async fn subscribe_once(
    broker: Broker,
    addr: &str,
    node: &str,
    local: &broadcast::Sender<Event>,
) -> std::io::Result<()> {
    let mut conn = open(broker, addr).await?;
    match broker {
        Broker::Nats => {
            conn.write_all(format!("SUB {SUBJECT} 1\r\n").as_bytes())
                .await?
        }
        Broker::Redis => {
            conn.write_all(&resp(&[b"SUBSCRIBE", SUBJECT.as_bytes()]))
                .await?
        }
    }
    let (reader, mut writer) = conn.split();
    let mut reader = BufReader::new(reader);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Err(std::io::Error::other("broker closed the connection"));
        }
        match broker {
            Broker::Nats => {
                let head = line.trim_end();
                if head == "PING" {
                    writer.write_all(b"PONG\r\n").await?;
                } else if let Some(rest) = head.strip_prefix("MSG ") {
                    // MSG <subject> <sid> [reply-to] <#bytes>
                    let size: usize = rest
                        .rsplit(' ')
                        .next()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0);
                    let mut payload = vec![0u8; size + 2];
                    reader.read_exact(&mut payload).await?;
                    deliver(node, local, &payload[..size]);
                } else if head.starts_with("-ERR") {
                    return Err(std::io::Error::other(head.to_owned()));
                }
            }
            Broker::Redis => {
                // Pushes are arrays: ["message", channel, payload] or the subscribe reply.
                if !line.starts_with('*') {
                    continue;
                }
                let n: usize = line[1..].trim().parse().unwrap_or(0);
                let mut parts = Vec::with_capacity(n);
                for _ in 0..n {
                    line.clear();
                    reader.read_line(&mut line).await?;
                    if let Some(len) = line.strip_prefix('$') {
                        let len: usize = len.trim().parse().unwrap_or(0);
                        let mut buf = vec![0u8; len + 2];
                        reader.read_exact(&mut buf).await?;
                        buf.truncate(len);
                        parts.push(buf);
                    } else {
                        parts.push(line.trim_end().as_bytes().to_vec());
                    }
                }
                if parts.len() == 3 && parts[0] == b"message" {
                    deliver(node, local, &parts[2]);
                }
            }
        }
    }
}
