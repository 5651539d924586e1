//! Logged models, their params, tags and metrics.

use super::rows::{KeyValueRow, stored_value};
use super::{MAX_BINDS_PER_STATEMENT, SqlStore, now_millis, parse_experiment_id};
use crate::search::pyrepr::str_repr;
use crate::store::{LoggedModelSearch, LoggedModelStore, NewLoggedModel, Page, StoreError, StoreResult};
use async_trait::async_trait;
use pitwall_openapi::{KeyValue, LoggedModel, LoggedModelData, LoggedModelInfo, LoggedModelStatus, Metric};
use sqlx::{AnyConnection, FromRow};
use std::collections::{BTreeMap, BTreeSet, HashMap};

const MODEL_COLUMNS: &str = "lm.model_id, lm.experiment_id, lm.name, lm.artifact_location, lm.creation_timestamp_ms, \
     lm.last_updated_timestamp_ms, lm.status, lm.model_type, lm.source_run_id";

/// Characters MLflow refuses in a model name (they would break `models:/` URIs and paths).
const BAD_NAME_CHARACTERS: [char; 6] = ['/', ':', '.', '%', '"', '\''];

#[derive(Debug, FromRow)]
struct LoggedModelRow {
    model_id: String,
    experiment_id: i64,
    name: String,
    artifact_location: String,
    creation_timestamp_ms: i64,
    last_updated_timestamp_ms: i64,
    status: i64,
    model_type: Option<String>,
    source_run_id: Option<String>,
}

#[derive(Debug, FromRow)]
struct ModelMetricRow {
    model_id: String,
    metric_name: String,
    metric_timestamp_ms: i64,
    metric_step: i64,
    metric_value: Option<f64>,
    run_id: String,
    dataset_name: Option<String>,
    dataset_digest: Option<String>,
}

fn not_found(model_id: &str) -> StoreError {
    StoreError::NotFound(format!("Logged model with ID '{model_id}' not found."))
}

/// MLflow's check of a given model name.
fn validate_name(name: &str) -> StoreResult<()> {
    if name.is_empty() || name.contains(BAD_NAME_CHARACTERS) {
        let listed: Vec<String> = BAD_NAME_CHARACTERS.iter().map(|c| str_repr(&c.to_string())).collect();
        return Err(StoreError::Invalid(format!(
            "Invalid model name ({}) provided. Model name must be a non-empty string and cannot contain the \
             following characters: ({})",
            str_repr(name),
            listed.join(", ")
        )));
    }
    Ok(())
}

/// Refuses a key given twice in one request (MLflow's insert fails on its primary key).
fn unique_keys(what: &str, items: &[KeyValue]) -> StoreResult<()> {
    let mut seen = BTreeSet::new();
    for kv in items {
        if !seen.insert(kv.key.as_str()) {
            return Err(StoreError::BadRequest(format!(
                "Logged model {what} must have unique keys: {} is given more than once.",
                str_repr(&kv.key)
            )));
        }
    }
    Ok(())
}

impl SqlStore {
    async fn logged_model_row(
        conn: &mut AnyConnection,
        model_id: &str,
        allow_deleted: bool,
    ) -> StoreResult<LoggedModelRow> {
        let mut sql = format!("SELECT {MODEL_COLUMNS} FROM logged_models lm WHERE lm.model_id = $1");
        if !allow_deleted {
            sql.push_str(" AND lm.lifecycle_stage <> 'deleted'");
        }
        sqlx::query_as::<_, LoggedModelRow>(&sql)
            .bind(model_id)
            .fetch_optional(conn)
            .await?
            .ok_or_else(|| not_found(model_id))
    }

