//! The churn training job: ABT → features → group split → fit → metrics → model directory and
//! artifacts on disk.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pitwall_lake::Lake;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::boost::{BoostParams, Boosted};
use crate::error::{Result, TrainError};
use crate::features::FeatureSpec;
use crate::frame::{Frame, LABEL, numeric_features};
use crate::logistic::{Logistic, LogisticParams};
use crate::metrics::{SetMetrics, THRESHOLD, roc_curve};
use crate::mlmodel;
use crate::model::{ChurnModel, Classifier};
use crate::plots;
use crate::split::Split;

/// The ABT's name in error messages and run inputs.
pub const ABT_NAME: &str = "analytics/f1/abt_churn";
/// The model directory inside a run directory.
pub const MODEL_DIR: &str = "model";

/// Which classifier to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModelKind {
    TreeEnsemble,
    Logistic,
}

impl std::str::FromStr for ModelKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "tree-ensemble" => Ok(Self::TreeEnsemble),
            "logistic" => Ok(Self::Logistic),
            other => Err(format!("unknown model {other:?} (tree-ensemble or logistic)")),
        }
    }
}

/// Settings of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub model: ModelKind,
    pub boost: BoostParams,
    pub logistic: LogisticParams,
    /// Share of (driver, season) groups held out for testing.
    pub test_fraction: f64,
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            model: ModelKind::TreeEnsemble,
            boost: BoostParams::default(),
            logistic: LogisticParams::default(),
            test_fraction: 0.2,
            seed: 42,
        }
    }
}

impl TrainOptions {
    /// The run's parameters as MLflow params (name, value).
    pub fn params(&self) -> Vec<(String, String)> {
        let mut p = vec![
            (
                "model".to_string(),
                match self.model {
                    ModelKind::TreeEnsemble => "tree-ensemble".to_string(),
                    ModelKind::Logistic => "logistic".to_string(),
                },
            ),
            ("test_fraction".into(), self.test_fraction.to_string()),
            ("seed".into(), self.seed.to_string()),
        ];
        match self.model {
            ModelKind::TreeEnsemble => p.extend([
                ("n_estimators".to_string(), self.boost.n_estimators.to_string()),
                ("learning_rate".into(), self.boost.learning_rate.to_string()),
                ("max_depth".into(), self.boost.max_depth.to_string()),
                ("learner".into(), format!("{:?}", self.boost.learner).to_lowercase()),
            ]),
            ModelKind::Logistic => p.extend([
                ("alpha".to_string(), self.logistic.alpha.to_string()),
                ("max_iterations".into(), self.logistic.max_iterations.to_string()),
            ]),
        }
        p
    }
}

/// A model fitted and evaluated in memory.
#[derive(Debug, Clone)]
pub struct Trained {
    pub model: ChurnModel,
    pub split: Split,
    pub train: SetMetrics,
    pub test: SetMetrics,
    /// Probabilities of the training and test rows, in split order.
    pub proba_train: Vec<f64>,
    pub proba_test: Vec<f64>,
    pub fit_time: Duration,
}

