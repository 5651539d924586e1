//! The model registry: registered models and their versions, under MLflow's name, tag, alias
//! and source rules; registry searches.

pub mod source;

use super::{ServiceError, ServiceResult, paging};
use crate::search::SearchError;
use crate::search::registry::{
    IS_PROMPT_TAG, parse_model_versions_filter, parse_model_versions_order_by, parse_registered_models_filter,
    parse_registered_models_order_by,
};
use crate::store::model_registry::{canonical_stage, parse_version};
use crate::store::{NewModelVersion, RegistrySearch, TrackingStore};
use crate::validation;
use pitwall_openapi::{KeyValue, ModelVersion, RegisteredModel};

/// `max_results` of `registered-models/search` when none is given.
const MODELS_DEFAULT_MAX_RESULTS: i64 = 100;
/// `max_results` of `model-versions/search`: the proto's default, which is also the cap.
pub const VERSIONS_MAX_RESULTS: i64 = 200_000;

/// A new model version as asked for.
#[derive(Debug, Clone, Default)]
pub struct CreateVersion {
    pub name: String,
    pub source: String,
    pub run_id: Option<String>,
    pub tags: Vec<KeyValue>,
    pub run_link: Option<String>,
    pub description: Option<String>,
    pub model_id: Option<String>,
}

/// A registry search as asked for; the caller has checked `max_results` against its cap.
#[derive(Debug, Clone, Default)]
pub struct SearchRegistry {
    pub filter: Option<String>,
    pub order_by: Vec<String>,
    pub max_results: Option<i64>,
    pub page_token: Option<String>,
}

/// The offset a registry search starts at. MLflow judges the filter, then order_by, then the
/// page token, so the first two are parsed (and dropped: the store parses them again) before
/// the token is read.
fn registry_offset(
    parse_filter: fn(&str) -> Result<crate::search::registry::RegistryFilter, SearchError>,
    parse_order_by: fn(&[String]) -> Result<Vec<crate::search::OrderKey>, SearchError>,
    search: &SearchRegistry,
) -> ServiceResult<usize> {
    parse_filter(search.filter.as_deref().unwrap_or_default())?;
    parse_order_by(&search.order_by)?;
    paging::offset(search.page_token.as_deref())
}

/// Registered models and model versions.
#[derive(Clone, Copy)]
pub struct ModelRegistryService<'a> {
    pub(super) store: &'a dyn TrackingStore,
}

