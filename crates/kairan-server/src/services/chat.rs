//! Talks and messages (C1–C3). Access is decided by `policy::check_talk` (membership in one's
//! own body); a refusal is answered as "not found" so a talk's existence is never revealed.
//! Each change commits with its audit record, then is published on the bus for live delivery.

use crate::error::AppError;
use crate::realtime::Event;
use crate::services::{audit_entry, detail, dlp};
use crate::state::AppState;
use kairan_domain::audit::AuditAction;
use kairan_domain::input::{MessageBody, parse_talk_name};
use kairan_domain::policy::{Actor, TalkAction, TalkRef, check_talk};
use kairan_domain::{DomainError, OrgId};
use kairan_store::audit;
use kairan_store::chat::{self, Message, Talk, TalkSummary};
use kairan_store::users;

/// The signed-in user acting on talks (the console operator has no talks).
pub struct Member<'a> {
    pub actor: &'a Actor,
    pub user_id: &'a str,
    pub org_id: &'a str,
}

async fn load(
    state: &AppState,
    m: &Member<'_>,
    talk_id: &str,
    action: TalkAction,
) -> Result<Talk, AppError> {
    let mut conn = state.store.read().await?;
    let talk = chat::talk(&mut conn, talk_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let member = chat::is_member(&mut conn, talk_id, m.user_id).await?;
    let org = OrgId(talk.org_id.clone());
    check_talk(m.actor, action, &TalkRef { org: &org, member }).map_err(|_| AppError::NotFound)?;
    Ok(talk)
}

/// Checks that every user is an active member of the caller's body.
async fn colleagues(state: &AppState, org_id: &str, ids: &[String]) -> Result<(), AppError> {
    let mut conn = state.store.read().await?;
    for id in ids {
        let ok = users::by_id(&mut conn, id)
            .await?
            .is_some_and(|u| u.org_id == org_id && u.is_active());
        if !ok {
            return Err(DomainError::invalid(
                "members",
                "メンバー",
                "同じ団体の利用中の職員を選んでください。",
                "choose active staff of your own body.",
            )
            .into());
        }
    }
    Ok(())
}

/// Opens the 1:1 talk with `other`, creating it the first time: one talk per pair.
pub async fn open_direct(
    state: &AppState,
    m: &Member<'_>,
    other: &str,
) -> Result<(String, bool), AppError> {
    let org = OrgId(m.org_id.to_owned());
    check_talk(
        m.actor,
        TalkAction::Create,
        &TalkRef {
            org: &org,
            member: false,
        },
    )?;
    if other == m.user_id {
        return Err(DomainError::invalid(
            "user_id",
            "相手",
            "自分以外の職員を選んでください。",
            "choose someone other than yourself.",
        )
        .into());
    }
    colleagues(state, m.org_id, &[other.to_owned()]).await?;
    let key = if m.user_id < other {
        format!("{}:{other}", m.user_id)
    } else {
        format!("{other}:{}", m.user_id)
    };
    let mut tx = state.store.write().await?;
    if let Some(id) = chat::talk_by_direct_key(tx.conn(), &key).await? {
        // Reopening brings back a member who had left.
        chat::add_member(&mut tx, &id, m.user_id).await?;
        tx.commit().await?;
        return Ok((id, false));
    }
    let id = chat::insert_talk(&mut tx, m.org_id, "direct", "", Some(&key), m.user_id).await?;
    chat::add_member(&mut tx, &id, m.user_id).await?;
    chat::add_member(&mut tx, &id, other).await?;
    let mut e = audit_entry(m.actor, AuditAction::TalkCreated);
    e.target_id = Some(id.clone());
    detail(&mut e, "kind", "direct");
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    state.bus.publish(Event::membership(
        &id,
        vec![m.user_id.to_owned(), other.to_owned()],
    ));
    Ok((id, true))
}

pub async fn create_group(
    state: &AppState,
    m: &Member<'_>,
    name: &str,
    members: &[String],
) -> Result<String, AppError> {
    let org = OrgId(m.org_id.to_owned());
    check_talk(
        m.actor,
        TalkAction::Create,
        &TalkRef {
            org: &org,
            member: false,
        },
    )?;
    let name = parse_talk_name(name)?;
    let mut all: Vec<String> = vec![m.user_id.to_owned()];
    for id in members {
        if !all.contains(id) {
            all.push(id.clone());
        }
    }
    if all.len() > 1000 {
        return Err(DomainError::invalid(
            "members",
            "メンバー",
            "メンバーは1000人までです。",
            "at most 1000 members.",
        )
        .into());
    }
    colleagues(state, m.org_id, &all).await?;
    let mut tx = state.store.write().await?;
    let id = chat::insert_talk(&mut tx, m.org_id, "group", &name, None, m.user_id).await?;
    for u in &all {
        chat::add_member(&mut tx, &id, u).await?;
    }
    let mut e = audit_entry(m.actor, AuditAction::TalkCreated);
    e.target_id = Some(id.clone());
    detail(&mut e, "kind", "group");
    detail(&mut e, "members", all.len());
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    state.bus.publish(Event::membership(&id, all));
    Ok(id)
}

pub async fn talks(state: &AppState, m: &Member<'_>) -> Result<Vec<TalkSummary>, AppError> {
    let mut conn = state.store.read().await?;
    Ok(chat::talks_of(&mut conn, m.user_id).await?)
}

pub async fn talk(
    state: &AppState,
    m: &Member<'_>,
    talk_id: &str,
) -> Result<(Talk, Vec<(String, i64)>), AppError> {
    let talk = load(state, m, talk_id, TalkAction::Read).await?;
    let mut conn = state.store.read().await?;
    let members = chat::members(&mut conn, talk_id).await?;
    Ok((talk, members))
}

/// The personal-data check every stored text passes (new messages and edits alike). A block, or
/// a finding that asks for confirmation the sender has not given, is audited (kinds and
/// positions only) and answered with the findings and the masked text.
async fn screen(
    state: &AppState,
    m: &Member<'_>,
    text: &str,
    target: &str,
    confirmed: bool,
) -> Result<dlp::Verdict, AppError> {
    let verdict = dlp::check(&state.scanner, text);
    let refused = match verdict.action() {
        dlp::Action::Block => AuditAction::DlpBlocked,
        dlp::Action::Confirm if !confirmed => AuditAction::DlpConfirmRequested,
        dlp::Action::Confirm | dlp::Action::Allow => return Ok(verdict),
    };
    let mut tx = state.store.write().await?;
    let mut e = audit_entry(m.actor, refused);
    e.target_id = Some(target.to_owned());
    detail(&mut e, "findings", verdict.audit_details());
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Err(AppError::Dlp(Box::new(verdict)))
}

/// Posts a message after the personal-data check. `confirmed` is the sender's "send anyway"
/// for findings that only ask for confirmation; blocked findings are never sent.
pub async fn post(
    state: &AppState,
    m: &Member<'_>,
    talk_id: &str,
    body: &str,
    reply_to: Option<&str>,
    mentions: &[String],
    confirmed: bool,
) -> Result<(Message, Vec<String>), AppError> {
    let body = MessageBody::parse(body)?;
    load(state, m, talk_id, TalkAction::Post).await?;
    if reply_to.is_some() {
        let mut conn = state.store.read().await?;
        let original = match reply_to {
            Some(r) => chat::message(&mut conn, r).await?,
            None => None,
        };
        if original.is_none_or(|o| o.talk_id != talk_id) {
            return Err(DomainError::invalid(
                "reply_to",
                "返信先",
                "このトークのメッセージに返信してください。",
                "reply to a message of this talk.",
            )
            .into());
        }
    }
    let verdict = screen(state, m, body.as_str(), talk_id, confirmed).await?;
    let mut tx = state.store.write().await?;
    // Membership is checked again under the write lock: someone removed a moment ago may not post.
    if !chat::is_member(tx.conn(), talk_id, m.user_id).await? {
        return Err(AppError::NotFound);
    }
    // A mention names a current member, and the text shows it as @name (or ＠name).
    let mut mentioned: Vec<String> = Vec::new();
    if !mentions.is_empty() {
        let members = members_of(&mut tx, talk_id).await?;
        for id in mentions {
            if mentioned.contains(id) {
                continue;
            }
            let named = match users::by_id(tx.conn(), id).await? {
                Some(u) => {
                    body.as_str().contains(&format!("@{}", u.display_name))
                        || body.as_str().contains(&format!("＠{}", u.display_name))
                }
                None => false,
            };
            if !members.contains(id) || !named {
                return Err(DomainError::invalid(
                    "mentions",
                    "メンション",
                    "このトークのメンバーを「@氏名」の形で指定してください。",
                    "mention members of this talk as @name in the text.",
                )
                .into());
            }
            mentioned.push(id.clone());
        }
    }
    let msg = chat::insert_message(&mut tx, talk_id, m.user_id, body.as_str(), reply_to).await?;
    chat::add_mentions(&mut tx, &msg.id, &mentioned).await?;
    let mut e = audit_entry(m.actor, AuditAction::MessagePosted);
    e.target_id = Some(msg.id.clone());
    detail(&mut e, "talk", talk_id);
    detail(&mut e, "seq", msg.seq);
    if !verdict.findings.is_empty() {
        // Sent after the sender confirmed: which kinds, where; never the values.
        detail(&mut e, "dlp_confirmed", verdict.audit_details());
    }
    audit::append(&mut tx, e).await?;
    let recipients = members_of(&mut tx, talk_id).await?;
    tx.commit().await?;
    let mut event = Event::message(&msg, recipients);
    if let crate::realtime::EventKind::Message { message } = &mut event.kind {
        message.mentions = mentioned.clone();
    }
    state.bus.publish(event);
    Ok((msg, mentioned))
}

/// Messages after `after` (oldest first), or the page before `before` when given.
pub async fn messages(
    state: &AppState,
    m: &Member<'_>,
    talk_id: &str,
    after: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Message>, AppError> {
    load(state, m, talk_id, TalkAction::Read).await?;
    let limit = limit.clamp(1, 200);
    let mut conn = state.store.read().await?;
    Ok(match before {
        Some(b) => chat::messages_before(&mut conn, talk_id, b, limit).await?,
        None => chat::messages_after(&mut conn, talk_id, after.unwrap_or(0), limit).await?,
    })
}

/// Marks the talk read up to `seq` on every device of the caller.
pub async fn mark_read(
    state: &AppState,
    m: &Member<'_>,
    talk_id: &str,
    seq: i64,
) -> Result<(), AppError> {
    let talk = load(state, m, talk_id, TalkAction::Read).await?;
    let seq = seq.clamp(0, talk.last_seq);
    let mut tx = state.store.write().await?;
    let moved = chat::mark_read(&mut tx, talk_id, m.user_id, seq).await?;
    let recipients = members_of(&mut tx, talk_id).await?;
    tx.commit().await?;
    if moved.is_some() {
        state
            .bus
            .publish(Event::read(talk_id, m.user_id, seq, recipients));
    }
    Ok(())
}

pub async fn invite(
    state: &AppState,
    m: &Member<'_>,
    talk_id: &str,
    users_to_add: &[String],
) -> Result<(), AppError> {
    let talk = load(state, m, talk_id, TalkAction::Manage).await?;
    if talk.kind == "direct" {
        return Err(DomainError::invalid(
            "talk",
            "トーク",
            "1対1のトークには招待できません。グループを作成してください。",
            "a 1:1 talk cannot take more members; create a group.",
        )
        .into());
    }
    colleagues(state, m.org_id, users_to_add).await?;
    let mut tx = state.store.write().await?;
    for u in users_to_add {
        if chat::add_member(&mut tx, talk_id, u).await? {
            let mut e = audit_entry(m.actor, AuditAction::TalkMemberAdded);
            e.target_id = Some(u.clone());
            detail(&mut e, "talk", talk_id);
            audit::append(&mut tx, e).await?;
        }
    }
    let recipients = members_of(&mut tx, talk_id).await?;
    tx.commit().await?;
    state.bus.publish(Event::membership(talk_id, recipients));
    Ok(())
}

pub async fn leave(state: &AppState, m: &Member<'_>, talk_id: &str) -> Result<(), AppError> {
    load(state, m, talk_id, TalkAction::Manage).await?;
    let mut tx = state.store.write().await?;
    chat::remove_member(&mut tx, talk_id, m.user_id).await?;
    let mut e = audit_entry(m.actor, AuditAction::TalkMemberLeft);
    e.target_id = Some(m.user_id.to_owned());
    detail(&mut e, "talk", talk_id);
    audit::append(&mut tx, e).await?;
    let mut recipients = members_of(&mut tx, talk_id).await?;
    tx.commit().await?;
    recipients.push(m.user_id.to_owned());
    state.bus.publish(Event::membership(talk_id, recipients));
    Ok(())
}

pub async fn rename(
    state: &AppState,
    m: &Member<'_>,
    talk_id: &str,
    name: &str,
) -> Result<(), AppError> {
    let talk = load(state, m, talk_id, TalkAction::Manage).await?;
    if talk.kind == "direct" {
        return Err(DomainError::invalid(
            "talk",
            "トーク",
            "1対1のトークには名前を付けられません。",
            "a 1:1 talk has no name.",
        )
        .into());
    }
    let name = parse_talk_name(name)?;
    let mut tx = state.store.write().await?;
    chat::set_name(&mut tx, talk_id, &name).await?;
    let mut e = audit_entry(m.actor, AuditAction::TalkRenamed);
    e.target_id = Some(talk_id.to_owned());
    audit::append(&mut tx, e).await?;
    let recipients = members_of(&mut tx, talk_id).await?;
    tx.commit().await?;
    state.bus.publish(Event::membership(talk_id, recipients));
    Ok(())
}

async fn own_message(
    state: &AppState,
    m: &Member<'_>,
    message_id: &str,
    action: TalkAction,
) -> Result<Message, AppError> {
    let msg = {
        let mut conn = state.store.read().await?;
        chat::message(&mut conn, message_id)
            .await?
            .ok_or(AppError::NotFound)?
    };
    load(state, m, &msg.talk_id, action).await?;
    Ok(msg)
}

fn only_own(msg: &Message, m: &Member<'_>) -> Result<(), AppError> {
    if msg.sender_id != m.user_id {
        return Err(DomainError::invalid(
            "message",
            "メッセージ",
            "自分が送信したメッセージだけを編集・削除できます。",
            "you can only edit or delete your own messages.",
        )
        .into());
    }
    if msg.deleted_at.is_some() {
        return Err(AppError::Conflict("message_deleted"));
    }
    Ok(())
}

/// The talk's current members, read inside the write transaction: exactly who the event of
/// this change is for.
async fn members_of(
    tx: &mut kairan_store::WriteTx,
    talk_id: &str,
) -> Result<Vec<String>, AppError> {
    Ok(chat::members(tx.conn(), talk_id)
        .await?
        .into_iter()
        .map(|(u, _)| u)
        .collect())
}

/// The audit entry for a change to one message: which message, in which talk, at which seq.
fn message_entry(
    m: &Member<'_>,
    action: AuditAction,
    msg: &Message,
) -> kairan_store::audit::NewEntry {
    let mut e = audit_entry(m.actor, action);
    e.target_id = Some(msg.id.clone());
    detail(&mut e, "talk", msg.talk_id.as_str());
    detail(&mut e, "seq", msg.seq);
    e
}

/// Records a change to a message with its audit entry, commits, then shows the message as it
/// now stands to every member.
async fn commit_update(
    state: &AppState,
    mut tx: kairan_store::WriteTx,
    entry: kairan_store::audit::NewEntry,
    updated: &Message,
) -> Result<(), AppError> {
    audit::append(&mut tx, entry).await?;
    let recipients = members_of(&mut tx, &updated.talk_id).await?;
    tx.commit().await?;
    state.bus.publish(Event::updated(updated, recipients));
    Ok(())
}

/// Edits one's own message. The new text passes the same personal-data check as a new message;
/// the old text is kept for auditors (G7).
pub async fn edit(
    state: &AppState,
    m: &Member<'_>,
    message_id: &str,
    body: &str,
    confirmed: bool,
) -> Result<Message, AppError> {
    let body = MessageBody::parse(body)?;
    let msg = own_message(state, m, message_id, TalkAction::Post).await?;
    only_own(&msg, m)?;
    let verdict = screen(state, m, body.as_str(), &msg.id, confirmed).await?;
    let mut tx = state.store.write().await?;
    let updated = chat::edit_message(&mut tx, &msg, m.user_id, body.as_str()).await?;
    let mut e = message_entry(m, AuditAction::MessageEdited, &msg);
    if !verdict.findings.is_empty() {
        detail(&mut e, "dlp_confirmed", verdict.audit_details());
    }
    commit_update(state, tx, e, &updated).await?;
    Ok(updated)
}

/// Deletes one's own message: members see "このメッセージは削除されました"; auditors keep the text.
pub async fn delete(
    state: &AppState,
    m: &Member<'_>,
    message_id: &str,
) -> Result<Message, AppError> {
    let msg = own_message(state, m, message_id, TalkAction::Post).await?;
    only_own(&msg, m)?;
    let mut tx = state.store.write().await?;
    let updated = chat::delete_message(&mut tx, &msg, m.user_id).await?;
    commit_update(
        state,
        tx,
        message_entry(m, AuditAction::MessageDeleted, &msg),
        &updated,
    )
    .await?;
    Ok(updated)
}

/// Adds (`on`) or removes a stamp from a message.
pub async fn react(
    state: &AppState,
    m: &Member<'_>,
    message_id: &str,
    stamp: &str,
    on: bool,
) -> Result<(), AppError> {
    let stamp = kairan_domain::input::parse_stamp(stamp)?;
    let msg = own_message(state, m, message_id, TalkAction::Read).await?;
    if msg.deleted_at.is_some() {
        return Err(AppError::Conflict("message_deleted"));
    }
    let mut tx = state.store.write().await?;
    if !chat::set_reaction(&mut tx, message_id, m.user_id, stamp, on).await? {
        return Ok(());
    }
    let mut e = audit_entry(m.actor, AuditAction::ReactionChanged);
    e.target_id = Some(msg.id.clone());
    detail(&mut e, "stamp", stamp);
    detail(&mut e, "on", on);
    audit::append(&mut tx, e).await?;
    let recipients = members_of(&mut tx, &msg.talk_id).await?;
    tx.commit().await?;
    state
        .bus
        .publish(Event::reaction(&msg, stamp, m.user_id, on, recipients));
    Ok(())
}

/// Reactions for messages `from..=to` of a talk: message ID → (stamp → users).
pub async fn reactions(
    state: &AppState,
    talk_id: &str,
    from: i64,
    to: i64,
) -> Result<std::collections::HashMap<String, Vec<(String, Vec<String>)>>, AppError> {
    let mut conn = state.store.read().await?;
    let mut out: std::collections::HashMap<String, Vec<(String, Vec<String>)>> =
        std::collections::HashMap::new();
    for (message, stamp, user) in chat::reactions(&mut conn, talk_id, from, to).await? {
        let list = out.entry(message).or_default();
        match list.iter_mut().find(|(s, _)| *s == stamp) {
            Some((_, users)) => users.push(user),
            None => list.push((stamp, vec![user])),
        }
    }
    Ok(out)
}

/// Pins or unpins a message for everyone in the talk. Any member may; it is audited.
pub async fn pin(
    state: &AppState,
    m: &Member<'_>,
    message_id: &str,
    on: bool,
) -> Result<Message, AppError> {
    let msg = own_message(state, m, message_id, TalkAction::Post).await?;
    if msg.deleted_at.is_some() {
        return Err(AppError::Conflict("message_deleted"));
    }
    if msg.pinned_at.is_some() == on {
        return Ok(msg);
    }
    let mut tx = state.store.write().await?;
    let updated = chat::set_pin(&mut tx, &msg, m.user_id, on).await?;
    let mut e = message_entry(m, AuditAction::MessagePinned, &msg);
    detail(&mut e, "on", on);
    commit_update(state, tx, e, &updated).await?;
    Ok(updated)
}

pub async fn pinned(
    state: &AppState,
    m: &Member<'_>,
    talk_id: &str,
) -> Result<Vec<Message>, AppError> {
    load(state, m, talk_id, TalkAction::Read).await?;
    let mut conn = state.store.read().await?;
    Ok(chat::pinned(&mut conn, talk_id).await?)
}
