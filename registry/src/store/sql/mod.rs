//! The SQL store, written once for SQLite and PostgreSQL through sqlx's `Any` driver.
//!
//! Every statement uses `$n` placeholders and SQL both engines accept; the few places where
//! the engines differ ask [`Engine`], in [`dialect`].

pub(crate) mod dialect;
mod experiments;
mod logged_models;
mod metric_chunks;
mod metrics;
mod model_registry;
mod overview;
mod rows;
mod runs;
mod sqlite_writes;

use super::{Sql, StoreError, StoreResult, TrackingStore};
pub use dialect::Engine;
use dialect::planner_stats::PlannerStats;
use sqlite_writes::{SqliteWrites, Turn};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;

/// The metadata store over a SQLite file or a PostgreSQL database. Clones share the pool.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    engine: Engine,
    /// Root under which new experiments get their artifact location (`<root>/<id>`).
    default_artifact_root: String,
    /// SQLite's writers, one at a time.
    sqlite_writes: Option<std::sync::Arc<SqliteWrites>>,
    /// PostgreSQL's statistics, refreshed after writes.
    planner_stats: Option<std::sync::Arc<PlannerStats>>,
}

/// A backend-store URI, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreUri {
    pub engine: Engine,
    /// What sqlx connects to.
    pub url: String,
    /// The SQLite database file; `None` in memory and on PostgreSQL.
    pub sqlite_file: Option<std::path::PathBuf>,
    /// Whether a SQLite commit is acknowledged only once it is on disk: yes unless the URI says
    /// `?synchronous=normal`, which answers before the flush (a killed server loses nothing; an
    /// OS crash or power loss can take back the last writes).
    pub durable: bool,
}

/// Parses a backend-store URI as MLflow accepts it.
///
/// `sqlite:///rel.db` is relative and `sqlite:////abs.db` absolute (SQLAlchemy's reading);
/// `sqlite://./dir/x.db` names a path directly; `postgresql+driver://` drops the driver. A
/// SQLite URI may add `?synchronous=full` (the default) or `?synchronous=normal`.
pub fn parse_store_uri(uri: &str) -> StoreResult<StoreUri> {
    if let Some(rest) = uri.strip_prefix("sqlite://") {
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut durable = true;
        let mut passed = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("synchronous", v)) => {
                    durable = match v.to_ascii_lowercase().as_str() {
                        "full" | "extra" => true,
                        "normal" => false,
                        _ => {
                            return Err(StoreError::Invalid(format!(
                                "Invalid synchronous={v} in the backend store URI: use full or normal"
                            )));
                        }
                    }
                }
                _ => passed.push(pair),
            }
        }
        let path = path.strip_prefix('/').unwrap_or(path);
        if path.is_empty() || path == ":memory:" {
            return Ok(StoreUri {
                engine: Engine::Sqlite,
                url: "sqlite::memory:".to_owned(),
                sqlite_file: None,
                durable: false,
            });
        }
        if let Some(parent) = std::path::Path::new(path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Invalid(format!("Cannot create the directory of the SQLite database '{path}': {e}"))
            })?;
        }
        let mut url = format!("sqlite://{path}?mode=rwc");
        for pair in passed {
            url.push('&');
            url.push_str(pair);
        }
        return Ok(StoreUri { engine: Engine::Sqlite, url, sqlite_file: Some(path.into()), durable });
    }
    let (scheme, rest) =
        uri.split_once("://").ok_or_else(|| StoreError::Invalid(format!("Invalid backend store URI '{uri}'")))?;
    let engine = scheme.split('+').next().unwrap_or(scheme);
    match engine {
        "postgresql" | "postgres" => Ok(StoreUri {
            engine: Engine::Postgres,
            url: format!("postgres://{rest}"),
            sqlite_file: None,
            // PostgreSQL's own commit settings decide.
            durable: true,
        }),
        other => {
            Err(StoreError::Invalid(format!("Unsupported backend store '{other}': use sqlite:// or postgresql://")))
        }
    }
}

