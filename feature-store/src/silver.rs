//! silver `f1/results` and `f1/sessions`, rebuilt whenever bronze has a new version or their SQL
//! changes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use deltalake::arrow::array::RecordBatch;
use deltalake::datafusion::datasource::MemTable;
use deltalake::datafusion::prelude::SessionContext;

use crate::delta::{self, Replace};
use crate::error::{LakeError, Result};
use crate::location::{BRONZE_RESULTS, LakeLocation, SILVER_RESULTS, SILVER_SESSIONS, TableId};
use crate::progress::{Outcome, StepReport};
use crate::sql;

pub(crate) async fn build(loc: &LakeLocation) -> Result<Vec<StepReport>> {
    let started = Instant::now();
    let bronze = require(loc, BRONZE_RESULTS).await?;
    let inputs = HashMap::from([
        (BRONZE_RESULTS.to_string(), delta::version_of(Some(&bronze))),
        sql::SILVER_RESULTS.input(),
        sql::SILVER_SESSIONS.input(),
    ]);
    if is_current(loc, SILVER_RESULTS, &inputs).await? && is_current(loc, SILVER_SESSIONS, &inputs).await? {
        return Ok([SILVER_RESULTS, SILVER_SESSIONS]
            .map(|table| StepReport { table, outcome: Outcome::Unchanged, elapsed: started.elapsed() })
            .to_vec());
    }
    let ctx = sql::session();
    delta::register(&ctx, "bronze_results", BRONZE_RESULTS, &bronze).await?;
    let results = sql::SILVER_RESULTS.collect(&ctx).await?;
    register_batches(&ctx, "silver_results", &results)?;
    let mut reports = vec![write_if_stale(loc, SILVER_RESULTS, results, &inputs, started).await?];
    let started = Instant::now();
    let sessions = sql::SILVER_SESSIONS.collect(&ctx).await?;
    reports.push(write_if_stale(loc, SILVER_SESSIONS, sessions, &inputs, started).await?);
    Ok(reports)
}

/// Opens a table a step depends on, with a message saying what to run first.
pub(crate) async fn require(loc: &LakeLocation, id: TableId) -> Result<deltalake::DeltaTable> {
    delta::open(loc, id).await?.ok_or_else(|| LakeError::Invariant {
        table: id.to_string(),
        reason: "not built yet (run `pitwall ingest f1db` and `pitwall lake build`)".into(),
    })
}

pub(crate) fn register_batches(ctx: &SessionContext, name: &str, batches: &[RecordBatch]) -> Result<()> {
    let Some(first) = batches.first() else {
        return Err(LakeError::Invariant { table: name.to_string(), reason: "no batch to take a schema from".into() });
    };
    let mem = MemTable::try_new(first.schema(), vec![batches.to_vec()]).map_err(|e| LakeError::query(name, e))?;
    ctx.register_table(name, Arc::new(mem)).map_err(|e| LakeError::query(name, e))?;
    Ok(())
}

/// Writes a whole-table rebuild unless the table was already built from `inputs`.
pub(crate) async fn write_if_stale(
    loc: &LakeLocation,
    id: TableId,
    batches: Vec<RecordBatch>,
    inputs: &HashMap<String, i64>,
    started: Instant,
) -> Result<StepReport> {
    let table = delta::open_or_new(loc, id).await?;
    if table.version().is_some() && delta::recorded_inputs(id, &table).await? == *inputs {
        return Ok(StepReport { table: id, outcome: Outcome::Unchanged, elapsed: started.elapsed() });
    }
    let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
    let table = delta::write(table, id, batches, None, Replace::All, inputs).await?;
    Ok(StepReport {
        table: id,
        outcome: Outcome::Written { version: delta::version_of(Some(&table)), rows, partitions: None },
        elapsed: started.elapsed(),
    })
}

/// Whether `id` was built from exactly `inputs`, to skip computing it at all.
pub(crate) async fn is_current(loc: &LakeLocation, id: TableId, inputs: &HashMap<String, i64>) -> Result<bool> {
    match delta::open(loc, id).await? {
        Some(t) => Ok(delta::recorded_inputs(id, &t).await? == *inputs),
        None => Ok(false),
    }
}
