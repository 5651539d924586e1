//! Metric histories: paging and MLflow's limits on the bulk reads.

use super::{ServiceError, ServiceResult, paging};
use crate::store::TrackingStore;
use crate::validation::{self, DOCS_HINT};
use pitwall_openapi::{Metric, MetricWithRunId};

const MAX_RUNS_PER_BULK_REQUEST: usize = 100;
const MAX_RESULTS_PER_RUN: i64 = 2500;
const MAX_BULK_HISTORY_RESULTS: usize = 25000;

/// An integer argument as read from a request: absent, a number, or why it did not read as
/// one. A reading error is reported in its turn, after the checks MLflow makes before it.
pub type IntArg = ServiceResult<Option<i64>>;

/// A `get-history-bulk-interval` request.
#[derive(Debug)]
pub struct BulkInterval {
    pub run_ids: Vec<String>,
    pub metric_key: String,
    pub start_step: IntArg,
    pub end_step: IntArg,
    pub max_results: IntArg,
}

/// The web UI's `get-history-bulk` request.
#[derive(Debug)]
pub struct Bulk {
    pub run_ids: Vec<String>,
    pub metric_key: Option<String>,
    pub max_results: IntArg,
}

/// Metric histories.
#[derive(Clone, Copy)]
pub struct MetricService<'a> {
    pub(super) store: &'a dyn TrackingStore,
}

impl MetricService<'_> {
    /// One page of a run's metric history and the token of the next.
    pub async fn history(
        &self,
        run_id: &str,
        metric_key: &str,
        max_results: Option<i64>,
        page_token: Option<&str>,
    ) -> ServiceResult<(Vec<Metric>, Option<String>)> {
        let offset = paging::offset(page_token)?;
        let max_results = match max_results {
            Some(n) if n < 1 => {
                return Err(ServiceError::Invalid(format!(
                    "Invalid value {n} for parameter 'max_results' supplied. It must be a positive integer."
                )));
            }
            Some(n) => Some(n as usize),
            None => None,
        };
        let page = self.store.get_metric_history(run_id, metric_key, max_results, offset).await?;
        Ok((page.items, paging::next_token(page.next_offset)))
    }

    /// Sampled histories of several runs within a step range.
    pub async fn history_bulk_interval(&self, req: BulkInterval) -> ServiceResult<Vec<MetricWithRunId>> {
        if req.run_ids.len() > MAX_RUNS_PER_BULK_REQUEST {
            return Err(ServiceError::Invalid(format!(
                "GetMetricHistoryBulkInterval request must specify at most {MAX_RUNS_PER_BULK_REQUEST} run_ids. \
                 Received {} run_ids.{DOCS_HINT}",
                req.run_ids.len()
            )));
        }
        let max_results = req.max_results?.unwrap_or(MAX_RESULTS_PER_RUN);
        if !(1..=MAX_RESULTS_PER_RUN).contains(&max_results) {
            return Err(ServiceError::Invalid(format!(
                "max_results must be between 1 and {MAX_RESULTS_PER_RUN}.{DOCS_HINT}"
            )));
        }
        let steps = match (req.start_step?, req.end_step?) {
            (Some(a), Some(b)) if a > b => {
                return Err(ServiceError::Invalid(format!(
                    "end_step must be greater than start_step. Found start_step={a} and end_step={b}."
                )));
            }
            (Some(a), Some(b)) => Some((a, b)),
            (None, None) => None,
            _ => {
                return Err(ServiceError::Invalid(
                    "If either start step or end step are specified, both must be specified.".into(),
                ));
            }
        };
        Ok(self
            .store
            .get_metric_history_bulk_interval(&req.run_ids, &req.metric_key, steps, max_results as usize)
            .await?)
    }

    /// Full histories of several runs, for the web UI.
    pub async fn history_bulk(&self, req: Bulk) -> ServiceResult<Vec<MetricWithRunId>> {
        if req.run_ids.is_empty() {
            return Err(ServiceError::Invalid("GetMetricHistoryBulk request must specify at least one run_id.".into()));
        }
        if req.run_ids.len() > MAX_RUNS_PER_BULK_REQUEST {
            return Err(ServiceError::Invalid(format!(
                "GetMetricHistoryBulk request cannot specify more than {MAX_RUNS_PER_BULK_REQUEST} run_ids. Received {} run_ids.",
                req.run_ids.len()
            )));
        }
        let Some(metric_key) = req.metric_key else {
            return Err(ServiceError::Invalid("GetMetricHistoryBulk request must specify a metric_key.".into()));
        };
        let max_results = match req.max_results? {
            Some(n) if n < 0 => return Err(validation::wrong_type("max_results", &n.into())),
            Some(n) => (n as usize).min(MAX_BULK_HISTORY_RESULTS),
            None => MAX_BULK_HISTORY_RESULTS,
        };
        Ok(self.store.get_metric_history_bulk(&req.run_ids, &metric_key, max_results).await?)
    }
}
