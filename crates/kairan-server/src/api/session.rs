//! Signing in and out through the API.

use super::ApiJson;
use crate::auth::{AnySession, CSRF_COOKIE, Client, SESSION_COOKIE, cookie, set_cookie};
use crate::error::AppError;
use crate::services::identity;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::SET_COOKIE;
use axum::response::{AppendHeaders, IntoResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct CsrfToken {
    /// Send this value as the `X-CSRF-Token` header on unsafe requests.
    pub csrf_token: String,
    /// A fresh challenge for the device key (five minutes, single use): an internet device
    /// signs `kairan-device-v1\n{challenge}\n{login_id}` and sends `device_proof` with its
    /// sign-in (see docs/mfa.md).
    pub device_challenge: String,
}

/// The caller's CSRF token and a device-key challenge. A client without a token gets a fresh
/// one and its cookie.
#[utoipa::path(get, path = "/api/v1/csrf", responses((status = 200, body = CsrfToken)))]
pub async fn csrf(State(state): State<AppState>, headers: HeaderMap) -> Json<CsrfToken> {
    // The CSRF guard has already minted a token for a first-time caller.
    Json(CsrfToken {
        csrf_token: cookie(&headers, CSRF_COOKIE).unwrap_or_default(),
        device_challenge: crate::services::devices::mint_challenge(&state),
    })
}

/// A device key's answer to a challenge (base64url, no padding).
#[derive(Deserialize, ToSchema)]
pub struct DeviceProofBody {
    /// The public key: the uncompressed P-256 point (65 bytes).
    pub public_key: String,
    pub challenge: String,
    /// ECDSA P-256 / SHA-256 as r ‖ s (64 bytes).
    pub signature: String,
}

impl From<DeviceProofBody> for kairan_domain::device_key::DeviceProof {
    fn from(b: DeviceProofBody) -> Self {
        kairan_domain::device_key::DeviceProof {
            public_key: b.public_key,
            challenge: b.challenge,
            signature: b.signature,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct SignInRequest {
    pub login_id: String,
    pub password: String,
    /// On an internet device: the device key's proof (required once the device has a key).
    pub device_proof: Option<DeviceProofBody>,
}

#[derive(Serialize, ToSchema)]
pub struct SignInResponse {
    pub user_id: String,
    /// When true, only `POST /api/v1/me/password` and sign-out work until the password changes.
    pub must_change_password: bool,
    /// The CSRF token bound to the new session.
    pub csrf_token: String,
    /// What the session still owes before it opens anything: `none`; `verify` (send the
    /// code of the user's authenticator app or a recovery code to `POST /api/v1/session/mfa`);
    /// or `enrol` (the policy requires a second factor: set one up through
    /// `POST /api/v1/me/mfa/totp` and `…/totp/confirm`).
    pub mfa: String,
}

/// Signs in with a login ID and password. The same answer, after the same time, whether or not
/// the ID exists.
#[utoipa::path(post, path = "/api/v1/session", request_body = SignInRequest,
    responses((status = 200, body = SignInResponse), (status = 401, body = crate::error::ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    mut client: Client,
    ApiJson(req): ApiJson<SignInRequest>,
) -> Result<impl IntoResponse, AppError> {
    client.device_proof = req.device_proof.map(Into::into);
    if req.password.len() > 1024 || req.login_id.len() > 256 {
        return Err(AppError::SignInFailed);
    }
    let s = identity::sign_in(&state, &req.login_id, &req.password, &client).await?;
    let cookies = session_cookies(&state, &s.token, &s.csrf_token);
    Ok((
        AppendHeaders(cookies),
        Json(SignInResponse {
            user_id: s.user_id,
            must_change_password: s.must_change_password,
            csrf_token: s.csrf_token,
            mfa: s.mfa.to_owned(),
        }),
    ))
}

pub fn session_cookies(
    state: &AppState,
    session: &str,
    csrf: &str,
) -> Vec<(axum::http::HeaderName, axum::http::HeaderValue)> {
    vec![
        (
            SET_COOKIE,
            set_cookie(SESSION_COOKIE, session, None, state.secure_cookies),
        ),
        (
            SET_COOKIE,
            set_cookie(CSRF_COOKIE, csrf, None, state.secure_cookies),
        ),
    ]
}

pub fn clear_session_cookie(state: &AppState) -> (axum::http::HeaderName, axum::http::HeaderValue) {
    (
        SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", Some(0), state.secure_cookies),
    )
}

/// Signs out of this session.
#[utoipa::path(delete, path = "/api/v1/session", responses((status = 204)))]
pub async fn sign_out(
    State(state): State<AppState>,
    AnySession(me): AnySession,
) -> Result<impl IntoResponse, AppError> {
    identity::sign_out(&state, &me).await?;
    Ok((
        AppendHeaders([clear_session_cookie(&state)]),
        axum::http::StatusCode::NO_CONTENT,
    ))
}
