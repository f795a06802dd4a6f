//! Personnel transfers (人事異動) through the API: a staff CSV prepared for its effective day,
//! the body's batches, and withdrawing one before its day. See docs/staff-csv.md.

use crate::api::staff::ImportRefused;
use crate::auth::CurrentUser;
use crate::error::{AppError, ErrorDetail};
use crate::services::transfers::{self, TransferView};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
pub struct TransferQuery {
    /// The day the changes take effect (00:00 JST), `YYYY-MM-DD`, later than today.
    pub effective_date: String,
}

/// Prepares a transfer batch: the file (as for `staff-import`) is checked now and again on
/// its day, and applied then by the server. A file with problems, or with people the body
/// does not have yet, is refused with 422 `csv_invalid` and every problem.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/staff-transfers", params(("org" = String, Path), TransferQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = TransferView), (status = 403, body = crate::error::ErrorBody), (status = 422, body = ImportRefused)))]
pub async fn schedule(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
    Query(q): Query<TransferQuery>,
    body: Bytes,
) -> Result<Response, AppError> {
    match transfers::schedule(&state, &me.actor(), &org, &body, &q.effective_date).await? {
        Ok(v) => Ok((StatusCode::CREATED, Json(v)).into_response()),
        Err(report) => {
            let refused = ImportRefused {
                error: ErrorDetail {
                    code: "csv_invalid".into(),
                    message_ja: format!(
                        "CSVファイルに{}件の問題があるため、異動を予約しませんでした。行と列を確認して修正してください。",
                        report.errors.len()
                    ),
                    message_en: format!(
                        "The CSV file has {} problem(s), so the transfer was not scheduled. Correct the rows listed.",
                        report.errors.len()
                    ),
                },
                report,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(refused)).into_response())
        }
    }
}

/// The body's transfer batches, newest first.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/staff-transfers", params(("org" = String, Path)),
    responses((status = 200, body = [TransferView]), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
) -> Result<Json<Vec<TransferView>>, AppError> {
    Ok(Json(transfers::list(&state, &me.actor(), &org).await?))
}

/// Withdraws a batch before its day (409 `transfer_not_scheduled` once it was applied,
/// failed or withdrawn).
#[utoipa::path(post, path = "/api/v1/staff-transfers/{id}/cancel", params(("id" = String, Path)),
    responses((status = 200, body = TransferView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<TransferView>, AppError> {
    Ok(Json(transfers::cancel(&state, &me.actor(), &id).await?))
}
