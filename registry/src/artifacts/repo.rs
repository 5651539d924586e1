//! [`ArtifactRepo`]: list, read, write and delete artifacts in the configured destination.

use super::{ArtifactError, ArtifactPath, local, upload};
use crate::config::S3Settings;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as StorePath;
use object_store::signer::Signer;
use object_store::{GetResultPayload, ObjectStore, ObjectStoreExt};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Bytes read from a local file per chunk of a download: large enough that the per-read cost
/// disappears, small enough that many concurrent downloads stay cheap.
const LOCAL_READ_CHUNK: usize = 2 * 1024 * 1024;

/// A part uploaded through the proxy is held in memory before it goes to S3; parts larger
/// than this are refused (MLflow's client sends 10 MB parts by default).
pub const MAX_PROXIED_PART_SIZE: usize = 512 * 1024 * 1024;

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The basename.
    pub name: String,
    pub is_dir: bool,
    /// Unset for directories.
    pub size: Option<u64>,
}

/// An artifact being read: its size and its bytes, streamed.
pub struct Download {
    pub size: u64,
    pub stream: BoxStream<'static, std::io::Result<Bytes>>,
}

/// A part the client reports when completing a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartPart {
    pub part_number: i64,
    pub etag: String,
}

/// A URL that fetches an object from the store directly, without the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedUrl {
    pub url: String,
    pub size: u64,
}

enum Backend {
    /// A folder; `root` is canonical, so containment checks compare resolved paths.
    Local { root: PathBuf },
    /// A bucket and the key prefix artifacts live under.
    S3 { s3: Arc<AmazonS3>, prefix: ArtifactPath },
}

/// The artifact store behind `/api/2.0/mlflow-artifacts`.
pub struct ArtifactRepo {
    store: Arc<dyn ObjectStore>,
    backend: Backend,
    destination: String,
}

impl std::fmt::Debug for ArtifactRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactRepo").field("destination", &self.destination).finish()
    }
}

