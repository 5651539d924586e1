//! What the router answers when no endpoint takes a request, or a handler panics.

use crate::error::{ApiError, ErrorCode};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// No endpoint at this path.
pub async fn not_found(uri: Uri) -> Response {
    ApiError::new(ErrorCode::EndpointNotFound, format!("No endpoint at {}", uri.path())).into_response()
}

/// An endpoint at this path, but not for this method.
pub async fn method_not_allowed() -> Response {
    let mut r = ApiError::bad_request("The method is not allowed for the requested URL.").into_response();
    *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    r
}

/// A handler panicked; the panic itself is in the server log.
pub fn handler_panicked() -> Response {
    ApiError::new(ErrorCode::InternalError, "Internal error: the request handler panicked; see the server log.")
        .into_response()
}
