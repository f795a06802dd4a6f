//! Files in talks (C4, G9; issue 9, first part). An upload is checked in this order: the sender
//! may post in the talk, the name is a plain name, the size is within the limit, the type
//! (decided from the bytes, never from the name or the client's Content-Type) is one we accept,
//! and clamd says it is clean. Only then are the bytes stored (written to a temporary file,
//! synced, renamed under their SHA-256) and the row and its audit record committed together: a
//! crash at any point leaves either nothing visible or the whole file.
//!
//! An infected file is kept in quarantine for the security officer, never served; the officers
//! are told and it is an audit event. When clamd does not answer the upload fails closed.
//! Downloads check membership on every request and are always sent as attachments.

use crate::error::AppError;
use crate::scanner::{Endpoint, ScanError, Scanner, Verdict};
use crate::services::chat::{Member, load as chat_access};
use crate::services::{audit_entry, detail};
use crate::state::AppState;
use kairan_domain::Role;
use kairan_domain::audit::AuditAction;
use kairan_domain::error::DomainError;
use kairan_domain::input::parse_file_name;
use kairan_domain::policy::TalkAction;
use kairan_store::files::{self, File, NewFile};
use kairan_store::{audit, chat, protection, users};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the bytes are, from their first bytes (and, for Office files, their zip directory).
/// `None`: not a type we accept.
pub fn sniff(name: &str, bytes: &[u8]) -> Option<&'static str> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let is = |magic: &[u8]| bytes.starts_with(magic);
    if is(b"\x89PNG\r\n\x1a\n") {
        return (ext == "png").then_some("image/png");
    }
    if is(b"\xff\xd8\xff") {
        return matches!(ext.as_str(), "jpg" | "jpeg").then_some("image/jpeg");
    }
    if is(b"GIF87a") || is(b"GIF89a") {
        return (ext == "gif").then_some("image/gif");
    }
    if is(b"%PDF-") {
        return (ext == "pdf").then_some("application/pdf");
    }
    if is(b"PK\x03\x04") {
        // OOXML: a zip whose directory names the part of its kind. Macro-enabled types
        // (docm, xlsm, pptm) are refused by extension and by their vbaProject part.
        let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        if has(b"vbaProject.bin") || !has(b"[Content_Types].xml") {
            return None;
        }
        return match ext.as_str() {
            "docx" if has(b"word/") => {
                Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
            }
            "xlsx" if has(b"xl/") => {
                Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            }
            "pptx" if has(b"ppt/") => {
                Some("application/vnd.openxmlformats-officedocument.presentationml.presentation")
            }
            _ => None,
        };
    }
    // Text: valid UTF-8 without NULs, named as text.
    if matches!(ext.as_str(), "txt" | "csv" | "md")
        && !bytes.contains(&0)
        && std::str::from_utf8(bytes).is_ok()
    {
        return Some(if ext == "csv" {
            "text/csv"
        } else {
            "text/plain"
        });
    }
    None
}

fn blob_dir(state: &AppState) -> PathBuf {
    state.config.data_dir.join("blobs")
}

fn quarantine_dir(state: &AppState) -> PathBuf {
    state.config.data_dir.join("quarantine")
}

fn blob_path(dir: &Path, sha: &str) -> PathBuf {
    dir.join(&sha[..2]).join(sha)
}

/// Temporary files of uploads in progress start with this; the sweep removes old ones.
const TMP_PREFIX: &str = ".tmp-";

/// An upload being received: removed when dropped unless kept, so an error, a refusal or a
/// client that goes away (the request's future is dropped) leaves nothing behind.
struct Incoming {
    path: PathBuf,
    kept: bool,
}

impl Drop for Incoming {
    fn drop(&mut self) {
        if !self.kept
            && let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(error = %e, "could not remove an unfinished upload");
        }
    }
}

/// Moves a received upload to `dir/ab/abcdef…` durably: synced, renamed, and the directory
/// synced, so a crash leaves either no file or the whole one (never a torn one under the final
/// name). Identical content is stored once.
fn place_blob(tmp: &Path, dir: &Path, sha: &str) -> std::io::Result<()> {
    let target = blob_path(dir, sha);
    if target.exists() {
        return std::fs::remove_file(tmp);
    }
    let parent = target.parent().unwrap_or(dir);
    if !parent.exists() {
        std::fs::create_dir_all(parent)?;
        // A new directory's own entry must reach the disk too.
        std::fs::File::open(dir)?.sync_all()?;
        if let Some(up) = dir.parent() {
            std::fs::File::open(up)?.sync_all()?;
        }
    }
    std::fs::rename(tmp, &target)?;
    std::fs::File::open(parent)?.sync_all()
}

