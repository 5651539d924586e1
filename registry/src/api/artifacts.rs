//! Artifacts: the proxy under `/api/2.0/mlflow-artifacts` (`mlflow_artifacts.proto`), the
//! tracking API's `artifacts/list` and the UI's `/get-artifact`.
//!
//! Every path from a request goes through [`ArtifactPath::parse`] before the store sees it.
//! Downloads and uploads are streamed; see [`crate::artifacts`].

use super::request::{Fields, Kind, RawRequest, missing_value, opt, parse, req};
use super::{ApiResult, AppState, ok};
use crate::artifacts::{ArtifactPath, ArtifactRepo, MultipartPart, mime};
use crate::error::{ApiError, ErrorCode};
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use pitwall_openapi::{
    AbortMultipartUpload, CompleteMultipartUpload, CreateMultipartUpload, CreateMultipartUploadResponse, Empty,
    FileInfo, ListArtifacts, ListArtifactsResponse, ListLoggedModelArtifacts, ListProxiedArtifactsResponse,
    MultipartUploadCredential, PresignedDownloadUrl,
};
use std::collections::BTreeMap;
use std::time::Duration;

/// The proxy's REST prefix, as the client derives it from `mlflow-artifacts:` URIs.
pub const ARTIFACTS_API_PREFIX: &str = "/api/2.0/mlflow-artifacts";
/// How long a presigned download URL stays valid (MLflow's default).
const PRESIGNED_TTL: Duration = Duration::from_secs(300);
/// S3 allows at most this many parts in one upload.
const MAX_PARTS: i64 = 10_000;

// ---- helpers the other areas call (model versions, logged models) ----------------------------

/// The store path of an artifact root URI: `mlflow-artifacts:/1/abc/artifacts`,
/// `mlflow-artifacts://host/1/abc/artifacts`, an `http(s)://…/api/2.0/mlflow-artifacts/artifacts/…`
/// URL, or a location inside this server's destination.
pub fn proxied_root(repo: &ArtifactRepo, artifact_uri: &str) -> Result<ArtifactPath, ApiError> {
    let rel = if let Some(rest) = artifact_uri.strip_prefix("mlflow-artifacts:") {
        // `mlflow-artifacts://netloc/path`: the netloc names a server, not a folder.
        match rest.strip_prefix("//") {
            Some(after) => after.split_once('/').map_or("", |(_, p)| p),
            None => rest,
        }
        .trim_start_matches('/')
    } else if artifact_uri.starts_with("http://") || artifact_uri.starts_with("https://") {
        let anchor = format!("{ARTIFACTS_API_PREFIX}/artifacts/");
        match artifact_uri.split_once(anchor.as_str()) {
            Some((_, p)) => p,
            None => return Err(not_served(artifact_uri)),
        }
    } else {
        match artifact_uri.strip_prefix(repo.destination()).and_then(|p| p.strip_prefix('/')) {
            Some(p) => p,
            None => return Err(not_served(artifact_uri)),
        }
    };
    Ok(ArtifactPath::parse(rel)?)
}

fn not_served(uri: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotImplemented,
        format!("Artifacts at '{uri}' are not proxied by this server; read them from their location directly."),
    )
}

/// The entries of `root/rel`, their paths relative to `root` (a run's or a logged model's
/// artifact root), as the tracking API lists them.
pub async fn list_relative(
    repo: &ArtifactRepo,
    root: &ArtifactPath,
    rel: &ArtifactPath,
) -> Result<Vec<FileInfo>, ApiError> {
    let entries = repo.list(&root.join(rel)).await?;
    Ok(entries
        .into_iter()
        .map(|e| FileInfo {
            path: if rel.is_root() { e.name } else { format!("{rel}/{}", e.name) },
            is_dir: e.is_dir,
            file_size: e.size.map(|s| s as i64),
        })
        .collect())
}

/// A download response for the file at `path`: streamed, with MLflow's attachment headers.
pub async fn serve_artifact_file(repo: &ArtifactRepo, path: &ArtifactPath) -> Result<Response, ApiError> {
    let download = repo.download(path).await?;
    let name = path.file_name().unwrap_or("artifact");
    let disposition = HeaderValue::from_bytes(format!("attachment; filename={name}").as_bytes())
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    let mut response = Body::from_stream(download.stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime::guess_mime_type(name)));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(download.size));
    headers.insert(header::CONTENT_DISPOSITION, disposition);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response)
}

