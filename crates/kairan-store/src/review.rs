//! Reading talks for audit (G7): the record of each reading (who, which talk, why, when), the
//! body's talks as a reviewer lists them (names and counts, no content), and every earlier
//! version of a page of messages.

use crate::chat::Version;
use crate::{AnyConnection, Result, WriteTx};

pub struct NewReview<'a> {
    pub org_id: &'a str,
    pub actor_id: &'a str,
    pub talk_id: &'a str,
    pub reason: &'a str,
}

pub async fn insert(tx: &mut WriteTx, r: &NewReview<'_>) -> Result<String> {
    let id = crate::new_id();
    sqlx::query(
        "INSERT INTO content_reviews (id, org_id, actor_id, talk_id, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(r.org_id)
    .bind(r.actor_id)
    .bind(r.talk_id)
    .bind(r.reason)
    .bind(crate::now_us())
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// One reading, with the names an auditor needs to read the list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Review {
    pub id: String,
    pub actor_id: String,
    pub actor_name: String,
    pub talk_id: String,
    pub talk_kind: String,
    /// Empty for a 1:1 talk.
    pub talk_name: String,
    pub reason: String,
    pub created_at: i64,
}

/// A body's readings, newest first.
pub async fn list(conn: &mut AnyConnection, org_id: &str, limit: i64) -> Result<Vec<Review>> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.actor_id, u.display_name AS actor_name, r.talk_id, t.kind AS talk_kind,
                t.name AS talk_name, r.reason, r.created_at
         FROM content_reviews r JOIN users u ON u.id = r.actor_id JOIN talks t ON t.id = r.talk_id
         WHERE r.org_id = $1 ORDER BY r.created_at DESC, r.id DESC LIMIT $2",
    )
    .bind(org_id)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// A talk of the body as a reviewer lists it: no content.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgTalk {
    pub id: String,
    pub kind: String,
    /// Empty for a 1:1 talk.
    pub name: String,
    pub created_at: i64,
    pub last_message_at: Option<i64>,
    pub last_seq: i64,
}

/// The body's talks, most recently active first.
pub async fn talks(conn: &mut AnyConnection, org_id: &str) -> Result<Vec<OrgTalk>> {
    Ok(sqlx::query_as(
        "SELECT id, kind, name, created_at, last_message_at, last_seq FROM talks
         WHERE org_id = $1 ORDER BY COALESCE(last_message_at, created_at) DESC",
    )
    .bind(org_id)
    .fetch_all(conn)
    .await?)
}

/// (talk, member's name) for the current members of the body's talks.
pub async fn member_names(conn: &mut AnyConnection, org_id: &str) -> Result<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT m.talk_id, u.display_name FROM talk_members m
         JOIN talks t ON t.id = m.talk_id JOIN users u ON u.id = m.user_id
         WHERE t.org_id = $1 AND m.left_at IS NULL ORDER BY m.talk_id, m.joined_at",
    )
    .bind(org_id)
    .fetch_all(conn)
    .await?)
}

/// Every earlier version of the messages of a talk with `from <= seq <= to`, as
/// (message, version), oldest version first.
pub async fn versions(
    conn: &mut AnyConnection,
    talk_id: &str,
    from_seq: i64,
    to_seq: i64,
) -> Result<Vec<(String, Version)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        message_id: String,
        #[sqlx(flatten)]
        version: Version,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT v.message_id, v.version, v.body, v.replaced_by, v.replaced_at, v.reason
         FROM message_versions v JOIN messages m ON m.id = v.message_id
         WHERE m.talk_id = $1 AND m.seq >= $2 AND m.seq <= $3 ORDER BY v.message_id, v.version",
    )
    .bind(talk_id)
    .bind(from_seq)
    .bind(to_seq)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.message_id, r.version))
        .collect())
}
