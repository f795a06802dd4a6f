//! Registered internet devices through the API (I5): one's own list, names and "lost"; the
//! administrator's list, approval, refusal, restoration and the body's approval rule.

use super::ApiJson;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::services::devices::{self, DeviceView};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The caller's registered internet devices.
#[utoipa::path(get, path = "/api/v1/me/devices", responses((status = 200, body = [DeviceView])))]
pub async fn own(
    State(state): State<AppState>,
    me: CurrentUser,
) -> Result<Json<Vec<DeviceView>>, AppError> {
    Ok(Json(devices::own(&state, &me).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NameRequest {
    pub name: String,
}

/// Names one of the caller's devices.
#[utoipa::path(patch, path = "/api/v1/me/devices/{device}", params(("device" = String, Path)),
    request_body = NameRequest, responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn rename(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(device): Path<String>,
    ApiJson(req): ApiJson<NameRequest>,
) -> Result<StatusCode, AppError> {
    devices::rename(&state, &me, &device, &req.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Lost {
    pub sessions_ended: u64,
}

/// "This device was lost": by its owner or an administrator of its body. Every session of the
/// device ends at once and it stays blocked until restored.
#[utoipa::path(post, path = "/api/v1/devices/{device}/lost", params(("device" = String, Path)),
    responses((status = 200, body = Lost), (status = 404, body = crate::error::ErrorBody)))]
pub async fn lost(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(device): Path<String>,
) -> Result<Json<Lost>, AppError> {
    let sessions_ended = devices::report_lost(&state, &me.actor(), &device).await?;
    Ok(Json(Lost { sessions_ended }))
}

/// The body's devices, those waiting for approval first.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/devices", params(("org" = String, Path)),
    responses((status = 200, body = [DeviceView]), (status = 403, body = crate::error::ErrorBody)))]
pub async fn of_org(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
) -> Result<Json<Vec<DeviceView>>, AppError> {
    Ok(Json(devices::of_org(&state, &me.actor(), &org).await?))
}

/// An administrator approves a waiting device, refuses one, or restores a lost one
/// (`decision`: `approve`, `refuse`, `restore`).
#[utoipa::path(post, path = "/api/v1/devices/{device}/{decision}",
    params(("device" = String, Path), ("decision" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((device, decision)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    devices::decide(&state, &me.actor(), &device, &decision).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DevicePolicy {
    /// Whether a newly registered internet device waits for an administrator's approval.
    pub approval: bool,
}

#[utoipa::path(put, path = "/api/v1/orgs/{org}/device-policy", params(("org" = String, Path)),
    request_body = DevicePolicy, responses((status = 200, body = DevicePolicy), (status = 403, body = crate::error::ErrorBody)))]
pub async fn put_policy(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
    ApiJson(req): ApiJson<DevicePolicy>,
) -> Result<Json<DevicePolicy>, AppError> {
    devices::set_approval(&state, &me.actor(), &org, req.approval).await?;
    Ok(Json(req))
}
