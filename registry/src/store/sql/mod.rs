//! The SQL store, written once for SQLite and PostgreSQL through sqlx's `Any` driver.
//!
//! Every statement uses `$n` placeholders and SQL both engines accept; the few places where
//! the engines differ ask [`Backend`].

mod experiments;
mod logged_models;
mod metric_chunks;
mod metrics;
mod model_registry;
mod pg_array;
mod rows;
mod runs;
mod sqlite_writes;

use super::{Sql, StoreError, StoreResult, TrackingStore};
use sqlite_writes::{NO_CHECKPOINT_ON_COMMIT, SqliteWrites, Turn};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;

/// Which engine the pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The metadata store over a SQLite file or a PostgreSQL database. Clones share the pool.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    /// Root under which new experiments get their artifact location (`<root>/<id>`).
    default_artifact_root: String,
    /// SQLite's writers, one at a time.
    sqlite_writes: Option<std::sync::Arc<SqliteWrites>>,
}

/// Parses a backend-store URI as MLflow accepts it into an sqlx URL.
///
/// `sqlite:///rel.db` is relative and `sqlite:////abs.db` absolute (SQLAlchemy's reading);
/// `sqlite://./dir/x.db` names a path directly; `postgresql+driver://` drops the driver.
pub fn parse_store_uri(uri: &str) -> StoreResult<(Backend, String)> {
    if let Some(rest) = uri.strip_prefix("sqlite://") {
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let path = path.strip_prefix('/').unwrap_or(path);
        if path.is_empty() || path == ":memory:" {
            return Ok((Backend::Sqlite, "sqlite::memory:".to_owned()));
        }
        if let Some(parent) = std::path::Path::new(path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Invalid(format!("Cannot create the directory of the SQLite database '{path}': {e}"))
            })?;
        }
        let mut url = format!("sqlite://{path}?mode=rwc");
        if !query.is_empty() {
            url.push('&');
            url.push_str(query);
        }
        return Ok((Backend::Sqlite, url));
    }
    let (scheme, rest) =
        uri.split_once("://").ok_or_else(|| StoreError::Invalid(format!("Invalid backend store URI '{uri}'")))?;
    let engine = scheme.split('+').next().unwrap_or(scheme);
    match engine {
        "postgresql" | "postgres" => Ok((Backend::Postgres, format!("postgres://{rest}"))),
        other => {
            Err(StoreError::Invalid(format!("Unsupported backend store '{other}': use sqlite:// or postgresql://")))
        }
    }
}

impl SqlStore {
    /// Opens the store, applies the migrations and makes sure the Default experiment exists.
    pub async fn connect(uri: &str, default_artifact_root: &str) -> StoreResult<SqlStore> {
        sqlx::any::install_default_drivers();
        let (backend, url) = parse_store_uri(uri)?;
        let options = AnyConnectOptions::from_str(&url)?;
        let memory = url.contains(":memory:");
        let pool = pool_options(backend, memory, Role::Shared).connect_with(options.clone()).await?;
        if backend == Backend::Sqlite && !memory {
            // WAL lets searches read while a batch is being written; it persists in the file.
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        let migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("../migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("../migrations/postgres"),
        };
        migrator.run(&pool).await.map_err(|e| StoreError::Backend(e.into()))?;
        metric_chunks::adopt_row_per_value_history(&pool, backend).await?;
        let sqlite_writes = match (backend, memory) {
            (Backend::Sqlite, false) => {
                // Every write goes through one connection that lives as long as the store: its
                // page cache then always holds the B-tree pages the last batch touched, where a
                // pooled connection would first re-read every page written through the others.
                let writer = pool_options(backend, memory, Role::Writer).connect_with(options).await?;
                Some(std::sync::Arc::new(SqliteWrites::for_file(writer, pool.clone())))
            }
            (Backend::Sqlite, true) => Some(std::sync::Arc::new(SqliteWrites::in_memory(pool.clone()))),
            (Backend::Postgres, _) => None,
        };
        let store = SqlStore {
            pool,
            backend,
            default_artifact_root: default_artifact_root.trim_end_matches('/').to_owned(),
            sqlite_writes,
        };
        store.ensure_default_experiment().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction, queued behind other writers on SQLite.
    async fn begin_write(&self) -> StoreResult<WriteTx<'_>> {
        match &self.sqlite_writes {
            Some(writes) => {
                let turn = writes.turn().await;
                // Take the write lock at BEGIN, where the busy timeout applies. A deferred
                // transaction that reads first and writes later cannot wait for the lock: it
                // fails at once with SQLITE_BUSY if a connection whose transaction was dropped on
                // an error path still holds the lock until its rollback runs.
                let tx = turn.writer().begin_with("BEGIN IMMEDIATE").await?;
                Ok(WriteTx { tx, _turn: Some(turn) })
            }
            None => Ok(WriteTx { tx: self.pool.begin().await?, _turn: None }),
        }
    }

    /// A dynamic statement in this store's placeholder style (see [`Sql::for_sqlite`]).
    fn sql(&self, text: impl Into<String>) -> Sql {
        Sql::for_sqlite(self.backend == Backend::Sqlite, text)
    }

    fn artifact_location_for(&self, experiment_id: i64) -> String {
        format!("{}/{}", self.default_artifact_root, experiment_id)
    }

    async fn ensure_default_experiment(&self) -> StoreResult<()> {
        let now = now_millis();
        let mut w = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) \
             VALUES (0, 'Default', $1, 'active', $2, $2) ON CONFLICT DO NOTHING",
        )
        .bind(self.artifact_location_for(0))
        .bind(now)
        .execute(&mut *w.tx)
        .await?;
        w.tx.commit().await?;
        Ok(())
    }
}

