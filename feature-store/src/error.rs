//! The crate's error type.

use std::fmt;
use std::path::PathBuf;

use deltalake::DeltaTableError;
use deltalake::arrow::error::ArrowError;
use deltalake::datafusion::error::DataFusionError;

/// Everything a lake operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    /// The lake root or the S3 settings cannot be used.
    #[error("lake configuration: {0}")]
    Config(String),
    /// The F1DB source tree has missing or malformed files; nothing was ingested.
    #[error("F1DB source has {} problem(s), nothing was ingested:\n{}", .0.len(), ProblemList(.0))]
    Source(Vec<SourceProblem>),
    /// A document in the raw layer cannot be read back.
    #[error("raw document {path}: {reason}")]
    RawDocument { path: String, reason: String },
    /// Reading or writing the object store failed.
    #[error("object store: {0}")]
    ObjectStore(#[from] object_store::Error),
    /// A Delta table operation failed.
    #[error("delta table {table}: {source}")]
    Delta {
        table: String,
        #[source]
        source: Box<DeltaTableError>,
    },
    /// A SQL transformation failed.
    #[error("query {query}: {source}")]
    Query {
        query: String,
        #[source]
        source: Box<DataFusionError>,
    },
    /// Building Arrow data failed.
    #[error("arrow: {0}")]
    Arrow(#[from] ArrowError),
    /// A table holds data that breaks an invariant the lake relies on.
    #[error("table {table}: {reason}")]
    Invariant { table: String, reason: String },
}

/// One missing or malformed file of the source tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceProblem {
    /// The file, as found (or expected) on disk.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for SourceProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

struct ProblemList<'a>(&'a [SourceProblem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  {p}")?;
        }
        Ok(())
    }
}

impl LakeError {
    pub(crate) fn delta(table: impl Into<String>, source: DeltaTableError) -> Self {
        Self::Delta { table: table.into(), source: Box::new(source) }
    }

    pub(crate) fn query(query: impl Into<String>, source: DataFusionError) -> Self {
        Self::Query { query: query.into(), source: Box::new(source) }
    }
}

/// Result alias for lake operations.
pub type Result<T, E = LakeError> = std::result::Result<T, E>;
