//! MLflow 3 logged models: create, get, finalize, delete, search, set-tags, delete-tag,
//! log-params (`logged-models…`).

use super::request::{Kind, RawRequest, invalid_value, opt, parse, req};
use super::{ApiResult, AppState, ok};
use crate::error::ApiError;
use crate::search::logged_models::{DatasetFilter, OrderByEntry, PageToken};
use crate::store::{LoggedModelSearch, NewLoggedModel};
use axum::extract::{Path, RawQuery, State};
use pitwall_openapi::{
    CreateLoggedModel, Empty, FinalizeLoggedModel, LogLoggedModelParams, LoggedModelResponse, LoggedModelStatus,
    SearchLoggedModels, SearchLoggedModelsResponse, SetLoggedModelTags,
};
use serde_json::Value;

/// `max_results` when a search gives none (the proto's default).
const SEARCH_DEFAULT_MAX_RESULTS: i64 = 50;

/// `CreateLoggedModel`.
pub async fn create(State(s): State<AppState>, raw: RawRequest) -> ApiResult<LoggedModelResponse> {
    let schema = [
        req("experiment_id", Kind::Str),
        opt("name", Kind::Str),
        opt("model_type", Kind::Str),
        opt("source_run_id", Kind::Str),
        opt("params", Kind::Array),
        opt("tags", Kind::Array),
    ];
    let m: CreateLoggedModel = parse(raw, &schema)?.msg;
    // MLflow's handler passes unset strings on as empty ones, which it then stores and answers with.
    let model = s
        .store
        .create_logged_model(NewLoggedModel {
            experiment_id: m.experiment_id,
            name: m.name.filter(|n| !n.is_empty()),
            model_type: Some(m.model_type.unwrap_or_default()),
            source_run_id: Some(m.source_run_id.unwrap_or_default()),
            params: m.params,
            tags: m.tags,
        })
        .await?;
    ok(LoggedModelResponse { model })
}

/// `GetLoggedModel`; `allow_deleted=true` also finds deleted models.
pub async fn get(
    State(s): State<AppState>,
    Path(model_id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<LoggedModelResponse> {
    let allow_deleted = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "allow_deleted")
        .is_some_and(|(_, v)| v.eq_ignore_ascii_case("true"));
    ok(LoggedModelResponse { model: s.store.find_logged_model(&model_id, allow_deleted).await? })
}

/// `FinalizeLoggedModel`: the model named in the body gets the status, as in MLflow.
pub async fn finalize(
    State(s): State<AppState>,
    Path(_model_id): Path<String>,
    raw: RawRequest,
) -> ApiResult<LoggedModelResponse> {
    // An unknown status name is refused here; MLflow would store it as UNSPECIFIED.
    if let Some(v) = raw.fields.get("status")
        && !v.is_null()
        && LoggedModelStatus::parse(v).is_none()
    {
        return Err(invalid_value("status", v));
    }
    let m: FinalizeLoggedModel = parse(raw, &[req("model_id", Kind::Str), req("status", Kind::Enum)])?.msg;
    ok(LoggedModelResponse { model: s.store.finalize_logged_model(&m.model_id, m.status).await? })
}

/// `DeleteLoggedModel`.
pub async fn delete(State(s): State<AppState>, Path(model_id): Path<String>) -> ApiResult<Empty> {
    s.store.delete_logged_model(&model_id).await?;
    ok(Empty {})
}

/// `SetLoggedModelTags`.
pub async fn set_tags(State(s): State<AppState>, Path(model_id): Path<String>, raw: RawRequest) -> ApiResult<Empty> {
    let m: SetLoggedModelTags = parse(raw, &[opt("tags", Kind::Array)])?.msg;
    s.store.set_logged_model_tags(&model_id, &m.tags).await?;
    ok(Empty {})
}

/// `DeleteLoggedModelTag`.
pub async fn delete_tag(State(s): State<AppState>, Path((model_id, key)): Path<(String, String)>) -> ApiResult<Empty> {
    s.store.delete_logged_model_tag(&model_id, &key).await?;
    ok(Empty {})
}

/// `LogLoggedModelParams`: the body must name the model too, though the path's is used.
pub async fn log_params(State(s): State<AppState>, Path(model_id): Path<String>, raw: RawRequest) -> ApiResult<Empty> {
    let m: LogLoggedModelParams = parse(raw, &[req("model_id", Kind::Str), opt("params", Kind::Array)])?.msg;
    s.store.log_logged_model_params(&model_id, &m.params).await?;
    ok(Empty {})
}

/// `SearchLoggedModels`.
pub async fn search(State(s): State<AppState>, mut raw: RawRequest) -> ApiResult<SearchLoggedModelsResponse> {
    // An order_by item that is no object reads as an empty one in MLflow (no field name).
    if let Some(Value::Array(items)) = raw.fields.0.get_mut("order_by") {
        for item in items.iter_mut().filter(|i| !i.is_object()) {
            *item = Value::Object(Default::default());
        }
    }
    let schema = [
        req("experiment_ids", Kind::StrArray),
        opt("filter", Kind::Str),
        opt("datasets", Kind::Array),
        opt("max_results", Kind::Int),
        opt("order_by", Kind::Array),
        opt("page_token", Kind::Str),
    ];
    let m: SearchLoggedModels = parse(raw, &schema)?.msg;
    if m.datasets.iter().any(|d| d.dataset_name.is_empty()) {
        return Err(ApiError::invalid("`dataset_name` in the `datasets` clause must be specified."));
    }
    let max_results = match m.max_results {
        None | Some(0) => SEARCH_DEFAULT_MAX_RESULTS,
        Some(n) if n < 0 => {
            return Err(ApiError::invalid(format!("Invalid value for max_results: {n}. It must be positive.")));
        }
        // An int32 in the proto.
        Some(n) if n > i64::from(i32::MAX) => return Err(invalid_value("max_results", &serde_json::json!(n))),
        Some(n) => n,
    };
    let filter = m.filter.filter(|f| !f.is_empty());
    let order_by: Vec<OrderByEntry> = m
        .order_by
        .into_iter()
        .map(|o| OrderByEntry {
            field_name: o.field_name,
            ascending: o.ascending.unwrap_or(true),
            dataset_name: o.dataset_name.filter(|d| !d.is_empty()),
            dataset_digest: o.dataset_digest.filter(|d| !d.is_empty()),
        })
        .collect();
    let token_order = (!order_by.is_empty()).then(|| order_by.clone());
    let offset = match m.page_token.as_deref().filter(|t| !t.is_empty()) {
        Some(token) => PageToken::resume(token, &m.experiment_ids, filter.as_deref(), &token_order)?,
        None => 0,
    };
    let page = s
        .store
        .search_logged_models(&LoggedModelSearch {
            experiment_ids: m.experiment_ids.clone(),
            filter: filter.clone().unwrap_or_default(),
            datasets: m
                .datasets
                .into_iter()
                .map(|d| DatasetFilter { name: d.dataset_name, digest: d.dataset_digest.filter(|g| !g.is_empty()) })
                .collect(),
            order_by,
            max_results: max_results as usize,
            offset: offset as usize,
        })
        .await?;
    let next_page_token = page.next_offset.map(|offset| {
        PageToken { experiment_ids: m.experiment_ids, filter, order_by: token_order, offset: offset as i64 }.encode()
    });
    ok(SearchLoggedModelsResponse { models: page.items, next_page_token })
}