impl ModelRegistryService<'_> {
    // ---- registered models ----

    pub async fn create_model(
        &self,
        name: &str,
        tags: &[KeyValue],
        description: Option<&str>,
    ) -> ServiceResult<RegisteredModel> {
        validation::validate_model_name(name)?;
        for t in tags {
            validation::validate_registered_model_tag(t)?;
        }
        Ok(self.store.create_registered_model(name, tags, description).await?)
    }

    pub async fn get_model(&self, name: &str) -> ServiceResult<RegisteredModel> {
        validation::validate_model_name(name)?;
        Ok(self.store.get_registered_model(name).await?)
    }

    pub async fn rename_model(&self, name: &str, new_name: &str) -> ServiceResult<RegisteredModel> {
        // MLflow checks the new name before it looks the model up.
        validation::validate_model_name_as("new_name", new_name)?;
        validation::validate_model_name(name)?;
        Ok(self.store.rename_registered_model(name, new_name).await?)
    }

    /// Sets the description; an absent one reads as the proto default, the empty string.
    pub async fn update_model(&self, name: &str, description: Option<&str>) -> ServiceResult<RegisteredModel> {
        validation::validate_model_name(name)?;
        Ok(self.store.update_registered_model(name, Some(description.unwrap_or_default())).await?)
    }

    pub async fn delete_model(&self, name: &str) -> ServiceResult<()> {
        validation::validate_model_name(name)?;
        Ok(self.store.delete_registered_model(name).await?)
    }

    /// One page of registered models and the token of the next.
    pub async fn search_models(&self, search: SearchRegistry) -> ServiceResult<(Vec<RegisteredModel>, Option<String>)> {
        let offset = registry_offset(parse_registered_models_filter, parse_registered_models_order_by, &search)?;
        let page = self
            .store
            .search_registered_models(&RegistrySearch {
                filter: search.filter.unwrap_or_default(),
                order_by: search.order_by,
                // MLflow answers a non-positive size with an empty page.
                max_results: search.max_results.unwrap_or(MODELS_DEFAULT_MAX_RESULTS).max(0) as usize,
                offset,
            })
            .await?;
        Ok((page.items, paging::next_token(page.next_offset)))
    }

    pub async fn set_model_tag(&self, name: &str, tag: &KeyValue) -> ServiceResult<()> {
        validation::validate_model_name(name)?;
        validation::validate_registered_model_tag(tag)?;
        Ok(self.store.set_registered_model_tag(name, tag).await?)
    }

    pub async fn delete_model_tag(&self, name: &str, key: &str) -> ServiceResult<()> {
        validation::validate_model_name(name)?;
        validation::validate_tag_key(key)?;
        Ok(self.store.delete_registered_model_tag(name, key).await?)
    }

    pub async fn latest_versions(&self, name: &str, stages: &[String]) -> ServiceResult<Vec<ModelVersion>> {
        validation::validate_model_name(name)?;
        Ok(self.store.get_latest_versions(name, stages).await?)
    }

    pub async fn set_alias(&self, name: &str, alias: &str, version: &str) -> ServiceResult<()> {
        validation::validate_model_name(name)?;
        validation::validate_alias(alias)?;
        validation::validate_alias_not_reserved(alias)?;
        Ok(self.store.set_registered_model_alias(name, alias, version).await?)
    }

    pub async fn delete_alias(&self, name: &str, alias: &str) -> ServiceResult<()> {
        validation::validate_model_name(name)?;
        validation::validate_alias(alias)?;
        Ok(self.store.delete_registered_model_alias(name, alias).await?)
    }

    pub async fn version_by_alias(&self, name: &str, alias: &str) -> ServiceResult<ModelVersion> {
        validation::validate_model_name(name)?;
        validation::validate_alias(alias)?;
        Ok(self.store.get_model_version_by_alias(name, alias).await?)
    }

    // ---- model versions ----

    /// A new version: its source checked (prompts, logged models and runs each by their rule),
    /// then resolved to where its files are and the run it came from.
    pub async fn create_version(&self, v: CreateVersion) -> ServiceResult<ModelVersion> {
        let model_id = v.model_id.filter(|id| !id.is_empty());
        let mut run_id = v.run_id.unwrap_or_default();
        let is_prompt = v.tags.iter().any(|t| t.key == IS_PROMPT_TAG);
        if is_prompt {
            source::check_prompt_source(&v.source)?;
        } else if let Some(id) = &model_id {
            source::check_model_source(self.store, &v.source, id).await?;
        } else {
            source::check_run_source(self.store, &v.source, &run_id).await?;
        }
        validation::validate_model_name(&v.name)?;
        for t in &v.tags {
            validation::validate_model_version_tag(t)?;
        }
        let storage_location = source::resolve_storage(self.store, &v.source, &mut run_id).await?;
        if run_id.is_empty()
            && let Some(id) = &model_id
        {
            run_id = source::resolve_logged_model_source(self.store, id).await?.source_run_id.unwrap_or_default();
        }
        // Unset strings are the proto defaults (empty), which MLflow stores and answers back.
        let version = NewModelVersion {
            name: v.name,
            source: v.source,
            run_id: Some(run_id),
            run_link: Some(v.run_link.unwrap_or_default()),
            model_id,
            storage_location,
            tags: v.tags,
            description: Some(v.description.unwrap_or_default()),
            user_id: None,
        };
        Ok(self.store.create_model_version(version).await?)
    }

    pub async fn get_version(&self, name: &str, version: &str) -> ServiceResult<ModelVersion> {
        validation::validate_model_name(name)?;
        Ok(self.store.get_model_version(name, version).await?)
    }

    /// Sets the description (an absent one clears it, as in MLflow).
    pub async fn update_version(
        &self,
        name: &str,
        version: &str,
        description: Option<&str>,
    ) -> ServiceResult<ModelVersion> {
        validation::validate_model_name(name)?;
        Ok(self.store.update_model_version(name, version, description).await?)
    }

    pub async fn transition_stage(
        &self,
        name: &str,
        version: &str,
        stage: &str,
        archive_existing_versions: bool,
    ) -> ServiceResult<ModelVersion> {
        // MLflow judges the stage before the model's name.
        canonical_stage(stage)?;
        validation::validate_model_name(name)?;
        Ok(self.store.transition_model_version_stage(name, version, stage, archive_existing_versions).await?)
    }

    /// Deletes the version; its number is not given out again.
    pub async fn delete_version(&self, name: &str, version: &str) -> ServiceResult<()> {
        validation::validate_model_name(name)?;
        Ok(self.store.delete_model_version(name, version).await?)
    }

    pub async fn version_download_uri(&self, name: &str, version: &str) -> ServiceResult<String> {
        validation::validate_model_name(name)?;
        Ok(self.store.get_model_version_download_uri(name, version).await?)
    }

    /// One page of model versions and the token of the next.
    pub async fn search_versions(&self, search: SearchRegistry) -> ServiceResult<(Vec<ModelVersion>, Option<String>)> {
        let max_results = search.max_results.unwrap_or(VERSIONS_MAX_RESULTS);
        if max_results < 1 {
            return Err(ServiceError::Invalid(format!(
                "Invalid value for max_results. It must be a positive integer, but got {max_results}"
            )));
        }
        let offset = registry_offset(parse_model_versions_filter, parse_model_versions_order_by, &search)?;
        let page = self
            .store
            .search_model_versions(&RegistrySearch {
                filter: search.filter.unwrap_or_default(),
                order_by: search.order_by,
                max_results: max_results as usize,
                offset,
            })
            .await?;
        Ok((page.items, paging::next_token(page.next_offset)))
    }

    pub async fn set_version_tag(&self, name: &str, version: &str, tag: &KeyValue) -> ServiceResult<()> {
        validation::validate_model_name(name)?;
        parse_version(version)?;
        validation::validate_model_version_tag(tag)?;
        Ok(self.store.set_model_version_tag(name, version, tag).await?)
    }

    pub async fn delete_version_tag(&self, name: &str, version: &str, key: &str) -> ServiceResult<()> {
        validation::validate_model_name(name)?;
        parse_version(version)?;
        validation::validate_tag_key(key)?;
        Ok(self.store.delete_model_version_tag(name, version, key).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offset_of(filter: &str, order_by: &[&str], token: Option<&str>) -> ServiceResult<usize> {
        let search = SearchRegistry {
            filter: Some(filter.to_owned()),
            order_by: order_by.iter().map(|s| s.to_string()).collect(),
            max_results: None,
            page_token: token.map(str::to_owned),
        };
        registry_offset(parse_registered_models_filter, parse_registered_models_order_by, &search)
    }

    #[test]
    fn a_page_token_is_read_after_filter_and_order_by() {
        let token = crate::search::page_token::encode(2);
        assert_eq!(offset_of("", &["timestamp DESC"], Some(&token)).unwrap(), 2);
        assert_eq!(offset_of("", &[], None).unwrap(), 0);
        assert!(matches!(offset_of("", &[], Some("bad")), Err(ServiceError::Search(_))));
        let filter_first = offset_of("run_id = 'x'", &["creation_timestamp"], Some("bad")).unwrap_err().to_string();
        let order_first = offset_of("", &["creation_timestamp"], Some("bad")).unwrap_err().to_string();
        let token_alone = offset_of("", &[], Some("bad")).unwrap_err().to_string();
        assert_ne!(filter_first, order_first);
        assert_ne!(order_first, token_alone);
        assert_eq!(token_alone, "Invalid page token, could not base64-decode");
        assert!(offset_of("run_id = 'x'", &[], None).is_err());
        assert!(offset_of("", &["creation_timestamp"], None).is_err());
    }
}
