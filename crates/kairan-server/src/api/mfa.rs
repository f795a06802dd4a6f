//! The second factor through the API (I3): the second step of a sign-in, enrolling an
//! authenticator app, recovery codes, turning it off, an administrator's reset and the
//! body's policy. The service decides everything; see `services::mfa`.

use super::ApiJson;
use crate::auth::{AnySession, CurrentUser};
use crate::error::AppError;
use crate::services::mfa::{self, Enrolled, Status, TotpSetup, Verified};
use crate::services::passkeys;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use kairan_domain::mfa::MfaPolicy;
use kairan_domain::{DeviceClass, DomainError, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct CodeRequest {
    /// Six digits from the authenticator app, or one recovery code (`ABCD-EFGH-JKLM-NPQR`).
    pub code: String,
}

/// The second step of a sign-in whose answer had `mfa: "verify"`.
#[utoipa::path(post, path = "/api/v1/session/mfa", request_body = CodeRequest,
    responses((status = 200, body = Verified), (status = 401, body = crate::error::ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    AnySession(me): AnySession,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<Json<Verified>, AppError> {
    if req.code.len() > 64 {
        return Err(AppError::MfaFailed);
    }
    Ok(Json(mfa::verify(&state, &me, &req.code).await?))
}

/// The caller's second factor.
#[utoipa::path(get, path = "/api/v1/me/mfa", responses((status = 200, body = Status)))]
pub async fn status(
    State(state): State<AppState>,
    me: CurrentUser,
) -> Result<Json<Status>, AppError> {
    Ok(Json(mfa::status(&state, &me).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordRequest {
    /// The caller's password: needed to replace a second factor that is set up, to issue new
    /// recovery codes and to turn the second factor off.
    #[serde(default)]
    pub password: Option<String>,
}

/// Starts setting up an authenticator app: answers the secret and the `otpauth://` URI to
/// show as a QR code. Allowed during the enrolment step of a sign-in.
#[utoipa::path(post, path = "/api/v1/me/mfa/totp", request_body = PasswordRequest,
    responses((status = 200, body = TotpSetup), (status = 422, body = crate::error::ErrorBody)))]
pub async fn start_totp(
    State(state): State<AppState>,
    AnySession(me): AnySession,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> Result<Json<TotpSetup>, AppError> {
    Ok(Json(
        mfa::start_totp(&state, &me, req.password.as_deref()).await?,
    ))
}

/// Finishes the set-up with the app's first code. The first set-up answers ten recovery
/// codes, shown this once.
#[utoipa::path(post, path = "/api/v1/me/mfa/totp/confirm", request_body = CodeRequest,
    responses((status = 200, body = Enrolled), (status = 401, body = crate::error::ErrorBody)))]
pub async fn confirm_totp(
    State(state): State<AppState>,
    AnySession(me): AnySession,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<Json<Enrolled>, AppError> {
    if req.code.len() > 64 {
        return Err(AppError::MfaFailed);
    }
    Ok(Json(mfa::confirm_totp(&state, &me, &req.code).await?))
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// Issues ten new recovery codes; the old ones stop working.
#[utoipa::path(post, path = "/api/v1/me/mfa/recovery-codes", request_body = PasswordRequest,
    responses((status = 200, body = RecoveryCodes), (status = 422, body = crate::error::ErrorBody)))]
pub async fn recovery_codes(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> Result<Json<RecoveryCodes>, AppError> {
    let password = req.password.unwrap_or_default();
    Ok(Json(RecoveryCodes {
        recovery_codes: mfa::regenerate_recovery_codes(&state, &me, &password).await?,
    }))
}

/// Turns the second factor off (refused when the policy requires it on every device).
#[utoipa::path(post, path = "/api/v1/me/mfa/remove", request_body = PasswordRequest,
    responses((status = 204), (status = 409, body = crate::error::ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> Result<StatusCode, AppError> {
    mfa::remove(&state, &me, &req.password.unwrap_or_default()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct ResetRequest {
    /// Why (10–500 characters): kept with the notice to the user, its hash in the audit log.
    pub reason: String,
}

/// An administrator removes a user's second factor; every session of the user ends.
#[utoipa::path(post, path = "/api/v1/users/{user}/reset-mfa", params(("user" = String, Path)),
    request_body = ResetRequest,
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn reset(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(user): Path<String>,
    ApiJson(req): ApiJson<ResetRequest>,
) -> Result<StatusCode, AppError> {
    mfa::reset(&state, &me.actor(), &user, &req.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who must use a second factor in a body. Privileged IDs always must, whatever is set.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PolicyBody {
    /// Role codes whose holders must use it on every device.
    pub roles: Vec<String>,
    /// Device classes (`lgwan_pc`, `internet_device`) on which everyone must use it.
    pub devices: Vec<String>,
}

impl From<MfaPolicy> for PolicyBody {
    fn from(p: MfaPolicy) -> Self {
        PolicyBody {
            roles: p.roles.iter().map(|r| r.code().to_owned()).collect(),
            devices: p.devices.iter().map(|d| d.code().to_owned()).collect(),
        }
    }
}

impl PolicyBody {
    fn parse(self) -> Result<MfaPolicy, AppError> {
        let roles = self
            .roles
            .iter()
            .map(|r| Role::parse(r).ok_or(r))
            .collect::<Result<Vec<_>, _>>();
        let devices = self
            .devices
            .iter()
            .map(|d| DeviceClass::parse(d).ok_or(d))
            .collect::<Result<Vec<_>, _>>();
        match (roles, devices) {
            (Ok(roles), Ok(devices)) => Ok(MfaPolicy { roles, devices }),
            (Err(bad), _) | (_, Err(bad)) => Err(DomainError::invalid(
                "mfa",
                "2要素認証の方針",
                format!("「{bad}」は役割または端末の種類として認識できません。"),
                format!("\"{bad}\" is not a known role or device class."),
            )
            .into()),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/orgs/{org}/mfa-policy", params(("org" = String, Path)),
    responses((status = 200, body = PolicyBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn get_policy(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
) -> Result<Json<PolicyBody>, AppError> {
    Ok(Json(
        mfa::policy_for_admin(&state, &me.actor(), &org)
            .await?
            .into(),
    ))
}

#[utoipa::path(put, path = "/api/v1/orgs/{org}/mfa-policy", params(("org" = String, Path)),
    request_body = PolicyBody,
    responses((status = 200, body = PolicyBody), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_policy(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
    ApiJson(req): ApiJson<PolicyBody>,
) -> Result<Json<PolicyBody>, AppError> {
    let policy = req.parse()?;
    Ok(Json(
        mfa::set_policy(&state, &me.actor(), &org, policy)
            .await?
            .into(),
    ))
}

/// Options for `navigator.credentials.create()`: add a passkey or security key. Allowed during
/// the enrolment step of a sign-in; otherwise, when a second factor is set up, the password is
/// needed. Binary fields are base64url.
#[utoipa::path(post, path = "/api/v1/me/passkeys/options", request_body = PasswordRequest,
    responses((status = 200, body = Object), (status = 409, body = crate::error::ErrorBody)))]
pub async fn passkey_options(
    State(state): State<AppState>,
    AnySession(me): AnySession,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(
        passkeys::registration_options(&state, &me, &headers, req.password.as_deref()).await?,
    ))
}

/// Registers the key the browser created; the first second factor answers recovery codes.
#[utoipa::path(post, path = "/api/v1/me/passkeys", request_body = passkeys::Registration,
    responses((status = 200, body = Enrolled), (status = 401, body = crate::error::ErrorBody)))]
pub async fn passkey_register(
    State(state): State<AppState>,
    AnySession(me): AnySession,
    headers: HeaderMap,
    ApiJson(req): ApiJson<passkeys::Registration>,
) -> Result<Json<Enrolled>, AppError> {
    Ok(Json(passkeys::register(&state, &me, &headers, &req).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NameRequest {
    pub name: String,
}

/// Renames one of the caller's passkeys.
#[utoipa::path(patch, path = "/api/v1/me/passkeys/{id}", params(("id" = String, Path)),
    request_body = NameRequest, responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn passkey_rename(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<NameRequest>,
) -> Result<StatusCode, AppError> {
    passkeys::rename(&state, &me, &id, &req.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes one of the caller's passkeys (with the password).
#[utoipa::path(post, path = "/api/v1/me/passkeys/{id}/remove", params(("id" = String, Path)),
    request_body = PasswordRequest, responses((status = 204), (status = 409, body = crate::error::ErrorBody)))]
pub async fn passkey_remove(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> Result<StatusCode, AppError> {
    passkeys::remove(&state, &me, &id, &req.password.unwrap_or_default()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Options for `navigator.credentials.get()` at the second step of a sign-in.
#[utoipa::path(post, path = "/api/v1/session/passkey/options",
    responses((status = 200, body = Object), (status = 409, body = crate::error::ErrorBody)))]
pub async fn passkey_sign_in_options(
    State(state): State<AppState>,
    AnySession(me): AnySession,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(
        passkeys::sign_in_options(&state, &me, &headers).await?,
    ))
}

/// The second step of a sign-in with a passkey.
#[utoipa::path(post, path = "/api/v1/session/passkey", request_body = passkeys::Assertion,
    responses((status = 200, body = Verified), (status = 401, body = crate::error::ErrorBody)))]
pub async fn passkey_sign_in(
    State(state): State<AppState>,
    AnySession(me): AnySession,
    headers: HeaderMap,
    ApiJson(req): ApiJson<passkeys::Assertion>,
) -> Result<Json<Verified>, AppError> {
    Ok(Json(passkeys::sign_in(&state, &me, &headers, &req).await?))
}