    /// Assembles full models from their rows with one query per child table.
    async fn load_logged_models(
        &self,
        conn: &mut AnyConnection,
        rows: Vec<LoggedModelRow>,
    ) -> StoreResult<Vec<LoggedModel>> {
        let ids: Vec<&str> = rows.iter().map(|r| r.model_id.as_str()).collect();
        let mut tags: HashMap<String, Vec<KeyValue>> = HashMap::new();
        let mut data: HashMap<String, LoggedModelData> = HashMap::new();
        for chunk in ids.chunks(MAX_BINDS_PER_STATEMENT) {
            let in_list = |head: &str, tail: &str| {
                let mut sql = self.sql(head);
                sql.bind_list(chunk.iter().copied()).push(tail);
                sql
            };
            let sql = in_list(
                "SELECT model_id AS owner, tag_key AS key, tag_value AS value FROM logged_model_tags WHERE model_id IN (",
                ") ORDER BY model_id, tag_key",
            );
            for row in sql.query_as::<KeyValueRow>().fetch_all(&mut *conn).await? {
                tags.entry(row.owner).or_default().push(KeyValue::new(row.key, row.value));
            }
            let sql = in_list(
                "SELECT model_id AS owner, param_key AS key, param_value AS value FROM logged_model_params \
                 WHERE model_id IN (",
                ") ORDER BY model_id, param_key",
            );
            for row in sql.query_as::<KeyValueRow>().fetch_all(&mut *conn).await? {
                data.entry(row.owner).or_default().params.push(KeyValue::new(row.key, row.value));
            }
            let sql = in_list(
                "SELECT model_id, metric_name, metric_timestamp_ms, metric_step, metric_value, run_id, dataset_name, \
                 dataset_digest FROM logged_model_metrics WHERE model_id IN (",
                ") ORDER BY model_id, metric_name, metric_step, metric_timestamp_ms, run_id",
            );
            for row in sql.query_as::<ModelMetricRow>().fetch_all(&mut *conn).await? {
                let mut m = Metric::new(
                    row.metric_name,
                    row.metric_value.unwrap_or(f64::NAN),
                    row.metric_timestamp_ms,
                    row.metric_step,
                );
                m.dataset_name = row.dataset_name;
                m.dataset_digest = row.dataset_digest;
                m.model_id = Some(row.model_id.clone());
                m.run_id = Some(row.run_id);
                data.entry(row.model_id).or_default().metrics.push(m);
            }
        }
        Ok(rows
            .into_iter()
            .map(|r| LoggedModel {
                info: LoggedModelInfo {
                    tags: tags.remove(&r.model_id).unwrap_or_default(),
                    experiment_id: r.experiment_id.to_string(),
                    name: r.name,
                    creation_timestamp_ms: r.creation_timestamp_ms,
                    last_updated_timestamp_ms: r.last_updated_timestamp_ms,
                    artifact_uri: r.artifact_location,
                    status: LoggedModelStatus::from_int(r.status).unwrap_or(LoggedModelStatus::Unspecified),
                    model_type: r.model_type,
                    source_run_id: r.source_run_id,
                    model_id: r.model_id.clone(),
                },
                data: data.remove(&r.model_id).unwrap_or_default(),
            })
            .collect())
    }

    async fn load_logged_model(
        &self,
        conn: &mut AnyConnection,
        model_id: &str,
        allow_deleted: bool,
    ) -> StoreResult<LoggedModel> {
        let row = Self::logged_model_row(conn, model_id, allow_deleted).await?;
        self.load_logged_models(conn, vec![row]).await?.pop().ok_or_else(|| not_found(model_id))
    }

