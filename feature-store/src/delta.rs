//! Opening, reading and writing the lake's Delta tables.

use std::collections::HashMap;

use deltalake::arrow::array::RecordBatch;
use deltalake::datafusion::prelude::SessionContext;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, DeltaTableError};
use futures::TryStreamExt;
use serde_json::Value;

use crate::error::{LakeError, Result};
use crate::location::{LakeLocation, TableId};

/// The commit-metadata key under which a derived table records the versions of the tables it
/// was computed from, so that a rebuild with unchanged inputs can be skipped.
const INPUTS_KEY: &str = "pitwall.inputs";

/// Opens a table; `None` when nothing has been written there yet.
pub(crate) async fn open(loc: &LakeLocation, id: TableId) -> Result<Option<DeltaTable>> {
    if let Ok(path) = loc.table_url(id).to_file_path()
        && !path.exists()
    {
        return Ok(None);
    }
    let table = open_or_new(loc, id).await?;
    Ok(table.version().is_some().then_some(table))
}

/// Opens a table, or returns a handle that a first write will create.
pub(crate) async fn open_or_new(loc: &LakeLocation, id: TableId) -> Result<DeltaTable> {
    // delta-rs wants a local table's folder to exist before the first commit.
    if let Ok(path) = loc.table_url(id).to_file_path() {
        std::fs::create_dir_all(&path)
            .map_err(|e| LakeError::Config(format!("cannot create {}: {e}", path.display())))?;
    }
    DeltaTable::try_from_url_with_storage_options(loc.table_url(id), loc.storage_options().clone())
        .await
        .map_err(|e| LakeError::delta(id.to_string(), e))
}

/// Registers the current version of `table` as `name` in `ctx`.
pub(crate) async fn register(ctx: &SessionContext, name: &str, id: TableId, table: &DeltaTable) -> Result<()> {
    table.update_datafusion_session(&ctx.state()).map_err(|e| LakeError::delta(id.to_string(), e))?;
    let provider = table.table_provider().await.map_err(|e| LakeError::query(format!("scan of {id}"), e))?;
    ctx.register_table(name, provider).map_err(|e| LakeError::query(format!("registering {id}"), e))?;
    Ok(())
}

/// The table versions recorded by the latest commit of `table`, if it recorded any.
pub(crate) async fn recorded_inputs(id: TableId, table: &DeltaTable) -> Result<HashMap<String, i64>> {
    let infos: Vec<_> = table.history(Some(1)).try_collect().await.map_err(|e| LakeError::delta(id.to_string(), e))?;
    let inputs = infos
        .first()
        .and_then(|c| c.info.get(INPUTS_KEY))
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_i64()?))).collect())
        .unwrap_or_default();
    Ok(inputs)
}

/// How a write replaces what is there.
pub(crate) enum Replace<'a> {
    /// The whole table.
    All,
    /// Only the rows matching a SQL predicate (Delta's replaceWhere); the new rows must match it.
    Where(&'a str),
}

/// Writes `batches` as one commit. `inputs` is recorded in the commit's metadata.
pub(crate) async fn write(
    table: DeltaTable,
    id: TableId,
    batches: Vec<RecordBatch>,
    partition_by: Option<&str>,
    replace: Replace<'_>,
    inputs: &HashMap<String, i64>,
) -> Result<DeltaTable> {
    let props = CommitProperties::default().with_metadata([(
        INPUTS_KEY.to_string(),
        serde_json::to_value(inputs).expect("a map of versions always serialises"),
    )]);
    let mut builder = table.write(batches).with_save_mode(SaveMode::Overwrite).with_commit_properties(props);
    if let Some(col) = partition_by {
        builder = builder.with_partition_columns([col]);
    }
    if let Replace::Where(predicate) = replace {
        builder = builder.with_replace_where(predicate.to_string());
    }
    builder.await.map_err(|e: DeltaTableError| LakeError::delta(id.to_string(), e))
}

/// Rows in the current version, from the log's file statistics (no data is read).
pub(crate) fn row_count(id: TableId, table: &DeltaTable) -> Result<(u64, usize)> {
    let snapshot = table.snapshot().map_err(|e| LakeError::delta(id.to_string(), e))?;
    let files = snapshot.log_data();
    let rows = files.iter().map(|f| f.num_records().unwrap_or(0) as u64).sum();
    Ok((rows, files.num_files()))
}

/// The version of `table`, or -1 when it does not exist, as recorded in commit metadata.
pub(crate) fn version_of(table: Option<&DeltaTable>) -> i64 {
    table.and_then(DeltaTable::version).and_then(|v| i64::try_from(v).ok()).unwrap_or(-1)
}
