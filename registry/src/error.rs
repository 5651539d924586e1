//! The wire error: MLflow's `{error_code, message}` with its HTTP status, and the one
//! `IntoResponse` for failures.

use axum::response::{IntoResponse, Response};
use pitwall_openapi::ErrorResponse;

pub use pitwall_openapi::ErrorCode;

/// A failure answered to the client.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InvalidParameterValue, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::ResourceDoesNotExist, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::BadRequest, message)
    }

    /// An internal failure: logged with an id, answered without internals.
    pub fn internal(err: &dyn std::fmt::Display) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        tracing::error!(error_id = %id, error = %err, "internal error");
        ApiError::new(ErrorCode::InternalError, format!("Internal error (id {id}); see the server log."))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        (status, axum::Json(ErrorResponse::tracking(self.code, self.message))).into_response()
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::NotFound(m) => ApiError::not_found(m),
            StoreError::AlreadyExists(m) => ApiError::new(ErrorCode::ResourceAlreadyExists, m),
            StoreError::Invalid(m) => ApiError::invalid(m),
            StoreError::InvalidState(m) => ApiError::new(ErrorCode::InvalidState, m),
            StoreError::Conflict(m) => ApiError::new(ErrorCode::ResourceConflict, m),
            StoreError::BadRequest(m) => ApiError::bad_request(m),
            e @ StoreError::ParamsChanged { .. } => ApiError::invalid(e.to_string()),
            StoreError::Backend(e) => ApiError::internal(&e),
        }
    }
}

impl From<crate::search::SearchError> for ApiError {
    fn from(e: crate::search::SearchError) -> Self {
        ApiError::invalid(e.to_string())
    }
}

impl From<crate::artifacts::ArtifactError> for ApiError {
    fn from(e: crate::artifacts::ArtifactError) -> Self {
        use crate::artifacts::ArtifactError;
        match e {
            ArtifactError::InvalidPath { .. } => ApiError::invalid(crate::artifacts::INVALID_PATH),
            ArtifactError::NotFound(m) => ApiError::not_found(m),
            ArtifactError::Invalid(m) => ApiError::invalid(m),
            e @ (ArtifactError::MultipartUploadUnsupported | ArtifactError::MultipartDownloadUnsupported) => {
                ApiError::new(ErrorCode::NotImplemented, e.to_string())
            }
            e @ ArtifactError::Interrupted { .. } => ApiError::bad_request(e.to_string()),
            ArtifactError::Store(object_store::Error::NotFound { path, .. }) => {
                ApiError::not_found(format!("Artifact '{path}' does not exist."))
            }
            e @ (ArtifactError::Store(_) | ArtifactError::Io(_) | ArtifactError::Config { .. }) => {
                ApiError::internal(&e)
            }
        }
    }
}

impl From<crate::service::ServiceError> for ApiError {
    fn from(e: crate::service::ServiceError) -> Self {
        use crate::service::ServiceError;
        match e {
            ServiceError::NotFound(m) => ApiError::not_found(m),
            ServiceError::AlreadyExists(m) => ApiError::new(ErrorCode::ResourceAlreadyExists, m),
            ServiceError::Invalid(m) => ApiError::invalid(m),
            ServiceError::InvalidState(m) => ApiError::new(ErrorCode::InvalidState, m),
            ServiceError::Conflict(m) => ApiError::new(ErrorCode::ResourceConflict, m),
            ServiceError::BadRequest(m) => ApiError::bad_request(m),
            ServiceError::NotImplemented(m) => ApiError::new(ErrorCode::NotImplemented, m),
            ServiceError::Store(e) => e.into(),
            ServiceError::Search(e) => e.into(),
            ServiceError::Artifact(e) => e.into(),
        }
    }
}
