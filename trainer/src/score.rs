//! Scoring: a churn model (ONNX, run by ONNX Runtime) over the feature store's rows since a
//! date, written to analytics `f1/model_churn`, replacing that model version's rows in one
//! Delta commit.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use deltalake::DeltaTable;
use deltalake::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::protocol::SaveMode;
use futures::StreamExt;
use pitwall_lake::{Lake, Layer, TableId};
use tokio::sync::mpsc;

use crate::error::{Result, TrainError};
use crate::feature_rows::{FeatureRows, concat_strings};
use crate::features::FeatureSpec;
use crate::frame::{DRIVER, DT_REF, TEAM};
use crate::mlmodel::ModelDir;
use crate::runtime::OnnxModel;

/// analytics `f1/model_churn`: churn probabilities per model version, partitioned by it.
pub const MODEL_CHURN: TableId = TableId { layer: Layer::Analytics, path: "f1/model_churn" };
/// The name fs_drivers is known by in error messages.
const FS_DRIVERS_NAME: &str = "silver/f1/fs_drivers";

/// Where the model to score with comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A model directory on local disk (as `pitwall train` writes it, or as downloaded from
    /// the registry), whose scores are recorded under `version`.
    Directory { dir: PathBuf, version: i64 },
}

impl ModelSource {
    /// The model directory and the version its scores are recorded under.
    pub fn resolve(&self) -> Result<(ModelDir, i64)> {
        match self {
            ModelSource::Directory { dir, version } => Ok((ModelDir::open(dir)?, *version)),
        }
    }
}

/// What a scoring run wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreReport {
    pub model_version: i64,
    /// The first dtRef scored.
    pub since: NaiveDate,
    pub rows: usize,
    /// The model_churn version committed.
    pub table_version: i64,
    pub elapsed: Duration,
    pub phases: Phases,
}

/// Where a scoring run's time went.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Phases {
    /// Until the scan ended, with the rows scored alongside.
    pub read: Duration,
    /// Scoring what was left when the scan ended, and gathering the output.
    pub score: Duration,
    /// The model_churn commit.
    pub write: Duration,
}

impl std::fmt::Display for ScoreReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{MODEL_CHURN}: version {}, {} rows of model version {} since {} ({:.2}s: read {:.2}s, score {:.2}s, write {:.2}s)",
            self.table_version,
            self.rows,
            self.model_version,
            self.since,
            self.elapsed.as_secs_f64(),
            self.phases.read.as_secs_f64(),
            self.phases.score.as_secs_f64(),
            self.phases.write.as_secs_f64(),
        )
    }
}

/// The first race date of the latest season in fs_drivers.
pub async fn latest_season_start(lake: &Lake) -> Result<NaiveDate> {
    let batches = lake.latest_season_start().await?;
    let value = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .map(|b| deltalake::arrow::util::display::array_value_to_string(b.column(0), 0))
        .transpose()?
        .filter(|v| !v.is_empty())
        .ok_or_else(|| TrainError::EmptyTable { table: FS_DRIVERS_NAME.into() })?;
    parse_date(&value)
}

fn parse_date(value: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|e| TrainError::Settings(format!("{value:?} is not a YYYY-MM-DD date: {e}")))
}

/// fs_drivers rows with dtRef on or after `since`, checked against `features`. Rows come in
/// the table's own order: each is scored on its own, and sorting a few hundred thousand wide
/// rows would cost more than the scoring.
pub async fn read_feature_rows(lake: &Lake, features: &FeatureSpec, since: NaiveDate) -> Result<FeatureRows> {
    let batches = lake.fs_drivers_since(since).await?;
    FeatureRows::new(FS_DRIVERS_NAME, batches, features, &[DRIVER, DT_REF])
}

/// Rows encoded and run per ONNX Runtime call: the input and the graph's intermediate tensors
/// stay a few tens of MB, reused from call to call, whatever the number of rows.
const SCORE_CHUNK: usize = 32_768;

