//! The trainer's jobs as library operations: train a churn model and publish it to a
//! tracking server, and score the feature store with a registered version. The `pitwall`
//! command and the pipeline worker both call these.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use pitwall_lake::Lake;
use pitwall_openapi::{KeyValue, LoggedModelStatus, RunInfo, RunStatus};

use crate::client::TrackingClient;
use crate::error::{Result, TrainError};
use crate::publish::{CHAMPION, Promotion};
use crate::score::{ModelSource, ScoreReport, score_churn};
use crate::train::{TrainOptions, TrainReport, train_churn};

/// Where runs are written unless told otherwise, one folder per run.
pub const DEFAULT_RUNS_DIR: &str = "pitwall-data/runs";
/// Where registered versions are downloaded to unless told otherwise.
pub const DEFAULT_MODELS_DIR: &str = "pitwall-data/models";

/// The local folders the jobs write to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirs {
    /// Runs, one folder per run named by its UTC start time.
    pub runs: PathBuf,
    /// Registered versions, one folder per model and version.
    pub models: PathBuf,
}

impl Default for Dirs {
    fn default() -> Self {
        Dirs { runs: DEFAULT_RUNS_DIR.into(), models: DEFAULT_MODELS_DIR.into() }
    }
}

impl Dirs {
    /// A new run's folder: `runs/<UTC time>`.
    pub fn new_run_dir(&self) -> PathBuf {
        self.runs.join(chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string())
    }
}

/// Where a trained model is published: the run goes to `experiment`, the model is registered
/// under `registered_model` when it beats the champion.
#[derive(Debug, Clone)]
pub struct PublishTo {
    pub client: TrackingClient,
    pub experiment: String,
    pub registered_model: String,
}

/// What a job tells its caller while it runs; every method does nothing unless overridden.
pub trait JobEvents {
    /// A boosting round finished.
    fn round(&mut self) {}
    /// The model is fitted and its files are written.
    fn trained(&mut self, _report: &TrainReport) {}
    /// The run was ended on the tracking server (finished or failed).
    fn run_ended(&mut self, _run: &RunInfo, _experiment: &str, _status: RunStatus) {}
    /// A registered version was downloaded and is about to score.
    fn fetched(&mut self, _model: &str, _version: i64) {}
}

/// A caller that wants no news.
impl JobEvents for () {}

/// What [`train_and_publish`] did.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    pub report: TrainReport,
    /// The run and the registry's decision, when the model was published.
    pub published: Option<Published>,
}

/// A published run.
#[derive(Debug, Clone)]
pub struct Published {
    pub run: RunInfo,
    pub promotion: Promotion,
}

/// Trains the churn model into `run_dir`, then, with `publish`, logs the run (params, metrics,
/// dataset input), uploads its artifacts and its logged model, registers the model when its
/// out-of-time AUC beats the champion's, and ends the run FINISHED, or FAILED when publishing failed.
///
/// A tracking server that does not answer fails the job before the fit, not after it.
pub async fn train_and_publish(
    lake: &Lake,
    options: &TrainOptions,
    run_dir: &Path,
    publish: Option<&PublishTo>,
    events: &mut impl JobEvents,
) -> Result<TrainOutcome> {
    if let Some(to) = publish {
        to.client.check().await?;
    }
    let report = train_churn(lake, options, run_dir, |_| events.round()).await?;
    events.trained(&report);
    let Some(to) = publish else {
        return Ok(TrainOutcome { report, published: None });
    };
    let run_name = report.files.run_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let run = to.client.log_training(&to.experiment, &run_name, options, &report.trained, report.abt_version).await?;
    let promotion = publish_run(&to.client, &run, options, &report, &to.registered_model).await;
    let status = if promotion.is_ok() { RunStatus::Finished } else { RunStatus::Failed };
    to.client.end_run(&run.run_id, status).await?;
    events.run_ended(&run, &to.experiment, status);
    Ok(TrainOutcome { report, published: Some(Published { run, promotion: promotion? }) })
}

