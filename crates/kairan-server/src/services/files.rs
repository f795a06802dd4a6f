//! Files in talks (C4, G2, G9). An upload is checked in this order: the sender may post in the
//! talk, the name is a plain name, the size is within the device's limit, the type (decided
//! from the bytes, never from the name or the client's Content-Type) is one the device may
//! send, clamd says it is clean, and a document's text passes the body's DLP rules. Only then
//! are the bytes kept (received into a temporary file, synced, renamed under their SHA-256) and
//! the row and its audit record committed together: a crash at any point leaves either nothing
//! visible or the whole file. `docs/files.md` walks through it.
//!
//! An infected file is kept in quarantine for the security officer, never served; the officers
//! are told and it is an audit event. When clamd does not answer the upload fails closed, or,
//! by the administrator's recorded choice, waits unserved for a later scan. Downloads check
//! rights on every request and are always sent as attachments.

use crate::error::AppError;
use crate::scanner::{Endpoint, ScanError, Scanner, Verdict};
use crate::services::chat::{Member, load as chat_access};
use crate::services::{audit_entry, detail, dlp};
use crate::state::AppState;
use kairan_domain::Role;
use kairan_domain::audit::AuditAction;
use kairan_domain::error::DomainError;
use kairan_domain::input::parse_file_name;
use kairan_domain::policy::TalkAction;
use kairan_store::files::{self, File, NewFile};
use kairan_store::{audit, chat, protection, users};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a file is refused before it is scanned or stored: a stable error code.
type Refusal = &'static str;

/// What the bytes are, from their first bytes (and, for Office files, their zip directory),
/// and the name must agree. Refused: anything else, Office files with macros, ActiveX or
/// embedded OLE objects (which can carry programs), and archives that are broken or bombs.
pub fn sniff(name: &str, bytes: &[u8]) -> Result<&'static str, Refusal> {
    const NOT_ALLOWED: Refusal = "file_type_not_allowed";
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let is = |magic: &[u8]| bytes.starts_with(magic);
    let named = |ok: bool, t: &'static str| if ok { Ok(t) } else { Err(NOT_ALLOWED) };
    if is(b"\x89PNG\r\n\x1a\n") {
        return named(ext == "png", "image/png");
    }
    if is(b"\xff\xd8\xff") {
        return named(matches!(ext.as_str(), "jpg" | "jpeg"), "image/jpeg");
    }
    if is(b"GIF87a") || is(b"GIF89a") {
        return named(ext == "gif", "image/gif");
    }
    if is(b"%PDF-") {
        return named(ext == "pdf", "application/pdf");
    }
    if is(b"PK\x03\x04") {
        return sniff_ooxml(&ext, bytes);
    }
    if is(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") && matches!(ext.as_str(), "docx" | "xlsx" | "pptx") {
        // An Office file saved with a password is an OLE container, not a zip.
        return Err("file_encrypted");
    }
    // Text: no NUL bytes (UTF-8 or CP932), or UTF-16 with its byte-order mark.
    let utf16 = is(b"\xff\xfe") || is(b"\xfe\xff");
    if matches!(ext.as_str(), "txt" | "csv" | "md") && (utf16 || !bytes.contains(&0)) {
        return Ok(if ext == "csv" {
            "text/csv"
        } else {
            "text/plain"
        });
    }
    Err(NOT_ALLOWED)
}

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";

/// An Office Open XML file: a zip whose directory holds the main part of its kind.
fn sniff_ooxml(ext: &str, bytes: &[u8]) -> Result<&'static str, Refusal> {
    let names = match kairan_dlp::zip_entry_names(bytes, &kairan_dlp::Limits::default()) {
        Ok(n) => n,
        Err(kairan_dlp::ExtractError::Encrypted) => return Err("file_encrypted"),
        Err(_) => return Err("file_malformed"),
    };
    let has = |part: &str| names.iter().any(|n| n == part);
    if !has("[Content_Types].xml") {
        return Err("file_type_not_allowed");
    }
    // Macros (vbaProject.bin), ActiveX controls and embedded OLE objects can run code. Charts'
    // embedded workbooks (.xlsx) are plain data and stay.
    let active = names.iter().any(|n| {
        let n = n.to_ascii_lowercase();
        n.ends_with("vbaproject.bin")
            || n.contains("activex/")
            || (n.contains("/embeddings/") && n.ends_with(".bin"))
    });
    if active {
        return Err("file_active_content");
    }
    match ext {
        "docx" if has("word/document.xml") => Ok(DOCX),
        "xlsx" if has("xl/workbook.xml") => Ok(XLSX),
        "pptx" if has("ppt/presentation.xml") => Ok(PPTX),
        _ => Err("file_type_not_allowed"),
    }
}

