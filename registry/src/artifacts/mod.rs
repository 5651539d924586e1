//! The artifact store behind the proxy: a local folder or an S3 bucket, reached through
//! `object_store`, with paths checked by [`ArtifactPath`] before anything is touched.

mod local;
pub mod mime;
pub mod path;
mod repo;
mod upload;

pub use path::{ArtifactPath, INVALID_PATH};
pub use repo::{ArtifactRepo, Download, Entry, MAX_PROXIED_PART_SIZE, MultipartPart, PresignedUrl};

/// Why an artifact operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// A path that is not a safe relative path (MLflow's `validate_path_is_safe`).
    #[error("Invalid path")]
    InvalidPath { path: String },
    #[error("{0}")]
    NotFound(String),
    /// A request that cannot be carried out as asked (a directory where a file is needed …).
    #[error("{0}")]
    Invalid(String),
    #[error("Multipart upload is not supported for the current artifact repository")]
    MultipartUploadUnsupported,
    #[error("Multipart download is not supported for the current artifact repository")]
    MultipartDownloadUnsupported,
    /// The client's body ended early or failed; nothing was committed.
    #[error("The upload of '{path}' was interrupted before the body ended: {reason}")]
    Interrupted { path: String, reason: String },
    /// The destination could not be opened as configured.
    #[error("artifact destination {destination}: {reason}")]
    Config { destination: String, reason: String },
    #[error("artifact store: {0}")]
    Store(#[from] object_store::Error),
    #[error("artifact store I/O: {0}")]
    Io(#[from] std::io::Error),
}
