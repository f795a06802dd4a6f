//! Talks and messages (C1–C3). Access is decided by `policy::check_talk` (membership in one's
//! own body); a refusal is answered as "not found" so a talk's existence is never revealed.
//! Each change commits with its audit record, then is published on the bus for live delivery.

use crate::error::AppError;
use crate::realtime::{Event, MessageView, ReactionView};
use crate::services::group_commit::{self, Pending};
use crate::services::{audit_entry, detail, dlp, protection};
use crate::state::AppState;
use kairan_domain::audit::AuditAction;
use kairan_domain::classification::{self, ClassRefusal, Scheme};
use kairan_domain::input::{MessageBody, parse_talk_name};
use kairan_domain::policy::{Actor, TalkAction, TalkRef, check_talk};
use kairan_domain::{DomainError, OrgId};
use kairan_store::audit;
use kairan_store::chat::{self, Message, Talk, TalkClass, TalkSummary};
use kairan_store::users;
use std::collections::HashMap;

/// The signed-in user acting on talks (the console operator has no talks).
pub struct Member<'a> {
    pub actor: &'a Actor,
    pub user_id: &'a str,
    pub org_id: &'a str,
    /// The class of the device the request came from (I5), for rules that differ by it.
    pub device: kairan_domain::DeviceClass,
}

/// The talk if the member may do `action` in it; "not found" otherwise.
pub(crate) async fn load(
    state: &AppState,
    m: &Member<'_>,
    talk_id: &str,
    action: TalkAction,
) -> Result<Talk, AppError> {
    let mut conn = state.store.read().await?;
    load_on(&mut conn, m, talk_id, action).await
}

/// The talk if the member may do `action` in it; "not found" otherwise, so a talk's existence
/// is never revealed.
async fn load_on(
    conn: &mut kairan_store::AnyConnection,
    m: &Member<'_>,
    talk_id: &str,
    action: TalkAction,
) -> Result<Talk, AppError> {
    let (talk, member) = chat::talk_for_user(conn, talk_id, m.user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let org = OrgId(talk.org_id.clone());
    let r = talk_ref(&talk, &org, member);
    // A member writing into a group whose period is over is told so, not "not found".
    if action == TalkAction::Post && r.member && r.closed {
        return Err(AppError::Conflict("talk_closed"));
    }
    check_talk(m.actor, action, &r).map_err(|_| AppError::NotFound)?;
    Ok(talk)
}

/// The facts the talk decision needs about a stored talk.
fn talk_ref<'a>(talk: &Talk, org: &'a OrgId, member: bool) -> TalkRef<'a> {
    TalkRef {
        org,
        member,
        shared: talk.application_id.is_some(),
        closed: talk.closed_at.is_some(),
    }
}

/// The talk to write into and the body's protection settings, on one connection: every send
/// needs both, and each connection taken from the pool costs (on PostgreSQL) a round trip.
async fn load_for_send(
    state: &AppState,
    m: &Member<'_>,
    talk_id: &str,
) -> Result<(Talk, std::sync::Arc<dlp::Protection>), AppError> {
    let mut conn = state.store.read().await?;
    let talk = load_on(&mut conn, m, talk_id, TalkAction::Post).await?;
    let p = protection::load_on(state, &mut conn, m.org_id).await?;
    Ok((talk, p))
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
    check_talk(m.actor, TalkAction::Create, &TalkRef::of(&org, false))?;
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
    let class = new_talk_class(&protection::scheme_with(tx.conn(), m.org_id).await?);
    let id = chat::insert_talk(
        &mut tx,
        m.org_id,
        "direct",
        "",
        Some(&key),
        m.user_id,
        class,
    )
    .await?;
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

/// A new talk's classification: the ceiling one below the body's top class, messages of the
/// least class unless their sender chooses.
pub(crate) fn new_talk_class(scheme: &Scheme) -> TalkClass {
    TalkClass {
        ceiling: i64::from(scheme.default_ceiling()),
        default_class: 0,
        integrity: None,
        availability: None,
    }
}

/// A talk's classification as a client asks for it (ranks on the body's scales); `None`
/// keeps the current value, or the default for a new talk.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ClassRequest {
    pub ceiling: Option<i64>,
    pub default_class: Option<i64>,
    /// Integrity rank, when the body's scheme has integrity classes; -1 clears it.
    pub integrity: Option<i64>,
    /// Availability rank, when the body's scheme has availability classes; -1 clears it.
    pub availability: Option<i64>,
}

