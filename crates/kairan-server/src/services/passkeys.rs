//! Passkeys and security keys as a second factor (WebAuthn, I3): several per user, named and
//! removable. The browser's ceremonies are checked by `kairan_domain::webauthn`; this service
//! issues the challenges (one per session and purpose, used once, five minutes), keeps the
//! keys, and shares the sign-in step's success and failure paths with the app codes in
//! `services::mfa`.

use crate::auth::Authenticated;
use crate::error::AppError;
use crate::services::{audit_entry, detail, mfa as mfa_service};
use crate::state::AppState;
use axum::http::HeaderMap;
use kairan_domain::audit::AuditAction;
use kairan_domain::webauthn::{self, Expected, WebauthnError};
use kairan_store::{audit, mfa};
use rand::RngCore;
use serde_json::{Value, json};

/// How long a ceremony may take, from the options to the answer.
const CHALLENGE_SECONDS: i64 = 300;

/// Which site the keys belong to: the configured relying party, or, when none is configured,
/// a page served as `localhost` (the demo, a developer's machine).
pub struct RelyingParty {
    pub id: String,
    pub origins: Vec<String>,
}

pub fn relying_party(state: &AppState, headers: &HeaderMap) -> Result<RelyingParty, AppError> {
    let c = &state.config.webauthn;
    if let Some(id) = &c.rp_id {
        return Ok(RelyingParty {
            id: id.clone(),
            origins: c.origins.clone(),
        });
    }
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let name = host.rsplit_once(':').map_or(host, |(n, _)| n);
    if name != "localhost" {
        return Err(AppError::Conflict("passkeys_not_configured"));
    }
    let scheme = if state.secure_cookies {
        "https"
    } else {
        "http"
    };
    Ok(RelyingParty {
        id: "localhost".into(),
        origins: vec![format!("{scheme}://{host}")],
    })
}

async fn new_challenge(
    state: &AppState,
    me: &Authenticated,
    purpose: &str,
) -> Result<Vec<u8>, AppError> {
    let mut challenge = vec![0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut challenge);
    let mut tx = state.store.write().await?;
    mfa::put_challenge(&mut tx, &me.session.id, purpose, &hex::encode(&challenge)).await?;
    tx.commit().await?;
    Ok(challenge)
}

/// Takes this session's challenge for `purpose`: gone, used or expired is `challenge`.
async fn take_challenge(
    tx: &mut kairan_store::WriteTx,
    me: &Authenticated,
    purpose: &str,
) -> Result<Result<Vec<u8>, WebauthnError>, AppError> {
    let found = mfa::take_challenge(tx, &me.session.id, purpose).await?;
    let now = kairan_store::now_us();
    Ok(match found {
        Some((hex_challenge, at)) if now - at <= CHALLENGE_SECONDS * 1_000_000 => {
            hex::decode(hex_challenge).map_err(|_| WebauthnError::Challenge)
        }
        _ => Err(WebauthnError::Challenge),
    })
}

fn name_of(raw: &str) -> Result<String, AppError> {
    crate::services::short_name(raw, "パスキーの名前", "執務室のパソコン", "office PC")
}

/// The options for `navigator.credentials.create()`. Adding a key when a second factor is
/// already set up takes the password, as replacing the app does.
pub async fn registration_options(
    state: &AppState,
    me: &Authenticated,
    headers: &HeaderMap,
    password: Option<&str>,
) -> Result<Value, AppError> {
    if me.session.mfa_state == "verify" {
        return Err(AppError::MfaRequired);
    }
    let rp = relying_party(state, headers)?;
    let (has_factor, existing) = {
        let mut conn = state.store.read().await?;
        (
            mfa::has_any_factor(&mut conn, &me.user.id).await?,
            mfa::passkeys(&mut conn, &me.user.id).await?,
        )
    };
    if has_factor && me.session.mfa_state == "none" {
        mfa_service::confirm_password(state, me, password.unwrap_or("")).await?;
    }
    let challenge = new_challenge(state, me, "register").await?;
    let org = crate::services::admin::org_by_id(state, &me.user.org_id).await?;
    Ok(json!({
        "challenge": webauthn::b64url_encode(&challenge),
        "rp": { "id": rp.id, "name": format!("Kairan {}", org.name) },
        "user": {
            "id": webauthn::b64url_encode(me.user.id.as_bytes()),
            "name": me.user.login_id,
            "displayName": me.user.display_name,
        },
        "pubKeyCredParams": [{ "type": "public-key", "alg": webauthn::ES256 }],
        "timeout": CHALLENGE_SECONDS * 1000,
        "attestation": "none",
        "authenticatorSelection": { "residentKey": "preferred", "userVerification": "preferred" },
        "excludeCredentials": existing
            .iter()
            .map(|p| json!({ "type": "public-key", "id": p.credential_id }))
            .collect::<Vec<_>>(),
    }))
}

