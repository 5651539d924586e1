//! The model registry: `model_registry.proto` messages `RegisteredModel`, `ModelVersion`,
//! `RegisteredModelAlias` and the registry RPCs.
//!
//! Only the fields MLflow 3's open-source server fills are here: it never returns `user_id` of a
//! registered model, `model_id`, `model_params`, `model_metrics` or the deployment-job fields.

use crate::KeyValue;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A model version's registration status. Pitwall registers synchronously: always `READY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ModelVersionStatus {
    PendingRegistration,
    FailedRegistration,
    #[default]
    Ready,
}

impl ModelVersionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelVersionStatus::PendingRegistration => "PENDING_REGISTRATION",
            ModelVersionStatus::FailedRegistration => "FAILED_REGISTRATION",
            ModelVersionStatus::Ready => "READY",
        }
    }

    /// The stored name back; unknown text reads as `READY`, the only status Pitwall writes.
    pub fn from_name(s: &str) -> ModelVersionStatus {
        match s {
            "PENDING_REGISTRATION" => ModelVersionStatus::PendingRegistration,
            "FAILED_REGISTRATION" => ModelVersionStatus::FailedRegistration,
            _ => ModelVersionStatus::Ready,
        }
    }
}

/// One version of a registered model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelVersion {
    pub name: String,
    /// The version number, as a decimal string.
    pub version: String,
    pub creation_timestamp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_timestamp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `None`, `Staging`, `Production` or `Archived`.
    pub current_stage: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    pub status: ModelVersionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_link: Option<String>,
    /// Aliases pointing at this version (filled by get, create, update and alias lookups;
    /// MLflow leaves them out of search results and of a model's latest versions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// An alias of a registered model and the version it points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegisteredModelAlias {
    pub alias: String,
    pub version: String,
}

/// A registered model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RegisteredModel {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_timestamp: Option<i64>,
    /// Left out when empty, as MLflow does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The highest version in each stage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub latest_versions: Vec<ModelVersion>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<RegisteredModelAlias>,
}

/// `POST registered-models/create`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CreateRegisteredModel {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The answer of registered-model create, get, rename and update.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegisteredModelResponse {
    pub registered_model: RegisteredModel,
}

/// `GET registered-models/get`, `DELETE registered-models/delete`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegisteredModelName {
    pub name: String,
}

/// `POST registered-models/rename`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RenameRegisteredModel {
    pub name: String,
    pub new_name: String,
}

/// `PATCH registered-models/update`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UpdateRegisteredModel {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `GET registered-models/search`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SearchRegisteredModels {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::json::deserialize_opt_int64")]
    pub max_results: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SearchRegisteredModelsResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registered_models: Vec<RegisteredModel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// `GET|POST registered-models/get-latest-versions`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GetLatestVersions {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<String>,
}

/// A list of model versions: the answer of get-latest-versions.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ModelVersionsResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_versions: Vec<ModelVersion>,
}

/// `POST registered-models/set-tag`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SetRegisteredModelTag {
    pub name: String,
    pub key: String,
    #[serde(default)]
    pub value: String,
}

/// `DELETE registered-models/delete-tag`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeleteRegisteredModelTag {
    pub name: String,
    pub key: String,
}

/// `POST registered-models/alias`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SetRegisteredModelAlias {
    pub name: String,
    pub alias: String,
    pub version: String,
}

/// `DELETE registered-models/alias` and `GET registered-models/alias`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegisteredModelAliasRequest {
    pub name: String,
    pub alias: String,
}

/// `POST model-versions/create`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CreateModelVersion {
    pub name: String,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The logged model (MLflow 3) this version promotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
}

/// The answer of model-version create, get, update, transition-stage and get-by-alias.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelVersionResponse {
    pub model_version: ModelVersion,
}

/// `GET model-versions/get`, `DELETE model-versions/delete`, `GET model-versions/get-download-uri`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelVersionRef {
    pub name: String,
    pub version: String,
}

/// `PATCH model-versions/update`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UpdateModelVersion {
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `POST model-versions/transition-stage`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransitionModelVersionStage {
    pub name: String,
    pub version: String,
    pub stage: String,
    #[serde(default)]
    pub archive_existing_versions: bool,
}

/// `GET model-versions/search`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SearchModelVersions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::json::deserialize_opt_int64")]
    pub max_results: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SearchModelVersionsResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_versions: Vec<ModelVersion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// The answer of `model-versions/get-download-uri`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GetModelVersionDownloadUriResponse {
    pub artifact_uri: String,
}

/// `POST model-versions/set-tag`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SetModelVersionTag {
    pub name: String,
    pub version: String,
    pub key: String,
    #[serde(default)]
    pub value: String,
}

/// `DELETE model-versions/delete-tag`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeleteModelVersionTag {
    pub name: String,
    pub version: String,
    pub key: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_version_serialises_as_mlflow() {
        let v = ModelVersion {
            name: "m".into(),
            version: "1".into(),
            creation_timestamp: 5,
            last_updated_timestamp: Some(5),
            user_id: None,
            current_stage: "None".into(),
            description: Some(String::new()),
            source: Some("models:/m-1".into()),
            run_id: Some("r".into()),
            status: ModelVersionStatus::Ready,
            status_message: None,
            tags: vec![],
            run_link: Some(String::new()),
            aliases: vec![],
        };
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            serde_json::json!({"name": "m", "version": "1", "creation_timestamp": 5, "last_updated_timestamp": 5,
                "current_stage": "None", "description": "", "source": "models:/m-1", "run_id": "r",
                "status": "READY", "run_link": ""})
        );
    }
}
