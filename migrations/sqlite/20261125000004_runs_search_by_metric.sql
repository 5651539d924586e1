-- Run search ordered by a metric reads runs with a number for it in value order, so a page is
-- found without sorting the whole experiment (see search::RunOrder::numbers_only).
CREATE INDEX latest_metrics_by_key_number ON latest_metrics (key, is_nan, value);
DROP INDEX latest_metrics_by_key_value;
