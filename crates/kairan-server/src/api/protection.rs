//! Information protection over JSON (G1, G2): the body's classification scheme and
//! personal-data rules (security officer), the detections trail (security officer, CSIRT,
//! auditor), and each person's notifications.

use super::ApiJson;
use super::chat::SchemeView;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::services::dlp::{Action, Protection, Rule};
use crate::services::protection::{self, Change};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct RuleView {
    pub kind: String,
    pub label_ja: String,
    pub label_en: String,
    pub action: Action,
    pub notify: bool,
    /// The class a confident finding implies (a rank), if any.
    pub implies: Option<u8>,
}

#[derive(Serialize, ToSchema)]
pub struct ProtectionView {
    pub scheme: SchemeView,
    pub rules: Vec<RuleView>,
    pub keywords: Vec<String>,
}

impl ProtectionView {
    pub fn of(p: &Protection) -> ProtectionView {
        ProtectionView {
            scheme: SchemeView::of(&p.scheme),
            rules: p
                .rules
                .iter()
                .map(|(k, r): (&kairan_dlp::Kind, &Rule)| RuleView {
                    kind: k.code().to_owned(),
                    label_ja: k.label_ja().to_owned(),
                    label_en: k.label_en().to_owned(),
                    action: r.action,
                    notify: r.notify,
                    implies: r.implies,
                })
                .collect(),
            keywords: p.keywords.clone(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/orgs/{org}/protection", params(("org" = String, Path)),
    responses((status = 200, body = ProtectionView), (status = 403, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
) -> Result<Json<ProtectionView>, AppError> {
    let p = protection::view(&state, &me.actor(), &org).await?;
    Ok(Json(ProtectionView::of(&p)))
}

/// Changes the scheme, rules or keywords. The number of levels of a scale cannot change once
/// talks carry classes (their ranks would change meaning); the labels can.
#[utoipa::path(put, path = "/api/v1/orgs/{org}/protection", params(("org" = String, Path)), request_body = Change,
    responses((status = 200, body = ProtectionView), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
    ApiJson(change): ApiJson<Change>,
) -> Result<Json<ProtectionView>, AppError> {
    let p = protection::update(&state, &me.actor(), &org, &change).await?;
    Ok(Json(ProtectionView::of(&p)))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct EventsPage {
    /// Events before this audit sequence number.
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

/// One detection: who, where, what kinds at which positions, and what happened. Never the
/// detected value.
#[derive(Serialize, ToSchema)]
pub struct DlpEvent {
    /// The audit record's sequence number.
    pub seq: i64,
    pub at_us: i64,
    pub actor_id: Option<String>,
    /// `dlp.blocked`, `dlp.confirm_requested`, or `message.posted` / `message.edited` /
    /// `message.forwarded` sent after confirming.
    pub action: String,
    pub target_id: Option<String>,
    pub findings: serde_json::Value,
}

#[utoipa::path(get, path = "/api/v1/orgs/{org}/dlp-events", params(("org" = String, Path), EventsPage),
    responses((status = 200, body = [DlpEvent]), (status = 403, body = crate::error::ErrorBody)))]
pub async fn dlp_events(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
    Query(q): Query<EventsPage>,
) -> Result<Json<Vec<DlpEvent>>, AppError> {
    let rows =
        protection::dlp_events(&state, &me.actor(), &org, q.before, q.limit.unwrap_or(50)).await?;
    Ok(Json(rows.into_iter().map(DlpEvent::from).collect()))
}

impl From<kairan_store::audit::Row> for DlpEvent {
    fn from(r: kairan_store::audit::Row) -> Self {
        let findings = serde_json::Value::Array(protection::findings_of(&r.details));
        DlpEvent {
            seq: r.seq,
            at_us: r.at_us,
            actor_id: r.actor_id,
            action: r.action,
            target_id: r.target_id,
            findings,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NotificationView {
    pub id: String,
    /// `dlp`: a personal-data detection the body's rules report to security officers;
    /// `mfa_reset`: an administrator reset the user's second factor (`details.reason`).
    pub kind: String,
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    pub details: serde_json::Value,
    pub created_at: i64,
    pub read: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Notifications {
    pub unread: i64,
    pub items: Vec<NotificationView>,
}

#[utoipa::path(get, path = "/api/v1/me/notifications", responses((status = 200, body = Notifications)))]
pub async fn notifications(
    State(state): State<AppState>,
    me: CurrentUser,
) -> Result<Json<Notifications>, AppError> {
    let (list, unread) = protection::notifications(&state, &me.user.id).await?;
    Ok(Json(Notifications {
        unread,
        items: list
            .into_iter()
            .map(|n| NotificationView {
                details: serde_json::from_str(&n.details).unwrap_or_default(),
                id: n.id,
                kind: n.kind,
                actor_id: n.actor_id,
                target_id: n.target_id,
                created_at: n.created_at,
                read: n.read_at.is_some(),
            })
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/me/notifications/read", responses((status = 204)))]
pub async fn notifications_read(
    State(state): State<AppState>,
    me: CurrentUser,
) -> Result<StatusCode, AppError> {
    protection::mark_notifications_read(&state, &me.user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
