//! Live delivery (C3): the `Bus` that carries committed changes between nodes, and the
//! WebSocket endpoint that pushes them to every device of every member.
//!
//! Resume without a gap: a connection registers with the hub *before* it reads any backlog, then
//! drops what it already sent by sequence number. Messages of a talk flow only after the client
//! resumed that talk from the seq it holds; before that the connection only signals `activity`
//! (talk and seq, no content), so a live event can never overtake or repeat the backlog. When a live message arrives with a gap before
//! it (two posters committed in one order and published in the other), the gap is read from the
//! database, where the earlier message has already committed, so nothing is lost and nothing is
//! sent twice.

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::services::chat::{self, Member};
use crate::state::AppState;
use axum::extract::State;
use axum::extract::ws::{Message as WsMessage, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use kairan_store::chat::Message;
use serde::{Deserialize, Serialize};

use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::broadcast;

/// A message as clients see it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageView {
    pub id: String,
    pub talk_id: String,
    pub seq: i64,
    pub sender_id: String,
    pub body: String,
    pub reply_to: Option<String>,
    pub created_at: i64,
    pub edited: bool,
    pub deleted: bool,
    pub pinned: bool,
    /// Confidentiality rank on the body's scale (0 = least confidential).
    pub class: i64,
    /// Forwarded from another talk (the text is a copy and keeps its class).
    pub forwarded: bool,
    /// Members this message mentions.
    pub mentions: Vec<String>,
    /// Stamps with who reacted; filled by the message list, empty on live events.
    pub reactions: Vec<ReactionView>,
    /// Files sent with the message (none once it is deleted).
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// A file as shown with its message; downloaded from `/api/v1/files/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attachment {
    pub id: String,
    pub name: String,
    pub size: i64,
    /// Decided from the content.
    pub content_type: String,
    /// Confidentiality rank on the body's scale.
    pub class: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReactionView {
    pub stamp: String,
    pub user_ids: Vec<String>,
}

impl MessageView {
    /// A message as just sent: the view, and whom it mentions.
    pub fn with_mentions(m: &Message, mentions: Vec<String>) -> MessageView {
        MessageView {
            mentions,
            ..MessageView::from(m)
        }
    }
}

impl From<&Message> for MessageView {
    fn from(m: &Message) -> Self {
        MessageView {
            id: m.id.clone(),
            talk_id: m.talk_id.clone(),
            seq: m.seq,
            sender_id: m.sender_id.clone(),
            body: m.body.clone(),
            reply_to: m.reply_to.clone(),
            created_at: m.created_at,
            edited: m.edited_at.is_some(),
            deleted: m.deleted_at.is_some(),
            pinned: m.pinned_at.is_some(),
            class: m.class,
            forwarded: m.forwarded_from.is_some(),
            mentions: Vec::new(),
            reactions: Vec::new(),
            attachments: match (&m.attachments, m.deleted_at) {
                (Some(json), None) => serde_json::from_str(json).unwrap_or_default(),
                _ => Vec::new(),
            },
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Message {
        message: MessageView,
    },
    /// An edited or deleted message: replaces what the client shows for that `seq`.
    MessageUpdated {
        message: MessageView,
    },
    Reaction {
        message_id: String,
        seq: i64,
        stamp: String,
        user_id: String,
        on: bool,
    },
    Read {
        user_id: String,
        seq: i64,
    },
    /// Members, name, classification or existence of a talk changed: clients refresh it.
    Talk,
    /// Sessions of these users ended (suspension, password reset, sign-out): each connection
    /// checks its own session at once and closes if it is gone. Never sent to clients.
    SessionsEnded,
    /// Something for this person to see (a personal-data alert for a security officer):
    /// clients refresh their notification count. Not tied to a talk (`talk_id` is empty).
    Notification,
}

/// A committed change, addressed to the users who may see it.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    #[serde(skip)]
    pub recipients: Arc<Vec<String>>,
    pub talk_id: String,
    #[serde(flatten)]
    pub kind: EventKind,
    /// The JSON frame, made once and shared by every connection that sends it.
    #[serde(skip)]
    frame: Arc<std::sync::OnceLock<Utf8Bytes>>,
    /// For a new message: the `activity` frame (talk, seq, sender, no content) that
    /// connections which have not resumed the talk get instead, also made once.
    #[serde(skip)]
    activity: Arc<std::sync::OnceLock<Utf8Bytes>>,
}

impl Event {
    fn new(recipients: Vec<String>, talk_id: String, kind: EventKind) -> Event {
        Event {
            recipients: Arc::new(recipients),
            talk_id,
            kind,
            frame: Arc::default(),
            activity: Arc::default(),
        }
    }

    /// The event as a WebSocket text frame; clones share one buffer.
    pub fn frame(&self) -> Utf8Bytes {
        self.frame
            .get_or_init(|| serde_json::to_string(self).unwrap_or_default().into())
            .clone()
    }

    /// For a new message, its `activity` frame; shared like [`Event::frame`].
    pub fn activity_frame(&self) -> Option<Utf8Bytes> {
        let EventKind::Message { message } = &self.kind else {
            return None;
        };
        Some(
            self.activity
                .get_or_init(|| {
                    serde_json::json!({
                        "type": "activity", "talk_id": self.talk_id, "seq": message.seq,
                        "sender_id": message.sender_id, "created_at": message.created_at,
                    })
                    .to_string()
                    .into()
                })
                .clone(),
        )
    }

    /// A new message, with the members it mentions.
    pub fn message(m: &Message, mentions: Vec<String>, recipients: Vec<String>) -> Event {
        Event::new(
            recipients,
            m.talk_id.clone(),
            EventKind::Message {
                message: MessageView::with_mentions(m, mentions),
            },
        )
    }

    pub fn updated(m: &Message, recipients: Vec<String>) -> Event {
        Event::new(
            recipients,
            m.talk_id.clone(),
            EventKind::MessageUpdated { message: m.into() },
        )
    }

    pub fn reaction(
        m: &Message,
        stamp: &str,
        user_id: &str,
        on: bool,
        recipients: Vec<String>,
    ) -> Event {
        Event::new(
            recipients,
            m.talk_id.clone(),
            EventKind::Reaction {
                message_id: m.id.clone(),
                seq: m.seq,
                stamp: stamp.to_owned(),
                user_id: user_id.to_owned(),
                on,
            },
        )
    }

    pub fn read(talk_id: &str, user_id: &str, seq: i64, recipients: Vec<String>) -> Event {
        Event::new(
            recipients,
            talk_id.to_owned(),
            EventKind::Read {
                user_id: user_id.to_owned(),
                seq,
            },
        )
    }

    pub fn membership(talk_id: &str, recipients: Vec<String>) -> Event {
        Event::new(recipients, talk_id.to_owned(), EventKind::Talk)
    }

    pub fn sessions_ended(user_id: &str) -> Event {
        Event::new(
            vec![user_id.to_owned()],
            String::new(),
            EventKind::SessionsEnded,
        )
    }

    pub fn notification(recipients: Vec<String>) -> Event {
        Event::new(recipients, String::new(), EventKind::Notification)
    }
}

/// An event as it travels between nodes: with its recipients and the node that published it.
#[derive(Debug, Serialize, Deserialize)]
pub struct WireEvent {
    pub node: String,
    pub recipients: Vec<String>,
    pub talk_id: String,
    pub kind: EventKind,
}

impl WireEvent {
    pub fn from_event(node: &str, e: &Event) -> WireEvent {
        WireEvent {
            node: node.to_owned(),
            recipients: e.recipients.as_ref().clone(),
            talk_id: e.talk_id.clone(),
            kind: e.kind.clone(),
        }
    }

    pub fn into_event(self) -> Event {
        Event::new(self.recipients, self.talk_id, self.kind)
    }
}

/// Carries committed events to every connection on every node.
pub trait Bus: Send + Sync {
    fn publish(&self, event: Event);
    fn subscribe(&self) -> broadcast::Receiver<Event>;
}

/// One node: a broadcast channel in memory.
pub struct LocalBus {
    tx: broadcast::Sender<Event>,
}

impl Default for LocalBus {
    fn default() -> Self {
        LocalBus {
            tx: broadcast::channel(8192).0,
        }
    }
}

impl Bus for LocalBus {
    fn publish(&self, event: Event) {
        // No subscriber is not an error: nobody is connected.
        let _ = self.tx.send(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    /// Send everything after these sequence numbers, then keep the talks live.
    Resume {
        talks: HashMap<String, i64>,
    },
    Ping,
    /// Sends a message, as `POST /api/v1/talks/{talk}/messages` does. The answer is an `ack`
    /// frame carrying `ref` and the committed message (it survives a crash), or an `error`
    /// frame carrying `ref`.
    Send(SendFrame),
}

#[derive(Debug, Deserialize)]
struct SendFrame {
    /// The client's own reference for this send, echoed in the answer (at most 64 characters).
    #[serde(rename = "ref")]
    reference: String,
    talk_id: String,
    body: String,
    #[serde(default)]
    reply_to: Option<String>,
    #[serde(default)]
    mentions: Vec<String>,
    #[serde(default)]
    class: Option<i64>,
    #[serde(default)]
    confirm_dlp: bool,
    /// Uploaded files to send with the text.
    #[serde(default)]
    files: Vec<String>,
}

/// How often a live connection re-reads its session when no event has prompted it.
const SESSION_CHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// Sends answered but not yet written to the socket; a client that sends faster than its
/// answers drain waits here, which the rate limit keeps short.
const ANSWERS_IN_FLIGHT: usize = 64;

/// `GET /api/v1/ws`: the live connection of one device.
pub async fn ws(
    State(state): State<AppState>,
    me: CurrentUser,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, AppError> {
    // Browsers send cookies with cross-site WebSocket requests; the Origin must be ours.
    if let (Some(origin), Some(host)) = (headers.get("origin"), headers.get("host")) {
        let origin = origin.to_str().unwrap_or("");
        if origin.split("://").nth(1) != Some(host.to_str().unwrap_or("")) {
            return Err(AppError::Csrf);
        }
    }
    Ok(upgrade
        .max_message_size(64 * 1024)
        // Small buffers: an idle connection then costs a few KiB instead of about 135 KiB.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| connection(state, me, socket)))
}

async fn send(socket: &mut WebSocket, value: &impl Serialize) -> bool {
    match serde_json::to_string(value) {
        Ok(text) => socket.send(WsMessage::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

fn error_frame(e: &AppError) -> serde_json::Value {
    serde_json::json!({ "type": "error", "error": e.body().error })
}

async fn connection(state: AppState, me: CurrentUser, mut socket: WebSocket) {
    // Register first: anything committed from now on reaches us, whatever the backlog read sees.
    let mut registration = state.hub.register(&me.user.id);
    let actor = me.actor();
    let member = Member {
        actor: &actor,
        user_id: &me.user.id,
        org_id: &me.user.org_id,
        device: me.client.device,
    };
    let mut delivered: HashMap<String, i64> = HashMap::new();
    if !send(
        &mut socket,
        &serde_json::json!({ "type": "hello", "user_id": me.user.id }),
    )
    .await
    {
        return;
    }
    // Ends that publish an event (suspension, sign-out, password reset) close the connection
    // at once; this slower check is the backstop for the rest (idle or absolute expiry, a
    // node that missed the event). Spread over the period so that 20,000 connections do not
    // all ask at the same moment.
    let offset =
        std::time::Duration::from_millis(rand::random::<u64>() % SESSION_CHECK.as_millis() as u64);
    let mut session_check =
        tokio::time::interval_at(tokio::time::Instant::now() + offset, SESSION_CHECK);
    let (answers, mut answered) =
        tokio::sync::mpsc::channel::<serde_json::Value>(ANSWERS_IN_FLIGHT);
    let sender = Sender {
        actor: actor.clone(),
        user_id: me.user.id.clone(),
        org_id: me.user.org_id.clone(),
        device: me.client.device,
    };
    let mut send_queue = None;
    loop {
        tokio::select! {
            Some(answer) = answered.recv() => {
                if !send(&mut socket, &answer).await { break }
            }
            frame = socket.recv() => {
                let Some(Ok(frame)) = frame else { break };
                let text = match frame {
                    WsMessage::Text(t) => t.to_string(),
                    WsMessage::Close(_) => break,
                    _ => continue,
                };
                match serde_json::from_str::<ClientFrame>(&text) {
                    Ok(ClientFrame::Ping) => {
                        if !send(&mut socket, &serde_json::json!({ "type": "pong" })).await { break }
                    }
                    Ok(ClientFrame::Resume { talks }) => {
                        for (talk_id, after) in talks {
                            if !backfill(&state, &member, &mut socket, &mut delivered, &talk_id, after.max(0)).await {
                                return;
                            }
                        }
                    }
                    Ok(ClientFrame::Send(frame)) => {
                        if let Err(answer) = accept_send(&state, &sender, &mut send_queue, frame, &answers)
                            && !send(&mut socket, &answer).await
                        {
                            break;
                        }
                    }
                    Err(e) => {
                        let err = AppError::BadRequest(e.to_string());
                        if !send(&mut socket, &error_frame(&err)).await { break }
                    }
                }
            }
            event = registration.events.recv() => {
                // None: the hub dropped us for being too slow; the client resumes from what it has.
                let Some(event) = event else {
                    let _ = socket.send(WsMessage::Close(None)).await;
                    break;
                };
                if !event.recipients.iter().any(|u| u == &me.user.id) {
                    continue;
                }
                if matches!(event.kind, EventKind::SessionsEnded) {
                    // A suspended user or an ended session loses the connection now, not at
                    // the next periodic check.
                    if !session_alive(&state, &me.session.id).await {
                        let _ = socket.send(WsMessage::Close(None)).await;
                        break;
                    }
                    continue;
                }
                if let EventKind::Message { message } = &event.kind {
                    let Some(&have) = delivered.get(&event.talk_id) else {
                        // A talk this connection has not resumed: say that something arrived
                        // (for unread badges), not what. Its messages flow, in order and once
                        // each, only after the client resumes it from the seq it holds.
                        let Some(note) = event.activity_frame() else { continue };
                        if socket.send(WsMessage::Text(note)).await.is_err() { break }
                        continue;
                    };
                    if message.seq <= have {
                        continue;
                    }
                    if message.seq > have + 1 {
                        // An earlier message committed but its event has not arrived yet.
                        if !backfill(&state, &member, &mut socket, &mut delivered, &event.talk_id, have).await {
                            return;
                        }
                        continue;
                    }
                    delivered.insert(event.talk_id.clone(), message.seq);
                }
                if socket.send(WsMessage::Text(event.frame())).await.is_err() { break }
            }
            _ = session_check.tick() => {
                // A backstop for ends that published nothing (idle expiry, another node's bus
                // outage): a suspended user, an ended session or a removed device loses the
                // connection.
                if !session_alive(&state, &me.session.id).await {
                    let _ = socket.send(WsMessage::Close(None)).await;
                    break;
                }
            }
        }
    }
}

fn refusal(reference: &str, e: AppError) -> serde_json::Value {
    let mut v = serde_json::to_value(e.body()).unwrap_or_default();
    v["type"] = "error".into();
    v["ref"] = reference.into();
    v
}

/// Sends waiting for this connection's sender task; beyond this (far past the rate limit's
/// burst) a send is refused rather than blocking deliveries.
const SENDS_QUEUED: usize = 32;

/// Who is sending on a connection, owned so the sender task can keep it.
#[derive(Clone)]
struct Sender {
    actor: kairan_domain::policy::Actor,
    user_id: String,
    org_id: String,
    device: kairan_domain::DeviceClass,
}

/// Starts a send from the live connection: checked against the rate limit at once, then queued
/// for the connection's one sender task, which posts its sends one after another so that they
/// are stored in the order the client sent them, while the connection keeps delivering. An
/// immediate refusal is returned as the frame to send.
fn accept_send(
    state: &AppState,
    who: &Sender,
    queue: &mut Option<tokio::sync::mpsc::Sender<SendFrame>>,
    frame: SendFrame,
    answers: &tokio::sync::mpsc::Sender<serde_json::Value>,
) -> Result<(), serde_json::Value> {
    if frame.reference.chars().count() > 64 {
        return Err(refusal(
            "",
            AppError::BadRequest("ref is longer than 64 characters".into()),
        ));
    }
    if let Err(e) = crate::limits::throttle(state, &who.user_id) {
        return Err(refusal(&frame.reference, e));
    }
    // The task starts with the first send: an idle connection costs no task.
    let q = queue.get_or_insert_with(|| {
        let (tx, rx) = tokio::sync::mpsc::channel(SENDS_QUEUED);
        tokio::spawn(sender_task(state.clone(), who.clone(), rx, answers.clone()));
        tx
    });
    q.try_send(frame).map_err(|e| {
        let reference = match &e {
            tokio::sync::mpsc::error::TrySendError::Full(f)
            | tokio::sync::mpsc::error::TrySendError::Closed(f) => f.reference.clone(),
        };
        refusal(&reference, AppError::RateLimited { retry_after_s: 1 })
    })
}

/// Posts one connection's sends in order until the connection closes. Answers go back through
/// the connection; if it has closed meanwhile, the messages are committed all the same.
async fn sender_task(
    state: AppState,
    who: Sender,
    mut frames: tokio::sync::mpsc::Receiver<SendFrame>,
    answers: tokio::sync::mpsc::Sender<serde_json::Value>,
) {
    while let Some(frame) = frames.recv().await {
        let member = Member {
            actor: &who.actor,
            user_id: &who.user_id,
            org_id: &who.org_id,
            device: who.device,
        };
        let post = chat::Post {
            body: &frame.body,
            reply_to: frame.reply_to.as_deref(),
            mentions: &frame.mentions,
            class: frame.class,
            confirmed: frame.confirm_dlp,
            files: &frame.files,
        };
        let answer = match chat::post(&state, &member, &frame.talk_id, post).await {
            Ok((message, mentions)) => serde_json::json!({
                "type": "ack", "ref": frame.reference,
                "message": MessageView::with_mentions(&message, mentions),
            }),
            Err(e) => {
                e.log();
                refusal(&frame.reference, e)
            }
        };
        let _ = answers.send(answer).await;
    }
}

/// The session behind a live connection is still good: not ended, not past its idle or
/// absolute limit. A database hiccup keeps the connection (the next check decides).
async fn session_alive(state: &AppState, session_id: &str) -> bool {
    let Ok(mut conn) = state.store.read().await else {
        return true;
    };
    match kairan_store::sessions::by_id(&mut conn, session_id).await {
        Ok(Some(s)) => {
            s.ended_at.is_none() && !crate::auth::session_expired(state, &s, kairan_store::now_us())
        }
        Ok(None) => false,
        Err(_) => true,
    }
}

/// Sends every message of `talk_id` after `after` that this connection has not sent yet.
async fn backfill(
    state: &AppState,
    member: &Member<'_>,
    socket: &mut WebSocket,
    delivered: &mut HashMap<String, i64>,
    talk_id: &str,
    after: i64,
) -> bool {
    // Never send again what this connection already sent.
    let mut from = after.max(delivered.get(talk_id).copied().unwrap_or(0));
    loop {
        let page = match chat::messages(state, member, talk_id, Some(from), None, 200).await {
            Ok(p) => p,
            Err(e) => return send(socket, &serde_json::json!({ "type": "error", "talk_id": talk_id, "error": e.body().error })).await,
        };
        let n = page.len();
        for message in page {
            from = message.seq;
            let event = Event::new(
                Vec::new(),
                talk_id.to_owned(),
                EventKind::Message { message },
            );
            if !send(socket, &event).await {
                return false;
            }
        }
        delivered.insert(talk_id.to_owned(), from);
        if n < 200 {
            return send(
                socket,
                &serde_json::json!({ "type": "caught_up", "talk_id": talk_id, "seq": from }),
            )
            .await;
        }
    }
}
