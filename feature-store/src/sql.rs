//! The SQL transformations, one file per table, and the DataFusion session that runs them.

use std::sync::Arc;

use deltalake::arrow::array::RecordBatch;
use deltalake::datafusion::dataframe::DataFrame;
use deltalake::datafusion::execution::config::SessionConfig;
use deltalake::datafusion::prelude::SessionContext;
use sha2::{Digest, Sha256};

use crate::error::{LakeError, Result};

/// A transformation: its file name (for messages) and its text.
#[derive(Debug, Clone, Copy)]
pub struct Transformation {
    pub name: &'static str,
    pub sql: &'static str,
}

pub const BRONZE_RESULTS: Transformation =
    Transformation { name: "bronze_results.sql", sql: include_str!("../sql/bronze_results.sql") };
pub const SILVER_RESULTS: Transformation =
    Transformation { name: "silver_results.sql", sql: include_str!("../sql/silver_results.sql") };
pub const SILVER_SESSIONS: Transformation =
    Transformation { name: "silver_sessions.sql", sql: include_str!("../sql/silver_sessions.sql") };
pub const FS_DRIVERS: Transformation =
    Transformation { name: "fs_drivers.sql", sql: include_str!("../sql/fs_drivers.sql") };
pub const ABT_CHURN: Transformation =
    Transformation { name: "abt_churn.sql", sql: include_str!("../sql/abt_churn.sql") };

/// A session sized for this machine: the lake's tables are small enough that more partitions
/// than cores only add scheduling overhead.
pub(crate) fn session() -> SessionContext {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let config = SessionConfig::new().with_target_partitions(cores).with_batch_size(16 * 1024);
    SessionContext::new_with_config(config)
}

impl Transformation {
    /// The key and value a table built by this transformation records beside its input
    /// versions: the value changes whenever the SQL text does, so an edited transformation
    /// rebuilds its table at the next build, with no `--full` needed.
    pub(crate) fn input(&self) -> (String, i64) {
        let digest = Sha256::digest(self.sql.as_bytes());
        let mut head = [0u8; 8];
        head.copy_from_slice(&digest[..8]);
        (format!("sql/{}", self.name), i64::from_be_bytes(head) & i64::MAX)
    }

    /// Plans the transformation against the tables registered in `ctx`.
    pub(crate) async fn plan(&self, ctx: &SessionContext) -> Result<DataFrame> {
        ctx.sql(self.sql).await.map_err(|e| LakeError::query(self.name, e))
    }

    /// Runs the transformation and collects its rows; an empty result is one empty batch, so
    /// that the schema is still there to create a table with.
    pub(crate) async fn collect(&self, ctx: &SessionContext) -> Result<Vec<RecordBatch>> {
        let frame = self.plan(ctx).await?;
        let schema = Arc::new(frame.schema().as_arrow().clone());
        let batches = frame.collect().await.map_err(|e| LakeError::query(self.name, e))?;
        let mut batches: Vec<RecordBatch> = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
        if batches.is_empty() {
            batches.push(RecordBatch::new_empty(schema));
        }
        Ok(batches)
    }
}
