//! Model versions: create, get, update, delete, transition-stage, get-download-uri, search
//! and tags.

use super::request::{Kind, RawRequest, invalid_value, opt, parse, req};
use super::{ApiResult, AppState, ok};
use crate::error::ApiError;
use crate::search::page_token;
use crate::search::registry::IS_PROMPT_TAG;
use crate::store::{NewModelVersion, RegistrySearch, StoreError, StoreResult};
use crate::validation;
use axum::extract::State;
use pitwall_openapi::{
    CreateModelVersion, DeleteModelVersionTag, Empty, GetModelVersionDownloadUriResponse, KeyValue, ModelVersionRef,
    ModelVersionResponse, SearchModelVersions, SearchModelVersionsResponse, SetModelVersionTag,
    TransitionModelVersionStage, UpdateModelVersion,
};
use std::path::{Component, Path, PathBuf};

/// `max_results` of `model-versions/search`: the proto's default, which is also the cap.
const SEARCH_MAX_RESULTS: i64 = 200_000;

const NAME_VERSION: &[super::request::Field] = &[req("name", Kind::Str), req("version", Kind::Str)];

/// What a logged model (MLflow 3) contributes to a version registered from it.
#[derive(Debug, Clone)]
pub struct LoggedModelSource {
    /// Where the logged model's artifacts are: the version's storage location.
    pub artifact_location: String,
    /// The run that logged it: the version's run when the request names none.
    pub source_run_id: Option<String>,
}

/// The artifact location and source run of logged model `model_id`.
pub async fn resolve_logged_model_source(state: &AppState, model_id: &str) -> StoreResult<LoggedModelSource> {
    let model = state.store.get_logged_model(model_id).await?;
    Ok(LoggedModelSource { artifact_location: model.info.artifact_uri, source_run_id: model.info.source_run_id })
}

/// Python's `urllib.parse.urlparse(uri).scheme`, lower-cased; empty when there is none.
fn scheme(uri: &str) -> String {
    match uri.split_once(':') {
        Some((s, _))
            if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            s.to_ascii_lowercase()
        }
        _ => String::new(),
    }
}

/// The path part of a URI as `urlparse` splits it (after `scheme:` and `//netloc`, before `?`).
fn uri_path(uri: &str) -> &str {
    let s = scheme(uri);
    let rest = if s.is_empty() { uri } else { &uri[s.len() + 1..] };
    let rest = match rest.strip_prefix("//") {
        Some(after) => after.find('/').map_or("", |i| &after[i..]),
        None => rest,
    };
    let rest = rest.split('#').next().unwrap_or("");
    rest.split('?').next().unwrap_or("")
}

/// MLflow's `is_local_uri` for sources: no scheme, or `file:`.
fn is_local(uri: &str) -> bool {
    matches!(scheme(uri).as_str(), "" | "file")
}

/// Percent-decoding as Python's `unquote` (`plus`: `unquote_plus`); bad UTF-8 is replaced.
fn percent_decode(s: &str, plus: bool) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push(h * 16 + l);
                i += 3;
            }
            (b'+', _, _) if plus => {
                out.push(b' ');
                i += 1;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `unquote_plus` applied until the text stops changing, as MLflow does to catch `%252e`.
fn unquote_fully(s: &str) -> String {
    let mut cur = s.to_owned();
    loop {
        let next = percent_decode(&cur, true);
        if next == cur {
            return cur;
        }
        cur = next;
    }
}

fn invalid_source(source: &str) -> ApiError {
    ApiError::invalid(format!(
        "Invalid model version source: '{source}'. If supplying a source as an http, https, local file path, ftp, \
         objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references \
         present. Please provide an absolute path."
    ))
}

/// MLflow's guard against sources that climb out of their root (`..`, encoded or not, NUL
/// bytes, relative paths): the source's path must already be absolute and normal.
fn check_no_relative_paths(source: &str) -> Result<(), ApiError> {
    let unquoted = unquote_fully(source);
    let trimmed = uri_path(&unquoted).trim_end_matches('/');
    let mut path = String::with_capacity(trimmed.len());
    for c in trimmed.chars() {
        if !(c == '/' && path.ends_with('/')) {
            path.push(c);
        }
    }
    let dotted = unquoted.split('/').any(|p| p == "..");
    let normal = path.starts_with('/') && path.split('/').skip(1).all(|p| p != "." && p != "..");
    if path.contains('\0') || dotted || !normal {
        return Err(invalid_source(source));
    }
    Ok(())
}

/// A local path made absolute and normal without touching the file system.
fn lexical_absolute(uri: &str) -> PathBuf {
    let path = if uri.starts_with("file:") { uri_path(uri) } else { uri };
    let raw = percent_decode(path, false);
    let joined = if Path::new(&raw).is_absolute() {
        PathBuf::from(&raw)
    } else {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")).join(&raw)
    };
    let mut out = PathBuf::from("/");
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(p) => out.push(p),
            _ => {}
        }
    }
    out
}

