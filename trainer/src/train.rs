//! The churn training job: ABT → features → group split → fit → metrics → model directory and
//! artifacts on disk.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pitwall_lake::Lake;
use serde::{Deserialize, Serialize};
use serde_json::json;

use ndarray::Array2;

use crate::boost::{BoostParams, Boosted};
use crate::error::{Result, TrainError};
use crate::features::FeatureSpec;
use crate::frame::{Frame, LABEL, numeric_features};
use crate::logistic::{Logistic, LogisticParams};
use crate::metrics::{SetMetrics, THRESHOLD, roc_curve};
use crate::mlmodel;
use crate::model::{ChurnModel, Classifier};
use crate::plots;
use crate::seasons::{SeasonPlan, VALIDATION_SEASONS, row_seasons, rows_before, rows_of};
use crate::select::{Search, Selection, select};
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
    /// What the tree ensemble's hyper-parameters are chosen among.
    pub search: Search,
    pub logistic: LogisticParams,
    /// Seasons before the test season that hyper-parameters are validated on.
    pub validation_seasons: usize,
    /// Share of (driver, season) groups held out for the split metrics.
    pub test_fraction: f64,
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            model: ModelKind::TreeEnsemble,
            search: Search::default(),
            logistic: LogisticParams::default(),
            validation_seasons: VALIDATION_SEASONS,
            test_fraction: 0.2,
            seed: 42,
        }
    }
}

impl TrainOptions {
    /// The settings as MLflow params (name, value); the values chosen by validation are in
    /// [`Trained::params`].
    pub fn params(&self) -> Vec<(String, String)> {
        let list = |v: Vec<String>| v.join(",");
        let mut p = vec![
            (
                "model".to_string(),
                match self.model {
                    ModelKind::TreeEnsemble => "tree-ensemble".to_string(),
                    ModelKind::Logistic => "logistic".to_string(),
                },
            ),
            ("validation_seasons".into(), self.validation_seasons.to_string()),
            ("test_fraction".into(), self.test_fraction.to_string()),
            ("seed".into(), self.seed.to_string()),
        ];
        match self.model {
            ModelKind::TreeEnsemble => {
                let c = &self.search.candidates;
                let mut rates: Vec<String> = c.iter().map(|c| c.learning_rate.to_string()).collect();
                rates.dedup();
                let mut depths: Vec<String> = c.iter().map(|c| c.max_depth.to_string()).collect();
                depths.sort();
                depths.dedup();
                let rounds = c.iter().map(|c| c.max_rounds).max().unwrap_or(0);
                p.extend([
                    ("search_learning_rates".to_string(), list(rates)),
                    ("search_max_depths".into(), list(depths)),
                    ("search_max_rounds".into(), rounds.to_string()),
                    ("early_stopping".into(), self.search.early_stopping.to_string()),
                ]);
            }
            ModelKind::Logistic => p.extend([
                ("alpha".to_string(), self.logistic.alpha.to_string()),
                ("max_iterations".into(), self.logistic.max_iterations.to_string()),
            ]),
        }
        p
    }
}

/// How the model did on seasons it had not seen.
#[derive(Debug, Clone)]
pub struct OutOfTime {
    pub plan: SeasonPlan,
    /// The tree ensemble's validation: every candidate, and the one chosen.
    pub selection: Option<Selection>,
    /// The test season's metrics.
    pub test: SetMetrics,
    /// Probabilities of the test season's rows, in row order.
    pub proba: Vec<f64>,
    /// Rows the model was trained on (those of the seasons before the test season).
    pub train_rows: usize,
}

impl OutOfTime {
    /// (season, AUC, role): each validation season's at the chosen hyper-parameters, then
    /// the test season's.
    pub fn per_season(&self) -> Vec<(i32, f64, &'static str)> {
        let mut out: Vec<(i32, f64, &'static str)> = self
            .selection
            .iter()
            .flat_map(|s| s.best().per_season.iter().map(|&(season, auc)| (season, auc, "validation")))
            .collect();
        out.push((self.plan.test, self.test.auc, "test"));
        out
    }
}

/// A model fitted and evaluated in memory.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The model logged: trained on every season before the test season.
    pub model: ChurnModel,
    /// The tree ensemble's hyper-parameters, as validation chose them.
    pub boost: Option<BoostParams>,
    pub oot: OutOfTime,
    /// The (driver, season) group split of every labelled row, which the same hyper-parameters
    /// are fitted and measured on too, as earlier runs were.
    pub split: Split,
    pub train: SetMetrics,
    pub test: SetMetrics,
    /// Probabilities of the split's training and test rows, in split order.
    pub proba_train: Vec<f64>,
    pub proba_test: Vec<f64>,
    /// Validation, the model's fit and the split's fit.
    pub fit_time: Duration,
}

