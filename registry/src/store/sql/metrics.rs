//! Metric history: paged per run, sampled across runs.

use super::SqlStore;
use super::metric_chunks::{self, Entry};
use crate::store::{MetricStore, Page, StoreResult};
use async_trait::async_trait;
use pitwall_openapi::{Metric, MetricWithRunId};
use std::cmp::Ordering;
use std::collections::BTreeSet;

fn with_run_id(run_id: String, key: &str, e: Entry) -> MetricWithRunId {
    let m = e.into_metric(key.to_owned());
    MetricWithRunId { key: m.key, value: m.value, timestamp: m.timestamp, step: m.step, run_id }
}

/// Values compare as MLflow's SQL store orders its `value` column, where NaN is stored as 0.
fn value_order(a: f64, b: f64) -> Ordering {
    let stored = |v: f64| if v.is_nan() { 0.0 } else { v };
    stored(a).total_cmp(&stored(b))
}

fn by_time(a: &Entry, b: &Entry) -> Ordering {
    (a.timestamp, a.step).cmp(&(b.timestamp, b.step)).then_with(|| value_order(a.value, b.value))
}

fn by_step(a: &Entry, b: &Entry) -> Ordering {
    (a.step, a.timestamp).cmp(&(b.step, b.timestamp)).then_with(|| value_order(a.value, b.value))
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
        let mut entries =
            metric_chunks::read(&mut conn, self.engine, &[run_id], key, None).await?.remove(run_id).unwrap_or_default();
        entries.sort_unstable_by(by_time);
        let total = entries.len();
        let end = max_results.map_or(total, |max| offset.saturating_add(max).min(total));
        let next_offset = (end < total).then_some(end);
        let items = entries.into_iter().take(end).skip(offset).map(|e| e.into_metric(key.to_owned())).collect();
        Ok(Page { items, next_offset })
    }

    async fn get_metric_history_bulk_interval(
        &self,
        run_ids: &[String],
        key: &str,
        steps: Option<(i64, i64)>,
        max_results: usize,
    ) -> StoreResult<Vec<MetricWithRunId>> {
        let mut conn = self.pool.acquire().await?;
        let ids: Vec<&str> = run_ids.iter().map(String::as_str).collect();
        let mut stored = metric_chunks::read(&mut conn, self.engine, &ids, key, steps).await?;
        let mut out = Vec::new();
        for run_id in run_ids {
            let mut entries = stored.remove(run_id).unwrap_or_default();
            entries.retain(|e| steps.is_none_or(|(start, end)| (start..=end).contains(&e.step)));
            entries.sort_unstable_by(by_step);
            let distinct: Vec<i64> = entries.iter().map(|e| e.step).collect::<BTreeSet<_>>().into_iter().collect();
            let keep = sample_steps(&distinct, max_results);
            out.extend(
                entries.into_iter().filter(|e| keep.contains(&e.step)).map(|e| with_run_id(run_id.clone(), key, e)),
            );
        }
        Ok(out)
    }

    async fn get_metric_history_bulk(
        &self,
        run_ids: &[String],
        key: &str,
        max_results: usize,
    ) -> StoreResult<Vec<MetricWithRunId>> {
        let ids: Vec<&str> = run_ids.iter().map(String::as_str).collect();
        let mut conn = self.pool.acquire().await?;
        let stored = metric_chunks::read(&mut conn, self.engine, &ids, key, None).await?;
        let mut out = Vec::new();
        // Runs in id order (the map's), each run's values by time.
        for (run_id, mut entries) in stored {
            if out.len() >= max_results {
                break;
            }
            entries.sort_unstable_by(by_time);
            let room = max_results - out.len();
            out.extend(entries.into_iter().take(room).map(|e| with_run_id(run_id.clone(), key, e)));
        }
        Ok(out)
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