impl ArtifactRepo {
    /// Opens `destination`: `s3://bucket[/prefix]`, `file:///path` or a folder (created if missing).
    pub fn open(destination: &str, s3: &S3Settings) -> Result<ArtifactRepo, ArtifactError> {
        let config_error = |reason: String| ArtifactError::Config { destination: destination.to_owned(), reason };
        if let Some(rest) = destination.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(config_error("no bucket name".to_owned()));
            }
            let prefix = ArtifactPath::parse(prefix).map_err(|_| config_error("invalid key prefix".to_owned()))?;
            return ArtifactRepo::s3(bucket, prefix, s3).map_err(|e| config_error(e.to_string()));
        }
        let folder = match destination.strip_prefix("file://") {
            Some(p) => p,
            None if destination.contains("://") => {
                return Err(config_error("only folders, file:// and s3:// destinations are supported".to_owned()));
            }
            None => destination,
        };
        ArtifactRepo::local(folder).map_err(|e| config_error(e.to_string()))
    }

    /// A local folder, created if missing.
    pub fn local(folder: impl Into<PathBuf>) -> Result<ArtifactRepo, ArtifactError> {
        let folder = folder.into();
        std::fs::create_dir_all(&folder)?;
        let root = std::fs::canonicalize(&folder)?;
        let store = LocalFileSystem::new_with_prefix(&root)?;
        Ok(ArtifactRepo {
            store: Arc::new(store),
            destination: root.display().to_string(),
            backend: Backend::Local { root },
        })
    }

    /// An S3 bucket, reached as the shared S3 settings say (path-style and plain http for a
    /// local endpoint).
    pub fn s3(bucket: &str, prefix: ArtifactPath, config: &S3Settings) -> Result<ArtifactRepo, ArtifactError> {
        let mut builder = AmazonS3Builder::new().with_bucket_name(bucket);
        for (key, value) in config.storage_options() {
            let key = key.parse::<AmazonS3ConfigKey>()?;
            builder = builder.with_config(key, value);
        }
        let s3 = Arc::new(builder.build()?);
        let destination = if prefix.is_root() { format!("s3://{bucket}") } else { format!("s3://{bucket}/{prefix}") };
        Ok(ArtifactRepo { store: s3.clone(), destination, backend: Backend::S3 { s3, prefix } })
    }

    /// `s3://…` or the resolved folder.
    pub fn destination(&self) -> &str {
        &self.destination
    }

    /// Whether multipart uploads (`mpu/*`) are served: on S3 only, as MLflow.
    pub fn supports_multipart(&self) -> bool {
        matches!(self.backend, Backend::S3 { .. })
    }

    /// The underlying store and the location an artifact path maps to, for tools that want to
    /// bypass the proxy (the benchmark's baseline).
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// The object location of `rel` in the store.
    pub fn location(&self, rel: &ArtifactPath) -> Result<StorePath, ArtifactError> {
        let full = match &self.backend {
            Backend::S3 { prefix, .. } => prefix.join(rel),
            Backend::Local { .. } => rel.clone(),
        };
        StorePath::parse(full.to_string()).map_err(|_| ArtifactError::InvalidPath { path: rel.to_string() })
    }

    /// Refuses, on a local destination, a path that resolves outside the root.
    async fn contain(&self, rel: &ArtifactPath) -> Result<Option<PathBuf>, ArtifactError> {
        match &self.backend {
            Backend::Local { root } => local::contained(root, rel).await.map(Some),
            Backend::S3 { .. } => Ok(None),
        }
    }

    /// The entries of one directory, sorted by name; empty when it is missing or a file.
    pub async fn list(&self, dir: &ArtifactPath) -> Result<Vec<Entry>, ArtifactError> {
        self.contain(dir).await?;
        let prefix = self.location(dir)?;
        let prefix_opt = if prefix.as_ref().is_empty() { None } else { Some(&prefix) };
        let listing = match self.store.list_with_delimiter(prefix_opt).await {
            Ok(l) => l,
            Err(object_store::Error::NotFound { .. }) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut entries: Vec<Entry> = listing
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(|n| Entry { name: n.to_owned(), is_dir: true, size: None }))
            .chain(listing.objects.iter().filter_map(|o| {
                o.location.filename().map(|n| Entry { name: n.to_owned(), is_dir: false, size: Some(o.size) })
            }))
            // An S3 "folder marker" (`dir/` as an object) lists as an empty name.
            .filter(|e| !e.name.is_empty())
            .collect();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        entries.dedup_by(|a, b| a.name == b.name);
        Ok(entries)
    }

    /// Opens a file for reading; its bytes are streamed, never held whole.
    pub async fn download(&self, rel: &ArtifactPath) -> Result<Download, ArtifactError> {
        if rel.is_root() {
            return Err(ArtifactError::Invalid("A file path is required.".to_owned()));
        }
        self.contain(rel).await?;
        let location = self.location(rel)?;
        let result = match self.store.get(&location).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Err(not_found(rel)),
            Err(e) => return Err(e.into()),
        };
        let size = result.meta.size;
        let stream = match result.payload {
            GetResultPayload::File(file, _) => read_file_chunks(file),
            GetResultPayload::Stream(s) => s.map_err(std::io::Error::other).boxed(),
        };
        Ok(Download { size, stream })
    }

    /// Size of a file, or `None` when there is none at `rel`.
    pub async fn file_size(&self, rel: &ArtifactPath) -> Result<Option<u64>, ArtifactError> {
        self.contain(rel).await?;
        match self.store.head(&self.location(rel)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes `body` to `rel`. The object appears only once the body has ended cleanly; an
    /// interrupted or failed body leaves nothing behind. On a local destination the file is on
    /// disk when this returns. Returns the bytes written.
    pub async fn upload<S, E>(&self, rel: &ArtifactPath, body: S) -> Result<u64, ArtifactError>
    where
        S: futures::Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        if rel.is_root() {
            return Err(ArtifactError::Invalid("A file path is required.".to_owned()));
        }
        let local = match self.contain(rel).await? {
            Some(target) => {
                upload::check_local_target(&target, rel).await?;
                let existing = local::existing_ancestor(&target).await;
                Some((target, existing))
            }
            None => None,
        };
        let location = self.location(rel)?;
        let written = upload::write_atomically(self.store.clone(), location, rel, body).await?;
        if let Some((target, existing)) = local {
            local::flush_written(target, existing).await?;
        }
        Ok(written)
    }

    /// Deletes a file or a directory tree; a missing path is not an error (as MLflow).
    pub async fn delete(&self, rel: &ArtifactPath) -> Result<(), ArtifactError> {
        if let Some(target) = self.contain(rel).await? {
            if rel.is_root() {
                return Err(ArtifactError::Invalid("The artifact root cannot be deleted.".to_owned()));
            }
            let result = match tokio::fs::symlink_metadata(&target).await {
                Ok(m) if m.is_dir() => tokio::fs::remove_dir_all(&target).await,
                Ok(_) => tokio::fs::remove_file(&target).await,
                Err(e) => Err(e),
            };
            return match result {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            };
        }
        let location = self.location(rel)?;
        let under = self.store.list(Some(&location)).map_ok(|m| m.location).boxed();
        let exact = futures::stream::once(async move { Ok(location) });
        let mut deleted = self.store.delete_stream(under.chain(exact).boxed());
        while let Some(r) = deleted.next().await {
            match r {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    fn multipart(&self) -> Result<&Arc<AmazonS3>, ArtifactError> {
        match &self.backend {
            Backend::S3 { s3, .. } => Ok(s3),
            Backend::Local { .. } => Err(ArtifactError::MultipartUploadUnsupported),
        }
    }

    /// Starts a multipart upload to `rel`; returns its upload id.
    pub async fn create_multipart(&self, rel: &ArtifactPath) -> Result<String, ArtifactError> {
        let s3 = self.multipart()?;
        Ok(s3.create_multipart(&self.location(rel)?).await?)
    }

    /// Uploads part `part_number` (1-based, as S3 numbers them); returns its ETag.
    pub async fn upload_part(
        &self,
        rel: &ArtifactPath,
        upload_id: &str,
        part_number: i64,
        data: Bytes,
    ) -> Result<String, ArtifactError> {
        let s3 = self.multipart()?;
        let index = part_index(part_number)?;
        let id = upload_id.to_owned();
        let part = s3.put_part(&self.location(rel)?, &id, index, data.into()).await?;
        Ok(part.content_id)
    }

    /// Completes a multipart upload from the parts the client reports (numbers 1..=n).
    pub async fn complete_multipart(
        &self,
        rel: &ArtifactPath,
        upload_id: &str,
        mut parts: Vec<MultipartPart>,
    ) -> Result<(), ArtifactError> {
        let s3 = self.multipart()?;
        parts.sort_by_key(|p| p.part_number);
        if parts.is_empty() || parts.iter().enumerate().any(|(i, p)| p.part_number != i as i64 + 1) {
            return Err(ArtifactError::Invalid("Parts must be numbered 1 to N without gaps or repeats.".to_owned()));
        }
        let ids = parts.into_iter().map(|p| PartId { content_id: p.etag }).collect();
        s3.complete_multipart(&self.location(rel)?, &upload_id.to_owned(), ids).await?;
        Ok(())
    }

    /// Aborts a multipart upload, dropping the parts uploaded so far.
    pub async fn abort_multipart(&self, rel: &ArtifactPath, upload_id: &str) -> Result<(), ArtifactError> {
        let s3 = self.multipart()?;
        s3.abort_multipart(&self.location(rel)?, &upload_id.to_owned()).await?;
        Ok(())
    }

    /// A time-limited URL that reads `rel` straight from S3.
    pub async fn presigned_download(&self, rel: &ArtifactPath, ttl: Duration) -> Result<PresignedUrl, ArtifactError> {
        let Backend::S3 { s3, .. } = &self.backend else {
            return Err(ArtifactError::MultipartDownloadUnsupported);
        };
        let location = self.location(rel)?;
        let size = match s3.head(&location).await {
            Ok(meta) => meta.size,
            Err(object_store::Error::NotFound { .. }) => return Err(not_found(rel)),
            Err(e) => return Err(e.into()),
        };
        let url = s3.signed_url(http::Method::GET, &location, ttl).await?;
        Ok(PresignedUrl { url: url.to_string(), size })
    }
}

fn not_found(rel: &ArtifactPath) -> ArtifactError {
    ArtifactError::NotFound(format!("Artifact '{rel}' does not exist."))
}

/// S3 numbers parts 1..=10000; object_store counts them from 0.
fn part_index(part_number: i64) -> Result<usize, ArtifactError> {
    if !(1..=10_000).contains(&part_number) {
        return Err(ArtifactError::Invalid(format!("Part number {part_number} is not between 1 and 10000.")));
    }
    Ok(part_number as usize - 1)
}

/// A local file as a stream of [`LOCAL_READ_CHUNK`] chunks, each read on the blocking pool
/// while the previous one is being sent, so that disk reads and socket writes overlap on two
/// cores. object_store's own file stream reads 8 KiB per blocking call, which caps a download
/// well below disk speed. No thread is held while a slow client drains a chunk.
fn read_file_chunks(file: std::fs::File) -> BoxStream<'static, std::io::Result<Bytes>> {
    futures::stream::try_unfold(Some(spawn_chunk_read(file)), |next| async move {
        let Some(pending) = next else { return Ok(None) };
        let (file, chunk) = pending.await.map_err(std::io::Error::other)?;
        let chunk = chunk?;
        if chunk.is_empty() {
            return Ok(None);
        }
        // A short read of a regular file through `take` means end of file.
        let next = (chunk.len() == LOCAL_READ_CHUNK).then(|| spawn_chunk_read(file));
        Ok(Some((chunk, next)))
    })
    .boxed()
}

type ChunkRead = tokio::task::JoinHandle<(std::fs::File, std::io::Result<Bytes>)>;

fn spawn_chunk_read(mut file: std::fs::File) -> ChunkRead {
    use std::io::Read;
    tokio::task::spawn_blocking(move || {
        // read_to_end fills spare capacity without zeroing it first.
        let mut buf = Vec::with_capacity(LOCAL_READ_CHUNK);
        let read = (&mut file).take(LOCAL_READ_CHUNK as u64).read_to_end(&mut buf).map(|_| Bytes::from(buf));
        (file, read)
    })
}
