//! Server endpoints: health, version and server-info.

use super::AppState;
use axum::Json;
use axum::extract::State;
use pitwall_openapi::ServerInfo;

/// The MLflow version whose API this server speaks; clients compare against it.
pub const MLFLOW_API_VERSION: &str = "3.18.0";

/// `GET /health`.
pub async fn health() -> &'static str {
    "OK"
}

/// `GET /version`.
pub async fn version() -> &'static str {
    MLFLOW_API_VERSION
}

/// `GET /api/3.0/mlflow/server-info`.
pub async fn server_info(State(s): State<AppState>) -> Json<ServerInfo> {
    Json(ServerInfo {
        store_type: s.store.store_type().to_owned(),
        workspaces_enabled: false,
        trace_archival_enabled: false,
        multipart_uploads_enabled: s.settings.multipart_uploads,
        multipart_downloads_enabled: false,
        artifact_serving_enabled: s.settings.serve_artifacts,
        artifacts_presigned_only: false,
    })
}
