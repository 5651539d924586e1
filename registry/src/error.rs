//! The wire error: MLflow's `{error_code, message}` with its HTTP status, and the one
//! `IntoResponse` for failures.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// MLflow's error codes (`databricks.proto`) that this server answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InternalError,
    TemporarilyUnavailable,
    BadRequest,
    InvalidParameterValue,
    EndpointNotFound,
    MalformedRequest,
    InvalidState,
    PermissionDenied,
    Unauthenticated,
    NotImplemented,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
    ResourceConflict,
    RequestLimitExceeded,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::TemporarilyUnavailable => "TEMPORARILY_UNAVAILABLE",
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::InvalidParameterValue => "INVALID_PARAMETER_VALUE",
            ErrorCode::EndpointNotFound => "ENDPOINT_NOT_FOUND",
            ErrorCode::MalformedRequest => "MALFORMED_REQUEST",
            ErrorCode::InvalidState => "INVALID_STATE",
            ErrorCode::PermissionDenied => "PERMISSION_DENIED",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::NotImplemented => "NOT_IMPLEMENTED",
            ErrorCode::ResourceAlreadyExists => "RESOURCE_ALREADY_EXISTS",
            ErrorCode::ResourceDoesNotExist => "RESOURCE_DOES_NOT_EXIST",
            ErrorCode::ResourceConflict => "RESOURCE_CONFLICT",
            ErrorCode::RequestLimitExceeded => "REQUEST_LIMIT_EXCEEDED",
        }
    }

    /// MLflow's code → status table (`mlflow/exceptions.py`).
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::BadRequest
            | ErrorCode::InvalidParameterValue
            | ErrorCode::MalformedRequest
            | ErrorCode::InvalidState
            | ErrorCode::ResourceAlreadyExists => StatusCode::BAD_REQUEST,
            ErrorCode::EndpointNotFound | ErrorCode::ResourceDoesNotExist => StatusCode::NOT_FOUND,
            ErrorCode::PermissionDenied => StatusCode::FORBIDDEN,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            ErrorCode::ResourceConflict => StatusCode::CONFLICT,
            ErrorCode::RequestLimitExceeded => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// The `error_class` MLflow 3 adds beside the code.
    fn class(self) -> &'static str {
        match self {
            ErrorCode::ResourceDoesNotExist | ErrorCode::EndpointNotFound => "RESOURCE_NOT_FOUND",
            ErrorCode::ResourceAlreadyExists => "RESOURCE_ALREADY_EXISTS",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            _ => "INVALID_PARAMETER_VALUE",
        }
    }
}

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
        let body = serde_json::json!({
            "error_code": self.code.as_str(),
            "message": self.message,
            "error_class": self.code.class(),
        });
        (self.code.status(), axum::Json(body)).into_response()
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