impl SqlStore {
    /// Opens the store, applies the migrations and makes sure the Default experiment exists.
    pub async fn connect(uri: &str, default_artifact_root: &str) -> StoreResult<SqlStore> {
        sqlx::any::install_default_drivers();
        let StoreUri { engine, url, sqlite_file, durable } = parse_store_uri(uri)?;
        let options = AnyConnectOptions::from_str(&url)?;
        let memory = engine == Engine::Sqlite && sqlite_file.is_none();
        let pool = pool_options(engine, memory, Role::Shared).connect_with(options.clone()).await?;
        if let Some(setup) = engine.file_setup().filter(|_| !memory) {
            pool.execute(setup).await?;
        }
        engine.migrator().run(&pool).await.map_err(|e| StoreError::from(sqlx::Error::from(e)))?;
        // The data migrations that follow the schema's (see migrations/README.md).
        metric_chunks::adopt_row_per_value_history(&pool, engine).await?;
        let sqlite_writes = match (engine, &sqlite_file) {
            (Engine::Sqlite, Some(file)) => {
                // Every write goes through one connection that lives as long as the store: its
                // page cache then always holds the B-tree pages the last batch touched, where a
                // pooled connection would first re-read every page written through the others.
                let writer = pool_options(engine, memory, Role::Writer).connect_with(options).await?;
                Some(std::sync::Arc::new(SqliteWrites::for_file(writer, pool.clone(), file, durable)))
            }
            (Engine::Sqlite, None) => Some(std::sync::Arc::new(SqliteWrites::in_memory(pool.clone()))),
            (Engine::Postgres, _) => None,
        };
        let planner_stats =
            (engine == Engine::Postgres).then(|| std::sync::Arc::new(PlannerStats::start(pool.clone())));
        let store = SqlStore {
            pool,
            engine,
            default_artifact_root: default_artifact_root.trim_end_matches('/').to_owned(),
            sqlite_writes,
            planner_stats,
        };
        store.ensure_default_experiment().await?;
        Ok(store)
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction, queued behind other writers on SQLite.
    async fn begin_write(&self) -> StoreResult<WriteTx<'_>> {
        match &self.sqlite_writes {
            Some(writes) => {
                let turn = writes.turn().await;
                // Taking the write lock at BEGIN waits out a connection whose transaction was
                // dropped on an error path and holds the lock until its rollback runs.
                let tx = turn.writer().begin_with(self.engine.begin_write()).await?;
                Ok(WriteTx { tx, turn: Some(turn), planner_stats: None })
            }
            None => {
                Ok(WriteTx { tx: self.pool.begin().await?, turn: None, planner_stats: self.planner_stats.as_deref() })
            }
        }
    }

    /// Whether SQLite commits are acknowledged only once on disk, and how many flushes of its
    /// log have run (`None` on PostgreSQL, whose own settings decide).
    pub fn sqlite_durability(&self) -> Option<(bool, u64)> {
        self.sqlite_writes.as_ref().map(|w| (w.durable(), w.flushes()))
    }

    /// A statement built for this store's engine (see [`Sql::new_for`]).
    fn sql(&self, text: impl Into<String>) -> Sql {
        Sql::new_for(self.engine, text)
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
        w.commit().await?;
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
fn pool_options(engine: Engine, memory: bool, role: Role) -> AnyPoolOptions {
    let connections = match (engine, memory, role) {
        // An in-memory SQLite database lives only as long as its one connection.
        (Engine::Sqlite, true, _) | (_, _, Role::Writer) => 1,
        (Engine::Sqlite, false, Role::Shared) => 8,
        (Engine::Postgres, _, Role::Shared) => 16,
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
                conn.execute(engine.connection_setup(cache_kib, !memory).as_ref()).await?;
                Ok(())
            })
        })
}

/// A write transaction and what follows its commit: on SQLite the writer's turn, on
/// PostgreSQL the planner statistics' refresh.
struct WriteTx<'a> {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    turn: Option<Turn<'a>>,
    planner_stats: Option<&'a PlannerStats>,
}

impl WriteTx<'_> {
    /// Commits; on SQLite, returns once the commit is on disk (see `sqlite_writes`).
    async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await?;
        if let Some(stats) = self.planner_stats {
            stats.wrote();
        }
        if let Some(turn) = self.turn {
            turn.committed().await.map_err(|e| StoreError::from(sqlx::Error::Io(e)))?;
        }
        Ok(())
    }
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
        let pg = parse_store_uri("postgresql+psycopg2://u:p@h:5432/db").unwrap();
        assert_eq!((pg.engine, pg.url.as_str()), (Engine::Postgres, "postgres://u:p@h:5432/db"));
        let memory = parse_store_uri("sqlite:///:memory:").unwrap();
        assert_eq!((memory.engine, memory.url.as_str(), memory.sqlite_file), (Engine::Sqlite, "sqlite::memory:", None));
        assert!(parse_store_uri("mysql://x").is_err());
        assert!(parse_store_uri("nonsense").is_err());
    }

    #[test]
    fn sqlite_commits_are_durable_unless_the_uri_says_normal() {
        let dir = tempfile::tempdir().unwrap();
        let base = format!("sqlite:///{}/m.db", dir.path().display());
        let durable = parse_store_uri(&base).unwrap();
        assert!(durable.durable);
        assert_eq!(durable.sqlite_file, Some(dir.path().join("m.db")));
        let fast = parse_store_uri(&format!("{base}?synchronous=NORMAL&cache=shared")).unwrap();
        assert!(!fast.durable);
        assert!(fast.url.ends_with("?mode=rwc&cache=shared"), "{}", fast.url);
        assert!(parse_store_uri(&format!("{base}?synchronous=off")).is_err());
    }
}
