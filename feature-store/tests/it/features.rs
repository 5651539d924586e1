//! fs_drivers and abt_churn on the full history, against values worked out from the YAML.

use crate::common::{query, scalar};
use pitwall_test_support::{full_lake, local_lake};

/// The contract's 65 columns in order, with their Arrow types as DataFusion reports them.
fn contract_columns() -> Vec<(String, &'static str)> {
    let stats = [
        "avgGridPosition",
        "medianGridPosition",
        "avgPosition",
        "medianPosition",
        "totalPositionLift",
        "avgPositionLift",
        "medianPositionLift",
        "pctPolePositition",
        "pctPolewin",
    ];
    let mut cols: Vec<(String, &str)> = [
        ("idDriver", "Utf8"),
        ("dtRef", "Utf8"),
        ("dtLastSeen", "Date32"),
        ("dtFirstSeen", "Date32"),
        ("dtIntervalMaxMin", "Int32"),
        ("qtRaces", "Int64"),
        ("qtTeams", "Int64"),
        ("idTeam", "Utf8"),
        ("qtLastSeenRace", "Int32"),
    ]
    .iter()
    .map(|(n, t)| (n.to_string(), *t))
    .collect();
    cols.extend(stats.iter().map(|s| (s.to_string(), "Float64")));
    cols.push(("qtdPolePositition".into(), "Int64"));
    cols.push(("qtdPolewin".into(), "Int64"));
    for w in ["RaceFirst05", "RaceFirst10", "RaceLast10", "RaceLast20", "RaceLast40"] {
        cols.extend(stats.iter().map(|s| (format!("{s}{w}"), "Float64")));
    }
    cols
}

fn schema_of(batches: &[pitwall_lake::RecordBatch]) -> Vec<(String, String)> {
    batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| {
            // Partition values may come back dictionary-encoded; the logical type is what counts.
            let ty = match f.data_type() {
                deltalake::arrow::datatypes::DataType::Dictionary(_, v) => v.to_string(),
                t => t.to_string(),
            };
            (f.name().clone(), ty.replace("Utf8View", "Utf8"))
        })
        .collect()
}

