//! Errors of the scoring server, answered as MLflow's scoring server answers them: bad input
//! as `{"error_code": …, "message": …}` with 400, an unsupported content type as
//! plain text with 415.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pitwall_openapi::{ErrorCode, ErrorResponse};

/// A request the model cannot answer.
#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    /// The body does not hold rows the model's signature accepts.
    #[error("Invalid input. {0}")]
    Input(String),
    /// The rows do not fit the model's signature (a column missing).
    #[error("Failed to enforce the model's signature: {0}")]
    Schema(String),
    /// The content type (or its charset) is not one the server reads.
    #[error("{0}")]
    ContentType(String),
    /// The model failed on rows that passed the signature check.
    #[error("the model failed on the input: {0}")]
    Model(String),
}

impl ScoringError {
    pub fn input(message: impl Into<String>) -> Self {
        ScoringError::Input(message.into())
    }
}

impl IntoResponse for ScoringError {
    fn into_response(self) -> Response {
        match &self {
            ScoringError::ContentType(message) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, [(header::CONTENT_TYPE, "text/plain")], message.clone())
                    .into_response()
            }
            ScoringError::Input(_) | ScoringError::Schema(_) | ScoringError::Model(_) => {
                // MLflow's codes: a signature mismatch is an invalid parameter, the rest bad requests.
                let code = if matches!(self, ScoringError::Schema(_)) {
                    ErrorCode::InvalidParameterValue
                } else {
                    ErrorCode::BadRequest
                };
                // The status is MLflow's scoring server's, not the code's own: a 400 for both.
                let body = ErrorResponse::scoring(code, self.to_string());
                (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "application/json")], axum::Json(body))
                    .into_response()
            }
        }
    }
}
