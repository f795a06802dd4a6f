//! Group commit for new messages (C2, C3; issue 5 asks for at least 2,000 durable messages/s
//! on SQLite and 5,000/s on PostgreSQL).
//!
//! Every post and forward, once screened, is handed to this node's one writer task. The task
//! takes everything waiting (up to [`MAX_BATCH`]), checks each message against its talk as it
//! stands under the write lock (the sender still a member, the class within the ceiling, the
//! mentioned still members), appends the accepted ones with their audit records in one
//! transaction and commits once: one fsync for the batch. Then it publishes the live events in
//! sequence order and answers each sender. Nothing is acknowledged before the commit that holds
//! it, so `kill -9` at any moment loses no acknowledged message.
//!
//! While one batch commits, the next gathers: at low load a message waits for nothing but its
//! own commit, under load the commit's cost is shared. A message refused by the checks is
//! answered at once and never touches the batch; a database error fails the whole batch (its
//! transaction rolls back) and every sender in it gets the error, none an acknowledgement.

use crate::error::AppError;
use crate::realtime::{Bus, Event};
use crate::services::chat::{class_refused, rank};
use crate::services::{detail, dlp, protection};
use futures::FutureExt;
use kairan_domain::classification::{self, Scheme};
use kairan_store::audit::{self, NewEntry};
use kairan_store::chat::{self, Message, NewMessage, Talk};
use kairan_store::{Store, WriteTx};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The most messages one transaction takes. Large enough that a commit's fsync is shared by
/// many, small enough that the first sender in a batch does not wait long for the last.
pub const MAX_BATCH: usize = 256;

/// A screened message on its way to the database.
pub struct Pending {
    pub org_id: String,
    pub talk_id: String,
    pub sender_id: String,
    pub body: String,
    pub reply_to: Option<String>,
    pub forwarded_from: Option<String>,
    /// The class after the sender's choice and the findings (a rank).
    pub class: u8,
    /// Users the text names; each must still be a member.
    pub mentions: Vec<String>,
    /// The body's scheme, to name the classes if the ceiling refuses the message.
    pub scheme: Scheme,
    /// Findings the sender confirmed; the officers are told when the rules say so.
    pub confirmed: Option<dlp::Verdict>,
    /// The audit entry as far as the caller knows it (actor, action, class, findings); the
    /// writer adds the message, talk and sequence number.
    pub entry: NewEntry,
    /// Files sent with it: each must still be unsent when the batch is written.
    pub files: Vec<String>,
    /// What the message shows of them (JSON), stored with it.
    pub attachments: Option<String>,
    /// A forward's files: (the copy's new id, the original's id), copied into the target talk.
    pub file_copies: Vec<(String, String)>,
}

/// A message as committed, with the members it was delivered to.
pub struct Committed {
    pub message: Message,
    pub members: Vec<String>,
}

type Reply = oneshot::Sender<Result<Committed, AppError>>;

/// The handle services submit through; the task behind it lives as long as the node.
pub struct Writer {
    queue: mpsc::Sender<(Pending, Reply)>,
}

impl Writer {
    /// Starts the writer task. Must be called inside the runtime.
    pub fn start(store: Store, bus: Arc<dyn Bus>) -> Writer {
        // Bounded: when the database falls behind, senders wait here instead of piling up
        // memory without limit.
        let (queue, rx) = mpsc::channel(MAX_BATCH * 8);
        tokio::spawn(run(store, bus, rx));
        Writer { queue }
    }

    /// Appends a message and returns once it is committed (or refused).
    pub async fn submit(&self, p: Pending) -> Result<Committed, AppError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((p, reply))
            .await
            .map_err(|_| AppError::Internal("message writer stopped".into()))?;
        answer
            .await
            .map_err(|_| AppError::Internal("message writer dropped a message".into()))?
    }
}

