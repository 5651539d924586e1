//! Runs, and what is logged to them: params, tags, metrics, inputs and outputs.

use super::dialect::{Batch, move_latest_forward, pg_array};
use super::rows::{KeyValueRow, MetricRow, RUN_COLUMNS, RunRow, stored_value};
use super::{MAX_BINDS_PER_STATEMENT, SqlStore, metric_chunks, now_millis};
use crate::search::RunOrder;
use crate::store::{NewRun, Page, ParamChange, RunSearch, RunStore, RunUpdate, StoreError, StoreResult};
use async_trait::async_trait;
use pitwall_openapi::{
    Dataset, DatasetInput, KeyValue, Metric, ModelInput, ModelOutput, RUN_NAME_TAG, Run, RunData, RunInfo, RunInputs,
    RunOutputs,
};
use sqlx::{AnyConnection, FromRow};
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, FromRow)]
struct DatasetInputRow {
    input_uuid: String,
    run_uuid: String,
    name: String,
    digest: String,
    source_type: String,
    source: String,
    schema: Option<String>,
    profile: Option<String>,
}

#[derive(Debug, FromRow)]
struct ModelOutputRow {
    run_uuid: String,
    model_id: String,
    step: i64,
}

impl SqlStore {
    /// One page of run rows in `order`, plus one row more when a next page exists.
    async fn search_run_rows(
        &self,
        conn: &mut AnyConnection,
        search: &RunSearch,
        experiment_ids: &[i64],
        order: &RunOrder,
    ) -> StoreResult<Vec<RunRow>> {
        let mut sql = self.sql(format!("SELECT {RUN_COLUMNS} FROM runs r"));
        order.push_joins(&mut sql);
        sql.push(" WHERE r.experiment_id IN (");
        sql.bind_list(experiment_ids.iter().copied()).push(") AND r.lifecycle_stage IN (");
        sql.bind_list(search.view_type.stages().iter().copied()).push(")");
        crate::search::runs_where(&search.filter, &mut sql)?;
        order.push_order_by(&mut sql);
        sql.push(" LIMIT ").bind(search.max_results as i64 + 1).push(" OFFSET ").bind(search.offset as i64);
        // Planned for its values every time: a plan cached for any values guesses what a filter
        // keeps, and PostgreSQL's guess had it sort a whole experiment for one page.
        Ok(sql.query_as::<RunRow>().persistent(false).fetch_all(&mut *conn).await?)
    }

