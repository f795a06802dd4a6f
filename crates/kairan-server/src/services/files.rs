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

/// Writes `bytes` under `dir/ab/abcdef…` durably: a temporary file, synced, renamed, and the
/// directory synced, so a crash leaves either no file or the whole one (never a torn one under
/// the final name). Identical content is stored once.
fn store_blob(dir: &Path, sha: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let target = blob_path(dir, sha);
    if target.exists() {
        return Ok(());
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
    let tmp = dir.join(format!(".tmp-{}", uuid::Uuid::now_v7()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &target)?;
        std::fs::File::open(parent)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

async fn write_blob(dir: PathBuf, sha: String, bytes: axum::body::Bytes) -> Result<(), AppError> {
    tokio::task::spawn_blocking(move || store_blob(&dir, &sha, &bytes))
        .await
        .map_err(|e| AppError::Internal(format!("blob task: {e}")))?
        .map_err(|e| AppError::Internal(format!("blob store: {e}")))
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

/// Uploads a file into a talk. Returns the stored file (clean), or the reason it was refused.
pub async fn upload(
    state: &AppState,
    m: &Member<'_>,
    target: &UploadTarget,
    name: &str,
    bytes: axum::body::Bytes,
) -> Result<File, AppError> {
    let talk = &target.0;
    let talk_id = talk.id.as_str();
    let name = parse_file_name(name)?;
    if bytes.is_empty() {
        return Err(AppError::FileRefused("file_empty"));
    }
    if bytes.len() as u64 > state.config.files.max_mib * 1024 * 1024 {
        return Err(AppError::FileRefused("file_too_large"));
    }
    let content_type =
        sniff(&name, &bytes).ok_or(AppError::FileRefused("file_type_not_allowed"))?;
    let verdict = match scanner(state)?.scan(&bytes).await {
        Ok(v) => v,
        Err(ScanError::TooLarge) => return Err(AppError::FileRefused("file_too_large")),
        Err(e) => {
            tracing::warn!(error = %e, "upload refused: scanner unavailable");
            return Err(AppError::ScannerUnavailable);
        }
    };
    let sha = hex::encode(Sha256::digest(&bytes));
    let size = bytes.len() as i64;
    let (status, signature, dir) = match &verdict {
        Verdict::Clean => ("clean", None, blob_dir(state)),
        Verdict::Infected(sig) => ("infected", Some(sig.as_str()), quarantine_dir(state)),
    };
    write_blob(dir, sha.clone(), bytes).await?;
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

/// A file's metadata and bytes for a member of its talk; every download is recorded.
pub async fn download(
    state: &AppState,
    m: &Member<'_>,
    file_id: &str,
) -> Result<(File, Vec<u8>), AppError> {
    let file = {
        let mut conn = state.store.read().await?;
        files::by_id(&mut conn, file_id).await?
    }
    .ok_or(AppError::NotFound)?;
    chat_access(state, m, &file.talk_id, TalkAction::Read).await?;
    if file.status != "clean" {
        // Quarantined content is never served, not even to its uploader.
        return Err(AppError::NotFound);
    }
    let path = blob_path(&blob_dir(state), &file.sha256);
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| AppError::Internal(format!("blob {}: {e}", file.sha256)))?;
    let mut tx = state.store.write().await?;
    let mut e = audit_entry(m.actor, AuditAction::FileDownloaded);
    e.target_id = Some(file.id.clone());
    detail(&mut e, "talk", file.talk_id.as_str());
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok((file, bytes))
}

/// The clean files of a talk, for its members.
pub async fn of_talk(
    state: &AppState,
    m: &Member<'_>,
    talk_id: &str,
) -> Result<Vec<File>, AppError> {
    chat_access(state, m, talk_id, TalkAction::Read).await?;
    let mut conn = state.store.read().await?;
    Ok(files::of_talk(&mut conn, talk_id).await?)
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
