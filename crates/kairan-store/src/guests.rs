//! Guests admitted by approved applications (issue 10): what the application said of each, the
//! one-time invitation, and the applications whose periods start or end by the clock.

use crate::applications::Application;
use crate::{AnyConnection, Result, WriteTx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Guest {
    pub user_id: String,
    pub org_id: String,
    pub application_id: String,
    pub sponsor_id: String,
    pub affiliation: String,
    pub email: String,
    pub start_date: String,
    pub end_date: String,
    pub invitation_sealed: Option<String>,
    pub invitation_expires_at: Option<i64>,
    pub accepted_at: Option<i64>,
    pub ended_at: Option<i64>,
}

const COLUMNS: &str = "user_id, org_id, application_id, sponsor_id, affiliation, email, start_date, end_date, invitation_sealed, invitation_expires_at, accepted_at, ended_at";

pub struct NewGuest<'a> {
    pub user_id: &'a str,
    pub org_id: &'a str,
    pub application_id: &'a str,
    pub sponsor_id: &'a str,
    pub affiliation: &'a str,
    pub email: &'a str,
    pub start_date: &'a str,
    pub end_date: &'a str,
    pub invitation_hash: &'a str,
    pub invitation_sealed: &'a str,
    pub invitation_expires_at: i64,
}

