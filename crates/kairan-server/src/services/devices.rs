//! Registered internet devices (I5; seed 003 §8-11, §8-12). A sign-in from the internet side
//! must come from a registered device: its first sign-in registers it (name, platform, first
//! seen) under the browser's or app's device token, and, when the body asks for it, an
//! administrator approves it before it is used. A device reported lost (by its owner or an
//! administrator) ends every session that signed in from it at once, its live connections
//! close, and it stays blocked until an administrator restores it. LGWAN PCs are managed by
//! the office and need none of this.
//!
//! A device is also bound to the browser or app that registered it by a non-extractable key
//! (`kairan_domain::device_key`): the client signs a fresh challenge at each sign-in, the first
//! key is kept with the device, and a device with a key never signs in without it, so a copied
//! device cookie is not the device.

use crate::auth::{Authenticated, Client};
use crate::error::AppError;
use crate::services::{audit_entry, detail};
use crate::state::AppState;
use crate::token;
use kairan_domain::audit::AuditAction;
use kairan_domain::policy::{self, Action, Actor, Resource};
use kairan_domain::{DeviceClass, OrgId};
use kairan_store::audit::{self, NewEntry};
use kairan_store::devices::{self, Device};
use kairan_store::{orgs, users};

/// Whether a new device of the body waits for approval: its own `settings.devices.approval`,
/// else the server's.
pub async fn approval_required(state: &AppState, org_id: &str) -> Result<bool, AppError> {
    let mut conn = state.store.read().await?;
    let org = orgs::by_id(&mut conn, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let own = serde_json::from_str::<serde_json::Value>(&org.settings)
        .ok()
        .and_then(|s| s["devices"]["approval"].as_bool());
    Ok(own.unwrap_or(state.config.devices.approval))
}

/// What a correct password on this connection may lead to.
pub enum Gate {
    /// An LGWAN PC: no registration.
    Office,
    /// A registered, usable internet device.
    Registered(String),
}

/// How long a sign-in challenge may be answered.
const CHALLENGE_SECONDS: i64 = 300;

/// A fresh challenge for a sign-in page or app: the time, a nonce and the server's MAC over
/// both. Nothing is stored until it is answered, so showing the sign-in page writes nothing.
pub fn mint_challenge(state: &AppState) -> String {
    let body = format!(
        "{}.{}",
        kairan_store::now_us() / 1_000_000,
        token::random_hex(16)
    );
    let mac = state.key.mac_hex("device-challenge", &body);
    format!("{body}.{}", &mac[..32])
}

/// When a challenge this server minted stops being answerable (µs); none when it is not
/// ours, malformed, or too old.
fn challenge_expiry(state: &AppState, challenge: &str, now_us: i64) -> Option<i64> {
    use subtle::ConstantTimeEq;
    let (body, mac) = challenge.rsplit_once('.')?;
    let expected = state.key.mac_hex("device-challenge", body);
    if mac.len() != 32 || !bool::from(mac.as_bytes().ct_eq(&expected.as_bytes()[..32])) {
        return None;
    }
    let issued: i64 = body.split_once('.')?.0.parse().ok()?;
    let now = now_us / 1_000_000;
    if issued > now + 5 || now - issued > CHALLENGE_SECONDS {
        return None;
    }
    Some((issued + CHALLENGE_SECONDS) * 1_000_000)
}

/// A proof checked as far as it can be without the database: the challenge is ours and
/// fresh, the signature holds for it and the ID as typed. Done before the write lock is
/// taken, so signature checks never hold up other writers. Ok(None): no proof sent.
struct Checked {
    public_key: String,
    challenge_hash: String,
    expires_at: i64,
}

fn check_proof(
    state: &AppState,
    client: &Client,
    typed_login: &str,
) -> Result<Option<Checked>, &'static str> {
    let Some(proof) = &client.device_proof else {
        return Ok(None);
    };
    let Some(expires_at) = challenge_expiry(state, &proof.challenge, kairan_store::now_us()) else {
        return Err("device_challenge_expired");
    };
    kairan_domain::device_key::verify(proof, typed_login.trim()).map_err(|e| e.code())?;
    Ok(Some(Checked {
        public_key: proof.public_key.clone(),
        challenge_hash: token::sha256_hex(&proof.challenge),
        expires_at,
    }))
}