/// What the browser answers to a registration, base64url-encoded.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct Registration {
    pub name: String,
    pub client_data_json: String,
    pub attestation_object: String,
}

/// A passkey as its owner sees it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// Checks and stores a new key. The first second factor of a user also answers ten recovery
/// codes, and ends the session's enrolment step.
pub async fn register(
    state: &AppState,
    me: &Authenticated,
    headers: &HeaderMap,
    r: &Registration,
) -> Result<mfa_service::Enrolled, AppError> {
    if me.session.mfa_state == "verify" {
        return Err(AppError::MfaRequired);
    }
    let name = name_of(&r.name)?;
    let rp = relying_party(state, headers)?;
    let mut tx = state.store.write().await?;
    let checked = match take_challenge(&mut tx, me, "register").await? {
        Err(e) => Err(e),
        Ok(challenge) => check_registration(&challenge, r, &rp),
    };
    let cred = match checked {
        Ok(c) => c,
        Err(e) => {
            let mut f = audit_entry(&me.actor(), AuditAction::MfaFailed);
            f.target_id = Some(me.user.id.clone());
            f.ip = me.client.ip.clone();
            detail(&mut f, "method", "passkey");
            detail(&mut f, "stage", "enrolment");
            detail(&mut f, "reason", e.code());
            audit::append(&mut tx, f).await?;
            tx.commit().await?;
            return Err(AppError::Passkey(e.code()));
        }
    };
    let id = mfa::insert_passkey(
        &mut tx,
        &mfa::NewPasskey {
            user_id: &me.user.id,
            credential_id: &webauthn::b64url_encode(&cred.credential_id),
            public_key: &hex::encode(&cred.public_key),
            sign_count: i64::from(cred.sign_count),
            name: &name,
            aaguid: &hex::encode(cred.aaguid),
        },
    )
    .await
    .map_err(|e| match e {
        kairan_store::StoreError::Conflict => AppError::Conflict("passkey_exists"),
        e => e.into(),
    })?;
    let recovery_codes =
        mfa_service::finish_enrolment(state, &mut tx, me, "passkey", json!({ "passkey": id }))
            .await?;
    tx.commit().await?;
    Ok(mfa_service::Enrolled { recovery_codes })
}

/// The options for `navigator.credentials.get()` at the second step of a sign-in.
pub async fn sign_in_options(
    state: &AppState,
    me: &Authenticated,
    headers: &HeaderMap,
) -> Result<Value, AppError> {
    if me.session.mfa_state != "verify" {
        return Err(AppError::Conflict("mfa_not_pending"));
    }
    let rp = relying_party(state, headers)?;
    let keys = {
        let mut conn = state.store.read().await?;
        mfa::passkeys(&mut conn, &me.user.id).await?
    };
    if keys.is_empty() {
        return Err(AppError::Conflict("no_passkey"));
    }
    let challenge = new_challenge(state, me, "sign_in").await?;
    Ok(json!({
        "challenge": webauthn::b64url_encode(&challenge),
        "rpId": rp.id,
        "timeout": CHALLENGE_SECONDS * 1000,
        "userVerification": "preferred",
        "allowCredentials": keys
            .iter()
            .map(|p| json!({ "type": "public-key", "id": p.credential_id }))
            .collect::<Vec<_>>(),
    }))
}

/// What the browser answers to a sign-in, base64url-encoded.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct Assertion {
    /// The credential's ID (base64url), as `PublicKeyCredential.id`.
    pub id: String,
    pub client_data_json: String,
    pub authenticator_data: String,
    pub signature: String,
}

/// The second step with a passkey. A wrong key, a foreign or expired challenge, a replayed
/// response or a counter that went backwards counts as a failed step.
pub async fn sign_in(
    state: &AppState,
    me: &Authenticated,
    headers: &HeaderMap,
    a: &Assertion,
) -> Result<mfa_service::Verified, AppError> {
    if me.session.mfa_state != "verify" {
        return Err(AppError::Conflict("mfa_not_pending"));
    }
    mfa_service::refuse_if_locked(me)?;
    let rp = relying_party(state, headers)?;
    let keys = {
        let mut conn = state.store.read().await?;
        mfa::passkeys(&mut conn, &me.user.id).await?
    };
    let mut tx = state.store.write().await?;
    let outcome = match take_challenge(&mut tx, me, "sign_in").await? {
        Err(e) => Err(e),
        Ok(challenge) => match check_assertion(&challenge, &keys, a, &rp) {
            Err(e) => Err(e),
            // Compare-and-set on the counter: of two uses of one answer, one passes.
            Ok((key, count)) => {
                if mfa::use_passkey(&mut tx, &key.id, key.sign_count, count).await? {
                    Ok(())
                } else {
                    Err(WebauthnError::Counter)
                }
            }
        },
    };
    match outcome {
        Ok(()) => {
            let left = mfa_service::complete_second_step(&mut tx, me, "passkey").await?;
            tx.commit().await?;
            Ok(mfa_service::Verified {
                method: "passkey",
                recovery_codes_left: left,
            })
        }
        Err(e) => {
            mfa_service::fail_second_step(state, tx, me, "passkey", e.code()).await?;
            Err(AppError::Passkey(e.code()))
        }
    }
}

