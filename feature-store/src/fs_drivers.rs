//! silver `f1/fs_drivers`: incremental, partition by partition.
//!
//! A dtRef's rows depend on every Race row up to dtRef, so each race date gets a fingerprint
//! chained over all earlier dates (and over the transformation's text). A dtRef is recomputed
//! when it has no stored fingerprint or a different one; everything else is left alone. The
//! fingerprints are stored in `silver/f1/fs_drivers_inputs` after the feature rows are
//! committed, so an interrupted run recomputes rather than skips.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use deltalake::arrow::array::{ArrayRef, Date32Array, RecordBatch, StringArray};
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::datafusion::datasource::MemTable;
use deltalake::datafusion::prelude::SessionContext;
use sha2::{Digest, Sha256};

use crate::bronze::string_column;
use crate::delta::{self, Replace};
use crate::error::{LakeError, Result};
use crate::location::{FS_DRIVERS, FS_DRIVERS_INPUTS, LakeLocation, SILVER_RESULTS};
use crate::progress::{Outcome, Progress, StepReport};
use crate::silver::require;
use crate::sql;

/// The Race rows that fs_drivers reads, in a stable order, rendered as text for hashing.
const RACE_INPUTS: &str = r#"
SELECT CAST("dtSession" AS VARCHAR) AS dt,
       concat_ws('|', "idSession", "idDriver", "idTeam",
                 CAST("nrPosition" AS VARCHAR), COALESCE(CAST("nrGridPosition" AS VARCHAR), '')) AS line
FROM silver_results
WHERE "descSession" = 'Race'
ORDER BY "dtSession", "idSession", "nrPosition", "idDriver"
"#;

pub(crate) async fn build(loc: &LakeLocation, full: bool, progress: Arc<dyn Progress>) -> Result<Vec<StepReport>> {
    let started = Instant::now();
    let silver = require(loc, SILVER_RESULTS).await?;
    let ctx = sql::session();
    delta::register(&ctx, "silver_results", SILVER_RESULTS, &silver).await?;
    let fingerprints = fingerprints(&ctx).await?;

    let fs = delta::open(loc, FS_DRIVERS).await?;
    let stored = match (&fs, full) {
        (Some(_), false) => stored_fingerprints(loc).await?,
        _ => BTreeMap::new(),
    };
    let targets: Vec<&String> =
        fingerprints.iter().filter(|(dt, h)| stored.get(*dt) != Some(*h)).map(|(dt, _)| dt).collect();
    let stale: Vec<&String> = stored.keys().filter(|dt| !fingerprints.contains_key(*dt)).collect();
    if targets.is_empty() && stale.is_empty() {
        return Ok([FS_DRIVERS, FS_DRIVERS_INPUTS]
            .map(|table| StepReport { table, outcome: Outcome::Unchanged, elapsed: started.elapsed() })
            .to_vec());
    }

    progress.begin(&format!("computing fs_drivers for {} dtRefs", targets.len()), None);
    register_targets(&ctx, &targets)?;
    let batches = sql::FS_DRIVERS.collect(&ctx).await;
    progress.end();
    let batches = batches?;
    let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();

    let inputs = HashMap::from([(SILVER_RESULTS.to_string(), delta::version_of(Some(&silver)))]);
    // The Delta writer keeps one open Parquet writer per partition until it commits, which
    // for every race date since 1950 costs gigabytes; so partitions are committed in groups,
    // each group replacing exactly its own partitions (replaceWhere), each atomically.
    let chunks = chunk_by_dtref(batches, PARTITIONS_PER_COMMIT)?;
    let n_chunks = chunks.len();
    progress.begin("writing fs_drivers", Some(n_chunks as u64));
    let mut table = delta::open_or_new(loc, FS_DRIVERS).await?;
    let mut creating = fs.is_none();
    for (i, (dtrefs, chunk)) in chunks.into_iter().enumerate() {
        let mut replaced: Vec<&str> = dtrefs.iter().map(String::as_str).collect();
        if i + 1 == n_chunks {
            // Race dates that no longer exist (a corrected calendar) go with the last group.
            replaced.extend(stale.iter().map(|s| s.as_str()));
        }
        let predicate = in_list(&replaced);
        let replace = if creating { Replace::All } else { Replace::Where(&predicate) };
        table = delta::write(table, FS_DRIVERS, chunk, Some("dtRef"), replace, &inputs).await?;
        creating = false;
        progress.advance(1);
    }
    progress.end();
    let fs_report = StepReport {
        table: FS_DRIVERS,
        outcome: Outcome::Written {
            version: delta::version_of(Some(&table)),
            rows,
            partitions: Some(targets.len() + stale.len()),
        },
        elapsed: started.elapsed(),
    };
    tracing::info!(dtrefs = targets.len(), rows, "fs_drivers partitions replaced");

    let started = Instant::now();
    let state = fingerprint_batch(&fingerprints)?;
    let state_rows = state.num_rows() as u64;
    let table = delta::open_or_new(loc, FS_DRIVERS_INPUTS).await?;
    let table = delta::write(table, FS_DRIVERS_INPUTS, vec![state], None, Replace::All, &HashMap::new()).await?;
    Ok(vec![
        fs_report,
        StepReport {
            table: FS_DRIVERS_INPUTS,
            outcome: Outcome::Written { version: delta::version_of(Some(&table)), rows: state_rows, partitions: None },
            elapsed: started.elapsed(),
        },
    ])
}

/// Partitions per fs_drivers commit: bounds the writer's memory (a few hundred MB).
const PARTITIONS_PER_COMMIT: usize = 32;