/// Applies a request to a talk's current classification, checking each rank against the
/// scheme and the rules of G1 (a ceiling never below what the talk holds; the top class only
/// where a section head or security officer allows it).
fn resolve_class(
    m: &Member<'_>,
    scheme: &Scheme,
    current: TalkClass,
    max_class: i64,
    req: &ClassRequest,
    org: &OrgId,
) -> Result<TalkClass, AppError> {
    let ceiling = match req.ceiling {
        Some(c) => scheme.confidentiality_rank(c)?,
        None => rank(current.ceiling),
    };
    let default_class = match req.default_class {
        Some(c) => scheme.confidentiality_rank(c)?,
        None => rank(current.default_class).min(ceiling),
    };
    let optional = |v: Option<i64>,
                    cur: Option<i64>,
                    parse: &dyn Fn(i64) -> Result<u8, DomainError>|
     -> Result<Option<i64>, AppError> {
        Ok(match v {
            None => cur,
            Some(-1) => None,
            Some(x) => Some(i64::from(parse(x)?)),
        })
    };
    let integrity = optional(req.integrity, current.integrity, &|x| {
        scheme.integrity_rank(x)
    })?;
    let availability = optional(req.availability, current.availability, &|x| {
        scheme.availability_rank(x)
    })?;
    classification::talk_class(ceiling, default_class, rank(max_class))?;
    if ceiling == scheme.top() && i64::from(ceiling) > current.ceiling && !allows_top(m, org) {
        return Err(DomainError::invalid(
            "ceiling",
            "上限",
            format!(
                "上限を「{}」にできるのは、メンバーである所属長または情報セキュリティ責任者です。",
                scheme.label(ceiling, "ja")
            ),
            format!(
                "only a member who is a section head or security officer may allow \"{}\".",
                scheme.label(ceiling, "en")
            ),
        )
        .into());
    }
    Ok(TalkClass {
        ceiling: i64::from(ceiling),
        default_class: i64::from(default_class),
        integrity,
        availability,
    })
}

/// Whether the member (of a talk of `org`, new or their own body's) may raise its ceiling to
/// the top class.
fn allows_top(m: &Member<'_>, org: &OrgId) -> bool {
    check_talk(m.actor, TalkAction::AllowTopClass, &TalkRef::of(org, true)).is_ok()
}

/// The same, for the settings form of a talk the member has opened.
pub fn may_allow_top(m: &Member<'_>, talk: &Talk) -> bool {
    let org = OrgId(talk.org_id.clone());
    check_talk(
        m.actor,
        TalkAction::AllowTopClass,
        &talk_ref(talk, &org, true),
    )
    .is_ok()
}

/// A stored rank as a rank (stored values were checked when written).
pub(crate) fn rank(v: i64) -> u8 {
    u8::try_from(v.clamp(0, 255)).unwrap_or(0)
}

pub(crate) fn class_refused(scheme: &Scheme, r: ClassRefusal) -> AppError {
    let (class, ceiling) = match r {
        ClassRefusal::AboveCeiling { class, ceiling } => (class, ceiling),
        ClassRefusal::ContentAboveCeiling { implied, ceiling } => (implied, ceiling),
    };
    AppError::AboveCeiling {
        class_ja: scheme.label(class, "ja"),
        class_en: scheme.label(class, "en"),
        ceiling_ja: scheme.label(ceiling, "ja"),
        ceiling_en: scheme.label(ceiling, "en"),
    }
}

pub async fn create_group(
    state: &AppState,
    m: &Member<'_>,
    name: &str,
    members: &[String],
    class: &ClassRequest,
) -> Result<String, AppError> {
    let org = OrgId(m.org_id.to_owned());
    check_talk(m.actor, TalkAction::Create, &TalkRef::of(&org, false))?;
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
    let scheme = protection::scheme(state, m.org_id).await?;
    // Raising to the top class is judged against the default a new talk would have.
    let class = resolve_class(m, &scheme, new_talk_class(&scheme), 0, class, &org)?;
    let mut tx = state.store.write().await?;
    let id = chat::insert_talk(&mut tx, m.org_id, "group", &name, None, m.user_id, class).await?;
    for u in &all {
        chat::add_member(&mut tx, &id, u).await?;
    }
    let mut e = audit_entry(m.actor, AuditAction::TalkCreated);
    e.target_id = Some(id.clone());
    detail(&mut e, "kind", "group");
    detail(&mut e, "members", all.len());
    detail(&mut e, "ceiling", class.ceiling);
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    state.bus.publish(Event::membership(&id, all));
    Ok(id)
}

