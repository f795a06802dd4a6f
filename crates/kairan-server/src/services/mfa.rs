//! The second factor (I3): enrolling an authenticator app (TOTP), passing the second step of
//! a sign-in with its code or a recovery code, replacing or removing it, an administrator's
//! reset with a recorded reason, and the body's rule of who must use one.
//!
//! A session that has passed its password step carries what it still owes (`mfa_state`):
//! `verify` when the user has a second factor, `enrol` when the body's policy requires one
//! and the user has none. Until it is `none` the session opens nothing but these endpoints
//! and sign-out (`auth::Authenticated` refuses it). A wrong code counts towards the same
//! lockout as a wrong password, and the password step no longer clears those failures while
//! a second factor is owed, so the password alone never buys unlimited guesses.

use crate::auth::Authenticated;
use crate::error::AppError;
use crate::services::{audit_entry, detail};
use crate::state::AppState;
use kairan_domain::audit::AuditAction;
use kairan_domain::mfa::{self as rules, MfaPolicy, TotpRefusal};
use kairan_domain::password::PasswordError;
use kairan_domain::policy::{self, Action, Actor, Resource};
use kairan_domain::{DomainError, OrgId, Role};
use kairan_store::audit;
use kairan_store::{mfa, orgs, protection, sessions, users};
use rand::RngCore;
use sha2::Digest;

/// The policy of a body: its own `settings.mfa` when it has set one, else the server's.
pub async fn policy_for(state: &AppState, org_id: &str) -> Result<MfaPolicy, AppError> {
    let mut conn = state.store.read().await?;
    let org = orgs::by_id(&mut conn, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(policy_in(&org.settings).unwrap_or_else(|| state.config.mfa.clone()))
}

fn policy_in(settings: &str) -> Option<MfaPolicy> {
    let serde_json::Value::Object(mut m) = serde_json::from_str(settings).ok()? else {
        return None;
    };
    serde_json::from_value(m.remove("mfa")?).ok()
}

/// What a session owes after a correct password, decided at sign-in.
pub async fn state_after_password(
    state: &AppState,
    user: &users::User,
    roles: &[Role],
    device: kairan_domain::DeviceClass,
) -> Result<&'static str, AppError> {
    let has_factor = {
        let mut conn = state.store.read().await?;
        mfa::has_any_factor(&mut conn, &user.id).await?
    };
    if has_factor {
        return Ok("verify");
    }
    let policy = policy_for(state, &user.org_id).await?;
    Ok(if policy.required(roles, device) {
        "enrol"
    } else {
        "none"
    })
}

/// The caller's second factor as their settings page shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Status {
    /// Whether an authenticator app is set up.
    pub totp: bool,
    /// When it was set up (microseconds since the epoch).
    pub totp_since: Option<i64>,
    pub recovery_codes_left: i64,
    /// The user's passkeys and security keys.
    pub passkeys: Vec<crate::services::passkeys::PasskeyView>,
    /// Whether the body's policy requires a second factor on this device.
    pub required_here: bool,
    /// Whether it is required on every device (privileged IDs, or the caller's role): then
    /// it may be replaced but not removed.
    pub required_everywhere: bool,
}

pub async fn status(state: &AppState, me: &Authenticated) -> Result<Status, AppError> {
    let policy = policy_for(state, &me.user.org_id).await?;
    let mut conn = state.store.read().await?;
    let totp = mfa::confirmed_totp(&mut conn, &me.user.id).await?;
    Ok(Status {
        totp: totp.is_some(),
        totp_since: totp.and_then(|t| t.confirmed_at),
        recovery_codes_left: mfa::recovery_codes_left(&mut conn, &me.user.id).await?,
        passkeys: crate::services::passkeys::views(mfa::passkeys(&mut conn, &me.user.id).await?),
        required_here: policy.required(&me.roles, me.client.device),
        required_everywhere: policy.required_everywhere(&me.roles),
    })
}

/// What the enrolment screen shows: the secret as text, the `otpauth://` URI, and the URI as
/// a QR code (an SVG drawing, no script).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TotpSetup {
    /// The secret in base32, for typing into an app by hand.
    pub secret: String,
    pub otpauth_uri: String,
    #[serde(skip)]
    pub qr_svg: String,
}

