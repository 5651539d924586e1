//! The F1DB source tree the lake is built from.

use std::path::{Path, PathBuf};

/// `$PITWALL_F1DB`, or `shared/f1db` beside the checkout.
pub fn f1db() -> PathBuf {
    let path = std::env::var_os("PITWALL_F1DB")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/f1db"));
    assert!(path.join("seasons").is_dir(), "F1DB source not found at {} (set PITWALL_F1DB)", path.display());
    path
}
