-- analytics f1/abt_churn: the churn training table, the fs_drivers columns plus flChurn.
--
-- Inputs (register them under these names to run this by hand):
--   fs_drivers      silver f1/fs_drivers
--   silver_results  silver f1/results
--
-- A row is labelled when its season has a next season in the data (that season has started);
-- flChurn = 1 when the driver has no result of any session type in the next season.
WITH seasons_held AS (
    SELECT
        CAST(date_part('year', "dtSession") AS INT) AS season,
        MIN(CASE WHEN "descSession" = 'Race' THEN "dtSession" END) AS first_race
    FROM silver_results
    GROUP BY CAST(date_part('year', "dtSession") AS INT)
),
latest AS (
    SELECT MAX(season) AS latest_season FROM seasons_held
),
active AS (
    SELECT DISTINCT "idDriver", CAST(date_part('year', "dtSession") AS INT) AS season
    FROM silver_results
)
SELECT
    f."idDriver",
    f."dtRef",
    f."dtLastSeen",
    f."dtFirstSeen",
    f."dtIntervalMaxMin",
    f."qtRaces",
    f."qtTeams",
    f."idTeam",
    f."qtLastSeenRace",
    f."avgGridPosition",
    f."medianGridPosition",
    f."avgPosition",
    f."medianPosition",
    f."totalPositionLift",
    f."avgPositionLift",
    f."medianPositionLift",
    f."pctPolePositition",
    f."pctPolewin",
    f."qtdPolePositition",
    f."qtdPolewin",
    f."avgGridPositionRaceFirst05",
    f."medianGridPositionRaceFirst05",
    f."avgPositionRaceFirst05",
    f."medianPositionRaceFirst05",
    f."totalPositionLiftRaceFirst05",
    f."avgPositionLiftRaceFirst05",
    f."medianPositionLiftRaceFirst05",
    f."pctPolePosititionRaceFirst05",
    f."pctPolewinRaceFirst05",
    f."avgGridPositionRaceFirst10",
    f."medianGridPositionRaceFirst10",
    f."avgPositionRaceFirst10",
    f."medianPositionRaceFirst10",
    f."totalPositionLiftRaceFirst10",
    f."avgPositionLiftRaceFirst10",
    f."medianPositionLiftRaceFirst10",
    f."pctPolePosititionRaceFirst10",
    f."pctPolewinRaceFirst10",
    f."avgGridPositionRaceLast10",
    f."medianGridPositionRaceLast10",
    f."avgPositionRaceLast10",
    f."medianPositionRaceLast10",
    f."totalPositionLiftRaceLast10",
    f."avgPositionLiftRaceLast10",
    f."medianPositionLiftRaceLast10",
    f."pctPolePosititionRaceLast10",
    f."pctPolewinRaceLast10",
    f."avgGridPositionRaceLast20",
    f."medianGridPositionRaceLast20",
    f."avgPositionRaceLast20",
    f."medianPositionRaceLast20",
    f."totalPositionLiftRaceLast20",
    f."avgPositionLiftRaceLast20",
    f."medianPositionLiftRaceLast20",
    f."pctPolePosititionRaceLast20",
    f."pctPolewinRaceLast20",
    f."avgGridPositionRaceLast40",
    f."medianGridPositionRaceLast40",
    f."avgPositionRaceLast40",
    f."medianPositionRaceLast40",
    f."totalPositionLiftRaceLast40",
    f."avgPositionLiftRaceLast40",
    f."medianPositionLiftRaceLast40",
    f."pctPolePosititionRaceLast40",
    f."pctPolewinRaceLast40",
    CAST(CASE WHEN a."idDriver" IS NULL THEN 1 ELSE 0 END AS INT) AS "flChurn"
FROM fs_drivers f
JOIN seasons_held s ON s.season = CAST(substr(f."dtRef", 1, 4) AS INT)
CROSS JOIN latest l
LEFT JOIN active a ON a."idDriver" = f."idDriver" AND a.season = s.season + 1
WHERE f."dtRef" > '2000-01-01'
  AND s.season < l.latest_season
  AND f."qtLastSeenRace" <= 2
  AND f."dtFirstSeen" >= DATE '1991-01-01'
  AND f."qtRaces" > 2
  AND NOT (f."qtLastSeenRace" = 1 AND f."dtRef" = CAST(s.first_race AS VARCHAR))
ORDER BY "dtRef", "idDriver"