/// The kind of file a device rule names (`files.<device>.types`).
fn group(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "pdf",
        "text/plain" | "text/csv" => "text",
        DOCX | XLSX | PPTX => "office",
        _ => "image",
    }
}

/// Whether files may be downloaded on the member's device (`files.<device>.download`).
pub fn may_download(state: &AppState, device: kairan_domain::DeviceClass) -> bool {
    state.config.files.for_device(device).download
}

/// Which extractor reads a type's text; `None` for images.
fn doc_kind(content_type: &str) -> Option<kairan_dlp::DocKind> {
    use kairan_dlp::DocKind;
    Some(match content_type {
        "text/plain" => DocKind::Text,
        "text/csv" => DocKind::Csv,
        "application/pdf" => DocKind::Pdf,
        DOCX => DocKind::Docx,
        XLSX => DocKind::Xlsx,
        PPTX => DocKind::Pptx,
        _ => return None,
    })
}

/// The text of a document, read from the received file, and what the reading did
/// (`scanned`, `truncated`, `no_text`, or `unreadable`).
async fn read_text(
    path: &Path,
    content_type: &'static str,
) -> Result<(Option<String>, &'static str), AppError> {
    let Some(kind) = doc_kind(content_type) else {
        return Ok((None, "no_text"));
    };
    let path = path.to_owned();
    let read = tokio::task::spawn_blocking(move || {
        map(&path).map(|bytes| kairan_dlp::extract(kind, &bytes, &kairan_dlp::Limits::default()))
    })
    .await
    .map_err(|e| AppError::Internal(format!("extract task: {e}")))?
    .map_err(|e| AppError::Internal(format!("upload map: {e}")))?;
    match read {
        Ok(x) if x.truncated => Ok((Some(x.text), "truncated")),
        Ok(x) => Ok((Some(x.text), "scanned")),
        Err(kairan_dlp::ExtractError::Bomb) => Err(AppError::FileRefused("file_malformed")),
        // A PDF that only restricts printing is encrypted too, and common in official
        // documents; it is accepted, marked as not inspected. A zip part that is encrypted or
        // broken is refused (the sniff already read its directory).
        Err(e) if kind == kairan_dlp::DocKind::Pdf => {
            tracing::info!(error = %e, "PDF text not readable; stored as not inspected");
            Ok((None, "unreadable"))
        }
        Err(kairan_dlp::ExtractError::Encrypted) => Err(AppError::FileRefused("file_encrypted")),
        Err(_) => Err(AppError::FileRefused("file_malformed")),
    }
}

/// How many findings of each kind, for the file row and the refusal; never the values.
fn kind_counts(v: &dlp::Verdict) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for f in &v.findings {
        *counts.entry(f.kind.clone()).or_insert(0) += 1;
    }
    counts
}

/// Checks a document's text with the body's personal-data rules (G2), as a message's text is
/// checked: findings that block or would need masking refuse the file (a document cannot be
/// masked for the sender); findings that ask for confirmation need `confirmed`. Returns the
/// verdict of what goes ahead.
async fn screen_text(
    state: &AppState,
    m: &Member<'_>,
    talk: &chat::Talk,
    text: String,
    confirmed: bool,
) -> Result<dlp::Verdict, AppError> {
    let p = crate::services::protection::load(state, m.org_id).await?;
    let ceiling = crate::services::chat::rank(talk.ceiling);
    let verdict = {
        tokio::task::spawn_blocking(move || check_in_pieces(&p, &text, ceiling))
            .await
            .map_err(|e| AppError::Internal(format!("dlp task: {e}")))?
    };
    let counts = serde_json::json!(kind_counts(&verdict));
    let stopped = crate::services::chat::refuse_on_record(
        state,
        m,
        &talk.id,
        &verdict,
        confirmed,
        ("file_findings", counts),
    )
    .await?;
    if !stopped {
        return Ok(verdict);
    }
    Err(AppError::FileDlp(Box::new(FileFindings::of(&verdict))))
}

