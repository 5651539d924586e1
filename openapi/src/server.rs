//! Server-level documents: `server-info`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `GET /api/3.0/mlflow/server-info`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServerInfo {
    pub store_type: String,
    pub workspaces_enabled: bool,
    pub trace_archival_enabled: bool,
    pub multipart_uploads_enabled: bool,
    pub multipart_downloads_enabled: bool,
    pub artifact_serving_enabled: bool,
    pub artifacts_presigned_only: bool,
}
