//! The registry's app over a test store: every in-process test builds it here.

use crate::db::TestStore;
use pitwall_registry::artifacts::ArtifactRepo;
use pitwall_registry::{AppState, Settings};
use std::sync::Arc;

/// The app over `store`'s database and the artifact destination `artifacts`, which the proxy
/// serves when `serve_artifacts`; multipart uploads where the destination has them (S3).
pub(crate) fn app(store: &TestStore, artifacts: ArtifactRepo, serve_artifacts: bool) -> axum::Router {
    let state = AppState {
        store: Arc::new(store.store.clone()),
        settings: Arc::new(Settings { serve_artifacts, multipart_uploads: artifacts.supports_multipart() }),
        artifacts: Arc::new(artifacts),
    };
    pitwall_registry::app(state)
}
