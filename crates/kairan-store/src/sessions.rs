//! Server-side sessions. The cookie carries a random token; the database keeps only its
//! SHA-256, so a copy of the database does not give anyone a live session. Every node reads
//! the same table, so any node can serve any request.

use crate::{AnyConnection, Result, WriteTx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub prev_sign_in_at: Option<i64>,
    pub failed_before: i64,
    pub ended_at: Option<i64>,
    /// What the session still owes after the password: `none`, `verify` or `enrol`.
    pub mfa_state: String,
    pub device_id: Option<String>,
    /// The idle limit from the body's sign-in settings (I4); none: the server's default.
    pub idle_minutes: Option<i64>,
}

const COLUMNS: &str = "id, user_id, csrf_token, created_at, last_seen_at, ip, user_agent, prev_sign_in_at, failed_before, ended_at, mfa_state, device_id, idle_minutes";

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub csrf_token: &'a str,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub prev_sign_in_at: Option<i64>,
    pub failed_before: i64,
    pub mfa_state: &'a str,
    /// The registered internet device it signs in from.
    pub device_id: Option<&'a str>,
    pub idle_minutes: Option<i64>,
}

pub async fn insert(tx: &mut WriteTx, s: &NewSession<'_>) -> Result<String> {
    let id = crate::new_id();
    let now = crate::now_us();
    sqlx::query(
        "INSERT INTO sessions (id, token_hash, user_id, csrf_token, created_at, last_seen_at, ip, user_agent, prev_sign_in_at, failed_before, mfa_state, device_id, idle_minutes)
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&id)
    .bind(s.token_hash)
    .bind(s.user_id)
    .bind(s.csrf_token)
    .bind(now)
    .bind(s.ip)
    .bind(s.user_agent)
    .bind(s.prev_sign_in_at)
    .bind(s.failed_before)
    .bind(s.mfa_state)
    .bind(s.device_id)
    .bind(s.idle_minutes)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// A live (not ended) session by its token hash.
pub async fn by_token_hash(conn: &mut AnyConnection, token_hash: &str) -> Result<Option<Session>> {
    let sql = format!("SELECT {COLUMNS} FROM sessions WHERE token_hash = $1 AND ended_at IS NULL");
    Ok(sqlx::query_as(&sql)
        .bind(token_hash)
        .fetch_optional(conn)
        .await?)
}

pub async fn by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<Session>> {
    let sql = format!("SELECT {COLUMNS} FROM sessions WHERE id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

pub async fn touch(conn: &mut AnyConnection, id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND ended_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn live_for_user(conn: &mut AnyConnection, user_id: &str) -> Result<Vec<Session>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM sessions WHERE user_id = $1 AND ended_at IS NULL ORDER BY last_seen_at DESC"
    );
    Ok(sqlx::query_as(&sql).bind(user_id).fetch_all(conn).await?)
}

/// Sets what the session shows as the previous sign-in once its sign-in is complete (after
/// the second factor, when there is one).
pub async fn set_sign_in_history(
    tx: &mut WriteTx,
    id: &str,
    prev_sign_in_at: Option<i64>,
    failed_before: i64,
) -> Result<()> {
    sqlx::query("UPDATE sessions SET prev_sign_in_at = $1, failed_before = $2 WHERE id = $3")
        .bind(prev_sign_in_at)
        .bind(failed_before)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// When the user last signed out (or a session of theirs ended) before `before`: what the
/// home page shows beside the previous sign-in (seed 004 5.3(3)).
pub async fn last_ended_before(
    conn: &mut AnyConnection,
    user_id: &str,
    before: i64,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT MAX(ended_at) FROM sessions WHERE user_id = $1 AND ended_at IS NOT NULL AND ended_at < $2",
    )
    .bind(user_id)
    .bind(before)
    .fetch_one(conn)
    .await?)
}

/// Ends one session; returns false when it had already ended.
pub async fn end(tx: &mut WriteTx, id: &str, reason: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL",
    )
    .bind(crate::now_us())
    .bind(reason)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends the user's sessions that still owe their second factor (a lock reached while one was
/// waiting); fully signed-in sessions stay. Returns how many.
pub async fn end_pending_for_user(tx: &mut WriteTx, user_id: &str, reason: &str) -> Result<u64> {
    end_for_user(tx, user_id, reason, "AND mfa_state <> 'none'").await
}

/// Ends every live session of a user (suspension, password reset); returns how many.
pub async fn end_all_for_user(tx: &mut WriteTx, user_id: &str, reason: &str) -> Result<u64> {
    end_for_user(tx, user_id, reason, "").await
}

async fn end_for_user(tx: &mut WriteTx, user_id: &str, reason: &str, only: &str) -> Result<u64> {
    let sql = format!(
        "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE user_id = $3 AND ended_at IS NULL {only}"
    );
    let done = sqlx::query(&sql)
        .bind(crate::now_us())
        .bind(reason)
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected())
}

/// A body's new idle limit for the sessions of its people that are still open (I4).
pub async fn set_idle_for_org(
    tx: &mut WriteTx,
    org_id: &str,
    idle_minutes: Option<i64>,
) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE sessions SET idle_minutes = $1
         WHERE ended_at IS NULL AND user_id IN (SELECT id FROM users WHERE org_id = $2)",
    )
    .bind(idle_minutes)
    .bind(org_id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}
