//! Runs and logging: create, get, update, delete, restore, search, log-metric, log-parameter,
//! set-tag, delete-tag, log-batch, log-inputs, outputs.

use super::request::{Field, JsonBody, Kind, RawRequest, opt, parse, req};
use super::{ApiResult, AppState, ok};
use crate::error::ApiError;
use crate::store::RunUpdate;
use axum::extract::State;
use pitwall_openapi::{
    CreateRun, DeleteTag, Empty, KeyValue, LogBatch, LogInputs, LogMetric, LogOutputs, Metric, RunIdRequest,
    RunKeyValue, RunResponse, SearchRuns, SearchRunsResponse, UpdateRun, UpdateRunResponse,
};

const RUN_ID: &[Field] = &[req("run_id", Kind::Str)];

/// `CreateRun`.
pub async fn create(State(s): State<AppState>, raw: RawRequest) -> ApiResult<RunResponse> {
    let schema = [
        opt("experiment_id", Kind::Str),
        opt("start_time", Kind::Int),
        opt("run_name", Kind::Str),
        opt("tags", Kind::Array),
    ];
    let m: CreateRun = parse(raw, &schema)?.msg;
    ok(RunResponse { run: s.services().runs().create(m).await? })
}

/// `GetRun`.
pub async fn get(State(s): State<AppState>, raw: RawRequest) -> ApiResult<RunResponse> {
    let m: RunIdRequest = parse(raw, RUN_ID)?.msg;
    ok(RunResponse { run: s.services().runs().get(&m.run_id).await? })
}

/// `UpdateRun`.
pub async fn update(State(s): State<AppState>, raw: RawRequest) -> ApiResult<UpdateRunResponse> {
    let schema =
        [req("run_id", Kind::Str), opt("end_time", Kind::Int), opt("status", Kind::Enum), opt("run_name", Kind::Str)];
    let m: UpdateRun = parse(raw, &schema)?.msg;
    let update = RunUpdate { status: m.status, end_time: m.end_time, run_name: m.run_name };
    ok(UpdateRunResponse { run_info: s.services().runs().update(&m.run_id, update).await? })
}

/// `DeleteRun`.
pub async fn delete(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: RunIdRequest = parse(raw, RUN_ID)?.msg;
    s.services().runs().delete(&m.run_id).await?;
    ok(Empty {})
}

/// `RestoreRun`.
pub async fn restore(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: RunIdRequest = parse(raw, RUN_ID)?.msg;
    s.services().runs().restore(&m.run_id).await?;
    ok(Empty {})
}

/// `LogMetric`.
pub async fn log_metric(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let schema = [
        req("run_id", Kind::Str),
        req("key", Kind::Str),
        req("value", Kind::Float),
        req("timestamp", Kind::Int),
        opt("step", Kind::Int),
        opt("model_id", Kind::Str),
        opt("dataset_name", Kind::Str),
        opt("dataset_digest", Kind::Str),
    ];
    let m: LogMetric = parse(raw, &schema)?.msg;
    let mut metric = Metric::new(m.key, m.value, m.timestamp, m.step);
    // A metric of a logged model is recorded for that model too (MLflow 3).
    metric.model_id = m.model_id.filter(|id| !id.is_empty());
    metric.dataset_name = m.dataset_name.filter(|d| !d.is_empty());
    metric.dataset_digest = m.dataset_digest.filter(|d| !d.is_empty());
    s.services().runs().log_metric(&m.run_id, metric).await?;
    ok(Empty {})
}

/// `LogParam`.
pub async fn log_param(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: RunKeyValue = parse(raw, &[req("run_id", Kind::Str), req("key", Kind::Str), opt("value", Kind::Str)])?.msg;
    s.services().runs().log_param(&m.run_id, &KeyValue::new(m.key, m.value)).await?;
    ok(Empty {})
}

/// `SetTag`.
pub async fn set_tag(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: RunKeyValue = parse(raw, &[req("run_id", Kind::Str), req("key", Kind::Str), opt("value", Kind::Str)])?.msg;
    s.services().runs().set_tag(&m.run_id, &KeyValue::new(m.key, m.value)).await?;
    ok(Empty {})
}