    async fn run_row(conn: &mut AnyConnection, run_id: &str) -> StoreResult<RunRow> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs r WHERE r.run_uuid = $1");
        sqlx::query_as::<_, RunRow>(&sql).bind(run_id).fetch_optional(conn).await?.ok_or_else(|| run_not_found(run_id))
    }

    /// The run, which must be active to be written to.
    async fn active_run_row(conn: &mut AnyConnection, run_id: &str) -> StoreResult<RunRow> {
        let row = Self::run_row(conn, run_id).await?;
        must_be_active(run_id, &row.lifecycle_stage)?;
        Ok(row)
    }

    /// Assembles full runs from their rows with one query per child table.
    async fn load_runs(&self, conn: &mut AnyConnection, rows: Vec<RunRow>) -> StoreResult<Vec<Run>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = rows.iter().map(|r| r.run_uuid.as_str()).collect();
        let mut data: HashMap<String, RunData> = HashMap::new();
        let mut inputs: HashMap<String, RunInputs> = HashMap::new();
        let mut outputs: HashMap<String, RunOutputs> = HashMap::new();
        for chunk in ids.chunks(MAX_BINDS_PER_STATEMENT) {
            let in_list = |head: &str, tail: &str| {
                let mut sql = self.sql(head);
                sql.bind_list(chunk.iter().copied()).push(tail);
                sql
            };
            let metrics = in_list(
                "SELECT run_uuid AS owner, key, value, timestamp, step, is_nan FROM latest_metrics WHERE run_uuid IN (",
                ") ORDER BY run_uuid, key",
            );
            for row in metrics.query_as::<MetricRow>().fetch_all(&mut *conn).await? {
                data.entry(row.owner.clone()).or_default().metrics.push(row.into_metric());
            }
            let params = in_list(
                "SELECT run_uuid AS owner, key, value FROM params WHERE run_uuid IN (",
                ") ORDER BY run_uuid, key",
            );
            for row in params.query_as::<KeyValueRow>().fetch_all(&mut *conn).await? {
                data.entry(row.owner).or_default().params.push(KeyValue::new(row.key, row.value));
            }
            let tags = in_list(
                "SELECT run_uuid AS owner, key, value FROM tags WHERE run_uuid IN (",
                ") ORDER BY run_uuid, key",
            );
            for row in tags.query_as::<KeyValueRow>().fetch_all(&mut *conn).await? {
                data.entry(row.owner).or_default().tags.push(KeyValue::new(row.key, row.value));
            }
            let datasets = in_list(
                "SELECT i.input_uuid, i.run_uuid, d.name, d.digest, d.source_type, d.source, d.schema, d.profile \
                 FROM run_dataset_inputs i JOIN datasets d ON d.dataset_uuid = i.dataset_uuid WHERE i.run_uuid IN (",
                ") ORDER BY i.run_uuid, d.name, d.digest",
            );
            let dataset_rows = datasets.query_as::<DatasetInputRow>().fetch_all(&mut *conn).await?;
            let mut input_tags: HashMap<String, Vec<KeyValue>> = HashMap::new();
            if !dataset_rows.is_empty() {
                let mut sql =
                    self.sql("SELECT input_uuid AS owner, name AS key, value FROM input_tags WHERE input_uuid IN (");
                sql.bind_list(dataset_rows.iter().map(|d| d.input_uuid.as_str())).push(") ORDER BY input_uuid, name");
                for row in sql.query_as::<KeyValueRow>().fetch_all(&mut *conn).await? {
                    input_tags.entry(row.owner).or_default().push(KeyValue::new(row.key, row.value));
                }
            }
            for d in dataset_rows {
                inputs.entry(d.run_uuid).or_default().dataset_inputs.push(DatasetInput {
                    tags: input_tags.remove(&d.input_uuid).unwrap_or_default(),
                    dataset: Dataset {
                        name: d.name,
                        digest: d.digest,
                        source_type: d.source_type,
                        source: d.source,
                        schema: d.schema,
                        profile: d.profile,
                    },
                });
            }
            let model_inputs = in_list(
                "SELECT run_uuid AS owner, model_id AS key, '' AS value FROM run_model_inputs WHERE run_uuid IN (",
                ") ORDER BY run_uuid, model_id",
            );
            for row in model_inputs.query_as::<KeyValueRow>().fetch_all(&mut *conn).await? {
                inputs.entry(row.owner).or_default().model_inputs.push(ModelInput { model_id: row.key });
            }
            let model_outputs = in_list(
                "SELECT run_uuid, model_id, step FROM run_model_outputs WHERE run_uuid IN (",
                ") ORDER BY run_uuid, step, model_id",
            );
            for row in model_outputs.query_as::<ModelOutputRow>().fetch_all(&mut *conn).await? {
                outputs
                    .entry(row.run_uuid)
                    .or_default()
                    .model_outputs
                    .push(ModelOutput { model_id: row.model_id, step: row.step });
            }
        }
        Ok(rows
            .into_iter()
            .map(|row| {
                let id = row.run_uuid.clone();
                Run {
                    info: row.into_info(),
                    data: data.remove(&id).unwrap_or_default(),
                    inputs: inputs.remove(&id).unwrap_or_default(),
                    outputs: Some(outputs.remove(&id).unwrap_or_default()),
                }
            })
            .collect())
    }

    async fn upsert_tags(&self, conn: &mut AnyConnection, run_id: &str, tags: &[KeyValue]) -> StoreResult<()> {
        // Later values of a repeated key win, as if the tags were set one after another.
        let mut latest: BTreeMap<&str, &str> = BTreeMap::new();
        for t in tags {
            latest.insert(&t.key, &t.value);
        }
        for chunk in latest.into_iter().collect::<Vec<_>>().chunks(MAX_BINDS_PER_STATEMENT / 3) {
            let mut sql = self.sql("INSERT INTO tags (run_uuid, key, value) VALUES ");
            for (i, (k, v)) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                sql.bind(run_id).push(", ").bind(*k).push(", ").bind(*v).push(")");
            }
            sql.push(" ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value");
            sql.query().execute(&mut *conn).await?;
            if let Some((_, name)) = chunk.iter().find(|(k, _)| *k == RUN_NAME_TAG) {
                sqlx::query("UPDATE runs SET name = $1 WHERE run_uuid = $2")
                    .bind(*name)
                    .bind(run_id)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        Ok(())
    }

    async fn insert_params(&self, conn: &mut AnyConnection, run_id: &str, params: &[KeyValue]) -> StoreResult<()> {
        if params.is_empty() {
            return Ok(());
        }
        // A param may be logged again with the same value; a different value is an error.
        let old = self.stored_params(conn, run_id, params.iter().map(|p| p.key.as_str())).await?;
        refuse_changed_params(run_id, params, &old)?;
        let new: Vec<&KeyValue> = params.iter().filter(|p| !old.contains_key(&p.key)).collect();
        let mut raced = Vec::new();
        for chunk in new.chunks(MAX_BINDS_PER_STATEMENT / 3) {
            let mut sql = self.sql("INSERT INTO params (run_uuid, key, value) VALUES ");
            for (i, p) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                sql.bind(run_id).push(", ").bind(p.key.as_str()).push(", ").bind(p.value.as_str()).push(")");
            }
            sql.push(" ON CONFLICT (run_uuid, key) DO NOTHING RETURNING key");
            let inserted: HashSet<String> =
                sql.query_as::<(String,)>().fetch_all(&mut *conn).await?.into_iter().map(|(key,)| key).collect();
            raced.extend(chunk.iter().filter(|p| !inserted.contains(&p.key)).copied());
        }
        if !raced.is_empty() {
            // A concurrent writer stored these keys after they were read: the insert waited for
            // it to commit, so its values can be read now and held to the same rule.
            let theirs = self.stored_params(conn, run_id, raced.iter().map(|p| p.key.as_str())).await?;
            refuse_changed_params(run_id, params, &theirs)?;
        }
        Ok(())
    }

    async fn stored_params<'a>(
        &self,
        conn: &mut AnyConnection,
        run_id: &str,
        keys: impl IntoIterator<Item = &'a str>,
    ) -> StoreResult<HashMap<String, String>> {
        let mut sql = self.sql("SELECT run_uuid AS owner, key, value FROM params WHERE run_uuid = ");
        sql.bind(run_id).push(" AND key IN (").bind_list(keys).push(")");
        let rows = sql.query_as::<KeyValueRow>().fetch_all(&mut *conn).await?;
        Ok(rows.into_iter().map(|r| (r.key, r.value)).collect())
    }

    /// Moves the run's latest values forward and appends `metrics` to its history. The latest
    /// values go first: their upsert locks each key's row on PostgreSQL, which the history's
    /// check for values already stored relies on (see [`metric_chunks::append`]). On PostgreSQL
    /// the upsert also checks that the run exists and is active.
    async fn insert_metrics(&self, conn: &mut AnyConnection, run_id: &str, metrics: &[Metric]) -> StoreResult<()> {
        if metrics.is_empty() {
            return Ok(());
        }
        let latest = latest_per_key(metrics);
        match self.engine.upsert_latest_metrics() {
            Batch::Arrays(statement) => {
                let mut upsert = sqlx::query_scalar(statement).bind(run_id);
                for array in [
                    pg_array::text(latest.iter().map(|(key, _)| *key)),
                    pg_array::ints(latest.iter().map(|(_, l)| l.step)),
                    pg_array::ints(latest.iter().map(|(_, l)| l.timestamp)),
                    pg_array::floats(latest.iter().map(|(_, l)| l.value)),
                    pg_array::ints(latest.iter().map(|(_, l)| l.is_nan)),
                ] {
                    upsert = upsert.bind(array);
                }
                let stage: Option<String> = upsert.fetch_optional(&mut *conn).await?;
                must_be_active(run_id, &stage.ok_or_else(|| run_not_found(run_id))?)?;
            }
            Batch::Values => {
                for chunk in latest.chunks(MAX_BINDS_PER_STATEMENT / 6) {
                    let mut sql =
                        self.sql("INSERT INTO latest_metrics (run_uuid, key, step, timestamp, value, is_nan) VALUES ");
                    for (i, (key, l)) in chunk.iter().enumerate() {
                        sql.push(if i == 0 { "(" } else { ", (" });
                        sql.bind(run_id).push(", ").bind(*key).push(", ").bind(l.step);
                        sql.push(", ").bind(l.timestamp).push(", ").bind(l.value).push(", ").bind(l.is_nan).push(")");
                    }
                    sql.push(move_latest_forward!());
                    sql.query().execute(&mut *conn).await?;
                }
            }
        }
        metric_chunks::append(conn, self.engine, run_id, metrics).await
    }
}