/// A local source is only accepted inside the local artifact directory of the run (or logged
/// model) it comes from; other sources must not contain relative path references.
async fn check_source(s: &AppState, source: &str, run_id: &str) -> Result<(), ApiError> {
    if !is_local(source) {
        return check_no_relative_paths(source);
    }
    let mut shown = source.to_owned();
    if !run_id.is_empty() {
        let run = s.store.get_run(run_id).await?;
        let resolved = lexical_absolute(source);
        shown = resolved.display().to_string();
        if is_local(&run.info.artifact_uri) && resolved.starts_with(lexical_absolute(&run.info.artifact_uri)) {
            return Ok(());
        }
    }
    Err(ApiError::invalid(format!(
        "Invalid model version source: '{shown}'. To use a local path as a model version source, the run_id request \
         parameter has to be specified and the local path has to be contained within the artifact directory of the \
         run specified by the run_id."
    )))
}

/// The same rule for a version registered from a logged model.
async fn check_model_source(s: &AppState, source: &str, model_id: &str) -> Result<(), ApiError> {
    if !is_local(source) {
        return check_no_relative_paths(source);
    }
    let model = resolve_logged_model_source(s, model_id).await?;
    let resolved = lexical_absolute(source);
    if is_local(&model.artifact_location) && resolved.starts_with(lexical_absolute(&model.artifact_location)) {
        return Ok(());
    }
    Err(ApiError::invalid(format!(
        "Invalid model version source: '{}'. To use a local path as a model version source, the model_id request \
         parameter has to be specified and the local path has to be contained within the artifact directory of the \
         run specified by the model_id.",
        resolved.display()
    )))
}

/// Prompts may not point at the server's file system.
fn check_prompt_source(source: &str) -> Result<(), ApiError> {
    let s = scheme(source);
    if s == "file" || (s.is_empty() && source.starts_with('/')) {
        return Err(ApiError::invalid(format!(
            "Invalid prompt source: '{source}'. Local source paths are not allowed for prompts."
        )));
    }
    if !s.is_empty() {
        check_no_relative_paths(source)?;
    }
    Ok(())
}

fn unresolvable(source: &str, err: impl std::fmt::Display) -> ApiError {
    ApiError::invalid(format!("Unable to fetch model from model URI source artifact location '{source}'.Error: {err}"))
}

