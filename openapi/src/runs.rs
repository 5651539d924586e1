//! Runs: `RunInfo`, `RunData`, `RunInputs`, `RunOutputs` and the run RPCs.

use crate::{KeyValue, Metric};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The run tag that mirrors a run's name; MLflow keeps the two in step.
pub const RUN_NAME_TAG: &str = "mlflow.runName";

/// A run's status, as MLflow names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", try_from = "serde_json::Value")]
pub enum RunStatus {
    Running,
    Scheduled,
    Finished,
    Failed,
    Killed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Scheduled => "SCHEDULED",
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
            RunStatus::Killed => "KILLED",
        }
    }

    /// By name or by proto number (1–5), as proto-JSON accepts enums.
    pub fn parse(v: &serde_json::Value) -> Option<RunStatus> {
        let s = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return None,
        };
        Some(match s.as_str() {
            "RUNNING" | "1" => RunStatus::Running,
            "SCHEDULED" | "2" => RunStatus::Scheduled,
            "FINISHED" | "3" => RunStatus::Finished,
            "FAILED" | "4" => RunStatus::Failed,
            "KILLED" | "5" => RunStatus::Killed,
            _ => return None,
        })
    }

    pub fn is_terminated(self) -> bool {
        matches!(self, RunStatus::Finished | RunStatus::Failed | RunStatus::Killed)
    }
}

impl TryFrom<serde_json::Value> for RunStatus {
    type Error = String;
    fn try_from(v: serde_json::Value) -> Result<Self, String> {
        RunStatus::parse(&v).ok_or_else(|| format!("invalid run status: {v}"))
    }
}

/// Metadata of a run. Field order follows the proto's field numbers, as MLflow prints them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunInfo {
    pub run_uuid: String,
    pub experiment_id: String,
    pub run_name: String,
    pub user_id: String,
    pub status: RunStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    pub artifact_uri: String,
    pub lifecycle_stage: String,
    pub run_id: String,
}

/// What was logged to a run: latest metric values, params and tags.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunData {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<Metric>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
}

/// A dataset as logged with `log-inputs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Dataset {
    pub name: String,
    pub digest: String,
    pub source_type: String,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DatasetInput {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
    pub dataset: Dataset,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelInput {
    pub model_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelOutput {
    pub model_id: String,
    #[serde(default)]
    pub step: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunInputs {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dataset_inputs: Vec<DatasetInput>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_inputs: Vec<ModelInput>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunOutputs {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_outputs: Vec<ModelOutput>,
}

/// A run with everything logged to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Run {
    pub info: RunInfo,
    #[serde(default)]
    pub data: RunData,
    #[serde(default)]
    pub inputs: RunInputs,
    /// Absent from the answer of `runs/create`, as MLflow's server leaves it out there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<RunOutputs>,
}

/// `POST runs/create`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CreateRun {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::json::deserialize_opt_int64")]
    pub start_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
}

/// The answer of `runs/create` and `runs/get`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunResponse {
    pub run: Run,
}

/// `GET runs/get`, `POST runs/delete`, `POST runs/restore`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunIdRequest {
    pub run_id: String,
}

/// `POST runs/update`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateRun {
    pub run_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RunStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::json::deserialize_opt_int64")]
    pub end_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UpdateRunResponse {
    pub run_info: RunInfo,
}

/// `POST runs/log-metric`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogMetric {
    pub run_id: String,
    pub key: String,
    #[serde(serialize_with = "crate::json::serialize_double", deserialize_with = "crate::json::deserialize_double")]
    #[schema(value_type = f64)]
    pub value: f64,
    #[serde(deserialize_with = "crate::json::deserialize_int64")]
    pub timestamp: i64,
    #[serde(default, deserialize_with = "crate::json::deserialize_int64")]
    pub step: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_digest: Option<String>,
}

/// `POST runs/log-parameter` and `POST runs/set-tag`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunKeyValue {
    pub run_id: String,
    pub key: String,
    #[serde(default)]
    pub value: String,
}

/// `POST runs/delete-tag`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeleteTag {
    pub run_id: String,
    pub key: String,
}

/// `POST runs/log-batch`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct LogBatch {
    pub run_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<Metric>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
}

/// `POST runs/log-inputs`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct LogInputs {
    pub run_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<DatasetInput>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<ModelInput>,
}

/// `POST runs/outputs`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct LogOutputs {
    pub run_id: String,
    #[serde(default)]
    pub models: Vec<ModelOutput>,
}

/// `POST runs/search`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SearchRuns {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub experiment_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_view_type: Option<crate::ViewType>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::json::deserialize_opt_int64")]
    pub max_results: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SearchRunsResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<Run>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}
