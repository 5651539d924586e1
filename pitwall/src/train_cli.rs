//! `pitwall train …` and `pitwall score …`: thin arms over `pitwall_trainer`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use pitwall_lake::{DEFAULT_LAKE_URI, Lake, LakeConfig};
use pitwall_openapi::RunStatus;
use pitwall_trainer::client::TrackingClient;
use pitwall_trainer::score::since_date;
use pitwall_trainer::train::learner;
use pitwall_trainer::{BoostParams, Learner, ModelKind, ModelSource, TrainOptions, score_churn, train_churn};

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
    /// A model directory as `pitwall train churn` writes it (its `model/` folder).
    #[arg(long)]
    model_dir: PathBuf,
    /// The registered model version the scores are recorded under (nrModelVersion).
    #[arg(long, default_value_t = 0)]
    model_version: i64,
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
    let report = train_churn(&lake, &options, &run_dir, |_| bar.inc(1)).await;
    bar.finish_and_clear();
    let report = report?;
    println!("{} ABT rows, model {}", report.abt_rows, report.trained.model.kind());
    for (name, value) in report.trained.metrics() {
        println!("{name}: {value:.4}");
    }
    println!("model: {}", report.files.model_dir.display());
    println!("artifacts: {}", report.files.run_dir.display());
    if let Some(uri) = &args.tracking_uri {
        let client = TrackingClient::new(uri)?;
        let run_name = report.files.run_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let info = client.log_training(&args.experiment, &run_name, &options, &report.trained, None).await?;
        // Artifacts and the logged model go through the artifact proxy, which is not used yet:
        // the run records where they are on disk.
        client.set_tag(&info.run_id, "pitwall.run_dir", &report.files.run_dir.display().to_string()).await?;
        client.end_run(&info.run_id, RunStatus::Finished).await?;
        println!("run {} logged to experiment {}", info.run_id, args.experiment);
    }
    Ok(())
}

pub async fn score(cmd: ScoreCommand) -> anyhow::Result<()> {
    let ScoreCommand::Churn(args) = cmd;
    let lake = args.lake.open()?;
    let source = ModelSource::Directory { dir: args.model_dir, version: args.model_version };
    println!("{}", score_churn(&lake, &source, args.since).await?);
    Ok(())
}