/// Where the artifacts of a source are, and the run it names: `models:/m-…` is a logged
/// model, `models:/<name>/<version>` another version, `runs:/<run>/<path>` a run's artifacts.
async fn resolve_storage(s: &AppState, source: &str, run_id: &mut String) -> Result<Option<String>, ApiError> {
    match scheme(source).as_str() {
        "models" => {
            let path = uri_path(source);
            let parts: Vec<&str> = path.strip_prefix('/').unwrap_or("").split('/').collect();
            match parts.as_slice() {
                [id] if !id.trim().is_empty() && !id.contains('@') => {
                    let model = resolve_logged_model_source(s, id).await.map_err(|e| unresolvable(source, e))?;
                    if run_id.is_empty() {
                        *run_id = model.source_run_id.unwrap_or_default();
                    }
                    Ok(Some(model.artifact_location))
                }
                [name, version] if !version.is_empty() && version.chars().all(|c| c.is_ascii_digit()) => {
                    let uri = s
                        .store
                        .get_model_version_download_uri(name, version)
                        .await
                        .map_err(|e| unresolvable(source, e))?;
                    Ok(Some(uri))
                }
                _ => Err(unresolvable(
                    source,
                    "the source must name a logged model (models:/<model_id>) or a model version \
                     (models:/<name>/<version>)",
                )),
            }
        }
        "runs" => {
            // A run that does not exist leaves the source as given, as MLflow stores it unread.
            let rest = uri_path(source).trim_start_matches('/');
            let (run, path) = rest.split_once('/').unwrap_or((rest, ""));
            match s.store.get_run(run).await {
                Ok(r) => {
                    let root = r.info.artifact_uri.trim_end_matches('/');
                    let path = path.trim_matches('/');
                    Ok(Some(if path.is_empty() { root.to_owned() } else { format!("{root}/{path}") }))
                }
                Err(StoreError::NotFound(_)) => Ok(None),
                Err(e) => Err(e.into()),
            }
        }
        _ => Ok(None),
    }
}

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
    let model_id = m.model_id.filter(|id| !id.is_empty());
    let mut run_id = m.run_id.unwrap_or_default();
    let is_prompt = m.tags.iter().any(|t| t.key == IS_PROMPT_TAG);
    if is_prompt {
        check_prompt_source(&m.source)?;
    } else if let Some(id) = &model_id {
        check_model_source(&s, &m.source, id).await?;
    } else {
        check_source(&s, &m.source, &run_id).await?;
    }
    validation::validate_model_name(&m.name)?;
    for t in &m.tags {
        validation::validate_model_version_tag(t)?;
    }
    let storage_location = resolve_storage(&s, &m.source, &mut run_id).await?;
    if run_id.is_empty()
        && let Some(id) = &model_id
    {
        run_id = resolve_logged_model_source(&s, id).await?.source_run_id.unwrap_or_default();
    }
    // Unset strings are the proto defaults (empty), which MLflow stores and answers back.
    let model_version = s
        .store
        .create_model_version(NewModelVersion {
            name: m.name,
            source: m.source,
            run_id: Some(run_id),
            run_link: Some(m.run_link.unwrap_or_default()),
            model_id,
            storage_location,
            tags: m.tags,
            description: Some(m.description.unwrap_or_default()),
            user_id: None,
        })
        .await?;
    ok(ModelVersionResponse { model_version })
}

/// `GetModelVersion`.
pub async fn get(State(s): State<AppState>, raw: RawRequest) -> ApiResult<ModelVersionResponse> {
    let m: ModelVersionRef = parse(raw, NAME_VERSION)?.msg;
    validation::validate_model_name(&m.name)?;
    ok(ModelVersionResponse { model_version: s.store.get_model_version(&m.name, &m.version).await? })
}

/// `UpdateModelVersion`: sets the description (an absent one clears it, as in MLflow).
pub async fn update(State(s): State<AppState>, raw: RawRequest) -> ApiResult<ModelVersionResponse> {
    let schema = [req("name", Kind::Str), req("version", Kind::Str), opt("description", Kind::Str)];
    let m: UpdateModelVersion = parse(raw, &schema)?.msg;
    validation::validate_model_name(&m.name)?;
    ok(ModelVersionResponse {
        model_version: s.store.update_model_version(&m.name, &m.version, m.description.as_deref()).await?,
    })
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
    // MLflow judges the stage before the model's name.
    crate::store::model_registry::canonical_stage(&m.stage)?;
    validation::validate_model_name(&m.name)?;
    let model_version =
        s.store.transition_model_version_stage(&m.name, &m.version, &m.stage, m.archive_existing_versions).await?;
    ok(ModelVersionResponse { model_version })
}

/// `DeleteModelVersion`: the number is not given out again.
pub async fn delete(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let m: ModelVersionRef = parse(raw, NAME_VERSION)?.msg;
    validation::validate_model_name(&m.name)?;
    s.store.delete_model_version(&m.name, &m.version).await?;
    ok(Empty {})
}

