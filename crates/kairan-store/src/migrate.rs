//! Applies the engine's migrations in order, each in its own transaction, recording the
//! version so a restart applies only what is new.

use crate::{Engine, Result, Store, StoreError};

struct Migration {
    version: i64,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sqlite: include_str!("../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        sqlite: include_str!("../migrations/sqlite/0002_chat.sql"),
        postgres: include_str!("../migrations/postgres/0002_chat.sql"),
    },
    Migration {
        version: 3,
        sqlite: include_str!("../migrations/sqlite/0003_message_history.sql"),
        postgres: include_str!("../migrations/postgres/0003_message_history.sql"),
    },
    Migration {
        version: 4,
        sqlite: include_str!("../migrations/sqlite/0004_pins.sql"),
        postgres: include_str!("../migrations/postgres/0004_pins.sql"),
    },
    Migration {
        version: 5,
        sqlite: include_str!("../migrations/sqlite/0005_mentions.sql"),
        postgres: include_str!("../migrations/postgres/0005_mentions.sql"),
    },
    Migration {
        version: 6,
        sqlite: include_str!("../migrations/sqlite/0006_protection.sql"),
        postgres: include_str!("../migrations/postgres/0006_protection.sql"),
    },
    Migration {
        version: 7,
        sqlite: include_str!("../migrations/sqlite/0007_content_reviews.sql"),
        postgres: include_str!("../migrations/postgres/0007_content_reviews.sql"),
    },
    Migration {
        version: 8,
        sqlite: include_str!("../migrations/sqlite/0008_files.sql"),
        postgres: include_str!("../migrations/postgres/0008_files.sql"),
    },
    Migration {
        version: 9,
        sqlite: include_str!("../migrations/sqlite/0009_attachments.sql"),
        postgres: include_str!("../migrations/postgres/0009_attachments.sql"),
    },
    Migration {
        version: 10,
        sqlite: include_str!("../migrations/sqlite/0010_file_origin.sql"),
        postgres: include_str!("../migrations/postgres/0010_file_origin.sql"),
    },
    Migration {
        version: 11,
        sqlite: include_str!("../migrations/sqlite/0011_file_indexes.sql"),
        postgres: include_str!("../migrations/postgres/0011_file_indexes.sql"),
    },
    Migration {
        version: 12,
        sqlite: include_str!("../migrations/sqlite/0012_mfa.sql"),
        postgres: include_str!("../migrations/postgres/0012_mfa.sql"),
    },
    Migration {
        version: 13,
        sqlite: include_str!("../migrations/sqlite/0013_passkeys.sql"),
        postgres: include_str!("../migrations/postgres/0013_passkeys.sql"),
    },
    Migration {
        version: 14,
        sqlite: include_str!("../migrations/sqlite/0014_devices.sql"),
        postgres: include_str!("../migrations/postgres/0014_devices.sql"),
    },
    Migration {
        version: 15,
        sqlite: include_str!("../migrations/sqlite/0015_directory.sql"),
        postgres: include_str!("../migrations/postgres/0015_directory.sql"),
    },
    Migration {
        version: 16,
        sqlite: include_str!("../migrations/sqlite/0016_applications.sql"),
        postgres: include_str!("../migrations/postgres/0016_applications.sql"),
    },
    Migration {
        version: 17,
        sqlite: include_str!("../migrations/sqlite/0017_device_keys.sql"),
        postgres: include_str!("../migrations/postgres/0017_device_keys.sql"),
    },
    Migration {
        version: 18,
        sqlite: include_str!("../migrations/sqlite/0018_guests.sql"),
        postgres: include_str!("../migrations/postgres/0018_guests.sql"),
    },
    Migration {
        version: 19,
        sqlite: include_str!("../migrations/sqlite/0019_guest_purge.sql"),
        postgres: include_str!("../migrations/postgres/0019_guest_purge.sql"),
    },
    Migration {
        version: 20,
        sqlite: include_str!("../migrations/sqlite/0020_guest_reminder.sql"),
        postgres: include_str!("../migrations/postgres/0020_guest_reminder.sql"),
    },
    Migration {
        version: 21,
        sqlite: include_str!("../migrations/sqlite/0021_employee_no.sql"),
        postgres: include_str!("../migrations/postgres/0021_employee_no.sql"),
    },
    Migration {
        version: 22,
        sqlite: include_str!("../migrations/sqlite/0022_test_ids.sql"),
        postgres: include_str!("../migrations/postgres/0022_test_ids.sql"),
    },
    Migration {
        version: 23,
        sqlite: include_str!("../migrations/sqlite/0023_last_day.sql"),
        postgres: include_str!("../migrations/postgres/0023_last_day.sql"),
    },
    Migration {
        version: 24,
        sqlite: include_str!("../migrations/sqlite/0024_inter_body_groups.sql"),
        postgres: include_str!("../migrations/postgres/0024_inter_body_groups.sql"),
    },
    Migration {
        version: 25,
        sqlite: include_str!("../migrations/sqlite/0025_staff_transfers.sql"),
        postgres: include_str!("../migrations/postgres/0025_staff_transfers.sql"),
    },
];

pub(crate) async fn run(store: &Store) -> Result<()> {
    {
        let mut tx = store.write().await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
    }
    for m in MIGRATIONS {
        let mut tx = store.write().await?;
        if store.engine == Engine::Postgres {
            // Two nodes starting together must not both apply the same migration.
            sqlx::query("SELECT pg_advisory_xact_lock(7261696)")
                .execute(tx.conn())
                .await?;
        }
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(tx.conn())
                .await?;
        if done.is_some() {
            continue;
        }
        let sql = match store.engine {
            Engine::Sqlite => m.sqlite,
            Engine::Postgres => m.postgres,
        };
        sqlx::raw_sql(sql)
            .execute(tx.conn())
            .await
            .map_err(|e| StoreError::Config(format!("migration {} failed: {e}", m.version)))?;
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(m.version)
            .bind(crate::now_us())
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        tracing::info!(
            version = m.version,
            engine = store.engine.name(),
            "migration applied"
        );
    }
    Ok(())
}