async fn run(store: Store, bus: Arc<dyn Bus>, mut rx: mpsc::Receiver<(Pending, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let taken = std::mem::take(&mut batch);
        let n = taken.len();
        let started = std::time::Instant::now();
        // A bug that panics inside one batch must not stop every later send on this node:
        // the batch's senders get an error (their answer channels drop) and the loop goes on.
        let outcome = std::panic::AssertUnwindSafe(write(&store, taken))
            .catch_unwind()
            .await;
        let Ok(outcome) = outcome else {
            tracing::error!(
                messages = n,
                "message batch panicked; its senders get an error"
            );
            continue;
        };
        match outcome {
            Ok(done) => {
                tracing::debug!(
                    messages = n,
                    us = started.elapsed().as_micros() as u64,
                    "message batch committed"
                );
                for (p, reply, c, officers) in done {
                    if !officers.is_empty() {
                        bus.publish(Event::notification(officers));
                    }
                    bus.publish(Event::message(&c.message, p.mentions, c.members.clone()));
                    let _ = reply.send(Ok(c));
                }
            }
            Err((e, replies)) => {
                tracing::error!(error = %e, messages = n, "message batch failed");
                for reply in replies {
                    let _ = reply.send(Err(AppError::Internal(
                        "the message could not be stored".into(),
                    )));
                }
            }
        }
    }
}

/// What a committed batch hands back for publishing: each message, and the officers told.
type Done = Vec<(Pending, Reply, Committed, Vec<String>)>;
/// A failed batch: the error, and whom to tell.
type Failed = (AppError, Vec<Reply>);

