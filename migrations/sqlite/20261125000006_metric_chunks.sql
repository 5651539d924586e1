-- Metric history in chunks: a row holds up to 64 values of one run's metric, packed as
-- big-endian (step, timestamp, value) triples (see registry/src/store/sql/metric_chunks.rs).
-- A log-batch of a thousand values over fifty keys is fifty rows, where a row per value made it
-- a thousand inserts into the table and into its six-column key.
--
-- Each chunk records the range of its steps and of its timestamps. A value can only repeat a
-- stored one inside a chunk whose ranges meet its own; the index orders chunks by their latest
-- timestamp, so for values logged now the check reads no more than the chunks logged since.
--
-- The rows of the old `metrics` table are packed into chunks by the server when it starts, in
-- one transaction that then drops the table.
CREATE TABLE metric_chunks (
    chunk_id      INTEGER PRIMARY KEY,
    run_uuid      TEXT    NOT NULL,
    key           TEXT    NOT NULL,
    min_step      INTEGER NOT NULL,
    max_step      INTEGER NOT NULL,
    min_timestamp INTEGER NOT NULL,
    max_timestamp INTEGER NOT NULL,
    data          BLOB    NOT NULL
);
CREATE INDEX metric_chunks_by_series ON metric_chunks (run_uuid, key, max_timestamp);
