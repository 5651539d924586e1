//! The F1 lake: F1DB → raw (JSON) → bronze → silver → feature store → ABT, as Delta tables on a
//! local folder or S3, each transformation a SQL file run by DataFusion.
//!
//! ```no_run
//! # async fn run() -> pitwall_lake::Result<()> {
//! use pitwall_lake::{Lake, LakeConfig, SeasonRange};
//! let lake = Lake::open(&LakeConfig::new("./pitwall-data/lake"))?;
//! lake.ingest_f1db("../shared/f1db".as_ref(), SeasonRange::ALL).await?;
//! for step in lake.build(false).await? {
//!     println!("{step}");
//! }
//! # Ok(()) }
//! ```
//!
//! F1 data from F1DB (<https://github.com/f1db/f1db>), CC BY 4.0.

#![forbid(unsafe_code)]

mod abt;
mod bronze;
mod config;
mod delta;
mod error;
mod f1db;
mod fs_drivers;
mod ingest;
mod location;
mod maintenance;
mod progress;
mod raw;
mod reads;
mod seasons;
mod silver;
pub mod sql;

use std::path::Path;
use std::sync::Arc;

use deltalake::datafusion::dataframe::DataFrame;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};

pub use config::{DEFAULT_LAKE_URI, LakeConfig, S3Settings};
pub use deltalake::arrow;
pub use deltalake::arrow::array::RecordBatch;
pub use error::{LakeError, Result, SourceProblem};
pub use f1db::SessionKind;
pub use location::{
    ABT_CHURN, BRONZE_RESULTS, FS_DRIVERS, FS_DRIVERS_INPUTS, LakeLocation, Layer, SILVER_RESULTS, SILVER_SESSIONS,
    TABLES, TableId,
};
pub use maintenance::{Inventory, TableInfo, VacuumReport};
pub use progress::{IngestReport, Outcome, Progress, Silent, StepReport};
pub use seasons::SeasonRange;

/// A lake at a resolved location.
#[derive(Clone)]
pub struct Lake {
    location: LakeLocation,
    progress: Arc<dyn Progress>,
}

impl std::fmt::Debug for Lake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lake").field("location", &self.location).finish_non_exhaustive()
    }
}

/// The name each table is registered under for [`Lake::sql`] (and in the SQL files).
pub const QUERY_NAMES: [(TableId, &str); 6] = [
    (BRONZE_RESULTS, "bronze_results"),
    (SILVER_RESULTS, "silver_results"),
    (SILVER_SESSIONS, "silver_sessions"),
    (FS_DRIVERS, "fs_drivers"),
    (FS_DRIVERS_INPUTS, "fs_drivers_inputs"),
    (ABT_CHURN, "abt_churn"),
];

impl Lake {
    /// Resolves the configuration; local folders are created.
    pub fn open(config: &LakeConfig) -> Result<Self> {
        Ok(Self { location: LakeLocation::resolve(config)?, progress: Arc::new(Silent) })
    }