impl Trained {
    /// The headline metrics, as MLflow metric names: the out-of-time AUC and accuracy on the
    /// test season, the mean validation AUC, and the split's four.
    pub fn metrics(&self) -> Vec<(&'static str, f64)> {
        let mut m = vec![("auc_oot", self.oot.test.auc), ("acc_oot", self.oot.test.accuracy)];
        if let Some(s) = &self.oot.selection {
            m.push(("auc_val", s.best().mean_auc));
        }
        m.extend([
            ("acc_train", self.train.accuracy),
            ("auc_train", self.train.auc),
            ("acc_test", self.test.accuracy),
            ("auc_test", self.test.auc),
        ]);
        m
    }

    /// The run's params: the settings, then what validation chose.
    pub fn params(&self, options: &TrainOptions) -> Vec<(String, String)> {
        let mut p = options.params();
        p.push(("test_season".into(), self.oot.plan.test.to_string()));
        let seasons: Vec<String> = self.oot.plan.validation.iter().map(i32::to_string).collect();
        p.push(("validation_season_list".into(), seasons.join(",")));
        if let Some(b) = &self.boost {
            p.extend([
                ("n_estimators".to_string(), b.n_estimators.to_string()),
                ("learning_rate".into(), b.learning_rate.to_string()),
                ("max_depth".into(), b.max_depth.to_string()),
                ("learner".into(), format!("{:?}", b.learner).to_lowercase()),
            ]);
        }
        p
    }
}

/// Reads the ABT from the lake.
pub async fn load_abt(lake: &Lake) -> Result<Frame> {
    let batches = lake.abt_churn_rows().await?;
    Frame::from_batches(ABT_NAME, &batches, &numeric_features(), true)
}

/// A classifier of `options`' kind fitted to encoded rows, with boosting parameters `boost`.
fn fit_classifier(
    x: &Array2<f64>,
    y: &[u8],
    options: &TrainOptions,
    boost: Option<&BoostParams>,
    on_round: &mut impl FnMut(usize),
) -> Result<Classifier> {
    Ok(match (options.model, boost) {
        (ModelKind::TreeEnsemble, Some(params)) => Classifier::TreeEnsemble(Boosted::fit(x, y, params, on_round)?),
        (ModelKind::Logistic, _) => Classifier::Logistic(Logistic::fit(x, y, &options.logistic)?),
        (ModelKind::TreeEnsemble, None) => unreachable!("validation chooses the ensemble's parameters"),
    })
}

