//! PostgreSQL's planner statistics kept up with the store's own writes.
//!
//! A table that has never been analysed is planned on guesses: PostgreSQL took each of a fresh
//! experiment's lookups for one row, and a run search over 10,000 runs created through the API
//! became a nested loop over the whole experiment per run (20 s; 10 ms once analysed). That
//! window lasts until autovacuum visits the table — a minute on a stock cluster, later on a busy
//! one, never where it is off. The store knows when it writes, so a moment after writes it
//! analyses the tables that grew or changed since their statistics were taken, as autovacuum
//! would, without waiting for it.
//!
//! Growth is read from each table's size on disk against the size its statistics recorded,
//! which is exact at once; changes from the activity counters, which backends report up to a
//! second late. Any store on the database does the same, so statistics follow every writer.

use sqlx::AnyPool;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long after a write the check waits, gathering the writes that follow it; also the
/// shortest time between two checks.
const SETTLE: Duration = Duration::from_millis(300);

/// The store's tables (those it may analyse) whose statistics no longer describe them: never analysed but holding rows,
/// grown by a tenth (and some pages) since, or with more changed rows than autovacuum's
/// default threshold (50 + 10 %).
const STALE_TABLES: &str = "\
    SELECT c.relname::text FROM pg_class c \
    JOIN pg_namespace n ON n.oid = c.relnamespace \
    LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid \
    WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname NOT LIKE '\\_sqlx%' \
    AND pg_has_role(c.relowner, 'USAGE') \
    AND ( \
      (c.reltuples < 0 AND pg_relation_size(c.oid) > 0) \
      OR pg_relation_size(c.oid) / current_setting('block_size')::bigint > c.relpages * 1.1 + 4 \
      OR coalesce(s.n_mod_since_analyze, 0) > 50 + 0.1 * greatest(c.reltuples, 0) \
    ) ORDER BY c.relname";

/// Wakes the analyser; cheap, called after every committed write.
pub(in crate::store::sql) struct PlannerStats {
    wake: mpsc::Sender<()>,
}

impl PlannerStats {
    /// Starts the analyser on `pool`, with a first check at once (a database restored from a
    /// dump, or written while autovacuum was off, starts unanalysed). It ends with the store.
    pub(in crate::store::sql) fn start(pool: AnyPool) -> PlannerStats {
        let (wake, mut woken) = mpsc::channel::<()>(1);
        let _ = wake.try_send(());
        tokio::spawn(async move {
            while woken.recv().await.is_some() {
                tokio::time::sleep(SETTLE).await;
                // The writes made while this check runs wake the next one.
                if let Err(e) = analyse_stale_tables(&pool).await {
                    tracing::warn!(error = %e, "could not refresh PostgreSQL's planner statistics");
                }
            }
        });
        PlannerStats { wake }
    }

    /// Notes a committed write. A full channel means a check is already due, which covers it.
    pub(in crate::store::sql) fn wrote(&self) {
        let _ = self.wake.try_send(());
    }
}

/// Analyses the tables [`STALE_TABLES`] names.
async fn analyse_stale_tables(pool: &AnyPool) -> Result<(), sqlx::Error> {
    let stale: Vec<String> = sqlx::query_scalar(STALE_TABLES).fetch_all(pool).await?;
    if stale.is_empty() {
        return Ok(());
    }
    // ANALYZE samples a bounded number of rows and takes a lock that blocks neither reads
    // nor writes.
    let names = stale.iter().map(|t| format!("\"{}\"", t.replace('"', "\"\""))).collect::<Vec<_>>().join(", ");
    let started = std::time::Instant::now();
    sqlx::query(&format!("ANALYZE {names}")).execute(pool).await?;
    tracing::debug!(tables = %names, ms = started.elapsed().as_millis() as u64, "analysed");
    Ok(())
}