/// How much text one DLP check takes at a time. The detector keeps a normalized copy and an
/// offset map several times the size of what it reads, so a 16 MiB document is read in pieces
/// (cut at line ends) rather than whole.
const DLP_PIECE: usize = 1 << 20;

/// [`dlp::check`] over a long text, piece by piece; the verdict keeps what a file needs (the
/// strongest action, the findings' kinds, the implied class, whether officers are told) and
/// not the text, whose offsets would point into the pieces.
fn check_in_pieces(p: &dlp::Protection, text: &str, ceiling: u8) -> dlp::Verdict {
    let mut rest = text;
    let mut merged: Option<dlp::Verdict> = None;
    while !rest.is_empty() {
        let mut cut = rest.len().min(DLP_PIECE);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        if cut < rest.len()
            && let Some(nl) = rest[..cut].rfind('\n')
        {
            cut = nl + 1;
        }
        let (piece, tail) = rest.split_at(cut);
        rest = tail;
        let mut v = dlp::check(p, piece, ceiling);
        v.checked_text.clear();
        v.masked_text.clear();
        merged = Some(match merged {
            None => v,
            Some(mut all) => {
                all.action = all.action.max(v.action);
                all.implied_class = all.implied_class.max(v.implied_class);
                all.notify |= v.notify;
                all.findings.extend(v.findings);
                all
            }
        });
    }
    merged.unwrap_or_else(|| dlp::check(p, "", ceiling))
}

/// What a refused or questioned document holds, for its uploader: kinds and counts, never the
/// values or the text.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FileFindings {
    /// `block`/`mask`: the file cannot go; `confirm`: it goes once the sender confirms.
    pub action: dlp::Action,
    pub kinds: Vec<KindCount>,
    /// The talk's ceiling, named, when findings are above it.
    pub ceiling_ja: Option<String>,
    pub ceiling_en: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct KindCount {
    pub kind: String,
    pub label_ja: String,
    pub label_en: String,
    pub count: usize,
}

impl FileFindings {
    fn of(v: &dlp::Verdict) -> FileFindings {
        let mut kinds: Vec<KindCount> = Vec::new();
        for f in &v.findings {
            match kinds.iter_mut().find(|k| k.kind == f.kind) {
                Some(k) => k.count += 1,
                None => kinds.push(KindCount {
                    kind: f.kind.clone(),
                    label_ja: f.label_ja.clone(),
                    label_en: f.label_en.clone(),
                    count: 1,
                }),
            }
        }
        let above = v.findings.iter().any(|f| f.above_ceiling_ja.is_some());
        FileFindings {
            action: v.action(),
            kinds,
            ceiling_ja: above.then(|| v.ceiling_ja.clone()),
            ceiling_en: above.then(|| v.ceiling_en.clone()),
        }
    }