// ---- the proxy: /api/2.0/mlflow-artifacts ---------------------------------------------------

/// The refusal MLflow answers the proxy's endpoints with when artifact serving is off: a
/// plain 503.
fn serving_disabled(s: &AppState, uri: &Uri) -> Option<Response> {
    if s.settings.serve_artifacts {
        return None;
    }
    let message = format!(
        "Endpoint: {} disabled due to the mlflow server running with `--no-serve-artifacts`. To enable artifacts \
         server functionality, run `mlflow server` with `--serve-artifacts`",
        uri.path()
    );
    Some((StatusCode::SERVICE_UNAVAILABLE, message).into_response())
}

/// The `<path>` of a proxy URL, checked.
fn url_path(p: Result<Path<String>, PathRejection>) -> Result<ArtifactPath, ApiError> {
    match p {
        Ok(Path(raw)) => Ok(ArtifactPath::parse(&raw)?),
        Err(_) => Err(ApiError::invalid(crate::artifacts::INVALID_PATH)),
    }
}

/// Runs a proxy handler: serving check first, then the handler's result as a response.
async fn proxied<F>(s: &AppState, uri: &Uri, f: F) -> Response
where
    F: Future<Output = Result<Response, ApiError>>,
{
    if let Some(refusal) = serving_disabled(s, uri) {
        return refusal;
    }
    f.await.unwrap_or_else(IntoResponse::into_response)
}

/// `downloadArtifact`: GET `/mlflow-artifacts/artifacts/<path>`.
pub async fn download(State(s): State<AppState>, uri: Uri, p: Result<Path<String>, PathRejection>) -> Response {
    proxied(&s, &uri, async {
        let path = url_path(p)?;
        serve_artifact_file(&s.artifacts, &path).await
    })
    .await
}

/// `uploadArtifact`: PUT `/mlflow-artifacts/artifacts/<path>`, the body streamed to the store.
pub async fn upload(
    State(s): State<AppState>,
    uri: Uri,
    p: Result<Path<String>, PathRejection>,
    body: Body,
) -> Response {
    proxied(&s, &uri, async {
        let path = url_path(p)?;
        s.artifacts.upload(&path, body.into_data_stream()).await?;
        // MLflow answers an upload with an empty body.
        Ok(StatusCode::OK.into_response())
    })
    .await
}

/// `listArtifacts`: GET `/mlflow-artifacts/artifacts?path=`, one directory, basenames only.
pub async fn list(State(s): State<AppState>, uri: Uri) -> Response {
    proxied(&s, &uri, async {
        let fields = Fields::from_query(uri.query().unwrap_or(""));
        let dir = ArtifactPath::parse_opt(fields.str("path"))?;
        let files = s
            .artifacts
            .list(&dir)
            .await?
            .into_iter()
            .map(|e| FileInfo { path: e.name, is_dir: e.is_dir, file_size: e.size.map(|n| n as i64) })
            .collect();
        Ok(axum::Json(ListProxiedArtifactsResponse { files }).into_response())
    })
    .await
}

/// `deleteArtifact`: DELETE `/mlflow-artifacts/artifacts/<path>`, a file or a whole directory.
pub async fn delete(State(s): State<AppState>, uri: Uri, p: Result<Path<String>, PathRejection>) -> Response {
    proxied(&s, &uri, async {
        let path = url_path(p)?;
        s.artifacts.delete(&path).await?;
        Ok(axum::Json(Empty {}).into_response())
    })
    .await
}

/// The object a multipart upload writes: the URL's directory and the basename of the
/// client's local file name (which may be a Windows path).
fn multipart_target(dir: &ArtifactPath, local_file: &str) -> Result<ArtifactPath, ApiError> {
    let base = local_file.rsplit(['/', '\\']).next().unwrap_or("");
    if base.is_empty() {
        return Err(ApiError::invalid(crate::artifacts::INVALID_PATH));
    }
    Ok(dir.child(base)?)
}