fn wrong_password() -> AppError {
    AppError::Invalid(DomainError::Password(PasswordError::WrongCurrentPassword))
}

pub(crate) async fn confirm_password(
    state: &AppState,
    me: &Authenticated,
    password: &str,
) -> Result<(), AppError> {
    if crate::services::identity::password_is_right(state, &me.user, password).await? {
        Ok(())
    } else {
        Err(wrong_password())
    }
}

/// Starts enrolling an authenticator app. Replacing one that is already set up takes the
/// password, so a session left open on a shared PC cannot quietly move the second factor to
/// someone else's phone.
pub async fn start_totp(
    state: &AppState,
    me: &Authenticated,
    password: Option<&str>,
) -> Result<TotpSetup, AppError> {
    if me.session.mfa_state == "verify" {
        return Err(AppError::MfaRequired);
    }
    let has_factor = {
        let mut conn = state.store.read().await?;
        mfa::has_any_factor(&mut conn, &me.user.id).await?
    };
    if has_factor && me.session.mfa_state == "none" {
        confirm_password(state, me, password.unwrap_or("")).await?;
    }
    let mut secret = [0u8; rules::SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let sealed = state.key.seal(&secret, &me.user.id);
    let mut tx = state.store.write().await?;
    mfa::start_totp(&mut tx, &me.user.id, &sealed).await?;
    tx.commit().await?;
    setup_view(state, me, &secret).await
}

/// The enrolment the caller started within the last minutes, shown again (a reload of the
/// set-up page, or a mistyped code) instead of a new secret the app has not seen.
pub async fn setup_in_progress(
    state: &AppState,
    me: &Authenticated,
) -> Result<Option<TotpSetup>, AppError> {
    let pending = {
        let mut conn = state.store.read().await?;
        mfa::pending_totp(&mut conn, &me.user.id).await?
    };
    let Some(p) = pending else {
        return Ok(None);
    };
    if !still_fresh(&p) {
        return Ok(None);
    }
    let Some(secret) = state.key.open(&p.secret_sealed, &me.user.id) else {
        return Ok(None);
    };
    Ok(Some(setup_view(state, me, &secret).await?))
}

async fn setup_view(
    state: &AppState,
    me: &Authenticated,
    secret: &[u8],
) -> Result<TotpSetup, AppError> {
    let org = crate::services::admin::org_by_id(state, &me.user.org_id).await?;
    let issuer = format!("Kairan {}", org.name);
    let uri = rules::otpauth_uri(&issuer, &me.user.login_id, secret);
    Ok(TotpSetup {
        secret: rules::base32_encode(secret),
        qr_svg: qr_svg(&uri),
        otpauth_uri: uri,
    })
}

/// Whether a user has a second factor set up (for the administrator's view of the user,
/// after the caller's right to see that user was checked).
pub async fn has_factor(state: &AppState, user_id: &str) -> Result<bool, AppError> {
    let mut conn = state.store.read().await?;
    Ok(mfa::has_any_factor(&mut conn, user_id).await?)
}

/// An enrolment left unfinished for longer than the sign-in step lasts starts again.
fn still_fresh(pending: &mfa::Totp) -> bool {
    kairan_store::now_us() - pending.created_at <= crate::auth::MFA_STEP_MINUTES * 60_000_000
}

/// Whether the user has a passkey (the code step then offers it).
pub async fn has_passkeys(state: &AppState, user_id: &str) -> Result<bool, AppError> {
    let mut conn = state.store.read().await?;
    Ok(!mfa::passkeys(&mut conn, user_id).await?.is_empty())
}

/// The QR code of `text` as an inline SVG element.
fn qr_svg(text: &str) -> String {
    let Ok(code) = qrcode::QrCode::new(text.as_bytes()) else {
        return String::new();
    };
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline in HTML: the XML declaration has no place there.
    match svg.find("<svg") {
        Some(i) => svg[i..].to_owned(),
        None => String::new(),
    }
}

/// The outcome of a confirmed enrolment: new recovery codes when the user had none left
/// (shown once, never again).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Enrolled {
    pub recovery_codes: Vec<String>,
}

