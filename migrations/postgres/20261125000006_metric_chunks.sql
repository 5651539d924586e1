-- Metric history in chunks: a row holds up to 64 values of one run's metric, packed as
-- big-endian (step, timestamp, value) triples (the layout int8send and float8send write; see
-- registry/src/store/sql/metric_chunks.rs). A log-batch of a thousand values over fifty keys is
-- fifty rows, where a row per value made it a thousand heap and index inserts.
--
-- Each chunk records the range of its steps and of its timestamps. A value can only repeat a
-- stored one inside a chunk whose ranges meet its own; the key orders chunks by their latest
-- timestamp, so for values logged now the check reads no more than the chunks logged since.
--
-- The rows of the old `metrics` table are packed into chunks by the server when it starts, in
-- one transaction that then drops the table.
CREATE TABLE metric_chunks (
    chunk_id      BIGINT GENERATED ALWAYS AS IDENTITY,
    run_uuid      TEXT   NOT NULL,
    key           TEXT   NOT NULL,
    min_step      BIGINT NOT NULL,
    max_step      BIGINT NOT NULL,
    min_timestamp BIGINT NOT NULL,
    max_timestamp BIGINT NOT NULL,
    data          BYTEA  NOT NULL,
    PRIMARY KEY (run_uuid, key, max_timestamp, chunk_id)
);
