//! The domain error every service operation fails with.

use crate::artifacts::ArtifactError;
use crate::search::SearchError;
use crate::store::StoreError;

/// Why an operation was refused or failed; the message is MLflow's text for the same case.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    /// A value the operation does not take (MLflow's `INVALID_PARAMETER_VALUE`).
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    InvalidState(String),
    #[error("{0}")]
    Conflict(String),
    /// A request that cannot be carried out as made (MLflow's `BAD_REQUEST`).
    #[error("{0}")]
    BadRequest(String),
    /// Something this server does not do (a 501 on the wire).
    #[error("{0}")]
    NotImplemented(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
}

pub type ServiceResult<T> = Result<T, ServiceError>;
