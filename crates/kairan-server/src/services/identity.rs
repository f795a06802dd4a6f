//! Sign-in, sign-out, password changes and a user's own sessions (I2, I4).
//!
//! Sign-in never tells whether an ID exists: an unknown ID, a wrong password, a suspended or a
//! locked ID all get the same answer after the same Argon2 work. The reason is kept in the
//! audit log, without the typed ID or password.

use crate::auth::{Authenticated, Client};
use crate::error::AppError;
use crate::services::{audit_entry, detail, directory};
use crate::state::AppState;
use crate::token;
use kairan_domain::audit::AuditAction;
use kairan_domain::input::LoginId;
use kairan_domain::password::{PasswordContext, PasswordError, PasswordPolicy};
use kairan_domain::{DomainError, Role};
use kairan_store::audit::{self, NewEntry};
use kairan_store::{orgs, sessions, users};

pub struct SignedIn {
    pub token: String,
    pub csrf_token: String,
    pub user_id: String,
    pub must_change_password: bool,
    /// What the session still owes: `none`, `verify` (the user's second factor) or `enrol`
    /// (the policy requires one and the user has none).
    pub mfa: &'static str,
}

/// The password policy of a body: the server default with the body's overrides
/// (`settings.password` in the body's record) on top.
pub async fn policy_for(state: &AppState, org_id: &str) -> Result<PasswordPolicy, AppError> {
    let mut conn = state.store.read().await?;
    let org = orgs::by_id(&mut conn, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(merge_policy(&state.config.password, &org.settings))
}

fn merge_policy(base: &PasswordPolicy, settings: &str) -> PasswordPolicy {
    let Ok(serde_json::Value::Object(settings)) = serde_json::from_str(settings) else {
        return base.clone();
    };
    let Some(serde_json::Value::Object(overrides)) = settings.get("password") else {
        return base.clone();
    };
    let mut merged = serde_json::to_value(base).unwrap_or_default();
    if let serde_json::Value::Object(m) = &mut merged {
        for (k, v) in overrides {
            m.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(merged).unwrap_or_else(|_| base.clone())
}

fn failure(reason: &str, client: &Client) -> NewEntry {
    let mut e = NewEntry::new(AuditAction::SignInFailed);
    e.ip = client.ip.clone();
    detail(&mut e, "reason", reason);
    e
}

pub async fn sign_in(
    state: &AppState,
    login_id: &str,
    password: &str,
    client: &Client,
) -> Result<SignedIn, AppError> {
    let found = match LoginId::parse(login_id) {
        Ok(id) => {
            let mut conn = state.store.read().await?;
            users::by_login(&mut conn, id.as_str()).await?
        }
        Err(_) => None,
    };
    let Some(user) = found else {
        state.hasher.verify_dummy(password).await?;
        let mut tx = state.store.write().await?;
        audit::append(&mut tx, failure("unknown_id", client)).await?;
        tx.commit().await?;
        return Err(AppError::SignInFailed);
    };
    let now = kairan_store::now_us();
    let org_entry = |mut e: NewEntry| {
        e.org_id = Some(user.org_id.clone());
        e.target_id = Some(user.id.clone());
        e
    };
    let locked = user.locked_until.is_some_and(|t| t > now);
    let usable = user.is_active() && !locked;
    // A directory ID is checked only by its directory, and only when it could sign in at all;
    // a local ID always costs one Argon2 verification, whatever its state.
    let checked = if user.auth_source == "directory" {
        if usable {
            match ask_directory(state, &user, password).await? {
                Ok(directory::Verdict::Accepted(entry)) => Ok(Some(entry)),
                Ok(directory::Verdict::Refused(reason)) => Err(reason),
                Err(directory::Unavailable(cause)) => {
                    let mut e = org_entry(failure("directory_unavailable", client));
                    detail(&mut e, "cause", cause);
                    let mut tx = state.store.write().await?;
                    audit::append(&mut tx, e).await?;
                    tx.commit().await?;
                    return Err(AppError::DirectoryUnavailable);
                }
            }
        } else {
            Ok(None)
        }
    } else if state.hasher.verify(password, &user.password_hash).await? {
        Ok(None)
    } else {
        Err("wrong_password")
    };
    let refusal = if !user.is_active() {
        Some("suspended")
    } else if locked {
        Some("locked")
    } else {
        checked.as_ref().err().copied()
    };
    if let Some(reason) = refusal {
        // Read the body's rules before taking the write lock: the lock is held only for writes.
        let policy = policy_for(state, &user.org_id).await?;
        let mut tx = state.store.write().await?;
        audit::append(&mut tx, org_entry(failure(reason, client))).await?;
        if !matches!(reason, "suspended" | "locked") {
            let roles = users::roles(tx.conn(), &user.id).await?;
            let privileged = roles
                .iter()
                .filter_map(|r| Role::parse(r))
                .any(Role::is_privileged);
            count_failure(&mut tx, &policy, &user, privileged, client, "password").await?;
        }
        tx.commit().await?;
        return Err(AppError::SignInFailed);
    }

    if let Ok(Some(entry)) = &checked {
        let cfg = directory::config_for(state, &user.org_id).await?;
        let mapping = cfg.map(|c| c.map_groups(&entry.groups));
        let mut tx = state.store.write().await?;
        if let Some(mapping) = mapping {
            directory::apply(&mut tx, &user, entry, &mapping).await?;
        }
        tx.commit().await?;
    }

    // An internet device must be a registered, usable one (I5); this may refuse.
    let device_id = match crate::services::devices::gate(state, &user, client, login_id).await? {
        crate::services::devices::Gate::Office => None,
        crate::services::devices::Gate::Registered(id) => Some(id),
    };
    let roles: Vec<Role> = {
        let mut conn = state.store.read().await?;
        users::roles(&mut conn, &user.id)
            .await?
            .iter()
            .filter_map(|r| Role::parse(r))
            .collect()
    };
    // The body's settings, read once: maintenance and the idle limit come from them.
    let org = crate::services::admin::org_by_id(state, &user.org_id).await?;
    // In maintenance only administrators sign in (G10); the right password says no more.
    if let Err(e) = crate::services::maintenance::admits(&org.settings, &roles) {
        let mut tx = state.store.write().await?;
        audit::append(&mut tx, org_entry(failure("maintenance", client))).await?;
        tx.commit().await?;
        return Err(e);
    }
    let mfa =
        crate::services::mfa::state_after_password(state, &user, &roles, client.device).await?;
    let idle_minutes = crate::services::sign_in::settings_in(&org.settings)
        .idle_minutes
        .map(i64::from);
    let session_token = token::random_hex(32);
    let csrf_token = token::random_hex(32);
    let mut tx = state.store.write().await?;
    // With a second factor still owed, the sign-in is not complete: the failure count stays
    // (wrong codes add to it) and the previous sign-in is read when the second step passes.
    let (prev, failed) = if mfa == "verify" {
        (None, 0)
    } else {
        users::record_success(&mut tx, &user.id).await?
    };
    let session_id = sessions::insert(
        &mut tx,
        &sessions::NewSession {
            token_hash: &token::sha256_hex(&session_token),
            user_id: &user.id,
            csrf_token: &csrf_token,
            ip: client.ip.as_deref(),
            user_agent: client.user_agent.as_deref(),
            prev_sign_in_at: prev,
            failed_before: failed,
            mfa_state: mfa,
            device_id: device_id.as_deref(),
            idle_minutes,
        },
    )
    .await?;
    let mut e = org_entry(NewEntry::new(AuditAction::SignInSucceeded));
    e.actor_id = Some(user.id.clone());
    e.ip = client.ip.clone();
    detail(&mut e, "session", session_id);
    detail(&mut e, "device", client.device.code());
    if let Some(id) = &device_id {
        detail(&mut e, "registered_device", id.as_str());
    }
    if mfa != "none" {
        detail(&mut e, "mfa", mfa);
    }
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(SignedIn {
        token: session_token,
        csrf_token,
        user_id: user.id,
        must_change_password: user.must_change_password != 0,
        mfa,
    })
}

/// Whether `password` is the signed-in user's own, for steps that ask for it again (adding
/// or removing a second factor): Kairan's hash for a local ID, the directory for a directory
/// ID (which may be unavailable).
pub(crate) async fn password_is_right(
    state: &AppState,
    user: &users::User,
    password: &str,
) -> Result<bool, AppError> {
    if password.is_empty() {
        return Ok(false);
    }
    if user.auth_source != "directory" {
        return state.hasher.verify(password, &user.password_hash).await;
    }
    match ask_directory(state, user, password).await? {
        Ok(directory::Verdict::Accepted(_)) => Ok(true),
        Ok(directory::Verdict::Refused(_)) => Ok(false),
        Err(_) => Err(AppError::DirectoryUnavailable),
    }
}

/// The body's directory's verdict on a directory ID. A directory ID in a body whose
/// directory settings were removed cannot sign in: it fails closed as unavailable.
async fn ask_directory(
    state: &AppState,
    user: &users::User,
    password: &str,
) -> Result<Result<directory::Verdict, directory::Unavailable>, AppError> {
    let Some(cfg) = directory::config_for(state, &user.org_id).await? else {
        return Ok(Err(directory::Unavailable("not_configured")));
    };
    Ok(directory::authenticate(&cfg, &user.login_id, password).await)
}

/// One failed attempt at an ID (a wrong password, a wrong second-factor code) counted towards
/// its lockout, in the caller's transaction. At the threshold the ID locks and every session
/// still waiting for its code ends: otherwise wrong passwords and wrong codes in turn would
/// buy unlimited guesses. Fully signed-in sessions stay, so that someone who knows only the
/// password cannot sign the real user out. Returns whether it locked.
pub(crate) async fn count_failure(
    tx: &mut kairan_store::WriteTx,
    policy: &PasswordPolicy,
    user: &users::User,
    privileged: bool,
    client: &Client,
    stage: &str,
) -> Result<bool, AppError> {
    let threshold = i64::from(policy.lockout_threshold_for(privileged));
    let until = kairan_store::now_us() + i64::from(policy.lockout_minutes) * 60_000_000;
    let n = users::record_failure(tx, &user.id, threshold, until).await?;
    if n < threshold {
        return Ok(false);
    }
    sessions::end_pending_for_user(tx, &user.id, "locked").await?;
    let mut e = NewEntry::new(AuditAction::AccountLocked);
    e.org_id = Some(user.org_id.clone());
    e.target_id = Some(user.id.clone());
    e.ip = client.ip.clone();
    detail(&mut e, "failures", n);
    detail(&mut e, "minutes", policy.lockout_minutes);
    detail(&mut e, "stage", stage);
    audit::append(tx, e).await?;
    Ok(true)
}

pub async fn sign_out(state: &AppState, me: &Authenticated) -> Result<(), AppError> {
    let mut tx = state.store.write().await?;
    if sessions::end(&mut tx, &me.session.id, "signed_out").await? {
        let mut e = audit_entry(&me.actor(), AuditAction::SignedOut);
        e.target_id = Some(me.session.id.clone());
        e.ip = me.client.ip.clone();
        audit::append(&mut tx, e).await?;
    }
    tx.commit().await?;
    state
        .bus
        .publish(crate::realtime::Event::sessions_ended(&me.user.id));
    Ok(())
}

/// Ends one of the caller's own sessions (another device, or this one).
pub async fn end_own_session(
    state: &AppState,
    me: &Authenticated,
    session_id: &str,
) -> Result<(), AppError> {
    let mut tx = state.store.write().await?;
    let Some(s) = sessions::by_id(tx.conn(), session_id).await? else {
        return Err(AppError::NotFound);
    };
    // Someone else's session is "not found", so session IDs cannot be probed.
    if s.user_id != me.user.id || s.ended_at.is_some() {
        return Err(AppError::NotFound);
    }
    sessions::end(&mut tx, session_id, "signed_out_by_user").await?;
    let mut e = audit_entry(&me.actor(), AuditAction::SessionRevoked);
    e.target_id = Some(session_id.to_owned());
    e.ip = me.client.ip.clone();
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    state
        .bus
        .publish(crate::realtime::Event::sessions_ended(&me.user.id));
    Ok(())
}

/// When the caller's previous session ended (a sign-out, an expiry), before this one began.
pub async fn last_sign_out(state: &AppState, me: &Authenticated) -> Result<Option<i64>, AppError> {
    let mut conn = state.store.read().await?;
    Ok(sessions::last_ended_before(&mut conn, &me.user.id, me.session.created_at).await?)
}

pub async fn own_sessions(
    state: &AppState,
    me: &Authenticated,
) -> Result<Vec<sessions::Session>, AppError> {
    let mut conn = state.store.read().await?;
    Ok(sessions::live_for_user(&mut conn, &me.user.id).await?)
}

/// The caller changes their own password: the current one, then a new one that passes every
/// rule and is none of the recent ones. Other sessions end; this one stays.
pub async fn change_password(
    state: &AppState,
    me: &Authenticated,
    current: &str,
    new: &str,
    confirm: &str,
) -> Result<(), AppError> {
    let perr = |e: PasswordError| AppError::Invalid(DomainError::Password(e));
    if me.user.auth_source == "directory" {
        return Err(AppError::Conflict("password_in_directory"));
    }
    if !state.hasher.verify(current, &me.user.password_hash).await? {
        return Err(perr(PasswordError::WrongCurrentPassword));
    }
    if new != confirm {
        return Err(perr(PasswordError::ConfirmationMismatch));
    }
    let policy = policy_for(state, &me.user.org_id).await?;
    let has_second_factor = {
        let mut conn = state.store.read().await?;
        kairan_store::mfa::confirmed_totp(&mut conn, &me.user.id)
            .await?
            .is_some()
    };
    let ctx = PasswordContext {
        login_id: &me.user.login_id,
        display_name: &me.user.display_name,
        kana: &me.user.kana,
        privileged: me.roles.iter().any(|r| r.is_privileged()),
        has_second_factor,
    };
    policy.check(new, &ctx).map_err(perr)?;
    let history = {
        let mut conn = state.store.read().await?;
        users::password_history(&mut conn, &me.user.id, policy.history).await?
    };
    for old in &history {
        if state.hasher.verify(new, old).await? {
            return Err(perr(PasswordError::Reused {
                history: policy.history,
            }));
        }
    }
    let hash = state.hasher.hash(new).await?;
    let mut tx = state.store.write().await?;
    users::set_password(&mut tx, &me.user.id, &hash, false).await?;
    let live = sessions::live_for_user(tx.conn(), &me.user.id).await?;
    let mut ended = 0;
    for s in live.iter().filter(|s| s.id != me.session.id) {
        if sessions::end(&mut tx, &s.id, "password_changed").await? {
            ended += 1;
        }
    }
    let mut e = audit_entry(&me.actor(), AuditAction::PasswordChanged);
    e.target_id = Some(me.user.id.clone());
    e.ip = me.client.ip.clone();
    detail(&mut e, "other_sessions_ended", ended);
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    if ended > 0 {
        state
            .bus
            .publish(crate::realtime::Event::sessions_ended(&me.user.id));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_can_raise_the_minimum_length_and_keeps_the_other_defaults() {
        let base = PasswordPolicy::default();
        let p = merge_policy(&base, r#"{"password":{"min_length":20}}"#);
        assert_eq!(p.min_length, 20);
        assert_eq!(p.history, base.history);
        assert_eq!(merge_policy(&base, "{}"), base);
        assert_eq!(merge_policy(&base, "not json"), base);
    }
}
