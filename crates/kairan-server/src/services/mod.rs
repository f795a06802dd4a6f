//! Services: one per area. A service is the only way to change anything: it checks the policy,
//! writes through the store and appends the audit record in the same transaction. Handlers (API,
//! pages) and the CLI call services; they never touch the store for writes.

pub mod admin;
pub mod applications;
pub mod audit;
pub mod chat;
pub mod devices;
pub mod directory;
pub mod dlp;
pub mod dormant;
pub mod files;
pub mod group_commit;
pub mod groups;
pub mod guests;
pub mod identity;
pub mod maintenance;
pub mod mfa;
pub mod passkeys;
pub mod protection;
pub mod review;
pub mod sign_in;
pub mod staff_import;
pub mod transfers;

use kairan_domain::policy::Actor;
use kairan_store::audit::NewEntry;

/// The audit actor column: the user's ID, or none for the console operator (marked in details).
pub(crate) fn audit_entry(actor: &Actor, action: kairan_domain::audit::AuditAction) -> NewEntry {
    let mut e = NewEntry::new(action);
    match actor {
        Actor::User(u) => {
            e.actor_id = Some(u.user_id.0.clone());
            e.org_id = Some(u.org_id.0.clone());
        }
        Actor::Operator => {
            e.details = serde_json::json!({ "via": "cli" });
        }
    }
    e
}

/// Adds a key to an entry's details object.
pub(crate) fn detail(e: &mut NewEntry, key: &str, value: impl Into<serde_json::Value>) {
    if let serde_json::Value::Object(map) = &mut e.details {
        map.insert(key.to_owned(), value.into());
    }
}

/// A short name a person gives a thing (a device, a passkey): 1–60 characters, no control
/// characters. `label_ja` and the examples make the message.
pub(crate) fn short_name(
    raw: &str,
    label_ja: &'static str,
    example_ja: &str,
    example_en: &str,
) -> Result<String, crate::error::AppError> {
    let v = raw.trim();
    let n = v.chars().count();
    if n == 0 || n > 60 || v.chars().any(char::is_control) {
        return Err(kairan_domain::DomainError::invalid(
            "name",
            label_ja,
            format!("{label_ja}を60文字以内で入力してください（例: {example_ja}）。"),
            format!("give a name of at most 60 characters (for example, {example_en})."),
        )
        .into());
    }
    Ok(v.to_owned())
}

/// Replaces one key of a body's settings document and returns the open transaction, for the
/// caller to append its audit record and commit.
pub(crate) async fn write_setting(
    state: &crate::state::AppState,
    org_id: &str,
    key: &str,
    value: serde_json::Value,
) -> Result<kairan_store::WriteTx, crate::error::AppError> {
    write_settings(state, org_id, vec![(key.to_owned(), value)]).await
}

/// Replaces several keys of a body's settings in one transaction.
pub(crate) async fn write_settings(
    state: &crate::state::AppState,
    org_id: &str,
    pairs: Vec<(String, serde_json::Value)>,
) -> Result<kairan_store::WriteTx, crate::error::AppError> {
    let current = admin::org_by_id(state, org_id).await?;
    let mut settings: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&current.settings).unwrap_or_default();
    settings.extend(pairs);
    let mut tx = state.store.write().await?;
    kairan_store::orgs::set_settings(
        &mut tx,
        org_id,
        &serde_json::Value::Object(settings).to_string(),
    )
    .await?;
    Ok(tx)
}