/// Proves the enrolment with the app's first code. The session's enrolment step (if it owed
/// one) is then done.
pub async fn confirm_totp(
    state: &AppState,
    me: &Authenticated,
    typed: &str,
) -> Result<Enrolled, AppError> {
    if me.session.mfa_state == "verify" {
        return Err(AppError::MfaRequired);
    }
    let (pending, replaced) = {
        let mut conn = state.store.read().await?;
        (
            mfa::pending_totp(&mut conn, &me.user.id).await?,
            mfa::confirmed_totp(&mut conn, &me.user.id).await?.is_some(),
        )
    };
    let Some(pending) = pending else {
        return Err(AppError::Conflict("totp_not_started"));
    };
    if !still_fresh(&pending) {
        return Err(AppError::Conflict("totp_not_started"));
    }
    let secret = state
        .key
        .open(&pending.secret_sealed, &me.user.id)
        .ok_or_else(|| AppError::Internal("a TOTP secret does not open".into()))?;
    let step = match rules::parse_code(typed) {
        Some(code) => rules::verify(&secret, code, now_step(), 0).map_err(|_| AppError::MfaFailed),
        None => Err(AppError::MfaFailed),
    };
    let mut tx = state.store.write().await?;
    let step = match step {
        Ok(step) => step,
        Err(e) => {
            let mut f = audit_entry(&me.actor(), AuditAction::MfaFailed);
            f.target_id = Some(me.user.id.clone());
            f.ip = me.client.ip.clone();
            detail(&mut f, "method", "totp");
            detail(&mut f, "stage", "enrolment");
            audit::append(&mut tx, f).await?;
            tx.commit().await?;
            return Err(e);
        }
    };
    if !mfa::confirm_totp(&mut tx, &me.user.id, &pending.id, step).await? {
        return Err(AppError::Conflict("totp_not_started"));
    }
    let recovery_codes = finish_enrolment(
        state,
        &mut tx,
        me,
        "totp",
        serde_json::json!({ "replaced": replaced }),
    )
    .await?;
    tx.commit().await?;
    Ok(Enrolled { recovery_codes })
}

/// A second factor was just added: ten recovery codes when the user has none left (shown
/// once), the session's enrolment step done, and the audit record. The caller commits.
pub(crate) async fn finish_enrolment(
    state: &AppState,
    tx: &mut kairan_store::WriteTx,
    me: &Authenticated,
    method: &str,
    more: serde_json::Value,
) -> Result<Vec<String>, AppError> {
    let codes_left = mfa::recovery_codes_left(tx.conn(), &me.user.id).await?;
    let recovery_codes = if codes_left == 0 {
        let (codes, hashes) = new_recovery_codes(state, &me.user.id);
        mfa::replace_recovery_codes(tx, &me.user.id, &hashes).await?;
        codes
    } else {
        Vec::new()
    };
    if me.session.mfa_state == "enrol" {
        mfa::set_session_state(tx, &me.session.id, "enrol", "none").await?;
    }
    let mut e = audit_entry(&me.actor(), AuditAction::MfaEnrolled);
    e.target_id = Some(me.user.id.clone());
    e.ip = me.client.ip.clone();
    detail(&mut e, "method", method);
    if let serde_json::Value::Object(m) = more {
        for (k, v) in m {
            detail(&mut e, &k, v);
        }
    }
    detail(&mut e, "recovery_codes_issued", recovery_codes.len());
    audit::append(tx, e).await?;
    Ok(recovery_codes)
}

fn now_step() -> i64 {
    rules::step_at(kairan_store::now_us().div_euclid(1_000_000))
}

/// Ten fresh codes and the keyed hashes that are all the database keeps of them.
fn new_recovery_codes(state: &AppState, user_id: &str) -> (Vec<String>, Vec<String>) {
    let mut codes = Vec::with_capacity(rules::RECOVERY_CODES);
    let mut hashes = Vec::with_capacity(rules::RECOVERY_CODES);
    while codes.len() < rules::RECOVERY_CODES {
        let mut random = [0u8; rules::RECOVERY_CODE_CHARS];
        rand::rngs::OsRng.fill_bytes(&mut random);
        let code = rules::recovery_code(&random);
        let Some(canonical) = rules::normalize_recovery_code(&code) else {
            continue;
        };
        let hash = state.key.mac_hex(user_id, &canonical);
        if !hashes.contains(&hash) {
            codes.push(code);
            hashes.push(hash);
        }
    }
    (codes, hashes)
}

