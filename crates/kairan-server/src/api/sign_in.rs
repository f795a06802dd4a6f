//! A body's sign-in settings through the API: the sign-in screen, sessions and lockout (I4),
//! the LDAP / Active Directory settings and each ID's sign-in method (I9).

use super::ApiJson;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::services::directory;
use crate::services::sign_in::{self, SignInView};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kairan_domain::directory::DirectoryConfig;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct DirectoryView {
    pub configured: bool,
    /// The settings (`url`, `starttls`, `bind_dn`, `user_base`, `user_filter`, `group_base`,
    /// `ca_pem`, `timeout_seconds`, `role_groups`, `department_groups`); see
    /// docs/sign-in.md.
    #[schema(value_type = Option<Object>)]
    pub config: Option<DirectoryConfig>,
}

#[utoipa::path(get, path = "/api/v1/orgs/{org}/directory-sign-in", params(("org" = String, Path)),
    responses((status = 200, body = DirectoryView), (status = 403, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
) -> Result<Json<DirectoryView>, AppError> {
    let config = directory::config_for_admin(&state, &me.actor(), &org).await?;
    Ok(Json(DirectoryView {
        configured: config.is_some(),
        config,
    }))
}

/// Sets the body's directory settings. Plain LDAP without StartTLS is refused.
#[utoipa::path(put, path = "/api/v1/orgs/{org}/directory-sign-in", params(("org" = String, Path)),
    request_body(content = Object, description = "the settings; see docs/sign-in.md"),
    responses((status = 200, body = DirectoryView), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
    ApiJson(config): ApiJson<DirectoryConfig>,
) -> Result<Json<DirectoryView>, AppError> {
    directory::configure(&state, &me.actor(), &org, Some(config.clone())).await?;
    Ok(Json(DirectoryView {
        configured: true,
        config: Some(config),
    }))
}

/// Removes the body's directory settings: directory IDs can no longer sign in until they are
/// set again or the IDs are moved back to local passwords.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/directory-sign-in", params(("org" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
) -> Result<StatusCode, AppError> {
    directory::configure(&state, &me.actor(), &org, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct MethodRequest {
    /// `local` (Kairan's own password) or `directory`.
    pub method: String,
}

#[derive(Serialize, ToSchema)]
pub struct MethodAnswer {
    pub method: String,
    /// Back to `local`: the temporary password, shown once.
    pub temporary_password: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/users/{user}/sign-in-method", params(("user" = String, Path)),
    request_body = MethodRequest,
    responses((status = 200, body = MethodAnswer), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn set_method(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(user): Path<String>,
    ApiJson(req): ApiJson<MethodRequest>,
) -> Result<Json<MethodAnswer>, AppError> {
    let temporary_password = directory::set_method(&state, &me.actor(), &user, &req.method).await?;
    Ok(Json(MethodAnswer {
        method: req.method,
        temporary_password,
    }))
}

#[utoipa::path(get, path = "/api/v1/orgs/{org}/sign-in-settings", params(("org" = String, Path)),
    responses((status = 200, body = SignInView), (status = 403, body = crate::error::ErrorBody)))]
pub async fn get_settings(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
) -> Result<Json<SignInView>, AppError> {
    Ok(Json(sign_in::view(&state, &me.actor(), &org).await?))
}

/// Sets the body's sign-in message, idle limit (applied to open sessions at once), lockout
/// of general staff and whether the previous sign-in is shown.
#[utoipa::path(put, path = "/api/v1/orgs/{org}/sign-in-settings", params(("org" = String, Path)),
    request_body = SignInView,
    responses((status = 200, body = SignInView), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
    ApiJson(req): ApiJson<SignInView>,
) -> Result<Json<SignInView>, AppError> {
    Ok(Json(sign_in::save(&state, &me.actor(), &org, req).await?))
}

/// Whether the body is in maintenance mode (G10), with its note.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/maintenance", params(("org" = String, Path)),
    responses((status = 200, body = crate::services::maintenance::Maintenance), (status = 403, body = crate::error::ErrorBody)))]
pub async fn get_maintenance(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
) -> Result<Json<crate::services::maintenance::Maintenance>, AppError> {
    let o = kairan_domain::OrgId(org.clone());
    kairan_domain::policy::check(
        &me.actor(),
        kairan_domain::policy::Action::ConfigureSignIn,
        &kairan_domain::policy::Resource::Org(&o),
    )?;
    Ok(Json(
        crate::services::maintenance::of_org(&state, &org).await?,
    ))
}

/// Turns maintenance mode on or off: on, only the body's administrators can sign in, and
/// everyone else's sessions end at once; they see `maintenance` (503) with the note.
#[utoipa::path(put, path = "/api/v1/orgs/{org}/maintenance", params(("org" = String, Path)),
    request_body = crate::services::maintenance::Maintenance,
    responses((status = 200, body = crate::services::maintenance::Maintenance), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_maintenance(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
    ApiJson(req): ApiJson<crate::services::maintenance::Maintenance>,
) -> Result<Json<crate::services::maintenance::Maintenance>, AppError> {
    Ok(Json(
        crate::services::maintenance::set(&state, &me.actor(), &org, req).await?,
    ))
}