/// The key a sign-in proved it holds: a checked proof whose challenge is now spent (answered
/// once only). None when the client sent no proof; a proof that does not hold is a refusal,
/// never "no proof".
async fn proven_key(
    tx: &mut kairan_store::WriteTx,
    checked: Result<Option<Checked>, &'static str>,
) -> Result<Result<Option<String>, &'static str>, AppError> {
    let c = match checked {
        Ok(Some(c)) => c,
        Ok(None) => return Ok(Ok(None)),
        Err(code) => return Ok(Err(code)),
    };
    if !devices::spend_challenge(tx, &c.challenge_hash, c.expires_at).await? {
        return Ok(Err("device_challenge_replayed"));
    }
    Ok(Ok(Some(c.public_key)))
}

/// The device step of a sign-in, after a correct password. An unknown device is registered
/// (and committed, even when it must wait) with the key its client proved, if any; a known
/// device with a key needs a proof by that key; a waiting, refused or lost one is refused with
/// its reason, recorded as a failed sign-in.
pub async fn gate(
    state: &AppState,
    user: &users::User,
    client: &Client,
    typed_login: &str,
) -> Result<Gate, AppError> {
    if client.device == DeviceClass::LgwanPc {
        return Ok(Gate::Office);
    }
    let Some(device_token) = client.device_token.as_deref() else {
        return Err(AppError::DeviceRefused("device_cookie_required"));
    };
    let hash = token::sha256_hex(device_token);
    let found = {
        let mut conn = state.store.read().await?;
        devices::by_token(&mut conn, &user.id, &hash).await?
    };
    let checked = check_proof(state, client, typed_login);
    let mut tx = state.store.write().await?;
    let proven = proven_key(&mut tx, checked).await?;
    let (device_id, status, key_refusal) = match (found, &proven) {
        // A proof that does not hold refuses the sign-in, and registers nothing.
        (found, Err(code)) => (
            found.map(|d| d.id).unwrap_or_default(),
            String::new(),
            Some(*code),
        ),
        (Some(d), Ok(key)) => {
            let refusal = match (&d.public_key, key) {
                (Some(bound), Some(k)) if kairan_domain::device_key::same_key(bound, k) => None,
                (Some(_), Some(_)) => Some("device_key_mismatch"),
                (Some(_), None) => Some("device_key_required"),
                // A device registered before keys (or by a client without one) takes the
                // first key it proves; from then on it needs it.
                (None, Some(k)) => {
                    if devices::bind_key(&mut tx, &d.id, k).await? {
                        let mut e = NewEntry::new(AuditAction::DeviceKeyBound);
                        e.org_id = Some(user.org_id.clone());
                        e.actor_id = Some(user.id.clone());
                        e.target_id = Some(d.id.clone());
                        e.ip = client.ip.clone();
                        audit::append(&mut tx, e).await?;
                    }
                    None
                }
                (None, None) => None,
            };
            (d.id, d.status, refusal)
        }
        (None, Ok(key)) => {
            // Once a device of the user was reported lost, every new one waits for an
            // administrator, whatever the body's rule: a thief who clears the lost phone's
            // cookies must not come back as a "new" device.
            let waits = approval_required(state, &user.org_id).await?
                || devices::has_lost(tx.conn(), &user.id).await?;
            let platform = crate::web::known_platform(client.user_agent.as_deref().unwrap_or(""));
            let status = if waits { "pending" } else { "active" };
            let id = devices::insert(
                &mut tx,
                &devices::NewDevice {
                    user_id: &user.id,
                    org_id: &user.org_id,
                    token_hash: &hash,
                    name: &platform,
                    platform: &platform,
                    status,
                    public_key: key.as_deref(),
                },
            )
            .await?;
            let mut e = NewEntry::new(AuditAction::DeviceRegistered);
            e.org_id = Some(user.org_id.clone());
            e.actor_id = Some(user.id.clone());
            e.target_id = Some(id.clone());
            e.ip = client.ip.clone();
            detail(&mut e, "platform", platform.as_str());
            detail(&mut e, "status", status);
            detail(&mut e, "key", key.is_some());
            audit::append(&mut tx, e).await?;
            // The owner is told on every other device's home page (I4): a sign-in they did
            // not make shows up there.
            kairan_store::protection::notify(
                &mut tx,
                &user.org_id,
                std::slice::from_ref(&user.id),
                "new_device",
                None,
                Some(&id),
                &serde_json::json!({ "platform": platform, "ip": client.ip }).to_string(),
            )
            .await?;
            (id, status.to_owned(), None)
        }
    };
    let refusal = key_refusal.or(match status.as_str() {
        "active" => None,
        "pending" => Some("device_pending_approval"),
        "lost" => Some("device_lost"),
        _ => Some("device_refused"),
    });
    match refusal {
        None => {
            devices::seen(&mut tx, &device_id).await?;
            tx.commit().await?;
            Ok(Gate::Registered(device_id))
        }
        Some(code) => {
            let mut e = NewEntry::new(AuditAction::SignInFailed);
            e.org_id = Some(user.org_id.clone());
            e.target_id = Some(user.id.clone());
            e.ip = client.ip.clone();
            detail(&mut e, "reason", code);
            if !device_id.is_empty() {
                detail(&mut e, "device", device_id.as_str());
            }
            audit::append(&mut tx, e).await?;
            tx.commit().await?;
            // Every key failure looks the same from outside; the audit record says which.
            let shown = if key_refusal.is_some() {
                "device_key_invalid"
            } else {
                code
            };
            Err(AppError::DeviceRefused(shown))
        }
    }
}