fn in_list(dtrefs: &[&str]) -> String {
    let list: Vec<String> = dtrefs.iter().map(|d| format!("'{d}'")).collect();
    format!("\"dtRef\" IN ({})", list.join(", "))
}

/// Splits rows sorted by dtRef into groups of at most `per_chunk` dtRefs each.
fn chunk_by_dtref(batches: Vec<RecordBatch>, per_chunk: usize) -> Result<Vec<(Vec<String>, Vec<RecordBatch>)>> {
    let mut chunks: Vec<(Vec<String>, Vec<RecordBatch>)> = Vec::new();
    for batch in batches {
        let index = batch.schema().index_of("dtRef")?;
        let dtrefs = string_column(&batch, index)?;
        let mut start = 0;
        while start < dtrefs.len() {
            let dt = dtrefs[start].clone().unwrap_or_default();
            let mut end = start;
            while end < dtrefs.len() && dtrefs[end].as_deref() == Some(dt.as_str()) {
                end += 1;
            }
            let open_new = match chunks.last() {
                Some((refs, _)) => refs.last() != Some(&dt) && refs.len() >= per_chunk,
                None => true,
            };
            if open_new {
                chunks.push((Vec::new(), Vec::new()));
            }
            let (refs, parts) = chunks.last_mut().expect("a chunk was just ensured");
            if refs.last() != Some(&dt) {
                refs.push(dt);
            }
            parts.push(batch.slice(start, end - start));
            start = end;
        }
    }
    if chunks.is_empty() {
        return Err(LakeError::Invariant {
            table: FS_DRIVERS.to_string(),
            reason: "fs_drivers.sql returned no rows for the requested dtRefs".into(),
        });
    }
    Ok(chunks)
}

/// One chained fingerprint per race date (`YYYY-MM-DD` → hex).
async fn fingerprints(ctx: &SessionContext) -> Result<BTreeMap<String, String>> {
    let batches = ctx
        .sql(RACE_INPUTS)
        .await
        .map_err(|e| LakeError::query("fs_drivers inputs", e))?
        .collect()
        .await
        .map_err(|e| LakeError::query("fs_drivers inputs", e))?;
    let mut chain = Sha256::digest(sql::FS_DRIVERS.sql.as_bytes()).to_vec();
    let mut out = BTreeMap::new();
    let mut current: Option<(String, Sha256)> = None;
    let mut close = |dt: String, h: Sha256, chain: &mut Vec<u8>| {
        let mut next = Sha256::new();
        next.update(&*chain);
        next.update(h.finalize());
        *chain = next.finalize().to_vec();
        out.insert(dt, hex(chain));
    };
    for b in &batches {
        let dts = string_column(b, 0)?;
        let lines = string_column(b, 1)?;
        for (dt, line) in dts.into_iter().zip(lines) {
            let dt = dt.unwrap_or_default();
            match &mut current {
                Some((cur, h)) if *cur == dt => h.update(line.unwrap_or_default() + "\n"),
                _ => {
                    if let Some((cur, h)) = current.take() {
                        close(cur, h, &mut chain);
                    }
                    let mut h = Sha256::new();
                    h.update(line.unwrap_or_default() + "\n");
                    current = Some((dt, h));
                }
            }
        }
    }
    if let Some((cur, h)) = current {
        close(cur, h, &mut chain);
    }
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn stored_fingerprints(loc: &LakeLocation) -> Result<BTreeMap<String, String>> {
    let Some(table) = delta::open(loc, FS_DRIVERS_INPUTS).await? else {
        return Ok(BTreeMap::new());
    };
    let ctx = sql::session();
    delta::register(&ctx, "fs_drivers_inputs", FS_DRIVERS_INPUTS, &table).await?;
    let q = r#"SELECT "dtRef", "inputHash" FROM fs_drivers_inputs"#;
    let batches =
        ctx.sql(q).await.map_err(|e| LakeError::query(q, e))?.collect().await.map_err(|e| LakeError::query(q, e))?;
    let mut out = BTreeMap::new();
    for b in &batches {
        for (dt, h) in string_column(b, 0)?.into_iter().zip(string_column(b, 1)?) {
            if let (Some(dt), Some(h)) = (dt, h) {
                out.insert(dt, h);
            }
        }
    }
    Ok(out)
}

fn fingerprint_batch(fingerprints: &BTreeMap<String, String>) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("dtRef", DataType::Utf8, false),
        Field::new("inputHash", DataType::Utf8, false),
    ]));
    let dts: ArrayRef = Arc::new(StringArray::from_iter_values(fingerprints.keys()));
    let hashes: ArrayRef = Arc::new(StringArray::from_iter_values(fingerprints.values()));
    Ok(RecordBatch::try_new(schema, vec![dts, hashes])?)
}

fn register_targets(ctx: &SessionContext, targets: &[&String]) -> Result<()> {
    let days: Vec<i32> = targets
        .iter()
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map(|date| {
                    (date - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch")).num_days() as i32
                })
                .map_err(|e| LakeError::Invariant {
                    table: SILVER_RESULTS.to_string(),
                    reason: format!("race date {d:?}: {e}"),
                })
        })
        .collect::<Result<_>>()?;
    let schema = Arc::new(Schema::new(vec![Field::new("dtRef", DataType::Date32, false)]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(Date32Array::from(days))])?;
    let mem = MemTable::try_new(schema, vec![vec![batch]]).map_err(|e| LakeError::query("fs_targets", e))?;
    ctx.register_table("fs_targets", Arc::new(mem)).map_err(|e| LakeError::query("fs_targets", e))?;
    Ok(())
}