#[tokio::test]
async fn fs_drivers_has_the_contract_schema_and_one_partition_per_race_date() {
    let lake = local_lake(full_lake());
    let batches = lake.sql("SELECT * FROM fs_drivers WHERE \"dtRef\" = '2025-12-07' LIMIT 1").await.unwrap();
    let expected: Vec<(String, String)> = contract_columns().into_iter().map(|(n, t)| (n, t.to_string())).collect();
    assert_eq!(schema_of(&batches), expected);
    assert_eq!(scalar(&lake, r#"SELECT COUNT(DISTINCT "dtRef") FROM fs_drivers"#).await, "1149");
    // Every driver with a race up to the date: 23 at the first GP, 810 at the last.
    let first_last = query(
        &lake,
        r#"SELECT "dtRef", COUNT(*) FROM fs_drivers
           WHERE "dtRef" IN ('1950-05-13', '2025-12-07') GROUP BY 1 ORDER BY 1"#,
    )
    .await;
    assert_eq!(
        first_last,
        vec![vec!["1950-05-13".to_string(), "23".into()], vec!["2025-12-07".to_string(), "810".into()]]
    );
    let abt = lake.sql("SELECT * FROM abt_churn LIMIT 1").await.unwrap();
    let mut with_label = expected.clone();
    with_label.push(("flChurn".into(), "Int32".into()));
    assert_eq!(schema_of(&abt), with_label);
}

#[tokio::test]
async fn a_rookies_first_races_worked_by_hand() {
    // Antonelli, 2025: Australia grid 16 → 4th, China grid 8 → 6th, Japan grid 6 → 6th.
    // grid 16, 8, 6: avg 10, median 8; positions 4, 6, 6: avg 16/3, median 6;
    // lift 12, 2, 0: total 14, avg 14/3, median 2; no pole.
    let lake = local_lake(full_lake());
    let row = query(
        &lake,
        r#"SELECT CAST("dtFirstSeen" AS VARCHAR), CAST("dtLastSeen" AS VARCHAR),
                  "dtIntervalMaxMin", "qtRaces", "qtTeams", "idTeam", "qtLastSeenRace",
                  "avgGridPosition", "medianGridPosition", "avgPosition", "medianPosition",
                  "totalPositionLift", "avgPositionLift", "medianPositionLift",
                  "pctPolePositition", "qtdPolePositition",
                  "medianGridPositionRaceFirst05", "totalPositionLiftRaceLast10"
           FROM fs_drivers WHERE "dtRef" = '2025-04-06' AND "idDriver" = 'kimi-antonelli'"#,
    )
    .await;
    assert_eq!(
        row[0],
        [
            "2025-03-16",
            "2025-04-06",
            "21",
            "3",
            "1",
            "mercedes",
            "0",
            "10.0",
            "8.0",
            "5.333333333333333",
            "6.0",
            "14.0",
            "4.666666666666667",
            "2.0",
            "0.0",
            "0",
            "8.0",
            "14.0"
        ]
        .map(String::from)
    );
    // Before his first race he is not in the feature store at all.
    assert_eq!(
        scalar(
            &lake,
            r#"SELECT COUNT(*) FROM fs_drivers
               WHERE "dtRef" = '2024-12-08' AND "idDriver" = 'kimi-antonelli'"#
        )
        .await,
        "0"
    );
}

#[tokio::test]
async fn a_driver_dropped_mid_season_ages_by_the_races_he_missed() {
    // Sargeant's last race was the 2024 Dutch GP (2024-08-25); nine GPs followed up to Abu
    // Dhabi on 2024-12-08. At that date: 36 races for Williams since 2023-03-05.
    let lake = local_lake(full_lake());
    let row = query(
        &lake,
        r#"SELECT CAST("dtLastSeen" AS VARCHAR), "qtLastSeenRace", "qtRaces", "idTeam",
                  "dtIntervalMaxMin", "medianGridPosition", "medianGridPositionRaceLast10",
                  "totalPositionLift", "medianPositionLiftRaceFirst05"
           FROM fs_drivers WHERE "dtRef" = '2024-12-08' AND "idDriver" = 'logan-sargeant'"#,
    )
    .await;
    assert_eq!(row[0], ["2024-08-25", "9", "36", "williams", "539", "18.0", "17.5", "19.0", "2.0"].map(String::from));
    // Career totals of a long career at the last race date.
    let alonso = query(
        &lake,
        r#"SELECT "qtRaces", "qtTeams", "idTeam", "qtdPolePositition", "qtdPolewin",
                  "medianPositionLift", "medianPositionRaceLast10"
           FROM fs_drivers WHERE "dtRef" = '2025-12-07' AND "idDriver" = 'fernando-alonso'"#,
    )
    .await;
    assert_eq!(alonso[0], ["428", "6", "aston-martin", "22", "14", "0.5", "10.5"].map(String::from));
}

#[tokio::test]
async fn churn_labels_drivers_who_left_and_who_stayed() {
    let lake = local_lake(full_lake());
    let labels = query(
        &lake,
        r#"SELECT "idDriver", "dtRef", "flChurn" FROM abt_churn
           WHERE ("dtRef" = '2024-12-08'
                  AND "idDriver" IN ('valtteri-bottas', 'lando-norris', 'kevin-magnussen'))
              OR ("dtRef" = '2024-08-25' AND "idDriver" = 'logan-sargeant')
           ORDER BY 2, 1"#,
    )
    .await;
    let expected = [
        ["logan-sargeant", "2024-08-25", "1"],
        ["kevin-magnussen", "2024-12-08", "1"],
        ["lando-norris", "2024-12-08", "0"],
        ["valtteri-bottas", "2024-12-08", "1"],
    ];
    assert_eq!(labels, expected.iter().map(|r| r.map(String::from).to_vec()).collect::<Vec<_>>());
    // The latest season has no next season yet: unlabelled, so absent. So are drivers long
    // gone (qtLastSeenRace > 2) and dates before 2000.
    let bounds = query(
        &lake,
        r#"SELECT MIN("dtRef"), MAX("dtRef"), MAX("qtLastSeenRace"), MIN(CAST("dtFirstSeen" AS VARCHAR)),
                  MIN("qtRaces")
           FROM abt_churn"#,
    )
    .await;
    assert_eq!(bounds[0][1].as_str(), "2024-12-08");
    assert!(bounds[0][0].as_str() > "2000-01-01");
    assert_eq!(bounds[0][2], "2");
    assert!(bounds[0][3].as_str() >= "1991-01-01");
    assert_eq!(bounds[0][4], "3");
    // Sargeant one race before Zandvoort: a driver still racing, but gone the next season.
    // At the first race of a season, a driver who missed only that race is not labelled.
    assert_eq!(
        scalar(
            &lake,
            r#"SELECT COUNT(*) FROM abt_churn a
               JOIN silver_sessions s ON CAST(s."dtSession" AS VARCHAR) = a."dtRef"
               WHERE s."descSession" = 'Race' AND a."qtLastSeenRace" = 1
                 AND s."dtSession" = (SELECT MIN(x."dtSession") FROM silver_sessions x
                                      WHERE x."nrSeasonYear" = s."nrSeasonYear")"#
        )
        .await,
        "0"
    );
}