/// A device as its owner or an administrator sees it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DeviceView {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub platform: String,
    /// `pending`, `active`, `refused` or `lost`.
    pub status: String,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    /// Whether the device is bound to a key (a copied cookie does not sign in as it).
    pub has_key: bool,
}

impl From<Device> for DeviceView {
    fn from(d: Device) -> Self {
        DeviceView {
            id: d.id,
            user_id: d.user_id,
            name: d.name,
            platform: d.platform,
            status: d.status,
            first_seen_at: d.first_seen_at,
            last_seen_at: d.last_seen_at,
            has_key: d.public_key.is_some(),
        }
    }
}

pub async fn own(state: &AppState, me: &Authenticated) -> Result<Vec<DeviceView>, AppError> {
    let mut conn = state.store.read().await?;
    Ok(devices::for_user(&mut conn, &me.user.id)
        .await?
        .into_iter()
        .map(DeviceView::from)
        .collect())
}

pub async fn of_org(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
) -> Result<Vec<DeviceView>, AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::ManageDevices, &Resource::Org(&org))?;
    let mut conn = state.store.read().await?;
    Ok(devices::for_org(&mut conn, org_id)
        .await?
        .into_iter()
        .map(DeviceView::from)
        .collect())
}

fn name_of(raw: &str) -> Result<String, AppError> {
    crate::services::short_name(raw, "端末の名前", "業務用スマートフォン", "work phone")
}

pub async fn rename(
    state: &AppState,
    me: &Authenticated,
    id: &str,
    name: &str,
) -> Result<(), AppError> {
    let name = name_of(name)?;
    let mut tx = state.store.write().await?;
    if !devices::rename(&mut tx, &me.user.id, id, &name).await? {
        return Err(AppError::NotFound);
    }
    let mut e = audit_entry(&me.actor(), AuditAction::DeviceRenamed);
    e.target_id = Some(id.to_owned());
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(())
}

