//! Databases with the tracking schema for the compilation tests: the real store opened on an
//! empty database, so the schema is the one its migrations build and the connections are set
//! up as it sets them up.

use pitwall_test_support::ScratchPostgres;
use sqlx::AnyPool;

use crate::store::SqlStore;
use crate::store::query::Sql;

/// The store's pool on `uri`, with no rows: the seeds number their experiments from 1.
async fn empty_store(uri: &str) -> AnyPool {
    let store = SqlStore::connect(uri, "mlflow-artifacts:").await.unwrap_or_else(|e| panic!("open {uri}: {e}"));
    sqlx::query("DELETE FROM experiments").execute(store.pool()).await.expect("no Default experiment");
    store.pool().clone()
}

/// A fresh in-memory SQLite database.
pub(crate) async fn sqlite() -> AnyPool {
    empty_store("sqlite://:memory:").await
}

/// A scratch PostgreSQL database on the server at `PITWALL_TEST_PG_URL`, dropped with the guard
/// (on a panic too; the drop ends the pool's connections).
pub(crate) async fn postgres() -> (AnyPool, ScratchPostgres) {
    let db = ScratchPostgres::create().await;
    let pool = empty_store(db.url()).await;
    (pool, db)
}

/// Runs one statement built with binds.
pub(crate) async fn exec(pool: &AnyPool, text: &str, binds: Vec<crate::store::query::Bind>) {
    let mut sql = Sql::new(text);
    sql.push(" (");
    for (i, b) in binds.into_iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(b);
    }
    sql.push(")");
    sql.query().execute(pool).await.unwrap_or_else(|e| panic!("{}: {e}", sql.text()));
}

/// The first column of every row, as text.
pub(crate) async fn ids(pool: &AnyPool, sql: &Sql) -> Vec<String> {
    let rows: Vec<(String,)> = sql.query_as().fetch_all(pool).await.unwrap_or_else(|e| panic!("{}: {e}", sql.text()));
    rows.into_iter().map(|(s,)| s).collect()
}
