//! Where SQLite and PostgreSQL differ, in one place.
//!
//! The store writes its SQL once, in what both engines read, and asks [`Engine`] for the rest:
//! the placeholders of built statements, the statements only one engine has (array binds and
//! `UNNEST`, row and advisory locks), migrations, and each connection's set-up. The engine is
//! chosen once, from the store's URI, and travels as a `Copy` value.

pub(super) mod pg_array;
pub(super) mod planner_stats;

use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Transaction};
use std::borrow::Cow;

/// The engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// How a built statement spells its placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Placeholders {
    /// `$1, $2, …`, which both engines read.
    #[default]
    Numbered,
    /// `?`, bound in order. SQLite finds a numbered parameter by a linear scan of the
    /// statement's parameters, which makes binding a statement of thousands of values quadratic.
    Anonymous,
}

/// How a write of many rows is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Batch {
    /// One statement whose text is the same whatever the row count, each column bound as one
    /// array: PostgreSQL parses and plans it once per connection (see [`pg_array`]).
    Arrays(&'static str),
    /// A `VALUES` list with a group of placeholders per row, built by the caller.
    Values,
}

/// How a stored latest value moves forward: by step, then timestamp, then value. Both engines
/// read it; a macro so that statements can be `concat!`ed from it.
macro_rules! move_latest_forward {
    () => {
        " ON CONFLICT (run_uuid, key) DO UPDATE SET step = excluded.step, timestamp = excluded.timestamp, \
         value = excluded.value, is_nan = excluded.is_nan \
         WHERE excluded.step > latest_metrics.step \
         OR (excluded.step = latest_metrics.step AND excluded.timestamp > latest_metrics.timestamp) \
         OR (excluded.step = latest_metrics.step AND excluded.timestamp = latest_metrics.timestamp \
             AND excluded.value > latest_metrics.value)"
    };
}
pub(super) use move_latest_forward;

/// Where a stored chunk `o` meets a new chunk `c`, in steps and in timestamps.
macro_rules! spans_meet {
    () => {
        "o.max_timestamp >= c.min_timestamp AND o.min_timestamp <= c.max_timestamp \
         AND o.max_step >= c.min_step AND o.min_step <= c.max_step"
    };
}

/// PostgreSQL's upsert of a batch's latest values over five array binds: `$1` the run, then
/// keys, steps, timestamps, values and NaN flags. It reads the run's stage too, answering it
/// (no row for an unknown run), and writes only to an active run.
const UPSERT_LATEST_METRICS_PG: &str = concat!(
    "WITH run AS (SELECT lifecycle_stage FROM runs WHERE run_uuid = $1), \
     latest AS (INSERT INTO latest_metrics (run_uuid, key, step, timestamp, value, is_nan) \
       SELECT $1, key, step, timestamp, value, is_nan \
       FROM UNNEST($2::text[], $3::bigint[], $4::bigint[], $5::float8[], $6::bigint[]) \
         AS l(key, step, timestamp, value, is_nan) \
       WHERE (SELECT lifecycle_stage FROM run) = 'active'",
    move_latest_forward!(),
    ") SELECT lifecycle_stage FROM run"
);

/// PostgreSQL's insert of the chunks whose span meets none stored: `$1` the run; keys, the four
/// span ends, offsets and lengths as arrays; `$9` the chunks' bytes as one `bytea`, cut by
/// offset and length. The check is a `LATERAL … LIMIT 1` probe of the key per chunk: written as
/// `NOT EXISTS`, the generic plan PostgreSQL settled on while the table was small hashed all of
/// the run's chunks on every call.
const INSERT_FRESH_CHUNKS_PG: &str = concat!(
    "INSERT INTO metric_chunks (run_uuid, key, min_step, max_step, min_timestamp, max_timestamp, data) \
     SELECT $1, c.key, c.min_step, c.max_step, c.min_timestamp, c.max_timestamp, \
       substring($9 FROM c.start + 1 FOR c.length) \
     FROM UNNEST($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::int[], $8::int[]) \
       AS c(key, min_step, max_step, min_timestamp, max_timestamp, start, length) \
     LEFT JOIN LATERAL (SELECT 1 AS hit FROM metric_chunks o WHERE o.run_uuid = $1 AND o.key = c.key AND ",
    spans_meet!(),
    " LIMIT 1) o ON true WHERE o.hit IS NULL"
);

