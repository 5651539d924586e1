//! Containment on a local destination: the checked path cannot hold `..`, but a symlink
//! inside the root could still point outside it, so the deepest existing ancestor of every
//! target is resolved and must stay under the (resolved) root.

use super::{ArtifactError, ArtifactPath};
use std::path::{Path, PathBuf};

/// The file-system path of `rel` under `root`, refused when what exists of it resolves
/// outside `root`. `root` must already be canonical.
pub async fn contained(root: &Path, rel: &ArtifactPath) -> Result<PathBuf, ArtifactError> {
    let mut target = root.to_path_buf();
    for s in rel.segments() {
        target.push(s);
    }
    let refuse = || ArtifactError::InvalidPath { path: rel.to_string() };
    // Walk up to the deepest component that exists (a dangling symlink counts as existing).
    let mut probe = target.clone();
    loop {
        match tokio::fs::symlink_metadata(&probe).await {
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !probe.pop() {
                    return Err(refuse());
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    match tokio::fs::canonicalize(&probe).await {
        Ok(real) if real.starts_with(root) => Ok(target),
        Ok(real) => {
            tracing::warn!(path = %rel, resolved = %real.display(), "artifact path leaves the root through a symlink");
            Err(refuse())
        }
        // A dangling or looping symlink: nothing safe can be done with it.
        Err(_) => Err(refuse()),
    }
}