impl Trained {
    /// The four headline metrics, as MLflow metric names.
    pub fn metrics(&self) -> [(&'static str, f64); 4] {
        [
            ("acc_train", self.train.accuracy),
            ("auc_train", self.train.auc),
            ("acc_test", self.test.accuracy),
            ("auc_test", self.test.auc),
        ]
    }
}

/// Reads the ABT from the lake.
pub async fn load_abt(lake: &Lake) -> Result<Frame> {
    let batches = lake.abt_churn_rows().await?;
    Frame::from_batches(ABT_NAME, &batches, &numeric_features(), true)
}

/// Splits, encodes and fits `abt` (read with labels); `on_round` is told of each boosting round.
pub fn train(abt: &Frame, options: &TrainOptions, mut on_round: impl FnMut(usize)) -> Result<Trained> {
    let labels = abt
        .labels
        .as_ref()
        .ok_or_else(|| TrainError::MissingColumn { table: abt.table.clone(), column: LABEL.into() })?;
    if abt.is_empty() {
        return Err(TrainError::EmptyTable { table: abt.table.clone() });
    }
    let churners = labels.iter().filter(|&&c| c == 1).count();
    if churners == 0 || churners == labels.len() {
        return Err(TrainError::ConstantLabel {
            table: abt.table.clone(),
            column: LABEL.into(),
            value: labels[0],
            rows: labels.len(),
        });
    }
    if !(options.test_fraction > 0.0 && options.test_fraction < 1.0) {
        return Err(TrainError::Settings(format!("test fraction {} is not in (0, 1)", options.test_fraction)));
    }
    let split = Split::by_driver_season(abt, options.test_fraction, options.seed);
    let (train_rows, test_rows) = (abt.select(&split.train()), abt.select(&split.test()));
    let y_train = train_rows.labels.clone().unwrap_or_default();
    let y_test = test_rows.labels.clone().unwrap_or_default();
    for (set, y) in [("training", &y_train), ("test", &y_test)] {
        let ones = y.iter().filter(|&&c| c == 1).count();
        if ones == 0 || ones == y.len() {
            return Err(TrainError::OneClassSplit { set, value: y.first().copied().unwrap_or(0), rows: y.len() });
        }
    }
    let features = FeatureSpec::fit(&train_rows);
    let x_train = features.matrix(&train_rows);
    let x_test = features.matrix(&test_rows);
    let started = Instant::now();
    let classifier = match options.model {
        ModelKind::TreeEnsemble => {
            Classifier::TreeEnsemble(Boosted::fit(&x_train, &y_train, &options.boost, &mut on_round)?)
        }
        ModelKind::Logistic => Classifier::Logistic(Logistic::fit(&x_train, &y_train, &options.logistic)?),
    };
    let fit_time = started.elapsed();
    let model = ChurnModel { features, classifier };
    let proba_train = model.predict_proba(x_train.view());
    let proba_test = model.predict_proba(x_test.view());
    // Both sets hold both classes (checked above), so their AUCs exist.
    let one_class = |set| TrainError::OneClassSplit { set, value: 0, rows: 0 };
    let train = SetMetrics::new(&y_train, &proba_train).ok_or_else(|| one_class("training"))?;
    let test = SetMetrics::new(&y_test, &proba_test).ok_or_else(|| one_class("test"))?;
    tracing::info!(
        model = model.kind(),
        auc_train = train.auc,
        auc_test = test.auc,
        fit_secs = fit_time.as_secs_f64(),
        "fitted"
    );
    Ok(Trained { model, split, train, test, proba_train, proba_test, fit_time })
}

/// The files of a run directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFiles {
    pub run_dir: PathBuf,
    /// The MLflow model directory (`<run_dir>/model`).
    pub model_dir: PathBuf,
    /// Every artifact outside the model directory.
    pub artifacts: Vec<PathBuf>,
}

