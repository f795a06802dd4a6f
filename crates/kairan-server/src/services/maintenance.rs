//! Maintenance mode (G10; seed 004 5.3(3), seed 003 §10): while a body's administrators work
//! on the system (a version upgrade, the yearly personnel transfer), only administrators can
//! sign in; everyone else is told why, in Japanese and English, with the body's own note.
//! Turning it on ends the sessions of everyone else at once.

use crate::error::AppError;
use crate::services::{audit_entry, detail};
use crate::state::AppState;
use kairan_domain::audit::AuditAction;
use kairan_domain::policy::{self, Action, Actor, Resource};
use kairan_domain::{DomainError, OrgId, Role};
use kairan_store::{audit, sessions, users};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Stored as `settings.maintenance` on the body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Maintenance {
    pub on: bool,
    /// What people see besides the standard notice, e.g. 「12月5日18時まで」.
    #[serde(default)]
    pub message_ja: String,
    #[serde(default)]
    pub message_en: String,
}

pub fn in_settings(settings: &str) -> Maintenance {
    serde_json::from_str::<serde_json::Value>(settings)
        .ok()
        .and_then(|v| v.get("maintenance").cloned())
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

pub async fn of_org(state: &AppState, org_id: &str) -> Result<Maintenance, AppError> {
    let org = crate::services::admin::org_by_id(state, org_id).await?;
    Ok(in_settings(&org.settings))
}

/// Whether a person with these roles may sign in now, by the body's settings document:
/// everyone, unless the body is in maintenance; then administrators only.
pub fn admits(settings: &str, roles: &[Role]) -> Result<(), AppError> {
    let m = in_settings(settings);
    if m.on && !roles.contains(&Role::Admin) {
        return Err(AppError::Maintenance(Box::new((
            m.message_ja,
            m.message_en,
        ))));
    }
    Ok(())
}

/// Turns maintenance mode on or off. On: every session of everyone but the body's
/// administrators ends in the same transaction, and their live connections close.
pub async fn set(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    input: Maintenance,
) -> Result<Maintenance, AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::ConfigureSignIn, &Resource::Org(&org))?;
    let mut m = input;
    for (field, text) in [
        ("message_ja", &mut m.message_ja),
        ("message_en", &mut m.message_en),
    ] {
        *text = text.trim().to_owned();
        if text.chars().count() > 200 || text.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                field,
                "保守作業のお知らせ",
                "改行を含まない200文字以内で入力してください。",
                "use at most 200 characters on one line.",
            )
            .into());
        }
    }
    let mut tx = crate::services::write_setting(
        state,
        org_id,
        "maintenance",
        serde_json::to_value(&m).unwrap_or_default(),
    )
    .await?;
    let mut ended_users = Vec::new();
    if m.on {
        let admins = users::active_with_role(tx.conn(), org_id, Role::Admin.code()).await?;
        for u in users::list_by_org(tx.conn(), org_id).await? {
            if admins.contains(&u.id) {
                continue;
            }
            if sessions::end_all_for_user(&mut tx, &u.id, "maintenance").await? > 0 {
                ended_users.push(u.id);
            }
        }
    }
    let mut e = audit_entry(actor, AuditAction::MaintenanceChanged);
    e.org_id = Some(org_id.to_owned());
    e.target_id = Some(org_id.to_owned());
    detail(&mut e, "on", m.on);
    detail(&mut e, "users_signed_out", ended_users.len());
    detail(
        &mut e,
        "message_ja_sha256",
        crate::token::sha256_hex(&m.message_ja),
    );
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    for u in &ended_users {
        state.bus.publish(crate::realtime::Event::sessions_ended(u));
    }
    Ok(m)
}
