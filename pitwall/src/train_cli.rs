//! `pitwall train …` and `pitwall score …`: thin arms over `pitwall_trainer`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use pitwall_lake::{DEFAULT_LAKE_URI, Lake, LakeConfig};
use pitwall_openapi::{KeyValue, LoggedModelStatus, RunInfo, RunStatus};
use pitwall_trainer::client::TrackingClient;
use pitwall_trainer::publish::{CHAMPION, Promotion};
use pitwall_trainer::score::since_date;
use pitwall_trainer::train::learner;
use pitwall_trainer::{
    BoostParams, Learner, ModelKind, ModelSource, TrainOptions, TrainReport, score_churn, train_churn,
};

/// `pitwall train <model>`.
#[derive(Debug, Subcommand)]
pub enum TrainCommand {
    /// Fit the churn model on analytics f1/abt_churn and write the run's model directory and
    /// artifacts.
    Churn(TrainChurnArgs),
}

#[derive(Debug, Args)]
pub struct TrainChurnArgs {
    /// The classifier: tree-ensemble (AdaBoost over shallow trees) or logistic.
    #[arg(long, default_value = "tree-ensemble")]
    model: ModelKind,
    /// MLflow tracking server to log the run to (params, metrics, dataset input, tags).
    #[arg(long, env = "MLFLOW_TRACKING_URI")]
    tracking_uri: Option<String>,
    /// MLflow experiment name.
    #[arg(long, default_value = "f1_churn")]
    experiment: String,
    /// Registered model the version is registered under when it beats the champion.
    #[arg(long, default_value = "f1_churn")]
    registered_model: String,
    /// Boosting rounds.
    #[arg(long, default_value_t = BoostParams::default().n_estimators)]
    n_estimators: usize,
    /// Boosting learning rate.
    #[arg(long, default_value_t = BoostParams::default().learning_rate)]
    learning_rate: f64,
    /// Depth of each boosted tree (1: stumps).
    #[arg(long, default_value_t = BoostParams::default().max_depth)]
    max_depth: usize,
    /// Tree fitter: presorted (columns sorted once) or linfa (linfa-trees' DecisionTree).
    #[arg(long, default_value = "presorted", value_parser = learner)]
    learner: Learner,
    /// Seed of the train/test split.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Where the run's files go (default: ./pitwall-data/runs/<UTC time>).
    #[arg(long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    lake: LakeUri,
}

/// `pitwall score <model>`.
#[derive(Debug, Subcommand)]
pub enum ScoreCommand {
    /// Score the feature store with a churn model into analytics f1/model_churn.
    Churn(ScoreChurnArgs),
}

#[derive(Debug, Args)]
pub struct ScoreChurnArgs {
    /// A model directory as `pitwall train churn` writes it (its `model/` folder); without it
    /// the model is downloaded from the registry.
    #[arg(long, conflicts_with = "alias")]
    model_dir: Option<PathBuf>,
    /// The registered version to score with (and the nrModelVersion the scores are recorded
    /// under; 0 for a model directory given without one).
    #[arg(long)]
    model_version: Option<i64>,
    /// The alias of the registered version to score with (default: champion).
    #[arg(long, conflicts_with = "model_version")]
    alias: Option<String>,
    /// Registered model to score with.
    #[arg(long, default_value = "f1_churn")]
    registered_model: String,
    /// MLflow tracking server holding the registry.
    #[arg(long, env = "MLFLOW_TRACKING_URI")]
    tracking_uri: Option<String>,
    /// First dtRef to score (YYYY-MM-DD); default: the first race of the latest season.
    #[arg(long, value_parser = |s: &str| since_date(s).map_err(|e| e.to_string()))]
    since: Option<chrono::NaiveDate>,
    #[command(flatten)]
    lake: LakeUri,
}

#[derive(Debug, Args)]
pub struct LakeUri {
    /// Lake root: a folder, file://, s3://bucket/prefix, or s3://{layer} for a bucket per layer.
    #[arg(long, env = "PITWALL_LAKE_URI", default_value = DEFAULT_LAKE_URI)]
    lake_uri: String,
}

impl LakeUri {
    fn open(&self) -> anyhow::Result<Lake> {
        Ok(Lake::open(&LakeConfig::new(&self.lake_uri))?)
    }
}