/// Replaces the caller's recovery codes (the old ones stop working). Takes the password.
pub async fn regenerate_recovery_codes(
    state: &AppState,
    me: &Authenticated,
    password: &str,
) -> Result<Vec<String>, AppError> {
    confirm_password(state, me, password).await?;
    let has_factor = {
        let mut conn = state.store.read().await?;
        mfa::has_any_factor(&mut conn, &me.user.id).await?
    };
    if !has_factor {
        return Err(AppError::Conflict("mfa_not_enrolled"));
    }
    let (codes, hashes) = new_recovery_codes(state, &me.user.id);
    let mut tx = state.store.write().await?;
    mfa::replace_recovery_codes(&mut tx, &me.user.id, &hashes).await?;
    let mut e = audit_entry(&me.actor(), AuditAction::RecoveryCodesIssued);
    e.target_id = Some(me.user.id.clone());
    e.ip = me.client.ip.clone();
    detail(&mut e, "count", codes.len());
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(codes)
}

/// Turns the caller's second factor off. Refused when the policy requires one on every
/// device for them (they may replace it instead).
pub async fn remove(state: &AppState, me: &Authenticated, password: &str) -> Result<(), AppError> {
    confirm_password(state, me, password).await?;
    let policy = policy_for(state, &me.user.org_id).await?;
    if policy.required_everywhere(&me.roles) {
        return Err(AppError::Conflict("mfa_required_by_policy"));
    }
    let mut tx = state.store.write().await?;
    if mfa::remove_all(&mut tx, &me.user.id).await? == 0 {
        return Err(AppError::Conflict("mfa_not_enrolled"));
    }
    let forced = require_strong_password(state, &mut tx, &me.user.id, &me.roles).await?;
    let mut e = audit_entry(&me.actor(), AuditAction::MfaRemoved);
    e.target_id = Some(me.user.id.clone());
    e.ip = me.client.ip.clone();
    detail(&mut e, "password_change_required", forced);
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(())
}

/// The last second factor is gone: a password chosen under the shorter minimum that a second
/// factor allows must not stay. When the body's rule for IDs with a second factor is looser
/// than without, the next sign-in asks for a new password. Returns whether it will.
pub(crate) async fn require_strong_password(
    state: &AppState,
    tx: &mut kairan_store::WriteTx,
    user_id: &str,
    roles: &[Role],
) -> Result<bool, AppError> {
    let Some(user) = users::by_id(tx.conn(), user_id).await? else {
        return Ok(false);
    };
    // The directory, not Kairan, holds a directory ID's password.
    if user.auth_source == "directory" {
        return Ok(false);
    }
    let policy = crate::services::identity::policy_for(state, &user.org_id).await?;
    let privileged = roles.iter().any(|r| r.is_privileged());
    if privileged || policy.min_length_with_mfa >= policy.min_length {
        return Ok(false);
    }
    users::require_password_change(tx, user_id).await?;
    Ok(true)
}

/// What the second step of a sign-in accepted.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Verified {
    /// `totp` or `recovery_code`.
    pub method: &'static str,
    pub recovery_codes_left: i64,
}

