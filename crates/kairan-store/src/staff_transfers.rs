//! Transfer batches (異動): staff CSV files waiting for their effective day. Rows only; what a
//! file does is `services::staff_import`'s, and when it runs is the clock's.

use crate::{AnyConnection, Result, WriteTx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Transfer {
    pub id: String,
    pub org_id: String,
    pub effective_date: String,
    pub file_hex: String,
    pub file_sha256: String,
    pub rows_count: i64,
    pub changes: i64,
    pub state: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    pub result: Option<String>,
}

const COLUMNS: &str = "id, org_id, effective_date, file_hex, file_sha256, rows_count, changes, state, created_by, created_at, decided_at, result";

pub struct NewTransfer<'a> {
    pub org_id: &'a str,
    pub effective_date: &'a str,
    pub file_hex: &'a str,
    pub file_sha256: &'a str,
    pub rows_count: i64,
    pub changes: i64,
    pub created_by: Option<&'a str>,
}

pub async fn insert(tx: &mut WriteTx, t: &NewTransfer<'_>) -> Result<String> {
    let id = crate::new_id();
    sqlx::query(
        "INSERT INTO staff_transfers (id, org_id, effective_date, file_hex, file_sha256, rows_count, changes, state, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'scheduled', $8, $9)",
    )
    .bind(&id)
    .bind(t.org_id)
    .bind(t.effective_date)
    .bind(t.file_hex)
    .bind(t.file_sha256)
    .bind(t.rows_count)
    .bind(t.changes)
    .bind(t.created_by)
    .bind(crate::now_us())
    .execute(tx.conn())
    .await?;
    Ok(id)
}

pub async fn by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<Transfer>> {
    let sql = format!("SELECT {COLUMNS} FROM staff_transfers WHERE id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

/// A body's batches, newest first.
pub async fn of_org(conn: &mut AnyConnection, org_id: &str) -> Result<Vec<Transfer>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM staff_transfers WHERE org_id = $1 ORDER BY created_at DESC, id DESC LIMIT 200"
    );
    Ok(sqlx::query_as(&sql).bind(org_id).fetch_all(conn).await?)
}

/// Scheduled batches whose day has come (`today` as `YYYY-MM-DD`), oldest day first.
pub async fn due(conn: &mut AnyConnection, today: &str) -> Result<Vec<Transfer>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM staff_transfers WHERE state = 'scheduled' AND effective_date <= $1
         ORDER BY effective_date, created_at LIMIT 50"
    );
    Ok(sqlx::query_as(&sql).bind(today).fetch_all(conn).await?)
}

/// Moves a scheduled batch to `state` with its result. False if it was no longer scheduled
/// (another node applied it, or it was cancelled).
pub async fn decide(
    tx: &mut WriteTx,
    id: &str,
    state: &str,
    result: &str,
    at: i64,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE staff_transfers SET state = $2, result = $3, decided_at = $4 WHERE id = $1 AND state = 'scheduled'",
    )
    .bind(id)
    .bind(state)
    .bind(result)
    .bind(at)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() > 0)
}
