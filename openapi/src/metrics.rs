//! Metrics and their history.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One logged metric value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Metric {
    pub key: String,
    #[serde(serialize_with = "crate::json::serialize_double", deserialize_with = "crate::json::deserialize_double")]
    #[schema(value_type = f64)]
    pub value: f64,
    #[serde(deserialize_with = "crate::json::deserialize_int64")]
    pub timestamp: i64,
    #[serde(default, deserialize_with = "crate::json::deserialize_int64")]
    pub step: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

impl Metric {
    pub fn new(key: impl Into<String>, value: f64, timestamp: i64, step: i64) -> Self {
        Metric {
            key: key.into(),
            value,
            timestamp,
            step,
            dataset_name: None,
            dataset_digest: None,
            model_id: None,
            run_id: None,
        }
    }
}

/// `GET metrics/get-history`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GetMetricHistory {
    pub run_id: String,
    pub metric_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::json::deserialize_opt_int64")]
    pub max_results: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct GetMetricHistoryResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<Metric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// A metric value with the run it belongs to (bulk history).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MetricWithRunId {
    pub key: String,
    #[serde(serialize_with = "crate::json::serialize_double", deserialize_with = "crate::json::deserialize_double")]
    #[schema(value_type = f64)]
    pub value: f64,
    pub timestamp: i64,
    pub step: i64,
    pub run_id: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct MetricsWithRunIdResponse {
    #[serde(default)]
    pub metrics: Vec<MetricWithRunId>,
}

/// The answer of `metrics/get-history-bulk-interval` (an empty list is omitted, as proto-JSON does).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct GetMetricHistoryBulkIntervalResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<MetricWithRunId>,
}
