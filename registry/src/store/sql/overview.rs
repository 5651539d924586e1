//! Counts and key lists over runs, for overviews (the web pages' experiment list and runs
//! table).

use super::{SqlStore, parse_experiment_id};
use crate::store::StoreResult;
use crate::store::overview::{OverviewStore, RunKeys};
use async_trait::async_trait;
use std::collections::HashMap;

#[async_trait]
impl OverviewStore for SqlStore {
    async fn count_active_runs(&self, experiment_ids: &[String]) -> StoreResult<HashMap<String, i64>> {
        let ids: Vec<i64> = experiment_ids.iter().filter_map(|id| parse_experiment_id(id).ok()).collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut sql = self.sql(
            "SELECT CAST(experiment_id AS TEXT) AS experiment_id, COUNT(*) AS n FROM runs \
             WHERE lifecycle_stage = 'active' AND experiment_id IN (",
        );
        sql.bind_list(ids).push(") GROUP BY experiment_id");
        let rows: Vec<(String, i64)> = sql.query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().collect())
    }

    async fn run_keys(&self, experiment_id: &str) -> StoreResult<RunKeys> {
        let id = parse_experiment_id(experiment_id)?;
        // `latest_metrics` holds one row per run and key, so it lists the keys without reading
        // any history.
        let keys = |table: &str| {
            format!(
                "SELECT DISTINCT k.key FROM {table} k JOIN runs r ON r.run_uuid = k.run_uuid \
                 WHERE r.experiment_id = $1 AND r.lifecycle_stage = 'active' ORDER BY k.key"
            )
        };
        let mut out = RunKeys::default();
        for (table, list) in
            [("latest_metrics", &mut out.metrics), ("params", &mut out.params), ("tags", &mut out.tags)]
        {
            let rows: Vec<(String,)> = sqlx::query_as(&keys(table)).bind(id).fetch_all(&self.pool).await?;
            *list = rows.into_iter().map(|(k,)| k).collect();
        }
        Ok(out)
    }
}
