//! The caller's own account: profile, password, sessions.

use super::ApiJson;
use crate::auth::{Authenticated, CurrentUser};
use crate::error::AppError;
use crate::services::{admin, identity};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: String,
    pub login_id: String,
    pub display_name: String,
    pub kana: String,
    pub title: Option<String>,
    pub org_id: String,
    pub org_code: String,
    pub org_name: String,
    pub department_id: Option<String>,
    pub roles: Vec<String>,
    /// `local` (Kairan's own password) or `directory` (the body's LDAP / Active Directory).
    pub sign_in_method: String,
    pub must_change_password: bool,
    /// The sign-in before this session's (µs since the epoch), shown to the user (I4).
    pub previous_sign_in_at: Option<i64>,
    /// Failed sign-in attempts between that sign-in and this one (I4).
    pub failed_attempts_since: i64,
}

#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(State(state): State<AppState>, me: Authenticated) -> Result<Json<Me>, AppError> {
    let org = admin::org_by_id(&state, &me.user.org_id).await?;
    Ok(Json(Me {
        id: me.user.id.clone(),
        login_id: me.user.login_id.clone(),
        display_name: me.user.display_name.clone(),
        kana: me.user.kana.clone(),
        title: me.user.title.clone(),
        org_id: org.id,
        org_code: org.code,
        org_name: org.name,
        department_id: me.user.department_id.clone(),
        roles: me.roles.iter().map(|r| r.code().to_owned()).collect(),
        sign_in_method: me.user.auth_source.clone(),
        must_change_password: me.user.must_change_password != 0,
        previous_sign_in_at: me.session.prev_sign_in_at,
        failed_attempts_since: me.session.failed_before,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
    /// Defaults to `new_password` for API clients that confirm on their side.
    #[serde(default)]
    pub confirm_password: Option<String>,
}

/// Changes the caller's password. Allowed while a change is pending.
#[utoipa::path(post, path = "/api/v1/me/password", request_body = ChangePassword,
    responses((status = 204), (status = 422, body = crate::error::ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    me: Authenticated,
    ApiJson(req): ApiJson<ChangePassword>,
) -> Result<StatusCode, AppError> {
    let confirm = req.confirm_password.as_deref().unwrap_or(&req.new_password);
    identity::change_password(
        &state,
        &me,
        &req.current_password,
        &req.new_password,
        confirm,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    pub id: String,
    pub current: bool,
    pub device: Option<String>,
    pub ip: Option<String>,
    pub started_at: i64,
    pub last_seen_at: i64,
}

#[utoipa::path(get, path = "/api/v1/me/sessions", responses((status = 200, body = [SessionView])))]
pub async fn sessions(
    State(state): State<AppState>,
    me: CurrentUser,
) -> Result<Json<Vec<SessionView>>, AppError> {
    let list = identity::own_sessions(&state, &me).await?;
    Ok(Json(
        list.into_iter()
            .map(|s| SessionView {
                current: s.id == me.session.id,
                id: s.id,
                device: s.user_agent,
                ip: s.ip,
                started_at: s.created_at,
                last_seen_at: s.last_seen_at,
            })
            .collect(),
    ))
}

/// Signs out one of the caller's sessions (for example a device left signed in).
#[utoipa::path(delete, path = "/api/v1/me/sessions/{session}", params(("session" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn end_session(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(session): Path<String>,
) -> Result<StatusCode, AppError> {
    identity::end_own_session(&state, &me, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}
