//! Rows as read from the database, and their conversion into wire types.

use pitwall_openapi::{Experiment, KeyValue, Metric, RunInfo, RunStatus};
use sqlx::FromRow;

pub(super) const EXPERIMENT_COLUMNS: &str =
    "e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time, e.last_update_time";

#[derive(Debug, FromRow)]
pub(super) struct ExperimentRow {
    pub experiment_id: i64,
    pub name: String,
    pub artifact_location: String,
    pub lifecycle_stage: String,
    pub creation_time: i64,
    pub last_update_time: i64,
}

impl ExperimentRow {
    pub fn into_experiment(self, tags: Vec<KeyValue>) -> Experiment {
        Experiment {
            experiment_id: self.experiment_id.to_string(),
            name: self.name,
            artifact_location: self.artifact_location,
            lifecycle_stage: self.lifecycle_stage,
            last_update_time: Some(self.last_update_time),
            creation_time: Some(self.creation_time),
            tags,
            workspace: "default".to_owned(),
        }
    }
}

pub(super) const RUN_COLUMNS: &str = "r.run_uuid, r.experiment_id, r.name, r.user_id, r.status, r.start_time, r.end_time, r.lifecycle_stage, r.artifact_uri";

#[derive(Debug, FromRow)]
pub(super) struct RunRow {
    pub run_uuid: String,
    pub experiment_id: i64,
    pub name: String,
    pub user_id: String,
    pub status: String,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub lifecycle_stage: String,
    pub artifact_uri: String,
}

impl RunRow {
    pub fn into_info(self) -> RunInfo {
        let status = RunStatus::parse(&serde_json::Value::String(self.status)).unwrap_or(RunStatus::Running);
        RunInfo {
            run_id: self.run_uuid.clone(),
            run_uuid: self.run_uuid,
            experiment_id: self.experiment_id.to_string(),
            run_name: self.name,
            user_id: self.user_id,
            status,
            start_time: self.start_time,
            end_time: self.end_time,
            artifact_uri: self.artifact_uri,
            lifecycle_stage: self.lifecycle_stage,
        }
    }
}

#[derive(Debug, FromRow)]
pub(super) struct KeyValueRow {
    pub owner: String,
    pub key: String,
    pub value: String,
}

#[derive(Debug, FromRow)]
pub(super) struct MetricRow {
    pub owner: String,
    pub key: String,
    pub value: f64,
    pub timestamp: i64,
    pub step: i64,
    pub is_nan: i64,
}

impl MetricRow {
    pub fn into_metric(self) -> Metric {
        let value = if self.is_nan != 0 { f64::NAN } else { self.value };
        Metric::new(self.key, value, self.timestamp, self.step)
    }
}

/// A metric value as stored: NaN becomes 0 with the flag set, and infinities the largest
/// finite doubles, as MLflow's SQL store keeps them.
pub(super) fn stored_value(v: f64) -> (f64, i64) {
    if v.is_nan() {
        (0.0, 1)
    } else if v.is_infinite() {
        (if v > 0.0 { f64::MAX } else { f64::MIN }, 0)
    } else {
        (v, 0)
    }
}
