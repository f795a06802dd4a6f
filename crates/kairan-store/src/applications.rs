//! Applications and their steps (issue 10). Rows only: which transitions are allowed, and who
//! may make them, is decided in `kairan-domain::application` and the policy before anything
//! here is called.

use crate::{AnyConnection, Result, WriteTx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Application {
    pub id: String,
    pub org_id: String,
    pub kind: String,
    pub applicant_id: String,
    pub state: String,
    /// The kind's typed fields as JSON.
    pub fields: String,
    pub start_date: String,
    pub end_date: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Event {
    pub seq: i64,
    pub actor_id: Option<String>,
    pub transition: String,
    pub from_state: String,
    pub to_state: String,
    pub reason: Option<String>,
    pub at: i64,
}

const COLUMNS: &str = "id, org_id, kind, applicant_id, state, fields, start_date, end_date, version, created_at, updated_at";

pub struct NewApplication<'a> {
    pub org_id: &'a str,
    pub kind: &'a str,
    pub applicant_id: &'a str,
    pub state: &'a str,
    pub fields: &'a str,
    pub start_date: &'a str,
    pub end_date: &'a str,
}

pub async fn insert(tx: &mut WriteTx, a: &NewApplication<'_>) -> Result<String> {
    let id = crate::new_id();
    let now = crate::now_us();
    sqlx::query(
        "INSERT INTO applications (id, org_id, kind, applicant_id, state, fields, start_date, end_date, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)",
    )
    .bind(&id)
    .bind(a.org_id)
    .bind(a.kind)
    .bind(a.applicant_id)
    .bind(a.state)
    .bind(a.fields)
    .bind(a.start_date)
    .bind(a.end_date)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

pub async fn by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<Application>> {
    let sql = format!("SELECT {COLUMNS} FROM applications WHERE id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

/// The applicant's own applications, newest first.
pub async fn of_applicant(conn: &mut AnyConnection, user_id: &str) -> Result<Vec<Application>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM applications WHERE applicant_id = $1 ORDER BY updated_at DESC, id DESC LIMIT 500"
    );
    Ok(sqlx::query_as(&sql).bind(user_id).fetch_all(conn).await?)
}

/// A body's applications in one state (the approvers' queue is `submitted`), oldest first so
/// the longest waiting comes first.
pub async fn of_org_in_state(
    conn: &mut AnyConnection,
    org_id: &str,
    state: &str,
) -> Result<Vec<Application>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM applications WHERE org_id = $1 AND state = $2 ORDER BY updated_at, id LIMIT 500"
    );
    Ok(sqlx::query_as(&sql)
        .bind(org_id)
        .bind(state)
        .fetch_all(conn)
        .await?)
}

/// What a transition changes: the state, and for an edit the fields and period.
pub struct Change<'a> {
    pub to_state: &'a str,
    pub fields: Option<(&'a str, &'a str, &'a str)>,
}

/// Moves an application from the version that was read. False when someone else moved it in
/// between (the caller answers with a conflict instead of acting on a stale state).
pub async fn advance(
    tx: &mut WriteTx,
    id: &str,
    read_version: i64,
    change: &Change<'_>,
) -> Result<bool> {
    let now = crate::now_us();
    let done =
        match change.fields {
            Some((fields, start, end)) => sqlx::query(
                "UPDATE applications SET state = $1, fields = $2, start_date = $3, end_date = $4,
                 version = version + 1, updated_at = $5 WHERE id = $6 AND version = $7",
            )
            .bind(change.to_state)
            .bind(fields)
            .bind(start)
            .bind(end)
            .bind(now)
            .bind(id)
            .bind(read_version)
            .execute(tx.conn())
            .await?,
            None => {
                sqlx::query(
                    "UPDATE applications SET state = $1, version = version + 1, updated_at = $2
                 WHERE id = $3 AND version = $4",
                )
                .bind(change.to_state)
                .bind(now)
                .bind(id)
                .bind(read_version)
                .execute(tx.conn())
                .await?
            }
        };
    Ok(done.rows_affected() == 1)
}

pub struct NewEvent<'a> {
    pub application_id: &'a str,
    pub actor_id: Option<&'a str>,
    pub transition: &'a str,
    pub from_state: &'a str,
    pub to_state: &'a str,
    pub reason: Option<&'a str>,
}

/// Appends a step. Its number follows the last one; the version check above already
/// serialises writers of one application.
pub async fn append_event(tx: &mut WriteTx, e: &NewEvent<'_>) -> Result<i64> {
    let seq: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM application_events WHERE application_id = $1",
    )
    .bind(e.application_id)
    .fetch_one(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO application_events (application_id, seq, actor_id, transition, from_state, to_state, reason, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.application_id)
    .bind(seq)
    .bind(e.actor_id)
    .bind(e.transition)
    .bind(e.from_state)
    .bind(e.to_state)
    .bind(e.reason)
    .bind(crate::now_us())
    .execute(tx.conn())
    .await?;
    Ok(seq)
}