fn scanner(state: &AppState) -> Result<Scanner, AppError> {
    let endpoint = Endpoint::parse(&state.config.files.clamd).map_err(AppError::Internal)?;
    Ok(Scanner::new(
        endpoint,
        Duration::from_secs(state.config.files.scan_timeout_seconds.max(1)),
    ))
}

/// Where an upload goes: the talk, if the member may post in it ("not found" otherwise), the
/// same check as every chat action. Asked before the body is read, and handed to [`upload`].
pub async fn upload_target(
    state: &AppState,
    m: &Member<'_>,
    talk_id: &str,
) -> Result<UploadTarget, AppError> {
    Ok(UploadTarget(
        chat_access(state, m, talk_id, TalkAction::Post).await?,
    ))
}

/// A talk the member was found allowed to post in; only [`upload_target`] makes one.
pub struct UploadTarget(chat::Talk);

/// Receives the body into a temporary file beside the blob store, hashing as it goes and
/// never holding more than one chunk in memory. Refuses as soon as the limit is passed.
async fn receive(
    state: &AppState,
    body: axum::body::Body,
) -> Result<(Incoming, String, u64), AppError> {
    use futures::StreamExt;
    use tokio::io::AsyncWriteExt;
    let dir = blob_dir(state);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| AppError::Internal(format!("blob dir: {e}")))?;
    let incoming = Incoming {
        path: dir.join(format!("{TMP_PREFIX}{}", uuid::Uuid::now_v7())),
        kept: false,
    };
    let io = |e: std::io::Error| AppError::Internal(format!("upload file: {e}"));
    let mut f = tokio::fs::File::create(&incoming.path).await.map_err(io)?;
    let limit = state.config.files.max_mib * 1024 * 1024;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| AppError::FileRefused("upload_interrupted"))?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(AppError::FileRefused("file_too_large"));
        }
        hasher.update(&chunk);
        f.write_all(&chunk).await.map_err(io)?;
    }
    f.sync_all().await.map_err(io)?;
    Ok((incoming, hex::encode(hasher.finalize()), size))
}

/// Maps a received file for reading without copying it into memory.
fn map(path: &Path) -> std::io::Result<memmap2::Mmap> {
    let f = std::fs::File::open(path)?;
    // SAFETY: the file is this upload's own temporary file, which nothing else writes or
    // truncates while the map lives (it is renamed only after the map is dropped).
    unsafe { memmap2::Mmap::map(&f) }
}

