//! Experiments: `service.proto` messages `Experiment`, `ExperimentTag` and the experiment RPCs.

use crate::KeyValue;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An experiment as the server answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Experiment {
    pub experiment_id: String,
    pub name: String,
    pub artifact_location: String,
    pub lifecycle_stage: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
    /// Always `default`: Pitwall has one workspace.
    #[serde(default = "default_workspace")]
    pub workspace: String,
}

fn default_workspace() -> String {
    "default".to_owned()
}

/// `POST experiments/create`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CreateExperiment {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_location: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateExperimentResponse {
    pub experiment_id: String,
}

/// `GET experiments/get`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GetExperiment {
    pub experiment_id: String,
}

/// `GET experiments/get-by-name`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GetExperimentByName {
    pub experiment_name: String,
}

/// The answer of `experiments/get` and `experiments/get-by-name`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExperimentResponse {
    pub experiment: Experiment,
}

/// `POST experiments/update`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UpdateExperiment {
    pub experiment_id: String,
    pub new_name: String,
}

/// `POST experiments/delete` and `experiments/restore`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExperimentIdRequest {
    pub experiment_id: String,
}

/// `POST experiments/set-experiment-tag`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SetExperimentTag {
    pub experiment_id: String,
    pub key: String,
    #[serde(default)]
    pub value: String,
}

/// `POST experiments/delete-experiment-tag`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeleteExperimentTag {
    pub experiment_id: String,
    pub key: String,
}

/// `GET|POST experiments/search`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SearchExperiments {
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::json::deserialize_opt_int64")]
    pub max_results: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_type: Option<crate::ViewType>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SearchExperimentsResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub experiments: Vec<Experiment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}
