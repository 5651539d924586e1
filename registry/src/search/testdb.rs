//! Databases with the tracking schema for the compilation tests.

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

use crate::store::query::Sql;

const SQLITE_SCHEMA: &str = include_str!("../../../migrations/sqlite/20261125000001_tracking.sql");
const POSTGRES_SCHEMA: &str = include_str!("../../../migrations/postgres/20261125000001_tracking.sql");
const SQLITE_LOGGED_MODELS: &str = include_str!("../../../migrations/sqlite/20261125000003_logged_models.sql");
const POSTGRES_LOGGED_MODELS: &str = include_str!("../../../migrations/postgres/20261125000003_logged_models.sql");

/// A fresh in-memory SQLite database, configured as the store configures its connections.
pub(crate) async fn sqlite() -> AnyPool {
    sqlx::any::install_default_drivers();
    // One connection that never closes: each in-memory connection is its own database.
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect("sqlite::memory:")
        .await
        .expect("open sqlite");
    sqlx::raw_sql(SQLITE_SCHEMA).execute(&pool).await.expect("schema");
    sqlx::raw_sql(SQLITE_LOGGED_MODELS).execute(&pool).await.expect("logged models schema");
    sqlx::raw_sql("PRAGMA case_sensitive_like = ON").execute(&pool).await.expect("pragma");
    pool
}

/// A scratch PostgreSQL database on the server at `PITWALL_TEST_PG_URL`; drop it with
/// [`drop_postgres`].
pub(crate) async fn postgres() -> (AnyPool, String) {
    sqlx::any::install_default_drivers();
    let base = crate::store::test_postgres_url();
    let admin = AnyPoolOptions::new().max_connections(1).connect(&base).await.expect("connect");
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    let name = format!("pitwall_search_{}_{nanos}", std::process::id());
    sqlx::raw_sql(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("create db");
    admin.close().await;
    let url = match base.rfind('/') {
        Some(i) => format!("{}/{name}", &base[..i]),
        None => panic!("no database in {base}"),
    };
    let pool = AnyPoolOptions::new().max_connections(1).connect(&url).await.expect("connect db");
    sqlx::raw_sql(POSTGRES_SCHEMA).execute(&pool).await.expect("schema");
    sqlx::raw_sql(POSTGRES_LOGGED_MODELS).execute(&pool).await.expect("logged models schema");
    (pool, name)
}

pub(crate) async fn drop_postgres(pool: AnyPool, name: &str) {
    pool.close().await;
    let base = crate::store::test_postgres_url();
    let admin = AnyPoolOptions::new().max_connections(1).connect(&base).await.expect("connect");
    sqlx::raw_sql(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&admin).await.expect("drop db");
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