/// Uploads a file into a talk, streamed from the request body. Returns the stored file
/// (clean, waiting to be sent with a message), or the reason it was refused.
pub async fn upload(
    state: &AppState,
    m: &Member<'_>,
    target: &UploadTarget,
    name: &str,
    body: axum::body::Body,
) -> Result<File, AppError> {
    let talk = &target.0;
    let talk_id = talk.id.as_str();
    let name = parse_file_name(name)?;
    let (mut incoming, sha, size) = receive(state, body).await?;
    if size == 0 {
        return Err(AppError::FileRefused("file_empty"));
    }
    let path = incoming.path.clone();
    let sniffed = {
        let name = name.clone();
        tokio::task::spawn_blocking(move || map(&path).map(|bytes| sniff(&name, &bytes)))
            .await
            .map_err(|e| AppError::Internal(format!("sniff task: {e}")))?
            .map_err(|e| AppError::Internal(format!("upload map: {e}")))?
    };
    let content_type = sniffed.ok_or(AppError::FileRefused("file_type_not_allowed"))?;
    let verdict = match scanner(state)?.scan_file(&incoming.path).await {
        Ok(v) => v,
        Err(ScanError::TooLarge) => return Err(AppError::FileRefused("file_too_large")),
        Err(e) => {
            tracing::warn!(error = %e, "upload refused: scanner unavailable");
            return Err(AppError::ScannerUnavailable);
        }
    };
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    let (status, signature, dir) = match &verdict {
        Verdict::Clean => ("clean", None, blob_dir(state)),
        Verdict::Infected(sig) => ("infected", Some(sig.as_str()), quarantine_dir(state)),
    };
    {
        let (tmp, sha) = (incoming.path.clone(), sha.clone());
        tokio::task::spawn_blocking(move || place_blob(&tmp, &dir, &sha))
            .await
            .map_err(|e| AppError::Internal(format!("blob task: {e}")))?
            .map_err(|e| AppError::Internal(format!("blob store: {e}")))?;
        // Under its final name now; a failed commit below leaves a blob no row names, which
        // the sweep removes.
        incoming.kept = true;
    }
    let mut tx = state.store.write().await?;
    let file = files::insert(
        &mut tx,
        &NewFile {
            org_id: &talk.org_id,
            talk_id,
            uploader_id: m.user_id,
            name: &name,
            size,
            sha256: &sha,
            content_type,
            status,
            signature,
            class: talk.default_class,
            text_scan: "no_text",
            findings: None,
        },
    )
    .await?;
    let action = match verdict {
        Verdict::Clean => AuditAction::FileUploaded,
        Verdict::Infected(_) => AuditAction::FileInfected,
    };
    let mut e = audit_entry(m.actor, action);
    e.target_id = Some(file.id.clone());
    detail(&mut e, "talk", talk_id);
    detail(&mut e, "sha256", sha.as_str());
    detail(&mut e, "size", size);
    if let Some(sig) = signature {
        detail(&mut e, "signature", sig);
        // The same bytes may have been stored as clean before the scanner knew them.
        let earlier = files::quarantine_content(&mut tx, &sha, sig).await?;
        if earlier > 0 {
            detail(&mut e, "earlier_copies_quarantined", earlier);
        }
    }
    audit::append(&mut tx, e).await?;
    let officers = if signature.is_some() {
        let officers =
            users::active_with_role(tx.conn(), &talk.org_id, Role::SecurityOfficer.code()).await?;
        let details = serde_json::json!({ "outcome": "quarantined", "file": file.id, "signature": signature });
        protection::notify(
            &mut tx,
            &talk.org_id,
            &officers,
            "malware",
            Some(m.user_id),
            Some(talk_id),
            &details.to_string(),
        )
        .await?;
        officers
    } else {
        Vec::new()
    };
    tx.commit().await?;
    if signature.is_some() {
        // No servable copy may remain: rows now say "infected" and the blob goes too.
        let stale = blob_path(&blob_dir(state), &sha);
        if let Err(e) = tokio::fs::remove_file(&stale).await
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::error!(error = %e, "could not remove a blob found infected");
        }
    }
    crate::services::protection::publish_notifications(state, officers);
    match file.status.as_str() {
        "clean" => Ok(file),
        _ => Err(AppError::FileRefused("file_infected")),
    }
}

/// A file and its opened content for a member of its talk; every download is recorded. A
/// file not yet sent is its uploader's alone; a file whose message was deleted is gone for
/// readers too.
pub async fn download(
    state: &AppState,
    m: &Member<'_>,
    file_id: &str,
) -> Result<(File, tokio::fs::File), AppError> {
    let (file, message) = {
        let mut conn = state.store.read().await?;
        let file = files::by_id(&mut conn, file_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let message = match &file.message_id {
            Some(id) => chat::message(&mut conn, id).await?,
            None => None,
        };
        (file, message)
    };
    chat_access(state, m, &file.talk_id, TalkAction::Read).await?;
    let visible = match (&file.message_id, &message) {
        (None, _) => file.uploader_id == m.user_id,
        (Some(_), Some(msg)) => msg.deleted_at.is_none(),
        (Some(_), None) => false,
    };
    // Quarantined content is never served, not even to its uploader.
    if !visible || file.status != "clean" {
        return Err(AppError::NotFound);
    }
    let path = blob_path(&blob_dir(state), &file.sha256);
    let content = tokio::fs::File::open(&path)
        .await
        .map_err(|e| AppError::Internal(format!("blob {}: {e}", file.sha256)))?;
    let mut tx = state.store.write().await?;
    let mut e = audit_entry(m.actor, AuditAction::FileDownloaded);
    e.target_id = Some(file.id.clone());
    detail(&mut e, "talk", file.talk_id.as_str());
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok((file, content))
}

/// The files sent in a talk, for its members.
pub async fn of_talk(
    state: &AppState,
    m: &Member<'_>,
    talk_id: &str,
) -> Result<Vec<File>, AppError> {
    chat_access(state, m, talk_id, TalkAction::Read).await?;
    let mut conn = state.store.read().await?;
    Ok(files::of_talk(&mut conn, talk_id).await?)
}

/// The most files one message carries.
pub const MAX_PER_MESSAGE: usize = 10;

/// The refusal of a file that cannot go with this message: not the sender's upload to this
/// talk, not clean, or already sent.
pub(crate) fn not_attachable() -> AppError {
    DomainError::invalid(
        "files",
        "添付ファイル",
        "送信できない添付ファイルがあります。ファイルをもう一度選んでください。",
        "a file cannot be sent with this message; choose it again.",
    )
    .into()
}

/// The files a sender names for a new message, in the order named: each their own clean,
/// unsent upload to this talk. Checked again under the write lock when the message is written.
pub async fn for_message(
    state: &AppState,
    m: &Member<'_>,
    talk_id: &str,
    ids: &[String],
) -> Result<Vec<File>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    if ids.len() > MAX_PER_MESSAGE {
        return Err(DomainError::invalid(
            "files",
            "添付ファイル",
            format!("1件のメッセージに添付できるファイルは{MAX_PER_MESSAGE}個までです。"),
            format!("at most {MAX_PER_MESSAGE} files go with one message."),
        )
        .into());
    }
    let found = {
        let mut conn = state.store.read().await?;
        files::by_ids(&mut conn, ids).await?
    };
    let mut out = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let f = found
            .iter()
            .find(|f| &f.id == id)
            .filter(|f| {
                f.talk_id == talk_id
                    && f.uploader_id == m.user_id
                    && f.status == "clean"
                    && f.message_id.is_none()
                    && !ids[..i].contains(id)
            })
            .ok_or_else(not_attachable)?;
        out.push(f.clone());
    }
    Ok(out)
}