/// `GetModelVersionDownloadUri`.
pub async fn get_download_uri(
    State(s): State<AppState>,
    raw: RawRequest,
) -> ApiResult<GetModelVersionDownloadUriResponse> {
    let m: ModelVersionRef = parse(raw, NAME_VERSION)?.msg;
    validation::validate_model_name(&m.name)?;
    ok(GetModelVersionDownloadUriResponse {
        artifact_uri: s.store.get_model_version_download_uri(&m.name, &m.version).await?,
    })
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
    let max_results = m.max_results.unwrap_or(SEARCH_MAX_RESULTS);
    if max_results > SEARCH_MAX_RESULTS {
        let given = parsed.fields.get("max_results").cloned().unwrap_or_else(|| max_results.into());
        return Err(invalid_value("max_results", &given));
    }
    if max_results < 1 {
        return Err(ApiError::invalid(format!(
            "Invalid value for max_results. It must be a positive integer, but got {max_results}"
        )));
    }
    let page = s
        .store
        .search_model_versions(&RegistrySearch {
            filter: m.filter.unwrap_or_default(),
            order_by: m.order_by,
            max_results: max_results as usize,
            page_token: m.page_token,
        })
        .await?;
    ok(SearchModelVersionsResponse {
        model_versions: page.items,
        next_page_token: page.next_offset.map(|o| page_token::encode(o as i64)),
    })
}

/// `SetModelVersionTag`.
pub async fn set_tag(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let schema = [req("name", Kind::Str), req("version", Kind::Str), req("key", Kind::Str), opt("value", Kind::Str)];
    let m: SetModelVersionTag = parse(raw, &schema)?.msg;
    validation::validate_model_name(&m.name)?;
    crate::store::model_registry::parse_version(&m.version)?;
    let tag = KeyValue::new(m.key, m.value);
    validation::validate_model_version_tag(&tag)?;
    s.store.set_model_version_tag(&m.name, &m.version, &tag).await?;
    ok(Empty {})
}

/// `DeleteModelVersionTag`.
pub async fn delete_tag(State(s): State<AppState>, raw: RawRequest) -> ApiResult<Empty> {
    let schema = [req("name", Kind::Str), req("version", Kind::Str), req("key", Kind::Str)];
    let m: DeleteModelVersionTag = parse(raw, &schema)?.msg;
    validation::validate_model_name(&m.name)?;
    crate::store::model_registry::parse_version(&m.version)?;
    validation::validate_tag_key(&m.key)?;
    s.store.delete_model_version_tag(&m.name, &m.version, &m.key).await?;
    ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_paths_as_urlparse() {
        assert_eq!(scheme("mlflow-artifacts:/1/x"), "mlflow-artifacts");
        assert_eq!(scheme("/tmp/x"), "");
        assert_eq!(scheme("S3://b/k"), "s3");
        assert_eq!(uri_path("s3://bucket/a/b?x=1"), "/a/b");
        assert_eq!(uri_path("runs:/abc/model"), "/abc/model");
        assert_eq!(uri_path("s3://bucket"), "");
    }

    #[test]
    fn relative_references_are_refused() {
        for ok in ["s3://b/models/m", "mlflow-artifacts:/1/abc/artifacts/model", "runs:/abc/model", "models:/m-1"] {
            assert!(check_no_relative_paths(ok).is_ok(), "{ok}");
        }
        for bad in [
            "s3://b/models/../../etc",
            "mlflow-artifacts://host:5000/..%2f..%2fetc",
            "http://h/api/2.0/mlflow-artifacts/artifacts%00",
            "s3://bucket",
            "s3://b/./x",
            "hdfs:relative/path",
        ] {
            assert!(check_no_relative_paths(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prompt_sources() {
        assert!(check_prompt_source("prompt-template").is_ok());
        assert!(check_prompt_source("/etc/passwd").is_err());
        assert!(check_prompt_source("file:///etc/passwd").is_err());
    }
}
