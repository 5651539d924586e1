//! Experiments: create, get, get-by-name, search, update, delete, restore, tags.

use super::request::{Field, Kind, RawRequest, opt, parse, req};
use super::{ApiResult, AppState, ok};
use crate::error::ApiError;
use crate::service::experiments::SearchExperiments as Search;
use axum::extract::State;
use pitwall_openapi::{
    CreateExperiment, CreateExperimentResponse, DeleteExperimentTag, Empty, ExperimentIdRequest, ExperimentResponse,
    GetExperiment, GetExperimentByName, SearchExperiments, SearchExperimentsResponse, SetExperimentTag,
    UpdateExperiment, ViewType,
};

const ID: &[Field] = &[req("experiment_id", Kind::Str)];

/// `CreateExperiment`.
pub async fn create(State(s): State<AppState>, raw: RawRequest) -> ApiResult<CreateExperimentResponse> {
    let schema = [req("name", Kind::Str), opt("artifact_location", Kind::Str), opt("tags", Kind::Array)];
    let m: CreateExperiment = parse(raw, &schema)?.msg;
    let experiment_id = s.services().experiments().create(&m.name, m.artifact_location.as_deref(), &m.tags).await?;
    ok(CreateExperimentResponse { experiment_id })
}

/// `GetExperiment`.
pub async fn get(State(s): State<AppState>, raw: RawRequest) -> ApiResult<ExperimentResponse> {
    let m: GetExperiment = parse(raw, ID)?.msg;
    ok(ExperimentResponse { experiment: s.services().experiments().get(&m.experiment_id).await? })
}

/// `GetExperimentByName`.
pub async fn get_by_name(State(s): State<AppState>, raw: RawRequest) -> ApiResult<ExperimentResponse> {
    let m: GetExperimentByName = parse(raw, &[req("experiment_name", Kind::Str)])?.msg;
    ok(ExperimentResponse { experiment: s.services().experiments().get_by_name(&m.experiment_name).await? })
}

/// `SearchExperiments` (GET and POST).
pub async fn search(State(s): State<AppState>, raw: RawRequest) -> ApiResult<SearchExperimentsResponse> {
    let schema = [
        opt("view_type", Kind::Enum),
        opt("max_results", Kind::Int),
        opt("order_by", Kind::StrArray),
        opt("filter", Kind::Str),
        opt("page_token", Kind::Str),
    ];
    let parsed = parse::<SearchExperiments>(raw, &schema)?;
    let m = parsed.msg;
    let view_type = match parsed.fields.get("view_type") {
        Some(v) => ViewType::parse(v).ok_or_else(|| ApiError::invalid(format!("Invalid view_type: {v}")))?,
        None => ViewType::ActiveOnly,
    };
    let search = Search {
        filter: m.filter,
        view_type,
        order_by: m.order_by,
        max_results: m.max_results,
        page_token: m.page_token,
    };
    let (experiments, next_page_token) = s.services().experiments().search(search).await?;
    ok(SearchExperimentsResponse { experiments, next_page_token })
}

/// `UpdateExperiment`: renames.
pub async fn update(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: UpdateExperiment = parse(raw, &[req("experiment_id", Kind::Str), req("new_name", Kind::Str)])?.msg;
    s.services().experiments().rename(&m.experiment_id, &m.new_name).await?;
    ok(Empty {})
}

/// `DeleteExperiment`.
pub async fn delete(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: ExperimentIdRequest = parse(raw, ID)?.msg;
    s.services().experiments().delete(&m.experiment_id).await?;
    ok(Empty {})
}

/// `RestoreExperiment`.
pub async fn restore(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: ExperimentIdRequest = parse(raw, ID)?.msg;
    s.services().experiments().restore(&m.experiment_id).await?;
    ok(Empty {})
}

/// `SetExperimentTag`.
pub async fn set_tag(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let schema = [req("experiment_id", Kind::Str), req("key", Kind::Str), opt("value", Kind::Str)];
    let m: SetExperimentTag = parse(raw, &schema)?.msg;
    let tag = pitwall_openapi::KeyValue::new(m.key, m.value);
    s.services().experiments().set_tag(&m.experiment_id, &tag).await?;
    ok(Empty {})
}

/// `DeleteExperimentTag`.
pub async fn delete_tag(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: DeleteExperimentTag = parse(raw, &[req("experiment_id", Kind::Str), req("key", Kind::Str)])?.msg;
    s.services().experiments().delete_tag(&m.experiment_id, &m.key).await?;
    ok(Empty {})
}
