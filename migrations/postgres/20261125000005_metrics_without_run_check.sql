-- log-batch inserts up to a thousand metric rows per call, and the foreign keys to runs made
-- PostgreSQL look up and share-lock the run once per row: a third of the insert's time.
-- Runs are never deleted (deletion is a lifecycle stage), and every write to a run's metrics
-- first reads the run in its own transaction, so the check adds nothing.
ALTER TABLE metrics DROP CONSTRAINT IF EXISTS metrics_run_uuid_fkey;
ALTER TABLE latest_metrics DROP CONSTRAINT IF EXISTS latest_metrics_run_uuid_fkey;
