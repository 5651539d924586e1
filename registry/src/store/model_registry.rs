//! The model registry's part of the store: registered models, their versions, tags and aliases.

use super::{Page, StoreError, StoreResult};
use async_trait::async_trait;
use pitwall_openapi::{KeyValue, ModelVersion, RegisteredModel};

/// The stages a version can be in, in MLflow's spelling.
pub const STAGE_NONE: &str = "None";
pub const STAGE_STAGING: &str = "Staging";
pub const STAGE_PRODUCTION: &str = "Production";
pub const STAGE_ARCHIVED: &str = "Archived";
pub const ALL_STAGES: [&str; 4] = [STAGE_NONE, STAGE_STAGING, STAGE_PRODUCTION, STAGE_ARCHIVED];

/// A stage name in its canonical spelling; MLflow matches stages case-insensitively.
pub fn canonical_stage(stage: &str) -> StoreResult<&'static str> {
    ALL_STAGES.iter().copied().find(|s| s.eq_ignore_ascii_case(stage)).ok_or_else(|| {
        StoreError::Invalid(format!(
            "Invalid Model Version stage: {stage}. Value must be one of {}.",
            ALL_STAGES.join(", ")
        ))
    })
}

/// A version number as MLflow reads it (`int(version)`).
pub fn parse_version(version: &str) -> StoreResult<i64> {
    let t = version.trim();
    t.strip_prefix('+')
        .unwrap_or(t)
        .parse::<i64>()
        .map_err(|_| StoreError::Invalid(format!("Parameter 'version' must be an integer, got '{version}'.")))
}

/// What `model-versions/create` stores, its sources already resolved by the caller.
#[derive(Debug, Clone, Default)]
pub struct NewModelVersion {
    pub name: String,
    /// The source as the client gave it; answered back unchanged.
    pub source: String,
    pub run_id: Option<String>,
    pub run_link: Option<String>,
    /// The logged model (MLflow 3) the version promotes, if any.
    pub model_id: Option<String>,
    /// Where the artifacts really are (`get-download-uri`); `None` means the source itself.
    pub storage_location: Option<String>,
    pub tags: Vec<KeyValue>,
    pub description: Option<String>,
    pub user_id: Option<String>,
}

/// A registry search: the store parses the filter and order_by; the caller has read the page
/// token into `offset` (after checking filter and order_by, MLflow's order).
#[derive(Debug, Clone, Default)]
pub struct RegistrySearch {
    pub filter: String,
    pub order_by: Vec<String>,
    pub max_results: usize,
    pub offset: usize,
}

/// Registered models, model versions, their tags and aliases.
#[async_trait]
pub trait ModelRegistryStore: Send + Sync {
    /// A new model with its tags, in one transaction.
    async fn create_registered_model(
        &self,
        name: &str,
        tags: &[KeyValue],
        description: Option<&str>,
    ) -> StoreResult<RegisteredModel>;
    /// The model with its latest version per stage, tags and aliases.
    async fn get_registered_model(&self, name: &str) -> StoreResult<RegisteredModel>;
    /// Renames the model; its versions, tags and aliases follow in the same transaction.
    async fn rename_registered_model(&self, name: &str, new_name: &str) -> StoreResult<RegisteredModel>;
    async fn update_registered_model(&self, name: &str, description: Option<&str>) -> StoreResult<RegisteredModel>;
    /// Deletes the model, its versions, tags and aliases in one transaction.
    async fn delete_registered_model(&self, name: &str) -> StoreResult<()>;
    async fn search_registered_models(&self, search: &RegistrySearch) -> StoreResult<Page<RegisteredModel>>;
    async fn set_registered_model_tag(&self, name: &str, tag: &KeyValue) -> StoreResult<()>;
    /// Deleting a tag the model does not have is not an error (MLflow's behaviour).
    async fn delete_registered_model_tag(&self, name: &str, key: &str) -> StoreResult<()>;
    /// The highest version in each of `stages` (every stage when empty), with aliases.
    async fn get_latest_versions(&self, name: &str, stages: &[String]) -> StoreResult<Vec<ModelVersion>>;

    /// A new version numbered one above every version the model ever had, status `READY`.
    async fn create_model_version(&self, version: NewModelVersion) -> StoreResult<ModelVersion>;
    async fn get_model_version(&self, name: &str, version: &str) -> StoreResult<ModelVersion>;
    async fn update_model_version(
        &self,
        name: &str,
        version: &str,
        description: Option<&str>,
    ) -> StoreResult<ModelVersion>;
    /// Deletes the version with its tags and aliases; its number is not used again.
    async fn delete_model_version(&self, name: &str, version: &str) -> StoreResult<()>;
    /// Moves the version to `stage`; with `archive_existing_versions` the model's other
    /// versions in that stage move to `Archived` in the same transaction.
    async fn transition_model_version_stage(
        &self,
        name: &str,
        version: &str,
        stage: &str,
        archive_existing_versions: bool,
    ) -> StoreResult<ModelVersion>;
    /// Where the version's artifacts are: its storage location, else its source.
    async fn get_model_version_download_uri(&self, name: &str, version: &str) -> StoreResult<String>;
    async fn search_model_versions(&self, search: &RegistrySearch) -> StoreResult<Page<ModelVersion>>;
    async fn set_model_version_tag(&self, name: &str, version: &str, tag: &KeyValue) -> StoreResult<()>;
    async fn delete_model_version_tag(&self, name: &str, version: &str, key: &str) -> StoreResult<()>;

    /// Points `alias` at the version, moving it if it pointed elsewhere.
    async fn set_registered_model_alias(&self, name: &str, alias: &str, version: &str) -> StoreResult<()>;
    async fn delete_registered_model_alias(&self, name: &str, alias: &str) -> StoreResult<()>;
    /// The version `alias` points at; `latest` (any case) is the model's highest version.
    async fn get_model_version_by_alias(&self, name: &str, alias: &str) -> StoreResult<ModelVersion>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_matched_case_insensitively() {
        assert_eq!(canonical_stage("production").unwrap(), "Production");
        assert_eq!(canonical_stage("NONE").unwrap(), "None");
        let e = canonical_stage("prod").unwrap_err().to_string();
        assert_eq!(e, "Invalid Model Version stage: prod. Value must be one of None, Staging, Production, Archived.");
    }

    #[test]
    fn versions_are_integers() {
        assert_eq!(parse_version(" 3 ").unwrap(), 3);
        assert_eq!(parse_version("x").unwrap_err().to_string(), "Parameter 'version' must be an integer, got 'x'.");
    }
}