pub async fn events(conn: &mut AnyConnection, application_id: &str) -> Result<Vec<Event>> {
    Ok(sqlx::query_as(
        "SELECT seq, actor_id, transition, from_state, to_state, reason, at
         FROM application_events WHERE application_id = $1 ORDER BY seq",
    )
    .bind(application_id)
    .fetch_all(conn)
    .await?)
}

/// One body's part in an application several bodies decide on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Body {
    pub org_id: String,
    pub org_name: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
    /// The staff this body puts in, JSON list of user IDs.
    pub members: String,
}

/// The bodies that must each approve, in order (the applicant's first).
pub async fn insert_bodies(tx: &mut WriteTx, application_id: &str, orgs: &[String]) -> Result<()> {
    for (i, org) in orgs.iter().enumerate() {
        sqlx::query(
            "INSERT INTO application_bodies (application_id, org_id, position) VALUES ($1, $2, $3)",
        )
        .bind(application_id)
        .bind(org)
        .bind(i64::try_from(i).unwrap_or(i64::MAX))
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// The bodies of an application with their approvals, in order; empty for a one-body kind.
pub async fn bodies(conn: &mut AnyConnection, application_id: &str) -> Result<Vec<Body>> {
    Ok(sqlx::query_as(
        "SELECT b.org_id, o.name AS org_name, b.approved_by, b.approved_at, b.members
         FROM application_bodies b JOIN orgs o ON o.id = b.org_id
         WHERE b.application_id = $1 ORDER BY b.position",
    )
    .bind(application_id)
    .fetch_all(conn)
    .await?)
}

#[derive(sqlx::FromRow)]
struct BodyOf {
    application_id: String,
    #[sqlx(flatten)]
    body: Body,
}

/// The bodies of several applications at once (a list of applications), by application, each
/// in order; applications of one body are absent.
pub async fn bodies_of(
    conn: &mut AnyConnection,
    application_ids: &[&str],
) -> Result<std::collections::HashMap<String, Vec<Body>>> {
    let mut out: std::collections::HashMap<String, Vec<Body>> = std::collections::HashMap::new();
    for chunk in crate::fixed_slices(application_ids) {
        let sql = format!(
            "SELECT b.application_id, b.org_id, o.name AS org_name, b.approved_by, b.approved_at, b.members
             FROM application_bodies b JOIN orgs o ON o.id = b.org_id
             WHERE b.application_id IN ({}) ORDER BY b.application_id, b.position",
            crate::in_list(1, chunk.len())
        );
        let mut q = sqlx::query_as::<_, BodyOf>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for row in q.fetch_all(&mut *conn).await? {
            out.entry(row.application_id).or_default().push(row.body);
        }
    }
    Ok(out)
}

/// Records one body's approval and the staff it puts in. False if that body had already
/// approved (two administrators of one body at once: one wins).
pub async fn approve_body(
    tx: &mut WriteTx,
    application_id: &str,
    org_id: &str,
    by: &str,
    members: &str,
) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE application_bodies SET approved_by = $3, approved_at = $4, members = $5
         WHERE application_id = $1 AND org_id = $2 AND approved_by IS NULL",
    )
    .bind(application_id)
    .bind(org_id)
    .bind(by)
    .bind(crate::now_us())
    .bind(members)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Clears every body's approval: a returned application is approved again by all.
pub async fn clear_body_approvals(tx: &mut WriteTx, application_id: &str) -> Result<()> {
    sqlx::query(
        "UPDATE application_bodies SET approved_by = NULL, approved_at = NULL, members = '[]'
         WHERE application_id = $1",
    )
    .bind(application_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The approvers' queue of a body, oldest first: its own submitted applications that no
/// other body decides on, and submitted applications of any body waiting for this body's
/// approval.
pub async fn queue(conn: &mut AnyConnection, org_id: &str) -> Result<Vec<Application>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM applications a WHERE a.state = 'submitted' AND (
            (a.org_id = $1 AND NOT EXISTS (SELECT 1 FROM application_bodies b WHERE b.application_id = a.id))
            OR EXISTS (SELECT 1 FROM application_bodies b
                       WHERE b.application_id = a.id AND b.org_id = $1 AND b.approved_by IS NULL))
         ORDER BY a.updated_at, a.id LIMIT 500"
    );
    Ok(sqlx::query_as(&sql).bind(org_id).fetch_all(conn).await?)
}
