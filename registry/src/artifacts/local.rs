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

/// The deepest ancestor directory of `target` that exists now.
pub async fn existing_ancestor(target: &Path) -> PathBuf {
    let mut dir = target.parent();
    while let Some(d) = dir {
        if tokio::fs::metadata(d).await.is_ok_and(|m| m.is_dir()) {
            return d.to_path_buf();
        }
        dir = d.parent();
    }
    PathBuf::from("/")
}

/// Puts a file just written on disk with the directory entries that lead to it, up to
/// `existing`, the deepest ancestor that existed before the write: an acknowledged upload
/// then survives an OS crash or power loss, not only a killed server. (object_store's local
/// store renames a staged file into place and flushes nothing.)
pub async fn flush_written(target: PathBuf, existing: PathBuf) -> std::io::Result<()> {
    tokio::task::spawn_blocking(move || {
        std::fs::File::open(&target)?.sync_all()?;
        let mut dir = target.parent();
        while let Some(d) = dir {
            std::fs::File::open(d)?.sync_all()?;
            if d == existing {
                break;
            }
            dir = d.parent();
        }
        Ok(())
    })
    .await
    .map_err(std::io::Error::other)?
}
