//! Refusing cross-site form posts: a change is made only when the browser shows the form came
//! from one of our own pages.

use crate::error::PageError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri, header};

/// Proof that a request came from a page of this server; the extractor refuses it otherwise.
pub struct SameOrigin;

impl<S: Send + Sync> FromRequestParts<S> for SameOrigin {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if is_same_origin(&parts.headers, &parts.uri) { Ok(SameOrigin) } else { Err(PageError::CrossSite) }
    }
}

/// Whether the headers show the request came from a page of the host it was sent to:
/// Fetch Metadata when the browser sends it, else `Origin`, else `Referer`. A request
/// without any of them is refused, since every browser that posts a form sends one.
pub fn is_same_origin(headers: &HeaderMap, uri: &Uri) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    // HTTP/2 carries the host in the URI's authority rather than a Host header.
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).or_else(|| uri.authority().map(|a| a.as_str()));
    let Some(host) = host else { return false };
    let authority = |url: &str| -> Option<String> {
        let (_, rest) = url.split_once("://")?;
        Some(rest.split(['/', '?', '#']).next().unwrap_or_default().to_ascii_lowercase())
    };
    let from = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok())
        .and_then(authority);
    from.is_some_and(|a| a == host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pairs: &[(&str, &str)]) -> bool {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        is_same_origin(&h, &Uri::from_static("/models/x/description"))
    }

    #[test]
    fn only_our_own_pages_may_post() {
        assert!(check(&[("host", "localhost:5000"), ("sec-fetch-site", "same-origin")]));
        assert!(!check(&[("host", "localhost:5000"), ("sec-fetch-site", "cross-site")]));
        assert!(!check(&[("host", "localhost:5000"), ("sec-fetch-site", "same-site")]));
        assert!(check(&[("host", "localhost:5000"), ("origin", "http://localhost:5000")]));
        assert!(!check(&[("host", "localhost:5000"), ("origin", "http://evil.example")]));
        assert!(!check(&[("host", "localhost:5000"), ("origin", "null")]));
        assert!(check(&[("host", "localhost:5000"), ("referer", "http://localhost:5000/models/x")]));
        assert!(!check(&[("host", "localhost:5000"), ("referer", "http://localhost:5000.evil.example/")]));
        assert!(!check(&[("host", "localhost:5000")]));
    }
}
