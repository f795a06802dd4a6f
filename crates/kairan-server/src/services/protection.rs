//! A body's information-protection settings (G1, G2): its classification scheme, its
//! personal-data rules and keywords, set by the security officer; the trail of detections the
//! officer, CSIRT and auditors read; and the notifications that tell officers at once.

use crate::error::AppError;
use crate::realtime::Event;
use crate::services::audit_entry;
use crate::services::dlp::{Protection, Rule, StoredRules, Verdict};
use crate::state::AppState;
use kairan_dlp::Kind;
use kairan_domain::classification::Scheme;
use kairan_domain::policy::{self, Action, Actor, Resource};
use kairan_domain::{DomainError, OrgId, Role};
use kairan_store::{AnyConnection, WriteTx, audit, chat, protection, users};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Both stored documents were validated when written; a broken one is a fault to report, not
/// a reason to fall back to the defaults.
fn parse<T: serde::de::DeserializeOwned>(
    doc: &str,
    what: &str,
    org_id: &str,
) -> Result<T, AppError> {
    serde_json::from_str(doc)
        .map_err(|e| AppError::Internal(format!("stored {what} of {org_id}: {e}")))
}

/// Built settings per body, kept while the stored documents stay the same. The documents are
/// still read for every check, so a change made on any node applies at once; what is saved is
/// parsing them and building the scanner, which would otherwise be done for every message.
#[derive(Default)]
pub struct Cache(Mutex<HashMap<String, Cached>>);

type Cached = (Option<(String, String)>, Arc<Protection>);

impl Cache {
    /// A panic elsewhere while holding the lock leaves nothing half-written worth refusing
    /// service over: the entries are whole values.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Reads a body's settings (for checking a text); a body that never set them has the
/// defaults (seed 004 scheme).
pub async fn load(state: &AppState, org_id: &str) -> Result<Arc<Protection>, AppError> {
    let mut conn = state.store.read().await?;
    load_on(state, &mut conn, org_id).await
}

/// [`load`] on a connection the caller already holds.
pub async fn load_on(
    state: &AppState,
    conn: &mut AnyConnection,
    org_id: &str,
) -> Result<Arc<Protection>, AppError> {
    let docs = protection::get(conn, org_id).await?;
    if let Some((seen, p)) = state.protection_cache.lock().get(org_id)
        && *seen == docs
    {
        return Ok(p.clone());
    }
    let built = Arc::new(match &docs {
        None => Protection::defaults(Scheme::default()),
        Some((scheme, rules)) => Protection::build(
            parse(scheme, "scheme", org_id)?,
            &parse::<StoredRules>(rules, "DLP rules", org_id)?,
        ),
    });
    state
        .protection_cache
        .lock()
        .insert(org_id.to_owned(), (docs, built.clone()));
    Ok(built)
}

/// The body's classification scheme alone (for labels and talk settings), without the
/// rules and the scanner that checking a text needs.
pub async fn scheme_with(conn: &mut AnyConnection, org_id: &str) -> Result<Scheme, AppError> {
    match protection::scheme(conn, org_id).await? {
        None => Ok(Scheme::default()),
        Some(doc) => parse(&doc, "scheme", org_id),
    }
}

pub async fn scheme(state: &AppState, org_id: &str) -> Result<Scheme, AppError> {
    let mut conn = state.store.read().await?;
    scheme_with(&mut conn, org_id).await
}

/// The findings (kind, byte positions, action) an audit record of a detection holds: under
/// `findings` for refusals and prompts, under `dlp_confirmed` for texts sent after confirming.
pub fn findings_of(details: &str) -> Vec<serde_json::Value> {
    let details: serde_json::Value = serde_json::from_str(details).unwrap_or_default();
    details
        .get("findings")
        .or_else(|| details.get("dlp_confirmed"))
        .and_then(|f| f.as_array().cloned())
        .unwrap_or_default()
}

/// A change to a body's settings; `None` keeps what is there.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct Change {
    /// `seed004`, `seed003`, or a custom confidentiality scale (see `levels`).
    pub preset: Option<String>,
    /// A custom confidentiality scale: labels least confidential first, `日本語:English`,
    /// comma-separated. The integrity and availability scales stay as they are.
    pub levels: Option<String>,
    /// Per detector kind (`my_number`, …): its action, notification and implied class.
    pub rules: Option<BTreeMap<String, Rule>>,
    /// The confidentiality keywords (秘, 取扱注意, …), replacing the list.
    pub keywords: Option<Vec<String>>,
}

