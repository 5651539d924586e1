-- silver f1/fs_drivers: the driver feature store, one row per (idDriver, dtRef).
--
-- Inputs (register them under these names to run this by hand):
--   silver_results  silver f1/results
--   fs_targets      one DATE column "dtRef": the reference dates to compute (every race date
--                   for a backfill, only new or changed ones for an incremental update)
--
-- Point in time: a row for dtRef uses Race rows with dtSession <= dtRef only.
-- Set-based rather than one query per dtRef: a driver's features change only on the dates the
-- driver races, so they are aggregated once per (driver, race date of that driver), a
-- "snapshot", and each snapshot is then spread over the reference dates it holds for (from its
-- date up to the driver's next race). Windows count rows in the order (dtSession, nrPosition):
-- First05 = the driver's first 5 rows, Last10 = the 10 latest rows up to the snapshot.
WITH race_rows AS (
    SELECT
        "idDriver",
        "idTeam",
        "dtSession",
        CAST("nrPosition" AS DOUBLE) AS pos,
        CAST(CASE WHEN "nrGridPosition" IS NULL OR "nrGridPosition" = 0 THEN "nrPosition"
                  ELSE "nrGridPosition" END AS DOUBLE) AS grid,
        CAST(CASE WHEN "nrGridPosition" IS NULL OR "nrGridPosition" = 0 THEN "nrPosition"
                  ELSE "nrGridPosition" END AS DOUBLE) - CAST("nrPosition" AS DOUBLE) AS lift,
        CASE WHEN "nrGridPosition" = 1 THEN 1.0 ELSE 0.0 END AS pole,
        CASE WHEN "nrGridPosition" = 1 AND "nrPosition" = 1 THEN 1.0 ELSE 0.0 END AS polewin,
        CAST(ROW_NUMBER() OVER (PARTITION BY "idDriver" ORDER BY "dtSession", "nrPosition") AS BIGINT) AS rn
    FROM silver_results
    WHERE "descSession" = 'Race'
),
-- Every race date, numbered, with the number of Race sessions held up to it.
race_dates AS (
    SELECT
        dt,
        CAST(ROW_NUMBER() OVER (ORDER BY dt) AS BIGINT) AS date_idx,
        CAST(SUM(n_races) OVER (ORDER BY dt ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS races_so_far
    FROM (
        SELECT "dtSession" AS dt, COUNT(DISTINCT "idSession") AS n_races
        FROM silver_results
        WHERE "descSession" = 'Race'
        GROUP BY "dtSession"
    ) d
),
date_bounds AS (
    SELECT MAX(date_idx) + 1 AS end_idx FROM race_dates
),
driver_dates AS (
    SELECT "idDriver", "dtSession" AS snap_dt, MAX(rn) AS last_rn
    FROM race_rows
    GROUP BY "idDriver", "dtSession"
),
-- A snapshot holds from its date up to (not including) the driver's next race date.
validity AS (
    SELECT
        dd."idDriver",
        dd.snap_dt,
        dd.last_rn,
        rd.races_so_far AS snap_races,
        rd.date_idx AS from_idx,
        COALESCE(LEAD(rd.date_idx) OVER (PARTITION BY dd."idDriver" ORDER BY dd.snap_dt), b.end_idx) AS to_idx
    FROM driver_dates dd
    JOIN race_dates rd ON rd.dt = dd.snap_dt
    CROSS JOIN date_bounds b
),
expanded AS (
    SELECT "idDriver", snap_dt, last_rn, snap_races, UNNEST(range(from_idx, to_idx)) AS date_idx
    FROM validity
),
wanted AS (
    SELECT e."idDriver", e.snap_dt, e.last_rn, e.snap_races, rd.dt AS ref_dt, rd.races_so_far AS ref_races
    FROM expanded e
    JOIN race_dates rd ON rd.date_idx = e.date_idx
    JOIN fs_targets t ON t."dtRef" = rd.dt
),
needed AS (
    SELECT DISTINCT "idDriver", snap_dt, last_rn FROM wanted
),
career AS (
    SELECT
        n."idDriver",
        n.snap_dt,
        MIN(r."dtSession") AS first_dt,
        COUNT(DISTINCT r."dtSession") AS qt_races,
        COUNT(DISTINCT r."idTeam") AS qt_teams,
        MIN(CASE WHEN r."dtSession" = n.snap_dt THEN r."idTeam" END) AS id_team,
        AVG(r.grid) AS "avgGridPosition",
        MEDIAN(r.grid) AS "medianGridPosition",
        AVG(r.pos) AS "avgPosition",
        MEDIAN(r.pos) AS "medianPosition",
        SUM(r.lift) AS "totalPositionLift",
        AVG(r.lift) AS "avgPositionLift",
        MEDIAN(r.lift) AS "medianPositionLift",
        AVG(r.pole) AS "pctPolePositition",
        AVG(r.polewin) AS "pctPolewin",
        CAST(SUM(r.pole) AS BIGINT) AS "qtdPolePositition",
        CAST(SUM(r.polewin) AS BIGINT) AS "qtdPolewin",
        AVG(CASE WHEN r.rn <= 5 THEN r.grid END) AS "avgGridPositionRaceFirst05",
        MEDIAN(CASE WHEN r.rn <= 5 THEN r.grid END) AS "medianGridPositionRaceFirst05",
        AVG(CASE WHEN r.rn <= 5 THEN r.pos END) AS "avgPositionRaceFirst05",
        MEDIAN(CASE WHEN r.rn <= 5 THEN r.pos END) AS "medianPositionRaceFirst05",
        SUM(CASE WHEN r.rn <= 5 THEN r.lift END) AS "totalPositionLiftRaceFirst05",
        AVG(CASE WHEN r.rn <= 5 THEN r.lift END) AS "avgPositionLiftRaceFirst05",
        MEDIAN(CASE WHEN r.rn <= 5 THEN r.lift END) AS "medianPositionLiftRaceFirst05",
        AVG(CASE WHEN r.rn <= 5 THEN r.pole END) AS "pctPolePosititionRaceFirst05",
        AVG(CASE WHEN r.rn <= 5 THEN r.polewin END) AS "pctPolewinRaceFirst05",
        AVG(CASE WHEN r.rn <= 10 THEN r.grid END) AS "avgGridPositionRaceFirst10",
        MEDIAN(CASE WHEN r.rn <= 10 THEN r.grid END) AS "medianGridPositionRaceFirst10",
        AVG(CASE WHEN r.rn <= 10 THEN r.pos END) AS "avgPositionRaceFirst10",
        MEDIAN(CASE WHEN r.rn <= 10 THEN r.pos END) AS "medianPositionRaceFirst10",
        SUM(CASE WHEN r.rn <= 10 THEN r.lift END) AS "totalPositionLiftRaceFirst10",
        AVG(CASE WHEN r.rn <= 10 THEN r.lift END) AS "avgPositionLiftRaceFirst10",
        MEDIAN(CASE WHEN r.rn <= 10 THEN r.lift END) AS "medianPositionLiftRaceFirst10",
        AVG(CASE WHEN r.rn <= 10 THEN r.pole END) AS "pctPolePosititionRaceFirst10",
        AVG(CASE WHEN r.rn <= 10 THEN r.polewin END) AS "pctPolewinRaceFirst10",
        AVG(CASE WHEN r.rn > n.last_rn - 10 THEN r.grid END) AS "avgGridPositionRaceLast10",
        MEDIAN(CASE WHEN r.rn > n.last_rn - 10 THEN r.grid END) AS "medianGridPositionRaceLast10",
        AVG(CASE WHEN r.rn > n.last_rn - 10 THEN r.pos END) AS "avgPositionRaceLast10",
        MEDIAN(CASE WHEN r.rn > n.last_rn - 10 THEN r.pos END) AS "medianPositionRaceLast10",
        SUM(CASE WHEN r.rn > n.last_rn - 10 THEN r.lift END) AS "totalPositionLiftRaceLast10",
        AVG(CASE WHEN r.rn > n.last_rn - 10 THEN r.lift END) AS "avgPositionLiftRaceLast10",
        MEDIAN(CASE WHEN r.rn > n.last_rn - 10 THEN r.lift END) AS "medianPositionLiftRaceLast10",
        AVG(CASE WHEN r.rn > n.last_rn - 10 THEN r.pole END) AS "pctPolePosititionRaceLast10",
        AVG(CASE WHEN r.rn > n.last_rn - 10 THEN r.polewin END) AS "pctPolewinRaceLast10",
        AVG(CASE WHEN r.rn > n.last_rn - 20 THEN r.grid END) AS "avgGridPositionRaceLast20",
        MEDIAN(CASE WHEN r.rn > n.last_rn - 20 THEN r.grid END) AS "medianGridPositionRaceLast20",
        AVG(CASE WHEN r.rn > n.last_rn - 20 THEN r.pos END) AS "avgPositionRaceLast20",
        MEDIAN(CASE WHEN r.rn > n.last_rn - 20 THEN r.pos END) AS "medianPositionRaceLast20",
        SUM(CASE WHEN r.rn > n.last_rn - 20 THEN r.lift END) AS "totalPositionLiftRaceLast20",
        AVG(CASE WHEN r.rn > n.last_rn - 20 THEN r.lift END) AS "avgPositionLiftRaceLast20",
        MEDIAN(CASE WHEN r.rn > n.last_rn - 20 THEN r.lift END) AS "medianPositionLiftRaceLast20",
        AVG(CASE WHEN r.rn > n.last_rn - 20 THEN r.pole END) AS "pctPolePosititionRaceLast20",
        AVG(CASE WHEN r.rn > n.last_rn - 20 THEN r.polewin END) AS "pctPolewinRaceLast20",
        AVG(CASE WHEN r.rn > n.last_rn - 40 THEN r.grid END) AS "avgGridPositionRaceLast40",
        MEDIAN(CASE WHEN r.rn > n.last_rn - 40 THEN r.grid END) AS "medianGridPositionRaceLast40",
        AVG(CASE WHEN r.rn > n.last_rn - 40 THEN r.pos END) AS "avgPositionRaceLast40",
        MEDIAN(CASE WHEN r.rn > n.last_rn - 40 THEN r.pos END) AS "medianPositionRaceLast40",
        SUM(CASE WHEN r.rn > n.last_rn - 40 THEN r.lift END) AS "totalPositionLiftRaceLast40",
        AVG(CASE WHEN r.rn > n.last_rn - 40 THEN r.lift END) AS "avgPositionLiftRaceLast40",
        MEDIAN(CASE WHEN r.rn > n.last_rn - 40 THEN r.lift END) AS "medianPositionLiftRaceLast40",
        AVG(CASE WHEN r.rn > n.last_rn - 40 THEN r.pole END) AS "pctPolePosititionRaceLast40",
        AVG(CASE WHEN r.rn > n.last_rn - 40 THEN r.polewin END) AS "pctPolewinRaceLast40"
    FROM needed n
    JOIN race_rows r ON r."idDriver" = n."idDriver" AND r."dtSession" <= n.snap_dt
    GROUP BY n."idDriver", n.snap_dt
)
SELECT
    w."idDriver",
    CAST(w.ref_dt AS VARCHAR) AS "dtRef",
    w.snap_dt AS "dtLastSeen",
    c.first_dt AS "dtFirstSeen",
    CAST(w.snap_dt - c.first_dt AS INT) AS "dtIntervalMaxMin",
    CAST(c.qt_races AS BIGINT) AS "qtRaces",
    CAST(c.qt_teams AS BIGINT) AS "qtTeams",
    c.id_team AS "idTeam",
    CAST(w.ref_races - w.snap_races AS INT) AS "qtLastSeenRace",
    c."avgGridPosition",
    c."medianGridPosition",
    c."avgPosition",
    c."medianPosition",
    c."totalPositionLift",
    c."avgPositionLift",
    c."medianPositionLift",
    c."pctPolePositition",
    c."pctPolewin",
    c."qtdPolePositition",
    c."qtdPolewin",
    c."avgGridPositionRaceFirst05",
    c."medianGridPositionRaceFirst05",
    c."avgPositionRaceFirst05",
    c."medianPositionRaceFirst05",
    c."totalPositionLiftRaceFirst05",
    c."avgPositionLiftRaceFirst05",
    c."medianPositionLiftRaceFirst05",
    c."pctPolePosititionRaceFirst05",
    c."pctPolewinRaceFirst05",
    c."avgGridPositionRaceFirst10",
    c."medianGridPositionRaceFirst10",
    c."avgPositionRaceFirst10",
    c."medianPositionRaceFirst10",
    c."totalPositionLiftRaceFirst10",
    c."avgPositionLiftRaceFirst10",
    c."medianPositionLiftRaceFirst10",
    c."pctPolePosititionRaceFirst10",
    c."pctPolewinRaceFirst10",
    c."avgGridPositionRaceLast10",
    c."medianGridPositionRaceLast10",
    c."avgPositionRaceLast10",
    c."medianPositionRaceLast10",
    c."totalPositionLiftRaceLast10",
    c."avgPositionLiftRaceLast10",
    c."medianPositionLiftRaceLast10",
    c."pctPolePosititionRaceLast10",
    c."pctPolewinRaceLast10",
    c."avgGridPositionRaceLast20",
    c."medianGridPositionRaceLast20",
    c."avgPositionRaceLast20",
    c."medianPositionRaceLast20",
    c."totalPositionLiftRaceLast20",
    c."avgPositionLiftRaceLast20",
    c."medianPositionLiftRaceLast20",
    c."pctPolePosititionRaceLast20",
    c."pctPolewinRaceLast20",
    c."avgGridPositionRaceLast40",
    c."medianGridPositionRaceLast40",
    c."avgPositionRaceLast40",
    c."medianPositionRaceLast40",
    c."totalPositionLiftRaceLast40",
    c."avgPositionLiftRaceLast40",
    c."medianPositionLiftRaceLast40",
    c."pctPolePosititionRaceLast40",
    c."pctPolewinRaceLast40"
FROM wanted w
JOIN career c ON c."idDriver" = w."idDriver" AND c.snap_dt = w.snap_dt
ORDER BY "dtRef", "idDriver"
