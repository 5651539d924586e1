//! Trainer benchmark: the churn model's full fit on the full ABT (rolling-origin validation over
//! the seasons before the latest labelled one, the fit, the split's fit) against the seed's
//! scikit-learn recipe fitted once on the same seasons, then scoring every fs_drivers row since
//! 2000 with ONNX Runtime.
//!
//! Run: `cargo bench -p pitwall-trainer --bench trainer` (release profile). Environment:
//! `PITWALL_F1DB` (default `../shared/f1db`), `PITWALL_VENV` (default
//! `$HOME/.cache/pitwall/venv`, needs scikit-learn, deltalake, onnxruntime),
//! `PITWALL_BENCH_LAKE` (an already built lake to reuse instead of building one).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use chrono::NaiveDate;
use pitwall_lake::SeasonRange;
use pitwall_trainer::mlmodel::ModelDir;
use pitwall_trainer::runtime::OnnxModel;
use pitwall_trainer::score::{read_feature_rows, score_rows};
use pitwall_trainer::train::{load_abt, write_run};
use pitwall_trainer::{ModelSource, TrainOptions, score_churn, train};

use pitwall_test_support::local_lake as open;
use pitwall_test_support::venv::python;

// The allocator of the `pitwall` binary, so that the figures are the command's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let lake_root = match std::env::var_os("PITWALL_BENCH_LAKE") {
        Some(p) => PathBuf::from(p),
        None => {
            let src = pitwall_test_support::f1db();
            let root = dir.path().join("lake");
            let lake = open(&root);
            let t = Instant::now();
            lake.ingest_f1db(&src, SeasonRange::ALL).await.unwrap();
            lake.build(false).await.unwrap();
            println!("lake built from {} in {:.1}s", src.display(), t.elapsed().as_secs_f64());
            root
        }
    };
    let lake = open(&lake_root);

    // Training: rolling-origin validation, the fit on the seasons before the test season and
    // the split's fit, against the seed's recipe fitted once on the same seasons.
    let t = Instant::now();
    let abt = load_abt(&lake).await.unwrap();
    let load = t.elapsed().as_secs_f64();
    let options = TrainOptions::default();
    let t = Instant::now();
    let trained = train(&abt, &options, |_| {}).unwrap();
    let train_total = t.elapsed().as_secs_f64();
    let fit = trained.fit_time.as_secs_f64();
    let run_dir = dir.path().join("run");
    let files = write_run(&run_dir, &abt, &trained, &options).unwrap();
    let oot = &trained.oot;
    println!(
        "ABT: {} rows, {} features; read in {load:.2}s; test season {} ({} rows, trained on {}), validation seasons {:?}",
        abt.len(),
        trained.model.features.width(),
        oot.plan.test,
        oot.test.rows,
        oot.train_rows,
        oot.plan.validation
    );
    if let Some(selection) = &oot.selection {
        for (k, r) in selection.results.iter().enumerate() {
            let seasons: Vec<String> = r.per_season.iter().map(|(s, a)| format!("{s} {a:.4}")).collect();
            println!(
                "  lr {:<5} depth {} → {:>4} rounds: mean validation AUC {:.4} ({}){}",
                r.candidate.learning_rate,
                r.candidate.max_depth,
                r.rounds,
                r.mean_auc,
                seasons.join(", "),
                if k == selection.best { "  ← chosen" } else { "" }
            );
        }
    }
    println!(
        "pitwall   {:?}: full fit (validation + fit + split fit) {fit:.2}s ({train_total:.2}s with encoding), auc_oot {:.4}, auc_test {:.4}",
        trained.boost, oot.test.auc, trained.test.auc
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/seed_oot.py");
    let out = Command::new(python())
        .arg(&script)
        .arg(&lake_root)
        .arg(oot.plan.test.to_string())
        .args(["--seeds", "0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let seed_fit = seed["fit_seconds"][0].as_f64().unwrap();
    println!(
        "seed      AdaBoost(lr 0.02) × 1000 two-stump random forests, fitted once: {seed_fit:.2}s, auc_oot {:.4}",
        seed["auc_oot"]
    );
    println!("training speed-up: {:.1}× (target ≥ 10×; full fit target < 10 s)", seed_fit / fit);

    // Scoring every fs_drivers row since 2000.
    let model_dir = ModelDir::open(&files.model_dir).unwrap();
    let since = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    let t = Instant::now();
    let rows = read_feature_rows(&lake, &model_dir.features, since).await.unwrap();
    let read = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut onnx = OnnxModel::load(&model_dir.onnx_path).unwrap();
    let load_model = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut inputs = None;
    rows.for_each_input_chunk(&model_dir.features, usize::MAX, |all| {
        inputs = Some(all);
        Ok(())
    })
    .unwrap();
    let encode = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let proba = onnx.run_inputs(inputs.expect("one chunk of every row")).unwrap();
    let infer = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let again = score_rows(&mut onnx, &model_dir.features, &rows).unwrap();
    let both = t.elapsed().as_secs_f64();
    // Scoring in chunks gives what one call over every row gives, up to the float rounding of
    // ONNX Runtime's tree sum (its order depends on how the batch is split across threads).
    let worst = proba.iter().zip(&again).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst <= 1e-6, "one call and chunked calls differ by up to {worst}");
    println!(
        "scoring {} fs_drivers rows since 2000: read {read:.3}s, model load {load_model:.3}s, encode {encode:.3}s, \
         ONNX Runtime {infer:.3}s (encode + ONNX Runtime again: {both:.3}s)",
        proba.len()
    );
    let mut scores = pitwall_trainer::score::Scores::default();
    scores.add(&mut onnx, &model_dir.features, &rows).unwrap();
    let t = Instant::now();
    let batch = scores.into_batch(1, "2026-01-01 00:00:00").unwrap();
    let write = pitwall_trainer::score::write_scores(&lake, batch, 1).await.unwrap();
    println!("model_churn Delta write alone: {:.3}s (table version {write})", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let source = ModelSource::Directory { dir: files.model_dir.clone(), version: 1 };
    let report = score_churn(&lake, &source, Some(since)).await.unwrap();
    println!(
        "pitwall score churn --since 2000-01-01 end to end (read, score, Delta commit): {:.3}s for {} rows (target < 1 s)\n  {report}",
        t.elapsed().as_secs_f64(),
        report.rows
    );
}