/// Writes the model directory and the artifacts of `trained` into `run_dir`.
pub fn write_run(run_dir: &Path, abt: &Frame, trained: &Trained, options: &TrainOptions) -> Result<RunFiles> {
    std::fs::create_dir_all(run_dir).map_err(|e| TrainError::io(run_dir, e))?;
    let model_dir = run_dir.join(MODEL_DIR);
    let test_rows = abt.select(&trained.split.test());
    let examples = trained.model.features.matrix(&test_rows);
    mlmodel::save(&model_dir, &trained.model, examples.view(), chrono::Utc::now())?;

    let mut artifacts = Vec::new();
    let mut file = |name: &str, bytes: Vec<u8>| -> Result<()> {
        let path = run_dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| TrainError::io(&path, e))?;
        artifacts.push(path);
        Ok(())
    };
    let y_train = abt.select(&trained.split.train()).labels.unwrap_or_default();
    let y_test = test_rows.labels.clone().unwrap_or_default();
    let roc_train = roc_curve(&y_train, &trained.proba_train);
    let roc_test = roc_curve(&y_test, &trained.proba_test);
    let roc = json!({
        "train": { "auc": trained.train.auc, "points": roc_train },
        "test": { "auc": trained.test.auc, "points": roc_test },
    });
    file("roc_curve.json", to_json(&roc)?)?;
    let confusion = json!({
        "threshold": THRESHOLD,
        "train": trained.train.confusion,
        "test": trained.test.confusion,
    });
    file("confusion_matrix.json", to_json(&confusion)?)?;
    let mut csv = String::from("set,actual,predicted_0,predicted_1\n");
    for (set, c) in [("train", trained.train.confusion), ("test", trained.test.confusion)] {
        for line in c.to_csv().lines().skip(1) {
            csv.push_str(&format!("{set},{line}\n"));
        }
    }
    file("confusion_matrix.csv", csv.into_bytes())?;
    let importances = trained.model.importances();
    let mut csv = String::from("feature,importance\n");
    for (name, v) in &importances {
        csv.push_str(&format!("{name},{v}\n"));
    }
    file("feature_importances.csv", csv.into_bytes())?;
    let mut csv = String::from("idDriver,dtRef,set\n");
    for i in 0..abt.len() {
        let set = if trained.split.is_test[i] { "test" } else { "train" };
        csv.push_str(&format!("{},{},{set}\n", abt.drivers[i], abt.dt_refs[i]));
    }
    file("split.csv", csv.into_bytes())?;
    let metrics: serde_json::Map<String, serde_json::Value> =
        trained.metrics().iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    let summary = json!({
        "metrics": metrics,
        "params": trained_params(options),
        "rows": { "train": trained.train.rows, "test": trained.test.rows },
        "fit_seconds": trained.fit_time.as_secs_f64(),
    });
    file("metrics.json", to_json(&summary)?)?;

    let roc_png = run_dir.join("roc_curve.png");
    plots::roc_png(&roc_png, &[("train", trained.train.auc, &roc_train), ("test", trained.test.auc, &roc_test)])?;
    artifacts.push(roc_png);
    let imp_png = run_dir.join("feature_importances.png");
    plots::importances_png(&imp_png, &importances, 25)?;
    artifacts.push(imp_png);
    Ok(RunFiles { run_dir: run_dir.to_path_buf(), model_dir, artifacts })
}

fn trained_params(options: &TrainOptions) -> serde_json::Map<String, serde_json::Value> {
    options.params().into_iter().map(|(k, v)| (k, json!(v))).collect()
}

fn to_json(value: &serde_json::Value) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(value)
        .map_err(|e| TrainError::Serialise { what: "JSON artifact".into(), reason: e.to_string() })
}

/// What `pitwall train churn` did.
#[derive(Debug, Clone)]
pub struct TrainReport {
    pub trained: Trained,
    pub files: RunFiles,
    pub abt_rows: usize,
    /// The ABT's Delta version when training started: what the run's dataset input records.
    pub abt_version: Option<i64>,
    pub elapsed: Duration,
}

/// Reads the ABT, fits, evaluates and writes the run into `run_dir`.
pub async fn train_churn(
    lake: &Lake,
    options: &TrainOptions,
    run_dir: &Path,
    on_round: impl FnMut(usize),
) -> Result<TrainReport> {
    let started = Instant::now();
    let abt_version =
        lake.tables().await?.tables.iter().find(|t| t.table == pitwall_lake::ABT_CHURN).and_then(|t| t.version);
    let abt = load_abt(lake).await?;
    let trained = train(&abt, options, on_round)?;
    let files = write_run(run_dir, &abt, &trained, options)?;
    Ok(TrainReport { trained, files, abt_rows: abt.len(), abt_version, elapsed: started.elapsed() })
}
