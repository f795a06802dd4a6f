//! Files attached in talks (C4, G9): one row per scanned file. The bytes live in the blob store
//! (clean) or in quarantine (infected), addressed by SHA-256; this table says whose, where, and
//! what the scanner said.

use crate::{AnyConnection, Result, WriteTx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct File {
    pub id: String,
    pub org_id: String,
    pub talk_id: String,
    pub uploader_id: String,
    pub name: String,
    pub size: i64,
    pub sha256: String,
    pub content_type: String,
    pub status: String,
    pub signature: Option<String>,
    pub created_at: i64,
    /// The message that holds it; `None` while only its uploader has it (before sending).
    pub message_id: Option<String>,
    /// Confidentiality rank.
    pub class: i64,
    /// What the text scan did: `scanned`, `no_text`, `truncated` or `unreadable`.
    pub text_scan: String,
    /// Kinds of personal data found, JSON `{"my_number": 2}`; never the values.
    pub findings: Option<String>,
    /// The device class it was uploaded from: `lgwan_pc` or `internet_device`.
    pub uploaded_from: String,
}

const COLUMNS: &str = "id, org_id, talk_id, uploader_id, name, size, sha256, content_type, status, signature, created_at, message_id, class, text_scan, findings, uploaded_from";

pub struct NewFile<'a> {
    pub org_id: &'a str,
    pub talk_id: &'a str,
    pub uploader_id: &'a str,
    pub name: &'a str,
    pub size: i64,
    pub sha256: &'a str,
    pub content_type: &'a str,
    pub status: &'a str,
    pub signature: Option<&'a str>,
    pub class: i64,
    pub text_scan: &'a str,
    pub findings: Option<&'a str>,
    pub uploaded_from: &'a str,
}

pub async fn insert(tx: &mut WriteTx, f: &NewFile<'_>) -> Result<File> {
    let file = File {
        id: crate::new_id(),
        org_id: f.org_id.to_owned(),
        talk_id: f.talk_id.to_owned(),
        uploader_id: f.uploader_id.to_owned(),
        name: f.name.to_owned(),
        size: f.size,
        sha256: f.sha256.to_owned(),
        content_type: f.content_type.to_owned(),
        status: f.status.to_owned(),
        signature: f.signature.map(str::to_owned),
        created_at: crate::now_us(),
        message_id: None,
        class: f.class,
        text_scan: f.text_scan.to_owned(),
        findings: f.findings.map(str::to_owned),
        uploaded_from: f.uploaded_from.to_owned(),
    };
    sqlx::query(&format!(
        "INSERT INTO files ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    ))
    .bind(&file.id)
    .bind(&file.org_id)
    .bind(&file.talk_id)
    .bind(&file.uploader_id)
    .bind(&file.name)
    .bind(file.size)
    .bind(&file.sha256)
    .bind(&file.content_type)
    .bind(&file.status)
    .bind(&file.signature)
    .bind(file.created_at)
    .bind(&file.message_id)
    .bind(file.class)
    .bind(&file.text_scan)
    .bind(&file.findings)
    .bind(&file.uploaded_from)
    .execute(tx.conn())
    .await?;
    Ok(file)
}

pub async fn by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<File>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM files WHERE id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

/// The clean (or not yet scanned) files sent in a talk (attached to a message that was not deleted), newest first.
pub async fn of_talk(conn: &mut AnyConnection, talk_id: &str) -> Result<Vec<File>> {
    let columns = COLUMNS
        .split(", ")
        .map(|c| format!("f.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(sqlx::query_as(&format!(
        "SELECT {columns} FROM files f JOIN messages m ON m.id = f.message_id
         WHERE f.talk_id = $1 AND f.status IN ('clean', 'pending_scan') AND m.deleted_at IS NULL
         ORDER BY f.created_at DESC LIMIT 500"
    ))
    .bind(talk_id)
    .fetch_all(conn)
    .await?)
}

/// Marks every file with these bytes infected: the same content uploaded earlier, when the
/// scanner did not yet know it, must stop being served too. Returns how many earlier rows
/// changed.
pub async fn quarantine_content(tx: &mut WriteTx, sha256: &str, signature: &str) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE files SET status = 'infected', signature = $2 WHERE sha256 = $1 AND status <> 'infected'",
    )
    .bind(sha256)
    .bind(signature)
    .execute(tx.conn())
    .await?
    .rows_affected())
}

