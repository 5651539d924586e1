//! bronze `f1/results`: the raw layer's newest versions, typed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use deltalake::arrow::array::{Array, AsArray, RecordBatch};
use deltalake::datafusion::datasource::MemTable;
use deltalake::datafusion::prelude::{SessionContext, ident, lit};

use crate::delta::{self, Replace};
use crate::error::{LakeError, Result};
use crate::location::{BRONZE_RESULTS, LakeLocation, Layer};
use crate::progress::{Outcome, Progress, StepReport};
use crate::raw::{RawStore, RawVersion, raw_results_schema};
use crate::sql;

pub(crate) async fn build(loc: &LakeLocation, progress: Arc<dyn Progress>) -> Result<StepReport> {
    let started = Instant::now();
    let raw = RawStore::open(loc.layer_url(Layer::Raw), loc.storage_options())?;
    let latest = raw.latest_versions().await?;
    let current = delta::open(loc, BRONZE_RESULTS).await?;
    let ctx = sql::session();
    let loaded = match &current {
        Some(table) => {
            delta::register(&ctx, "bronze_current", BRONZE_RESULTS, table).await?;
            loaded_versions(&ctx).await?
        }
        None => HashMap::new(),
    };
    let mut pending: Vec<RawVersion> =
        latest.into_values().filter(|v| loaded.get(&v.session_key) != Some(&v.path)).collect();
    if pending.is_empty() {
        return Ok(StepReport { table: BRONZE_RESULTS, outcome: Outcome::Unchanged, elapsed: started.elapsed() });
    }
    pending.sort_by(|a, b| a.path.cmp(&b.path));

    progress.begin("loading raw documents", None);
    let batch = raw.load_results(&pending).await;
    progress.end();
    let batch = batch?;
    let mem =
        MemTable::try_new(raw_results_schema(), vec![vec![batch]]).map_err(|e| LakeError::query("raw_results", e))?;
    ctx.register_table("raw_results", Arc::new(mem)).map_err(|e| LakeError::query("raw_results", e))?;
    let mut frame = sql::BRONZE_RESULTS.plan(&ctx).await?;
    if current.is_some() {
        let reloaded: HashSet<&str> = pending.iter().map(|v| v.session_key.as_str()).collect();
        let keep = ctx
            .table("bronze_current")
            .await
            .and_then(|t| t.filter(ident("sessionKey").in_list(reloaded.into_iter().map(lit).collect(), true)))
            .map_err(|e| LakeError::query("bronze_current", e))?;
        frame = keep.union(frame).map_err(|e| LakeError::query(sql::BRONZE_RESULTS.name, e))?;
    }
    let batches = frame.collect().await.map_err(|e| LakeError::query(sql::BRONZE_RESULTS.name, e))?;
    let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
    let table = delta::open_or_new(loc, BRONZE_RESULTS).await?;
    let table = delta::write(table, BRONZE_RESULTS, batches, None, Replace::All, &HashMap::new()).await?;
    tracing::info!(sessions = pending.len(), rows, "bronze results rebuilt");
    Ok(StepReport {
        table: BRONZE_RESULTS,
        outcome: Outcome::Written { version: delta::version_of(Some(&table)), rows, partitions: None },
        elapsed: started.elapsed(),
    })
}

/// The raw version each session in bronze comes from.
async fn loaded_versions(ctx: &SessionContext) -> Result<HashMap<String, String>> {
    let q = r#"SELECT DISTINCT "sessionKey", "sourcePath" FROM bronze_current"#;
    let batches =
        ctx.sql(q).await.map_err(|e| LakeError::query(q, e))?.collect().await.map_err(|e| LakeError::query(q, e))?;
    let mut out = HashMap::new();
    for b in &batches {
        let keys = string_column(b, 0)?;
        let paths = string_column(b, 1)?;
        for (k, p) in keys.into_iter().zip(paths) {
            if let (Some(k), Some(p)) = (k, p) {
                out.insert(k, p);
            }
        }
    }
    Ok(out)
}

/// A string column as owned values, whatever string encoding the scan chose.
pub(crate) fn string_column(batch: &RecordBatch, index: usize) -> Result<Vec<Option<String>>> {
    let array = deltalake::arrow::compute::cast(batch.column(index), &deltalake::arrow::datatypes::DataType::Utf8)?;
    let strings = array.as_string::<i32>();
    Ok((0..strings.len()).map(|i| strings.is_valid(i).then(|| strings.value(i).to_string())).collect())
}
