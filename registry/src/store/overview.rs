//! Reads that summarise many rows at once, for overviews such as the web pages: what a list
//! of experiments or a runs table needs besides the rows themselves.

use super::StoreResult;
use async_trait::async_trait;
use std::collections::HashMap;

/// The keys logged across the runs of an experiment, each list sorted and distinct.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunKeys {
    pub metrics: Vec<String>,
    pub params: Vec<String>,
    pub tags: Vec<String>,
}

/// Counts and key lists over runs.
#[async_trait]
pub trait OverviewStore: Send + Sync {
    /// The number of active runs of each of `experiment_ids`; an experiment without runs (or
    /// an id that is not one) is absent.
    async fn count_active_runs(&self, experiment_ids: &[String]) -> StoreResult<HashMap<String, i64>>;
    /// The metric, param and tag keys of the experiment's active runs: every run, not a page.
    async fn run_keys(&self, experiment_id: &str) -> StoreResult<RunKeys>;
}
