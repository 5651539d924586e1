//! Progress reporting for long steps, so a command line can show bars without the library
//! knowing about terminals.

use std::fmt;
use std::time::Duration;

use crate::location::TableId;

/// Receives progress of long steps. Implementations must be cheap: `advance` is called once per
/// unit of work (a race read, a document written).
pub trait Progress: Send + Sync {
    /// A step starts; `total` units when known.
    fn begin(&self, step: &str, total: Option<u64>);
    /// `n` more units are done.
    fn advance(&self, n: u64);
    /// The step is over.
    fn end(&self);
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn begin(&self, _step: &str, _total: Option<u64>) {}
    fn advance(&self, _n: u64) {}
    fn end(&self) {}
}

/// What a build step did to its table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Inputs unchanged: nothing was written.
    Unchanged,
    /// A new version was committed.
    Written {
        version: i64,
        /// Rows written by this commit.
        rows: u64,
        /// Partitions replaced, for partitioned tables.
        partitions: Option<usize>,
    },
}

/// The result of one build step.
#[derive(Debug, Clone)]
pub struct StepReport {
    pub table: TableId,
    pub outcome: Outcome,
    pub elapsed: Duration,
}

impl fmt::Display for StepReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        match &self.outcome {
            Outcome::Unchanged => write!(f, "{}: unchanged ({secs:.2}s)", self.table),
            Outcome::Written { version, rows, partitions } => {
                write!(f, "{}: version {version}, {rows} rows", self.table)?;
                if let Some(p) = partitions {
                    write!(f, " in {p} partitions")?;
                }
                write!(f, " ({secs:.2}s)")
            }
        }
    }
}

/// The result of an ingest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestReport {
    /// Session results found in the source.
    pub documents: usize,
    /// New versions written to the raw layer.
    pub written: usize,
    /// Documents identical to their latest raw version, not written again.
    pub unchanged: usize,
}

impl fmt::Display for IngestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} session results: {} new versions written, {} unchanged",
            self.documents, self.written, self.unchanged
        )
    }
}