/// What a pool's connections are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Every read, and every write on PostgreSQL.
    Shared,
    /// SQLite's one writing connection.
    Writer,
}

/// The pool settings of a store, each connection set up for its engine and role.
fn pool_options(backend: Backend, memory: bool, role: Role) -> AnyPoolOptions {
    let connections = match (backend, memory, role) {
        // An in-memory SQLite database lives only as long as its one connection.
        (Backend::Sqlite, true, _) | (_, _, Role::Writer) => 1,
        (Backend::Sqlite, false, Role::Shared) => 8,
        (Backend::Postgres, _, Role::Shared) => 16,
    };
    let keep = memory || role == Role::Writer;
    // Readers' caches hold the hot pages of searches over a growing metrics table (SQLite's
    // default is 2 MB). The writer's working set is the tail of each key's history: a larger
    // cache only made each commit slower, as SQLite walks the cache's hash table at commit.
    let cache_kib = match role {
        Role::Shared => 65_536,
        Role::Writer => 8_192,
    };
    AnyPoolOptions::new()
        .max_connections(connections)
        .min_connections(if keep { 1 } else { 0 })
        .idle_timeout((!keep).then_some(Duration::from_secs(600)))
        .max_lifetime((!keep).then_some(Duration::from_secs(1800)))
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                match backend {
                    // A multi-row insert keeps a statement journal to undo itself on error: in
                    // memory, not in a temporary file written page by page.
                    Backend::Sqlite => {
                        let setup = format!(
                            "PRAGMA foreign_keys = ON; PRAGMA case_sensitive_like = ON; \
                             PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL; \
                             PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{cache_kib};"
                        );
                        conn.execute(setup.as_str()).await?;
                        if !memory {
                            conn.execute(NO_CHECKPOINT_ON_COMMIT).await?;
                        }
                    }
                    // Search plans over large experiments cross the JIT threshold, and compiling
                    // them costs more than the short queries of this workload ever win back.
                    Backend::Postgres => {
                        conn.execute("SET jit = off").await?;
                    }
                }
                Ok(())
            })
        })
}

/// A write transaction and, on SQLite, the writer's turn.
struct WriteTx<'a> {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<Turn<'a>>,
}

impl TrackingStore for SqlStore {}

/// Milliseconds since the epoch, MLflow's timestamps.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Whether a database error is a unique-key violation.
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// Experiment ids are integers in storage and strings on the wire.
fn parse_experiment_id(id: &str) -> StoreResult<i64> {
    id.trim().parse::<i64>().map_err(|_| {
        StoreError::Invalid(format!("Invalid experiment ID '{id}'. Experiment ID must be a valid integer."))
    })
}

/// Binds limit the statements we build; both engines accept at least this many.
const MAX_BINDS_PER_STATEMENT: usize = 30_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_uris_follow_mlflow() {
        let (b, url) = parse_store_uri("postgresql+psycopg2://u:p@h:5432/db").unwrap();
        assert_eq!(b, Backend::Postgres);
        assert_eq!(url, "postgres://u:p@h:5432/db");
        let (b, url) = parse_store_uri("sqlite:///:memory:").unwrap();
        assert_eq!((b, url.as_str()), (Backend::Sqlite, "sqlite::memory:"));
        assert!(parse_store_uri("mysql://x").is_err());
        assert!(parse_store_uri("nonsense").is_err());
    }
}
