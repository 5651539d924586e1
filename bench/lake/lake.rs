//! Lake benchmark: full fs_drivers backfill, an incremental update after one new race, peak
//! memory; then the same fs_drivers.sql run by DuckDB from Python over the same Delta table
//! (a Spark-free alternative a user would reach for), with the ratio.
//!
//! Run: `cargo bench -p pitwall-lake --bench lake` (release profile). Environment:
//! `PITWALL_F1DB` (default `../shared/f1db`), `PITWALL_VENV` (default
//! `$HOME/.cache/pitwall/venv`, needs `duckdb` and `deltalake`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use pitwall_lake::SeasonRange;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The source tree without the 2025 season's last race: every entity folder and season linked,
/// 2025's races linked one by one but the last.
fn source_without_last_race(src: &Path, dir: &Path) -> PathBuf {
    let root = dir.join("f1db");
    std::fs::create_dir_all(root.join("seasons")).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        if e.file_name() != "seasons" {
            std::os::unix::fs::symlink(e.path(), root.join(e.file_name())).unwrap();
        }
    }
    let mut seasons: Vec<_> = std::fs::read_dir(src.join("seasons")).unwrap().map(|e| e.unwrap().path()).collect();
    seasons.sort();
    let last = seasons.pop().unwrap();
    for s in seasons {
        std::os::unix::fs::symlink(&s, root.join("seasons").join(s.file_name().unwrap())).unwrap();
    }
    let races_dir = root.join("seasons").join(last.file_name().unwrap()).join("races");
    std::fs::create_dir_all(&races_dir).unwrap();
    let mut races: Vec<_> = std::fs::read_dir(last.join("races")).unwrap().map(|e| e.unwrap().path()).collect();
    races.sort();
    races.pop();
    for r in races {
        std::os::unix::fs::symlink(&r, races_dir.join(r.file_name().unwrap())).unwrap();
    }
    root
}

#[tokio::main]
async fn main() {
    let src = pitwall_test_support::f1db();
    let dir = tempfile::tempdir().unwrap();
    let partial = source_without_last_race(&src, dir.path());
    let lake_root = dir.path().join("lake");
    let lake = pitwall_test_support::local_lake(&lake_root);

    let t = Instant::now();
    lake.ingest_f1db(&partial, SeasonRange::ALL).await.unwrap();
    let ingest = t.elapsed().as_secs_f64();
    let t = Instant::now();
    lake.build_bronze().await.unwrap();
    lake.build_silver().await.unwrap();
    let upstream = t.elapsed().as_secs_f64();
    let peak_before_backfill = peak_rss_mib();

    let t = Instant::now();
    lake.build_fs_drivers(true).await.unwrap();
    let backfill = t.elapsed().as_secs_f64();
    let dates = lake.sql(r#"SELECT COUNT(DISTINCT "dtRef") AS n, COUNT(*) AS r FROM fs_drivers"#).await.unwrap();
    let n_dates = dates[0].column(0).as_any().downcast_ref::<deltalake::arrow::array::Int64Array>().unwrap().value(0);
    let n_rows = dates[0].column(1).as_any().downcast_ref::<deltalake::arrow::array::Int64Array>().unwrap().value(0);
    let t = Instant::now();
    lake.build_abt_churn().await.unwrap();
    let abt = t.elapsed().as_secs_f64();
    let peak_after_backfill = peak_rss_mib();

    // One new race: ingest it and run every step, as a scheduler would.
    let t = Instant::now();
    lake.ingest_f1db(&src, SeasonRange::between(2025, 2025)).await.unwrap();
    let steps = lake.build(false).await.unwrap();
    let incremental = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let noop = lake.build(false).await.unwrap();
    let noop_time = t.elapsed().as_secs_f64();
    assert!(noop.iter().all(|s| s.outcome == pitwall_lake::Outcome::Unchanged));

    println!("F1DB ingest into raw (every season, the last race held back): {ingest:.2} s");
    println!("bronze + silver results/sessions: {upstream:.2} s");
    println!("peak memory (VmHWM) after ingest and silver: {peak_before_backfill:.0} MiB");
    println!(
        "fs_drivers full backfill: {backfill:.2} s for {n_dates} dtRefs, {n_rows} rows ({:.1} ms per dtRef)",
        backfill * 1000.0 / n_dates as f64
    );
    println!("abt_churn: {abt:.2} s");
    println!("incremental update after one new race (ingest + every step): {incremental:.2} s");
    for s in &steps {
        println!("  {s}");
    }
    println!("second run, nothing new: {noop_time:.2} s, no commit");
    println!("peak memory (VmHWM) after backfill: {peak_after_backfill:.0} MiB; at the end: {:.0} MiB", peak_rss_mib());
    println!(
        "the seed's Spark job: ~16 s per dtRef, ~{:.0} s for {n_dates} dtRefs: {:.0}x",
        16.0 * n_dates as f64,
        16.0 * n_dates as f64 / backfill
    );

    let venv = pitwall_test_support::venv::venv();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/lake/duckdb_fs_drivers.py");
    let out = Command::new(venv.join("bin/python"))
        .arg(&script)
        .arg(&lake_root)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/fs_drivers.sql"))
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            print!("{text}");
            if let Some(secs) = text
                .lines()
                .find_map(|l| l.strip_prefix("duckdb fs_drivers seconds: "))
                .and_then(|v| v.trim().parse::<f64>().ok())
            {
                println!("ratio duckdb / pitwall (full backfill, compute + write): {:.2}", secs / backfill);
            }
        }
        Ok(o) => println!("duckdb comparison failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => println!("duckdb comparison not run: {e}"),
    }
}
