//! `pitwall train …` and `pitwall score …`: thin arms over `pitwall_trainer`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use pitwall_openapi::{RunInfo, RunStatus};
use pitwall_trainer::client::TrackingClient;
use pitwall_trainer::publish::Promotion;
use pitwall_trainer::score::since_date;
use pitwall_trainer::{
    Dirs, JobEvents, ModelKind, ModelSource, PublishTo, Search, TrainOptions, TrainReport, VersionRef, fetch_and_score,
    score_churn, train_and_publish,
};

use crate::args::LakeArgs;

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
    /// Boosting rounds, fixed (default: chosen by early stopping on the validation seasons).
    #[arg(long)]
    n_estimators: Option<usize>,
    /// Boosting learning rate, fixed (default: chosen by validation among 0.05 and 0.1).
    #[arg(long)]
    learning_rate: Option<f64>,
    /// Depth of each boosted tree (default 1, stumps: depth 2 validated worse).
    #[arg(long)]
    max_depth: Option<usize>,
    /// Seasons before the test season (the latest labelled one) to validate on.
    #[arg(long, default_value_t = TrainOptions::default().validation_seasons)]
    validation_seasons: usize,
    /// Seed of the train/test split.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Where the run's files go (default: ./pitwall-data/runs/<UTC time>).
    #[arg(long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    lake: LakeArgs,
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
    lake: LakeArgs,
}

pub async fn train(cmd: TrainCommand) -> anyhow::Result<()> {
    let TrainCommand::Churn(args) = cmd;
    let options = TrainOptions {
        model: args.model,
        search: Search::default().pinned(args.learning_rate, args.max_depth, args.n_estimators),
        validation_seasons: args.validation_seasons,
        seed: args.seed,
        ..TrainOptions::default()
    };
    let run_dir = args.output.unwrap_or_else(|| Dirs::default().new_run_dir());
    let bar = match options.model {
        // The rounds are known only once validation has chosen them.
        ModelKind::TreeEnsemble => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} validating, then boosting: {pos} rounds ({elapsed})")
                .expect("a valid template"),
        ),
        ModelKind::Logistic => ProgressBar::hidden(),
    };
    let lake = args.lake.open()?;
    let publish = match args.tracking_uri.as_deref() {
        Some(uri) => Some(PublishTo {
            client: TrackingClient::new(uri)?,
            experiment: args.experiment,
            registered_model: args.registered_model.clone(),
        }),
        None => None,
    };
    let outcome = train_and_publish(&lake, &options, &run_dir, publish.as_ref(), &mut Printer { bar: &bar }).await;
    bar.finish_and_clear();
    if let Some(published) = outcome?.published {
        let model = &args.registered_model;
        match published.promotion {
            Promotion::Registered { version, champion: true } => {
                println!("registered {model} version {version}: the new champion")
            }
            Promotion::Registered { version, champion: false } => println!(
                "registered {model} version {version}; a better version registered at the same time stays champion"
            ),
            Promotion::Kept { champion_version, champion_auc } => println!(
                "not registered: champion version {champion_version} has auc_oot {champion_auc:.4}, at least this run's"
            ),
        }
    }
    Ok(())
}

/// Prints a job's progress as the command always has: a bar while boosting, the metrics and
/// files once trained, the run once ended.
struct Printer<'a> {
    bar: &'a ProgressBar,
}

impl JobEvents for Printer<'_> {
    fn round(&mut self) {
        self.bar.inc(1);
    }

    fn trained(&mut self, report: &TrainReport) {
        self.bar.finish_and_clear();
        let trained = &report.trained;
        println!("{} ABT rows, model {}", report.abt_rows, trained.model.kind());
        if let Some(b) = &trained.boost {
            println!(
                "chosen on seasons {:?}: learning rate {}, depth {}, {} rounds",
                trained.oot.plan.validation, b.learning_rate, b.max_depth, b.n_estimators
            );
        }
        for (season, auc, role) in trained.oot.per_season() {
            println!("auc {season} ({role}): {auc:.4}");
        }
        for (name, value) in trained.metrics() {
            println!("{name}: {value:.4}");
        }
        println!("model: {}", report.files.model_dir.display());
        println!("artifacts: {}", report.files.run_dir.display());
    }

    fn run_ended(&mut self, run: &RunInfo, experiment: &str, _status: RunStatus) {
        println!("run {} logged to experiment {experiment}", run.run_id);
    }

    fn fetched(&mut self, model: &str, version: i64) {
        println!("scoring with {model} version {version}");
    }
}

pub async fn score(cmd: ScoreCommand) -> anyhow::Result<()> {
    let ScoreCommand::Churn(args) = cmd;
    let lake = args.lake.open()?;
    let report = match args.model_dir {
        Some(dir) => {
            let source = ModelSource::Directory { dir, version: args.model_version.unwrap_or(0) };
            score_churn(&lake, &source, args.since).await?
        }
        None => {
            let uri = args.tracking_uri.as_deref().ok_or_else(|| {
                anyhow::anyhow!(
                    "give --model-dir, or --tracking-uri (MLFLOW_TRACKING_URI) to score a registered version"
                )
            })?;
            let client = TrackingClient::new(uri)?;
            let version = VersionRef::new(args.model_version, args.alias);
            let bar = ProgressBar::hidden();
            let models = Dirs::default().models;
            let mut printer = Printer { bar: &bar };
            fetch_and_score(&lake, &client, &args.registered_model, &version, &models, args.since, &mut printer).await?
        }
    };
    println!("{report}");
    Ok(())
}
