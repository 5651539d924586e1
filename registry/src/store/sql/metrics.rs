//! Metric history: paged per run, sampled across runs.

use super::SqlStore;
use super::rows::MetricRow;
use crate::store::{MetricStore, Page, Sql, StoreResult};
use async_trait::async_trait;
use pitwall_openapi::{Metric, MetricWithRunId};
use std::collections::BTreeSet;

const HISTORY_COLUMNS: &str = "run_uuid AS owner, key, value, timestamp, step, is_nan";

fn with_run_id(row: MetricRow) -> MetricWithRunId {
    let run_id = row.owner.clone();
    let m = row.into_metric();
    MetricWithRunId { key: m.key, value: m.value, timestamp: m.timestamp, step: m.step, run_id }
}

/// Steps kept when a run has more distinct steps than asked for: evenly spaced, always with
/// the first and the last, so that a chart keeps its shape and its ends.
fn sample_steps(steps: &[i64], max_results: usize) -> BTreeSet<i64> {
    if steps.len() <= max_results || max_results < 2 {
        return steps.iter().copied().take(max_results.max(steps.len().min(1))).collect();
    }
    let last = steps.len() - 1;
    (0..max_results)
        .map(|i| steps[(i * last + (max_results - 1) / 2) / (max_results - 1)])
        .chain([steps[0], steps[last]])
        .collect()
}

#[async_trait]
impl MetricStore for SqlStore {
    async fn get_metric_history(
        &self,
        run_id: &str,
        key: &str,
        max_results: Option<usize>,
        offset: usize,
    ) -> StoreResult<Page<Metric>> {
        let mut conn = self.pool.acquire().await?;
        let mut sql = Sql::for_conn(&conn, format!("SELECT {HISTORY_COLUMNS} FROM metrics WHERE run_uuid = "));
        sql.bind(run_id).push(" AND key = ").bind(key).push(" ORDER BY timestamp, step, value");
        if let Some(max) = max_results {
            sql.push(" LIMIT ").bind(max as i64 + 1).push(" OFFSET ").bind(offset as i64);
        }
        let mut rows = sql.query_as::<MetricRow>().fetch_all(&mut *conn).await?;
        let next_offset = match max_results {
            Some(max) if rows.len() > max => {
                rows.truncate(max);
                Some(offset + max)
            }
            _ => None,
        };
        Ok(Page { items: rows.into_iter().map(MetricRow::into_metric).collect(), next_offset })
    }

    async fn get_metric_history_bulk_interval(
        &self,
        run_ids: &[String],
        key: &str,
        steps: Option<(i64, i64)>,
        max_results: usize,
    ) -> StoreResult<Vec<MetricWithRunId>> {
        let mut conn = self.pool.acquire().await?;
        let mut out = Vec::new();
        for run_id in run_ids {
            let mut sql = Sql::for_conn(&conn, format!("SELECT {HISTORY_COLUMNS} FROM metrics WHERE run_uuid = "));
            sql.bind(run_id.as_str()).push(" AND key = ").bind(key);
            if let Some((start, end)) = steps {
                sql.push(" AND step >= ").bind(start).push(" AND step <= ").bind(end);
            }
            sql.push(" ORDER BY step, timestamp, value");
            let rows = sql.query_as::<MetricRow>().fetch_all(&mut *conn).await?;
            let distinct: Vec<i64> = rows.iter().map(|r| r.step).collect::<BTreeSet<_>>().into_iter().collect();
            let keep = sample_steps(&distinct, max_results);
            out.extend(rows.into_iter().filter(|r| keep.contains(&r.step)).map(with_run_id));
        }
        Ok(out)
    }

    async fn get_metric_history_bulk(
        &self,
        run_ids: &[String],
        key: &str,
        max_results: usize,
    ) -> StoreResult<Vec<MetricWithRunId>> {
        let mut sorted: Vec<&str> = run_ids.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let mut sql = self.sql(format!("SELECT {HISTORY_COLUMNS} FROM metrics WHERE key = "));
        sql.bind(key).push(" AND run_uuid IN (").bind_list(sorted).push(")");
        sql.push(" ORDER BY run_uuid, timestamp, step, value LIMIT ").bind(max_results as i64);
        let mut conn = self.pool.acquire().await?;
        let rows = sql.query_as::<MetricRow>().fetch_all(&mut *conn).await?;
        Ok(rows.into_iter().map(with_run_id).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::sample_steps;

    #[test]
    fn sampling_keeps_ends_and_bounds_count() {
        let steps: Vec<i64> = (0..1000).collect();
        let s = sample_steps(&steps, 10);
        assert!(s.contains(&0) && s.contains(&999));
        assert!(s.len() <= 12);
        let few: Vec<i64> = vec![3, 5];
        assert_eq!(sample_steps(&few, 10).len(), 2);
    }
}
