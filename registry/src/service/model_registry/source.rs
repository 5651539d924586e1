//! Where a new model version's files come from: MLflow's checks on the `source` a client
//! gives, and the storage location and run the source resolves to.

use crate::artifacts::path::percent_decode;
use crate::service::{ServiceError, ServiceResult};
use crate::store::{StoreError, StoreResult, TrackingStore};
use std::path::{Component, Path, PathBuf};

/// What a logged model (MLflow 3) contributes to a version registered from it.
#[derive(Debug, Clone)]
pub struct LoggedModelSource {
    /// Where the logged model's artifacts are: the version's storage location.
    pub artifact_location: String,
    /// The run that logged it: the version's run when the request names none.
    pub source_run_id: Option<String>,
}

/// The artifact location and source run of logged model `model_id`.
pub async fn resolve_logged_model_source(store: &dyn TrackingStore, model_id: &str) -> StoreResult<LoggedModelSource> {
    let model = store.get_logged_model(model_id).await?;
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

/// `unquote_plus` applied until the text stops changing, as MLflow does to catch `%252e`; bad
/// UTF-8 is replaced. Each round that changes the text shortens it, so this ends.
fn unquote_fully(s: &str) -> String {
    let mut cur = s.to_owned();
    loop {
        let next = String::from_utf8_lossy(&percent_decode(&cur, true)).into_owned();
        if next == cur {
            return cur;
        }
        cur = next;
    }
}

fn invalid_source(source: &str) -> ServiceError {
    ServiceError::Invalid(format!(
        "Invalid model version source: '{source}'. If supplying a source as an http, https, local file path, ftp, \
         objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references \
         present. Please provide an absolute path."
    ))
}

/// MLflow's guard against sources that climb out of their root (`..`, encoded or not, NUL
/// bytes, relative paths): the source's path must already be absolute and normal.
fn check_no_relative_paths(source: &str) -> ServiceResult<()> {
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
    let raw = String::from_utf8_lossy(&percent_decode(path, false)).into_owned();
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

/// A local source is only accepted inside the local artifact directory of the run it comes
/// from; other sources must not contain relative path references.
pub async fn check_run_source(store: &dyn TrackingStore, source: &str, run_id: &str) -> ServiceResult<()> {
    if !is_local(source) {
        return check_no_relative_paths(source);
    }
    let mut shown = source.to_owned();
    if !run_id.is_empty() {
        let run = store.get_run(run_id).await?;
        let resolved = lexical_absolute(source);
        shown = resolved.display().to_string();
        if is_local(&run.info.artifact_uri) && resolved.starts_with(lexical_absolute(&run.info.artifact_uri)) {
            return Ok(());
        }
    }
    Err(ServiceError::Invalid(format!(
        "Invalid model version source: '{shown}'. To use a local path as a model version source, the run_id request \
         parameter has to be specified and the local path has to be contained within the artifact directory of the \
         run specified by the run_id."
    )))
}

/// The same rule for a version registered from a logged model.
pub async fn check_model_source(store: &dyn TrackingStore, source: &str, model_id: &str) -> ServiceResult<()> {
    if !is_local(source) {
        return check_no_relative_paths(source);
    }
    let model = resolve_logged_model_source(store, model_id).await?;
    let resolved = lexical_absolute(source);
    if is_local(&model.artifact_location) && resolved.starts_with(lexical_absolute(&model.artifact_location)) {
        return Ok(());
    }
    Err(ServiceError::Invalid(format!(
        "Invalid model version source: '{}'. To use a local path as a model version source, the model_id request \
         parameter has to be specified and the local path has to be contained within the artifact directory of the \
         run specified by the model_id.",
        resolved.display()
    )))
}

/// Prompts may not point at the server's file system.
pub fn check_prompt_source(source: &str) -> ServiceResult<()> {
    let s = scheme(source);
    if s == "file" || (s.is_empty() && source.starts_with('/')) {
        return Err(ServiceError::Invalid(format!(
            "Invalid prompt source: '{source}'. Local source paths are not allowed for prompts."
        )));
    }
    if !s.is_empty() {
        check_no_relative_paths(source)?;
    }
    Ok(())
}

fn unresolvable(source: &str, err: impl std::fmt::Display) -> ServiceError {
    ServiceError::Invalid(format!(
        "Unable to fetch model from model URI source artifact location '{source}'.Error: {err}"
    ))
}

/// Where the artifacts of a source are, and the run it names: `models:/m-…` is a logged
/// model, `models:/<name>/<version>` another version, `runs:/<run>/<path>` a run's artifacts.
pub async fn resolve_storage(
    store: &dyn TrackingStore,
    source: &str,
    run_id: &mut String,
) -> ServiceResult<Option<String>> {
    match scheme(source).as_str() {
        "models" => {
            let path = uri_path(source);
            let parts: Vec<&str> = path.strip_prefix('/').unwrap_or("").split('/').collect();
            match parts.as_slice() {
                [id] if !id.trim().is_empty() && !id.contains('@') => {
                    let model = resolve_logged_model_source(store, id).await.map_err(|e| unresolvable(source, e))?;
                    if run_id.is_empty() {
                        *run_id = model.source_run_id.unwrap_or_default();
                    }
                    Ok(Some(model.artifact_location))
                }
                [name, version] if !version.is_empty() && version.chars().all(|c| c.is_ascii_digit()) => {
                    let uri = store
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
            match store.get_run(run).await {
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

    #[test]
    fn sources_are_unquoted_until_stable_with_plus_as_space() {
        assert_eq!(unquote_fully("a%252e%252e+b"), "a.. b");
        assert_eq!(unquote_fully("%ff"), "\u{FFFD}");
        assert!(check_no_relative_paths("s3://b/x/%252e%252e/y").is_err());
        assert!(check_no_relative_paths("s3://b/x/a+b").is_ok());
    }

    #[test]
    fn local_paths_are_made_absolute_lexically() {
        assert_eq!(lexical_absolute("/a/b/../c"), PathBuf::from("/a/c"));
        assert_eq!(lexical_absolute("file:///a/%20b/./c"), PathBuf::from("/a/ b/c"));
        assert!(lexical_absolute("/r/artifacts/model").starts_with(lexical_absolute("/r/artifacts")));
        assert!(!lexical_absolute("/r/artifacts/../other").starts_with(lexical_absolute("/r/artifacts")));
    }

    #[test]
    fn invalid_sources_carry_mlflows_message() {
        let e = check_no_relative_paths("s3://b/../x").unwrap_err().to_string();
        assert!(e.starts_with("Invalid model version source: 's3://b/../x'. If supplying a source"), "{e}");
        let e = check_prompt_source("/etc/passwd").unwrap_err().to_string();
        assert_eq!(e, "Invalid prompt source: '/etc/passwd'. Local source paths are not allowed for prompts.");
    }
}
