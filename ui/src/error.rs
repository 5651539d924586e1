//! Why a page could not be shown, and the pages that say so: 404 for what does not exist, 400
//! for a request the services refuse, 403 for a cross-site form, 500 for our own failures
//! (logged, and answered with the request id only).

use crate::layout::{Chrome, Section};
use askama::Template;
use axum::extract::Request;
use axum::http::{StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use pitwall_registry::artifacts::ArtifactError;
use pitwall_registry::service::ServiceError;
use pitwall_registry::store::StoreError;

/// A page's failure.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The thing named in the URL does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request asks for something the registry refuses (its message says why).
    #[error("{0}")]
    BadRequest(String),
    /// A form posted from another site.
    #[error("This change was refused: the form was not sent from a page of this server.")]
    CrossSite,
    /// Our failure: the store, the artifact repository, a template.
    #[error("{0}")]
    Internal(String),
}

/// A marker on a 500 response; [`render_internal_errors`] turns it into the error page, where
/// the request id is known.
#[derive(Clone)]
struct InternalError;

impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(m)
            | ServiceError::Store(StoreError::NotFound(m))
            | ServiceError::Artifact(ArtifactError::NotFound(m)) => PageError::NotFound(m),
            ServiceError::Invalid(_)
            | ServiceError::AlreadyExists(_)
            | ServiceError::InvalidState(_)
            | ServiceError::Conflict(_)
            | ServiceError::BadRequest(_)
            | ServiceError::NotImplemented(_)
            | ServiceError::Search(_)
            | ServiceError::Store(
                StoreError::Invalid(_)
                | StoreError::AlreadyExists(_)
                | StoreError::InvalidState(_)
                | StoreError::Conflict(_)
                | StoreError::BadRequest(_)
                | StoreError::ParamsChanged { .. },
            )
            | ServiceError::Artifact(ArtifactError::InvalidPath { .. } | ArtifactError::Invalid(_)) => {
                PageError::BadRequest(e.to_string())
            }
            e => PageError::Internal(e.to_string()),
        }
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError::Internal(format!("template: {e}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    message: String,
    request_id: Option<String>,
}

fn error_page(status: StatusCode, title: &str, message: String, request_id: Option<String>) -> Response {
    let page = ErrorPage { chrome: Chrome::new(Section::None, title), status: status.as_u16(), message, request_id };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the error page failed to render");
            (status, title.to_owned()).into_response()
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::NotFound(m) => error_page(StatusCode::NOT_FOUND, "Not found", m, None),
            PageError::BadRequest(m) => error_page(StatusCode::BAD_REQUEST, "Bad request", m, None),
            PageError::CrossSite => error_page(StatusCode::FORBIDDEN, "Refused", self.to_string(), None),
            PageError::Internal(m) => {
                // Logged inside the request's span, which carries its id.
                tracing::error!(error = %m, "page failed");
                let mut r = StatusCode::INTERNAL_SERVER_ERROR.into_response();
                r.extensions_mut().insert(InternalError);
                r
            }
        }
    }
}

/// The fallback: no page at this path.
pub async fn not_found_page(uri: Uri) -> PageError {
    PageError::NotFound(format!("There is no page at {}.", uri.path()))
}

/// Renders the 500 page, with the request's id, for a response a handler marked as our
/// failure. Nothing of the failure itself reaches the page: the id finds it in the log.
pub async fn render_internal_errors(req: Request, next: Next) -> Response {
    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let response = next.run(req).await;
    if response.extensions().get::<InternalError>().is_none() {
        return response;
    }
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Server error",
        "The server failed to show this page. The error is in the server's log under this request id.".into(),
        id,
    )
}

/// A page's result.
pub type PageResult<T = Response> = Result<T, PageError>;

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[tokio::test]
    async fn an_internal_error_shows_the_request_id_and_nothing_else() {
        let app = Router::new()
            .route("/boom", get(|| async { PageError::Internal("password=hunter2 at db.internal".into()) }))
            .layer(axum::middleware::from_fn(render_internal_errors));
        let req = axum::http::Request::get("/boom").header("x-request-id", "req-42").body(Body::empty()).unwrap();
        let res = app.oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        assert!(body.contains("req-42"), "{body}");
        assert!(!body.contains("hunter2") && !body.contains("db.internal"), "{body}");
    }
}