fn run_not_found(run_id: &str) -> StoreError {
    StoreError::NotFound(format!("Run with id={run_id} not found"))
}

/// Only an active run is written to.
fn must_be_active(run_id: &str, lifecycle_stage: &str) -> StoreResult<()> {
    if lifecycle_stage != "active" {
        return Err(StoreError::Invalid(format!(
            "The run {run_id} must be in the 'active' state. Current state is {lifecycle_stage}."
        )));
    }
    Ok(())
}

/// A key's newest value in a batch, as stored.
#[derive(Debug, Clone, Copy)]
struct Latest {
    step: i64,
    timestamp: i64,
    value: f64,
    is_nan: i64,
}

/// The newest value per key by (step, timestamp, value), computed here so that one statement
/// never touches a row twice; keys sorted, so that concurrent writers lock alike.
/// MLflow's rule for params: one value per key and run, for good.
fn refuse_changed_params(run_id: &str, params: &[KeyValue], stored: &HashMap<String, String>) -> StoreResult<()> {
    let changes: Vec<ParamChange> = params
        .iter()
        .filter_map(|p| {
            stored.get(&p.key).filter(|v| **v != p.value).map(|v| ParamChange {
                key: p.key.clone(),
                old_value: v.clone(),
                new_value: p.value.clone(),
            })
        })
        .collect();
    if changes.is_empty() { Ok(()) } else { Err(StoreError::ParamsChanged { run_id: run_id.to_owned(), changes }) }
}