    async fn upsert_model_tags(
        &self,
        conn: &mut AnyConnection,
        model_id: &str,
        experiment_id: i64,
        tags: &[KeyValue],
    ) -> StoreResult<()> {
        // Later values of a repeated key win, as if the tags were set one after another.
        let latest: BTreeMap<&str, &str> = tags.iter().map(|t| (t.key.as_str(), t.value.as_str())).collect();
        for chunk in latest.into_iter().collect::<Vec<_>>().chunks(MAX_BINDS_PER_STATEMENT / 4) {
            let mut sql =
                self.sql("INSERT INTO logged_model_tags (model_id, experiment_id, tag_key, tag_value) VALUES ");
            for (i, (k, v)) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                sql.bind(model_id).push(", ").bind(experiment_id).push(", ").bind(*k).push(", ").bind(*v).push(")");
            }
            sql.push(" ON CONFLICT (model_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value");
            sql.query().execute(&mut *conn).await?;
        }
        Ok(())
    }

    async fn insert_model_params(
        &self,
        conn: &mut AnyConnection,
        model_id: &str,
        experiment_id: i64,
        params: &[KeyValue],
    ) -> StoreResult<()> {
        for chunk in params.chunks(MAX_BINDS_PER_STATEMENT / 4) {
            let mut sql =
                self.sql("INSERT INTO logged_model_params (model_id, experiment_id, param_key, param_value) VALUES ");
            for (i, p) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" });
                sql.bind(model_id).push(", ").bind(experiment_id).push(", ");
                sql.bind(p.key.as_str()).push(", ").bind(p.value.as_str()).push(")");
            }
            sql.query().execute(&mut *conn).await.map_err(|e| {
                if super::is_unique_violation(&e) {
                    StoreError::BadRequest(format!(
                        "Params of logged model '{model_id}' cannot be changed: a param with one of the keys \
                         [{}] is already logged.",
                        chunk.iter().map(|p| str_repr(&p.key)).collect::<Vec<_>>().join(", ")
                    ))
                } else {
                    e.into()
                }
            })?;
        }
        Ok(())
    }

    /// Records the metrics that name a logged model (`model_id`) for that model too, as MLflow's
    /// `log_batch` does; part of the caller's transaction. Every named model must exist.
    pub(super) async fn insert_model_metrics(
        &self,
        conn: &mut AnyConnection,
        run_id: &str,
        experiment_id: i64,
        metrics: &[Metric],
    ) -> StoreResult<()> {
        let linked: Vec<(&Metric, &str)> = metrics
            .iter()
            .filter_map(|m| m.model_id.as_deref().filter(|id| !id.is_empty()).map(|id| (m, id)))
            .collect();
        if linked.is_empty() {
            return Ok(());
        }
        let wanted: BTreeSet<&str> = linked.iter().map(|(_, id)| *id).collect();
        let mut sql = self.sql("SELECT model_id FROM logged_models WHERE model_id IN (");
        sql.bind_list(wanted.iter().copied()).push(")");
        let found: BTreeSet<String> =
            sql.query_as::<(String,)>().fetch_all(&mut *conn).await?.into_iter().map(|(id,)| id).collect();
        if let Some(missing) = wanted.iter().find(|id| !found.contains(**id)) {
            // MLflow fails here on its foreign key with a BAD_REQUEST.
            return Err(StoreError::BadRequest(format!(
                "Cannot log metrics for logged model '{missing}': Logged model with ID '{missing}' not found."
            )));
        }
        for chunk in linked.chunks(MAX_BINDS_PER_STATEMENT / 9) {
            let mut sql = self.sql("INSERT INTO logged_model_metrics (model_id, metric_name, metric_timestamp_ms, metric_step, metric_value, \
                 experiment_id, run_id, dataset_name, dataset_digest) VALUES ",
            );
            for (i, (m, model_id)) in chunk.iter().enumerate() {
                // MLflow keeps NaN as 0 here (the table has no NaN flag) and infinities as the largest doubles.
                let (value, _) = stored_value(m.value);
                sql.push(if i == 0 { "(" } else { ", (" });
                sql.bind(*model_id).push(", ").bind(m.key.as_str()).push(", ").bind(m.timestamp).push(", ");
                sql.bind(m.step).push(", ").bind(value).push(", ").bind(experiment_id).push(", ").bind(run_id);
                sql.push(", ").bind(m.dataset_name.clone()).push(", ").bind(m.dataset_digest.clone()).push(")");
            }
            // The same value logged twice is stored once.
            sql.push(" ON CONFLICT DO NOTHING");
            sql.query().execute(&mut *conn).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl LoggedModelStore for SqlStore {
    async fn create_logged_model(&self, model: NewLoggedModel) -> StoreResult<LoggedModel> {
        if let Some(name) = &model.name {
            validate_name(name)?;
        }
        unique_keys("params", &model.params)?;
        unique_keys("tags", &model.tags)?;
        let model_id = format!("m-{}", uuid::Uuid::new_v4().simple());
        let now = now_millis();
        let name = model.name.clone().unwrap_or_else(crate::names::generate_run_name);
        let mut w = self.begin_write().await?;
        let experiment = Self::require_active_experiment(&mut w.tx, &model.experiment_id).await?;
        let artifact_location =
            format!("{}/models/{model_id}/artifacts", experiment.artifact_location.trim_end_matches('/'));
        sqlx::query(
            "INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms, \
             last_updated_timestamp_ms, status, lifecycle_stage, model_type, source_run_id) \
             VALUES ($1, $2, $3, $4, $5, $5, $6, 'active', $7, $8)",
        )
        .bind(&model_id)
        .bind(experiment.experiment_id)
        .bind(&name)
        .bind(&artifact_location)
        .bind(now)
        .bind(LoggedModelStatus::Pending.as_int())
        .bind(model.model_type.as_deref())
        .bind(model.source_run_id.as_deref())
        .execute(&mut *w.tx)
        .await?;
        self.insert_model_params(&mut w.tx, &model_id, experiment.experiment_id, &model.params).await?;
        self.upsert_model_tags(&mut w.tx, &model_id, experiment.experiment_id, &model.tags).await?;
        let created = self.load_logged_model(&mut w.tx, &model_id, false).await?;
        w.commit().await?;
        Ok(created)
    }

    async fn find_logged_model(&self, model_id: &str, allow_deleted: bool) -> StoreResult<LoggedModel> {
        let mut conn = self.pool.acquire().await?;
        self.load_logged_model(&mut conn, model_id, allow_deleted).await
    }

    async fn finalize_logged_model(&self, model_id: &str, status: LoggedModelStatus) -> StoreResult<LoggedModel> {
        let mut w = self.begin_write().await?;
        Self::logged_model_row(&mut w.tx, model_id, true).await?;
        sqlx::query("UPDATE logged_models SET status = $1, last_updated_timestamp_ms = $2 WHERE model_id = $3")
            .bind(status.as_int())
            .bind(now_millis())
            .bind(model_id)
            .execute(&mut *w.tx)
            .await?;
        let model = self.load_logged_model(&mut w.tx, model_id, true).await?;
        w.commit().await?;
        Ok(model)
    }

    async fn delete_logged_model(&self, model_id: &str) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        Self::logged_model_row(&mut w.tx, model_id, true).await?;
        sqlx::query(
            "UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_timestamp_ms = $1 WHERE model_id = $2",
        )
        .bind(now_millis())
        .bind(model_id)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await?;
        Ok(())
    }

    async fn set_logged_model_tags(&self, model_id: &str, tags: &[KeyValue]) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        let row = Self::logged_model_row(&mut w.tx, model_id, true).await?;
        self.upsert_model_tags(&mut w.tx, model_id, row.experiment_id, tags).await?;
        w.commit().await?;
        Ok(())
    }

    async fn delete_logged_model_tag(&self, model_id: &str, key: &str) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        Self::logged_model_row(&mut w.tx, model_id, true).await?;
        let deleted = sqlx::query("DELETE FROM logged_model_tags WHERE model_id = $1 AND tag_key = $2")
            .bind(model_id)
            .bind(key)
            .execute(&mut *w.tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "No tag with key {} found for model with ID {}.",
                str_repr(key),
                str_repr(model_id)
            )));
        }
        w.commit().await?;
        Ok(())
    }

    async fn log_logged_model_params(&self, model_id: &str, params: &[KeyValue]) -> StoreResult<()> {
        unique_keys("params", params)?;
        let mut w = self.begin_write().await?;
        let row = Self::logged_model_row(&mut w.tx, model_id, true).await?;
        self.insert_model_params(&mut w.tx, model_id, row.experiment_id, params).await?;
        w.commit().await?;
        Ok(())
    }

    async fn search_logged_models(&self, search: &LoggedModelSearch) -> StoreResult<Page<LoggedModel>> {
        let experiment_ids =
            search.experiment_ids.iter().map(|id| parse_experiment_id(id)).collect::<StoreResult<Vec<i64>>>()?;
        // Checked before anything is read, so that a bad request fails even on no experiments.
        crate::search::logged_models::parse_filter(&search.filter)?;
        crate::search::logged_models::check_order_by(&search.order_by)?;
        if experiment_ids.is_empty() {
            return Ok(Page { items: Vec::new(), next_offset: None });
        }
        let mut sql = self.sql(format!("SELECT {MODEL_COLUMNS} FROM logged_models lm"));
        crate::search::logged_models::logged_models_sort_joins(&search.order_by, &mut sql)?;
        sql.push(" WHERE lm.experiment_id IN (");
        sql.bind_list(experiment_ids).push(") AND lm.lifecycle_stage <> 'deleted'");
        crate::search::logged_models::logged_models_where(&search.filter, &search.datasets, &mut sql)?;
        crate::search::logged_models::logged_models_order_by(&search.order_by, &mut sql)?;
        sql.push(" LIMIT ").bind(search.max_results as i64 + 1).push(" OFFSET ").bind(search.offset as i64);
        let mut conn = self.pool.acquire().await?;
        let mut rows = sql.query_as::<LoggedModelRow>().fetch_all(&mut *conn).await?;
        let next_offset = (rows.len() > search.max_results).then(|| search.offset + search.max_results);
        rows.truncate(search.max_results);
        Ok(Page { items: self.load_logged_models(&mut conn, rows).await?, next_offset })
    }
}