/// A device the actor may act on: their own when `owner_may`, or any of their body's for an
/// administrator. Anything else is "not found", so device IDs cannot be probed.
async fn reachable(
    state: &AppState,
    actor: &Actor,
    id: &str,
    owner_may: bool,
) -> Result<Device, AppError> {
    let d = {
        let mut conn = state.store.read().await?;
        devices::by_id(&mut conn, id).await?
    }
    .ok_or(AppError::NotFound)?;
    if let Actor::User(u) = actor
        && owner_may
        && d.user_id == u.user_id.0
    {
        return Ok(d);
    }
    let org = OrgId(d.org_id.clone());
    policy::check(actor, Action::ManageDevices, &Resource::Org(&org))
        .map_err(|_| AppError::NotFound)?;
    Ok(d)
}

/// "This device was lost", by its owner (from another device) or an administrator: every
/// session of the device ends, its live connections close, and it stays blocked.
pub async fn report_lost(state: &AppState, actor: &Actor, id: &str) -> Result<u64, AppError> {
    let d = reachable(state, actor, id, true).await?;
    let by = actor_id(actor);
    let mut tx = state.store.write().await?;
    if !devices::set_status(&mut tx, id, &["active", "pending"], "lost", by.as_deref()).await? {
        return Err(AppError::Conflict("device_already_lost"));
    }
    let ended = devices::end_sessions(&mut tx, id, "device_lost").await?;
    let mut e = audit_entry(actor, AuditAction::DeviceLost);
    e.org_id = Some(d.org_id.clone());
    e.target_id = Some(id.to_owned());
    detail(&mut e, "user", d.user_id.as_str());
    detail(&mut e, "sessions_ended", ended);
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    state
        .bus
        .publish(crate::realtime::Event::sessions_ended(&d.user_id));
    Ok(ended)
}

fn actor_id(actor: &Actor) -> Option<String> {
    match actor {
        Actor::User(u) => Some(u.user_id.0.clone()),
        Actor::Operator => None,
    }
}

/// An administrator's decision on a device: approve a waiting one, refuse it, or restore one
/// that was lost or refused.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    id: &str,
    decision: &str,
) -> Result<(), AppError> {
    let (from, to, action): (&[&str], &str, AuditAction) = match decision {
        "approve" => (&["pending"], "active", AuditAction::DeviceApproved),
        "refuse" => (
            &["pending", "active"],
            "refused",
            AuditAction::DeviceRefused,
        ),
        "restore" => (&["lost", "refused"], "active", AuditAction::DeviceRestored),
        _ => return Err(AppError::NotFound),
    };
    let d = reachable(state, actor, id, false).await?;
    // Approval is a second person's decision: nobody approves or restores their own device.
    if let Actor::User(u) = actor
        && u.user_id.0 == d.user_id
    {
        return Err(kairan_domain::policy::Denied::OnSelf.into());
    }
    let by = actor_id(actor);
    let mut tx = state.store.write().await?;
    if !devices::set_status(&mut tx, id, from, to, by.as_deref()).await? {
        return Err(AppError::Conflict("device_state_changed"));
    }
    let ended = if to == "refused" {
        devices::end_sessions(&mut tx, id, "device_refused").await?
    } else {
        0
    };
    let mut e = audit_entry(actor, action);
    e.org_id = Some(d.org_id.clone());
    e.target_id = Some(id.to_owned());
    detail(&mut e, "user", d.user_id.as_str());
    if ended > 0 {
        detail(&mut e, "sessions_ended", ended);
    }
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    if ended > 0 {
        state
            .bus
            .publish(crate::realtime::Event::sessions_ended(&d.user_id));
    }
    Ok(())
}

/// Sets whether a body's new internet devices wait for approval.
pub async fn set_approval(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    approval: bool,
) -> Result<(), AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::ConfigureSignIn, &Resource::Org(&org))?;
    let mut tx = crate::services::write_setting(
        state,
        org_id,
        "devices",
        serde_json::json!({ "approval": approval }),
    )
    .await?;
    let mut e = audit_entry(actor, AuditAction::DevicePolicyChanged);
    e.org_id = Some(org_id.to_owned());
    e.target_id = Some(org_id.to_owned());
    detail(&mut e, "approval", approval);
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(())
}
