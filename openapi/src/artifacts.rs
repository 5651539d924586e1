//! Artifacts: listings of the tracking API (`service.proto`) and the proxy's messages
//! (`mlflow_artifacts.proto`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// One entry of an artifact listing. Directories carry no size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FileInfo {
    pub path: String,
    pub is_dir: bool,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::json::deserialize_opt_int64")]
    pub file_size: Option<i64>,
}

/// `GET /api/2.0/mlflow/artifacts/list`: a run's artifacts under `path`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListArtifacts {
    #[serde(default)]
    pub run_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
}

/// `ListLoggedModelArtifacts`: a directory of a logged model's artifacts (root when absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListLoggedModelArtifacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_directory_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
}

/// The answer of `artifacts/list`; `files` is omitted when empty, as MLflow does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListArtifactsResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// `GET /api/2.0/mlflow-artifacts/artifacts?path=`: one directory of the artifact store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListProxiedArtifacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// The answer of the proxy's listing: basenames only; `{}` for an empty or missing directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListProxiedArtifactsResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileInfo>,
}

/// `POST /api/2.0/mlflow-artifacts/mpu/create/<path>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreateMultipartUpload {
    /// The client's local file path; its basename names the object under `<path>`.
    #[serde(default)]
    pub path: String,
    #[serde(default, deserialize_with = "crate::json::deserialize_opt_int64")]
    pub num_parts: Option<i64>,
}

/// Where and how to upload one part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MultipartUploadCredential {
    pub url: String,
    pub part_number: i64,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreateMultipartUploadResponse {
    pub upload_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<MultipartUploadCredential>,
}

/// An uploaded part, as the client reports it when completing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MultipartUploadPart {
    #[serde(deserialize_with = "crate::json::deserialize_int64")]
    pub part_number: i64,
    #[serde(default)]
    pub etag: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// `POST /api/2.0/mlflow-artifacts/mpu/complete/<path>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CompleteMultipartUpload {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub upload_id: String,
    #[serde(default)]
    pub parts: Vec<MultipartUploadPart>,
}

/// `POST /api/2.0/mlflow-artifacts/mpu/abort/<path>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AbortMultipartUpload {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub upload_id: String,
}

/// `GET /api/2.0/mlflow-artifacts/presigned/<path>`: a URL to fetch the object from the store itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PresignedDownloadUrl {
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_size: Option<i64>,
}
