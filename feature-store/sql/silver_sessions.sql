-- silver f1/sessions: one row per session.
--
-- Input: silver_results (silver f1/results).
-- F1 seasons run within a calendar year, so a session's season is the year of its date.
SELECT
    "idSession",
    CAST(date_part('year', "dtSession") AS INT) AS "nrSeasonYear",
    "dtSession",
    "descCountryName",
    "descSessionLocation",
    "descSession",
    COUNT(DISTINCT "idDriver") AS "qtdDrivers",
    COUNT(DISTINCT CASE WHEN "nrGridPosition" >= 1 THEN "idDriver" END) AS "qtdDriversGrid"
FROM silver_results
GROUP BY "idSession", "dtSession", "descCountryName", "descSessionLocation", "descSession"
ORDER BY "dtSession", "descSession"
