//! Bad input gives typed errors naming the cause, and scoring that fails writes nothing.

use std::sync::Arc;

use deltalake::arrow::array::{Int32Array, RecordBatch};
use deltalake::arrow::datatypes::{DataType, Field};
use pitwall_trainer::frame::{Frame, LABEL, numeric_features};
use pitwall_trainer::mlmodel::ModelDir;
use pitwall_trainer::train::ABT_NAME;
use pitwall_trainer::{ModelSource, TrainError, TrainOptions, score_churn, train};

use crate::common::trained_run;
use crate::score::copy_dir as copy_lake;
use pitwall_test_support::{block_on, full_lake, local_lake};

/// The ABT's batches as the lake returns them.
fn abt_batches() -> Vec<RecordBatch> {
    let root = full_lake().to_path_buf();
    block_on(move || async move { local_lake(&root).sql("SELECT * FROM abt_churn").await.unwrap() })
}

#[test]
fn an_empty_abt_is_refused() {
    let empty: Vec<RecordBatch> = abt_batches().into_iter().map(|b| b.slice(0, 0)).collect();
    let frame = Frame::from_batches(ABT_NAME, &empty, &numeric_features(), true).unwrap();
    let err = train(&frame, &TrainOptions::default(), |_| {}).unwrap_err();
    assert!(matches!(err, TrainError::EmptyTable { .. }), "{err}");
    assert!(err.to_string().contains("abt_churn is empty"), "{err}");
}

#[test]
fn a_missing_column_is_named() {
    let batches: Vec<RecordBatch> = abt_batches()
        .into_iter()
        .map(|b| {
            let keep: Vec<usize> =
                (0..b.num_columns()).filter(|&i| b.schema().field(i).name() != "medianPositionRaceLast20").collect();
            b.project(&keep).unwrap()
        })
        .collect();
    let err = Frame::from_batches(ABT_NAME, &batches, &numeric_features(), true).unwrap_err();
    assert!(matches!(&err, TrainError::MissingColumn { column, .. } if column == "medianPositionRaceLast20"), "{err}");
    assert!(err.to_string().contains("medianPositionRaceLast20"), "{err}");
}

#[test]
fn a_constant_label_is_refused() {
    let batches: Vec<RecordBatch> = abt_batches()
        .into_iter()
        .map(|b| {
            let i = b.schema().index_of(LABEL).unwrap();
            let mut columns = b.columns().to_vec();
            columns[i] = Arc::new(Int32Array::from(vec![0; b.num_rows()]));
            let mut fields: Vec<Field> = b.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
            fields[i] = Field::new(LABEL, DataType::Int32, true);
            RecordBatch::try_new(Arc::new(deltalake::arrow::datatypes::Schema::new(fields)), columns).unwrap()
        })
        .collect();
    let frame = Frame::from_batches(ABT_NAME, &batches, &numeric_features(), true).unwrap();
    let err = train(&frame, &TrainOptions::default(), |_| {}).unwrap_err();
    assert!(matches!(err, TrainError::ConstantLabel { value: 0, .. }), "{err}");
    assert!(err.to_string().contains("flChurn"), "{err}");
}

#[test]
fn a_model_needing_a_column_the_feature_store_lacks_writes_nothing() {
    let run = trained_run();
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    copy_lake(full_lake(), &lake_dir);
    // A copy of the model whose features name a column fs_drivers does not have.
    let broken = dir.path().join("broken-model");
    copy_lake(&run.files.model_dir, &broken);
    let mlmodel = std::fs::read_to_string(broken.join("MLmodel")).unwrap();
    std::fs::write(broken.join("MLmodel"), mlmodel.replace("qtLastSeenRace", "qtNoSuchColumn")).unwrap();
    let good = run.files.model_dir.clone();
    block_on(move || async move {
        let lake = local_lake(&lake_dir);
        let ok = score_churn(&lake, &ModelSource::Directory { dir: good, version: 1 }, None).await.unwrap();
        assert!(ModelDir::open(&broken).is_ok(), "the broken model still reads as a model directory");
        let err = score_churn(&lake, &ModelSource::Directory { dir: broken, version: 1 }, None).await.unwrap_err();
        assert!(matches!(&err, TrainError::MissingColumn { column, .. } if column == "qtNoSuchColumn"), "{err}");
        let url = lake.location().table_url(pitwall_trainer::MODEL_CHURN);
        let table = deltalake::DeltaTable::try_from_url(url).await.unwrap();
        assert_eq!(table.version().map(|v| v as i64), Some(ok.table_version), "model_churn was written to");
    });
}