/// The run's artifacts, its logged model and the registry version, over the REST API.
async fn publish_run(
    client: &TrackingClient,
    run: &RunInfo,
    options: &TrainOptions,
    report: &TrainReport,
    registered_model: &str,
) -> Result<Promotion> {
    let files = &report.files;
    for path in &files.artifacts {
        let rel = path.strip_prefix(&files.run_dir).unwrap_or(path);
        let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        let bytes = std::fs::read(path).map_err(|e| TrainError::io(path, e))?;
        client.put_artifact(&run.artifact_uri, &rel, bytes).await?;
    }
    let params = report.trained.params(options).into_iter().map(|(k, v)| KeyValue::new(k, v)).collect();
    let model = client.create_logged_model(&run.experiment_id, "model", &run.run_id, params).await?;
    client.log_model_output(&run.run_id, &model.info.model_id).await?;
    let uploaded = client.upload_dir(&model.info.artifact_uri, &files.model_dir).await;
    let status = if uploaded.is_ok() { LoggedModelStatus::Ready } else { LoggedModelStatus::UploadFailed };
    client.finalize_logged_model(&model.info.model_id, status).await?;
    uploaded?;
    client.promote(registered_model, &model, report.trained.oot.test.auc).await
}

/// A registered version: by number, or by alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionRef {
    Number(i64),
    Alias(String),
}

impl VersionRef {
    /// The version `version` names, else the one `alias` points at, else the champion.
    pub fn new(version: Option<i64>, alias: Option<String>) -> Self {
        match (version, alias) {
            (Some(v), _) => VersionRef::Number(v),
            (None, alias) => VersionRef::Alias(alias.unwrap_or_else(|| CHAMPION.to_owned())),
        }
    }
}

impl std::fmt::Display for VersionRef {
    /// The number, or `@alias`, as the download call takes it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VersionRef::Number(v) => write!(f, "{v}"),
            VersionRef::Alias(alias) => write!(f, "@{alias}"),
        }
    }
}

/// Downloads `version` of registered model `model` into `models_dir/<model>-<version>`,
/// replacing what an earlier download left there.
pub async fn fetch_version(
    client: &TrackingClient,
    model: &str,
    version: &VersionRef,
    models_dir: &Path,
) -> Result<ModelSource> {
    let dir = models_dir.join(format!("{model}-{version}"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| TrainError::io(&dir, e))?;
    }
    let version = client.download_model_version(model, &version.to_string(), &dir).await?;
    Ok(ModelSource::Directory { dir, version })
}

/// Downloads `version` of `model` (see [`fetch_version`]) and scores the feature store since
/// `since` (default: the start of the latest season) into model_churn.
pub async fn fetch_and_score(
    lake: &Lake,
    client: &TrackingClient,
    model: &str,
    version: &VersionRef,
    models_dir: &Path,
    since: Option<NaiveDate>,
    events: &mut impl JobEvents,
) -> Result<ScoreReport> {
    let source = fetch_version(client, model, version, models_dir).await?;
    let ModelSource::Directory { version, .. } = &source;
    events.fetched(model, *version);
    score_churn(lake, &source, since).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_is_named_by_number_else_by_alias_else_champion() {
        assert_eq!(VersionRef::new(Some(3), Some("x".into())).to_string(), "3");
        assert_eq!(VersionRef::new(None, Some("staging".into())).to_string(), "@staging");
        assert_eq!(VersionRef::new(None, None).to_string(), "@champion");
    }

    #[test]
    fn runs_and_models_default_under_pitwall_data() {
        let dirs = Dirs::default();
        assert_eq!(dirs.models, Path::new("pitwall-data/models"));
        assert_eq!(dirs.new_run_dir().parent(), Some(Path::new("pitwall-data/runs")));
    }
}
