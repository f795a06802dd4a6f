//! Registered internet devices (I5): one row per user and device token (kept as its
//! SHA-256), with its approval state, and the sessions that signed in from it.

use crate::{AnyConnection, Result, WriteTx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Device {
    pub id: String,
    pub user_id: String,
    pub org_id: String,
    pub name: String,
    pub platform: String,
    /// `pending`, `active`, `refused` or `lost`.
    pub status: String,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    /// The device key's public half (base64url SEC1); none: a cookie-only device.
    pub public_key: Option<String>,
}

const COLUMNS: &str = "id, user_id, org_id, name, platform, status, first_seen_at, last_seen_at, decided_by, decided_at, public_key";

pub async fn by_token(
    conn: &mut AnyConnection,
    user_id: &str,
    token_hash: &str,
) -> Result<Option<Device>> {
    let sql = format!("SELECT {COLUMNS} FROM devices WHERE user_id = $1 AND token_hash = $2");
    Ok(sqlx::query_as(&sql)
        .bind(user_id)
        .bind(token_hash)
        .fetch_optional(conn)
        .await?)
}

/// Whether any device of the user has been reported lost.
pub async fn has_lost(conn: &mut AnyConnection, user_id: &str) -> Result<bool> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM devices WHERE user_id = $1 AND status = 'lost'")
            .bind(user_id)
            .fetch_one(conn)
            .await?;
    Ok(n > 0)
}

pub async fn by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<Device>> {
    let sql = format!("SELECT {COLUMNS} FROM devices WHERE id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

pub struct NewDevice<'a> {
    pub user_id: &'a str,
    pub org_id: &'a str,
    pub token_hash: &'a str,
    pub name: &'a str,
    pub platform: &'a str,
    pub status: &'a str,
    pub public_key: Option<&'a str>,
}

pub async fn insert(tx: &mut WriteTx, d: &NewDevice<'_>) -> Result<String> {
    let id = crate::new_id();
    let now = crate::now_us();
    sqlx::query(
        "INSERT INTO devices (id, user_id, org_id, token_hash, name, platform, status, first_seen_at, last_seen_at, public_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)",
    )
    .bind(&id)
    .bind(d.user_id)
    .bind(d.org_id)
    .bind(d.token_hash)
    .bind(d.name)
    .bind(d.platform)
    .bind(d.status)
    .bind(now)
    .bind(d.public_key)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Binds a key to a device that had none; false when it has one already (the first key
/// stays: a later client cannot replace it).
pub async fn bind_key(tx: &mut WriteTx, id: &str, public_key: &str) -> Result<bool> {
    let done =
        sqlx::query("UPDATE devices SET public_key = $1 WHERE id = $2 AND public_key IS NULL")
            .bind(public_key)
            .bind(id)
            .execute(tx.conn())
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a sign-in challenge as answered; false when it was answered before (a replay).
/// Rows past their expiry are dropped on the way, so the table stays the size of five
/// minutes of sign-ins.
pub async fn spend_challenge(tx: &mut WriteTx, hash: &str, expires_at: i64) -> Result<bool> {
    sqlx::query("DELETE FROM device_challenges_used WHERE expires_at < $1")
        .bind(crate::now_us())
        .execute(tx.conn())
        .await?;
    let done = sqlx::query(
        "INSERT INTO device_challenges_used (challenge_hash, expires_at) VALUES ($1, $2)
         ON CONFLICT (challenge_hash) DO NOTHING",
    )
    .bind(hash)
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn seen(tx: &mut WriteTx, id: &str) -> Result<()> {
    sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE id = $2")
        .bind(crate::now_us())
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Moves a device from one of `from` to `to`, recording who decided; false when it was in
/// none of them (already decided, or gone).
pub async fn set_status(
    tx: &mut WriteTx,
    id: &str,
    from: &[&str],
    to: &str,
    by: Option<&str>,
) -> Result<bool> {
    let placeholders: Vec<String> = (0..from.len()).map(|i| format!("${}", i + 5)).collect();
    let sql = format!(
        "UPDATE devices SET status = $1, decided_by = $2, decided_at = $3 WHERE id = $4 AND status IN ({})",
        placeholders.join(", ")
    );
    let mut q = sqlx::query(&sql)
        .bind(to)
        .bind(by)
        .bind(crate::now_us())
        .bind(id);
    for f in from {
        q = q.bind(*f);
    }
    Ok(q.execute(tx.conn()).await?.rows_affected() == 1)
}

pub async fn rename(tx: &mut WriteTx, user_id: &str, id: &str, name: &str) -> Result<bool> {
    let done = sqlx::query("UPDATE devices SET name = $1 WHERE id = $2 AND user_id = $3")
        .bind(name)
        .bind(id)
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn for_user(conn: &mut AnyConnection, user_id: &str) -> Result<Vec<Device>> {
    let sql =
        format!("SELECT {COLUMNS} FROM devices WHERE user_id = $1 ORDER BY last_seen_at DESC");
    Ok(sqlx::query_as(&sql).bind(user_id).fetch_all(conn).await?)
}

/// A body's devices: waiting ones first, then by last use.
pub async fn for_org(conn: &mut AnyConnection, org_id: &str) -> Result<Vec<Device>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM devices WHERE org_id = $1
         ORDER BY CASE status WHEN 'pending' THEN 0 ELSE 1 END, last_seen_at DESC LIMIT 1000"
    );
    Ok(sqlx::query_as(&sql).bind(org_id).fetch_all(conn).await?)
}

/// Ends every live session signed in from a device; returns how many.
pub async fn end_sessions(tx: &mut WriteTx, device_id: &str, reason: &str) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE device_id = $3 AND ended_at IS NULL",
    )
    .bind(crate::now_us())
    .bind(reason)
    .bind(device_id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}
