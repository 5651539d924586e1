//! MLflow 3 logged models: what the store keeps about them and the operations on them.
//!
//! A logged model belongs to an experiment, usually comes from a run (`source_run_id`), has its
//! own artifact location `<experiment artifact location>/models/<model_id>/artifacts`, params,
//! tags, and the metrics runs log against it (`model_id` on a logged metric).

use super::{Page, StoreResult};
use crate::search::logged_models::{DatasetFilter, OrderByEntry};
use async_trait::async_trait;
use pitwall_openapi::{KeyValue, LoggedModel, LoggedModelStatus};

/// What `logged-models` create stores.
#[derive(Debug, Clone, Default)]
pub struct NewLoggedModel {
    pub experiment_id: String,
    /// A generated `adjective-noun-NNN` name when absent, as MLflow does.
    pub name: Option<String>,
    pub model_type: Option<String>,
    pub source_run_id: Option<String>,
    pub params: Vec<KeyValue>,
    pub tags: Vec<KeyValue>,
}

/// A validated `logged-models/search` request.
#[derive(Debug, Clone, Default)]
pub struct LoggedModelSearch {
    pub experiment_ids: Vec<String>,
    pub filter: String,
    pub datasets: Vec<DatasetFilter>,
    pub order_by: Vec<OrderByEntry>,
    pub max_results: usize,
    pub offset: usize,
}

/// Logged models.
///
/// Reads of one model (`get_logged_model`) skip deleted models; writes find a model whatever its
/// lifecycle stage, as MLflow's store does.
#[async_trait]
pub trait LoggedModelStore: Send + Sync {
    /// Creates the model (status `LOGGED_MODEL_PENDING`) with its params and tags, in one
    /// transaction. The experiment must exist and be active.
    async fn create_logged_model(&self, model: NewLoggedModel) -> StoreResult<LoggedModel>;

    /// The model, also when deleted if `allow_deleted`.
    async fn find_logged_model(&self, model_id: &str, allow_deleted: bool) -> StoreResult<LoggedModel>;

    /// The active model: `info.artifact_uri` is where its files are, `info.source_run_id` the
    /// run that logged it. The model registry resolves `models:/m-…` sources through this.
    async fn get_logged_model(&self, model_id: &str) -> StoreResult<LoggedModel> {
        self.find_logged_model(model_id, false).await
    }

    /// Sets the status (upload finished or failed) and the update time.
    async fn finalize_logged_model(&self, model_id: &str, status: LoggedModelStatus) -> StoreResult<LoggedModel>;

    /// Marks the model deleted; it disappears from get and search.
    async fn delete_logged_model(&self, model_id: &str) -> StoreResult<()>;

    /// Sets (or overwrites) tags, all or none.
    async fn set_logged_model_tags(&self, model_id: &str, tags: &[KeyValue]) -> StoreResult<()>;

    async fn delete_logged_model_tag(&self, model_id: &str, key: &str) -> StoreResult<()>;

    /// Adds params, all or none; a key the model already has is an error, as in MLflow.
    async fn log_logged_model_params(&self, model_id: &str, params: &[KeyValue]) -> StoreResult<()>;

    /// One page of the experiments' active models.
    async fn search_logged_models(&self, search: &LoggedModelSearch) -> StoreResult<Page<LoggedModel>>;
}
