//! What a store method fails with.

use crate::search::SearchError;

/// A store failure, converted once into the wire error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    InvalidState(String),
    #[error("{0}")]
    Conflict(String),
    /// A write the data cannot take (MLflow answers these with `BAD_REQUEST`).
    #[error("{0}")]
    BadRequest(String),
    /// Params logged again with other values than they have.
    #[error("Changing param values is not allowed. Params were already logged='[{}]' for run ID='{run_id}'.", changes.iter().map(ParamChange::to_string).collect::<Vec<_>>().join(", "))]
    ParamsChanged { run_id: String, changes: Vec<ParamChange> },
    #[error("database error: {0}")]
    Backend(#[source] BackendError),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A failure of the database, or of the connection to it, that the store does not answer
/// with a more specific [`StoreError`]: its text is for the server log, not for clients.
/// The store classifies the failures it answers otherwise (a unique key violated, say) by
/// their SQLSTATE or constraint before they get here.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BackendError(sqlx::Error);

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Backend(BackendError(e))
    }
}

/// A rejected filter, order_by or page token is an invalid parameter, in MLflow's words.
impl From<SearchError> for StoreError {
    fn from(e: SearchError) -> Self {
        StoreError::Invalid(e.to_string())
    }
}

/// A param whose logged value a request tried to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamChange {
    pub key: String,
    pub old_value: String,
    pub new_value: String,
}

impl std::fmt::Display for ParamChange {
    /// Python's repr of the dict MLflow reports.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{{'key': '{}', 'old_value': '{}', 'new_value': '{}'}}", self.key, self.old_value, self.new_value)
    }
}
