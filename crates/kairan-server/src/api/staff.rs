//! A body's staff list as CSV through the API (I1; issue 8): import with a preview, export in
//! UTF-8, UTF-8 with a BOM or CP932. See docs/staff-csv.md.

use crate::auth::CurrentUser;
use crate::error::{AppError, ErrorDetail};
use crate::services::staff_import::{self, ImportReport};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kairan_domain::staff_csv::{CsvEncoding, Unmappable};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
pub struct ImportQuery {
    /// True: check and report what would change, write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// The answer when a file has problems: the error, and the report with every problem.
#[derive(Serialize, ToSchema)]
pub struct ImportRefused {
    pub error: ErrorDetail,
    pub report: ImportReport,
}

/// Imports staff from a CSV file sent as the raw body (up to 32 MB). With `dry_run=true`,
/// nothing is written. A file with any problem is refused whole: 422 `csv_invalid` with
/// every problem by line and column.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/staff-import", params(("org" = String, Path), ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 403, body = crate::error::ErrorBody), (status = 422, body = ImportRefused)))]
pub async fn import(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<Response, AppError> {
    let report = staff_import::import(&state, &me.actor(), &org, &body, q.dry_run).await?;
    if report.errors.is_empty() {
        return Ok(Json(report).into_response());
    }
    let refused = ImportRefused {
        error: ErrorDetail {
            code: "csv_invalid".into(),
            message_ja: format!(
                "CSVファイルに{}件の問題があるため、取り込みませんでした。行と列を確認して修正してください。",
                report.errors.len()
            ),
            message_en: format!(
                "The CSV file has {} problem(s), so nothing was imported. Correct the rows and columns listed.",
                report.errors.len()
            ),
        },
        report,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(refused)).into_response())
}

#[derive(Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `utf-8` (default), `utf-8-bom` (what Excel opens directly) or `cp932` (Shift_JIS).
    pub encoding: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ExportRefused {
    pub error: ErrorDetail,
    /// Every character CP932 cannot hold, with its line and column.
    #[schema(value_type = Vec<Object>)]
    pub unmappable: Vec<Unmappable>,
}

/// The body's staff (guests left out) as CSV, as an attachment.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/staff.csv", params(("org" = String, Path), ExportQuery),
    responses((status = 200, content_type = "text/csv"), (status = 403, body = crate::error::ErrorBody), (status = 422, body = ExportRefused)))]
pub async fn export(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AppError> {
    let encoding = match q.encoding.as_deref() {
        None => CsvEncoding::Utf8,
        Some(e) => CsvEncoding::parse(e).ok_or_else(|| {
            AppError::BadRequest("encoding must be utf-8, utf-8-bom or cp932".into())
        })?,
    };
    match staff_import::export(&state, &me.actor(), &org, encoding).await? {
        Ok(bytes) => {
            let charset = if encoding == CsvEncoding::Cp932 {
                "Shift_JIS"
            } else {
                "utf-8"
            };
            Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        format!("text/csv; charset={charset}"),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"staff.csv\"".to_owned(),
                    ),
                ],
                bytes,
            )
                .into_response())
        }
        Err(unmappable) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(ExportRefused {
                error: ErrorDetail {
                    code: "csv_unmappable".into(),
                    message_ja: format!(
                        "Shift_JIS（CP932）で表せない文字が{}か所あるため、書き出せません。UTF-8で書き出すか、該当する文字を確認してください。",
                        unmappable.len()
                    ),
                    message_en: format!(
                        "{} character(s) cannot be written in Shift_JIS (CP932). Export as UTF-8, or check the characters listed.",
                        unmappable.len()
                    ),
                },
                unmappable,
            }),
        )
            .into_response()),
    }
}

#[derive(Deserialize, IntoParams)]
pub struct DormantQuery {
    /// IDs without a sign-in for this many days (default 90, 1–3650).
    pub days: Option<u32>,
    /// `json` (default) or `csv` (UTF-8 with a BOM, for Excel).
    pub format: Option<String>,
}

/// IDs that should perhaps not stay open (I10): unused for `days`, guests past their period,
/// and development or test IDs; only IDs that can still sign in.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/dormant", params(("org" = String, Path), DormantQuery),
    responses((status = 200, body = [crate::services::dormant::DormantEntry]), (status = 403, body = crate::error::ErrorBody)))]
pub async fn dormant(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
    Query(q): Query<DormantQuery>,
) -> Result<Response, AppError> {
    use crate::services::dormant;
    let list = dormant::report(
        &state,
        &me.actor(),
        &org,
        q.days.unwrap_or(dormant::DEFAULT_DAYS),
    )
    .await?;
    match q.format.as_deref() {
        None | Some("json") => Ok(Json(list).into_response()),
        Some("csv") => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"dormant-ids.csv\"",
                ),
            ],
            dormant::to_csv(&list),
        )
            .into_response()),
        Some(_) => Err(AppError::BadRequest("format must be json or csv".into())),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct DisableRequest {
    pub user_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Disabled {
    pub disabled: usize,
}

/// Disables the listed IDs at once (each an ordinary suspension: sessions end, audited,
/// reversible); IDs already disabled are skipped.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/dormant/disable", params(("org" = String, Path)),
    request_body = DisableRequest,
    responses((status = 200, body = Disabled), (status = 403, body = crate::error::ErrorBody)))]
pub async fn disable_dormant(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(org): Path<String>,
    super::ApiJson(req): super::ApiJson<DisableRequest>,
) -> Result<Json<Disabled>, AppError> {
    let disabled =
        crate::services::dormant::disable(&state, &me.actor(), &org, &req.user_ids).await?;
    Ok(Json(Disabled { disabled }))
}
