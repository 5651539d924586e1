//! Training on the real ABT: quality against the seed's scikit-learn pipeline, and the files a
//! run leaves.

use std::collections::BTreeSet;

use pitwall_trainer::ModelKind;
use pitwall_trainer::train::train as fit;
use pitwall_trainer::{Classifier, TrainOptions};

use crate::common::{abt, run_python, trained_run};
use pitwall_test_support::full_lake;

#[test]
fn the_tree_ensemble_tests_at_least_as_well_as_the_seeds_scikit_learn_pipeline() {
    let run = trained_run();
    let b = &run.options.boost;
    let out = run_python(
        "sklearn_baseline.py",
        &[
            full_lake().to_str().unwrap(),
            run.files.run_dir.join("split.csv").to_str().unwrap(),
            "--n-estimators",
            &b.n_estimators.to_string(),
            "--learning-rate",
            &b.learning_rate.to_string(),
            "--max-depth",
            &b.max_depth.to_string(),
            "--seed",
            &run.options.seed.to_string(),
        ],
    );
    let sk: serde_json::Value = serde_json::from_str(out.trim()).expect("the script prints JSON");
    let sk_auc = sk["auc_test"].as_f64().unwrap();
    let ours = run.trained.test.auc;
    eprintln!("auc_test: pitwall {ours:.5}, scikit-learn {sk_auc:.5} ({sk})");
    assert_eq!(sk["rows_test"].as_u64().unwrap() as usize, run.trained.test.rows);
    // The two fit the same algorithm and usually the same stumps: equal AUCs then differ only by
    // the summation order of the two AUC computations (≈1e-16).
    assert!(ours >= sk_auc - 1e-12, "pitwall's auc_test {ours} is below scikit-learn's {sk_auc}");
    assert!(ours > 0.75, "auc_test {ours} is too low to be a churn model");
}

#[test]
fn no_driver_season_is_in_both_sets() {
    let run = trained_run();
    let abt = abt();
    let mut train = BTreeSet::new();
    let mut test = BTreeSet::new();
    for i in 0..abt.len() {
        let key = (abt.drivers[i].clone(), abt.season(i).to_string());
        if run.trained.split.is_test[i] {
            test.insert(key)
        } else {
            train.insert(key)
        };
    }
    assert!(train.is_disjoint(&test));
    let share = test.len() as f64 / (train.len() + test.len()) as f64;
    assert!((share - 0.2).abs() < 0.01, "test share of groups {share}");
}

#[test]
fn a_run_leaves_the_model_directory_and_the_artifacts() {
    let files = &trained_run().files;
    for name in [
        "MLmodel",
        "model.onnx",
        "conda.yaml",
        "python_env.yaml",
        "requirements.txt",
        "input_example.json",
        "serving_input_example.json",
    ] {
        assert!(files.model_dir.join(name).is_file(), "model/{name} missing");
    }
    for name in [
        "roc_curve.png",
        "roc_curve.json",
        "feature_importances.csv",
        "feature_importances.png",
        "confusion_matrix.json",
        "confusion_matrix.csv",
        "split.csv",
        "metrics.json",
    ] {
        let path = files.run_dir.join(name);
        assert!(files.artifacts.contains(&path), "{name} not listed");
        assert!(std::fs::metadata(&path).unwrap().len() > 0, "{name} is empty");
    }
    let png = std::fs::read(files.run_dir.join("roc_curve.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let mlmodel = std::fs::read_to_string(files.model_dir.join("MLmodel")).unwrap();
    assert!(mlmodel.contains("loader_module: mlflow.onnx"), "{mlmodel}");
    let importances = std::fs::read_to_string(files.run_dir.join("feature_importances.csv")).unwrap();
    assert_eq!(importances.lines().count(), 1 + trained_run().trained.model.features.width());
}

#[test]
fn the_logistic_regression_trains_and_ranks_better_than_chance() {
    let options = TrainOptions { model: ModelKind::Logistic, ..TrainOptions::default() };
    let trained = fit(abt(), &options, |_| {}).unwrap();
    assert!(matches!(trained.model.classifier, Classifier::Logistic(_)));
    assert!(trained.test.auc > 0.7, "logistic auc_test {}", trained.test.auc);
}
