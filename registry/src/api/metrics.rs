//! Metric history: get-history, get-history-bulk-interval, and the web UI's get-history-bulk.

use super::request::{Fields, Kind, RawRequest, invalid_value, opt, parse, req};
use super::{ApiResult, AppState, ok};
use crate::error::ApiError;
use crate::service::metrics::{Bulk, BulkInterval, IntArg};
use crate::validation;
use axum::extract::State;
use pitwall_openapi::{
    GetMetricHistory, GetMetricHistoryBulkIntervalResponse, GetMetricHistoryResponse, MetricsWithRunIdResponse,
};
use serde_json::Value;

/// `GetMetricHistory`.
pub async fn get_history(State(s): State<AppState>, raw: RawRequest) -> ApiResult<GetMetricHistoryResponse> {
    let schema = [
        req("run_id", Kind::Str),
        req("metric_key", Kind::Str),
        opt("page_token", Kind::Str),
        opt("max_results", Kind::Int),
    ];
    let m: GetMetricHistory = parse(raw, &schema)?.msg;
    let (metrics, next_page_token) =
        s.services().metrics().history(&m.run_id, &m.metric_key, m.max_results, m.page_token.as_deref()).await?;
    ok(GetMetricHistoryResponse { metrics, next_page_token })
}

/// An integer field, read as MLflow's proto parser would.
fn int_field(raw: &Fields, name: &str) -> IntArg {
    match raw.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => pitwall_openapi::json::int64_from_value(v).map(Some).ok_or_else(|| validation::wrong_type(name, v)),
    }
}

/// `GetMetricHistoryBulkInterval`.
pub async fn get_history_bulk_interval(
    State(s): State<AppState>,
    raw: RawRequest,
) -> ApiResult<GetMetricHistoryBulkIntervalResponse> {
    let schema = [
        req("run_ids", Kind::Array),
        req("metric_key", Kind::Str),
        opt("start_step", Kind::Int),
        opt("end_step", Kind::Int),
        opt("max_results", Kind::Int),
    ];
    let parsed = parse::<Value>(raw, &schema)?;
    let f = &parsed.fields;
    let run_ids: Vec<String> = match f.get("run_ids") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| invalid_value("run_ids", v)))
            .collect::<Result<_, ApiError>>()?,
        _ => Vec::new(),
    };
    let request = BulkInterval {
        run_ids,
        metric_key: f.str("metric_key").unwrap_or_default().to_owned(),
        start_step: int_field(f, "start_step"),
        end_step: int_field(f, "end_step"),
        max_results: int_field(f, "max_results"),
    };
    ok(GetMetricHistoryBulkIntervalResponse { metrics: s.services().metrics().history_bulk_interval(request).await? })
}

/// The web UI's `GetMetricHistoryBulk` (ajax only).
pub async fn get_history_bulk(State(s): State<AppState>, raw: RawRequest) -> ApiResult<MetricsWithRunIdResponse> {
    let f = raw.fields;
    let run_ids: Vec<String> = match f.get("run_id") {
        Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
    let request =
        Bulk { run_ids, metric_key: f.str("metric_key").map(str::to_owned), max_results: int_field(&f, "max_results") };
    ok(MetricsWithRunIdResponse { metrics: s.services().metrics().history_bulk(request).await? })
}
