//! Metric history: get-history, get-history-bulk-interval, and the web UI's get-history-bulk.

use super::request::{Kind, RawRequest, invalid_value, opt, parse, req};
use super::{ApiResult, AppState, ok};
use crate::error::ApiError;
use crate::search::page_token;
use axum::extract::State;
use pitwall_openapi::{
    GetMetricHistory, GetMetricHistoryBulkIntervalResponse, GetMetricHistoryResponse, MetricsWithRunIdResponse,
};
use serde_json::Value;

use super::request::DOCS_HINT;

const MAX_RUNS_PER_BULK_REQUEST: usize = 100;
const MAX_RESULTS_PER_RUN: i64 = 2500;
const MAX_BULK_HISTORY_RESULTS: usize = 25000;

/// `GetMetricHistory`.
pub async fn get_history(State(s): State<AppState>, raw: RawRequest) -> ApiResult<GetMetricHistoryResponse> {
    let schema = [
        req("run_id", Kind::Str),
        req("metric_key", Kind::Str),
        opt("page_token", Kind::Str),
        opt("max_results", Kind::Int),
    ];
    let m: GetMetricHistory = parse(raw, &schema)?.msg;
    let offset = page_token::decode(m.page_token.as_deref())? as usize;
    let max_results = match m.max_results {
        Some(n) if n < 1 => {
            return Err(ApiError::invalid(format!(
                "Invalid value {n} for parameter 'max_results' supplied. It must be a positive integer."
            )));
        }
        Some(n) => Some(n as usize),
        None => None,
    };
    let page = s.store.get_metric_history(&m.run_id, &m.metric_key, max_results, offset).await?;
    ok(GetMetricHistoryResponse {
        metrics: page.items,
        next_page_token: page.next_offset.map(|o| page_token::encode(o as i64)),
    })
}

fn int_field(raw: &super::request::Fields, name: &str) -> Result<Option<i64>, ApiError> {
    match raw.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => pitwall_openapi::json::int64_from_value(v).map(Some).ok_or_else(|| invalid_value(name, v)),
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
            .collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    if run_ids.len() > MAX_RUNS_PER_BULK_REQUEST {
        return Err(ApiError::invalid(format!(
            "GetMetricHistoryBulkInterval request must specify at most {MAX_RUNS_PER_BULK_REQUEST} run_ids. Received {} \
             run_ids.{DOCS_HINT}",
            run_ids.len()
        )));
    }
    let metric_key = f.str("metric_key").unwrap_or_default().to_owned();
    let max_results = int_field(f, "max_results")?.unwrap_or(MAX_RESULTS_PER_RUN);
    if !(1..=MAX_RESULTS_PER_RUN).contains(&max_results) {
        return Err(ApiError::invalid(format!("max_results must be between 1 and {MAX_RESULTS_PER_RUN}.{DOCS_HINT}")));
    }
    let steps = match (int_field(f, "start_step")?, int_field(f, "end_step")?) {
        (Some(a), Some(b)) if a > b => {
            return Err(ApiError::invalid(format!(
                "end_step must be greater than start_step. Found start_step={a} and end_step={b}."
            )));
        }
        (Some(a), Some(b)) => Some((a, b)),
        (None, None) => None,
        _ => return Err(ApiError::invalid("If either start step or end step are specified, both must be specified.")),
    };
    let metrics = s.store.get_metric_history_bulk_interval(&run_ids, &metric_key, steps, max_results as usize).await?;
    ok(GetMetricHistoryBulkIntervalResponse { metrics })
}

/// The web UI's `GetMetricHistoryBulk` (ajax only).
pub async fn get_history_bulk(State(s): State<AppState>, raw: RawRequest) -> ApiResult<MetricsWithRunIdResponse> {
    let f = raw.fields;
    let run_ids: Vec<String> = match f.get("run_id") {
        Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
    if run_ids.is_empty() {
        return Err(ApiError::invalid("GetMetricHistoryBulk request must specify at least one run_id."));
    }
    if run_ids.len() > MAX_RUNS_PER_BULK_REQUEST {
        return Err(ApiError::invalid(format!(
            "GetMetricHistoryBulk request cannot specify more than {MAX_RUNS_PER_BULK_REQUEST} run_ids. Received {} run_ids.",
            run_ids.len()
        )));
    }
    let Some(metric_key) = f.str("metric_key").map(str::to_owned) else {
        return Err(ApiError::invalid("GetMetricHistoryBulk request must specify a metric_key."));
    };
    let max_results = match int_field(&f, "max_results")? {
        Some(n) if n < 0 => return Err(invalid_value("max_results", &Value::from(n))),
        Some(n) => (n as usize).min(MAX_BULK_HISTORY_RESULTS),
        None => MAX_BULK_HISTORY_RESULTS,
    };
    let metrics = s.store.get_metric_history_bulk(&run_ids, &metric_key, max_results).await?;
    ok(MetricsWithRunIdResponse { metrics })
}