fn latest_per_key(metrics: &[Metric]) -> Vec<(&str, Latest)> {
    let mut latest: BTreeMap<&str, Latest> = BTreeMap::new();
    for m in metrics {
        let (value, is_nan) = stored_value(m.value);
        let candidate = Latest { step: m.step, timestamp: m.timestamp, value, is_nan };
        latest
            .entry(m.key.as_str())
            .and_modify(|cur| {
                let (new, old) = ((candidate.step, candidate.timestamp), (cur.step, cur.timestamp));
                if new > old || (new == old && candidate.value > cur.value) {
                    *cur = candidate;
                }
            })
            .or_insert(candidate);
    }
    latest.into_iter().collect()
}

#[async_trait]
impl RunStore for SqlStore {
    async fn create_run(&self, run: NewRun) -> StoreResult<Run> {
        let run_id = uuid::Uuid::new_v4().simple().to_string();
        let mut w = self.begin_write().await?;
        let experiment = Self::require_experiment(&mut w.tx, &run.experiment_id).await?;
        if experiment.lifecycle_stage != "active" {
            return Err(StoreError::Invalid(format!(
                "The experiment {} must be in the 'active' state. Current state is {}.",
                run.experiment_id, experiment.lifecycle_stage
            )));
        }
        let artifact_uri = format!("{}/{}/artifacts", experiment.artifact_location.trim_end_matches('/'), run_id);
        sqlx::query(
            "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, lifecycle_stage, artifact_uri) \
             VALUES ($1, $2, $3, $4, 'RUNNING', $5, 'active', $6)",
        )
        .bind(&run_id)
        .bind(experiment.experiment_id)
        .bind(&run.run_name)
        .bind(&run.user_id)
        .bind(run.start_time)
        .bind(&artifact_uri)
        .execute(&mut *w.tx)
        .await?;
        let mut tags = run.tags.clone();
        tags.retain(|t| t.key != RUN_NAME_TAG);
        tags.push(KeyValue::new(RUN_NAME_TAG, run.run_name.clone()));
        self.upsert_tags(&mut w.tx, &run_id, &tags).await?;
        let row = Self::run_row(&mut w.tx, &run_id).await?;
        let mut created = self.load_runs(&mut w.tx, vec![row]).await?.remove(0);
        created.outputs = None;
        w.commit().await?;
        Ok(created)
    }

