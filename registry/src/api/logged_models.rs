//! MLflow 3 logged models: create, get, finalize, delete, search, set-tags, delete-tag,
//! log-params (`logged-models…`).

use super::request::{Kind, RawRequest, invalid_value, opt, parse, req};
use super::{ApiResult, AppState, ok};
use axum::extract::{Path, RawQuery, State};
use pitwall_openapi::{
    CreateLoggedModel, Empty, FinalizeLoggedModel, LogLoggedModelParams, LoggedModelResponse, LoggedModelStatus,
    SearchLoggedModels, SearchLoggedModelsResponse, SetLoggedModelTags,
};
use serde_json::Value;

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
    let model = s.services().logged_models().create(m).await?;
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
    ok(LoggedModelResponse { model: s.services().logged_models().get(&model_id, allow_deleted).await? })
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
    ok(LoggedModelResponse { model: s.services().logged_models().finalize(&m.model_id, m.status).await? })
}

/// `DeleteLoggedModel`.
pub async fn delete(State(s): State<AppState>, Path(model_id): Path<String>) -> ApiResult<Empty> {
    s.services().logged_models().delete(&model_id).await?;
    ok(Empty {})
}

/// `SetLoggedModelTags`.
pub async fn set_tags(State(s): State<AppState>, Path(model_id): Path<String>, raw: RawRequest) -> ApiResult<Empty> {
    let m: SetLoggedModelTags = parse(raw, &[opt("tags", Kind::Array)])?.msg;
    s.services().logged_models().set_tags(&model_id, &m.tags).await?;
    ok(Empty {})
}

/// `DeleteLoggedModelTag`.
pub async fn delete_tag(State(s): State<AppState>, Path((model_id, key)): Path<(String, String)>) -> ApiResult<Empty> {
    s.services().logged_models().delete_tag(&model_id, &key).await?;
    ok(Empty {})
}

/// `LogLoggedModelParams`: the body must name the model too, though the path's is used.
pub async fn log_params(State(s): State<AppState>, Path(model_id): Path<String>, raw: RawRequest) -> ApiResult<Empty> {
    let m: LogLoggedModelParams = parse(raw, &[req("model_id", Kind::Str), opt("params", Kind::Array)])?.msg;
    s.services().logged_models().log_params(&model_id, &m.params).await?;
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
    let (models, next_page_token) = s.services().logged_models().search(m).await?;
    ok(SearchLoggedModelsResponse { models, next_page_token })
}
