//! Overviews: run counts per experiment and the keys logged across an experiment's runs.

use super::ServiceResult;
use crate::store::{RunKeys, TrackingStore};
use std::collections::HashMap;

/// Summaries over many runs, for lists and tables.
#[derive(Clone, Copy)]
pub struct OverviewService<'a> {
    pub(super) store: &'a dyn TrackingStore,
}

impl OverviewService<'_> {
    /// Active runs per experiment id; an experiment without runs is absent.
    pub async fn run_counts(&self, experiment_ids: &[String]) -> ServiceResult<HashMap<String, i64>> {
        Ok(self.store.count_active_runs(experiment_ids).await?)
    }

    /// The metric, param and tag keys across every active run of the experiment.
    pub async fn run_keys(&self, experiment_id: &str) -> ServiceResult<RunKeys> {
        Ok(self.store.run_keys(experiment_id).await?)
    }
}