/// The second step of a sign-in: a code from the app, or one recovery code.
pub async fn verify(
    state: &AppState,
    me: &Authenticated,
    typed: &str,
) -> Result<Verified, AppError> {
    if me.session.mfa_state != "verify" {
        return Err(AppError::Conflict("mfa_not_pending"));
    }
    refuse_if_locked(me)?;
    let user_id = me.user.id.as_str();
    let totp = {
        let mut conn = state.store.read().await?;
        mfa::confirmed_totp(&mut conn, user_id).await?
    };
    let mut tx = state.store.write().await?;
    let (method, outcome) = if let Some(code) = rules::parse_code(typed) {
        let outcome = match &totp {
            None => Err(TotpRefusal::Wrong),
            Some(t) => {
                let secret = state
                    .key
                    .open(&t.secret_sealed, user_id)
                    .ok_or_else(|| AppError::Internal("a TOTP secret does not open".into()))?;
                match rules::verify(&secret, code, now_step(), t.last_step) {
                    // Compare-and-set: of two requests racing with one code, one wins.
                    Ok(step) if mfa::use_step(&mut tx, &t.id, step).await? => Ok(()),
                    Ok(_) => Err(TotpRefusal::Replayed),
                    Err(e) => Err(e),
                }
            }
        };
        ("totp", outcome)
    } else if let Some(canonical) = rules::normalize_recovery_code(typed) {
        let hash = state.key.mac_hex(user_id, &canonical);
        let spent = mfa::use_recovery_code(&mut tx, user_id, &hash).await?;
        (
            "recovery_code",
            if spent {
                Ok(())
            } else {
                Err(TotpRefusal::Wrong)
            },
        )
    } else {
        ("unreadable", Err(TotpRefusal::Wrong))
    };
    match outcome {
        Ok(()) => {
            let left = complete_second_step(&mut tx, me, method).await?;
            tx.commit().await?;
            Ok(Verified {
                method,
                recovery_codes_left: left,
            })
        }
        Err(refusal) => {
            fail_second_step(state, tx, me, method, refusal.code()).await?;
            Err(AppError::MfaFailed)
        }
    }
}

fn step_entry(
    me: &Authenticated,
    action: AuditAction,
    method: &str,
) -> kairan_store::audit::NewEntry {
    let mut e = audit_entry(&me.actor(), action);
    e.target_id = Some(me.session.id.clone());
    e.ip = me.client.ip.clone();
    detail(&mut e, "method", method);
    e
}

/// The second step passed (by whatever method): the sign-in is complete now. What the
/// previous sign-in was, and the failures since, are read and cleared here rather than at the
/// password step. Returns the recovery codes left. The caller commits.
pub(crate) async fn complete_second_step(
    tx: &mut kairan_store::WriteTx,
    me: &Authenticated,
    method: &str,
) -> Result<i64, AppError> {
    let user_id = me.user.id.as_str();
    let (prev, failed) = users::record_success(tx, user_id).await?;
    sessions::set_sign_in_history(tx, &me.session.id, prev, failed).await?;
    if !mfa::set_session_state(tx, &me.session.id, "verify", "none").await? {
        return Err(AppError::Unauthenticated);
    }
    let left = mfa::recovery_codes_left(tx.conn(), user_id).await?;
    let mut e = step_entry(me, AuditAction::MfaVerified, method);
    if method == "recovery_code" {
        detail(&mut e, "recovery_codes_left", left);
    }
    audit::append(tx, e).await?;
    Ok(left)
}

/// The second step failed: recorded, counted towards lockout, committed. When the ID locks,
/// the waiting session ends with it and every node is told.
pub(crate) async fn fail_second_step(
    state: &AppState,
    mut tx: kairan_store::WriteTx,
    me: &Authenticated,
    method: &str,
    reason: &str,
) -> Result<(), AppError> {
    let mut f = step_entry(me, AuditAction::MfaFailed, method);
    detail(&mut f, "reason", reason);
    audit::append(&mut tx, f).await?;
    let policy = crate::services::identity::policy_for(state, &me.user.org_id).await?;
    let privileged = me.roles.iter().any(|r| r.is_privileged());
    let locked = crate::services::identity::count_failure(
        &mut tx,
        &policy,
        &me.user,
        privileged,
        &me.client,
        "second_factor",
    )
    .await?;
    tx.commit().await?;
    if locked {
        state
            .bus
            .publish(crate::realtime::Event::sessions_ended(&me.user.id));
    }
    Ok(())
}

/// A locked ID passes no second step, whatever the code: the lock holds until it expires.
/// The user row was read for this very request.
pub(crate) fn refuse_if_locked(me: &Authenticated) -> Result<(), AppError> {
    let now = kairan_store::now_us();
    if me.user.locked_until.is_some_and(|t| t > now) {
        return Err(AppError::MfaFailed);
    }
    Ok(())
}

/// A reason an administrator gives for resetting someone's second factor.
fn reset_reason(raw: &str) -> Result<String, AppError> {
    let v = raw.trim();
    let n = v.chars().count();
    if !(10..=500).contains(&n) {
        return Err(DomainError::invalid(
            "reason",
            "リセットの理由",
            "リセットの理由を10文字以上500文字以内で入力してください（例: スマートフォン紛失の届出を受けたため）。",
            "state the reason in 10 to 500 characters (for example, the user reported their phone lost).",
        )
        .into());
    }
    Ok(v.to_owned())
}