/// `DeleteTag`.
pub async fn delete_tag(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: DeleteTag = parse(raw, &[req("run_id", Kind::Str), req("key", Kind::Str)])?.msg;
    s.services().runs().delete_tag(&m.run_id, &m.key).await?;
    ok(Empty {})
}

/// `LogBatch`.
pub async fn log_batch(State(s): State<AppState>, JsonBody(body): JsonBody) -> ApiResult<Empty> {
    let m = match plain_batch(&body) {
        Some(m) => m,
        None => parse_batch(RawRequest::from_json(&body)?)?,
    };
    s.services().runs().log_batch(&m.run_id, &m.metrics, &m.params, &m.tags).await?;
    ok(Empty {})
}

/// `LogInputs`: datasets and model inputs.
pub async fn log_inputs(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let schema = [req("run_id", Kind::Str), opt("datasets", Kind::Array), opt("models", Kind::Array)];
    let m: LogInputs = parse(raw, &schema)?.msg;
    s.services().runs().log_inputs(&m.run_id, &m.datasets, &m.models).await?;
    ok(Empty {})
}

/// `LogOutputs`: logged models produced by the run.
pub async fn log_outputs(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: LogOutputs = parse(raw, &[req("run_id", Kind::Str), req("models", Kind::Array)])?.msg;
    s.services().runs().log_outputs(&m.run_id, &m.models).await?;
    ok(Empty {})
}

/// `SearchRuns`.
pub async fn search(State(s): State<AppState>, raw: RawRequest) -> ApiResult<SearchRunsResponse> {
    let schema = [
        opt("experiment_ids", Kind::Array),
        opt("filter", Kind::Str),
        opt("max_results", Kind::Int),
        opt("order_by", Kind::StrArray),
        opt("run_view_type", Kind::Enum),
        opt("page_token", Kind::Str),
    ];
    let m: SearchRuns = parse(raw, &schema)?.msg;
    let (runs, next_page_token) = s.services().runs().search(m).await?;
    ok(SearchRunsResponse { runs, next_page_token })
}

/// A log-batch body exactly as MLflow's clients send it: snake_case names, nothing else.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainBatch {
    run_id: String,
    #[serde(default)]
    metrics: Vec<Metric>,
    #[serde(default)]
    params: Vec<KeyValue>,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

/// Decodes a log-batch body straight into its wire type, without first building a JSON tree of
/// its thousands of values. Only a body that `parse_batch` would read into the same batch is
/// taken: anything else (other spellings, `run_uuid`, nulls, empty keys, a NUL escape, bad
/// types) gets `None`, and `parse_batch` reads it and words its error as MLflow does.
fn plain_batch(body: &[u8]) -> Option<LogBatch> {
    // A NUL can only arrive escaped; looking for the escape also catches an escaped backslash
    // followed by `u0000`, which merely takes the longer path.
    if memchr::memmem::find(body, b"\\u0000").is_some() {
        return None;
    }
    let b: PlainBatch = serde_json::from_slice(body).ok()?;
    let keyed = |items: &[KeyValue]| items.iter().all(|kv| !kv.key.is_empty());
    let plain =
        !b.run_id.is_empty() && b.metrics.iter().all(|m| !m.key.is_empty()) && keyed(&b.params) && keyed(&b.tags);
    plain.then_some(LogBatch { run_id: b.run_id, metrics: b.metrics, params: b.params, tags: b.tags })
}

