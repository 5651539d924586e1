//! The crate's error type.

use std::path::PathBuf;

use pitwall_lake::LakeError;
use pitwall_openapi::ErrorCode;

/// Everything training or scoring can fail with.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The training table has no rows (or no rows left after a filter).
    #[error("{table} is empty: there is nothing to train on")]
    EmptyTable { table: String },
    /// A column the model needs is not in the table.
    #[error("{table} has no column {column:?}")]
    MissingColumn { table: String, column: String },
    /// A column has a type the trainer cannot use.
    #[error("{table} column {column:?} has type {found}, expected {expected}")]
    ColumnType { table: String, column: String, expected: &'static str, found: String },
    /// A key or label column holds nulls.
    #[error("{table} column {column:?} has {count} null value(s)")]
    NullValues { table: String, column: String, count: usize },
    /// The label holds something other than 0 and 1.
    #[error("{table} column {column:?} holds {value}, but a label must be 0 or 1")]
    BadLabel { table: String, column: String, value: i64 },
    /// Every row has the same label: no classifier can be fitted or evaluated.
    #[error("{table} column {column:?} is {value} on all {rows} rows: a classifier needs both classes")]
    ConstantLabel { table: String, column: String, value: u8, rows: usize },
    /// One side of the train/test split has a single class, so its AUC is undefined.
    #[error("the {set} set has only class {value} ({rows} rows): AUC is undefined")]
    OneClassSplit { set: &'static str, value: u8, rows: usize },
    /// Hyper-parameters out of range.
    #[error("invalid setting: {0}")]
    Settings(String),
    /// The model could not be fitted.
    #[error("fitting the {model} model: {reason}")]
    Fit { model: &'static str, reason: String },
    /// The lake could not be read or written.
    #[error(transparent)]
    Lake(#[from] LakeError),
    /// A Delta table of the trainer's own could not be written.
    #[error("delta table {table}: {source}")]
    Delta {
        table: String,
        #[source]
        source: Box<deltalake::DeltaTableError>,
    },
    /// Arrow data could not be built or converted.
    #[error("arrow: {0}")]
    Arrow(#[from] deltalake::arrow::error::ArrowError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A model directory is not one this crate wrote (or MLflow's onnx flavor can read).
    #[error("model directory {}: {reason}", dir.display())]
    ModelDir { dir: PathBuf, reason: String },
    /// ONNX Runtime could not be loaded.
    #[error("ONNX Runtime: {0}")]
    RuntimeLoad(String),
    /// ONNX Runtime failed to load or run a model.
    #[error("ONNX Runtime: {0}")]
    Runtime(#[from] ort::Error),
    /// A plot could not be drawn.
    #[error("plot {name}: {reason}")]
    Plot { name: String, reason: String },
    /// The tracking server could not be reached or answered something unexpected.
    #[error("tracking server, {rpc}: {reason}")]
    Http { rpc: String, reason: String },
    /// The tracking server refused a call; `error_code` is MLflow's code when the body was
    /// MLflow's error body.
    #[error("tracking server, {rpc}: HTTP {status} {}: {message}", error_code.as_ref().map_or("", |c| c.as_str()))]
    Tracking { rpc: String, status: u16, error_code: Option<ErrorCode>, message: String },
    /// A value could not be serialised.
    #[error("serialising {what}: {reason}")]
    Serialise { what: String, reason: String },
}

impl TrainError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    pub(crate) fn delta(table: impl Into<String>, source: deltalake::DeltaTableError) -> Self {
        Self::Delta { table: table.into(), source: Box::new(source) }
    }

    /// Whether the tracking server refused a call with one of `codes`.
    pub fn is_refusal(&self, codes: &[ErrorCode]) -> bool {
        matches!(self, TrainError::Tracking { error_code: Some(code), .. } if codes.contains(code))
    }

    pub(crate) fn model_dir(dir: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::ModelDir { dir: dir.into(), reason: reason.into() }
    }
}

/// Result alias for training and scoring.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;
