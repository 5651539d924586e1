-- Model registry: registered models, their versions, tags and aliases.
--
-- A version's number comes from the per-model counter `last_version`, bumped in the transaction
-- that inserts the version, so a deleted version's number is never handed out again. Renaming a
-- model updates `registered_models.name` and the foreign keys carry the new name to every
-- version, tag and alias in the same statement.

CREATE TABLE registered_models (
    name              TEXT   PRIMARY KEY,
    creation_time     BIGINT NOT NULL,
    last_updated_time BIGINT NOT NULL,
    description       TEXT,
    last_version      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX registered_models_by_update ON registered_models (last_updated_time, name);

CREATE TABLE registered_model_tags (
    name  TEXT NOT NULL REFERENCES registered_models (name) ON UPDATE CASCADE ON DELETE CASCADE,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, key)
);
CREATE INDEX registered_model_tags_by_key ON registered_model_tags (key, value);

CREATE TABLE model_versions (
    name              TEXT   NOT NULL REFERENCES registered_models (name) ON UPDATE CASCADE ON DELETE CASCADE,
    version           BIGINT NOT NULL,
    creation_time     BIGINT NOT NULL,
    last_updated_time BIGINT NOT NULL,
    description       TEXT,
    user_id           TEXT,
    current_stage     TEXT   NOT NULL DEFAULT 'None',
    source            TEXT   NOT NULL,
    storage_location  TEXT,
    run_id            TEXT,
    run_link          TEXT,
    model_id          TEXT,
    status            TEXT   NOT NULL DEFAULT 'READY',
    status_message    TEXT,
    PRIMARY KEY (name, version)
);
-- Latest version per stage, and stage-wide archiving.
CREATE INDEX model_versions_by_stage ON model_versions (name, current_stage, version);
CREATE INDEX model_versions_by_update ON model_versions (last_updated_time, name, version);
CREATE INDEX model_versions_by_run ON model_versions (run_id);

CREATE TABLE model_version_tags (
    name    TEXT   NOT NULL,
    version BIGINT NOT NULL,
    key     TEXT   NOT NULL,
    value   TEXT   NOT NULL,
    PRIMARY KEY (name, version, key),
    FOREIGN KEY (name, version) REFERENCES model_versions (name, version) ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX model_version_tags_by_key ON model_version_tags (key, value);

-- An alias always names an existing version: deleting the version deletes its aliases.
CREATE TABLE registered_model_aliases (
    name    TEXT   NOT NULL,
    alias   TEXT   NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (name, alias),
    FOREIGN KEY (name, version) REFERENCES model_versions (name, version) ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX registered_model_aliases_by_version ON registered_model_aliases (name, version);
