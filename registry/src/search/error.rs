/// A rejected filter, order_by or page token.
///
/// Always `INVALID_PARAMETER_VALUE` on the wire; the message is MLflow's text for the same
/// mistake, so that clients matching on it keep working.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SearchError {
    message: String,
}

impl SearchError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        SearchError { message: message.into() }
    }

    /// MLflow's message for this error.
    pub fn message(&self) -> &str {
        &self.message
    }
}