/// Churn probabilities of `rows` by the ONNX model.
pub fn score_rows(model: &mut OnnxModel, features: &FeatureSpec, rows: &FeatureRows) -> Result<Vec<f64>> {
    let mut proba = Vec::with_capacity(rows.len());
    if features.typed() {
        rows.for_each_input_chunk(features, SCORE_CHUNK, |inputs| {
            proba.extend(model.run_inputs(inputs)?);
            Ok(())
        })?;
    } else {
        rows.for_each_chunk(features, SCORE_CHUNK, |x, _| {
            proba.extend(model.run(x, features.width())?);
            Ok(())
        })?;
    }
    if proba.len() != rows.len() {
        return Err(TrainError::Settings(format!("the model returned {} values for {} rows", proba.len(), rows.len())));
    }
    Ok(proba)
}

/// What a scoring run keeps of each row: its keys, as plain strings, and its probability.
#[derive(Debug, Default)]
pub struct Scores {
    drivers: Vec<ArrayRef>,
    teams: Vec<ArrayRef>,
    dt_refs: Vec<ArrayRef>,
    proba: Vec<f64>,
}

impl Scores {
    pub fn len(&self) -> usize {
        self.proba.len()
    }

    pub fn is_empty(&self) -> bool {
        self.proba.is_empty()
    }

    /// Scores `rows` and keeps their keys; the rows themselves can then go.
    pub fn add(&mut self, model: &mut OnnxModel, features: &FeatureSpec, rows: &FeatureRows) -> Result<()> {
        let proba = score_rows(model, features, rows)?;
        self.drivers.push(rows.strings(DRIVER)?);
        self.teams.push(rows.strings(TEAM)?);
        self.dt_refs.push(rows.strings(DT_REF)?);
        self.proba.extend(proba);
        Ok(())
    }

    /// The model_churn rows of this scoring run.
    pub fn into_batch(self, model_version: i64, dt_model: &str) -> Result<RecordBatch> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("idDriver", DataType::Utf8, false),
            Field::new("idTeam", DataType::Utf8, true),
            Field::new("dtModel", DataType::Utf8, false),
            Field::new("nrModelVersion", DataType::Int64, false),
            Field::new("dtRef", DataType::Utf8, false),
            Field::new("pctProbaChurn", DataType::Float64, false),
        ]));
        let n = self.proba.len();
        let columns: Vec<ArrayRef> = vec![
            concat_strings(&self.drivers)?,
            concat_strings(&self.teams)?,
            Arc::new(StringArray::from_iter_values(std::iter::repeat_n(dt_model, n))),
            Arc::new(Int64Array::from(vec![model_version; n])),
            concat_strings(&self.dt_refs)?,
            Arc::new(Float64Array::from(self.proba)),
        ];
        Ok(RecordBatch::try_new(schema, columns)?)
    }
}

/// Scores batches of fs_drivers rows as they arrive, on the thread it is called on, gathering
/// them into calls of at most [`SCORE_CHUNK`] rows: ONNX Runtime pays a fixed cost per call
/// and the scan yields one small batch per partition file.
fn score_batches(
    model: &mut OnnxModel,
    features: &FeatureSpec,
    mut batches: mpsc::Receiver<RecordBatch>,
) -> Result<Scores> {
    let mut scores = Scores::default();
    let mut pending: Vec<RecordBatch> = Vec::new();
    let mut pending_rows = 0;
    let mut flush = |pending: &mut Vec<RecordBatch>, scores: &mut Scores| -> Result<()> {
        let rows = FeatureRows::new(FS_DRIVERS_NAME, std::mem::take(pending), features, &[DRIVER, DT_REF])?;
        scores.add(model, features, &rows)
    };
    while let Some(batch) = batches.blocking_recv() {
        if pending_rows + batch.num_rows() > SCORE_CHUNK && !pending.is_empty() {
            flush(&mut pending, &mut scores)?;
            pending_rows = 0;
        }
        pending_rows += batch.num_rows();
        pending.push(batch);
    }
    if !pending.is_empty() {
        flush(&mut pending, &mut scores)?;
    }
    Ok(scores)
}

