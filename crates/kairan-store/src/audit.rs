//! The hash-chained audit log (G5). Appends lock the chain head inside the caller's write
//! transaction, so the record commits or rolls back with the change it records, and
//! concurrent writers, on one node or many, queue on the head instead of forking the chain.

use crate::{AnyConnection, Engine, Result, Store, StoreError, WriteTx};
use futures::StreamExt;
use kairan_domain::audit::{AuditAction, AuditRecord, ChainFault, ChainVerifier, RecordRef};

/// What a service asks to record.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub org_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: AuditAction,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    /// Identifiers and codes only; never a password, token or personal value.
    pub details: serde_json::Value,
}

impl NewEntry {
    pub fn new(action: AuditAction) -> NewEntry {
        NewEntry {
            org_id: None,
            actor_id: None,
            action,
            target_id: None,
            ip: None,
            details: serde_json::Value::Object(Default::default()),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub seq: i64,
    pub id: String,
    pub at_us: i64,
    pub org_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Row {
    pub fn record(&self) -> AuditRecord {
        AuditRecord {
            seq: self.seq,
            id: self.id.clone(),
            at_us: self.at_us,
            org_id: self.org_id.clone(),
            actor_id: self.actor_id.clone(),
            action: self.action.clone(),
            target_id: self.target_id.clone(),
            ip: self.ip.clone(),
            details: self.details.clone(),
            prev_hash: self.prev_hash.clone(),
        }
    }
}

pub(crate) const COLUMNS: &str =
    "seq, id, at_us, org_id, actor_id, action, target_id, ip, details, prev_hash, hash";

/// Appends one record in the caller's transaction and returns its sequence number.
pub async fn append(tx: &mut WriteTx, entry: NewEntry) -> Result<i64> {
    let seqs = append_many(tx, vec![entry]).await?;
    Ok(seqs[0])
}

/// Appends records in order in the caller's transaction and returns their sequence numbers.
/// The head is locked and read once and written once, so a batch of N records costs about
/// what one does: this is what lets group commit (many messages, one transaction) stay cheap.
pub async fn append_many(tx: &mut WriteTx, entries: Vec<NewEntry>) -> Result<Vec<i64>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let head_sql = match tx.engine() {
        // Row lock: a second appender waits here and then reads the head the first one wrote.
        Engine::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
        // BEGIN IMMEDIATE already holds the database write lock.
        Engine::Sqlite => "SELECT seq, hash FROM audit_head WHERE id = 1",
    };
    let (mut seq, mut prev_hash): (i64, String) =
        sqlx::query_as(head_sql).fetch_one(tx.conn()).await?;
    let at_us = crate::now_us();
    let mut rows = Vec::with_capacity(entries.len());
    for entry in entries {
        seq += 1;
        let record = AuditRecord {
            seq,
            id: crate::new_id(),
            at_us,
            org_id: entry.org_id,
            actor_id: entry.actor_id,
            action: entry.action.code().to_owned(),
            target_id: entry.target_id,
            ip: entry.ip,
            details: entry.details.to_string(),
            prev_hash,
        };
        let hash = record.compute_hash();
        prev_hash = hash.clone();
        rows.push((record, hash));
    }
    for chunk in crate::fixed_slices(&rows) {
        let sql = format!(
            "INSERT INTO audit_log (seq, id, at_us, org_id, actor_id, action, target_id, ip, details, prev_hash, hash) VALUES {}",
            crate::placeholders(chunk.len(), 11)
        );
        let mut q = sqlx::query(&sql);
        for (r, hash) in chunk {
            q = q
                .bind(r.seq)
                .bind(&r.id)
                .bind(r.at_us)
                .bind(&r.org_id)
                .bind(&r.actor_id)
                .bind(&r.action)
                .bind(&r.target_id)
                .bind(&r.ip)
                .bind(&r.details)
                .bind(&r.prev_hash)
                .bind(hash);
        }
        q.execute(tx.conn()).await?;
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(&prev_hash)
        .execute(tx.conn())
        .await?;
    Ok(rows.iter().map(|(r, _)| r.seq).collect())
}

/// Filters for reading the log of one body, newest first.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub org_id: String,
    pub before_seq: Option<i64>,
    pub action: Option<String>,
    pub actor_id: Option<String>,
    pub limit: i64,
}

pub async fn list(conn: &mut AnyConnection, q: &Query) -> Result<Vec<Row>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log
         WHERE org_id = $1 AND seq < $2
           AND ($3 = '' OR action = $3)
           AND ($4 = '' OR actor_id = $4)
         ORDER BY seq DESC LIMIT $5"
    );
    let rows = sqlx::query_as::<_, Row>(&sql)
        .bind(&q.org_id)
        .bind(q.before_seq.unwrap_or(i64::MAX))
        .bind(q.action.clone().unwrap_or_default())
        .bind(q.actor_id.clone().unwrap_or_default())
        .bind(q.limit)
        .fetch_all(conn)
        .await?;
    Ok(rows)
}

