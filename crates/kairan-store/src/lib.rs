//! Persistence for Kairan: the only crate that contains SQL.
//!
//! One code path serves SQLite (the embedded default) and PostgreSQL (when the URL starts with
//! `postgres://`) through sqlx's `Any` driver; queries use `$1` placeholders, which both engines
//! bind. Where the dialects differ the branch sits beside the query (see `audit::append`).
//! Migrations live per engine under `migrations/{sqlite,postgres}` with the same file names.
//!
//! Invariants: every write happens inside a [`WriteTx`], which on SQLite takes the write lock
//! up front (`BEGIN IMMEDIATE`) so a read-then-write transaction cannot fail half-way under
//! concurrency; audit records are appended in the same transaction as the change they record.

pub mod applications;
pub mod audit;
pub mod chat;
pub mod devices;
mod error;
pub mod files;
pub mod guests;
pub mod mfa;
mod migrate;
pub mod orgs;
pub mod protection;
pub mod review;
pub mod sessions;
pub mod staff_transfers;
pub mod users;

pub use error::StoreError;
pub use sqlx::AnyConnection;

use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Executor, Transaction};
use std::time::Duration;

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// The database: a pool and the engine behind it.
#[derive(Clone, Debug)]
pub struct Store {
    /// Connections for reads.
    pool: AnyPool,
    /// Connections for write transactions, apart so that a writer never queues behind a crowd
    /// of readers. On SQLite just one: the database has one writer at a time anyway, and
    /// waiting in this pool's queue is first come, first served, where waiting on SQLite's
    /// busy handler means sleeping and retrying.
    writes: AnyPool,
    engine: Engine,
    url: String,
}

/// A write transaction. Commit it, or drop it to roll back.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    engine: Engine,
}

impl WriteTx {
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await.map_err(StoreError::from)
    }
}

impl Store {
    /// Connects, configures the engine and applies pending migrations.
    ///
    /// `url` is `sqlite://PATH` (created when missing) or `postgres://…`.
    pub async fn open(url: &str, max_connections: u32) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let engine = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Engine::Postgres
        } else if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else {
            return Err(StoreError::Config(format!(
                "database URL must start with sqlite: or postgres:// (got {})",
                url.split(':').next().unwrap_or("")
            )));
        };
        let url = match engine {
            Engine::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = move |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(Duration::from_secs(10))
                // Checking a connection before every use costs a round trip per request (on
                // SQLite a hop to its worker thread, for a file handle that cannot go away).
                // A PostgreSQL connection that sat idle may have been cut (a restart, a
                // firewall), so only those are checked; one in steady use proves itself.
                .test_before_acquire(false)
                .before_acquire(move |conn, meta| {
                    Box::pin(async move {
                        if engine == Engine::Postgres && meta.idle_for > Duration::from_secs(10) {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        if engine == Engine::Sqlite {
                            // WAL lets readers run beside the one writer; synchronous=FULL
                            // makes every acknowledged commit survive a power cut, not only a
                            // crash.
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                        }
                        Ok(())
                    })
                })
        };
        let pool = options(max_connections).connect(&url).await?;
        let writers = match engine {
            Engine::Sqlite => 1,
            Engine::Postgres => max_connections.div_ceil(2),
        };
        let writes = options(writers).connect(&url).await?;
        let store = Store {
            pool,
            writes,
            engine,
            url,
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The SQLite database file, for the few bulk readers that bypass the pool.
    pub(crate) fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        if self.engine != Engine::Sqlite {
            return None;
        }
        let rest = self
            .url
            .strip_prefix("sqlite://")
            .or_else(|| self.url.strip_prefix("sqlite:"))?;
        Some(std::path::PathBuf::from(
            rest.split('?').next().unwrap_or(rest),
        ))
    }

    /// A connection for reads.
    pub async fn read(&self) -> Result<sqlx::pool::PoolConnection<Any>> {
        self.pool.acquire().await.map_err(StoreError::from)
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once.
    pub async fn write(&self) -> Result<WriteTx> {
        let tx = match self.engine {
            Engine::Sqlite => self.writes.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.writes.begin().await?,
        };
        Ok(WriteTx {
            tx,
            engine: self.engine,
        })
    }

    /// For `/readyz`: the database answers a query.
    pub async fn ping(&self) -> Result<()> {
        let mut c = self.read().await?;
        sqlx::query("SELECT 1").execute(&mut *c).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.writes.close().await;
        self.pool.close().await;
    }
}

/// Microseconds since the Unix epoch: the one time representation in the database.
pub fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// A new UUIDv7 (time-ordered) as text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Splits a batch into slices of a few fixed sizes (64, 16, 4, 1). A multi-row statement then
/// takes one of four shapes, each prepared once per connection and kept in its statement
/// cache, instead of a new statement for every batch size (on PostgreSQL each new one costs a
/// round trip to prepare, and hundreds of them would churn the cache).
pub(crate) fn fixed_slices<T>(items: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        let n = [64, 16, 4, 1].into_iter().find(|&k| rest.len() >= k)?;
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Some(head)
    })
}

/// `$from,$from+1,…` for an IN list of `n` values.
pub(crate) fn in_list(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// `($1,$2,…),($n+1,…)…` for a multi-row INSERT of `rows` rows of `cols` values.
pub(crate) fn placeholders(rows: usize, cols: usize) -> String {
    let mut sql = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ",(" });
        for c in 1..=cols {
            if c > 1 {
                sql.push(',');
            }
            sql.push('$');
            sql.push_str(&(r * cols + c).to_string());
        }
        sql.push(')');
    }
    sql
}

pub(crate) fn flag(b: bool) -> i64 {
    i64::from(b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixed_slices_cover_everything_in_order_with_four_shapes() {
        for n in 0..300 {
            let items: Vec<usize> = (0..n).collect();
            let slices: Vec<&[usize]> = super::fixed_slices(&items).collect();
            assert_eq!(slices.concat(), items);
            assert!(slices.iter().all(|s| [64, 16, 4, 1].contains(&s.len())));
            assert!(slices.len() <= n / 64 + 9, "{n}: {} slices", slices.len());
        }
    }
}