/// An administrator removes a user's second factor (a lost or replaced phone). The reason is
/// recorded with the notice to the user (the audit record holds its ID and the reason's hash),
/// every session of the user ends, and the user finds a notice on next sign-in,
/// when the policy takes them to enrolment again.
pub async fn reset(
    state: &AppState,
    actor: &Actor,
    user_id: &str,
    reason: &str,
) -> Result<(), AppError> {
    let t = crate::services::admin::target(state, user_id).await?;
    crate::services::admin::user_check(actor, Action::ResetMfa, &t)?;
    let reason = reset_reason(reason)?;
    let mut tx = state.store.write().await?;
    if mfa::remove_all(&mut tx, user_id).await? == 0 {
        return Err(AppError::Conflict("mfa_not_enrolled"));
    }
    let ended = sessions::end_all_for_user(&mut tx, user_id, "mfa_reset").await?;
    let roles: Vec<Role> = users::roles(tx.conn(), user_id)
        .await?
        .iter()
        .filter_map(|r| Role::parse(r))
        .collect();
    let forced = require_strong_password(state, &mut tx, user_id, &roles).await?;
    let by = match actor {
        Actor::User(u) => Some(u.user_id.0.as_str()),
        Actor::Operator => None,
    };
    // The reason is free text, so it lives with the notice that tells the user; the audit
    // record points to it and carries its hash, so an edited reason no longer matches.
    let notices = protection::notify(
        &mut tx,
        &t.org_id,
        std::slice::from_ref(&t.id),
        "mfa_reset",
        by,
        Some(&t.id),
        &serde_json::json!({ "reason": reason }).to_string(),
    )
    .await?;
    let mut e = audit_entry(actor, AuditAction::MfaReset);
    e.org_id = Some(t.org_id.clone());
    e.target_id = Some(t.id.clone());
    detail(
        &mut e,
        "notice",
        notices.first().cloned().unwrap_or_default(),
    );
    detail(
        &mut e,
        "reason_sha256",
        hex::encode(sha2::Sha256::digest(reason.as_bytes())),
    );
    detail(&mut e, "sessions_ended", ended);
    detail(&mut e, "password_change_required", forced);
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    state
        .bus
        .publish(crate::realtime::Event::sessions_ended(user_id));
    Ok(())
}

/// Sets who must use a second factor in a body. Privileged IDs always must, whatever is set.
pub async fn set_policy(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    new: MfaPolicy,
) -> Result<MfaPolicy, AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::ConfigureSignIn, &Resource::Org(&org))?;
    let mut new = new;
    new.roles.sort();
    new.roles.dedup();
    new.devices.sort_by_key(|d| d.code());
    new.devices.dedup();
    let mut tx = crate::services::write_setting(
        state,
        org_id,
        "mfa",
        serde_json::to_value(&new).unwrap_or_default(),
    )
    .await?;
    let mut e = audit_entry(actor, AuditAction::MfaPolicyChanged);
    e.org_id = Some(org_id.to_owned());
    e.target_id = Some(org_id.to_owned());
    detail(
        &mut e,
        "roles",
        new.roles.iter().map(|r| r.code()).collect::<Vec<_>>(),
    );
    detail(
        &mut e,
        "devices",
        new.devices.iter().map(|d| d.code()).collect::<Vec<_>>(),
    );
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(new)
}

/// Reads a body's policy for someone allowed to set it.
pub async fn policy_for_admin(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
) -> Result<MfaPolicy, AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::ConfigureSignIn, &Resource::Org(&org))?;
    policy_for(state, org_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_policy_replaces_the_default_and_a_broken_one_is_ignored() {
        assert_eq!(policy_in("{}"), None);
        assert_eq!(policy_in("not json"), None);
        assert_eq!(policy_in(r#"{"mfa":{"roles":["wizard"]}}"#), None);
        let p = policy_in(r#"{"mfa":{"roles":["section_head"],"devices":[]}}"#);
        assert_eq!(
            p,
            Some(MfaPolicy {
                roles: vec![Role::SectionHead],
                devices: vec![],
            })
        );
    }
}