/// The result of [`verify`].
#[derive(Debug)]
pub enum Verdict {
    Intact { checked: u64 },
    Broken(ChainFault),
}

/// Recomputes the whole chain in sequence order. Reads one consistent snapshot: the head and
/// every record up to it, so appends running meanwhile neither break nor extend the check.
pub async fn verify(store: &Store) -> Result<Verdict> {
    if let Some(path) = store.sqlite_path() {
        // sqlx hands SQLite rows one by one across a worker thread, about 150 000 a second;
        // a direct read-only connection on a blocking thread is an order of magnitude faster.
        return tokio::task::spawn_blocking(move || verify_sqlite(&path))
            .await
            .map_err(|e| StoreError::Corrupt(format!("verify task: {e}")))?;
    }
    let mut conn = store.read().await?;
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    if store.engine() == Engine::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await?;
    }
    let (head_seq, head_hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
    let mut verifier = ChainVerifier::default();
    let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE seq <= $1 ORDER BY seq");
    {
        let mut rows = sqlx::query_as::<_, Row>(&sql)
            .bind(head_seq)
            .fetch(&mut *tx);
        while let Some(row) = rows.next().await {
            let row = row?;
            if let Err(fault) = verifier.push(&row.record().as_ref(), &row.hash) {
                return Ok(Verdict::Broken(fault));
            }
        }
    }
    tx.rollback().await?;
    Ok(match verifier.finish(head_seq, &head_hash) {
        Ok(checked) => Verdict::Intact { checked },
        Err(fault) => Verdict::Broken(fault),
    })
}

fn verify_sqlite(path: &std::path::Path) -> Result<Verdict> {
    use rusqlite::{Connection, OpenFlags};
    let sq = |e: rusqlite::Error| StoreError::Corrupt(format!("sqlite: {e}"));
    let mut conn = Connection::open_with_flags(
        path,
        // One thread owns this connection, so SQLite need not lock its mutex on every column read.
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sq)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(sq)?;
    let tx = conn.transaction().map_err(sq)?;
    let (head_seq, head_hash): (i64, String) = tx
        .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(sq)?;
    let mut verifier = ChainVerifier::default();
    {
        let mut stmt = tx
            .prepare(&format!(
                "SELECT {COLUMNS} FROM audit_log WHERE seq <= ?1 ORDER BY seq"
            ))
            .map_err(sq)?;
        let mut rows = stmt.query([head_seq]).map_err(sq)?;
        while let Some(r) = rows.next().map_err(sq)? {
            let text = |i: usize| r.get_ref(i).and_then(|v| v.as_str().map_err(Into::into));
            let opt = |i: usize| {
                r.get_ref(i)
                    .and_then(|v| v.as_str_or_null().map_err(Into::into))
            };
            let record = RecordRef {
                seq: r.get(0).map_err(sq)?,
                id: text(1).map_err(sq)?,
                at_us: r.get(2).map_err(sq)?,
                org_id: opt(3).map_err(sq)?,
                actor_id: opt(4).map_err(sq)?,
                action: text(5).map_err(sq)?,
                target_id: opt(6).map_err(sq)?,
                ip: opt(7).map_err(sq)?,
                details: text(8).map_err(sq)?,
                prev_hash: text(9).map_err(sq)?,
            };
            if let Err(fault) = verifier.push(&record, text(10).map_err(sq)?) {
                return Ok(Verdict::Broken(fault));
            }
        }
    }
    Ok(match verifier.finish(head_seq, &head_hash) {
        Ok(checked) => Verdict::Intact { checked },
        Err(fault) => Verdict::Broken(fault),
    })
}

/// The current head (last sequence number and hash).
pub async fn head(conn: &mut AnyConnection) -> Result<(i64, String)> {
    sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(conn)
        .await
        .map_err(StoreError::from)
}