pub async fn update(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    change: &Change,
) -> Result<Protection, AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::ConfigureProtection, &Resource::Org(&org))?;
    let current = load(state, org_id).await?;
    let scheme = match (&change.preset, &change.levels) {
        // Custom labels replace the confidentiality scale; integrity and availability stay.
        (_, Some(levels)) => Scheme {
            preset: "custom".into(),
            confidentiality: Scheme::custom(levels)?.confidentiality,
            ..current.scheme.clone()
        },
        (Some(code), None) if code == &current.scheme.preset => current.scheme.clone(),
        (Some(code), None) => Scheme::preset(code).ok_or_else(|| {
            DomainError::invalid(
                "preset",
                "分類",
                "seed004、seed003 または独自の区分を指定してください。",
                "choose seed004, seed003 or custom levels.",
            )
        })?,
        (None, None) => current.scheme.clone(),
    };
    let mut stored = current.stored_rules();
    if let Some(rules) = &change.rules {
        for (code, rule) in rules {
            if Kind::parse(code).is_none() {
                return Err(DomainError::invalid(
                    "rules",
                    "検知ルール",
                    format!("「{code}」という種類はありません。"),
                    format!("there is no kind \"{code}\"."),
                )
                .into());
            }
            if let Some(c) = rule.implies {
                scheme.confidentiality_rank(i64::from(c))?;
            }
            stored.rules.insert(code.clone(), *rule);
        }
    }
    if let Some(keywords) = &change.keywords {
        let cleaned: Vec<String> = keywords
            .iter()
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .collect();
        if cleaned.len() > 100 || cleaned.iter().any(|k| k.chars().count() > 20) {
            return Err(DomainError::invalid(
                "keywords",
                "キーワード",
                "キーワードは100個まで、各20文字以内で指定してください。",
                "at most 100 keywords of at most 20 characters each.",
            )
            .into());
        }
        stored.keywords = Some(cleaned);
    }
    let mut tx = state.store.write().await?;
    if !current.scheme.same_shape(&scheme) && chat::org_has_talks(tx.conn(), org_id).await? {
        return Err(DomainError::invalid(
            "scheme",
            "分類",
            "すでに区分の付いたトークがあるため、段階の数が異なる分類には変更できません。名前の変更はできます。",
            "talks already carry classes, so the number of levels cannot change; labels can.",
        )
        .into());
    }
    let scheme_json =
        serde_json::to_string(&scheme).map_err(|e| AppError::Internal(e.to_string()))?;
    let rules_json =
        serde_json::to_string(&stored).map_err(|e| AppError::Internal(e.to_string()))?;
    let by = match actor {
        Actor::User(u) => Some(u.user_id.0.as_str()),
        Actor::Operator => None,
    };
    protection::put(&mut tx, org_id, &scheme_json, &rules_json, by).await?;
    let mut e = audit_entry(actor, kairan_domain::audit::AuditAction::ProtectionChanged);
    e.org_id = Some(org_id.to_owned());
    e.target_id = Some(org_id.to_owned());
    // What changed, by name: the settings hold no personal data.
    crate::services::detail(&mut e, "scheme", scheme.preset.as_str());
    if change.rules.is_some() {
        crate::services::detail(
            &mut e,
            "rules",
            serde_json::to_value(&change.rules).unwrap_or_default(),
        );
    }
    if change.keywords.is_some() {
        crate::services::detail(&mut e, "keywords_changed", true);
    }
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(Protection::build(scheme, &stored))
}

/// The settings as the security officer sees them (and the policy lets them read).
pub async fn view(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
) -> Result<Arc<Protection>, AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::ConfigureProtection, &Resource::Org(&org))?;
    load(state, org_id).await
}

/// Personal-data detections of a body, newest first.
pub async fn dlp_events(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<audit::Row>, AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::ViewDlpEvents, &Resource::Org(&org))?;
    let mut conn = state.store.read().await?;
    Ok(protection::dlp_events(&mut conn, org_id, before, limit.clamp(1, 200)).await?)
}

/// Inside the transaction that records a detection: when the body's rules ask for it, a
/// notification for each of its security officers (kinds and positions, never values).
/// Returns who to tell live once the transaction commits.
pub async fn notify_officers(
    tx: &mut WriteTx,
    org_id: &str,
    actor_id: &str,
    target: &str,
    verdict: &Verdict,
    outcome: &str,
) -> Result<Vec<String>, AppError> {
    if !verdict.notify {
        return Ok(Vec::new());
    }
    let officers = users::active_with_role(tx.conn(), org_id, Role::SecurityOfficer.code()).await?;
    let details = serde_json::json!({ "outcome": outcome, "findings": verdict.audit_details() });
    protection::notify(
        tx,
        org_id,
        &officers,
        "dlp",
        Some(actor_id),
        Some(target),
        &details.to_string(),
    )
    .await?;
    Ok(officers)
}

/// Tells connected officers that a notification arrived.
pub fn publish_notifications(state: &AppState, officers: Vec<String>) {
    if !officers.is_empty() {
        state.bus.publish(Event::notification(officers));
    }
}

/// The caller's own notifications: the newest, and how many are unread.
pub async fn notifications(
    state: &AppState,
    user_id: &str,
) -> Result<(Vec<protection::Notification>, i64), AppError> {
    let mut conn = state.store.read().await?;
    let list = protection::notifications(&mut conn, user_id, 50).await?;
    let unread = protection::unread_count(&mut conn, user_id).await?;
    Ok((list, unread))
}

/// Marks the notices a page has just shown as read.
pub async fn mark_shown(state: &AppState, user_id: &str, ids: &[String]) -> Result<(), AppError> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut tx = state.store.write().await?;
    protection::mark_read(&mut tx, user_id, ids).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn mark_notifications_read(state: &AppState, user_id: &str) -> Result<(), AppError> {
    let mut tx = state.store.write().await?;
    protection::mark_all_read(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(())
}
