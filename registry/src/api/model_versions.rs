//! Model versions: create, get, update, delete, transition-stage, get-download-uri, search
//! and tags.

use super::request::{Kind, RawRequest, invalid_value, opt, parse, req};
use super::{ApiResult, AppState, ok};
use crate::service::model_registry::{CreateVersion, SearchRegistry, VERSIONS_MAX_RESULTS};
use axum::extract::State;
use pitwall_openapi::{
    CreateModelVersion, DeleteModelVersionTag, Empty, GetModelVersionDownloadUriResponse, KeyValue, ModelVersionRef,
    ModelVersionResponse, SearchModelVersions, SearchModelVersionsResponse, SetModelVersionTag,
    TransitionModelVersionStage, UpdateModelVersion,
};

const NAME_VERSION: &[super::request::Field] = &[req("name", Kind::Str), req("version", Kind::Str)];

/// `CreateModelVersion`.
pub async fn create(State(s): State<AppState>, raw: RawRequest) -> ApiResult<ModelVersionResponse> {
    let schema = [
        req("name", Kind::Str),
        req("source", Kind::Str),
        opt("run_id", Kind::Str),
        opt("tags", Kind::Array),
        opt("run_link", Kind::Str),
        opt("description", Kind::Str),
        opt("model_id", Kind::Str),
    ];
    let m: CreateModelVersion = parse(raw, &schema)?.msg;
    let version = CreateVersion {
        name: m.name,
        source: m.source,
        run_id: m.run_id,
        tags: m.tags,
        run_link: m.run_link,
        description: m.description,
        model_id: m.model_id,
    };
    ok(ModelVersionResponse { model_version: s.services().model_registry().create_version(version).await? })
}

/// `GetModelVersion`.
pub async fn get(State(s): State<AppState>, raw: RawRequest) -> ApiResult<ModelVersionResponse> {
    let m: ModelVersionRef = parse(raw, NAME_VERSION)?.msg;
    ok(ModelVersionResponse { model_version: s.services().model_registry().get_version(&m.name, &m.version).await? })
}

/// `UpdateModelVersion`: sets the description (an absent one clears it, as in MLflow).
pub async fn update(State(s): State<AppState>, raw: RawRequest) -> ApiResult<ModelVersionResponse> {
    let schema = [req("name", Kind::Str), req("version", Kind::Str), opt("description", Kind::Str)];
    let m: UpdateModelVersion = parse(raw, &schema)?.msg;
    let model_version =
        s.services().model_registry().update_version(&m.name, &m.version, m.description.as_deref()).await?;
    ok(ModelVersionResponse { model_version })
}

/// `TransitionModelVersionStage`.
pub async fn transition_stage(State(s): State<AppState>, raw: RawRequest) -> ApiResult<ModelVersionResponse> {
    let schema = [
        req("name", Kind::Str),
        req("version", Kind::Str),
        req("stage", Kind::Str),
        opt("archive_existing_versions", Kind::Bool),
    ];
    let m: TransitionModelVersionStage = parse(raw, &schema)?.msg;
    let model_version = s
        .services()
        .model_registry()
        .transition_stage(&m.name, &m.version, &m.stage, m.archive_existing_versions)
        .await?;
    ok(ModelVersionResponse { model_version })
}

/// `DeleteModelVersion`: the number is not given out again.
pub async fn delete(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: ModelVersionRef = parse(raw, NAME_VERSION)?.msg;
    s.services().model_registry().delete_version(&m.name, &m.version).await?;
    ok(Empty {})
}

/// `GetModelVersionDownloadUri`.
pub async fn get_download_uri(
    State(s): State<AppState>,
    raw: RawRequest,
) -> ApiResult<GetModelVersionDownloadUriResponse> {
    let m: ModelVersionRef = parse(raw, NAME_VERSION)?.msg;
    let artifact_uri = s.services().model_registry().version_download_uri(&m.name, &m.version).await?;
    ok(GetModelVersionDownloadUriResponse { artifact_uri })
}

/// `SearchModelVersions`.
pub async fn search(State(s): State<AppState>, raw: RawRequest) -> ApiResult<SearchModelVersionsResponse> {
    let schema = [
        opt("filter", Kind::Str),
        opt("max_results", Kind::Int),
        opt("order_by", Kind::StrArray),
        opt("page_token", Kind::Str),
    ];
    let parsed = parse::<SearchModelVersions>(raw, &schema)?;
    let m = parsed.msg;
    if let Some(n) = m.max_results.filter(|n| *n > VERSIONS_MAX_RESULTS) {
        // The message quotes the value as the client sent it.
        let given = parsed.fields.get("max_results").cloned().unwrap_or_else(|| n.into());
        return Err(invalid_value("max_results", &given));
    }
    let search =
        SearchRegistry { filter: m.filter, order_by: m.order_by, max_results: m.max_results, page_token: m.page_token };
    let (model_versions, next_page_token) = s.services().model_registry().search_versions(search).await?;
    ok(SearchModelVersionsResponse { model_versions, next_page_token })
}

/// `SetModelVersionTag`.
pub async fn set_tag(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let schema = [req("name", Kind::Str), req("version", Kind::Str), req("key", Kind::Str), opt("value", Kind::Str)];
    let m: SetModelVersionTag = parse(raw, &schema)?.msg;
    s.services().model_registry().set_version_tag(&m.name, &m.version, &KeyValue::new(m.key, m.value)).await?;
    ok(Empty {})
}

/// `DeleteModelVersionTag`.
pub async fn delete_tag(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let schema = [req("name", Kind::Str), req("version", Kind::Str), req("key", Kind::Str)];
    let m: DeleteModelVersionTag = parse(raw, &schema)?.msg;
    s.services().model_registry().delete_version_tag(&m.name, &m.version, &m.key).await?;
    ok(Empty {})
}
