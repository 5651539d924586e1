//! The raw layer: idempotent re-ingest, new versions for changed sources, clear errors.

use pitwall_lake::{LakeError, SeasonRange};

use crate::common::{partial_source, query};
use pitwall_test_support::local_lake;

const RACES: [&str; 2] = ["01-australia", "02-china"];

#[tokio::test]
async fn reingest_writes_nothing_and_a_changed_file_adds_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let source = partial_source(dir.path(), 2025, &RACES);
    let lake = local_lake(&dir.path().join("lake"));

    // Australia: race + qualifying; China: race + qualifying + sprint.
    let first = lake.ingest_f1db(&source, SeasonRange::ALL).await.unwrap();
    assert_eq!((first.documents, first.written, first.unchanged), (5, 5, 0));
    let again = lake.ingest_f1db(&source, SeasonRange::ALL).await.unwrap();
    assert_eq!((again.written, again.unchanged), (0, 5));

    // A correction upstream: Norris's 25 points become 26.
    let file = source.join("seasons/2025/races/01-australia/race-results.yml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replacen("points: 25", "points: 26", 1)).unwrap();
    let third = lake.ingest_f1db(&source, SeasonRange::ALL).await.unwrap();
    assert_eq!((third.written, third.unchanged), (1, 4));
    assert_eq!(lake.tables().await.unwrap().raw_documents, 6, "old version kept");

    lake.build_bronze().await.unwrap();
    let points = query(
        &lake,
        r#"SELECT "points", COUNT(DISTINCT "sourcePath") FROM bronze_results
           WHERE "driverId" = 'lando-norris' AND "sessionKey" = '2025/01-australia/race'
           GROUP BY "points""#,
    )
    .await;
    assert_eq!(points, vec![vec!["26.0".to_string(), "1".to_string()]]);
}

#[tokio::test]
async fn malformed_or_missing_files_are_reported_by_path_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let source = partial_source(dir.path(), 2025, &RACES);
    let lake = local_lake(&dir.path().join("lake"));
    lake.ingest_f1db(&source, SeasonRange::ALL).await.unwrap();

    let broken = source.join("seasons/2025/races/02-china/qualifying-results.yml");
    std::fs::write(&broken, "- position: [1\n  driverId: x\n").unwrap();
    let race = source.join("seasons/2025/races/01-australia/race-results.yml");
    let text = std::fs::read_to_string(&race).unwrap();
    std::fs::write(&race, text.replacen("driverId: lando-norris", "driverId: no-such-driver", 1)).unwrap();
    std::fs::remove_file(source.join("seasons/2025/races/02-china/race.yml")).unwrap();

    let err = lake.ingest_f1db(&source, SeasonRange::ALL).await.expect_err("a broken source must not ingest");
    let LakeError::Source(problems) = &err else {
        panic!("expected source problems, got {err}");
    };
    let message = err.to_string();
    assert!(message.contains("drivers/no-such-driver.yml"), "{message}");
    assert!(message.contains("01-australia/race-results.yml"), "{message}");
    assert!(message.contains("02-china/race.yml"), "{message}");
    assert_eq!(problems.len(), 2, "{message}");
    assert_eq!(lake.tables().await.unwrap().raw_documents, 5, "what was ingested before stays, nothing new is added");

    std::fs::write(&broken, "- position: [1\n").unwrap();
    std::fs::copy(
        pitwall_test_support::f1db().join("seasons/2025/races/02-china/race.yml"),
        source.join("seasons/2025/races/02-china/race.yml"),
    )
    .unwrap();
    let err = lake.ingest_f1db(&source, SeasonRange::ALL).await.unwrap_err();
    assert!(err.to_string().contains("02-china/qualifying-results.yml: not valid YAML"), "{err}");
}

#[tokio::test]
async fn a_folder_that_is_not_f1db_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let lake = local_lake(&dir.path().join("lake"));
    let err = lake.ingest_f1db(dir.path(), SeasonRange::ALL).await.unwrap_err();
    assert!(err.to_string().contains("not an F1DB source tree"), "{err}");
}