/// Checks a registration answer against the issued challenge.
fn check_registration(
    challenge: &[u8],
    r: &Registration,
    rp: &RelyingParty,
) -> Result<webauthn::NewCredential, WebauthnError> {
    let bytes = |text: &str| webauthn::b64url_decode(text).ok_or(WebauthnError::Malformed);
    webauthn::verify_registration(
        &bytes(&r.client_data_json)?,
        &bytes(&r.attestation_object)?,
        &Expected {
            challenge,
            origins: &rp.origins,
            rp_id: &rp.id,
        },
    )
}

/// Checks an answer against the issued challenge and the user's keys: the key it used and
/// its new counter.
fn check_assertion<'k>(
    challenge: &[u8],
    keys: &'k [mfa::Passkey],
    a: &Assertion,
    rp: &RelyingParty,
) -> Result<(&'k mfa::Passkey, i64), WebauthnError> {
    let key = keys
        .iter()
        .find(|k| k.credential_id == a.id)
        .ok_or(WebauthnError::Signature)?;
    let bytes = |text: &str| webauthn::b64url_decode(text).ok_or(WebauthnError::Malformed);
    let public_key = hex::decode(&key.public_key).map_err(|_| WebauthnError::Malformed)?;
    let done = webauthn::verify_assertion(
        &bytes(&a.client_data_json)?,
        &bytes(&a.authenticator_data)?,
        &bytes(&a.signature)?,
        &public_key,
        u32::try_from(key.sign_count).unwrap_or(u32::MAX),
        &Expected {
            challenge,
            origins: &rp.origins,
            rp_id: &rp.id,
        },
    )?;
    Ok((key, i64::from(done.sign_count)))
}

pub(crate) fn views(keys: Vec<mfa::Passkey>) -> Vec<PasskeyView> {
    keys.into_iter()
        .map(|p| PasskeyView {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        })
        .collect()
}

pub async fn rename(
    state: &AppState,
    me: &Authenticated,
    id: &str,
    name: &str,
) -> Result<(), AppError> {
    let name = name_of(name)?;
    let mut tx = state.store.write().await?;
    if !mfa::rename_passkey(&mut tx, &me.user.id, id, &name).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// Removes one key (with the password). The last second factor of someone who must use one
/// everywhere stays: they add another first.
pub async fn remove(
    state: &AppState,
    me: &Authenticated,
    id: &str,
    password: &str,
) -> Result<(), AppError> {
    mfa_service::confirm_password(state, me, password).await?;
    let policy = mfa_service::policy_for(state, &me.user.org_id).await?;
    let mut tx = state.store.write().await?;
    // Two removals at once must not each see the other's passkey as the one that is left.
    kairan_store::users::lock(&mut tx, &me.user.id).await?;
    if !mfa::remove_passkey(&mut tx, &me.user.id, id).await? {
        return Err(AppError::NotFound);
    }
    let left = mfa::has_any_factor(tx.conn(), &me.user.id).await?;
    if !left && policy.required_everywhere(&me.roles) {
        // Dropping the transaction undoes the removal.
        return Err(AppError::Conflict("mfa_required_by_policy"));
    }
    let mut forced = false;
    if !left {
        // Codes that stood in for a factor that is gone would come back to life with the
        // next one; and a password chosen under the looser rule must go.
        mfa::remove_recovery_codes(&mut tx, &me.user.id).await?;
        forced =
            mfa_service::require_strong_password(state, &mut tx, &me.user.id, &me.roles).await?;
    }
    let mut e = audit_entry(&me.actor(), AuditAction::MfaRemoved);
    e.target_id = Some(me.user.id.clone());
    e.ip = me.client.ip.clone();
    detail(&mut e, "method", "passkey");
    detail(&mut e, "passkey", id);
    detail(&mut e, "password_change_required", forced);
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(())
}
