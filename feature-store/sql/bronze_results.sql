-- bronze f1/results: the latest version of every session result, one row per result row, typed.
--
-- Input (register it under this name to run this by hand):
--   raw_results  raw documents flattened: one row per result row, every source value as text,
--                rowIndex = 1-based order of the row in its file. Any set of versions: a
--                session's rows all come from its newest version (latest ingestedAt).
-- An incremental build feeds only the versions bronze does not hold yet and keeps the other
-- sessions' rows as they are.
WITH incoming AS (
    SELECT
        "sessionKey",
        "sourcePath",
        arrow_cast(to_timestamp_micros("ingestedAt"), 'Timestamp(Microsecond, Some("UTC"))') AS "ingestedAt",
        "contentHash",
        CAST("season" AS INT) AS "season",
        CAST("raceRound" AS INT) AS "raceRound",
        CAST("raceDate" AS DATE) AS "raceDate",
        "circuitId",
        "circuitPlaceName",
        "countryName",
        "sessionType",
        "rowIndex",
        "position",
        CAST("driverNumber" AS INT) AS "driverNumber",
        "driverId",
        "driverAbbreviation",
        "driverFirstName",
        "driverFullName",
        "constructorId",
        "constructorName",
        "gridPosition",
        CAST("points" AS DOUBLE) AS "points",
        "time",
        CAST("laps" AS INT) AS "laps"
    FROM raw_results
),
ranked AS (
    SELECT
        *,
        DENSE_RANK() OVER (
            PARTITION BY "sessionKey"
            ORDER BY "ingestedAt" DESC, "sourcePath" DESC
        ) AS version_rank
    FROM incoming
)
SELECT
    "sessionKey", "sourcePath", "ingestedAt", "contentHash", "season", "raceRound", "raceDate",
    "circuitId", "circuitPlaceName", "countryName", "sessionType", "rowIndex", "position",
    "driverNumber", "driverId", "driverAbbreviation", "driverFirstName", "driverFullName",
    "constructorId", "constructorName", "gridPosition", "points", "time", "laps"
FROM ranked
WHERE version_rank = 1
ORDER BY "season", "raceRound", "sessionType", "rowIndex"
