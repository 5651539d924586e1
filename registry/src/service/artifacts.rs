//! Artifacts: where a run's, a logged model's or a model version's files are in the proxied
//! store, and the proxy's operations on checked paths.

use super::{ServiceError, ServiceResult};
use crate::artifacts::{
    ArtifactError, ArtifactPath, ArtifactRepo, Download, INVALID_PATH, MultipartPart, PresignedUrl,
};
use crate::store::TrackingStore;
use bytes::Bytes;
use pitwall_openapi::FileInfo;
use std::time::Duration;

/// The proxy's REST prefix, as the client derives it from `mlflow-artifacts:` URIs.
pub const ARTIFACTS_API_PREFIX: &str = "/api/2.0/mlflow-artifacts";
/// S3 allows at most this many parts in one upload.
const MAX_PARTS: i64 = 10_000;

/// A file about to be streamed out, and where it is.
pub struct ArtifactFile {
    pub path: ArtifactPath,
    pub download: Download,
}

/// An artifact root's listing: the root as stored, and its entries.
pub struct Listing {
    pub root_uri: String,
    pub files: Vec<FileInfo>,
}

/// The store path of an artifact root URI: `mlflow-artifacts:/1/abc/artifacts`,
/// `mlflow-artifacts://host/1/abc/artifacts`, an `http(s)://…/api/2.0/mlflow-artifacts/artifacts/…`
/// URL, or a location inside the repository's destination.
pub fn proxied_root(repo: &ArtifactRepo, artifact_uri: &str) -> ServiceResult<ArtifactPath> {
    let rel = if let Some(rest) = artifact_uri.strip_prefix("mlflow-artifacts:") {
        // `mlflow-artifacts://netloc/path`: the netloc names a server, not a folder.
        match rest.strip_prefix("//") {
            Some(after) => after.split_once('/').map_or("", |(_, p)| p),
            None => rest,
        }
        .trim_start_matches('/')
    } else if artifact_uri.starts_with("http://") || artifact_uri.starts_with("https://") {
        let anchor = format!("{ARTIFACTS_API_PREFIX}/artifacts/");
        match artifact_uri.split_once(anchor.as_str()) {
            Some((_, p)) => p,
            None => return Err(not_served(artifact_uri)),
        }
    } else {
        match artifact_uri.strip_prefix(repo.destination()).and_then(|p| p.strip_prefix('/')) {
            Some(p) => p,
            None => return Err(not_served(artifact_uri)),
        }
    };
    Ok(ArtifactPath::parse(rel)?)
}

fn not_served(uri: &str) -> ServiceError {
    ServiceError::NotImplemented(format!(
        "Artifacts at '{uri}' are not proxied by this server; read them from their location directly."
    ))
}

/// The object a multipart upload writes: the URL's directory and the basename of the
/// client's local file name (which may be a Windows path).
pub fn multipart_target(dir: &ArtifactPath, local_file: &str) -> ServiceResult<ArtifactPath> {
    let base = local_file.rsplit(['/', '\\']).next().unwrap_or("");
    if base.is_empty() {
        return Err(ServiceError::Invalid(INVALID_PATH.to_owned()));
    }
    Ok(dir.child(base)?)
}

/// Artifacts.
#[derive(Clone, Copy)]
pub struct ArtifactService<'a> {
    pub(super) store: &'a dyn TrackingStore,
    pub(super) repo: &'a ArtifactRepo,
}

