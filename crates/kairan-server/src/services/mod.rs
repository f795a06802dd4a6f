//! Services: one per area. A service is the only way to change anything: it checks the policy,
//! writes through the store and appends the audit record in the same transaction. Handlers (API,
//! pages) and the CLI call services; they never touch the store for writes.

pub mod admin;
pub mod audit;
pub mod chat;
pub mod devices;
pub mod dlp;
pub mod files;
pub mod group_commit;
pub mod identity;
pub mod mfa;
pub mod passkeys;
pub mod protection;
pub mod review;

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
