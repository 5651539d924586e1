//! The registry's domain operations, below the HTTP layer: what a request may ask, in MLflow's
//! rules and wording, over the store and the artifact repository.
//!
//! The API handlers, the web pages and the auth layer call the same operations. They take typed
//! inputs (wire types or small structs of this module) and fail with [`ServiceError`], which
//! the API turns into its wire error once.

pub mod artifacts;
mod error;
pub mod experiments;
pub mod logged_models;
pub mod metrics;
pub mod model_registry;
pub mod overview;
mod paging;
pub mod runs;

pub use artifacts::ArtifactService;
pub use error::{ServiceError, ServiceResult};
pub use experiments::ExperimentService;
pub use logged_models::LoggedModelService;
pub use metrics::MetricService;
pub use model_registry::ModelRegistryService;
pub use overview::OverviewService;
pub use runs::RunService;

use crate::artifacts::ArtifactRepo;
use crate::store::TrackingStore;

/// The operations over one store and one artifact repository, by area.
///
/// Cheap to make (two references), so a caller builds it per request; a permission check can
/// then stand between the caller and each area without the areas knowing about it.
#[derive(Clone, Copy)]
pub struct Services<'a> {
    store: &'a dyn TrackingStore,
    artifacts: &'a ArtifactRepo,
}

impl<'a> Services<'a> {
    pub fn new(store: &'a dyn TrackingStore, artifacts: &'a ArtifactRepo) -> Self {
        Services { store, artifacts }
    }

    pub fn experiments(self) -> ExperimentService<'a> {
        ExperimentService { store: self.store }
    }

    pub fn runs(self) -> RunService<'a> {
        RunService { store: self.store }
    }

    pub fn metrics(self) -> MetricService<'a> {
        MetricService { store: self.store }
    }

    pub fn model_registry(self) -> ModelRegistryService<'a> {
        ModelRegistryService { store: self.store }
    }

    pub fn logged_models(self) -> LoggedModelService<'a> {
        LoggedModelService { store: self.store }
    }

    pub fn overview(self) -> OverviewService<'a> {
        OverviewService { store: self.store }
    }

    pub fn artifacts(self) -> ArtifactService<'a> {
        ArtifactService { store: self.store, repo: self.artifacts }
    }
}
