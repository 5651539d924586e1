//! A scratch PostgreSQL database, created on the test server and dropped with its guard, on
//! success as on a panic.

use sqlx::Connection;
use std::sync::atomic::{AtomicU64, Ordering};

/// The PostgreSQL server tests create their scratch databases on: `PITWALL_TEST_PG_URL`, or the
/// local server with trust authentication.
pub fn server_url() -> String {
    std::env::var("PITWALL_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// An empty database, dropped (with any connections still open to it) when this is dropped.
pub struct ScratchPostgres {
    name: String,
    url: String,
}

impl ScratchPostgres {
    /// Creates a database of a name no other test, in this process or another, uses.
    pub async fn create() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let base = server_url();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!("pitwall_test_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        let mut admin = sqlx::PgConnection::connect(&base)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL must be running at {base} for the store tests: {e}"));
        sqlx::raw_sql(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("create database");
        admin.close().await.ok();
        let url = with_database(&base, &name);
        ScratchPostgres { name, url }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of the database, on the server of [`server_url`].
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ScratchPostgres {
    fn drop(&mut self) {
        let name = std::mem::take(&mut self.name);
        // On a thread of its own: the test's runtime may be shutting down, or unwinding.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            rt.block_on(async move {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&server_url()).await {
                    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::raw_sql(&drop).execute(&mut admin).await;
                    admin.close().await.ok();
                }
            });
        })
        .join()
        .ok();
    }
}

/// `base` with its database name replaced, its query kept.
fn with_database(base: &str, name: &str) -> String {
    let (path, query) = base.split_once('?').map_or((base, None), |(p, q)| (p, Some(q)));
    let authority = path.find("://").map_or(0, |i| i + 3);
    let server = match path[authority..].find('/') {
        Some(i) => &path[..authority + i],
        None => path,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{ScratchPostgres, server_url, with_database};
    use sqlx::Connection;

    #[test]
    fn the_database_name_is_replaced_and_the_query_kept() {
        assert_eq!(with_database("postgres://u@h:5432/postgres", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_database("postgres://u@h/postgres?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
        assert_eq!(with_database("postgres://u@h:5432", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_database("postgres:///postgres", "x"), "postgres:///x");
    }

    #[tokio::test]
    async fn a_scratch_database_is_dropped_when_its_test_panics() {
        let (tx, rx) = std::sync::mpsc::channel();
        let test = std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async move {
                let db = ScratchPostgres::create().await;
                tx.send(db.name().to_owned()).unwrap();
                panic!("a failing test");
            })
        });
        assert!(test.join().is_err());
        let name = rx.recv().unwrap();
        let mut admin = sqlx::PgConnection::connect(&server_url()).await.unwrap();
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        assert_eq!(left, 0, "{name} outlived its test");
    }
}