pub async fn train(cmd: TrainCommand) -> anyhow::Result<()> {
    let TrainCommand::Churn(args) = cmd;
    let options = TrainOptions {
        model: args.model,
        boost: BoostParams {
            n_estimators: args.n_estimators,
            learning_rate: args.learning_rate,
            max_depth: args.max_depth,
            learner: args.learner,
        },
        seed: args.seed,
        ..TrainOptions::default()
    };
    let run_dir = args.output.unwrap_or_else(|| {
        PathBuf::from("pitwall-data/runs").join(chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string())
    });
    let bar = match options.model {
        ModelKind::TreeEnsemble => ProgressBar::new(options.boost.n_estimators as u64).with_style(
            ProgressStyle::with_template("boosting [{bar:40}] {pos}/{len} ({elapsed})")
                .expect("a valid template")
                .progress_chars("=> "),
        ),
        ModelKind::Logistic => ProgressBar::hidden(),
    };
    let lake = args.lake.open()?;
    // A registry that cannot be reached fails the command before the fit, not after it.
    let client = args.tracking_uri.as_deref().map(TrackingClient::new).transpose()?;
    if let Some(client) = &client {
        client.check().await?;
    }
    let report = train_churn(&lake, &options, &run_dir, |_| bar.inc(1)).await;
    bar.finish_and_clear();
    let report = report?;
    println!("{} ABT rows, model {}", report.abt_rows, report.trained.model.kind());
    for (name, value) in report.trained.metrics() {
        println!("{name}: {value:.4}");
    }
    println!("model: {}", report.files.model_dir.display());
    println!("artifacts: {}", report.files.run_dir.display());
    if let Some(client) = &client {
        let run_name = report.files.run_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let info =
            client.log_training(&args.experiment, &run_name, &options, &report.trained, report.abt_version).await?;
        let published = publish(client, &info, &options, &report, &args.registered_model).await;
        let status = if published.is_ok() { RunStatus::Finished } else { RunStatus::Failed };
        client.end_run(&info.run_id, status).await?;
        println!("run {} logged to experiment {}", info.run_id, args.experiment);
        match published? {
            Promotion::Registered { version, champion: true } => {
                println!("registered {} version {version}: the new champion", args.registered_model)
            }
            Promotion::Registered { version, champion: false } => println!(
                "registered {} version {version}; a better version registered at the same time stays champion",
                args.registered_model
            ),
            Promotion::Kept { champion_version, champion_auc } => println!(
                "not registered: champion version {champion_version} has auc_test {champion_auc:.4}, at least this run's"
            ),
        }
    }
    Ok(())
}

/// The run's artifacts, its logged model and the registry version, over the REST API.
async fn publish(
    client: &TrackingClient,
    run: &RunInfo,
    options: &TrainOptions,
    report: &TrainReport,
    registered_model: &str,
) -> anyhow::Result<Promotion> {
    let files = &report.files;
    for path in &files.artifacts {
        let rel = path.strip_prefix(&files.run_dir).unwrap_or(path);
        let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        client.put_artifact(&run.artifact_uri, &rel, std::fs::read(path)?).await?;
    }
    let params = options.params().into_iter().map(|(k, v)| KeyValue::new(k, v)).collect();
    let model = client.create_logged_model(&run.experiment_id, "model", &run.run_id, params).await?;
    client.log_model_output(&run.run_id, &model.info.model_id).await?;
    let uploaded = client.upload_dir(&model.info.artifact_uri, &files.model_dir).await;
    let status = if uploaded.is_ok() { LoggedModelStatus::Ready } else { LoggedModelStatus::UploadFailed };
    client.finalize_logged_model(&model.info.model_id, status).await?;
    uploaded?;
    let auc_test = report.trained.metrics().iter().find(|(k, _)| *k == "auc_test").map_or(f64::NAN, |(_, v)| *v);
    Ok(client.promote(registered_model, &model, auc_test).await?)
}

pub async fn score(cmd: ScoreCommand) -> anyhow::Result<()> {
    let ScoreCommand::Churn(args) = cmd;
    let lake = args.lake.open()?;
    let source = match args.model_dir {
        Some(dir) => ModelSource::Directory { dir, version: args.model_version.unwrap_or(0) },
        None => {
            let uri = args.tracking_uri.as_deref().ok_or_else(|| {
                anyhow::anyhow!(
                    "give --model-dir, or --tracking-uri (MLFLOW_TRACKING_URI) to score a registered version"
                )
            })?;
            let client = TrackingClient::new(uri)?;
            let wanted = match (args.model_version, args.alias) {
                (Some(v), _) => v.to_string(),
                (None, alias) => format!("@{}", alias.as_deref().unwrap_or(CHAMPION)),
            };
            let dir = PathBuf::from("pitwall-data/models").join(format!("{}-{}", args.registered_model, wanted));
            if dir.exists() {
                std::fs::remove_dir_all(&dir)?;
            }
            let version = client.download_model_version(&args.registered_model, &wanted, &dir).await?;
            println!("scoring with {} version {version}", args.registered_model);
            ModelSource::Directory { dir, version }
        }
    };
    println!("{}", score_churn(&lake, &source, args.since).await?);
    Ok(())
}