/// SQLite's writers take the write lock at BEGIN, where the busy timeout applies. A deferred
/// transaction that reads first and writes later cannot wait for the lock: it fails at once
/// with SQLITE_BUSY if another connection holds it.
const SQLITE_BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// Copies what it can of SQLite's write-ahead log back into the database file. PASSIVE never
/// waits for readers or the writer; what it cannot copy now, the next round copies. Connections
/// to a file never do it on commit (see `sqlite_writes`).
pub(super) const SQLITE_CHECKPOINT: &str = "PRAGMA wal_checkpoint(PASSIVE)";

impl Engine {
    /// The placeholders of statements built for this engine.
    pub(crate) fn placeholders(self) -> Placeholders {
        match self {
            Engine::Sqlite => Placeholders::Anonymous,
            Engine::Postgres => Placeholders::Numbered,
        }
    }

    /// The schema migrations of this engine (`migrations/<engine>/`).
    pub(super) fn migrator(self) -> Migrator {
        match self {
            Engine::Sqlite => sqlx::migrate!("../migrations/sqlite"),
            Engine::Postgres => sqlx::migrate!("../migrations/postgres"),
        }
    }

    /// What every new connection runs first; `cache_kib` is SQLite's page cache, and `file`
    /// says that SQLite's database is a file rather than in memory.
    pub(super) fn connection_setup(self, cache_kib: u32, file: bool) -> Cow<'static, str> {
        match self {
            // A multi-row insert keeps a statement journal to undo itself on error: in memory,
            // not in a temporary file written page by page. A file's log is checkpointed by the
            // store off the request path, never inside a commit.
            Engine::Sqlite => Cow::Owned(format!(
                "PRAGMA foreign_keys = ON; PRAGMA case_sensitive_like = ON; \
                 PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL; \
                 PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{cache_kib};{}",
                if file { " PRAGMA wal_autocheckpoint = 0;" } else { "" }
            )),
            // Search plans over large experiments cross the JIT threshold, and compiling them
            // costs more than the short queries of this workload ever win back.
            Engine::Postgres => Cow::Borrowed("SET jit = off"),
        }
    }

    /// Run once on a database file when the store opens.
    pub(super) fn file_setup(self) -> Option<&'static str> {
        match self {
            // WAL lets searches read while a batch is being written; it persists in the file.
            Engine::Sqlite => Some("PRAGMA journal_mode = WAL"),
            Engine::Postgres => None,
        }
    }

    /// How the BEGIN of a write transaction is spelled on the connection SQLite writes through.
    pub(super) fn begin_write(self) -> &'static str {
        match self {
            Engine::Sqlite => SQLITE_BEGIN_WRITE,
            Engine::Postgres => "BEGIN",
        }
    }

    /// Begins a transaction that runs alone among those asking for the same `lock`: SQLite
    /// takes its write lock at BEGIN; PostgreSQL waits for the advisory lock `lock`, held until
    /// the transaction ends.
    pub(super) async fn begin_alone(self, pool: &AnyPool, lock: i64) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self {
            Engine::Sqlite => pool.begin_with(SQLITE_BEGIN_WRITE).await,
            Engine::Postgres => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(lock).execute(&mut *tx).await?;
                Ok(tx)
            }
        }
    }

    /// Counts the tables named `$1` in the store's schema (0 or 1).
    pub(super) fn count_tables_named(self) -> &'static str {
        match self {
            Engine::Sqlite => "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
            Engine::Postgres => {
                "SELECT count(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = $1"
            }
        }
    }

    /// Reads the experiment of the logged model `$1`, locking the model's row until the
    /// transaction ends where the engine has row locks (SQLite's writers take turns anyway).
    pub(super) fn lock_logged_model(self) -> &'static str {
        match self {
            Engine::Sqlite => "SELECT experiment_id FROM logged_models WHERE model_id = $1",
            Engine::Postgres => "SELECT experiment_id FROM logged_models WHERE model_id = $1 FOR UPDATE",
        }
    }

    /// How a batch's latest values are upserted. As [`Batch::Arrays`] the statement also checks
    /// the run (see [`UPSERT_LATEST_METRICS_PG`]); a `VALUES` list ends with
    /// [`move_latest_forward!`], and its caller has checked the run.
    pub(super) fn upsert_latest_metrics(self) -> Batch {
        match self {
            Engine::Sqlite => Batch::Values,
            Engine::Postgres => Batch::Arrays(UPSERT_LATEST_METRICS_PG),
        }
    }

    /// How the chunks of a batch whose spans meet none stored are inserted (see
    /// [`INSERT_FRESH_CHUNKS_PG`] for the arrays).
    pub(super) fn insert_fresh_chunks(self) -> Batch {
        match self {
            Engine::Sqlite => Batch::Values,
            Engine::Postgres => Batch::Arrays(INSERT_FRESH_CHUNKS_PG),
        }
    }
}
