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
}

const COLUMNS: &str = "id, org_id, talk_id, uploader_id, name, size, sha256, content_type, status, signature, created_at";

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
    };
    sqlx::query(&format!(
        "INSERT INTO files ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
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

/// The clean files of a talk, newest first.
pub async fn of_talk(conn: &mut AnyConnection, talk_id: &str) -> Result<Vec<File>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM files WHERE talk_id = $1 AND status = 'clean' ORDER BY created_at DESC"
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
