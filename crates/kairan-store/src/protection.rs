//! A body's information-protection settings (its classification scheme and personal-data
//! rules, stored as JSON documents the server parses), the notifications that reach a person,
//! and the trail of personal-data detections read from the audit log.

use crate::{AnyConnection, Result, WriteTx};

/// The stored scheme document alone, or `None` when the body keeps the default.
pub async fn scheme(conn: &mut AnyConnection, org_id: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT scheme FROM org_protection WHERE org_id = $1")
            .bind(org_id)
            .fetch_optional(conn)
            .await?,
    )
}

/// The stored documents: `(scheme, dlp_rules)`, or `None` when the body keeps the defaults.
pub async fn get(conn: &mut AnyConnection, org_id: &str) -> Result<Option<(String, String)>> {
    Ok(
        sqlx::query_as("SELECT scheme, dlp_rules FROM org_protection WHERE org_id = $1")
            .bind(org_id)
            .fetch_optional(conn)
            .await?,
    )
}

pub async fn put(
    tx: &mut WriteTx,
    org_id: &str,
    scheme: &str,
    dlp_rules: &str,
    by: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO org_protection (org_id, scheme, dlp_rules, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (org_id) DO UPDATE SET scheme = $2, dlp_rules = $3, updated_at = $4, updated_by = $5",
    )
    .bind(org_id)
    .bind(scheme)
    .bind(dlp_rules)
    .bind(crate::now_us())
    .bind(by)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Notification {
    pub id: String,
    pub kind: String,
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    pub details: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// Notifies each of `users`, in the transaction of the event it tells of. Returns the new
/// notifications' IDs, in the order of `users`.
pub async fn notify(
    tx: &mut WriteTx,
    org_id: &str,
    users: &[String],
    kind: &str,
    actor_id: Option<&str>,
    target_id: Option<&str>,
    details: &str,
) -> Result<Vec<String>> {
    let now = crate::now_us();
    let mut ids = Vec::with_capacity(users.len());
    for u in users {
        let id = crate::new_id();
        sqlx::query(
            "INSERT INTO notifications (id, org_id, user_id, kind, actor_id, target_id, details, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(org_id)
        .bind(u)
        .bind(kind)
        .bind(actor_id)
        .bind(target_id)
        .bind(details)
        .bind(now)
        .execute(tx.conn())
        .await?;
        ids.push(id);
    }
    Ok(ids)
}

pub async fn unread_count(conn: &mut AnyConnection, user_id: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await?)
}

/// The newest notifications of a user.
pub async fn notifications(
    conn: &mut AnyConnection,
    user_id: &str,
    limit: i64,
) -> Result<Vec<Notification>> {
    Ok(sqlx::query_as(
        "SELECT id, kind, actor_id, target_id, details, created_at, read_at FROM notifications
         WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Marks some of a user's notifications read.
pub async fn mark_read(tx: &mut WriteTx, user_id: &str, ids: &[String]) -> Result<()> {
    let now = crate::now_us();
    for id in ids {
        sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE id = $2 AND user_id = $3 AND read_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

pub async fn mark_all_read(tx: &mut WriteTx, user_id: &str) -> Result<u64> {
    let done =
        sqlx::query("UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL")
            .bind(user_id)
            .bind(crate::now_us())
            .execute(tx.conn())
            .await?;
    Ok(done.rows_affected())
}

/// Personal-data detections of a body, newest first: refusals, confirmation prompts, and
/// messages sent or edited after the sender confirmed. Read from the audit log, which keeps
/// kinds and positions only.
pub async fn dlp_events(
    conn: &mut AnyConnection,
    org_id: &str,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<crate::audit::Row>> {
    let sql = format!(
        "SELECT {} FROM audit_log
         WHERE org_id = $1 AND seq < $2
           AND (action LIKE 'dlp.%'
                OR (action IN ('message.posted', 'message.edited', 'message.forwarded') AND details LIKE '%\"dlp_confirmed\"%'))
         ORDER BY seq DESC LIMIT $3",
        crate::audit::COLUMNS
    );
    Ok(sqlx::query_as(&sql)
        .bind(org_id)
        .bind(before_seq.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(conn)
        .await?)
}