/// Replaces model version `model_version`'s rows of model_churn with `batch`, in one commit.
pub async fn write_scores(lake: &Lake, batch: RecordBatch, model_version: i64) -> Result<i64> {
    let loc = lake.location();
    let url = loc.table_url(MODEL_CHURN);
    if let Ok(path) = url.to_file_path() {
        std::fs::create_dir_all(&path).map_err(|e| TrainError::io(&path, e))?;
    }
    let table = DeltaTable::try_from_url_with_storage_options(url, loc.storage_options().clone())
        .await
        .map_err(|e| TrainError::delta(MODEL_CHURN.to_string(), e))?;
    let exists = table.version().is_some();
    let mut write =
        table.write(vec![batch]).with_save_mode(SaveMode::Overwrite).with_partition_columns(["nrModelVersion"]);
    if exists {
        write = write.with_replace_where(format!("\"nrModelVersion\" = {model_version}"));
    } else {
        // Every scoring run is a commit, and every commit first replays the log: a checkpoint
        // every ten commits keeps that short (Delta's default is a hundred).
        write = write.with_configuration([("delta.checkpointInterval", Some("10"))]);
    }
    let table = write.await.map_err(|e| TrainError::delta(MODEL_CHURN.to_string(), e))?;
    Ok(table.version().and_then(|v| i64::try_from(v).ok()).unwrap_or(0))
}

/// Scores fs_drivers rows since `since` (default: the start of the latest season) with the
/// model of `source` and writes them to model_churn. Everything is checked and computed before
/// the single commit: a failure leaves model_churn as it was.
///
/// The rows are scored as the scan yields them, by ONNX Runtime on a thread of its own, so that
/// reading and scoring overlap and only the rows' keys are kept.
pub async fn score_churn(lake: &Lake, source: &ModelSource, since: Option<NaiveDate>) -> Result<ScoreReport> {
    let started = Instant::now();
    let (model_dir, model_version) = source.resolve()?;
    let since = match since {
        Some(d) => d,
        None => latest_season_start(lake).await?,
    };
    let (rows_in, rows_out) = mpsc::channel::<RecordBatch>(SCAN_BATCHES_IN_FLIGHT);
    let onnx_path = model_dir.onnx_path.clone();
    let features = model_dir.features.clone();
    let scoring = tokio::task::spawn_blocking(move || {
        let mut model = OnnxModel::load(&onnx_path)?;
        score_batches(&mut model, &features, rows_out)
    });
    let read = read_into(lake, since, rows_in).await;
    let read_time = started.elapsed();
    let scores = scoring.await.map_err(|e| TrainError::RuntimeLoad(format!("the scoring thread failed: {e}")))?;
    // A scan error stops the scoring; a scoring error (say, a missing column) stops the scan,
    // which then only reports that its rows were no longer taken.
    let scores = match (read, scores) {
        (Err(e), _) | (Ok(()), Err(e)) => return Err(e),
        (Ok(()), Ok(scores)) => scores,
    };
    if scores.is_empty() {
        return Err(TrainError::EmptyTable { table: format!("{FS_DRIVERS_NAME} since {since}") });
    }
    let rows = scores.len();
    let dt_model = model_dir.created().map(|c| c.get(..19).unwrap_or(c).to_string()).unwrap_or_default();
    let batch = scores.into_batch(model_version, &dt_model)?;
    let score_time = started.elapsed() - read_time;
    let table_version = write_scores(lake, batch, model_version).await?;
    let elapsed = started.elapsed();
    let phases = Phases { read: read_time, score: score_time, write: elapsed - read_time - score_time };
    let report = ScoreReport { model_version, since, rows, table_version, elapsed, phases };
    tracing::info!(%report, "scored");
    Ok(report)
}

/// Batches the scan may run ahead of the scoring: enough to keep both busy, few enough that
/// memory stays a few chunks.
const SCAN_BATCHES_IN_FLIGHT: usize = 64;

/// Sends fs_drivers rows since `since` to `rows`, until the scan ends or the receiver stops.
async fn read_into(lake: &Lake, since: NaiveDate, rows: mpsc::Sender<RecordBatch>) -> Result<()> {
    let mut scan = lake.stream_fs_drivers_since(since).await?;
    while let Some(batch) = scan.next().await {
        if rows.send(batch?).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// Parses a `--since` value.
pub fn since_date(value: &str) -> Result<NaiveDate> {
    parse_date(value)
}