pub async fn talks(state: &AppState, m: &Member<'_>) -> Result<Vec<TalkSummary>, AppError> {
    let mut conn = state.store.read().await?;
    Ok(chat::talks_of(&mut conn, m.user_id).await?)
}

/// An opened talk: the talk, its members (named, with read positions) and its pins.
pub struct Opened {
    pub talk: Talk,
    pub members: Vec<chat::MemberRow>,
    pub pinned: Vec<Message>,
}

pub async fn talk(state: &AppState, m: &Member<'_>, talk_id: &str) -> Result<Opened, AppError> {
    let talk = load(state, m, talk_id, TalkAction::Read).await?;
    let mut conn = state.store.read().await?;
    Ok(Opened {
        members: chat::member_rows(&mut conn, talk_id).await?,
        pinned: chat::pinned(&mut conn, talk_id).await?,
        talk,
    })
}

/// The personal-data check every stored text passes (new messages and edits alike). A block, or
/// a finding that asks for confirmation the sender has not given, is audited (kinds and
/// positions only) and answered with the findings and the masked text.
async fn screen(
    state: &AppState,
    m: &Member<'_>,
    p: &dlp::Protection,
    ceiling: u8,
    text: &str,
    target: &str,
    confirmed: bool,
) -> Result<dlp::Verdict, AppError> {
    let verdict = dlp::check(p, text, ceiling);
    let details = verdict.audit_details();
    if refuse_on_record(state, m, target, &verdict, confirmed, ("findings", details)).await? {
        return Err(AppError::Dlp(Box::new(verdict)));
    }
    Ok(verdict)
}

/// Whether a verdict stops what is being sent (a refusal, or findings not yet confirmed); if
/// so, the stop is recorded first (`dlp.blocked` or `dlp.confirm_requested`, with `details`)
/// and, for a refusal, the officers are told. A prompt is not yet an event worth an officer's
/// attention; a refusal is. Messages and uploaded documents both stop here.
pub(crate) async fn refuse_on_record(
    state: &AppState,
    m: &Member<'_>,
    target: &str,
    verdict: &dlp::Verdict,
    confirmed: bool,
    details: (&str, serde_json::Value),
) -> Result<bool, AppError> {
    let refused = match verdict.action() {
        dlp::Action::Block | dlp::Action::Mask => AuditAction::DlpBlocked,
        dlp::Action::Confirm if !confirmed => AuditAction::DlpConfirmRequested,
        dlp::Action::Confirm | dlp::Action::Allow => return Ok(false),
    };
    let mut tx = state.store.write().await?;
    let mut e = audit_entry(m.actor, refused);
    e.target_id = Some(target.to_owned());
    detail(&mut e, details.0, details.1);
    audit::append(&mut tx, e).await?;
    let officers = if refused == AuditAction::DlpBlocked {
        protection::notify_officers(&mut tx, m.org_id, m.user_id, target, verdict, "refused")
            .await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    protection::publish_notifications(state, officers);
    Ok(true)
}

/// Under the write lock, just before the write: the sender is still a member (someone removed a
/// moment ago may not post) and the class still fits the ceiling (someone may have lowered it).
/// Returns the members: who the change is for.
async fn recheck(
    tx: &mut kairan_store::WriteTx,
    scheme: &Scheme,
    talk_id: &str,
    user_id: &str,
    class: u8,
) -> Result<Vec<String>, AppError> {
    let members = members_of(tx, talk_id).await?;
    if !members.iter().any(|u| u == user_id) {
        return Err(AppError::NotFound);
    }
    let talk = chat::talk(tx.conn(), talk_id)
        .await?
        .ok_or(AppError::NotFound)?;
    classification::forward_class(class, rank(talk.ceiling))
        .map_err(|r| class_refused(scheme, r))?;
    Ok(members)
}

/// What a member sends.
#[derive(Debug, Clone, Copy, Default)]
pub struct Post<'a> {
    pub body: &'a str,
    pub reply_to: Option<&'a str>,
    pub mentions: &'a [String],
    /// The class the sender chose; the talk's default otherwise.
    pub class: Option<i64>,
    /// The sender's "send anyway" for findings that only ask for confirmation.
    pub confirmed: bool,
    /// Files the sender uploaded to this talk and now sends with the text (which may then be
    /// empty).
    pub files: &'a [String],
}