impl ArtifactService<'_> {
    /// Whether multipart uploads can be served (an S3 destination).
    pub fn supports_multipart(&self) -> bool {
        self.repo.supports_multipart()
    }

    /// The entries of `root/rel`, their paths relative to `root`, as the tracking API lists them.
    async fn list_relative(&self, root_uri: String, rel: &ArtifactPath) -> ServiceResult<Listing> {
        let root = proxied_root(self.repo, &root_uri)?;
        let entries = self.repo.list(&root.join(rel)).await?;
        let files = entries
            .into_iter()
            .map(|e| FileInfo {
                path: if rel.is_root() { e.name } else { format!("{rel}/{}", e.name) },
                is_dir: e.is_dir,
                file_size: e.size.map(|s| s as i64),
            })
            .collect();
        Ok(Listing { root_uri, files })
    }

    /// A directory of a run's artifacts (`path` relative to the run's root).
    pub async fn list_run(&self, run_id: &str, path: Option<&str>) -> ServiceResult<Listing> {
        let rel = ArtifactPath::parse_opt(path)?;
        let run = self.store.get_run(run_id).await?;
        self.list_relative(run.info.artifact_uri, &rel).await
    }

    /// A directory of a logged model's artifacts.
    pub async fn list_logged_model(&self, model_id: &str, path: Option<&str>) -> ServiceResult<Listing> {
        let rel = ArtifactPath::parse_opt(path)?;
        let model = self.store.get_logged_model(model_id).await?;
        self.list_relative(model.info.artifact_uri, &rel).await
    }

    /// A file at `path` under the artifact root `root_uri`.
    async fn file_under(&self, root_uri: &str, path: &ArtifactPath) -> ServiceResult<ArtifactFile> {
        let root = proxied_root(self.repo, root_uri)?;
        self.download(&root.join(path)).await
    }

    /// A file of a run's artifacts.
    pub async fn run_file(&self, run_id: &str, path: &str) -> ServiceResult<ArtifactFile> {
        let path = ArtifactPath::parse(path)?;
        let run = self.store.get_run(run_id).await?;
        self.file_under(&run.info.artifact_uri, &path).await
    }

    /// A file of a registered model version.
    pub async fn model_version_file(&self, name: &str, version: &str, path: &str) -> ServiceResult<ArtifactFile> {
        let path = ArtifactPath::parse(path)?;
        let location = self.store.get_model_version_download_uri(name, version).await?;
        self.file_under(&location, &path).await
    }

    /// A file of a logged model.
    pub async fn logged_model_file(&self, model_id: &str, path: &str) -> ServiceResult<ArtifactFile> {
        let path = ArtifactPath::parse(path)?;
        let model = self.store.get_logged_model(model_id).await?;
        self.file_under(&model.info.artifact_uri, &path).await
    }

    // ---- the proxy ----

    /// The file at `path`, to stream out.
    pub async fn download(&self, path: &ArtifactPath) -> ServiceResult<ArtifactFile> {
        let download = self.repo.download(path).await?;
        Ok(ArtifactFile { path: path.clone(), download })
    }

    /// One directory, basenames only (`path` absent or empty: the root).
    pub async fn list(&self, path: Option<&str>) -> ServiceResult<Vec<FileInfo>> {
        let dir = ArtifactPath::parse_opt(path)?;
        let files = self
            .repo
            .list(&dir)
            .await?
            .into_iter()
            .map(|e| FileInfo { path: e.name, is_dir: e.is_dir, file_size: e.size.map(|n| n as i64) })
            .collect();
        Ok(files)
    }

    /// Writes the body to `path`; nothing appears unless the body ends cleanly.
    pub async fn upload<S, E>(&self, path: &ArtifactPath, body: S) -> ServiceResult<()>
    where
        S: futures::Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        self.repo.upload(path, body).await?;
        Ok(())
    }

    /// Deletes a file or a whole directory.
    pub async fn delete(&self, path: &ArtifactPath) -> ServiceResult<()> {
        Ok(self.repo.delete(path).await?)
    }

    /// Refuses when the destination cannot take multipart uploads.
    pub fn require_multipart(&self) -> ServiceResult<()> {
        if self.repo.supports_multipart() { Ok(()) } else { Err(ArtifactError::MultipartUploadUnsupported.into()) }
    }

    /// Starts a multipart upload of `local_file`'s basename into `dir`: the object and the
    /// upload's id.
    pub async fn create_multipart(
        &self,
        dir: &ArtifactPath,
        local_file: &str,
        num_parts: i64,
    ) -> ServiceResult<(ArtifactPath, String)> {
        self.require_multipart()?;
        if !(0..=MAX_PARTS).contains(&num_parts) {
            return Err(ServiceError::Invalid(format!("num_parts must be between 0 and {MAX_PARTS}.")));
        }
        let target = multipart_target(dir, local_file)?;
        let upload_id = self.repo.create_multipart(&target).await?;
        Ok((target, upload_id))
    }

    pub async fn complete_multipart(
        &self,
        dir: &ArtifactPath,
        local_file: &str,
        upload_id: &str,
        parts: Vec<MultipartPart>,
    ) -> ServiceResult<()> {
        self.require_multipart()?;
        let target = multipart_target(dir, local_file)?;
        Ok(self.repo.complete_multipart(&target, upload_id, parts).await?)
    }

    pub async fn abort_multipart(&self, dir: &ArtifactPath, local_file: &str, upload_id: &str) -> ServiceResult<()> {
        self.require_multipart()?;
        let target = multipart_target(dir, local_file)?;
        Ok(self.repo.abort_multipart(&target, upload_id).await?)
    }

    /// Stores one part of a multipart upload; its ETag.
    pub async fn upload_part(
        &self,
        target: &ArtifactPath,
        upload_id: &str,
        part_number: i64,
        data: Bytes,
    ) -> ServiceResult<String> {
        self.require_multipart()?;
        Ok(self.repo.upload_part(target, upload_id, part_number, data).await?)
    }

    /// A presigned URL for the file at `path` (S3 only).
    pub async fn presigned(&self, path: &ArtifactPath, ttl: Duration) -> ServiceResult<PresignedUrl> {
        Ok(self.repo.presigned_download(path, ttl).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_uris_map_to_store_paths() {
        let dir = tempfile::tempdir().unwrap();
        let repo = ArtifactRepo::local(dir.path()).unwrap();
        let root = |uri: &str| proxied_root(&repo, uri).map(|p| p.to_string());
        assert_eq!(root("mlflow-artifacts:/1/abc/artifacts").unwrap(), "1/abc/artifacts");
        assert_eq!(root("mlflow-artifacts://host:5000/1/abc/artifacts").unwrap(), "1/abc/artifacts");
        assert_eq!(root("mlflow-artifacts:").unwrap(), "");
        assert_eq!(root("http://h:5000/api/2.0/mlflow-artifacts/artifacts/2/m/artifacts").unwrap(), "2/m/artifacts");
        assert_eq!(root(&format!("{}/3/r/artifacts", repo.destination())).unwrap(), "3/r/artifacts");
        // An invalid path is INVALID_PARAMETER_VALUE on the wire, a root not proxied here NOT_IMPLEMENTED.
        for bad in ["mlflow-artifacts:/../../etc", "mlflow-artifacts:/1/%2e%2e/%2e%2e/x", "mlflow-artifacts:/C:/x"] {
            let e = root(bad).unwrap_err();
            assert!(matches!(e, ServiceError::Artifact(ArtifactError::InvalidPath { .. })), "{bad}: {e:?}");
        }
        assert!(matches!(root("s3://elsewhere/x").unwrap_err(), ServiceError::NotImplemented(_)));
        assert!(matches!(root("http://h/other/path").unwrap_err(), ServiceError::NotImplemented(_)));
    }

    #[test]
    fn multipart_objects_take_the_basename_of_the_local_file() {
        let dir = ArtifactPath::parse("1/r/artifacts").unwrap();
        assert_eq!(multipart_target(&dir, "/home/u/big.bin").unwrap().to_string(), "1/r/artifacts/big.bin");
        assert_eq!(multipart_target(&dir, "C:\\data\\big.bin").unwrap().to_string(), "1/r/artifacts/big.bin");
        assert!(multipart_target(&dir, "/tmp/").is_err());
        assert!(multipart_target(&dir, "/tmp/..").is_err());
    }
}
