//! Server render time of the web pages over a large registry: an experiment of 10,000 runs
//! (500 metric keys across them), a model of 100 versions, and a run with a long metric
//! history. Each page is rendered in process (the same router `pitwall server` serves) and
//! timed end to end: services, store reads, template. See README.md.
//!
//! `cargo bench -p pitwall-ui --bench pages [-- --runs N --keys N --versions N --history N --rounds N]`

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use pitwall_openapi::{CreateRun, KeyValue, Metric};
use pitwall_registry::artifacts::ArtifactRepo;
use pitwall_registry::service::model_registry::CreateVersion;
use pitwall_registry::store::SqlStore;
use pitwall_registry::{AppState, Settings};
use pitwall_test_support::ScratchSqlite;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

struct Args {
    runs: usize,
    keys: usize,
    versions: usize,
    history: i64,
    rounds: usize,
}

fn args() -> Args {
    let mut a = Args { runs: 10_000, keys: 500, versions: 100, history: 1_000_000, rounds: 20 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut num = || it.next().and_then(|v| v.parse::<usize>().ok()).unwrap_or_else(|| panic!("{flag} N"));
        match flag.as_str() {
            "--runs" => a.runs = num(),
            "--keys" => a.keys = num(),
            "--versions" => a.versions = num(),
            "--history" => a.history = num() as i64,
            "--rounds" => a.rounds = num(),
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// Metrics each run logs, from the pool of keys (so that every key appears in some runs).
const METRICS_PER_RUN: usize = 20;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = args();
    let db = ScratchSqlite::new();
    let store = SqlStore::connect(&db.uri(), "mlflow-artifacts:").await.unwrap();
    let artifacts = tempfile::tempdir().unwrap();
    let state = AppState {
        store: Arc::new(store),
        settings: Arc::new(Settings { serve_artifacts: true, multipart_uploads: false }),
        artifacts: Arc::new(ArtifactRepo::local(artifacts.path()).unwrap()),
    };
    let s = state.services();
    let started = Instant::now();
    let exp = s.experiments().create("bench", None, &[]).await.unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let mut run_ids = Vec::with_capacity(args.runs);
    for i in 0..args.runs {
        let run = s
            .runs()
            .create(CreateRun {
                experiment_id: Some(exp.clone()),
                user_id: Some("bench".into()),
                run_name: Some(format!("run-{i}")),
                start_time: Some(now - i as i64 * 1000),
                tags: vec![KeyValue::new("team", if i % 2 == 0 { "a" } else { "b" })],
            })
            .await
            .unwrap();
        let metrics: Vec<Metric> = (0..METRICS_PER_RUN)
            .map(|k| {
                let key = (i * 7 + k * 25) % args.keys;
                Metric::new(format!("metric_{key:03}"), (i % 997) as f64 / 997.0, now, 0)
            })
            .collect();
        let params =
            [KeyValue::new("model", ["tree", "logistic", "forest"][i % 3]), KeyValue::new("seed", i.to_string())];
        s.runs().log_batch(&run.info.run_id, &metrics, &params, &[]).await.unwrap();
        run_ids.push(run.info.run_id);
    }
    let seeded_runs = started.elapsed();
    let long_run = run_ids[0].clone();
    let t = Instant::now();
    let mut step = 0;
    while step < args.history {
        let n = 1000.min(args.history - step);
        let batch: Vec<Metric> =
            (step..step + n).map(|st| Metric::new("loss", 1.0 / (1.0 + st as f64), now + st, st)).collect();
        s.runs().log_batch(&long_run, &batch, &[], &[]).await.unwrap();
        step += n;
    }
    let seeded_history = t.elapsed();
    s.model_registry().create_model("bench_model", &[], None).await.unwrap();
    for v in 0..args.versions {
        let run = &run_ids[v % run_ids.len()];
        s.model_registry()
            .create_version(CreateVersion {
                name: "bench_model".into(),
                source: format!("runs:/{run}/model"),
                run_id: Some(run.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    eprintln!(
        "seeded {} runs ({} metric keys) in {:.1}s, {} history values in {:.1}s, {} versions",
        args.runs,
        args.keys,
        seeded_runs.as_secs_f64(),
        args.history,
        seeded_history.as_secs_f64(),
        args.versions
    );

    // Where the runs table's time goes: the reads it makes, one by one.
    let time = |t: Instant| format!("{:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    let t = Instant::now();
    s.overview().run_keys(&exp).await.unwrap();
    let keys = time(t);
    let t = Instant::now();
    s.overview().run_counts(std::slice::from_ref(&exp)).await.unwrap();
    let counts = time(t);
    let t = Instant::now();
    let search =
        pitwall_openapi::SearchRuns { experiment_ids: vec![exp.clone()], max_results: Some(100), ..Default::default() };
    s.runs().search(search).await.unwrap();
    eprintln!("runs table reads: run keys {keys}, run count {counts}, a page of 100 runs {}", time(t));

    let app = pitwall_registry::app_with(state.clone(), pitwall_ui::router());
    let pages = [
        ("experiments", "/experiments".to_owned()),
        ("runs table (100 of 10k)", format!("/experiments/{exp}")),
        (
            "runs table, filtered and sorted",
            format!("/experiments/{exp}?filter=metrics.metric_007+%3E+0.5&order=metrics.metric_007+DESC"),
        ),
        ("run page", format!("/experiments/{exp}/runs/{}", run_ids[1])),
        ("run page, 1M-value history", format!("/experiments/{exp}/runs/{long_run}")),
        ("compare 2 runs", format!("/compare-runs?runs={}&runs={}", run_ids[1], run_ids[2])),
        ("models", "/models".into()),
        ("model (100 versions)", "/models/bench_model".into()),
        ("model version", "/models/bench_model/versions/50".into()),
    ];
    println!("| page | p50 ms | p95 ms | bytes |");
    println!("| --- | ---: | ---: | ---: |");
    for (name, path) in pages {
        let mut times = Vec::with_capacity(args.rounds);
        let mut bytes = 0;
        for _ in 0..args.rounds {
            let t = Instant::now();
            let res = app.clone().oneshot(Request::get(&path).body(Body::empty()).unwrap()).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            bytes = res.into_body().collect().await.unwrap().to_bytes().len();
            times.push(t.elapsed());
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!("| {name} | {:.1} | {:.1} | {bytes} |", ms(times[times.len() / 2]), ms(times[times.len() * 95 / 100]));
    }
}
