//! bronze and silver results/sessions on the full history, against values read from the YAML.

use crate::common::{query, scalar};
use pitwall_test_support::{full_lake, local_lake};

#[tokio::test]
async fn sessions_count_races_per_season() {
    let lake = local_lake(full_lake());
    let counts = query(
        &lake,
        r#"SELECT "nrSeasonYear", COUNT(*) FROM silver_sessions
           WHERE "descSession" = 'Race' AND "nrSeasonYear" IN (1950, 1951, 2021, 2024, 2025)
           GROUP BY "nrSeasonYear" ORDER BY "nrSeasonYear""#,
    )
    .await;
    let expected = [(1950, 7), (1951, 8), (2021, 22), (2024, 24), (2025, 24)];
    let expected: Vec<Vec<String>> = expected.iter().map(|(y, n)| vec![y.to_string(), n.to_string()]).collect();
    assert_eq!(counts, expected);
    // 1,149 race weekends, each with a race and a qualifying; 24 sprints (2021–2025).
    let by_type = query(&lake, r#"SELECT "descSession", COUNT(*) FROM silver_sessions GROUP BY 1 ORDER BY 1"#).await;
    assert_eq!(
        by_type,
        vec![
            vec!["Qualifying".to_string(), "1149".into()],
            vec!["Race".to_string(), "1149".into()],
            vec!["Sprint".to_string(), "24".into()],
        ]
    );
    let australia = query(
        &lake,
        r#"SELECT "idSession", "nrSeasonYear", CAST("dtSession" AS VARCHAR), "descCountryName",
                  "descSessionLocation", "qtdDrivers", "qtdDriversGrid"
           FROM silver_sessions WHERE "idSession" LIKE '2025-03-16-%' ORDER BY 1"#,
    )
    .await;
    assert_eq!(
        australia,
        vec![
            vec!["2025-03-16-Melbourne-Qualifying", "2025", "2025-03-16", "Australia", "Melbourne", "20", "0"],
            // Two of the twenty started from the pit lane (gridPosition PL).
            vec!["2025-03-16-Melbourne-Race", "2025", "2025-03-16", "Australia", "Melbourne", "20", "18"],
        ]
        .into_iter()
        .map(|r| r.into_iter().map(String::from).collect::<Vec<_>>())
        .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn silver_results_follow_the_contract() {
    let lake = local_lake(full_lake());
    let norris = query(
        &lake,
        r#"SELECT "idSession", "descSession", CAST("dtSession" AS VARCHAR), "idDriver", "nrDriver",
                  "descDriverAbreviation", "descDriverName", "descDriverFullName", "idTeam",
                  "descTeamName", "nrPosition", "nrClassifiedPosition", "nrGridPosition",
                  "nrPoints", "descTimeDuration", "descCountryName", "descSessionLocation"
           FROM silver_results
           WHERE "idSession" = '2025-03-16-Melbourne-Race' AND "idDriver" = 'lando-norris'"#,
    )
    .await;
    assert_eq!(
        norris[0],
        [
            "2025-03-16-Melbourne-Race",
            "Race",
            "2025-03-16",
            "lando-norris",
            "4",
            "NOR",
            "Lando",
            "Lando Norris",
            "mclaren",
            "McLaren",
            "1",
            "1",
            "1",
            "25.0",
            "1:42:06.304",
            "Australia",
            "Melbourne"
        ]
        .map(String::from)
    );
    // Zhou started the 2024 Australian GP from the pit lane (gridPosition PL) and finished 15th.
    let zhou = query(
        &lake,
        r#"SELECT "nrPosition", "nrClassifiedPosition", "nrGridPosition" FROM silver_results
           WHERE "idSession" = '2024-03-24-Melbourne-Race' AND "idDriver" = 'guanyu-zhou'"#,
    )
    .await;
    assert_eq!(zhou, vec![vec!["15".to_string(), "15".into(), "0".into()]]);
    // Qualifying has no grid.
    assert_eq!(
        scalar(
            &lake,
            r#"SELECT COUNT(*) FROM silver_results
               WHERE "descSession" = 'Qualifying' AND "nrGridPosition" IS NOT NULL"#
        )
        .await,
        "0"
    );
    // 25,892 race rows once DNQ, DNPQ, EX and DNP are left out (counted from the YAML).
    assert_eq!(scalar(&lake, r#"SELECT COUNT(*) FROM silver_results WHERE "descSession" = 'Race'"#).await, "25892");
    assert_eq!(
        scalar(
            &lake,
            r#"SELECT COUNT(*) FROM bronze_results
               WHERE "sessionType" = 'Race' AND "position" IN ('DNQ', 'DNPQ', 'EX', 'DNP')"#
        )
        .await,
        "1399"
    );
    // A retirement has no classified position but keeps its place in the order.
    let dnf = query(
        &lake,
        r#"SELECT COUNT(*) FROM silver_results r JOIN bronze_results b
             ON b."driverId" = r."idDriver" AND b."raceDate" = r."dtSession"
            AND b."sessionType" = r."descSession" AND b."rowIndex" = r."nrPosition"
           WHERE b."position" = 'DNF' AND r."nrClassifiedPosition" IS NOT NULL"#,
    )
    .await;
    assert_eq!(dnf, vec![vec!["0".to_string()]]);
}

/// A race date, the rows kept in it, and the drivers to check: (driver, row in the file, rows
/// left out above it).
type Race = (&'static str, i64, &'static [(&'static str, i64, i64)]);

/// In ten races a row left out (DNQ or EX) stands above a driver who took part (DNS or DSQ):
/// his place counts only the rows kept. Expected places are read off each `race-results.yml`:
/// the driver's row number less the left-out rows above it.
#[tokio::test]
async fn positions_count_only_the_drivers_who_took_part() {
    let lake = local_lake(full_lake());
    let races: [Race; 10] = [
        ("1962-06-03", 17, &[("ricardo-rodriguez", 22, 5)]),
        ("1964-05-10", 17, &[("innes-ireland", 20, 3)]),
        ("1970-09-06", 24, &[("emerson-fittipaldi", 25, 1)]),
        ("1980-08-31", 25, &[("jochen-mass", 29, 4)]),
        ("1981-03-29", 25, &[("jean-pierre-jabouille", 30, 5)]),
        ("1984-03-25", 26, &[("martin-brundle", 26, 1), ("stefan-bellof", 27, 1)]),
        ("1984-04-29", 26, &[("stefan-bellof", 26, 1), ("martin-brundle", 27, 1)]),
        ("1984-05-06", 26, &[("stefan-bellof", 27, 2), ("martin-brundle", 28, 2)]),
        ("1984-06-03", 21, &[("stefan-bellof", 26, 6), ("martin-brundle", 27, 6)]),
        ("1984-06-24", 26, &[("martin-brundle", 26, 1), ("stefan-bellof", 27, 1)]),
    ];
    for (date, kept, drivers) in races {
        let race = format!(r#""descSession" = 'Race' AND CAST("dtSession" AS VARCHAR) = '{date}'"#);
        let shape = query(
            &lake,
            &format!(
                r#"SELECT COUNT(*), MIN("nrPosition"), MAX("nrPosition"), COUNT(DISTINCT "nrPosition")
                   FROM silver_results WHERE {race}"#
            ),
        )
        .await;
        let n = kept.to_string();
        assert_eq!(shape, vec![vec![n.clone(), "1".into(), n.clone(), n]], "{date}: places are 1..N");
        for (driver, row, left_out_above) in drivers {
            let place = scalar(
                &lake,
                &format!(r#"SELECT "nrPosition" FROM silver_results WHERE {race} AND "idDriver" = '{driver}'"#),
            )
            .await;
            assert_eq!(place, (row - left_out_above).to_string(), "{date}: {driver}");
        }
    }
}
