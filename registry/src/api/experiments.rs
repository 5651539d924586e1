//! Experiments: create, get, get-by-name, search, update, delete, restore, tags.

use super::request::{Field, Kind, RawRequest, opt, parse, req};
use super::{ApiResult, AppState, ok};
use crate::error::ApiError;
use crate::search::page_token;
use crate::store::ExperimentSearch;
use crate::validation;
use axum::extract::State;
use pitwall_openapi::{
    CreateExperiment, CreateExperimentResponse, DeleteExperimentTag, Empty, ExperimentIdRequest, ExperimentResponse,
    GetExperiment, GetExperimentByName, SearchExperiments, SearchExperimentsResponse, SetExperimentTag,
    UpdateExperiment, ViewType,
};

/// The default and the cap of `max_results` in experiment search.
const SEARCH_DEFAULT_MAX_RESULTS: i64 = 1000;
const SEARCH_MAX_RESULTS: i64 = 50000;

const ID: &[Field] = &[req("experiment_id", Kind::Str)];

/// `CreateExperiment`.
pub async fn create(State(s): State<AppState>, raw: RawRequest) -> ApiResult<CreateExperimentResponse> {
    let schema = [req("name", Kind::Str), opt("artifact_location", Kind::Str), opt("tags", Kind::Array)];
    let m: CreateExperiment = parse(raw, &schema)?.msg;
    validation::validate_experiment_name(&m.name)?;
    if let Some(loc) = m.artifact_location.as_deref().filter(|l| !l.is_empty()) {
        validation::validate_artifact_location(loc)?;
    }
    for t in &m.tags {
        validation::validate_experiment_tag(t)?;
    }
    let experiment_id = s.store.create_experiment(&m.name, m.artifact_location.as_deref(), &m.tags).await?;
    ok(CreateExperimentResponse { experiment_id })
}

/// `GetExperiment`.
pub async fn get(State(s): State<AppState>, raw: RawRequest) -> ApiResult<ExperimentResponse> {
    let m: GetExperiment = parse(raw, ID)?.msg;
    ok(ExperimentResponse { experiment: s.store.get_experiment(&m.experiment_id).await? })
}

/// `GetExperimentByName`.
pub async fn get_by_name(State(s): State<AppState>, raw: RawRequest) -> ApiResult<ExperimentResponse> {
    let m: GetExperimentByName = parse(raw, &[req("experiment_name", Kind::Str)])?.msg;
    match s.store.get_experiment_by_name(&m.experiment_name).await? {
        Some(experiment) => ok(ExperimentResponse { experiment }),
        None => Err(ApiError::not_found(format!("Could not find experiment with name '{}'", m.experiment_name))),
    }
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
    let max_results = m.max_results.unwrap_or(SEARCH_DEFAULT_MAX_RESULTS);
    if max_results > SEARCH_MAX_RESULTS {
        return Err(ApiError::invalid(format!(
            "Invalid value {max_results} for parameter 'max_results' supplied. It must be at most {SEARCH_MAX_RESULTS}"
        )));
    }
    if max_results < 1 {
        return Err(ApiError::invalid(format!(
            "Invalid value {max_results} for parameter 'max_results' supplied. It must be at least 1"
        )));
    }
    let offset = page_token::decode(m.page_token.as_deref())? as usize;
    let page = s
        .store
        .search_experiments(&ExperimentSearch {
            filter: m.filter.unwrap_or_default(),
            view_type,
            order_by: m.order_by,
            max_results: max_results as usize,
            offset,
        })
        .await?;
    ok(SearchExperimentsResponse {
        experiments: page.items,
        next_page_token: page.next_offset.map(|o| page_token::encode(o as i64)),
    })
}

/// `UpdateExperiment`: renames.
pub async fn update(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: UpdateExperiment = parse(raw, &[req("experiment_id", Kind::Str), req("new_name", Kind::Str)])?.msg;
    validation::validate_experiment_name(&m.new_name)?;
    s.store.rename_experiment(&m.experiment_id, &m.new_name).await?;
    ok(Empty {})
}

/// `DeleteExperiment`.
pub async fn delete(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: ExperimentIdRequest = parse(raw, ID)?.msg;
    s.store.delete_experiment(&m.experiment_id).await?;
    ok(Empty {})
}

/// `RestoreExperiment`.
pub async fn restore(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: ExperimentIdRequest = parse(raw, ID)?.msg;
    s.store.restore_experiment(&m.experiment_id).await?;
    ok(Empty {})
}

/// `SetExperimentTag`.
pub async fn set_tag(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let schema = [req("experiment_id", Kind::Str), req("key", Kind::Str), opt("value", Kind::Str)];
    let m: SetExperimentTag = parse(raw, &schema)?.msg;
    let tag = pitwall_openapi::KeyValue::new(m.key, m.value);
    validation::validate_experiment_tag(&tag)?;
    s.store.set_experiment_tag(&m.experiment_id, &tag).await?;
    ok(Empty {})
}

/// `DeleteExperimentTag`.
pub async fn delete_tag(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: DeleteExperimentTag = parse(raw, &[req("experiment_id", Kind::Str), req("key", Kind::Str)])?.msg;
    s.store.delete_experiment_tag(&m.experiment_id, &m.key).await?;
    ok(Empty {})
}
