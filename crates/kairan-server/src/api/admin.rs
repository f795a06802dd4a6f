//! Administration, directory and audit reading. Every access decision is the service's call to
//! `policy::check`; see `docs/authorization.md`.

use super::ApiJson;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::services::admin::{self, DirectoryEntry, NewUserInput, UserView};
use crate::services::audit as audit_service;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use kairan_store::orgs::Department;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct DepartmentView {
    pub id: String,
    pub parent_id: Option<String>,
    pub name: String,
}

impl From<Department> for DepartmentView {
    fn from(d: Department) -> Self {
        DepartmentView {
            id: d.id,
            parent_id: d.parent_id,
            name: d.name,
        }
    }
}

/// Active staff of a body, for every member of that body.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/directory", params(("org" = String, Path)),
    responses((status = 200, body = [DirectoryEntry]), (status = 403, body = crate::error::ErrorBody)))]
pub async fn directory(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
) -> Result<Json<Vec<DirectoryEntry>>, AppError> {
    Ok(Json(admin::directory(&state, &me.actor(), &org).await?))
}

#[utoipa::path(get, path = "/api/v1/orgs/{org}/departments", params(("org" = String, Path)),
    responses((status = 200, body = [DepartmentView])))]
pub async fn departments(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
) -> Result<Json<Vec<DepartmentView>>, AppError> {
    let list = admin::departments(&state, &me.actor(), &org).await?;
    Ok(Json(list.into_iter().map(DepartmentView::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct NewDepartment {
    pub name: String,
    #[serde(default)]
    pub parent_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/orgs/{org}/departments", params(("org" = String, Path)), request_body = NewDepartment,
    responses((status = 201, body = DepartmentView), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create_department(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
    ApiJson(req): ApiJson<NewDepartment>,
) -> Result<(StatusCode, Json<DepartmentView>), AppError> {
    let d = admin::create_department(
        &state,
        &me.actor(),
        &org,
        &req.name,
        req.parent_id.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(d.into())))
}

#[utoipa::path(get, path = "/api/v1/orgs/{org}/users", params(("org" = String, Path)),
    responses((status = 200, body = [UserView]), (status = 403, body = crate::error::ErrorBody)))]
pub async fn users(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
) -> Result<Json<Vec<UserView>>, AppError> {
    Ok(Json(admin::list_users(&state, &me.actor(), &org).await?))
}

#[derive(Serialize, ToSchema)]
pub struct IssuedView {
    pub user_id: String,
    /// Shown once. Hand it to the person; they must change it at first sign-in.
    pub temporary_password: String,
}

#[utoipa::path(post, path = "/api/v1/orgs/{org}/users", params(("org" = String, Path)), request_body = NewUserInput,
    responses((status = 201, body = IssuedView), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
    ApiJson(req): ApiJson<NewUserInput>,
) -> Result<(StatusCode, Json<IssuedView>), AppError> {
    let issued = admin::create_user(&state, &me.actor(), &org, &req).await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedView {
            user_id: issued.user_id,
            temporary_password: issued.temporary_password,
        }),
    ))
}

#[utoipa::path(post, path = "/api/v1/users/{user}/suspend", params(("user" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody)))]
pub async fn suspend(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(user): Path<String>,
) -> Result<StatusCode, AppError> {
    admin::set_active(&state, &me.actor(), &user, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/users/{user}/reactivate", params(("user" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody)))]
pub async fn reactivate(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(user): Path<String>,
) -> Result<StatusCode, AppError> {
    admin::set_active(&state, &me.actor(), &user, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct TemporaryPassword {
    pub temporary_password: String,
}

#[utoipa::path(post, path = "/api/v1/users/{user}/reset-password", params(("user" = String, Path)),
    responses((status = 200, body = TemporaryPassword), (status = 403, body = crate::error::ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(user): Path<String>,
) -> Result<Json<TemporaryPassword>, AppError> {
    let temporary_password = admin::reset_password(&state, &me.actor(), &user).await?;
    Ok(Json(TemporaryPassword { temporary_password }))
}

#[derive(Deserialize, ToSchema)]
pub struct RoleRequest {
    /// A role code: staff, section_head, admin, security_officer, csirt, auditor.
    pub role: String,
}

#[utoipa::path(post, path = "/api/v1/users/{user}/roles", params(("user" = String, Path)), request_body = RoleRequest,
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn grant_role(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(user): Path<String>,
    ApiJson(req): ApiJson<RoleRequest>,
) -> Result<StatusCode, AppError> {
    admin::grant_role(&state, &me.actor(), &user, &req.role).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/users/{user}/roles/{role}", params(("user" = String, Path), ("role" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody)))]
pub async fn revoke_role(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((user, role)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    admin::revoke_role(&state, &me.actor(), &user, &role).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AuditParams {
    /// Show records before this sequence number (for paging back).
    pub before: Option<i64>,
    /// Filter by action code, e.g. `auth.sign_in_failed`.
    pub action: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditView {
    pub seq: i64,
    pub at_us: i64,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub details: serde_json::Value,
    pub hash: String,
}

#[utoipa::path(get, path = "/api/v1/orgs/{org}/audit", params(("org" = String, Path), AuditParams),
    responses((status = 200, body = [AuditView]), (status = 403, body = crate::error::ErrorBody)))]
pub async fn audit_log(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
    Query(p): Query<AuditParams>,
) -> Result<Json<Vec<AuditView>>, AppError> {
    let q = kairan_store::audit::Query {
        org_id: org,
        before_seq: p.before,
        action: p.action.filter(|a| !a.is_empty()),
        actor_id: None,
        limit: p.limit.unwrap_or(100).clamp(1, 500),
    };
    let rows = audit_service::list(&state, &me.actor(), &q).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| AuditView {
                seq: r.seq,
                at_us: r.at_us,
                actor_id: r.actor_id,
                action: r.action,
                target_id: r.target_id,
                ip: r.ip,
                details: serde_json::from_str(&r.details).unwrap_or_default(),
                hash: r.hash,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct PrivilegedView {
    pub user_id: String,
    pub login_id: String,
    pub display_name: String,
    pub status: String,
    pub role: String,
    pub granted_at: i64,
    pub granted_by: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/orgs/{org}/privileged", params(("org" = String, Path)),
    responses((status = 200, body = [PrivilegedView]), (status = 403, body = crate::error::ErrorBody)))]
pub async fn privileged(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
) -> Result<Json<Vec<PrivilegedView>>, AppError> {
    let list = admin::privileged(&state, &me.actor(), &org).await?;
    Ok(Json(
        list.into_iter()
            .map(|g| PrivilegedView {
                user_id: g.user_id,
                login_id: g.login_id,
                display_name: g.display_name,
                status: g.status,
                role: g.role,
                granted_at: g.granted_at,
                granted_by: g.granted_by_login,
            })
            .collect(),
    ))
}
