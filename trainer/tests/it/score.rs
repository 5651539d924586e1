//! Scoring: ONNX Runtime's probabilities against the model in memory and against MLflow's
//! pyfunc, and what lands in analytics f1/model_churn.

use std::collections::HashMap;

use chrono::NaiveDate;
use deltalake::DeltaTable;
use deltalake::arrow::array::AsArray;
use pitwall_lake::Lake;
use pitwall_trainer::frame::{DRIVER, DT_REF};
use pitwall_trainer::mlmodel::ModelDir;
use pitwall_trainer::runtime::OnnxModel;
use pitwall_trainer::score::{read_feature_rows, score_rows};
use pitwall_trainer::{MODEL_CHURN, ModelSource, score_churn};

use crate::common::{run_python, trained_run};
use pitwall_test_support::{block_on, full_lake, local_lake};

/// Rows and version of model_churn in `lake`, `None` when it does not exist.
async fn model_churn_state(lake: &Lake) -> Option<(u64, i64)> {
    let url = lake.location().table_url(MODEL_CHURN);
    let table = DeltaTable::try_from_url(url).await.ok()?;
    let version = table.version()?;
    let rows = table.snapshot().unwrap().log_data().iter().map(|f| f.num_records().unwrap_or(0) as u64).sum();
    Some((rows, version as i64))
}

#[test]
fn onnx_runtime_mlflow_pyfunc_on_raw_rows_and_the_model_in_memory_agree() {
    let run = trained_run();
    let model_dir = ModelDir::open(&run.files.model_dir).unwrap();
    let features = model_dir.features.clone();
    assert!(features.typed(), "the model takes the feature store's columns as they are");
    let root = full_lake().to_path_buf();
    let since = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    let spec = features.clone();
    let rows = block_on(move || async move { read_feature_rows(&local_lake(&root), &spec, since).await.unwrap() });
    assert!(rows.len() > 10_000, "{} rows since 2000", rows.len());

    let mut onnx = OnnxModel::load(&model_dir.onnx_path).unwrap();
    let by_ort = score_rows(&mut onnx, &features, &rows).unwrap();
    let x = rows.matrix(&features).unwrap();
    let in_memory = run.trained.model.predict_proba(x.view());
    let worst = by_ort.iter().zip(&in_memory).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst <= 1e-6, "ONNX Runtime and the model in memory differ by up to {worst}");

    // MLflow's pyfunc in Python, on the rows as the `deltalake` package reads them.
    let out = run_python(
        "pyfunc_predict.py",
        &[run.files.model_dir.to_str().unwrap(), full_lake().to_str().unwrap(), "2000-01-01"],
    );
    let out: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(out["columns"], serde_json::json!(["pctProbaChurn"]));
    let strings = |key: &str| -> Vec<String> {
        out[key].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
    };
    let by_pyfunc: HashMap<(String, String), f64> = strings("idDriver")
        .into_iter()
        .zip(strings("dtRef"))
        .zip(out["values"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
        .collect();
    assert_eq!(by_pyfunc.len(), rows.len());
    let drivers = rows.strings(DRIVER).unwrap();
    let dt_refs = rows.strings(DT_REF).unwrap();
    let (drivers, dt_refs) = (drivers.as_string::<i32>(), dt_refs.as_string::<i32>());
    let mut worst = 0.0f64;
    for (i, p) in by_ort.iter().enumerate() {
        let key = (drivers.value(i).to_string(), dt_refs.value(i).to_string());
        worst = worst.max((by_pyfunc[&key] - p).abs());
    }
    assert!(worst <= 1e-6, "MLflow's pyfunc and ONNX Runtime differ by up to {worst}");
}

#[test]
fn scoring_replaces_one_versions_rows_and_keeps_the_others() {
    let run = trained_run();
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    // A lake of its own: a copy of the full one, so that model_churn starts absent.
    copy_dir(full_lake(), &lake_dir);
    let model_dir = run.files.model_dir.clone();
    block_on(move || async move {
        let lake = local_lake(&lake_dir);
        let v1 = ModelSource::Directory { dir: model_dir.clone(), version: 1 };
        let first = score_churn(&lake, &v1, None).await.unwrap();
        assert!(first.rows > 0);
        assert_eq!(model_churn_state(&lake).await, Some((first.rows as u64, first.table_version)));
        // The same version again: its rows are replaced, not added.
        let again = score_churn(&lake, &v1, None).await.unwrap();
        assert_eq!(model_churn_state(&lake).await.unwrap().0, first.rows as u64);
        assert_eq!(again.table_version, first.table_version + 1);
        // Another version from an earlier date: added beside version 1.
        let v2 = ModelSource::Directory { dir: model_dir, version: 2 };
        let since = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let second = score_churn(&lake, &v2, Some(since)).await.unwrap();
        assert!(second.rows > first.rows);
        assert_eq!(model_churn_state(&lake).await.unwrap().0, (first.rows + second.rows) as u64);
    });
}

pub(crate) fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