/// Chooses hyper-parameters on the validation seasons, fits the model on every season before
/// the test season and measures it there, and fits the same settings on the group split of
/// `abt` (read with labels) for the split metrics. `on_round` is told of each boosting round
/// of the model's fit.
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
    let started = Instant::now();
    let seasons = row_seasons(abt)?;
    let plan = SeasonPlan::new(&seasons, labels, options.validation_seasons)?;

    // Out of time: everything before the test season is history.
    let history_idx = rows_before(&seasons, plan.test);
    let history = abt.select(&history_idx);
    let history_seasons: Vec<i32> = history_idx.iter().map(|&i| seasons[i]).collect();
    let y_history = history.labels.clone().unwrap_or_default();
    let features = FeatureSpec::fit(&history);
    let x_history = features.matrix(&history);
    let selection = match options.model {
        ModelKind::TreeEnsemble => {
            Some(select(&x_history, &y_history, &history_seasons, &plan.validation, &options.search)?)
        }
        ModelKind::Logistic => None,
    };
    let boost = selection.as_ref().map(|s| s.best().params());

    // The group split, as runs before out-of-time evaluation were measured.
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
    let split_features = FeatureSpec::fit(&train_rows);
    let x_train = split_features.matrix(&train_rows);
    let x_test = split_features.matrix(&test_rows);

    // The two final fits are independent: one on its own thread, one here.
    let (classifier, split_classifier) = std::thread::scope(|scope| {
        let split_fit = scope.spawn(|| fit_classifier(&x_train, &y_train, options, boost.as_ref(), &mut |_| {}));
        let fitted = fit_classifier(&x_history, &y_history, options, boost.as_ref(), &mut on_round);
        (fitted, split_fit.join().expect("the split's fit does not panic"))
    });
    let model = ChurnModel { features, classifier: classifier? };
    let season_rows = abt.select(&rows_of(&seasons, plan.test));
    let proba_oot = model.predict_proba(model.features.matrix(&season_rows).view());
    let y_oot = season_rows.labels.clone().unwrap_or_default();
    let one_class = |set, y: &[u8]| TrainError::OneClassSplit { set, value: y[0], rows: y.len() };
    let oot_test = SetMetrics::new(&y_oot, &proba_oot).ok_or_else(|| one_class("out-of-time", &y_oot))?;
    let oot = OutOfTime { plan, selection, test: oot_test, proba: proba_oot, train_rows: history.len() };
    let split_model = ChurnModel { features: split_features, classifier: split_classifier? };
    let proba_train = split_model.predict_proba(x_train.view());
    let proba_test = split_model.predict_proba(x_test.view());
    let fit_time = started.elapsed();
    // Both sets hold both classes (checked above), so their AUCs exist.
    let train = SetMetrics::new(&y_train, &proba_train).ok_or_else(|| one_class("training", &y_train))?;
    let test = SetMetrics::new(&y_test, &proba_test).ok_or_else(|| one_class("test", &y_test))?;
    tracing::info!(
        model = model.kind(),
        test_season = oot.plan.test,
        auc_oot = oot.test.auc,
        auc_test = test.auc,
        params = ?boost,
        fit_secs = fit_time.as_secs_f64(),
        "fitted"
    );
    Ok(Trained { model, boost, oot, split, train, test, proba_train, proba_test, fit_time })
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
    let season_rows = abt.select(&rows_of(&row_seasons(abt)?, trained.oot.plan.test));
    // The input example: rows of the season the model was tested on, as the lake holds them.
    mlmodel::save(&model_dir, &trained.model, &season_rows, chrono::Utc::now())?;

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
    let y_oot = season_rows.labels.clone().unwrap_or_default();
    let roc_oot = roc_curve(&y_oot, &trained.oot.proba);
    let roc = json!({
        "train": { "auc": trained.train.auc, "points": roc_train },
        "test": { "auc": trained.test.auc, "points": roc_test },
        "oot": { "auc": trained.oot.test.auc, "season": trained.oot.plan.test, "points": roc_oot },
    });
    file("roc_curve.json", to_json(&roc)?)?;
    let confusion = json!({
        "threshold": THRESHOLD,
        "train": trained.train.confusion,
        "test": trained.test.confusion,
        "oot": trained.oot.test.confusion,
    });
    file("confusion_matrix.json", to_json(&confusion)?)?;
    let mut csv = String::from("set,actual,predicted_0,predicted_1\n");
    for (set, c) in
        [("train", trained.train.confusion), ("test", trained.test.confusion), ("oot", trained.oot.test.confusion)]
    {
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
    let params: serde_json::Map<String, serde_json::Value> =
        trained.params(options).into_iter().map(|(k, v)| (k, json!(v))).collect();
    let summary = json!({
        "metrics": metrics,
        "params": params,
        "rows": {
            "train": trained.train.rows,
            "test": trained.test.rows,
            "oot_train": trained.oot.train_rows,
            "oot_test": trained.oot.test.rows,
        },
        "fit_seconds": trained.fit_time.as_secs_f64(),
    });
    file("metrics.json", to_json(&summary)?)?;
    let per_season = trained.oot.per_season();
    let by_season = json!({
        "test_season": trained.oot.plan.test,
        "per_season": per_season.iter().map(|(s, auc, role)| json!({"season": s, "auc": auc, "role": role})).collect::<Vec<_>>(),
        "validation": trained.oot.selection,
    });
    file("auc_by_season.json", to_json(&by_season)?)?;
    if let Some(selection) = &trained.oot.selection {
        file("validation.csv", validation_csv(selection).into_bytes())?;
    }

    let roc_png = run_dir.join("roc_curve.png");
    let oot_name = format!("season {}", trained.oot.plan.test);
    plots::roc_png(
        &roc_png,
        &[
            ("train", trained.train.auc, &roc_train),
            ("test", trained.test.auc, &roc_test),
            (&oot_name, trained.oot.test.auc, &roc_oot),
        ],
    )?;
    artifacts.push(roc_png);
    let season_png = run_dir.join("auc_by_season.png");
    plots::season_auc_png(&season_png, &per_season)?;
    artifacts.push(season_png);
    let imp_png = run_dir.join("feature_importances.png");
    plots::importances_png(&imp_png, &importances, 25)?;
    artifacts.push(imp_png);
    Ok(RunFiles { run_dir: run_dir.to_path_buf(), model_dir, artifacts })
}

/// Every validated candidate: its settings, the rounds chosen, the mean and each season's AUC.
fn validation_csv(selection: &Selection) -> String {
    let seasons: Vec<String> = selection.results[0].per_season.iter().map(|(s, _)| format!("auc_{s}")).collect();
    let mut csv = format!("learning_rate,max_depth,max_rounds,rounds,mean_auc,{},chosen\n", seasons.join(","));
    for (k, r) in selection.results.iter().enumerate() {
        let aucs: Vec<String> = r.per_season.iter().map(|(_, a)| a.to_string()).collect();
        csv.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            r.candidate.learning_rate,
            r.candidate.max_depth,
            r.candidate.max_rounds,
            r.rounds,
            r.mean_auc,
            aucs.join(","),
            k == selection.best
        ));
    }
    csv
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