    pub fn code(&self) -> &'static str {
        match self.action {
            dlp::Action::Block | dlp::Action::Mask => "file_dlp_refused",
            dlp::Action::Confirm | dlp::Action::Allow => "file_dlp_confirm_required",
        }
    }

    fn kinds_ja(&self) -> String {
        self.kinds
            .iter()
            .map(|k| format!("{} {}件", k.label_ja, k.count))
            .collect::<Vec<_>>()
            .join("、")
    }

    fn kinds_en(&self) -> String {
        self.kinds
            .iter()
            .map(|k| format!("{} ×{}", k.label_en, k.count))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn message_ja(&self) -> String {
        match (self.action, &self.ceiling_ja) {
            (dlp::Action::Confirm | dlp::Action::Allow, _) => format!(
                "このファイルには個人情報などが含まれている可能性があります（{}）。内容を確認し、送ってよい場合は「確認して添付」を選んでください。",
                self.kinds_ja()
            ),
            (_, Some(ceiling)) => format!(
                "このトークで扱える区分（{ceiling}）を超える情報（{}）が含まれているため、このファイルは添付できません。該当箇所を削除または加工してから添付してください。",
                self.kinds_ja()
            ),
            (_, None) => format!(
                "送信できない情報（{}）が含まれているため、このファイルは添付できません。該当箇所を削除または加工してから添付してください。",
                self.kinds_ja()
            ),
        }
    }

    pub fn message_en(&self) -> String {
        match (self.action, &self.ceiling_en) {
            (dlp::Action::Confirm | dlp::Action::Allow, _) => format!(
                "This file may contain personal or restricted information ({}). Check it, and choose “Confirm and attach” if it may go.",
                self.kinds_en()
            ),
            (_, Some(ceiling)) => format!(
                "This file holds information above what this talk may hold ({ceiling}): {}. Remove or redact it, then attach the file again.",
                self.kinds_en()
            ),
            (_, None) => format!(
                "This file holds information that may not be sent ({}). Remove or redact it, then attach the file again.",
                self.kinds_en()
            ),
        }
    }
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

/// Marks every row holding `file`'s bytes infected (earlier copies stored before the scanner
/// knew them included) and tells the body's security officers. Returns how many rows other
/// than infected ones changed, and the officers told (to publish after commit).
async fn quarantine(
    tx: &mut kairan_store::WriteTx,
    file: &File,
    signature: &str,
    deferred: bool,
) -> Result<(u64, Vec<String>), AppError> {
    let changed = files::quarantine_content(tx, &file.sha256, signature).await?;
    let officers =
        users::active_with_role(tx.conn(), &file.org_id, Role::SecurityOfficer.code()).await?;
    let mut details =
        serde_json::json!({ "outcome": "quarantined", "file": file.id, "signature": signature });
    if deferred {
        details["scan"] = "deferred".into();
    }
    protection::notify(
        tx,
        &file.org_id,
        &officers,
        "malware",
        Some(&file.uploader_id),
        Some(&file.talk_id),
        &details.to_string(),
    )
    .await?;
    Ok((changed, officers))
}

/// Takes bytes found infected out of the servable store once the rows say so: moved into
/// quarantine, or dropped when quarantine already holds them. A failure is logged, never
/// served: every row naming the bytes is already `infected`.
async fn evict(state: &AppState, sha: &str) {
    let (blobs, kept) = (blob_dir(state), quarantine_dir(state));
    let sha = sha.to_owned();
    let moved = tokio::task::spawn_blocking(move || {
        let from = blob_path(&blobs, &sha);
        if !from.exists() {
            return Ok(());
        }
        std::fs::create_dir_all(&kept)?;
        place_blob(&from, &kept, &sha)
    })
    .await;
    if !matches!(moved, Ok(Ok(()))) {
        tracing::error!("could not take a blob found infected out of the servable store");
    }
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
    let talk = chat_access(state, m, talk_id, TalkAction::Post).await?;
    // A guest sends files only where its body allows it (G10).
    if !crate::services::guests::file_rights(state, m.actor, m.org_id)
        .await?
        .may_upload()
    {
        return Err(AppError::FileRefused("files_not_allowed_for_guests"));
    }
    Ok(UploadTarget(talk))
}

/// A talk the member was found allowed to post in; only [`upload_target`] makes one.
pub struct UploadTarget(chat::Talk);

/// Receives the body into a temporary file beside the blob store, hashing as it goes and
/// never holding more than one chunk in memory. Refuses as soon as the limit is passed.
async fn receive(
    state: &AppState,
    body: axum::body::Body,
    limit: u64,
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
    confirm_dlp: bool,
    body: axum::body::Body,
) -> Result<File, AppError> {
    let talk = &target.0;
    let talk_id = talk.id.as_str();
    let name = parse_file_name(name)?;
    // What this device class may send (seed 003 §5-3).
    let rules = state.config.files.for_device(m.device);
    let limit = state.config.files.max_mib.min(rules.max_mib) * 1024 * 1024;
    let (mut incoming, sha, size) = receive(state, body, limit).await?;
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
    let content_type = sniffed.map_err(AppError::FileRefused)?;
    if !rules.types.iter().any(|g| g == group(content_type)) {
        return Err(AppError::FileRefused("file_type_not_allowed_on_device"));
    }
    // `None`: the scanner did not answer and the administrator chose to defer scans.
    let verdict = match scanner(state)?.scan_file(&incoming.path).await {
        Ok(v) => Some(v),
        Err(ScanError::TooLarge) => return Err(AppError::FileRefused("file_too_large")),
        Err(e) if state.config.files.when_scanner_down == "defer" => {
            tracing::warn!(error = %e, "scanner unavailable: upload stored, scan deferred");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "upload refused: scanner unavailable");
            return Err(AppError::ScannerUnavailable);
        }
    };
    // Clean files have their text checked for personal data (G2); malware is not read.
    let (findings, class, text_scan, confirmed) = match &verdict {
        Some(Verdict::Clean) | None => {
            let (text, text_scan) = read_text(&incoming.path, content_type).await?;
            // Only a verdict with findings matters from here: without any it implies no class.
            let found = match text {
                Some(t) => Some(screen_text(state, m, talk, t, confirm_dlp).await?)
                    .filter(|v| !v.findings.is_empty()),
                None => None,
            };
            let class = found
                .as_ref()
                .map_or(0, |v| i64::from(v.implied_class))
                .max(talk.default_class);
            let findings = found.as_ref().map(kind_counts);
            (findings, class, text_scan, found)
        }
        Some(Verdict::Infected(_)) => (None, talk.default_class, "no_text", None),
    };
    let findings_json = findings
        .as_ref()
        .and_then(|c| serde_json::to_string(c).ok());
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    let (status, signature, dir) = match &verdict {
        Some(Verdict::Clean) => ("clean", None, blob_dir(state)),
        None => ("pending_scan", None, blob_dir(state)),
        Some(Verdict::Infected(sig)) => ("infected", Some(sig.as_str()), quarantine_dir(state)),
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
            class,
            text_scan,
            findings: findings_json.as_deref(),
            uploaded_from: m.device.code(),
        },
    )
    .await?;
    let action = match verdict {
        Some(Verdict::Infected(_)) => AuditAction::FileInfected,
        _ => AuditAction::FileUploaded,
    };
    let mut e = audit_entry(m.actor, action);
    e.target_id = Some(file.id.clone());
    detail(&mut e, "talk", talk_id);
    detail(&mut e, "sha256", sha.as_str());
    detail(&mut e, "size", size);
    detail(&mut e, "class", class);
    detail(&mut e, "text_scan", text_scan);
    detail(&mut e, "device", m.device.code());
    if status == "pending_scan" {
        detail(&mut e, "scan", "deferred");
    }
    if let Some(counts) = &findings {
        detail(&mut e, "dlp_confirmed", serde_json::json!(counts));
    }
    let mut officers = Vec::new();
    if let Some(sig) = signature {
        detail(&mut e, "signature", sig);
        // The same bytes may have been stored as clean before the scanner knew them.
        let (earlier, told) = quarantine(&mut tx, &file, sig, false).await?;
        if earlier > 0 {
            detail(&mut e, "earlier_copies_quarantined", earlier);
        }
        officers = told;
    }
    audit::append(&mut tx, e).await?;
    if let Some(v) = &confirmed {
        officers.extend(
            crate::services::protection::notify_officers(
                &mut tx,
                &talk.org_id,
                m.user_id,
                &file.id,
                v,
                "sent",
            )
            .await?,
        );
    }
    tx.commit().await?;
    if signature.is_some() {
        evict(state, &sha).await;
    }
    crate::services::protection::publish_notifications(state, officers);
    match file.status.as_str() {
        "clean" | "pending_scan" => Ok(file),
        _ => Err(AppError::FileRefused("file_infected")),
    }
}