/// The URL the client sends parts to: this server, as the client reached it.
fn part_url(headers: &HeaderMap, target: &ArtifactPath, upload_id: &str, part: i64) -> Result<String, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let scheme = header("x-forwarded-proto").filter(|p| *p == "https" || *p == "http").unwrap_or("http");
    let host = header("x-forwarded-host")
        .or_else(|| header("host"))
        .ok_or_else(|| ApiError::bad_request("Bad Request. The Host header is missing."))?;
    let mut url = url::Url::parse(&format!("{scheme}://{host}/"))
        .map_err(|_| ApiError::bad_request("Bad Request. The Host header is not a valid host."))?;
    {
        let mut segments =
            url.path_segments_mut().map_err(|_| ApiError::bad_request("Bad Request. Invalid Host header."))?;
        segments.pop_if_empty().extend(["api", "2.0", "mlflow-artifacts", "mpu", "upload-part"]);
        segments.extend(target.segments());
    }
    url.query_pairs_mut().append_pair("upload_id", upload_id).append_pair("part_number", &part.to_string());
    Ok(url.into())
}

/// `createMultipartUpload`: POST `/mlflow-artifacts/mpu/create/<path>`. Parts go to
/// [`upload_part`] on this server, which streams them into S3's multipart upload.
pub async fn mpu_create(
    State(s): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    p: Result<Path<String>, PathRejection>,
    raw: RawRequest,
) -> Response {
    proxied(&s, &uri, async {
        let dir = url_path(p)?;
        let m: CreateMultipartUpload = parse(raw, &[req("path", Kind::Str), opt("num_parts", Kind::Int)])?.msg;
        if !s.artifacts.supports_multipart() {
            return Err(crate::artifacts::ArtifactError::MultipartUploadUnsupported.into());
        }
        let num_parts = m.num_parts.unwrap_or(0);
        if !(0..=MAX_PARTS).contains(&num_parts) {
            return Err(ApiError::invalid(format!("num_parts must be between 0 and {MAX_PARTS}.")));
        }
        let target = multipart_target(&dir, &m.path)?;
        let upload_id = s.artifacts.create_multipart(&target).await?;
        let credentials = (1..=num_parts)
            .map(|n| {
                Ok(MultipartUploadCredential {
                    url: part_url(&headers, &target, &upload_id, n)?,
                    part_number: n,
                    headers: BTreeMap::new(),
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(axum::Json(CreateMultipartUploadResponse { upload_id, credentials }).into_response())
    })
    .await
}

/// `completeMultipartUpload`: POST `/mlflow-artifacts/mpu/complete/<path>`.
pub async fn mpu_complete(
    State(s): State<AppState>,
    uri: Uri,
    p: Result<Path<String>, PathRejection>,
    raw: RawRequest,
) -> Response {
    proxied(&s, &uri, async {
        let dir = url_path(p)?;
        let schema = [req("path", Kind::Str), opt("upload_id", Kind::Str), req("parts", Kind::Array)];
        let m: CompleteMultipartUpload = parse(raw, &schema)?.msg;
        if !s.artifacts.supports_multipart() {
            return Err(crate::artifacts::ArtifactError::MultipartUploadUnsupported.into());
        }
        let target = multipart_target(&dir, &m.path)?;
        let parts = m.parts.into_iter().map(|p| MultipartPart { part_number: p.part_number, etag: p.etag }).collect();
        s.artifacts.complete_multipart(&target, &m.upload_id, parts).await?;
        Ok(axum::Json(Empty {}).into_response())
    })
    .await
}

/// `abortMultipartUpload`: POST `/mlflow-artifacts/mpu/abort/<path>`.
pub async fn mpu_abort(
    State(s): State<AppState>,
    uri: Uri,
    p: Result<Path<String>, PathRejection>,
    raw: RawRequest,
) -> Response {
    proxied(&s, &uri, async {
        let dir = url_path(p)?;
        let m: AbortMultipartUpload = parse(raw, &[req("path", Kind::Str), opt("upload_id", Kind::Str)])?.msg;
        if !s.artifacts.supports_multipart() {
            return Err(crate::artifacts::ArtifactError::MultipartUploadUnsupported.into());
        }
        let target = multipart_target(&dir, &m.path)?;
        s.artifacts.abort_multipart(&target, &m.upload_id).await?;
        Ok(axum::Json(Empty {}).into_response())
    })
    .await
}

/// PUT `/mlflow-artifacts/mpu/upload-part/<path>?upload_id=&part_number=`: one part of a
/// multipart upload, the URL `mpu/create` hands out. Answers with the part's `ETag` header,
/// which the client reports back on completion.
pub async fn upload_part(
    State(s): State<AppState>,
    uri: Uri,
    p: Result<Path<String>, PathRejection>,
    body: Body,
) -> Response {
    proxied(&s, &uri, async {
        let target = url_path(p)?;
        let fields = Fields::from_query(uri.query().unwrap_or(""));
        let upload_id = fields.str("upload_id").filter(|v| !v.is_empty()).ok_or_else(|| missing_value("upload_id"))?;
        let part_number = fields
            .str("part_number")
            .ok_or_else(|| missing_value("part_number"))?
            .parse::<i64>()
            .map_err(|_| ApiError::invalid("part_number must be an integer."))?;
        if !s.artifacts.supports_multipart() {
            return Err(crate::artifacts::ArtifactError::MultipartUploadUnsupported.into());
        }
        let limit = crate::artifacts::MAX_PROXIED_PART_SIZE;
        let data = axum::body::to_bytes(body, limit).await.map_err(|e| {
            ApiError::bad_request(format!("Could not read the part (at most {limit} bytes per part): {e}"))
        })?;
        let etag = s.artifacts.upload_part(&target, upload_id, part_number, data).await?;
        let mut response = axum::Json(Empty {}).into_response();
        if let Ok(v) = HeaderValue::from_str(&etag) {
            response.headers_mut().insert(header::ETAG, v);
        }
        Ok(response)
    })
    .await
}

/// `getPresignedDownloadUrl`: GET `/mlflow-artifacts/presigned/<path>`; S3 only (501 on a
/// local destination, as MLflow).
pub async fn presigned(State(s): State<AppState>, uri: Uri, p: Result<Path<String>, PathRejection>) -> Response {
    proxied(&s, &uri, async {
        let path = url_path(p)?;
        let signed = s.artifacts.presigned_download(&path, PRESIGNED_TTL).await?;
        Ok(axum::Json(PresignedDownloadUrl {
            url: signed.url,
            headers: BTreeMap::new(),
            file_size: Some(signed.size as i64),
        })
        .into_response())
    })
    .await
}

// ---- tracking API and UI helpers ------------------------------------------------------------

/// `ListArtifacts`: GET `/mlflow/artifacts/list?run_id=&path=&page_token=`.
pub async fn list_run_artifacts(State(s): State<AppState>, raw: RawRequest) -> ApiResult<ListArtifactsResponse> {
    let schema = [req("run_id", Kind::Str), opt("path", Kind::Str), opt("page_token", Kind::Str)];
    let m: ListArtifacts = parse(raw, &schema)?.msg;
    let rel = ArtifactPath::parse_opt(m.path.as_deref())?;
    let run = s.store.get_run(&m.run_id).await?;
    let root_uri = run.info.artifact_uri;
    let root = proxied_root(&s.artifacts, &root_uri)?;
    let files = list_relative(&s.artifacts, &root, &rel).await?;
    ok(ListArtifactsResponse { root_uri: Some(root_uri), files, next_page_token: None })
}

/// GET `/get-artifact?run_id=&path=`: a run's artifact file, for the web UI.
pub async fn get_artifact(State(s): State<AppState>, uri: Uri) -> Response {
    let result = async {
        let fields = Fields::from_query(uri.query().unwrap_or(""));
        let run_id = fields
            .str("run_id")
            .or_else(|| fields.str("run_uuid"))
            .filter(|v| !v.is_empty())
            .ok_or_else(|| missing_value("run_id"))?;
        let path = ArtifactPath::parse(fields.str("path").ok_or_else(|| missing_value("path"))?)?;
        let run = s.store.get_run(run_id).await?;
        let root = proxied_root(&s.artifacts, &run.info.artifact_uri)?;
        serve_artifact_file(&s.artifacts, &root.join(&path)).await
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// The required, non-empty query parameter `name`.
fn required<'a>(fields: &'a Fields, name: &str) -> Result<&'a str, ApiError> {
    fields.str(name).filter(|v| !v.is_empty()).ok_or_else(|| missing_value(name))
}

/// GET `/model-versions/get-artifact?name=&version=&path=`: a file of a registered model
/// version, for the web UI.
pub async fn get_model_version_artifact(State(s): State<AppState>, uri: Uri) -> Response {
    let result = async {
        let fields = Fields::from_query(uri.query().unwrap_or(""));
        let name = required(&fields, "name")?;
        let version = required(&fields, "version")?;
        let path = ArtifactPath::parse(required(&fields, "path")?)?;
        let location = s.store.get_model_version_download_uri(name, version).await?;
        let root = proxied_root(&s.artifacts, &location)?;
        serve_artifact_file(&s.artifacts, &root.join(&path)).await
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `ListLoggedModelArtifacts`: GET `/mlflow/logged-models/{model_id}/artifacts/directories`
/// with an optional `artifact_directory_path`.
pub async fn list_logged_model_artifacts(
    State(s): State<AppState>,
    Path(model_id): Path<String>,
    raw: RawRequest,
) -> ApiResult<ListArtifactsResponse> {
    let schema = [opt("artifact_directory_path", Kind::Str), opt("page_token", Kind::Str)];
    let m: ListLoggedModelArtifacts = parse(raw, &schema)?.msg;
    let rel = ArtifactPath::parse_opt(m.artifact_directory_path.as_deref())?;
    let model = s.store.get_logged_model(&model_id).await?;
    let root_uri = model.info.artifact_uri;
    let root = proxied_root(&s.artifacts, &root_uri)?;
    let files = list_relative(&s.artifacts, &root, &rel).await?;
    ok(ListArtifactsResponse { root_uri: Some(root_uri), files, next_page_token: None })
}

/// GET `/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files?artifact_file_path=`: a
/// logged model's file, for the web UI.
pub async fn get_logged_model_artifact(State(s): State<AppState>, Path(model_id): Path<String>, uri: Uri) -> Response {
    let result = async {
        let fields = Fields::from_query(uri.query().unwrap_or(""));
        let path = ArtifactPath::parse(required(&fields, "artifact_file_path")?)?;
        let model = s.store.get_logged_model(&model_id).await?;
        let root = proxied_root(&s.artifacts, &model.info.artifact_uri)?;
        serve_artifact_file(&s.artifacts, &root.join(&path)).await
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_uris_map_to_store_paths() {
        let dir = tempfile::tempdir().unwrap();
        let repo = ArtifactRepo::local(dir.path()).unwrap();
        let root = |uri: &str| proxied_root(&repo, uri).map(|p| p.to_string());
        assert_eq!(root("mlflow-artifacts:/1/abc/artifacts").unwrap(), "1/abc/artifacts");
        assert_eq!(root("mlflow-artifacts://host:5000/1/abc/artifacts").unwrap(), "1/abc/artifacts");
        assert_eq!(root("mlflow-artifacts:").unwrap(), "");
        assert_eq!(root("http://h:5000/api/2.0/mlflow-artifacts/artifacts/2/m/artifacts").unwrap(), "2/m/artifacts");
        assert_eq!(root(&format!("{}/3/r/artifacts", repo.destination())).unwrap(), "3/r/artifacts");
        for bad in ["mlflow-artifacts:/../../etc", "mlflow-artifacts:/1/%2e%2e/%2e%2e/x", "mlflow-artifacts:/C:/x"] {
            assert_eq!(root(bad).unwrap_err().code, ErrorCode::InvalidParameterValue, "{bad}");
        }
        assert_eq!(root("s3://elsewhere/x").unwrap_err().code, ErrorCode::NotImplemented);
        assert_eq!(root("http://h/other/path").unwrap_err().code, ErrorCode::NotImplemented);
    }

    #[test]
    fn multipart_objects_take_the_basename_of_the_local_file() {
        let dir = ArtifactPath::parse("1/r/artifacts").unwrap();
        assert_eq!(multipart_target(&dir, "/home/u/big.bin").unwrap().to_string(), "1/r/artifacts/big.bin");
        assert_eq!(multipart_target(&dir, "C:\\data\\big.bin").unwrap().to_string(), "1/r/artifacts/big.bin");
        assert!(multipart_target(&dir, "/tmp/").is_err());
        assert!(multipart_target(&dir, "/tmp/..").is_err());
    }
}