/// Reads a log-batch, naming a missing field of an item by its place (`metrics[0].timestamp`)
/// as MLflow does, before the typed decode.
fn parse_batch(mut raw: RawRequest) -> Result<LogBatch, ApiError> {
    use serde_json::Value;
    let schema =
        [req("run_id", Kind::Str), opt("metrics", Kind::Array), opt("params", Kind::Array), opt("tags", Kind::Array)];
    raw.fields.validate(&schema)?;
    let required: [(&str, &[&str]); 3] =
        [("metrics", &["key", "value", "timestamp"]), ("params", &["key"]), ("tags", &["key"])];
    for (list, keys) in required {
        if let Some(Value::Array(items)) = raw.fields.get(list) {
            for (i, item) in items.iter().enumerate() {
                let Value::Object(obj) = item else {
                    return Err(super::request::invalid_value(&format!("{list}[{i}]"), item));
                };
                for key in keys {
                    let absent = matches!(obj.get(*key), None | Some(Value::Null));
                    let empty_key = *key == "key" && obj.get(*key).and_then(Value::as_str) == Some("");
                    if absent || empty_key {
                        return Err(super::request::missing_value(&format!("{list}[{i}].{key}")));
                    }
                }
            }
        }
    }
    Ok(parse(raw, &schema)?.msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slow(body: &str) -> Result<LogBatch, ApiError> {
        parse_batch(RawRequest::from_json(body.as_bytes())?)
    }

    #[test]
    fn the_clients_batch_takes_the_direct_path() {
        let body = r#"{"run_id": "r1", "metrics": [{"key": "loss", "value": 0.5, "timestamp": 1700000000000, "step": 3},
            {"key": "loss", "value": "NaN", "timestamp": "17", "step": "4"}],
            "params": [{"key": "lr", "value": "0.1"}], "tags": [{"key": "t", "value": ""}]}"#;
        let direct = plain_batch(body.as_bytes()).expect("a plain batch");
        assert_eq!(serde_json::to_value(&direct).unwrap(), serde_json::to_value(slow(body).unwrap()).unwrap());
        assert!(direct.metrics[1].value.is_nan());
    }

    /// Whatever the direct path takes, the general path reads alike; the rest it leaves to it.
    #[test]
    fn the_direct_path_takes_only_what_the_general_path_reads_alike() {
        let bodies = [
            r#"{"runId": "r1", "metrics": []}"#,
            r#"{"run_id": "r1", "runId": "r2"}"#,
            r#"{"run_uuid": "r1"}"#,
            r#"{"run_id": "r1", "run_uuid": "r2"}"#,
            r#"{"run_id": ""}"#,
            r#"{"run_id": null}"#,
            r#"{"run_id": 5}"#,
            r#"{"run_id": "r1", "metrics": null}"#,
            r#"{"run_id": "r1", "metrics": [{"key": "", "value": 1, "timestamp": 1}]}"#,
            r#"{"run_id": "r1", "metrics": [{"key": "a", "value": null, "timestamp": 1}]}"#,
            r#"{"run_id": "r1", "metrics": [{"key": "a", "value": 1}]}"#,
            r#"{"run_id": "r1", "metrics": [{"key": "a", "value": 1, "timestamp": 1, "step": null}]}"#,
            r#"{"run_id": "r1", "metrics": [{"key": "a", "value": 1, "timestamp": 1, "datasetName": "d"}]}"#,
            r#"{"run_id": "r1", "metrics": [{"key": "a", "value": 1, "timestamp": 1, "key": "b"}]}"#,
            r#"{"run_id": "r1", "metrics": [{"key": "a\u0000", "value": 1, "timestamp": 1}]}"#,
            r#"{"run_id": "r1", "metrics": [{"key": "a\\u0000", "value": 1, "timestamp": 1}]}"#,
            r#"{"run_id": "r1", "params": [{"value": "v"}]}"#,
            r#"{"run_id": "r1", "params": [{"key": "k", "value": null}]}"#,
            r#"{"run_id": "r1", "tags": [{"key": "k"}]}"#,
            r#""{\"run_id\": \"r1\"}""#,
            r#"{"run_id": "r1"} trailing"#,
            "",
        ];
        for body in bodies {
            if let Some(direct) = plain_batch(body.as_bytes()) {
                let general =
                    slow(body).unwrap_or_else(|e| panic!("{body}: the general path refuses it: {}", e.message));
                assert_eq!(serde_json::to_value(&direct).unwrap(), serde_json::to_value(&general).unwrap(), "{body}");
            }
        }
        for refused in [
            r#"{"run_id": "r1", "runId": "r2"}"#,
            r#"{"run_id": ""}"#,
            r#"{"run_id": "r1", "metrics": [{"key": "a\u0000", "value": 1, "timestamp": 1}]}"#,
        ] {
            assert!(plain_batch(refused.as_bytes()).is_none(), "{refused}");
            assert!(slow(refused).is_err(), "{refused}");
        }
    }
}