    async fn get_run(&self, run_id: &str) -> StoreResult<Run> {
        let mut conn = self.pool.acquire().await?;
        let row = Self::run_row(&mut conn, run_id).await?;
        Ok(self.load_runs(&mut conn, vec![row]).await?.remove(0))
    }

    async fn update_run(&self, run_id: &str, update: RunUpdate) -> StoreResult<RunInfo> {
        let mut w = self.begin_write().await?;
        let row = Self::active_run_row(&mut w.tx, run_id).await?;
        let status = update.status.map(|s| s.as_str().to_owned()).unwrap_or(row.status.clone());
        let end_time = update.end_time.or(row.end_time);
        sqlx::query("UPDATE runs SET status = $1, end_time = $2 WHERE run_uuid = $3")
            .bind(&status)
            .bind(end_time)
            .bind(run_id)
            .execute(&mut *w.tx)
            .await?;
        if let Some(name) = update.run_name.filter(|n| !n.is_empty()) {
            self.upsert_tags(&mut w.tx, run_id, &[KeyValue::new(RUN_NAME_TAG, name)]).await?;
        }
        let info = Self::run_row(&mut w.tx, run_id).await?.into_info();
        w.commit().await?;
        Ok(info)
    }

    async fn delete_run(&self, run_id: &str) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        Self::run_row(&mut w.tx, run_id).await?;
        sqlx::query("UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = $1 WHERE run_uuid = $2")
            .bind(now_millis())
            .bind(run_id)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(())
    }

    async fn restore_run(&self, run_id: &str) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        Self::run_row(&mut w.tx, run_id).await?;
        sqlx::query("UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE run_uuid = $1")
            .bind(run_id)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(())
    }

    async fn log_batch(
        &self,
        run_id: &str,
        metrics: &[Metric],
        params: &[KeyValue],
        tags: &[KeyValue],
    ) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        // What a training loop logs, metrics alone, needs no read of the run on PostgreSQL: the
        // statement that moves its latest values reads the run's stage. One round trip less.
        let metrics_alone = !metrics.is_empty()
            && params.is_empty()
            && tags.is_empty()
            && metrics.iter().all(|m| m.model_id.as_deref().is_none_or(str::is_empty));
        let upsert_checks_run = matches!(self.engine.upsert_latest_metrics(), Batch::Arrays(_));
        let run = if metrics_alone && upsert_checks_run {
            None
        } else {
            Some(Self::active_run_row(&mut w.tx, run_id).await?)
        };
        self.insert_params(&mut w.tx, run_id, params).await?;
        self.insert_metrics(&mut w.tx, run_id, metrics).await?;
        if let Some(run) = &run {
            self.insert_model_metrics(&mut w.tx, run_id, run.experiment_id, metrics).await?;
        }
        if !tags.is_empty() {
            self.upsert_tags(&mut w.tx, run_id, tags).await?;
        }
        w.commit().await?;
        Ok(())
    }

    async fn delete_tag(&self, run_id: &str, key: &str) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        Self::active_run_row(&mut w.tx, run_id).await?;
        let deleted = sqlx::query("DELETE FROM tags WHERE run_uuid = $1 AND key = $2")
            .bind(run_id)
            .bind(key)
            .execute(&mut *w.tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("No tag with name: {key} in run with id {run_id}")));
        }
        w.commit().await?;
        Ok(())
    }

    async fn log_inputs(&self, run_id: &str, datasets: &[DatasetInput], models: &[ModelInput]) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        let run = Self::active_run_row(&mut w.tx, run_id).await?;
        for input in datasets {
            let d = &input.dataset;
            sqlx::query(
                "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, source_type, source, schema, profile) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (experiment_id, name, digest) DO NOTHING",
            )
            .bind(uuid::Uuid::new_v4().simple().to_string())
            .bind(run.experiment_id)
            .bind(&d.name)
            .bind(&d.digest)
            .bind(&d.source_type)
            .bind(&d.source)
            .bind(d.schema.as_deref())
            .bind(d.profile.as_deref())
            .execute(&mut *w.tx)
            .await?;
            let dataset_uuid: String = sqlx::query_scalar(
                "SELECT dataset_uuid FROM datasets WHERE experiment_id = $1 AND name = $2 AND digest = $3",
            )
            .bind(run.experiment_id)
            .bind(&d.name)
            .bind(&d.digest)
            .fetch_one(&mut *w.tx)
            .await?;
            let input_uuid = uuid::Uuid::new_v4().simple().to_string();
            let inserted = sqlx::query(
                "INSERT INTO run_dataset_inputs (input_uuid, run_uuid, dataset_uuid) VALUES ($1, $2, $3) \
                 ON CONFLICT (run_uuid, dataset_uuid) DO NOTHING",
            )
            .bind(&input_uuid)
            .bind(run_id)
            .bind(&dataset_uuid)
            .execute(&mut *w.tx)
            .await?;
            // A dataset already logged to the run keeps its first tags, as MLflow does.
            if inserted.rows_affected() == 1 {
                for tag in &input.tags {
                    sqlx::query(
                        "INSERT INTO input_tags (input_uuid, name, value) VALUES ($1, $2, $3) \
                         ON CONFLICT (input_uuid, name) DO UPDATE SET value = excluded.value",
                    )
                    .bind(&input_uuid)
                    .bind(&tag.key)
                    .bind(&tag.value)
                    .execute(&mut *w.tx)
                    .await?;
                }
            }
        }
        for m in models {
            sqlx::query("INSERT INTO run_model_inputs (run_uuid, model_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(run_id)
                .bind(&m.model_id)
                .execute(&mut *w.tx)
                .await?;
        }
        w.commit().await?;
        Ok(())
    }

    async fn log_outputs(&self, run_id: &str, models: &[ModelOutput]) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        Self::active_run_row(&mut w.tx, run_id).await?;
        for m in models {
            sqlx::query(
                "INSERT INTO run_model_outputs (run_uuid, model_id, step) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(run_id)
            .bind(&m.model_id)
            .bind(m.step)
            .execute(&mut *w.tx)
            .await?;
        }
        w.commit().await?;
        Ok(())
    }

    async fn search_runs(&self, search: &RunSearch) -> StoreResult<Page<Run>> {
        let experiment_ids: Vec<i64> = search.experiment_ids.iter().filter_map(|id| id.trim().parse().ok()).collect();
        if experiment_ids.is_empty() {
            return Ok(Page { items: Vec::new(), next_offset: None });
        }
        let order = RunOrder::parse(&search.order_by)?;
        let mut conn = self.pool.acquire().await?;
        // A page that lies wholly among the runs with a number for the leading metric is read
        // from that prefix of the order alone, which an index serves without a full sort.
        let mut rows = Vec::new();
        if order.leads_with_metric() {
            rows = self.search_run_rows(&mut conn, search, &experiment_ids, &order.numbers_only()).await?;
        }
        if rows.len() <= search.max_results {
            rows = self.search_run_rows(&mut conn, search, &experiment_ids, &order).await?;
        }
        let next_offset = (rows.len() > search.max_results).then(|| search.offset + search.max_results);
        rows.truncate(search.max_results);
        let mut items = self.load_runs(&mut conn, rows).await?;
        // MLflow's search answers with each run's model outputs but not its model inputs.
        for run in &mut items {
            run.inputs.model_inputs.clear();
        }
        Ok(Page { items, next_offset })
    }
}