/// Of these files, the ids of those still waiting to be sent (clean or waiting for their scan,
/// not yet in a message), read under the write lock so two messages cannot take the same file.
pub async fn unattached(tx: &mut WriteTx, ids: &[&str]) -> Result<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id FROM files WHERE id IN ({}) AND message_id IS NULL AND status IN ('clean', 'pending_scan')",
        crate::in_list(1, ids.len())
    );
    let mut q = sqlx::query_scalar(&sql);
    for id in ids {
        q = q.bind(*id);
    }
    Ok(q.fetch_all(tx.conn()).await?)
}

/// Files as they are now, for the screening before a send (outside the write lock).
pub async fn by_ids(conn: &mut AnyConnection, ids: &[String]) -> Result<Vec<File>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM files WHERE id IN ({})",
        crate::in_list(1, ids.len())
    );
    let mut q = sqlx::query_as(&sql);
    for id in ids {
        q = q.bind(id);
    }
    Ok(q.fetch_all(conn).await?)
}

/// Puts files into the message that carries them.
pub async fn attach(tx: &mut WriteTx, message_id: &str, ids: &[String]) -> Result<()> {
    for id in ids {
        sqlx::query("UPDATE files SET message_id = $1 WHERE id = $2 AND message_id IS NULL")
            .bind(message_id)
            .bind(id)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// Of these contents (SHA-256 hex), the ones some row (clean, waiting or quarantined) still
/// names: a blob no row names is left over from an upload that did not commit.
pub async fn known_contents(conn: &mut AnyConnection, sha256s: &[String]) -> Result<Vec<String>> {
    if sha256s.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT DISTINCT sha256 FROM files WHERE sha256 IN ({})",
        crate::in_list(1, sha256s.len())
    );
    let mut q = sqlx::query_scalar(&sql);
    for s in sha256s {
        q = q.bind(s);
    }
    Ok(q.fetch_all(conn).await?)
}

/// A clean file copied into another talk with the message that forwards it: a new row naming
/// the same stored bytes, so the target talk's members may fetch it. Nothing is copied if the
/// original has since been found infected.
pub async fn copy_into(
    tx: &mut WriteTx,
    from: &str,
    id: &str,
    talk_id: &str,
    message_id: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO files (id, org_id, talk_id, uploader_id, name, size, sha256, content_type, status, signature, created_at, message_id, class, text_scan, findings, uploaded_from)
         SELECT $1, org_id, $2, uploader_id, name, size, sha256, content_type, status, signature, $3, $4, class, text_scan, findings, uploaded_from
         FROM files WHERE id = $5 AND status IN ('clean', 'pending_scan')",
    )
    .bind(id)
    .bind(talk_id)
    .bind(crate::now_us())
    .bind(message_id)
    .bind(from)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Files stored while the scanner was down, oldest first (copies of the same bytes each have
/// their row).
pub async fn pending_scan(conn: &mut AnyConnection, limit: i64) -> Result<Vec<File>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM files WHERE status = 'pending_scan' ORDER BY created_at LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Every file with these bytes that waited for its scan is clean now. Returns how many.
pub async fn mark_clean(tx: &mut WriteTx, sha256: &str) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE files SET status = 'clean' WHERE sha256 = $1 AND status = 'pending_scan'",
    )
    .bind(sha256)
    .execute(tx.conn())
    .await?
    .rows_affected())
}
