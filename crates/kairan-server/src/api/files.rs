//! Files over JSON and plain bytes (C4, G9): upload into a talk, list a talk's files, and
//! download one, always as an attachment.

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::services::files;
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct FileView {
    pub id: String,
    pub talk_id: String,
    pub uploader_id: String,
    pub name: String,
    pub size: i64,
    /// Decided from the content, not from the name or the uploader's Content-Type.
    pub content_type: String,
    pub sha256: String,
    /// `clean`: scanned by clamd and stored; `pending_scan`: stored while clamd was down, by
    /// the administrator's choice, and opened by nobody until scanned.
    pub status: String,
    pub created_at: i64,
    /// The message that carries it; absent while it waits to be sent (only its uploader
    /// sees it then).
    pub message_id: Option<String>,
    /// Confidentiality rank on the body's scale.
    pub class: i64,
    /// What the personal-data scan of its text did: `scanned`, `no_text` (images),
    /// `truncated` (past 16 MiB of text), `unreadable` (a PDF the reader cannot follow).
    pub text_scan: String,
    /// Kinds of personal data found and how many of each; never the values.
    pub findings: Option<serde_json::Value>,
    /// The class of device it was uploaded from: `lgwan_pc` or `internet_device`.
    pub uploaded_from: String,
}

impl From<kairan_store::files::File> for FileView {
    fn from(f: kairan_store::files::File) -> Self {
        FileView {
            id: f.id,
            talk_id: f.talk_id,
            uploader_id: f.uploader_id,
            name: f.name,
            size: f.size,
            content_type: f.content_type,
            sha256: f.sha256,
            status: f.status,
            created_at: f.created_at,
            message_id: f.message_id,
            class: f.class,
            text_scan: f.text_scan,
            findings: f.findings.and_then(|s| serde_json::from_str(&s).ok()),
            uploaded_from: f.uploaded_from,
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct UploadQuery {
    /// The file's name as the user sees it.
    pub name: String,
    /// Attach despite findings in the text that only ask for confirmation (409
    /// `file_dlp_confirm_required`). Findings that refuse (422 `file_dlp_refused`) never go.
    #[serde(default)]
    pub confirm_dlp: bool,
}

/// Uploads a file into a talk: the request body is the file's bytes. It is scanned for
/// malware before it is stored; 422 `file_infected` when malware is found (the file is
/// quarantined), 503 `scanner_unavailable` when the scanner does not answer. The text of
/// documents (txt, csv, docx, xlsx, pptx, pdf) is checked for personal data like a message:
/// 422 `file_dlp_refused` or 409 `file_dlp_confirm_required`, with the kinds found in
/// `file_dlp`. The file waits for its uploader until sent with a message.
#[utoipa::path(post, path = "/api/v1/talks/{talk}/files", params(("talk" = String, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = FileView), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(talk): Path<String>,
    Query(q): Query<UploadQuery>,
    req: Request,
) -> Result<(StatusCode, Json<FileView>), AppError> {
    crate::limits::throttle(&state, &me.user.id)?;
    let actor = me.actor();
    let m = super::chat::member(&me, &actor);
    // Who may upload here is known before a byte of the body is read.
    let target = files::upload_target(&state, &m, &talk).await?;
    // A few uploads at a time per node: each holds a temporary file and a scan.
    let _slot = state
        .upload_slots
        .acquire()
        .await
        .map_err(|_| AppError::Internal("upload slots closed".into()))?;
    let file = files::upload(&state, &m, &target, &q.name, q.confirm_dlp, req.into_body()).await?;
    Ok((StatusCode::CREATED, Json(FileView::from(file))))
}

/// The files sent in a talk, newest first.
#[utoipa::path(get, path = "/api/v1/talks/{talk}/files", params(("talk" = String, Path)),
    responses((status = 200, body = Vec<FileView>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(talk): Path<String>,
) -> Result<Json<Vec<FileView>>, AppError> {
    let actor = me.actor();
    let m = super::chat::member(&me, &actor);
    let list = files::of_talk(&state, &m, &talk).await?;
    Ok(Json(list.into_iter().map(FileView::from).collect()))
}

/// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266 / 5987).
fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(b) {
            encoded.push(char::from(*b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Downloads a file: always as an attachment, never shown inline by the browser.
#[utoipa::path(get, path = "/api/v1/files/{file}", params(("file" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let (file, mut r) = open(&state, &me, &file, files::Use::Download).await?;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition(&file.name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// Shows an image in the page (its preview in the talk and the viewer). Only PNG, JPEG and GIF
/// whose bytes were checked at upload; anything else is 404 here and is only downloaded. The
/// image is sent as itself with a sandboxing CSP, so opened on its own it can run nothing.
#[utoipa::path(get, path = "/api/v1/files/{file}/view", params(("file" = String, Path)),
    responses((status = 200, content_type = "image/png"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn view(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    // The service serves only `files::SHOWN` types here.
    let (file, mut r) = open(&state, &me, &file, files::Use::View).await?;
    let kind = HeaderValue::from_str(&file.content_type)
        .map_err(|_| AppError::Internal("a stored content type is not a header".into()))?;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, kind);
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    // Rights are checked on every request; a few minutes in the reader's own cache saves
    // fetching every picture again while scrolling.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline"),
    );
    Ok(r)
}

/// A file the caller may read, as a response whose body streams its bytes (and whose headers
/// the caller completes).
async fn open(
    state: &AppState,
    me: &CurrentUser,
    file: &str,
    how: files::Use,
) -> Result<(kairan_store::files::File, Response), AppError> {
    let actor = me.actor();
    let m = super::chat::member(me, &actor);
    let (file, content) = files::download(state, &m, file, how).await?;
    Ok((file, streamed(content)))
}

/// A stored file as a response body, a chunk at a time: never held whole in memory.
fn streamed(content: tokio::fs::File) -> Response {
    let chunks = futures::stream::unfold(content, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    let mut r = Body::from_stream(chunks).into_response();
    r.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_name_is_sent_safely_in_both_forms() {
        assert_eq!(
            super::disposition("当番表 \"v2\".xlsx"),
            "attachment; filename=\"___ _v2_.xlsx\"; filename*=UTF-8''%E5%BD%93%E7%95%AA%E8%A1%A8%20%22v2%22.xlsx"
        );
    }
}
