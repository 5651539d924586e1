//! Streaming an upload into the store so that it is all or nothing.
//!
//! The body goes through object_store's `BufWriter`: a small body is buffered and written with
//! one atomic put, a large one becomes a multipart upload (S3) or a staged file renamed into
//! place on completion (local). Only a body that ended cleanly is committed; on an error, a
//! stall or a dropped request the upload is aborted, so no partial object ever shows.

use super::{ArtifactError, ArtifactPath};
use bytes::Bytes;
use futures::StreamExt;
use object_store::ObjectStore;
use object_store::buffered::BufWriter;
use object_store::path::Path as StorePath;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Size of each part: above S3's 5 MiB minimum, and the largest body sent with a single put.
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts in flight per upload; with [`PART_SIZE`] this bounds an upload's buffers to ~40 MiB.
const PARTS_IN_FLIGHT: usize = 4;
/// A body that sends nothing for this long is treated as abandoned.
const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// A writer that is aborted unless it was committed, even when the request is dropped.
struct Pending {
    writer: Option<BufWriter>,
}

impl Pending {
    async fn abort(&mut self) {
        if let Some(mut w) = self.writer.take()
            && let Err(e) = w.abort().await
        {
            tracing::warn!(error = %e, "could not abort an interrupted artifact upload");
        }
    }

    async fn commit(&mut self) -> Result<(), ArtifactError> {
        // Taken first: a writer whose shutdown failed must not be aborted (it is mid-flush);
        // dropping it releases a staged local file, and S3 discards unfinished uploads.
        let mut w = self.writer.take().expect("writer present until commit");
        w.shutdown().await.map_err(|e| ArtifactError::Io(std::io::Error::other(e)))
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(mut w) = self.writer.take()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            rt.spawn(async move {
                if let Err(e) = w.abort().await {
                    tracing::warn!(error = %e, "could not abort a dropped artifact upload");
                }
            });
        }
    }
}

/// Writes `body` to `location`, committing only when the body ended cleanly.
pub async fn write_atomically<S, E>(
    store: Arc<dyn ObjectStore>,
    location: StorePath,
    rel: &ArtifactPath,
    body: S,
) -> Result<u64, ArtifactError>
where
    S: futures::Stream<Item = Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    let mut body = std::pin::pin!(body);
    let writer = BufWriter::with_capacity(store, location, PART_SIZE).with_max_concurrency(PARTS_IN_FLIGHT);
    let mut pending = Pending { writer: Some(writer) };
    let interrupted = |reason: String| ArtifactError::Interrupted { path: rel.to_string(), reason };
    let mut written = 0u64;
    loop {
        let chunk = match tokio::time::timeout(BODY_IDLE_TIMEOUT, body.next()).await {
            Ok(None) => break,
            Ok(Some(Ok(chunk))) => chunk,
            Ok(Some(Err(e))) => {
                pending.abort().await;
                tracing::warn!(path = %rel, bytes = written, error = %e, "artifact upload interrupted; nothing stored");
                return Err(interrupted(e.to_string()));
            }
            Err(_) => {
                pending.abort().await;
                tracing::warn!(path = %rel, bytes = written, "artifact upload stalled; nothing stored");
                return Err(interrupted(format!("no data for {} s", BODY_IDLE_TIMEOUT.as_secs())));
            }
        };
        written += chunk.len() as u64;
        let w = pending.writer.as_mut().expect("writer present while writing");
        if let Err(e) = w.put(chunk).await {
            pending.abort().await;
            return Err(e.into());
        }
    }
    pending.commit().await?;
    tracing::debug!(path = %rel, bytes = written, "artifact stored");
    Ok(written)
}

/// On a local destination, refuses a target that is a directory or lies under a file, which
/// the store would otherwise fail on with an internal error.
pub async fn check_local_target(target: &std::path::Path, rel: &ArtifactPath) -> Result<(), ArtifactError> {
    if tokio::fs::metadata(target).await.is_ok_and(|m| m.is_dir()) {
        return Err(ArtifactError::Invalid(format!("Cannot write '{rel}': it is a directory.")));
    }
    let mut parent = target.parent();
    while let Some(p) = parent {
        match tokio::fs::metadata(p).await {
            Ok(m) if m.is_dir() => return Ok(()),
            Ok(_) => return Err(ArtifactError::Invalid(format!("Cannot write '{rel}': a parent is a file."))),
            Err(_) => parent = p.parent(),
        }
    }
    Ok(())
}
