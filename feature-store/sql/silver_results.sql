-- silver f1/results: one row per driver per session (Race, Qualifying, Sprint).
--
-- Input: bronze_results (bronze f1/results).
-- Race rows of drivers who did not take part (DNQ, DNPQ, EX, DNP) are left out; nrPosition
-- numbers the rows kept in each session 1..N in their file's order, with no gaps (the filter
-- applies before the window, so a left-out row above a driver does not push him down).
SELECT
    concat(CAST("raceDate" AS VARCHAR), '-', "circuitPlaceName", '-', "sessionType") AS "idSession",
    "sessionType" AS "descSession",
    "raceDate" AS "dtSession",
    "driverId" AS "idDriver",
    "driverNumber" AS "nrDriver",
    "driverAbbreviation" AS "descDriverAbreviation",
    "driverFirstName" AS "descDriverName",
    "driverFullName" AS "descDriverFullName",
    "constructorId" AS "idTeam",
    "constructorName" AS "descTeamName",
    CAST(ROW_NUMBER() OVER (PARTITION BY "sessionKey" ORDER BY "rowIndex") AS INT) AS "nrPosition",
    CASE WHEN "position" ~ '^[0-9]+$' THEN CAST("position" AS INT) END AS "nrClassifiedPosition",
    CASE
        WHEN "sessionType" = 'Qualifying' THEN CAST(NULL AS INT)
        WHEN "gridPosition" ~ '^[0-9]+$' THEN CAST("gridPosition" AS INT)
        ELSE 0
    END AS "nrGridPosition",
    "points" AS "nrPoints",
    "time" AS "descTimeDuration",
    "countryName" AS "descCountryName",
    "circuitPlaceName" AS "descSessionLocation"
FROM bronze_results
WHERE NOT ("sessionType" = 'Race' AND "position" IN ('DNQ', 'DNPQ', 'EX', 'DNP'))
ORDER BY "dtSession", "descSession", "nrPosition"
