//! The pages, one module per area; each handler reads through the services and renders one
//! template.

pub mod compare;
pub mod experiments;
pub mod home;
pub mod models;
pub mod runs;
pub mod versions;

use crate::error::PageResult;
use askama::Template;
use axum::response::{Html, IntoResponse, Redirect, Response};

/// A rendered template as a response.
pub fn html(t: impl Template) -> PageResult {
    Ok(Html(t.render()?).into_response())
}

/// `Ok(notice)` or the refusal's message, for the redirect after a form. Failures that are
/// ours (the store is down) stay errors.
pub fn outcome<T>(
    r: Result<T, pitwall_registry::service::ServiceError>,
    done: &str,
) -> PageResult<Result<String, String>> {
    match r.map_err(crate::error::PageError::from) {
        Ok(_) => Ok(Ok(done.to_owned())),
        Err(crate::error::PageError::Internal(m)) => Err(crate::error::PageError::Internal(m)),
        Err(e) => Ok(Err(e.to_string())),
    }
}

/// Answers a form with a redirect (303, so a reload does not post twice) that carries the
/// outcome.
pub fn redirect_with(page: &str, outcome: Result<String, String>) -> Response {
    Redirect::to(&crate::fmt::flash(page, outcome)).into_response()
}

/// A string literal of the filter grammar for `value`. The grammar has no way to write a
/// quote inside a literal, so a `'` or a backslash becomes the one-character wildcard `_` of LIKE:
/// callers that need an exact match compare the results again.
pub fn like_literal(value: &str) -> String {
    format!("'{}'", value.replace(['\'', '\\'], "_"))
}

/// At most `limit` bytes of a file being downloaded, and whether there was more.
pub async fn read_prefix(download: pitwall_registry::artifacts::Download, limit: usize) -> PageResult<(Vec<u8>, bool)> {
    use futures::StreamExt;
    let mut stream = download.stream;
    let mut buf = Vec::with_capacity(limit.min(download.size as usize));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| crate::error::PageError::Internal(format!("artifact read: {e}")))?;
        let room = limit - buf.len();
        if chunk.len() > room {
            buf.extend_from_slice(&chunk[..room]);
            return Ok((buf, true));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok((buf, false))
}