/// What a message shows of its files, stored with it (JSON); `None` without files.
pub fn attachments_json(files: &[File]) -> Option<String> {
    if files.is_empty() {
        return None;
    }
    let list: Vec<crate::realtime::Attachment> = files
        .iter()
        .map(|f| crate::realtime::Attachment {
            id: f.id.clone(),
            name: f.name.clone(),
            size: f.size,
            content_type: f.content_type.clone(),
            class: f.class,
        })
        .collect();
    serde_json::to_string(&list).ok()
}

/// Removes what uploads left behind: temporary files of uploads that never finished (a crash
/// or `kill -9` mid-upload) and blobs no row names (a crash between storing the bytes and the
/// commit). Only things older than `age` are touched, so uploads in progress on any node
/// sharing the directory are safe. Returns how many files went.
pub async fn sweep(state: &AppState, age: Duration) -> Result<usize, AppError> {
    let dir = blob_dir(state);
    let candidates = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || old_files(&dir, age))
            .await
            .map_err(|e| AppError::Internal(format!("sweep task: {e}")))?
    };
    let mut removed = 0;
    for path in candidates {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let orphan = if name.starts_with(TMP_PREFIX) {
            true
        } else {
            let mut conn = state.store.read().await?;
            !files::content_known(&mut conn, name).await?
        };
        if orphan && tokio::fs::remove_file(&path).await.is_ok() {
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(removed, "swept unfinished uploads");
    }
    Ok(removed)
}

/// Files under `dir` (one level of `ab/` subdirectories) last modified more than `age` ago.
fn old_files(dir: &Path, age: Duration) -> Vec<PathBuf> {
    let now = std::time::SystemTime::now();
    let old = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|d| d >= age)
    };
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Ok(inner) = std::fs::read_dir(&path) {
                out.extend(inner.flatten().map(|e| e.path()).filter(|p| old(p)));
            }
        } else if old(&path) {
            out.push(path);
        }
    }
    out
}

/// Sweeps at start and then every hour, for the life of the node.
pub fn start_sweeper(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = sweep(&state, Duration::from_secs(3600)).await {
                tracing::warn!(error = %e, "upload sweep failed");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn types_come_from_the_bytes_and_the_name_must_agree() {
        assert_eq!(
            sniff("写真.png", b"\x89PNG\r\n\x1a\n...."),
            Some("image/png")
        );
        assert_eq!(
            sniff("写真.jpg", b"\xff\xd8\xff\xe0...."),
            Some("image/jpeg")
        );
        assert_eq!(sniff("資料.pdf", b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(sniff("メモ.txt", "議事録".as_bytes()), Some("text/plain"));
        // An executable named as an image, a PNG named as a document, a script as text.
        assert_eq!(sniff("photo.png", b"MZ\x90\x00\x03"), None);
        assert_eq!(sniff("report.pdf", b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(sniff("evil.html", b"<script>alert(1)</script>"), None);
        assert_eq!(sniff("binary.txt", b"a\x00b"), None);
        // Office files: the zip must name its parts; macro projects are refused.
        let docx = b"PK\x03\x04....[Content_Types].xml....word/document.xml";
        assert!(sniff("a.docx", docx).is_some());
        assert_eq!(sniff("a.xlsx", docx), None);
        let macro_doc = b"PK\x03\x04....[Content_Types].xml....word/vbaProject.bin";
        assert_eq!(sniff("a.docx", macro_doc), None);
        assert_eq!(sniff("a.zip", b"PK\x03\x04....."), None);
    }
}
