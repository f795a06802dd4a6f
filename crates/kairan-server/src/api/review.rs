//! Reading talks for audit over JSON (G7): the body's talks (no content), a reading with its
//! reason, and the list of readings for auditors.

use super::ApiJson;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::services::review;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ReviewTalkView {
    pub id: String,
    /// `direct` or `group`.
    pub kind: String,
    /// Empty for a 1:1 talk.
    pub name: String,
    /// Current members' names.
    pub members: Vec<String>,
    /// Messages so far (the talk's last sequence number).
    pub messages: i64,
    pub last_message_at: Option<i64>,
}

/// The body's talks for a reviewer: names, members and counts, no content.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/talks", params(("org" = String, Path)),
    responses((status = 200, body = Vec<ReviewTalkView>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn talks(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
) -> Result<Json<Vec<ReviewTalkView>>, AppError> {
    let list = review::talks(&state, &me.actor(), &org).await?;
    Ok(Json(
        list.into_iter()
            .map(|e| ReviewTalkView {
                id: e.talk.id,
                kind: e.talk.kind,
                name: e.talk.name,
                members: e.members,
                messages: e.talk.last_seq,
                last_message_at: e.talk.last_message_at,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ReviewRequest {
    /// Why the talk is read (10 to 500 characters); recorded and shown to auditors.
    pub reason: String,
    /// Messages before this sequence number (default: the newest).
    #[serde(default)]
    pub before: Option<i64>,
    #[serde(default)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct VersionView {
    pub version: i64,
    pub body: String,
    /// Who replaced this text, and how (`edited` or `deleted`).
    pub replaced_by: String,
    pub replaced_by_name: String,
    pub replaced_at: i64,
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReviewedMessageView {
    pub id: String,
    pub seq: i64,
    pub sender_id: String,
    pub sender_name: String,
    /// The current text; empty for a deleted message (its text is the last version).
    pub body: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub class: i64,
    pub versions: Vec<VersionView>,
}

#[derive(Serialize, ToSchema)]
pub struct ReviewView {
    /// The record of this reading.
    pub review_id: String,
    pub talk_id: String,
    pub kind: String,
    pub name: String,
    pub messages: Vec<ReviewedMessageView>,
}

/// Reads a talk for audit: recorded with its reason before anything is shown.
#[utoipa::path(post, path = "/api/v1/talks/{talk}/review", params(("talk" = String, Path)), request_body = ReviewRequest,
    responses((status = 200, body = ReviewView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(talk): Path<String>,
    ApiJson(req): ApiJson<ReviewRequest>,
) -> Result<Json<ReviewView>, AppError> {
    let r = review::review(
        &state,
        &me.actor(),
        &talk,
        &req.reason,
        req.before,
        req.limit.unwrap_or(100),
    )
    .await?;
    Ok(Json(view(r)))
}

pub fn view(r: review::Reviewed) -> ReviewView {
    ReviewView {
        review_id: r.review_id,
        talk_id: r.talk.id,
        kind: r.talk.kind,
        name: r.talk.name,
        messages: r
            .messages
            .into_iter()
            .map(|m| ReviewedMessageView {
                id: m.message.id,
                seq: m.message.seq,
                sender_id: m.message.sender_id,
                sender_name: m.sender_name,
                body: m.message.body,
                created_at: m.message.created_at,
                edited_at: m.message.edited_at,
                deleted_at: m.message.deleted_at,
                class: m.message.class,
                versions: m
                    .versions
                    .into_iter()
                    .map(|(v, name)| VersionView {
                        version: v.version,
                        body: v.body,
                        replaced_by: v.replaced_by,
                        replaced_by_name: name,
                        replaced_at: v.replaced_at,
                        reason: v.reason,
                    })
                    .collect(),
            })
            .collect(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ReviewRecordView {
    pub id: String,
    pub actor_id: String,
    pub actor_name: String,
    pub talk_id: String,
    pub talk_kind: String,
    pub talk_name: String,
    pub reason: String,
    pub at: i64,
}

/// Every reading of the body's talks, newest first (auditors and the security officer).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/content-reviews", params(("org" = String, Path)),
    responses((status = 200, body = Vec<ReviewRecordView>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn reviews(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
) -> Result<Json<Vec<ReviewRecordView>>, AppError> {
    let list = review::reviews(&state, &me.actor(), &org).await?;
    Ok(Json(
        list.into_iter()
            .map(|r| ReviewRecordView {
                id: r.id,
                actor_id: r.actor_id,
                actor_name: r.actor_name,
                talk_id: r.talk_id,
                talk_kind: r.talk_kind,
                talk_name: r.talk_name,
                reason: r.reason,
                at: r.created_at,
            })
            .collect(),
    ))
}
