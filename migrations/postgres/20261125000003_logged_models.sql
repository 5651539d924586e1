-- MLflow 3 logged models: a model logged to an experiment (usually by a run), with its own params,
-- tags and the metrics runs log against it. Columns follow MLflow's SQL store; status is the proto
-- enum's number (1 pending, 2 ready, 3 upload failed).

CREATE TABLE logged_models (
    model_id                  TEXT   PRIMARY KEY,
    experiment_id             BIGINT NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
    name                      TEXT   NOT NULL,
    artifact_location         TEXT   NOT NULL,
    creation_timestamp_ms     BIGINT NOT NULL,
    last_updated_timestamp_ms BIGINT NOT NULL,
    status                    BIGINT NOT NULL,
    lifecycle_stage           TEXT   NOT NULL DEFAULT 'active',
    model_type                TEXT,
    source_run_id             TEXT,
    status_message            TEXT
);
-- Search scans one experiment's live models in MLflow's default order.
CREATE INDEX logged_models_by_experiment ON logged_models (experiment_id, lifecycle_stage, creation_timestamp_ms DESC, model_id);
-- register_model finds a run's model by name.
CREATE INDEX logged_models_by_name ON logged_models (experiment_id, name);

CREATE TABLE logged_model_params (
    model_id      TEXT   NOT NULL REFERENCES logged_models (model_id) ON DELETE CASCADE,
    experiment_id BIGINT NOT NULL,
    param_key     TEXT   NOT NULL,
    param_value   TEXT   NOT NULL,
    PRIMARY KEY (model_id, param_key)
);

CREATE TABLE logged_model_tags (
    model_id      TEXT   NOT NULL REFERENCES logged_models (model_id) ON DELETE CASCADE,
    experiment_id BIGINT NOT NULL,
    tag_key       TEXT   NOT NULL,
    tag_value     TEXT   NOT NULL,
    PRIMARY KEY (model_id, tag_key)
);

-- Every value a run logged against the model (not only the latest), with the dataset it was
-- computed on. NaN is stored as 0 and infinities as the largest doubles, as MLflow does.
CREATE TABLE logged_model_metrics (
    model_id            TEXT   NOT NULL REFERENCES logged_models (model_id) ON DELETE CASCADE,
    metric_name         TEXT   NOT NULL,
    metric_timestamp_ms BIGINT NOT NULL,
    metric_step         BIGINT NOT NULL,
    metric_value        DOUBLE PRECISION,
    experiment_id       BIGINT NOT NULL,
    run_id              TEXT   NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
    dataset_uuid        TEXT,
    dataset_name        TEXT,
    dataset_digest      TEXT,
    PRIMARY KEY (model_id, metric_name, metric_timestamp_ms, metric_step, run_id)
);
-- Metric filters and sorts look a metric up by name across models.
CREATE INDEX logged_model_metrics_by_name ON logged_model_metrics (metric_name, model_id);
