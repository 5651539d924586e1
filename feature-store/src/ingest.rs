//! `ingest f1db`: an F1DB source tree into the raw layer.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use futures::{StreamExt, TryStreamExt};

use crate::error::{LakeError, Result};
use crate::f1db::{self, SessionDocument};
use crate::location::{LakeLocation, Layer};
use crate::progress::{IngestReport, Progress};
use crate::raw::RawStore;
use crate::seasons::SeasonRange;

/// Reads the whole selection first and writes only when every file is sound, so a broken
/// checkout adds nothing; raw versions already stored are never touched either way.
pub(crate) async fn ingest_f1db(
    loc: &LakeLocation,
    source: &Path,
    seasons: SeasonRange,
    progress: Arc<dyn Progress>,
) -> Result<IngestReport> {
    let docs = read(source.to_path_buf(), seasons, progress.clone()).await?;
    let raw = RawStore::open(loc.layer_url(Layer::Raw), loc.storage_options())?;
    let latest = raw.latest_versions().await?;
    let changed: Vec<&SessionDocument> = docs
        .iter()
        .filter(|d| latest.get(&d.session_key()).is_none_or(|v| !d.content_hash.starts_with(&v.hash_prefix)))
        .collect();
    let ingested_at = Utc::now();
    progress.begin("writing raw documents", Some(changed.len() as u64));
    let written = futures::stream::iter(changed)
        .map(|d| {
            let raw = &raw;
            async move { raw.put_version(d, ingested_at).await }
        })
        .buffer_unordered(16)
        .inspect_ok(|_| progress.advance(1))
        .try_fold(0usize, |n, _| async move { Ok(n + 1) })
        .await;
    progress.end();
    let written = written?;
    tracing::info!(written, total = docs.len(), "raw layer updated");
    Ok(IngestReport { documents: docs.len(), written, unchanged: docs.len() - written })
}

async fn read(source: PathBuf, seasons: SeasonRange, progress: Arc<dyn Progress>) -> Result<Vec<SessionDocument>> {
    tokio::task::spawn_blocking(move || {
        let total = f1db::count_races(&source, seasons);
        progress.begin("reading F1DB races", Some(total as u64));
        let docs = f1db::read_source(&source, seasons, &|| progress.advance(1));
        progress.end();
        docs.map_err(LakeError::Source)
    })
    .await
    .expect("the F1DB reader does not panic")
}
