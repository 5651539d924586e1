//! Experiments: creation and renaming under MLflow's name rules, tags, search.

use super::{ServiceError, ServiceResult, paging};
use crate::store::{ExperimentSearch, TrackingStore};
use crate::validation;
use pitwall_openapi::{Experiment, KeyValue, ViewType};

/// The default and the cap of `max_results` in experiment search.
const SEARCH_DEFAULT_MAX_RESULTS: i64 = 1000;
const SEARCH_MAX_RESULTS: i64 = 50000;

/// An experiment search as asked for.
#[derive(Debug, Clone, Default)]
pub struct SearchExperiments {
    pub filter: Option<String>,
    pub view_type: ViewType,
    pub order_by: Vec<String>,
    pub max_results: Option<i64>,
    pub page_token: Option<String>,
}

/// Experiments.
#[derive(Clone, Copy)]
pub struct ExperimentService<'a> {
    pub(super) store: &'a dyn TrackingStore,
}

impl ExperimentService<'_> {
    /// A new experiment; its id.
    pub async fn create(
        &self,
        name: &str,
        artifact_location: Option<&str>,
        tags: &[KeyValue],
    ) -> ServiceResult<String> {
        validation::validate_experiment_name(name)?;
        if let Some(loc) = artifact_location.filter(|l| !l.is_empty()) {
            validation::validate_artifact_location(loc)?;
        }
        for t in tags {
            validation::validate_experiment_tag(t)?;
        }
        Ok(self.store.create_experiment(name, artifact_location, tags).await?)
    }

    pub async fn get(&self, experiment_id: &str) -> ServiceResult<Experiment> {
        Ok(self.store.get_experiment(experiment_id).await?)
    }

    pub async fn get_by_name(&self, name: &str) -> ServiceResult<Experiment> {
        self.store
            .get_experiment_by_name(name)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("Could not find experiment with name '{name}'")))
    }

    /// One page of experiments and the token of the next.
    pub async fn search(&self, search: SearchExperiments) -> ServiceResult<(Vec<Experiment>, Option<String>)> {
        let max_results = search.max_results.unwrap_or(SEARCH_DEFAULT_MAX_RESULTS);
        if max_results > SEARCH_MAX_RESULTS {
            return Err(ServiceError::Invalid(format!(
                "Invalid value {max_results} for parameter 'max_results' supplied. It must be at most {SEARCH_MAX_RESULTS}"
            )));
        }
        if max_results < 1 {
            return Err(ServiceError::Invalid(format!(
                "Invalid value {max_results} for parameter 'max_results' supplied. It must be at least 1"
            )));
        }
        let offset = paging::offset(search.page_token.as_deref())?;
        let page = self
            .store
            .search_experiments(&ExperimentSearch {
                filter: search.filter.unwrap_or_default(),
                view_type: search.view_type,
                order_by: search.order_by,
                max_results: max_results as usize,
                offset,
            })
            .await?;
        Ok((page.items, paging::next_token(page.next_offset)))
    }

    pub async fn rename(&self, experiment_id: &str, new_name: &str) -> ServiceResult<()> {
        validation::validate_experiment_name(new_name)?;
        Ok(self.store.rename_experiment(experiment_id, new_name).await?)
    }

    pub async fn delete(&self, experiment_id: &str) -> ServiceResult<()> {
        Ok(self.store.delete_experiment(experiment_id).await?)
    }

    pub async fn restore(&self, experiment_id: &str) -> ServiceResult<()> {
        Ok(self.store.restore_experiment(experiment_id).await?)
    }

    pub async fn set_tag(&self, experiment_id: &str, tag: &KeyValue) -> ServiceResult<()> {
        validation::validate_experiment_tag(tag)?;
        Ok(self.store.set_experiment_tag(experiment_id, tag).await?)
    }

    pub async fn delete_tag(&self, experiment_id: &str, key: &str) -> ServiceResult<()> {
        Ok(self.store.delete_experiment_tag(experiment_id, key).await?)
    }
}