    /// Reports long steps to `progress`.
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.progress = progress;
        self
    }

    pub fn location(&self) -> &LakeLocation {
        &self.location
    }

    /// Loads the race, qualifying and sprint results of an F1DB source tree into the raw
    /// layer. Sources identical to their latest raw version are not written again.
    pub async fn ingest_f1db(&self, source: &Path, seasons: SeasonRange) -> Result<IngestReport> {
        ingest::ingest_f1db(&self.location, source, seasons, self.progress.clone()).await
    }

    /// bronze `f1/results` from the raw layer's newest versions.
    pub async fn build_bronze(&self) -> Result<StepReport> {
        bronze::build(&self.location, self.progress.clone()).await
    }

    /// silver `f1/results` and `f1/sessions` from bronze.
    pub async fn build_silver(&self) -> Result<Vec<StepReport>> {
        silver::build(&self.location).await
    }

    /// silver `f1/fs_drivers`: the dtRefs that are missing or whose inputs changed, or every
    /// race date when `full`.
    pub async fn build_fs_drivers(&self, full: bool) -> Result<Vec<StepReport>> {
        fs_drivers::build(&self.location, full, self.progress.clone()).await
    }

    /// analytics `f1/abt_churn` from fs_drivers and silver results.
    pub async fn build_abt_churn(&self) -> Result<StepReport> {
        abt::build(&self.location).await
    }

    /// Every layer after raw, in order. Each step writes only when its inputs changed.
    pub async fn build(&self, full: bool) -> Result<Vec<StepReport>> {
        let mut reports = vec![self.build_bronze().await?];
        reports.extend(self.build_silver().await?);
        reports.extend(self.build_fs_drivers(full).await?);
        reports.push(self.build_abt_churn().await?);
        Ok(reports)
    }

    /// Every table with its version, rows and files, and the raw layer's document count.
    pub async fn tables(&self) -> Result<Inventory> {
        maintenance::inventory(&self.location).await
    }

    /// Deletes data files no version within `retention` needs.
    pub async fn vacuum(&self, retention: chrono::Duration, dry_run: bool) -> Result<Vec<VacuumReport>> {
        maintenance::vacuum(&self.location, retention, dry_run).await
    }

    /// Runs a query over the lake's tables, registered under [`QUERY_NAMES`] (tables not built
    /// yet are absent), and collects its rows.
    pub async fn sql(&self, query: &str) -> Result<Vec<RecordBatch>> {
        self.plan(query).await?.collect().await.map_err(|e| LakeError::query(query, e))
    }

    /// Runs a query and yields its rows batch by batch as the scan produces them, so that a
    /// caller working through a large table never holds all of it.
    pub async fn sql_stream(&self, query: &str) -> Result<BoxStream<'static, Result<RecordBatch>>> {
        let stream = self.plan(query).await?.execute_stream().await.map_err(|e| LakeError::query(query, e))?;
        let query = query.to_owned();
        Ok(stream.map_err(move |e| LakeError::query(query.as_str(), e)).boxed())
    }

    /// Plans `query`. Only the tables it names are opened: opening one reads its Delta log,
    /// which for fs_drivers' thousand partitions is most of a small query's time.
    async fn plan(&self, query: &str) -> Result<DataFrame> {
        let ctx = sql::session();
        for (id, name) in QUERY_NAMES.into_iter().filter(|(_, name)| names_identifier(query, name)) {
            if let Some(table) = delta::open(&self.location, id).await? {
                delta::register(&ctx, name, id, &table).await?;
            }
        }
        ctx.sql(query).await.map_err(|e| LakeError::query(query, e))
    }
}

/// Whether `query` contains `name` as a whole identifier (not inside a longer one, as
/// `fs_drivers` is inside `fs_drivers_inputs`).
fn names_identifier(query: &str, name: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    query.match_indices(name).any(|(at, _)| {
        let before = query[..at].chars().next_back();
        let after = query[at + name.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

#[cfg(test)]
mod tests {
    use super::names_identifier;

    #[test]
    fn a_query_names_a_table_only_as_a_whole_identifier() {
        assert!(names_identifier("SELECT * FROM fs_drivers WHERE x", "fs_drivers"));
        assert!(names_identifier("SELECT * FROM fs_drivers", "fs_drivers"));
        assert!(names_identifier(r#"SELECT a FROM "fs_drivers""#, "fs_drivers"));
        assert!(!names_identifier("SELECT * FROM fs_drivers_inputs", "fs_drivers"));
        assert!(names_identifier("SELECT * FROM fs_drivers_inputs JOIN fs_drivers USING (k)", "fs_drivers"));
        assert!(!names_identifier("SELECT * FROM silver_results", "results"));
        assert!(!names_identifier("SELECT 1", "abt_churn"));
    }
}
