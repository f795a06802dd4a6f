//! Applications and approvals through the API (issue 10): a section head applies for a guest,
//! the body's administrators see the queue and decide, each step checked by the approval
//! engine in `kairan-domain`.

use super::ApiJson;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::services::applications::{self, ApplicationView, List, Step};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, ToSchema)]
pub struct NewApplicationRequest {
    /// `guest`.
    pub kind: String,
    /// For a guest: `purpose`, `need`, `guest_name`, `guest_affiliation`, `guest_email`,
    /// `start_date` and `end_date` (`YYYY-MM-DD`, both in one fiscal year, ending by 31 March),
    /// `environment_confirmed: true`.
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
    /// True: submit at once; false: keep it as a draft.
    #[serde(default)]
    pub submit: bool,
}

/// Applies (as a section head). A period past 31 March is refused with
/// `period_crosses_fiscal_year`, naming the last allowed day.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/applications", params(("org" = String, Path)),
    request_body = NewApplicationRequest,
    responses((status = 201, body = ApplicationView), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
    ApiJson(req): ApiJson<NewApplicationRequest>,
) -> Result<(StatusCode, Json<ApplicationView>), AppError> {
    let v =
        applications::create(&state, &me.actor(), &org, &req.kind, req.fields, req.submit).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// `mine` (default): the caller's own applications; `queue`: the body's submitted
    /// applications waiting for an approver (administrators).
    pub view: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/orgs/{org}/applications", params(("org" = String, Path), ListQuery),
    responses((status = 200, body = [ApplicationView]), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<ApplicationView>>, AppError> {
    let which = match q.view.as_deref() {
        None | Some("mine") => List::Mine,
        Some("queue") => List::Queue,
        Some(_) => return Err(AppError::BadRequest("view must be mine or queue".into())),
    };
    Ok(Json(
        applications::list(&state, &me.actor(), &org, which).await?,
    ))
}

/// One application with every step, for its applicant and the body's approvers.
#[utoipa::path(get, path = "/api/v1/applications/{id}", params(("id" = String, Path)),
    responses((status = 200, body = ApplicationView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ApplicationView>, AppError> {
    Ok(Json(applications::get(&state, &me.actor(), &id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct StepRequest {
    /// `submit`, `resubmit`, `edit`, `withdraw` (the applicant); `approve`, `reject`,
    /// `request_changes` (an administrator who is not the applicant).
    pub transition: String,
    /// Required for `reject` and `request_changes`: what to change, or why not.
    pub reason: Option<String>,
    /// The `version` the caller last saw; a step on a changed application is refused with
    /// `application_changed`.
    pub version: i64,
    /// For `edit`: the whole new set of fields.
    #[schema(value_type = Option<Object>)]
    pub fields: Option<serde_json::Value>,
    /// For `approve` on an inter-body group: which of the approver's own staff join (user
    /// IDs, 1–100). Each body's administrator names only their own body's staff.
    pub members: Option<Vec<String>>,
}

/// Takes a step. An applicant deciding on their own application gets `self_approval`
/// whatever roles they hold; a step that does not exist from the current state gets
/// `invalid_transition` or `application_closed`; an edit after approval
/// `edit_after_approval`.
#[utoipa::path(post, path = "/api/v1/applications/{id}/transitions", params(("id" = String, Path)),
    request_body = StepRequest,
    responses((status = 200, body = ApplicationView), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn step(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<StepRequest>,
) -> Result<Json<ApplicationView>, AppError> {
    let step = Step {
        transition: req.transition,
        reason: req.reason,
        version: req.version,
        fields: req.fields,
        members: req.members,
    };
    Ok(Json(
        applications::step(&state, &me.actor(), &id, step).await?,
    ))
}

/// What an invitation link shows before the guest sets a password: the body, the guest's
/// name and affiliation, the ID and the period. A used or expired link is
/// `invitation_invalid` (409).
#[utoipa::path(get, path = "/api/v1/invitations/{token}", params(("token" = String, Path)),
    responses((status = 200, body = crate::services::guests::InvitationView), (status = 409, body = crate::error::ErrorBody)))]
pub async fn invitation(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<crate::services::guests::InvitationView>, AppError> {
    Ok(Json(
        crate::services::guests::invitation(&state, &token).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct AcceptRequest {
    pub password: String,
    pub confirmation: String,
}

#[derive(serde::Serialize, ToSchema)]
pub struct Accepted {
    /// The guest's login ID, to sign in with.
    pub login_id: String,
}

/// The guest sets a password through the invitation, once (the body's password rules apply).
#[utoipa::path(post, path = "/api/v1/invitations/{token}", params(("token" = String, Path)),
    request_body = AcceptRequest,
    responses((status = 200, body = Accepted), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn accept_invitation(
    State(state): State<AppState>,
    client: crate::auth::Client,
    Path(token): Path<String>,
    ApiJson(req): ApiJson<AcceptRequest>,
) -> Result<Json<Accepted>, AppError> {
    let login_id = crate::services::guests::accept(
        &state,
        &token,
        &req.password,
        &req.confirmation,
        client.ip,
    )
    .await?;
    Ok(Json(Accepted { login_id }))
}

/// The body's guest settings: what guests may do with files (G10). Restricted by default.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/guest-settings", params(("org" = String, Path)),
    responses((status = 200, body = crate::services::guests::GuestSettings), (status = 403, body = crate::error::ErrorBody)))]
pub async fn guest_settings(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
) -> Result<Json<crate::services::guests::GuestSettings>, AppError> {
    Ok(Json(
        crate::services::guests::settings(&state, &me.actor(), &org).await?,
    ))
}

/// Sets what the body's guests may do with files: `none`, `download` or
/// `upload_and_download` (the device's own rules still apply).
#[utoipa::path(put, path = "/api/v1/orgs/{org}/guest-settings", params(("org" = String, Path)),
    request_body = crate::services::guests::GuestSettings,
    responses((status = 200, body = crate::services::guests::GuestSettings), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn save_guest_settings(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
    ApiJson(req): ApiJson<crate::services::guests::GuestSettings>,
) -> Result<Json<crate::services::guests::GuestSettings>, AppError> {
    Ok(Json(
        crate::services::guests::save_settings(&state, &me.actor(), &org, req).await?,
    ))
}
