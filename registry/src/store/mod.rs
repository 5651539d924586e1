//! The metadata store: one trait, split by aggregate, with a SQL implementation that runs on
//! SQLite (embedded default) and PostgreSQL (production).
//!
//! Handlers and pages hold an `Arc<dyn TrackingStore>`; every method that writes more than one
//! row does so in one transaction.

mod error;
pub mod logged_models;
pub mod model_registry;
pub mod overview;
pub mod query;
mod sql;

pub use error::{BackendError, ParamChange, StoreError, StoreResult};
pub use logged_models::{LoggedModelSearch, LoggedModelStore, NewLoggedModel};
pub use model_registry::{ModelRegistryStore, NewModelVersion, RegistrySearch};
pub use overview::{OverviewStore, RunKeys};
pub use query::{Bind, Sql};
pub use sql::{Engine, SqlStore};

use async_trait::async_trait;
use pitwall_openapi::{
    DatasetInput, Experiment, KeyValue, Metric, MetricWithRunId, ModelInput, ModelOutput, Run, RunInfo, RunStatus,
    ViewType,
};

/// What `runs/create` stores.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub experiment_id: String,
    pub user_id: String,
    pub run_name: String,
    pub start_time: i64,
    pub tags: Vec<KeyValue>,
}

/// Changes of `runs/update`; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct RunUpdate {
    pub status: Option<RunStatus>,
    pub end_time: Option<i64>,
    pub run_name: Option<String>,
}

/// A validated `runs/search` request.
#[derive(Debug, Clone)]
pub struct RunSearch {
    pub experiment_ids: Vec<String>,
    pub filter: String,
    pub view_type: ViewType,
    pub order_by: Vec<String>,
    pub max_results: usize,
    pub offset: usize,
}

/// A validated `experiments/search` request.
#[derive(Debug, Clone)]
pub struct ExperimentSearch {
    pub filter: String,
    pub view_type: ViewType,
    pub order_by: Vec<String>,
    pub max_results: usize,
    pub offset: usize,
}

/// One page of results and whether more follow.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The offset of the next page, when there is one.
    pub next_offset: Option<usize>,
}

/// Experiments.
#[async_trait]
pub trait ExperimentStore: Send + Sync {
    async fn create_experiment(
        &self,
        name: &str,
        artifact_location: Option<&str>,
        tags: &[KeyValue],
    ) -> StoreResult<String>;
    async fn get_experiment(&self, experiment_id: &str) -> StoreResult<Experiment>;
    async fn get_experiment_by_name(&self, name: &str) -> StoreResult<Option<Experiment>>;
    async fn search_experiments(&self, search: &ExperimentSearch) -> StoreResult<Page<Experiment>>;
    async fn rename_experiment(&self, experiment_id: &str, new_name: &str) -> StoreResult<()>;
    async fn delete_experiment(&self, experiment_id: &str) -> StoreResult<()>;
    async fn restore_experiment(&self, experiment_id: &str) -> StoreResult<()>;
    async fn set_experiment_tag(&self, experiment_id: &str, tag: &KeyValue) -> StoreResult<()>;
    async fn delete_experiment_tag(&self, experiment_id: &str, key: &str) -> StoreResult<()>;
}

/// Runs and everything logged to them.
#[async_trait]
pub trait RunStore: Send + Sync {
    async fn create_run(&self, run: NewRun) -> StoreResult<Run>;
    async fn get_run(&self, run_id: &str) -> StoreResult<Run>;
    async fn update_run(&self, run_id: &str, update: RunUpdate) -> StoreResult<RunInfo>;
    async fn delete_run(&self, run_id: &str) -> StoreResult<()>;
    async fn restore_run(&self, run_id: &str) -> StoreResult<()>;
    /// Metrics, params and tags in one transaction: stored whole or not at all.
    async fn log_batch(
        &self,
        run_id: &str,
        metrics: &[Metric],
        params: &[KeyValue],
        tags: &[KeyValue],
    ) -> StoreResult<()>;
    async fn delete_tag(&self, run_id: &str, key: &str) -> StoreResult<()>;
    async fn log_inputs(&self, run_id: &str, datasets: &[DatasetInput], models: &[ModelInput]) -> StoreResult<()>;
    async fn log_outputs(&self, run_id: &str, models: &[ModelOutput]) -> StoreResult<()>;
    async fn search_runs(&self, search: &RunSearch) -> StoreResult<Page<Run>>;
}

/// Metric history.
#[async_trait]
pub trait MetricStore: Send + Sync {
    /// One page of a metric's history, in MLflow's order.
    async fn get_metric_history(
        &self,
        run_id: &str,
        key: &str,
        max_results: Option<usize>,
        offset: usize,
    ) -> StoreResult<Page<Metric>>;
    /// Histories of several runs, each limited to `max_results` sampled steps within the range.
    async fn get_metric_history_bulk_interval(
        &self,
        run_ids: &[String],
        key: &str,
        steps: Option<(i64, i64)>,
        max_results: usize,
    ) -> StoreResult<Vec<MetricWithRunId>>;
    /// Full histories of several runs, up to `max_results` values in all.
    async fn get_metric_history_bulk(
        &self,
        run_ids: &[String],
        key: &str,
        max_results: usize,
    ) -> StoreResult<Vec<MetricWithRunId>>;
}

/// Everything the tracking API needs from a store.
pub trait TrackingStore:
    ExperimentStore + RunStore + MetricStore + ModelRegistryStore + LoggedModelStore + OverviewStore
{
    /// `SqlStore` for the server-info document.
    fn store_type(&self) -> &'static str {
        "SqlStore"
    }
}
