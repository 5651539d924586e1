//! The static files, embedded in the binary and served under content-hashed URLs: a file's
//! URL changes whenever its bytes do, so browsers may keep each URL forever.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const FILES: &[Asset] = &[
    Asset { name: "app.css", content_type: "text/css; charset=utf-8", bytes: include_bytes!("../assets/app.css") },
    Asset { name: "app.js", content_type: "text/javascript; charset=utf-8", bytes: include_bytes!("../assets/app.js") },
    Asset {
        name: "home.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/home.js"),
    },
    Asset {
        name: "uplot/uPlot.iife.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/vendor/uplot/uPlot.iife.min.js"),
    },
    Asset {
        name: "uplot/uPlot.min.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../assets/vendor/uplot/uPlot.min.css"),
    },
    Asset {
        name: "uplot/LICENSE",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("../assets/vendor/uplot/LICENSE"),
    },
];

/// Each file's hash (the first 16 hex digits of its SHA-256), computed once.
static HASHES: LazyLock<Vec<String>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|f| {
            let digest = Sha256::digest(f.bytes);
            digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
        })
        .collect()
});

/// The URL of the embedded file `name`.
///
/// # Panics
/// When no file has that name: names are literals in this crate, checked by a test.
pub fn url(name: &str) -> String {
    let i = FILES.iter().position(|f| f.name == name).unwrap_or_else(|| panic!("no embedded asset {name}"));
    format!("/static/{}/{}", HASHES[i], name)
}

/// `GET /static/{hash}/{file}`: the file, cacheable forever. A stale hash is a 404, so a page
/// never gets bytes other than the ones its URL names.
pub async fn serve(Path((hash, file)): Path<(String, String)>) -> Response {
    let found = FILES.iter().zip(HASHES.iter()).find(|(f, h)| f.name == file && **h == hash);
    match found {
        Some((f, _)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(f.content_type)),
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
            ],
            f.bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_hashed_url() {
        for f in FILES {
            let u = url(f.name);
            assert!(u.starts_with("/static/") && u.ends_with(f.name), "{u}");
            assert_eq!(u.split('/').nth(2).unwrap().len(), 16);
        }
        assert!(std::str::from_utf8(FILES[3].bytes).unwrap().contains("uPlot"));
    }
}