/// The types shown in a page ([`Use::View`]): pictures, never SVG.
pub const SHOWN: [&str; 3] = ["image/png", "image/jpeg", "image/gif"];

/// How a file is read: saved by the reader, or shown in the page (an image's preview).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Download,
    View,
}

/// A file and its opened content for a member of its talk; every download is recorded. A
/// file not yet sent is its uploader's alone; a file whose message was deleted is gone for
/// readers too.
pub async fn download(
    state: &AppState,
    m: &Member<'_>,
    file_id: &str,
    how: Use,
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
    if !may_download(state, m.device) {
        return Err(AppError::FileRefused("download_not_allowed_on_device"));
    }
    if !crate::services::guests::file_rights(state, m.actor, m.org_id)
        .await?
        .may_download()
    {
        return Err(AppError::FileRefused("files_not_allowed_for_guests"));
    }
    let visible = match (&file.message_id, &message) {
        (None, _) => file.uploader_id == m.user_id,
        (Some(_), Some(msg)) => msg.deleted_at.is_none(),
        (Some(_), None) => false,
    };
    // Quarantined content is never served, not even to its uploader; unscanned content
    // waits for its scan.
    if visible && file.status == "pending_scan" {
        return Err(AppError::Conflict("file_scan_pending"));
    }
    if !visible || file.status != "clean" {
        return Err(AppError::NotFound);
    }
    // Only pictures whose bytes were checked at upload are ever shown in a page.
    if how == Use::View && !SHOWN.contains(&file.content_type.as_str()) {
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
    if how == Use::View {
        detail(&mut e, "shown", true);
    }
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
                    && matches!(f.status.as_str(), "clean" | "pending_scan")
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
    let name = |p: &PathBuf| {
        p.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned()
    };
    // Which of the old blobs rows still name, asked a few hundred at a time.
    let blobs: Vec<String> = candidates
        .iter()
        .map(name)
        .filter(|n| !n.starts_with(TMP_PREFIX))
        .collect();
    let mut known = std::collections::HashSet::new();
    for chunk in blobs.chunks(500) {
        let mut conn = state.store.read().await?;
        known.extend(files::known_contents(&mut conn, chunk).await?);
    }
    let mut removed = 0;
    for path in candidates {
        let n = name(&path);
        let orphan = n.starts_with(TMP_PREFIX) || !known.contains(&n);
        if !n.is_empty() && orphan && tokio::fs::remove_file(&path).await.is_ok() {
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

/// Scans files stored while the scanner was down (deferred scans), oldest first, until none
/// is left or the scanner still does not answer. Clean content becomes servable; infected
/// content is quarantined with every copy, recorded, and the body's officers are told. Rows
/// sharing bytes (a forwarded copy) are settled by one scan. Returns how many contents were
/// scanned.
pub async fn scan_pending(state: &AppState, scanner: &Scanner) -> Result<usize, AppError> {
    let mut scanned = 0;
    loop {
        let pending = {
            let mut conn = state.store.read().await?;
            files::pending_scan(&mut conn, 20).await?
        };
        if pending.is_empty() {
            return Ok(scanned);
        }
        let mut settled = std::collections::HashSet::new();
        for f in pending {
            if !settled.insert(f.sha256.clone()) {
                continue;
            }
            let path = blob_path(&blob_dir(state), &f.sha256);
            let verdict = match scanner.scan_file(&path).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(error = %e, "deferred scans wait: scanner unavailable");
                    return Ok(scanned);
                }
            };
            scanned += 1;
            let mut e = kairan_store::audit::NewEntry::new(match verdict {
                Verdict::Clean => AuditAction::FileScanned,
                Verdict::Infected(_) => AuditAction::FileInfected,
            });
            e.org_id = Some(f.org_id.clone());
            e.target_id = Some(f.id.clone());
            detail(&mut e, "talk", f.talk_id.as_str());
            detail(&mut e, "sha256", f.sha256.as_str());
            detail(&mut e, "scan", "deferred");
            let mut tx = state.store.write().await?;
            let officers = match &verdict {
                Verdict::Clean => {
                    files::mark_clean(&mut tx, &f.sha256).await?;
                    Vec::new()
                }
                Verdict::Infected(sig) => {
                    detail(&mut e, "signature", sig.as_str());
                    quarantine(&mut tx, &f, sig, true).await?.1
                }
            };
            audit::append(&mut tx, e).await?;
            tx.commit().await?;
            if matches!(verdict, Verdict::Infected(_)) {
                evict(state, &f.sha256).await;
            }
            crate::services::protection::publish_notifications(state, officers);
        }
    }
}

/// Runs deferred scans every minute for the life of the node. A node started with
/// `files.when_scanner_down = "defer"` first records that choice in the audit log.
pub fn start_rescanner(state: AppState) {
    tokio::spawn(async move {
        if state.config.files.when_scanner_down == "defer" {
            let recorded = async {
                let mut tx = state.store.write().await?;
                let mut e = kairan_store::audit::NewEntry::new(AuditAction::ScanDeferralInForce);
                detail(&mut e, "when_scanner_down", "defer");
                audit::append(&mut tx, e).await?;
                tx.commit().await?;
                Ok::<(), AppError>(())
            };
            if let Err(e) = recorded.await {
                tracing::error!(error = %e, "could not record the scan deferral setting");
            }
        }
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let Ok(scanner) = scanner(&state) else {
                continue;
            };
            if let Err(e) = scan_pending(&state, &scanner).await {
                tracing::warn!(error = %e, "deferred scans failed");
            }
        }
    });
}

/// Sweeps at start and then every hour, for the life of the node, removing leftovers older
/// than `files.sweep_after_minutes`.
pub fn start_sweeper(state: AppState) {
    tokio::spawn(async move {
        let age = Duration::from_secs(state.config.files.sweep_after_minutes * 60);
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = sweep(&state, age).await {
                tracing::warn!(error = %e, "upload sweep failed");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn a_long_text_is_checked_in_pieces_and_nothing_is_missed() {
        use super::{DLP_PIECE, check_in_pieces, dlp};
        let p = dlp::Protection::defaults(kairan_domain::classification::Scheme::seed004());
        // Three pieces of ordinary lines, a 取扱注意 in the second, a My Number in the third.
        let filler = "窓口の混雑状況を毎日記録する。\n";
        let mut text = filler.repeat(DLP_PIECE / filler.len() + 10);
        text.push_str("この資料は取扱注意です。\n");
        text.push_str(&filler.repeat(DLP_PIECE / filler.len()));
        text.push_str("申請者の個人番号は1234-5678-9018です。\n");
        let v = check_in_pieces(&p, &text, 1);
        let kinds: Vec<&str> = v.findings.iter().map(|f| f.kind.as_str()).collect();
        assert_eq!(kinds, ["keyword", "my_number"]);
        assert_eq!(v.action, dlp::Action::Mask, "the strongest action wins");
        assert!(v.notify);
        assert!(v.checked_text.is_empty(), "no copy of the document is kept");
        assert_eq!(check_in_pieces(&p, "", 1).action, dlp::Action::Allow);
    }

    #[test]
    fn types_come_from_the_bytes_and_the_name_must_agree() {
        assert_eq!(sniff("写真.png", b"\x89PNG\r\n\x1a\n...."), Ok("image/png"));
        assert_eq!(sniff("写真.jpg", b"\xff\xd8\xff\xe0...."), Ok("image/jpeg"));
        assert_eq!(sniff("資料.pdf", b"%PDF-1.7\n..."), Ok("application/pdf"));
        assert_eq!(sniff("メモ.txt", "議事録".as_bytes()), Ok("text/plain"));
        // CP932 text has no NUL bytes; UTF-16 has them but starts with its byte-order mark.
        assert_eq!(
            sniff("名簿.csv", b"\x8e\x81\x96\xbc,\x93\x64\x98\x62"),
            Ok("text/csv")
        );
        assert_eq!(sniff("メモ.txt", b"\xff\xfea\x00b\x00"), Ok("text/plain"));
        // An executable named as an image, a PNG named as a document, a script as text.
        let refused = Err("file_type_not_allowed");
        assert_eq!(sniff("photo.png", b"MZ\x90\x00\x03"), refused);
        assert_eq!(sniff("report.pdf", b"\x89PNG\r\n\x1a\n"), refused);
        assert_eq!(sniff("evil.html", b"<script>alert(1)</script>"), refused);
        assert_eq!(sniff("binary.txt", b"a\x00b"), refused);
        // A zip that is not a readable archive; a password-protected Office file.
        assert_eq!(sniff("a.docx", b"PK\x03\x04....."), Err("file_malformed"));
        assert_eq!(
            sniff("a.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1...."),
            Err("file_encrypted")
        );
    }
}