pub async fn insert(tx: &mut WriteTx, g: &NewGuest<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO guests (user_id, org_id, application_id, sponsor_id, affiliation, email, start_date, end_date, invitation_hash, invitation_sealed, invitation_expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(g.user_id)
    .bind(g.org_id)
    .bind(g.application_id)
    .bind(g.sponsor_id)
    .bind(g.affiliation)
    .bind(g.email)
    .bind(g.start_date)
    .bind(g.end_date)
    .bind(g.invitation_hash)
    .bind(g.invitation_sealed)
    .bind(g.invitation_expires_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn by_application(
    conn: &mut AnyConnection,
    application_id: &str,
) -> Result<Option<Guest>> {
    let sql = format!("SELECT {COLUMNS} FROM guests WHERE application_id = $1");
    Ok(sqlx::query_as(&sql)
        .bind(application_id)
        .fetch_optional(conn)
        .await?)
}

pub async fn by_user(conn: &mut AnyConnection, user_id: &str) -> Result<Option<Guest>> {
    let sql = format!("SELECT {COLUMNS} FROM guests WHERE user_id = $1");
    Ok(sqlx::query_as(&sql)
        .bind(user_id)
        .fetch_optional(conn)
        .await?)
}

/// The guest an unused invitation token (its SHA-256) belongs to.
pub async fn by_invitation(conn: &mut AnyConnection, token_hash: &str) -> Result<Option<Guest>> {
    let sql = format!("SELECT {COLUMNS} FROM guests WHERE invitation_hash = $1");
    Ok(sqlx::query_as(&sql)
        .bind(token_hash)
        .fetch_optional(conn)
        .await?)
}

/// Uses up an invitation: false when it was used (or cleared) in the meantime.
pub async fn accept(tx: &mut WriteTx, token_hash: &str, at: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE guests SET invitation_hash = NULL, invitation_sealed = NULL, accepted_at = $1
         WHERE invitation_hash = $2",
    )
    .bind(at)
    .bind(token_hash)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the guest's period over; the invitation goes with it.
pub async fn end(tx: &mut WriteTx, user_id: &str, at: i64) -> Result<()> {
    sqlx::query(
        "UPDATE guests SET ended_at = $1, invitation_hash = NULL, invitation_sealed = NULL
         WHERE user_id = $2 AND ended_at IS NULL",
    )
    .bind(at)
    .bind(user_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Which guest applications the clock looks for.
#[derive(Debug, Clone, Copy)]
pub enum Due {
    /// Approved ones whose first day has come.
    Starting,
    /// Active ones whose last day has passed.
    Ending,
}

/// How many applications [`due`] returns at most; the caller asks again while batches are full.
pub const DUE_BATCH: usize = 200;

/// Guest and inter-body group applications due for the clock's step as of `today`
/// (`YYYY-MM-DD`).
pub async fn due(conn: &mut AnyConnection, which: Due, today: &str) -> Result<Vec<Application>> {
    let (state, condition) = match which {
        Due::Starting => ("approved", "start_date <= $2"),
        Due::Ending => ("active", "end_date < $2"),
    };
    let sql = format!(
        "SELECT id, org_id, kind, applicant_id, state, fields, start_date, end_date, version, created_at, updated_at
         FROM applications WHERE kind IN ('guest', 'inter_org_group') AND state = $1 AND {condition}
         ORDER BY end_date, id LIMIT {DUE_BATCH}"
    );
    Ok(sqlx::query_as(&sql)
        .bind(state)
        .bind(today)
        .fetch_all(conn)
        .await?)
}

/// Guests whose period ended before `ended_before` (µs) and whose personal data is still kept.
pub async fn to_purge(conn: &mut AnyConnection, ended_before: i64) -> Result<Vec<Guest>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM guests WHERE ended_at IS NOT NULL AND ended_at < $1 AND purged_at IS NULL ORDER BY ended_at LIMIT 200"
    );
    Ok(sqlx::query_as(&sql)
        .bind(ended_before)
        .fetch_all(conn)
        .await?)
}

/// Removes what the application said of the guest: the name (shown as `shown_as`), the
/// affiliation and the address, on the guest and its ID; the application keeps `fields` (the
/// caller's copy without them). False when another node did it first.
pub async fn purge(
    tx: &mut WriteTx,
    g: &Guest,
    shown_as: &str,
    fields: &str,
    at: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE guests SET affiliation = '', email = '', purged_at = $1
         WHERE user_id = $2 AND purged_at IS NULL",
    )
    .bind(at)
    .bind(&g.user_id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("UPDATE users SET display_name = $1, title = NULL, kana = '' WHERE id = $2")
        .bind(shown_as)
        .bind(&g.user_id)
        .execute(tx.conn())
        .await?;
    sqlx::query("UPDATE applications SET fields = $1 WHERE id = $2")
        .bind(fields)
        .bind(&g.application_id)
        .execute(tx.conn())
        .await?;
    Ok(true)
}

/// A later last day for the guest of an application (an approved extension).
pub async fn extend(tx: &mut WriteTx, application_id: &str, end_date: &str) -> Result<()> {
    sqlx::query("UPDATE guests SET end_date = $1, reminded_at = NULL WHERE application_id = $2")
        .bind(end_date)
        .bind(application_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Guests of active applications whose last day is between `from` and `to` (inclusive,
/// `YYYY-MM-DD`) and whose applicant has not been reminded yet.
pub async fn to_remind(conn: &mut AnyConnection, from: &str, to: &str) -> Result<Vec<Guest>> {
    let cols: Vec<String> = COLUMNS.split(", ").map(|c| format!("g.{c}")).collect();
    let sql = format!(
        "SELECT {} FROM guests g JOIN applications a ON a.id = g.application_id
         WHERE a.state = 'active' AND g.reminded_at IS NULL AND g.end_date >= $1 AND g.end_date <= $2
         ORDER BY g.end_date LIMIT 200",
        cols.join(", ")
    );
    Ok(sqlx::query_as(&sql)
        .bind(from)
        .bind(to)
        .fetch_all(conn)
        .await?)
}

/// Records the reminder; false when another node sent it first.
pub async fn reminded(tx: &mut WriteTx, user_id: &str, at: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE guests SET reminded_at = $1 WHERE user_id = $2 AND reminded_at IS NULL",
    )
    .bind(at)
    .bind(user_id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A guest of a body as its administrators list them: the guest's ID and name, what the
/// application said of it, the period, and who applied for it (the sponsor).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GuestRow {
    pub user_id: String,
    pub login_id: String,
    pub display_name: String,
    /// The ID's status: `pending`, `active`, `ended` (or suspended by an administrator).
    pub status: String,
    pub application_id: String,
    pub sponsor_id: String,
    pub sponsor_name: Option<String>,
    pub affiliation: String,
    pub start_date: String,
    pub end_date: String,
    pub accepted_at: Option<i64>,
    pub ended_at: Option<i64>,
}

/// Every guest of a body with its ID's name and status and its sponsor's name, the period
/// ending first at the top.
pub async fn of_org(conn: &mut AnyConnection, org_id: &str) -> Result<Vec<GuestRow>> {
    Ok(sqlx::query_as(
        "SELECT g.user_id, u.login_id, u.display_name, u.status, g.application_id, g.sponsor_id,
                s.display_name AS sponsor_name, g.affiliation, g.start_date, g.end_date,
                g.accepted_at, g.ended_at
         FROM guests g
         JOIN users u ON u.id = g.user_id
         LEFT JOIN users s ON s.id = g.sponsor_id
         WHERE g.org_id = $1
         ORDER BY g.end_date, g.user_id",
    )
    .bind(org_id)
    .fetch_all(conn)
    .await?)
}
