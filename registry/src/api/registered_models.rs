//! Registered models: create, get, rename, update, delete, search, tags, latest versions and
//! aliases.

use super::request::{Kind, RawRequest, invalid_value, opt, parse, req};
use super::{ApiResult, AppState, ok};
use crate::service::model_registry::SearchRegistry;
use axum::extract::State;
use pitwall_openapi::{
    CreateRegisteredModel, DeleteRegisteredModelTag, Empty, GetLatestVersions, KeyValue, ModelVersionResponse,
    ModelVersionsResponse, RegisteredModelAliasRequest, RegisteredModelName, RegisteredModelResponse,
    RenameRegisteredModel, SearchRegisteredModels, SearchRegisteredModelsResponse, SetRegisteredModelAlias,
    SetRegisteredModelTag, UpdateRegisteredModel,
};

/// The cap of `max_results` in `registered-models/search`.
const SEARCH_MAX_RESULTS: i64 = 1000;

/// `CreateRegisteredModel`.
pub async fn create(State(s): State<AppState>, raw: RawRequest) -> ApiResult<RegisteredModelResponse> {
    let schema = [req("name", Kind::Str), opt("tags", Kind::Array), opt("description", Kind::Str)];
    let m: CreateRegisteredModel = parse(raw, &schema)?.msg;
    let registered_model =
        s.services().model_registry().create_model(&m.name, &m.tags, m.description.as_deref()).await?;
    ok(RegisteredModelResponse { registered_model })
}

/// `GetRegisteredModel`.
pub async fn get(State(s): State<AppState>, raw: RawRequest) -> ApiResult<RegisteredModelResponse> {
    let m: RegisteredModelName = parse(raw, &[req("name", Kind::Str)])?.msg;
    ok(RegisteredModelResponse { registered_model: s.services().model_registry().get_model(&m.name).await? })
}

/// `RenameRegisteredModel`.
pub async fn rename(State(s): State<AppState>, raw: RawRequest) -> ApiResult<RegisteredModelResponse> {
    let m: RenameRegisteredModel = parse(raw, &[req("name", Kind::Str), req("new_name", Kind::Str)])?.msg;
    let registered_model = s.services().model_registry().rename_model(&m.name, &m.new_name).await?;
    ok(RegisteredModelResponse { registered_model })
}

/// `UpdateRegisteredModel`: sets the description.
pub async fn update(State(s): State<AppState>, raw: RawRequest) -> ApiResult<RegisteredModelResponse> {
    let m: UpdateRegisteredModel = parse(raw, &[req("name", Kind::Str), opt("description", Kind::Str)])?.msg;
    let registered_model = s.services().model_registry().update_model(&m.name, m.description.as_deref()).await?;
    ok(RegisteredModelResponse { registered_model })
}

/// `DeleteRegisteredModel`.
pub async fn delete(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: RegisteredModelName = parse(raw, &[req("name", Kind::Str)])?.msg;
    s.services().model_registry().delete_model(&m.name).await?;
    ok(Empty {})
}

/// `SearchRegisteredModels`.
pub async fn search(State(s): State<AppState>, raw: RawRequest) -> ApiResult<SearchRegisteredModelsResponse> {
    let schema = [
        opt("filter", Kind::Str),
        opt("max_results", Kind::Int),
        opt("order_by", Kind::StrArray),
        opt("page_token", Kind::Str),
    ];
    let parsed = parse::<SearchRegisteredModels>(raw, &schema)?;
    let m = parsed.msg;
    if let Some(n) = m.max_results.filter(|n| *n > SEARCH_MAX_RESULTS) {
        // MLflow's handler fails its bound check with the generic wrong-value message, which
        // quotes the value as the client sent it.
        let given = parsed.fields.get("max_results").cloned().unwrap_or_else(|| n.into());
        return Err(invalid_value("max_results", &given));
    }
    let search =
        SearchRegistry { filter: m.filter, order_by: m.order_by, max_results: m.max_results, page_token: m.page_token };
    let (registered_models, next_page_token) = s.services().model_registry().search_models(search).await?;
    ok(SearchRegisteredModelsResponse { registered_models, next_page_token })
}

/// `SetRegisteredModelTag`.
pub async fn set_tag(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let schema = [req("name", Kind::Str), req("key", Kind::Str), opt("value", Kind::Str)];
    let m: SetRegisteredModelTag = parse(raw, &schema)?.msg;
    s.services().model_registry().set_model_tag(&m.name, &KeyValue::new(m.key, m.value)).await?;
    ok(Empty {})
}

/// `DeleteRegisteredModelTag`.
pub async fn delete_tag(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: DeleteRegisteredModelTag = parse(raw, &[req("name", Kind::Str), req("key", Kind::Str)])?.msg;
    s.services().model_registry().delete_model_tag(&m.name, &m.key).await?;
    ok(Empty {})
}

/// `GetLatestVersions` (GET and POST).
pub async fn get_latest_versions(State(s): State<AppState>, raw: RawRequest) -> ApiResult<ModelVersionsResponse> {
    let m: GetLatestVersions = parse(raw, &[req("name", Kind::Str), opt("stages", Kind::StrArray)])?.msg;
    ok(ModelVersionsResponse {
        model_versions: s.services().model_registry().latest_versions(&m.name, &m.stages).await?,
    })
}

/// `SetRegisteredModelAlias`.
pub async fn set_alias(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let schema = [req("name", Kind::Str), req("alias", Kind::Str), req("version", Kind::Str)];
    let m: SetRegisteredModelAlias = parse(raw, &schema)?.msg;
    s.services().model_registry().set_alias(&m.name, &m.alias, &m.version).await?;
    ok(Empty {})
}

/// `DeleteRegisteredModelAlias`.
pub async fn delete_alias(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: RegisteredModelAliasRequest = parse(raw, &[req("name", Kind::Str), req("alias", Kind::Str)])?.msg;
    s.services().model_registry().delete_alias(&m.name, &m.alias).await?;
    ok(Empty {})
}

/// `GetModelVersionByAlias`.
pub async fn get_by_alias(State(s): State<AppState>, raw: RawRequest) -> ApiResult<ModelVersionResponse> {
    let m: RegisteredModelAliasRequest = parse(raw, &[req("name", Kind::Str), req("alias", Kind::Str)])?.msg;
    ok(ModelVersionResponse { model_version: s.services().model_registry().version_by_alias(&m.name, &m.alias).await? })
}
