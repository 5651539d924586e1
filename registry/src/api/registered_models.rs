//! Registered models: create, get, rename, update, delete, search, tags, latest versions and
//! aliases.

use super::request::{Kind, RawRequest, invalid_value, opt, parse, req};
use super::{ApiResult, AppState, ok};
use crate::store::RegistrySearch;
use crate::validation;
use axum::extract::State;
use pitwall_openapi::{
    CreateRegisteredModel, DeleteRegisteredModelTag, Empty, GetLatestVersions, KeyValue, ModelVersionResponse,
    ModelVersionsResponse, RegisteredModelAliasRequest, RegisteredModelName, RegisteredModelResponse,
    RenameRegisteredModel, SearchRegisteredModels, SearchRegisteredModelsResponse, SetRegisteredModelAlias,
    SetRegisteredModelTag, UpdateRegisteredModel,
};

/// `max_results` of `registered-models/search`: the proto's default and the handler's cap.
const SEARCH_DEFAULT_MAX_RESULTS: i64 = 100;
const SEARCH_MAX_RESULTS: i64 = 1000;

/// `CreateRegisteredModel`.
pub async fn create(State(s): State<AppState>, raw: RawRequest) -> ApiResult<RegisteredModelResponse> {
    let schema = [req("name", Kind::Str), opt("tags", Kind::Array), opt("description", Kind::Str)];
    let m: CreateRegisteredModel = parse(raw, &schema)?.msg;
    validation::validate_model_name(&m.name)?;
    for t in &m.tags {
        validation::validate_registered_model_tag(t)?;
    }
    let registered_model = s.store.create_registered_model(&m.name, &m.tags, m.description.as_deref()).await?;
    ok(RegisteredModelResponse { registered_model })
}

/// `GetRegisteredModel`.
pub async fn get(State(s): State<AppState>, raw: RawRequest) -> ApiResult<RegisteredModelResponse> {
    let m: RegisteredModelName = parse(raw, &[req("name", Kind::Str)])?.msg;
    validation::validate_model_name(&m.name)?;
    ok(RegisteredModelResponse { registered_model: s.store.get_registered_model(&m.name).await? })
}

/// `RenameRegisteredModel`.
pub async fn rename(State(s): State<AppState>, raw: RawRequest) -> ApiResult<RegisteredModelResponse> {
    let m: RenameRegisteredModel = parse(raw, &[req("name", Kind::Str), req("new_name", Kind::Str)])?.msg;
    // MLflow checks the new name before it looks the model up.
    validation::validate_model_name_as("new_name", &m.new_name)?;
    validation::validate_model_name(&m.name)?;
    ok(RegisteredModelResponse { registered_model: s.store.rename_registered_model(&m.name, &m.new_name).await? })
}

/// `UpdateRegisteredModel`: sets the description.
pub async fn update(State(s): State<AppState>, raw: RawRequest) -> ApiResult<RegisteredModelResponse> {
    let m: UpdateRegisteredModel = parse(raw, &[req("name", Kind::Str), opt("description", Kind::Str)])?.msg;
    validation::validate_model_name(&m.name)?;
    // An absent description reads as the proto default, the empty string.
    let description = m.description.unwrap_or_default();
    ok(RegisteredModelResponse {
        registered_model: s.store.update_registered_model(&m.name, Some(&description)).await?,
    })
}

/// `DeleteRegisteredModel`.
pub async fn delete(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: RegisteredModelName = parse(raw, &[req("name", Kind::Str)])?.msg;
    validation::validate_model_name(&m.name)?;
    s.store.delete_registered_model(&m.name).await?;
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
    let max_results = m.max_results.unwrap_or(SEARCH_DEFAULT_MAX_RESULTS);
    if max_results > SEARCH_MAX_RESULTS {
        // MLflow's handler fails its bound check with the generic wrong-value message.
        let given = parsed.fields.get("max_results").cloned().unwrap_or_else(|| max_results.into());
        return Err(invalid_value("max_results", &given));
    }
    let page = s
        .store
        .search_registered_models(&RegistrySearch {
            filter: m.filter.unwrap_or_default(),
            order_by: m.order_by,
            // MLflow answers a non-positive size with an empty page.
            max_results: max_results.max(0) as usize,
            page_token: m.page_token,
        })
        .await?;
    ok(SearchRegisteredModelsResponse {
        registered_models: page.items,
        next_page_token: page.next_offset.map(|o| crate::search::page_token::encode(o as i64)),
    })
}

/// `SetRegisteredModelTag`.
pub async fn set_tag(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let schema = [req("name", Kind::Str), req("key", Kind::Str), opt("value", Kind::Str)];
    let m: SetRegisteredModelTag = parse(raw, &schema)?.msg;
    validation::validate_model_name(&m.name)?;
    let tag = KeyValue::new(m.key, m.value);
    validation::validate_registered_model_tag(&tag)?;
    s.store.set_registered_model_tag(&m.name, &tag).await?;
    ok(Empty {})
}

/// `DeleteRegisteredModelTag`.
pub async fn delete_tag(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: DeleteRegisteredModelTag = parse(raw, &[req("name", Kind::Str), req("key", Kind::Str)])?.msg;
    validation::validate_model_name(&m.name)?;
    validation::validate_tag_key(&m.key)?;
    s.store.delete_registered_model_tag(&m.name, &m.key).await?;
    ok(Empty {})
}

/// `GetLatestVersions` (GET and POST).
pub async fn get_latest_versions(State(s): State<AppState>, raw: RawRequest) -> ApiResult<ModelVersionsResponse> {
    let m: GetLatestVersions = parse(raw, &[req("name", Kind::Str), opt("stages", Kind::StrArray)])?.msg;
    validation::validate_model_name(&m.name)?;
    ok(ModelVersionsResponse { model_versions: s.store.get_latest_versions(&m.name, &m.stages).await? })
}

/// `SetRegisteredModelAlias`.
pub async fn set_alias(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let schema = [req("name", Kind::Str), req("alias", Kind::Str), req("version", Kind::Str)];
    let m: SetRegisteredModelAlias = parse(raw, &schema)?.msg;
    validation::validate_model_name(&m.name)?;
    validation::validate_alias(&m.alias)?;
    validation::validate_alias_not_reserved(&m.alias)?;
    s.store.set_registered_model_alias(&m.name, &m.alias, &m.version).await?;
    ok(Empty {})
}

/// `DeleteRegisteredModelAlias`.
pub async fn delete_alias(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: RegisteredModelAliasRequest = parse(raw, &[req("name", Kind::Str), req("alias", Kind::Str)])?.msg;
    validation::validate_model_name(&m.name)?;
    validation::validate_alias(&m.alias)?;
    s.store.delete_registered_model_alias(&m.name, &m.alias).await?;
    ok(Empty {})
}

/// `GetModelVersionByAlias`.
pub async fn get_by_alias(State(s): State<AppState>, raw: RawRequest) -> ApiResult<ModelVersionResponse> {
    let m: RegisteredModelAliasRequest = parse(raw, &[req("name", Kind::Str), req("alias", Kind::Str)])?.msg;
    validation::validate_model_name(&m.name)?;
    validation::validate_alias(&m.alias)?;
    ok(ModelVersionResponse { model_version: s.store.get_model_version_by_alias(&m.name, &m.alias).await? })
}
