//! Incremental builds: later races change no earlier dtRef, re-runs write nothing, a
//! correction recomputes exactly the dtRefs that depend on it.

use pitwall_lake::{Lake, Outcome, SeasonRange, StepReport, TABLES};

use crate::common::{partial_source, query};
use pitwall_test_support::{f1db, local_lake};

async fn versions(lake: &Lake) -> Vec<Option<i64>> {
    lake.tables().await.unwrap().tables.iter().map(|t| t.version).collect()
}

fn all_unchanged(steps: &[StepReport]) -> bool {
    steps.iter().all(|s| s.outcome == Outcome::Unchanged)
}

fn fs_partitions(steps: &[StepReport]) -> Option<usize> {
    steps.iter().find_map(|s| match s.outcome {
        Outcome::Written { partitions, .. } if s.table == pitwall_lake::FS_DRIVERS => partitions,
        _ => None,
    })
}

const FS_ROWS: &str = r#"SELECT * FROM fs_drivers WHERE "dtRef" < '2025-01-01'
                         ORDER BY "dtRef", "idDriver""#;

#[tokio::test]
async fn a_later_season_changes_no_earlier_row_and_reruns_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let lake = local_lake(dir.path());
    lake.ingest_f1db(&f1db(), SeasonRange::between(2023, 2024)).await.unwrap();
    let first = lake.build(false).await.unwrap();
    assert_eq!(fs_partitions(&first), Some(22 + 24));
    let before = query(&lake, FS_ROWS).await;
    assert!(before.len() > 40 * 20);
    // 2024 is the latest season so far: nothing is labelled for it yet.
    assert_eq!(query(&lake, r#"SELECT COUNT(*) FROM abt_churn WHERE "dtRef" >= '2024-01-01'"#).await[0][0], "0");

    let v1 = versions(&lake).await;
    assert!(all_unchanged(&lake.build(false).await.unwrap()));
    let again = lake.ingest_f1db(&f1db(), SeasonRange::between(2023, 2024)).await.unwrap();
    assert_eq!(again.written, 0);
    assert!(all_unchanged(&lake.build(false).await.unwrap()));
    assert_eq!(versions(&lake).await, v1, "a re-run commits no new version");

    lake.ingest_f1db(&f1db(), SeasonRange::between(2025, 2025)).await.unwrap();
    let second = lake.build(false).await.unwrap();
    assert_eq!(fs_partitions(&second), Some(24), "only the new race dates");
    assert_eq!(query(&lake, FS_ROWS).await, before);
    assert!(
        query(&lake, r#"SELECT COUNT(*) FROM abt_churn WHERE "dtRef" >= '2024-01-01'"#).await[0][0] != "0",
        "2024 is labelled once 2025 has started"
    );

    // A full backfill gives exactly what the incremental builds gave.
    let all = r#"SELECT * FROM fs_drivers ORDER BY "dtRef", "idDriver""#;
    let incremental = query(&lake, all).await;
    let full = lake.build_fs_drivers(true).await.unwrap();
    assert_eq!(fs_partitions(&full), Some(22 + 24 + 24));
    assert_eq!(query(&lake, all).await, incremental);
    assert_eq!(TABLES.len(), v1.len());
}

#[tokio::test]
async fn a_corrected_race_recomputes_only_the_dtrefs_from_that_race_on() {
    let dir = tempfile::tempdir().unwrap();
    let races = ["20-mexico", "21-sao-paulo", "22-las-vegas", "23-qatar", "24-abu-dhabi"];
    let source = partial_source(dir.path(), 2025, &races);
    let lake = local_lake(&dir.path().join("lake"));
    lake.ingest_f1db(&source, SeasonRange::ALL).await.unwrap();
    lake.build(false).await.unwrap();
    let early = r#"SELECT * FROM fs_drivers WHERE "dtRef" < '2025-11-30' ORDER BY 2, 1"#;
    let before = query(&lake, early).await;

    // Qatar (2025-11-30): the winner's grid slot is corrected (a 1 put in front of it), so the
    // Qatar and Abu Dhabi dtRefs change and the three before them do not.
    let qatar = source.join("seasons/2025/races/23-qatar/race-results.yml");
    let text = std::fs::read_to_string(&qatar).unwrap();
    std::fs::write(&qatar, text.replacen("gridPosition: ", "gridPosition: 1", 1)).unwrap();
    let ingest = lake.ingest_f1db(&source, SeasonRange::ALL).await.unwrap();
    assert_eq!(ingest.written, 1);
    let steps = lake.build(false).await.unwrap();
    assert_eq!(fs_partitions(&steps), Some(2));
    assert_eq!(query(&lake, early).await, before);
}