/// The refusal of a mention that does not name a current member as @name.
pub(crate) fn mention_refused() -> AppError {
    DomainError::invalid(
        "mentions",
        "メンション",
        "このトークのメンバーを「@氏名」の形で指定してください。",
        "mention members of this talk as @name in the text.",
    )
    .into()
}

/// Hands a screened message to the node's writer (group commit) and waits for its commit.
/// The audit entry records the class, the source of a forward and any confirmed findings.
async fn submit(
    state: &AppState,
    mut p: Pending,
    verdict: dlp::Verdict,
) -> Result<group_commit::Committed, AppError> {
    detail(&mut p.entry, "class", p.class);
    if let Some(from) = &p.forwarded_from {
        detail(&mut p.entry, "from", from.as_str());
    }
    if !p.files.is_empty() {
        detail(&mut p.entry, "files", p.files.clone());
    }
    if !verdict.findings.is_empty() {
        detail(&mut p.entry, "dlp_confirmed", verdict.audit_details());
        p.confirmed = Some(verdict);
    }
    state.writer.submit(p).await
}

/// Posts a message after the classification and personal-data checks; refused findings are
/// never sent.
pub async fn post(
    state: &AppState,
    m: &Member<'_>,
    talk_id: &str,
    req: Post<'_>,
) -> Result<(Message, Vec<String>), AppError> {
    let Post {
        body,
        reply_to,
        mentions,
        class: chosen,
        confirmed,
        files,
    } = req;
    // Files may go without words, as in any chat; words are checked as usual otherwise.
    let body = match (files.is_empty(), body.trim().is_empty()) {
        (false, true) => String::new(),
        _ => MessageBody::parse(body)?.as_str().to_owned(),
    };
    let (talk, p) = load_for_send(state, m, talk_id).await?;
    let attached = crate::services::files::for_message(state, m, talk_id, files).await?;
    let ceiling = rank(talk.ceiling);
    let chosen = chosen
        .map(|c| p.scheme.confidentiality_rank(c))
        .transpose()?;
    if let Some(c) = chosen.filter(|c| *c > ceiling) {
        return Err(class_refused(
            &p.scheme,
            ClassRefusal::AboveCeiling { class: c, ceiling },
        ));
    }
    if let Some(r) = reply_to {
        let mut conn = state.store.read().await?;
        let original = chat::message(&mut conn, r).await?;
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
    let verdict = screen(state, m, &p, ceiling, body.as_str(), talk_id, confirmed).await?;
    let class = classification::message_class(
        ceiling,
        rank(talk.default_class),
        chosen,
        verdict.implied_class,
    )
    .map_err(|r| class_refused(&p.scheme, r))?;
    // A message is at least as confidential as what it carries.
    let class = match attached.iter().map(|f| rank(f.class)).max() {
        Some(files_class) => classification::forward_class(class.max(files_class), ceiling)
            .map_err(|r| class_refused(&p.scheme, r))?,
        None => class,
    };
    // A mention names a user by @name (or ＠name) in the text; that they are still members
    // is checked again under the write lock.
    let mut mentioned: Vec<String> = Vec::new();
    if !mentions.is_empty() {
        let mut conn = state.store.read().await?;
        for id in mentions {
            if mentioned.contains(id) {
                continue;
            }
            let named = users::by_id(&mut conn, id).await?.is_some_and(|u| {
                body.contains(&format!("@{}", u.display_name))
                    || body.contains(&format!("＠{}", u.display_name))
            });
            if !named {
                return Err(mention_refused());
            }
            mentioned.push(id.clone());
        }
    }
    let done = submit(
        state,
        Pending {
            org_id: m.org_id.to_owned(),
            talk_id: talk_id.to_owned(),
            sender_id: m.user_id.to_owned(),
            body,
            reply_to: reply_to.map(str::to_owned),
            forwarded_from: None,
            class,
            mentions: mentioned.clone(),
            scheme: p.scheme.clone(),
            confirmed: None,
            entry: audit_entry(m.actor, AuditAction::MessagePosted),
            attachments: crate::services::files::attachments_json(&attached),
            files: files.to_vec(),
            file_copies: Vec::new(),
        },
        verdict,
    )
    .await?;
    let msg = done.message;
    Ok((msg, mentioned))
}

/// A text sent after its sender confirmed findings: the audit entry lists which kinds and
/// where (never the values), and the officers are told when the body's rules ask for it.
async fn confirmed_findings(
    tx: &mut kairan_store::WriteTx,
    m: &Member<'_>,
    e: &mut kairan_store::audit::NewEntry,
    target: &str,
    verdict: &dlp::Verdict,
) -> Result<Vec<String>, AppError> {
    if verdict.findings.is_empty() {
        return Ok(Vec::new());
    }
    detail(e, "dlp_confirmed", verdict.audit_details());
    protection::notify_officers(tx, m.org_id, m.user_id, target, verdict, "sent").await
}

/// Changes a talk's classification: ceiling, default class, integrity and availability.
pub async fn set_class(
    state: &AppState,
    m: &Member<'_>,
    talk_id: &str,
    req: &ClassRequest,
) -> Result<(), AppError> {
    let talk = load(state, m, talk_id, TalkAction::Manage).await?;
    let scheme = protection::scheme(state, m.org_id).await?;
    let org = OrgId(talk.org_id.clone());
    let current = TalkClass {
        ceiling: talk.ceiling,
        default_class: talk.default_class,
        integrity: talk.integrity,
        availability: talk.availability,
    };
    let class = resolve_class(m, &scheme, current, talk.max_class, req, &org)?;
    if class == current {
        return Ok(());
    }
    let mut tx = state.store.write().await?;
    // Read again under the lock (the talk row itself on PostgreSQL, which a message batch
    // also takes): a message may have raised the talk's class meanwhile.
    let now = lock_talk(&mut tx, talk_id).await?;
    classification::talk_class(
        rank(class.ceiling),
        rank(class.default_class),
        rank(now.max_class),
    )?;
    chat::set_class(&mut tx, talk_id, class).await?;
    let mut e = audit_entry(m.actor, AuditAction::TalkClassChanged);
    e.target_id = Some(talk_id.to_owned());
    detail(&mut e, "ceiling", class.ceiling);
    detail(&mut e, "previous_ceiling", current.ceiling);
    detail(&mut e, "default_class", class.default_class);
    if let Some(i) = class.integrity {
        detail(&mut e, "integrity", i);
    }
    if let Some(a) = class.availability {
        detail(&mut e, "availability", a);
    }
    audit::append(&mut tx, e).await?;
    let recipients = members_of(&mut tx, talk_id).await?;
    tx.commit().await?;
    state.bus.publish(Event::membership(talk_id, recipients));
    Ok(())
}

/// Forwards a message into another talk the caller belongs to. The copy keeps its class
/// (seed 004 2(2)①(イ)) and goes only where the target's ceiling allows it; its text passes
/// the target's personal-data check again.
pub async fn forward(
    state: &AppState,
    m: &Member<'_>,
    message_id: &str,
    target_talk: &str,
    confirmed: bool,
) -> Result<Message, AppError> {
    let source = own_message(state, m, message_id, TalkAction::Read).await?;
    if source.deleted_at.is_some() {
        return Err(AppError::Conflict("message_deleted"));
    }
    let (target, p) = load_for_send(state, m, target_talk).await?;
    let ceiling = rank(target.ceiling);
    let kept = classification::forward_class(rank(source.class), ceiling)
        .map_err(|r| class_refused(&p.scheme, r))?;
    let verdict = screen(state, m, &p, ceiling, &source.body, target_talk, confirmed).await?;
    let class = kept.max(verdict.implied_class);
    // The files go along as copies in the target talk (same stored bytes, new rows), so its
    // members may fetch them; their classes are already within the message's.
    let mut shown: Vec<crate::realtime::Attachment> = source
        .attachments
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    let mut copies = Vec::with_capacity(shown.len());
    for a in &mut shown {
        let copy = kairan_store::new_id();
        copies.push((copy.clone(), std::mem::replace(&mut a.id, copy)));
    }
    let mut entry = audit_entry(m.actor, AuditAction::MessageForwarded);
    if !copies.is_empty() {
        let from: Vec<&str> = copies.iter().map(|(_, from)| from.as_str()).collect();
        detail(&mut entry, "files_from", from);
    }
    let done = submit(
        state,
        Pending {
            org_id: m.org_id.to_owned(),
            talk_id: target_talk.to_owned(),
            sender_id: m.user_id.to_owned(),
            body: source.body.clone(),
            reply_to: None,
            forwarded_from: Some(source.id.clone()),
            class,
            mentions: Vec::new(),
            scheme: p.scheme.clone(),
            confirmed: None,
            entry,
            attachments: (!shown.is_empty())
                .then(|| serde_json::to_string(&shown).ok())
                .flatten(),
            files: Vec::new(),
            file_copies: copies,
        },
        verdict,
    )
    .await?;
    Ok(done.message)
}

/// Messages after `after` (oldest first), or the page before `before` when given, as
/// members see them: with their mentions and stamps. The JSON list and the live connection's
/// resume both read through here, so a message looks the same however it arrives.
pub async fn messages(
    state: &AppState,
    m: &Member<'_>,
    talk_id: &str,
    after: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<MessageView>, AppError> {
    load(state, m, talk_id, TalkAction::Read).await?;
    let limit = limit.clamp(1, 200);
    let mut conn = state.store.read().await?;
    let list = match before {
        Some(b) => chat::messages_before(&mut conn, talk_id, b, limit).await?,
        None => chat::messages_after(&mut conn, talk_id, after.unwrap_or(0), limit).await?,
    };
    let (Some(first), Some(last)) = (list.first(), list.last()) else {
        return Ok(Vec::new());
    };
    let (from, to) = (first.seq, last.seq);
    let mut mentions: HashMap<String, Vec<String>> = HashMap::new();
    for (message, user) in chat::mentions(&mut conn, talk_id, from, to).await? {
        mentions.entry(message).or_default().push(user);
    }
    let mut reactions: HashMap<String, Vec<ReactionView>> = HashMap::new();
    for (message, stamp, user) in chat::reactions(&mut conn, talk_id, from, to).await? {
        let stamps = reactions.entry(message).or_default();
        match stamps.iter_mut().find(|r| r.stamp == stamp) {
            Some(r) => r.user_ids.push(user),
            None => stamps.push(ReactionView {
                stamp,
                user_ids: vec![user],
            }),
        }
    }
    Ok(list
        .iter()
        .map(|msg| {
            let mut v = MessageView::from(msg);
            v.mentions = mentions.remove(&msg.id).unwrap_or_default();
            v.reactions = reactions.remove(&msg.id).unwrap_or_default();
            v
        })
        .collect())
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
    lock_talk(&mut tx, talk_id).await?;
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
    // After this, no batch still holding the talk can post in the member's name.
    lock_talk(&mut tx, talk_id).await?;
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

/// Takes the talk row for this transaction (on PostgreSQL a row lock, the same one a message
/// batch takes; on SQLite the write lock is already held), so membership and class changes and
/// message batches on any node happen one after the other, never interleaved.
async fn lock_talk(tx: &mut kairan_store::WriteTx, talk_id: &str) -> Result<Talk, AppError> {
    chat::talks_for_write(tx, &[talk_id])
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)
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
    group_commit::for_message(audit_entry(m.actor, action), msg)
}

/// Records a change to a message with its audit entry, commits, then shows the message as it
/// now stands to every member.
async fn commit_update(
    state: &AppState,
    mut tx: kairan_store::WriteTx,
    entry: kairan_store::audit::NewEntry,
    updated: &Message,
    members: Option<Vec<String>>,
) -> Result<(), AppError> {
    audit::append(&mut tx, entry).await?;
    let recipients = match members {
        Some(known) => known,
        None => members_of(&mut tx, &updated.talk_id).await?,
    };
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
    let (talk, p) = load_for_send(state, m, &msg.talk_id).await?;
    let ceiling = rank(talk.ceiling);
    let verdict = screen(state, m, &p, ceiling, body.as_str(), &msg.id, confirmed).await?;
    // An edit never lowers a class: what was read under it stays under it.
    let class = rank(msg.class).max(verdict.implied_class);
    let mut tx = state.store.write().await?;
    let members = recheck(&mut tx, &p.scheme, &msg.talk_id, m.user_id, class).await?;
    let updated =
        chat::edit_message(&mut tx, &msg, m.user_id, body.as_str(), i64::from(class)).await?;
    let mut e = message_entry(m, AuditAction::MessageEdited, &msg);
    let officers = confirmed_findings(&mut tx, m, &mut e, &msg.id, &verdict).await?;
    commit_update(state, tx, e, &updated, Some(members)).await?;
    protection::publish_notifications(state, officers);
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
        None,
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
    commit_update(state, tx, e, &updated, None).await?;
    Ok(updated)
}
