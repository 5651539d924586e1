//! MLflow 3 logged models: `service.proto` messages `LoggedModel`, `LoggedModelInfo`,
//! `LoggedModelData`, `LoggedModelStatus` and the logged-model RPCs.

use crate::{KeyValue, Metric};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whether a logged model's files are complete, by the proto enum's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "serde_json::Value")]
pub enum LoggedModelStatus {
    #[serde(rename = "LOGGED_MODEL_STATUS_UNSPECIFIED")]
    Unspecified,
    /// Created; its files are still being uploaded.
    #[serde(rename = "LOGGED_MODEL_PENDING")]
    Pending,
    /// Its files are completely uploaded.
    #[serde(rename = "LOGGED_MODEL_READY")]
    Ready,
    /// Uploading its files failed.
    #[serde(rename = "LOGGED_MODEL_UPLOAD_FAILED")]
    UploadFailed,
}

impl LoggedModelStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LoggedModelStatus::Unspecified => "LOGGED_MODEL_STATUS_UNSPECIFIED",
            LoggedModelStatus::Pending => "LOGGED_MODEL_PENDING",
            LoggedModelStatus::Ready => "LOGGED_MODEL_READY",
            LoggedModelStatus::UploadFailed => "LOGGED_MODEL_UPLOAD_FAILED",
        }
    }

    /// The proto number, which is what MLflow's SQL store keeps.
    pub fn as_int(self) -> i64 {
        match self {
            LoggedModelStatus::Unspecified => 0,
            LoggedModelStatus::Pending => 1,
            LoggedModelStatus::Ready => 2,
            LoggedModelStatus::UploadFailed => 3,
        }
    }

    pub fn from_int(n: i64) -> Option<LoggedModelStatus> {
        Some(match n {
            0 => LoggedModelStatus::Unspecified,
            1 => LoggedModelStatus::Pending,
            2 => LoggedModelStatus::Ready,
            3 => LoggedModelStatus::UploadFailed,
            _ => return None,
        })
    }

    /// By name or by proto number, as proto-JSON accepts enums.
    pub fn parse(v: &serde_json::Value) -> Option<LoggedModelStatus> {
        match v {
            serde_json::Value::String(s) => match s.as_str() {
                "LOGGED_MODEL_STATUS_UNSPECIFIED" => Some(LoggedModelStatus::Unspecified),
                "LOGGED_MODEL_PENDING" => Some(LoggedModelStatus::Pending),
                "LOGGED_MODEL_READY" => Some(LoggedModelStatus::Ready),
                "LOGGED_MODEL_UPLOAD_FAILED" => Some(LoggedModelStatus::UploadFailed),
                other => other.parse::<i64>().ok().and_then(LoggedModelStatus::from_int),
            },
            serde_json::Value::Number(n) => n.as_i64().and_then(LoggedModelStatus::from_int),
            _ => None,
        }
    }
}

impl TryFrom<serde_json::Value> for LoggedModelStatus {
    type Error = String;
    fn try_from(v: serde_json::Value) -> Result<Self, String> {
        LoggedModelStatus::parse(&v).ok_or_else(|| format!("invalid logged model status: {v}"))
    }
}

/// A logged model's attributes and tags. MLflow never sends `status_message` or
/// `creator_id` on the wire; `model_type` and `source_run_id` are sent when stored, even empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LoggedModelInfo {
    pub model_id: String,
    pub experiment_id: String,
    pub name: String,
    pub creation_timestamp_ms: i64,
    pub last_updated_timestamp_ms: i64,
    pub artifact_uri: String,
    pub status: LoggedModelStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
}

/// A logged model's params and the metrics runs logged against it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LoggedModelData {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<Metric>,
}

/// A model logged to an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LoggedModel {
    pub info: LoggedModelInfo,
    #[serde(default)]
    pub data: LoggedModelData,
}

/// The answer of `logged-models` create, get and finalize.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoggedModelResponse {
    pub model: LoggedModel,
}

/// `POST logged-models`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CreateLoggedModel {
    pub experiment_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
}

/// `PATCH logged-models/{model_id}`: the upload finished (or failed).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FinalizeLoggedModel {
    pub model_id: String,
    pub status: LoggedModelStatus,
}

/// `PATCH logged-models/{model_id}/tags`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SetLoggedModelTags {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
}

/// `POST logged-models/{model_id}/params`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct LogLoggedModelParams {
    pub model_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<KeyValue>,
}

/// One dataset of `logged-models/search`: metric filters only consider values on these.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SearchLoggedModelsDataset {
    #[serde(default)]
    pub dataset_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_digest: Option<String>,
}

/// One sort key of `logged-models/search`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SearchLoggedModelsOrderBy {
    #[serde(default)]
    pub field_name: String,
    /// Defaults to ascending, as the proto does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ascending: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_digest: Option<String>,
}

/// `POST logged-models/search`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SearchLoggedModels {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub experiment_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<SearchLoggedModelsDataset>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::json::deserialize_opt_int64")]
    pub max_results: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_by: Vec<SearchLoggedModelsOrderBy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SearchLoggedModelsResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<LoggedModel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_by_name_or_number() {
        assert_eq!(LoggedModelStatus::parse(&json!("LOGGED_MODEL_READY")), Some(LoggedModelStatus::Ready));
        assert_eq!(LoggedModelStatus::parse(&json!(3)), Some(LoggedModelStatus::UploadFailed));
        assert_eq!(LoggedModelStatus::parse(&json!("1")), Some(LoggedModelStatus::Pending));
        assert_eq!(LoggedModelStatus::parse(&json!("READY")), None);
        assert_eq!(serde_json::to_value(LoggedModelStatus::Pending).unwrap(), json!("LOGGED_MODEL_PENDING"));
    }

    #[test]
    fn empty_data_is_an_empty_object() {
        let m = LoggedModel {
            info: LoggedModelInfo {
                model_id: "m-1".into(),
                experiment_id: "1".into(),
                name: "clf".into(),
                creation_timestamp_ms: 1,
                last_updated_timestamp_ms: 2,
                artifact_uri: "a".into(),
                status: LoggedModelStatus::Pending,
                model_type: Some(String::new()),
                source_run_id: None,
                tags: vec![],
            },
            data: LoggedModelData::default(),
        };
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["data"], json!({}));
        assert_eq!(v["info"]["model_type"], json!(""));
        assert!(v["info"].get("source_run_id").is_none());
    }
}
