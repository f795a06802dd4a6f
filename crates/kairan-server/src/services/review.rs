//! Reading talks for audit and for incidents (G7; seed 003 §9, seed 004 1(2)②). Auditors, the
//! security officer and CSIRT may read a talk of their own body that they are not members of,
//! with every earlier version of each message and the text of deleted ones, but only after
//! stating why. The reading is recorded (the reason in `content_reviews`, an audit record
//! pointing to it) in its own transaction *before* any content is read, so no reading can
//! happen unrecorded; auditors see every reading, their own included.
//!
//! Listing the body's talks shows names, members and counts only, no content.

use crate::error::AppError;
use crate::services::{audit_entry, detail};
use crate::state::AppState;
use kairan_domain::audit::AuditAction;
use kairan_domain::policy::{self, Action, Actor, Resource};
use kairan_domain::{DomainError, OrgId};
use kairan_store::chat::{self, Message, Talk, Version};
use kairan_store::review::{self, NewReview, OrgTalk, Review};
use kairan_store::{audit, users};
use sha2::Digest;
use std::collections::{BTreeMap, HashMap};

/// A stated reason: enough words to mean something, short enough to be a reason.
pub struct Reason(String);

impl Reason {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 500;

    pub fn parse(raw: &str) -> Result<Reason, DomainError> {
        let v = raw.trim();
        let n = v.chars().count();
        if n < Self::MIN_CHARS {
            return Err(DomainError::invalid(
                "reason",
                "閲覧の理由",
                "閲覧の理由を10文字以上で具体的に入力してください（例: 情報漏えいの疑いに関する調査、案件番号）。",
                "state the reason in at least 10 characters (for example, the incident or case number).",
            ));
        }
        if n > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "reason",
                "閲覧の理由",
                "閲覧の理由は500文字以内で入力してください。",
                "must be at most 500 characters.",
            ));
        }
        Ok(Reason(v.to_owned()))
    }
}

fn own_org(actor: &Actor) -> Option<&OrgId> {
    match actor {
        Actor::User(u) => Some(&u.org_id),
        Actor::Operator => None,
    }
}

/// A talk as a reviewer lists it.
pub struct TalkEntry {
    pub talk: OrgTalk,
    pub members: Vec<String>,
}

/// The body's talks (names, members, counts; no content).
pub async fn talks(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
) -> Result<Vec<TalkEntry>, AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::ReviewContent, &Resource::Org(&org))?;
    let mut conn = state.store.read().await?;
    let mut names: HashMap<String, Vec<String>> = HashMap::new();
    for (talk, name) in review::member_names(&mut conn, org_id).await? {
        names.entry(talk).or_default().push(name);
    }
    Ok(review::talks(&mut conn, org_id)
        .await?
        .into_iter()
        .map(|talk| TalkEntry {
            members: names.remove(&talk.id).unwrap_or_default(),
            talk,
        })
        .collect())
}

/// One message as a reviewer sees it: the current row (a deleted one has an empty body),
/// who sent it, and every earlier version with who replaced it and how.
pub struct ReviewedMessage {
    pub message: Message,
    pub sender_name: String,
    pub versions: Vec<(Version, String)>,
}

pub struct Reviewed {
    pub review_id: String,
    pub talk: Talk,
    pub messages: Vec<ReviewedMessage>,
}

/// Records the reading with its reason, then returns a page of the talk (the newest `limit`
/// messages before `before`, oldest first).
pub async fn review(
    state: &AppState,
    actor: &Actor,
    talk_id: &str,
    reason: &str,
    before: Option<i64>,
    limit: i64,
) -> Result<Reviewed, AppError> {
    // The role first, whatever the talk: someone without it learns nothing about which talks
    // exist.
    let org = own_org(actor).ok_or(AppError::NotFound)?;
    policy::check(actor, Action::ReviewContent, &Resource::Org(org))?;
    let reason = Reason::parse(reason)?;
    let talk = {
        let mut conn = state.store.read().await?;
        chat::talk(&mut conn, talk_id).await?
    }
    .filter(|t| t.org_id == org.0)
    .ok_or(AppError::NotFound)?;
    let Actor::User(u) = actor else {
        return Err(AppError::NotFound);
    };
    let mut tx = state.store.write().await?;
    let review_id = review::insert(
        &mut tx,
        &NewReview {
            org_id: &org.0,
            actor_id: &u.user_id.0,
            talk_id,
            reason: &reason.0,
        },
    )
    .await?;
    let mut e = audit_entry(actor, AuditAction::ContentReviewed);
    e.target_id = Some(talk_id.to_owned());
    detail(&mut e, "review", review_id.as_str());
    // The reason itself stays out of the log, but its hash is in the chain: a reason edited
    // in the database afterwards no longer matches.
    detail(
        &mut e,
        "reason_sha256",
        hex::encode(sha2::Sha256::digest(reason.0.as_bytes())),
    );
    if let Some(b) = before {
        detail(&mut e, "before", b);
    }
    audit::append(&mut tx, e).await?;
    tx.commit().await?;

    let mut conn = state.store.read().await?;
    let before = before.unwrap_or(talk.last_seq + 1);
    let page = chat::messages_before(&mut conn, talk_id, before, limit.clamp(1, 200)).await?;
    let mut versions: BTreeMap<String, Vec<Version>> = BTreeMap::new();
    if let (Some(first), Some(last)) = (page.first(), page.last()) {
        for (id, v) in review::versions(&mut conn, talk_id, first.seq, last.seq).await? {
            versions.entry(id).or_default().push(v);
        }
    }
    let mut names: HashMap<String, String> = HashMap::new();
    let mut name =
        async |conn: &mut kairan_store::AnyConnection, id: &str| -> Result<String, AppError> {
            if let Some(n) = names.get(id) {
                return Ok(n.clone());
            }
            let n = users::by_id(conn, id)
                .await?
                .map(|u| u.display_name)
                .unwrap_or_default();
            names.insert(id.to_owned(), n.clone());
            Ok(n)
        };
    let mut messages = Vec::with_capacity(page.len());
    for m in page {
        let sender_name = name(&mut conn, &m.sender_id).await?;
        let mut vs = Vec::new();
        for v in versions.remove(&m.id).unwrap_or_default() {
            let by = name(&mut conn, &v.replaced_by).await?;
            vs.push((v, by));
        }
        messages.push(ReviewedMessage {
            message: m,
            sender_name,
            versions: vs,
        });
    }
    Ok(Reviewed {
        review_id,
        talk,
        messages,
    })
}

/// Every reading of the body's talks, newest first: for auditors and the security officer,
/// who read the audit log.
pub async fn reviews(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
) -> Result<Vec<Review>, AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::ReadAuditLog, &Resource::Org(&org))?;
    let mut conn = state.store.read().await?;
    Ok(review::list(&mut conn, org_id, 200).await?)
}

#[cfg(test)]
mod tests {
    use super::Reason;

    #[test]
    fn a_reason_must_say_something_and_not_too_much() {
        assert!(Reason::parse("   確認のため ").is_err());
        assert!(Reason::parse("情報漏えい疑い（案件2026-14）の調査").is_ok());
        assert!(Reason::parse(&"あ".repeat(501)).is_err());
        assert_eq!(
            Reason::parse("  情報漏えい疑い（案件2026-14）の調査 ")
                .unwrap()
                .0,
            "情報漏えい疑い（案件2026-14）の調査"
        );
    }
}
