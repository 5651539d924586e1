//! Inspecting and maintaining the lake: `lake tables`, `lake vacuum`.

use std::fmt;

use deltalake::operations::vacuum::VacuumMode;

use crate::delta;
use crate::error::{LakeError, Result};
use crate::location::{LakeLocation, Layer, TABLES, TableId};
use crate::raw::RawStore;

/// One table of the lake as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    pub table: TableId,
    /// Current version; `None` when the table has not been built.
    pub version: Option<i64>,
    /// Rows of the current version, from the Delta log's statistics.
    pub rows: u64,
    /// Data files of the current version.
    pub files: usize,
}

/// The whole lake as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// Documents in the raw layer, all versions.
    pub raw_documents: usize,
    pub tables: Vec<TableInfo>,
}

impl fmt::Display for Inventory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<28} {:>8} {:>10} {:>7}", "table", "version", "rows", "files")?;
        writeln!(
            f,
            "{:<28} {:>8} {:>10} {:>7}",
            "raw/f1db/results (JSON)", "-", self.raw_documents, self.raw_documents
        )?;
        for t in &self.tables {
            match t.version {
                Some(v) => writeln!(f, "{:<28} {:>8} {:>10} {:>7}", t.table.to_string(), v, t.rows, t.files)?,
                None => writeln!(f, "{:<28} {:>8}", t.table.to_string(), "(none)")?,
            }
        }
        Ok(())
    }
}

pub(crate) async fn inventory(loc: &LakeLocation) -> Result<Inventory> {
    let raw = RawStore::open(loc.layer_url(Layer::Raw), loc.storage_options())?;
    let raw_documents = raw.count_documents().await?;
    let mut tables = Vec::new();
    for id in TABLES {
        let info = match delta::open(loc, id).await? {
            Some(t) => {
                let (rows, files) = delta::row_count(id, &t)?;
                TableInfo { table: id, version: t.version().and_then(|v| i64::try_from(v).ok()), rows, files }
            }
            None => TableInfo { table: id, version: None, rows: 0, files: 0 },
        };
        tables.push(info);
    }
    Ok(Inventory { raw_documents, tables })
}

/// What vacuum did (or would do) to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VacuumReport {
    pub table: TableId,
    /// Files no longer referenced by versions inside the retention period.
    pub files_deleted: usize,
    pub dry_run: bool,
}

impl fmt::Display for VacuumReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run { "would delete" } else { "deleted" };
        write!(f, "{}: {verb} {} files", self.table, self.files_deleted)
    }
}

/// Deletes data files that no version within `retention` needs. Raw documents are the lake's
/// archive and are never vacuumed.
pub(crate) async fn vacuum(
    loc: &LakeLocation,
    retention: chrono::Duration,
    dry_run: bool,
) -> Result<Vec<VacuumReport>> {
    let mut reports = Vec::new();
    for id in TABLES {
        let Some(table) = delta::open(loc, id).await? else {
            continue;
        };
        let (_, metrics) = table
            .vacuum()
            .with_retention_period(retention)
            // The retention is the operator's explicit choice; the table default (7 days)
            // would refuse shorter ones.
            .with_enforce_retention_duration(false)
            .with_mode(VacuumMode::Full)
            .with_dry_run(dry_run)
            .await
            .map_err(|e| LakeError::delta(id.to_string(), e))?;
        reports.push(VacuumReport { table: id, files_deleted: metrics.files_deleted.len(), dry_run });
    }
    Ok(reports)
}