async fn write(store: &Store, batch: Vec<(Pending, Reply)>) -> Result<Done, Failed> {
    let mut tx = match store.write().await {
        Ok(tx) => tx,
        Err(e) => return Err((e.into(), batch.into_iter().map(|(_, r)| r).collect())),
    };
    // The talks in id order, read (and on PostgreSQL locked) once per batch.
    let talks = match talk_states(&mut tx, &batch).await {
        Ok(t) => t,
        Err(e) => return Err((e, batch.into_iter().map(|(_, r)| r).collect())),
    };
    let mut unsent = match unsent_files(&mut tx, &batch).await {
        Ok(f) => f,
        Err(e) => return Err((e, batch.into_iter().map(|(_, r)| r).collect())),
    };
    let mut accepted = Vec::with_capacity(batch.len());
    for (p, reply) in batch {
        match admit(&p, talks.get(&p.talk_id), &mut unsent) {
            Ok(members) => accepted.push((p, reply, members)),
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
    }
    if accepted.is_empty() {
        return Ok(Vec::new());
    }
    match append(&mut tx, &talks, &accepted).await {
        Ok((messages, officers)) => match tx.commit().await {
            Ok(()) => Ok(accepted
                .into_iter()
                .zip(messages)
                .zip(officers)
                .map(|(((p, reply, members), message), told)| {
                    (p, reply, Committed { message, members }, told)
                })
                .collect()),
            Err(e) => Err((e.into(), accepted.into_iter().map(|(_, r, _)| r).collect())),
        },
        Err(e) => Err((e, accepted.into_iter().map(|(_, r, _)| r).collect())),
    }
}

/// Each talk of the batch with its current members, read in two statements.
async fn talk_states(
    tx: &mut WriteTx,
    batch: &[(Pending, Reply)],
) -> Result<BTreeMap<String, (Talk, Vec<String>)>, AppError> {
    let mut ids: Vec<&str> = batch.iter().map(|(p, _)| p.talk_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut talks: BTreeMap<String, (Talk, Vec<String>)> = chat::talks_for_write(tx, &ids)
        .await?
        .into_iter()
        .map(|t| (t.id.clone(), (t, Vec::new())))
        .collect();
    for (talk_id, user_id) in chat::members_of_talks(tx.conn(), &ids).await? {
        if let Some((_, members)) = talks.get_mut(&talk_id) {
            members.push(user_id);
        }
    }
    Ok(talks)
}

/// The files of the batch that are still unsent, read under the write lock (on PostgreSQL the
/// talks' rows are locked already, and a file belongs to one talk).
async fn unsent_files(
    tx: &mut WriteTx,
    batch: &[(Pending, Reply)],
) -> Result<std::collections::HashSet<String>, AppError> {
    let ids: Vec<&str> = batch
        .iter()
        .flat_map(|(p, _)| p.files.iter().map(String::as_str))
        .collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(kairan_store::files::unattached(tx, &ids)
        .await?
        .into_iter()
        .collect())
}

/// Under the write lock, just before the write: the sender is still a member (someone removed
/// a moment ago may not post), the class still fits the ceiling (someone may have lowered it),
/// everyone mentioned is still a member, and each file is still unsent (taken here, so two
/// messages cannot carry the same one). Returns the members: who the message is for.
fn admit(
    p: &Pending,
    talk: Option<&(Talk, Vec<String>)>,
    unsent: &mut std::collections::HashSet<String>,
) -> Result<Vec<String>, AppError> {
    let (talk, members) = talk.ok_or(AppError::NotFound)?;
    if !members.contains(&p.sender_id) {
        return Err(AppError::NotFound);
    }
    classification::forward_class(p.class, rank(talk.ceiling))
        .map_err(|r| class_refused(&p.scheme, r))?;
    if p.mentions.iter().any(|u| !members.contains(u)) {
        return Err(crate::services::chat::mention_refused());
    }
    if p.files.iter().any(|f| !unsent.contains(f)) {
        return Err(crate::services::files::not_attachable());
    }
    for f in &p.files {
        unsent.remove(f);
    }
    Ok(members.clone())
}

/// The rows of the accepted messages: messages, mentions, officers' notifications and one
/// audit record each.
async fn append(
    tx: &mut WriteTx,
    talks: &BTreeMap<String, (Talk, Vec<String>)>,
    accepted: &[(Pending, Reply, Vec<String>)],
) -> Result<(Vec<Message>, Vec<Vec<String>>), AppError> {
    let news: Vec<NewMessage<'_>> = accepted
        .iter()
        .map(|(p, _, _)| NewMessage {
            talk_id: &p.talk_id,
            sender_id: &p.sender_id,
            body: &p.body,
            reply_to: p.reply_to.as_deref(),
            class: i64::from(p.class),
            forwarded_from: p.forwarded_from.as_deref(),
            attachments: p.attachments.as_deref(),
        })
        .collect();
    // The rows read under the lock at the start of the batch: their counters are current.
    let locked: Vec<&Talk> = talks.values().map(|(t, _)| t).collect();
    let messages = chat::insert_messages(tx, &locked, &news).await?;
    let mut entries = Vec::with_capacity(messages.len());
    let mut officers = Vec::with_capacity(messages.len());
    for ((p, _, _), msg) in accepted.iter().zip(&messages) {
        chat::add_mentions(tx, &msg.id, &p.mentions).await?;
        kairan_store::files::attach(tx, &msg.id, &p.files).await?;
        for (copy, from) in &p.file_copies {
            kairan_store::files::copy_into(tx, from, copy, &msg.talk_id, &msg.id).await?;
        }
        officers.push(match &p.confirmed {
            Some(v) => {
                protection::notify_officers(tx, &p.org_id, &p.sender_id, &msg.id, v, "sent").await?
            }
            None => Vec::new(),
        });
        entries.push(for_message(p.entry.clone(), msg));
    }
    audit::append_many(tx, entries).await?;
    Ok((messages, officers))
}

/// Completes the audit entry of a change to one message: which message, in which talk, at
/// which seq.
pub fn for_message(mut e: NewEntry, msg: &Message) -> NewEntry {
    e.target_id = Some(msg.id.clone());
    detail(&mut e, "talk", msg.talk_id.as_str());
    detail(&mut e, "seq", msg.seq);
    e
}
