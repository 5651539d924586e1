//! Artifacts: the proxy under `/api/2.0/mlflow-artifacts` (`mlflow_artifacts.proto`), the
//! tracking API's `artifacts/list` and the UI's `/get-artifact`.
//!
//! Every path from a request goes through [`ArtifactPath::parse`] before the store sees it.
//! Downloads and uploads are streamed; see [`crate::artifacts`].

use super::request::{Fields, Kind, RawRequest, missing_value, opt, parse, req};
use super::{ApiResult, AppState, ok};
use crate::artifacts::{ArtifactPath, MultipartPart, mime};
use crate::error::ApiError;
use crate::service::artifacts::ArtifactFile;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use pitwall_openapi::{
    AbortMultipartUpload, CompleteMultipartUpload, CreateMultipartUpload, CreateMultipartUploadResponse, Empty,
    ListArtifacts, ListArtifactsResponse, ListLoggedModelArtifacts, ListProxiedArtifactsResponse,
    MultipartUploadCredential, PresignedDownloadUrl,
};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long a presigned download URL stays valid (MLflow's default).
const PRESIGNED_TTL: Duration = Duration::from_secs(300);

/// A download response for a file: streamed, with MLflow's attachment headers.
fn file_response(file: ArtifactFile) -> Response {
    let name = file.path.file_name().unwrap_or("artifact");
    let disposition = HeaderValue::from_bytes(format!("attachment; filename={name}").as_bytes())
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    let mut response = Body::from_stream(file.download.stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime::guess_mime_type(name)));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(file.download.size));
    headers.insert(header::CONTENT_DISPOSITION, disposition);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
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
        Ok(file_response(s.services().artifacts().download(&path).await?))
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
        s.services().artifacts().upload(&path, body.into_data_stream()).await?;
        // MLflow answers an upload with an empty body.
        Ok(StatusCode::OK.into_response())
    })
    .await
}

/// `listArtifacts`: GET `/mlflow-artifacts/artifacts?path=`, one directory, basenames only.
pub async fn list(State(s): State<AppState>, uri: Uri) -> Response {
    proxied(&s, &uri, async {
        let fields = Fields::from_query(uri.query().unwrap_or(""));
        let files = s.services().artifacts().list(fields.str("path")).await?;
        Ok(axum::Json(ListProxiedArtifactsResponse { files }).into_response())
    })
    .await
}

/// `deleteArtifact`: DELETE `/mlflow-artifacts/artifacts/<path>`, a file or a whole directory.
pub async fn delete(State(s): State<AppState>, uri: Uri, p: Result<Path<String>, PathRejection>) -> Response {
    proxied(&s, &uri, async {
        let path = url_path(p)?;
        s.services().artifacts().delete(&path).await?;
        Ok(axum::Json(Empty {}).into_response())
    })
    .await
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
        let num_parts = m.num_parts.unwrap_or(0);
        let (target, upload_id) = s.services().artifacts().create_multipart(&dir, &m.path, num_parts).await?;
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
        let parts = m.parts.into_iter().map(|p| MultipartPart { part_number: p.part_number, etag: p.etag }).collect();
        s.services().artifacts().complete_multipart(&dir, &m.path, &m.upload_id, parts).await?;
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
        s.services().artifacts().abort_multipart(&dir, &m.path, &m.upload_id).await?;
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
        let artifacts = s.services().artifacts();
        // Refused before the body is read.
        artifacts.require_multipart()?;
        let limit = crate::artifacts::MAX_PROXIED_PART_SIZE;
        let data = axum::body::to_bytes(body, limit).await.map_err(|e| {
            ApiError::bad_request(format!("Could not read the part (at most {limit} bytes per part): {e}"))
        })?;
        let etag = artifacts.upload_part(&target, upload_id, part_number, data).await?;
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
        let signed = s.services().artifacts().presigned(&path, PRESIGNED_TTL).await?;
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
    let listing = s.services().artifacts().list_run(&m.run_id, m.path.as_deref()).await?;
    ok(ListArtifactsResponse { root_uri: Some(listing.root_uri), files: listing.files, next_page_token: None })
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
        let path = fields.str("path").ok_or_else(|| missing_value("path"))?;
        Ok::<_, ApiError>(file_response(s.services().artifacts().run_file(run_id, path).await?))
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
        let path = required(&fields, "path")?;
        Ok::<_, ApiError>(file_response(s.services().artifacts().model_version_file(name, version, path).await?))
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
    let listing = s.services().artifacts().list_logged_model(&model_id, m.artifact_directory_path.as_deref()).await?;
    ok(ListArtifactsResponse { root_uri: Some(listing.root_uri), files: listing.files, next_page_token: None })
}

/// GET `/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files?artifact_file_path=`: a
/// logged model's file, for the web UI.
pub async fn get_logged_model_artifact(State(s): State<AppState>, Path(model_id): Path<String>, uri: Uri) -> Response {
    let result = async {
        let fields = Fields::from_query(uri.query().unwrap_or(""));
        let path = required(&fields, "artifact_file_path")?;
        Ok::<_, ApiError>(file_response(s.services().artifacts().logged_model_file(&model_id, path).await?))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use crate::artifacts::{ArtifactPath, ArtifactRepo};
    use crate::error::{ApiError, ErrorCode};
    use crate::service::artifacts::{multipart_target, proxied_root};

    /// The service's refusals keep their wire codes.
    #[test]
    fn artifact_root_errors_keep_their_codes() {
        let dir = tempfile::tempdir().unwrap();
        let repo = ArtifactRepo::local(dir.path()).unwrap();
        let code = |uri: &str| ApiError::from(proxied_root(&repo, uri).unwrap_err()).code;
        for bad in ["mlflow-artifacts:/../../etc", "mlflow-artifacts:/1/%2e%2e/%2e%2e/x", "mlflow-artifacts:/C:/x"] {
            assert_eq!(code(bad), ErrorCode::InvalidParameterValue, "{bad}");
        }
        assert_eq!(code("s3://elsewhere/x"), ErrorCode::NotImplemented);
        assert_eq!(code("http://h/other/path"), ErrorCode::NotImplemented);
        let dir = ArtifactPath::parse("1/r/artifacts").unwrap();
        assert_eq!(ApiError::from(multipart_target(&dir, "/tmp/").unwrap_err()).code, ErrorCode::InvalidParameterValue);
    }
}
