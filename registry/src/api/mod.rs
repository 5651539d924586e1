//! The HTTP API: one module per MLflow area, and the one route table they are mounted from.

pub mod artifacts;
pub mod experiments;
pub mod fallback;
pub mod logged_models;
pub mod metrics;
pub mod model_versions;
pub mod registered_models;
pub mod request;
pub mod routes;
pub mod runs;
pub mod server;

use crate::artifacts::ArtifactRepo;
use crate::error::ApiError;
use crate::service::Services;
use crate::store::TrackingStore;
use axum::Json;
use serde::Serialize;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn TrackingStore>,
    pub settings: Arc<Settings>,
    /// Where proxied artifacts are read and written.
    pub artifacts: Arc<ArtifactRepo>,
}

impl AppState {
    /// The domain operations over this state's store and artifact repository.
    pub fn services(&self) -> Services<'_> {
        Services::new(self.store.as_ref(), &self.artifacts)
    }
}

/// Server settings the API answers with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Whether the server proxies artifacts (`mlflow-artifacts:` URIs).
    pub serve_artifacts: bool,
    /// Whether the artifact destination supports multipart uploads (S3).
    pub multipart_uploads: bool,
}

/// A handler's result: a wire type or an MLflow error.
pub type ApiResult<T> = Result<Json<T>, ApiError>;

/// Wraps a response body.
pub fn ok<T: Serialize>(body: T) -> ApiResult<T> {
    Ok(Json(body))
}
