//! Fresh stores for tests: a temporary SQLite file, or a scratch PostgreSQL database that is
//! dropped when the test ends.

use pitwall_registry::store::{SqlStore, test_postgres_url};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A store and what must live as long as it.
pub struct TestStore {
    pub store: SqlStore,
    pub name: &'static str,
    /// The backend-store URI, to open the same database again.
    pub uri: String,
    _dir: Option<tempfile::TempDir>,
    pg_db: Option<String>,
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some(db) = self.pg_db.take() {
            // Dropped on a plain thread: the test's runtime may be shutting down.
            let url = test_postgres_url();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async move {
                    use sqlx::Connection;
                    if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                        let _ =
                            sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).execute(&mut c).await;
                    }
                });
            })
            .join()
            .ok();
        }
    }
}

pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("tempdir");
    let uri = format!("sqlite:///{}/mlflow.db", dir.path().display());
    let store = SqlStore::connect(&uri, "mlflow-artifacts:").await.expect("open sqlite store");
    TestStore { store, name: "sqlite", uri, _dir: Some(dir), pg_db: None }
}

pub async fn postgres() -> TestStore {
    use sqlx::Connection;
    let base = test_postgres_url();
    let db = format!(
        "pitwall_it_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
    );
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL must be running at {base} for the store tests: {e}"));
    sqlx::raw_sql(&format!("CREATE DATABASE {db}")).execute(&mut admin).await.expect("create database");
    admin.close().await.ok();
    let url = match base.rfind('/') {
        Some(i) => format!("{}/{db}", &base[..i]),
        None => panic!("no database name in {base}"),
    };
    let store = SqlStore::connect(&url, "mlflow-artifacts:").await.expect("open postgres store");
    TestStore { store, name: "postgres", uri: url, _dir: None, pg_db: Some(db) }
}

/// Both backends, fresh.
pub async fn both() -> Vec<TestStore> {
    vec![sqlite().await, postgres().await]
}
