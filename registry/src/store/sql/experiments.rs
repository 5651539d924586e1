//! Experiments and their tags.

use super::rows::{EXPERIMENT_COLUMNS, ExperimentRow, KeyValueRow};
use super::{SqlStore, is_unique_violation, now_millis, parse_experiment_id};
use crate::store::{ExperimentSearch, ExperimentStore, Page, StoreError, StoreResult};
use async_trait::async_trait;
use pitwall_openapi::{Experiment, KeyValue};
use sqlx::AnyConnection;
use std::collections::HashMap;

impl SqlStore {
    async fn experiment_row(conn: &mut AnyConnection, id: i64) -> StoreResult<Option<ExperimentRow>> {
        let sql = format!("SELECT {EXPERIMENT_COLUMNS} FROM experiments e WHERE e.experiment_id = $1");
        Ok(sqlx::query_as::<_, ExperimentRow>(&sql).bind(id).fetch_optional(conn).await?)
    }

    /// The experiment, or the not-found error MLflow gives.
    pub(super) async fn require_experiment(
        conn: &mut AnyConnection,
        experiment_id: &str,
    ) -> StoreResult<ExperimentRow> {
        let id = parse_experiment_id(experiment_id)?;
        Self::experiment_row(conn, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("No Experiment with id={experiment_id} exists")))
    }

    pub(super) async fn require_active_experiment(
        conn: &mut AnyConnection,
        experiment_id: &str,
    ) -> StoreResult<ExperimentRow> {
        let row = Self::require_experiment(conn, experiment_id).await?;
        if row.lifecycle_stage != "active" {
            return Err(StoreError::Invalid(format!(
                "The experiment {experiment_id} must be in the 'active' state. Current state is {}.",
                row.lifecycle_stage
            )));
        }
        Ok(row)
    }

    async fn experiment_tags(
        &self,
        conn: &mut AnyConnection,
        ids: &[i64],
    ) -> StoreResult<HashMap<String, Vec<KeyValue>>> {
        let mut out: HashMap<String, Vec<KeyValue>> = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let mut sql = self.sql(
            "SELECT CAST(experiment_id AS TEXT) AS owner, key, value FROM experiment_tags WHERE experiment_id IN (",
        );
        sql.bind_list(ids.iter().copied()).push(") ORDER BY experiment_id, key");
        for row in sql.query_as::<KeyValueRow>().fetch_all(conn).await? {
            out.entry(row.owner).or_default().push(KeyValue::new(row.key, row.value));
        }
        Ok(out)
    }

    async fn load_experiments(
        &self,
        conn: &mut AnyConnection,
        rows: Vec<ExperimentRow>,
    ) -> StoreResult<Vec<Experiment>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.experiment_id).collect();
        let mut tags = self.experiment_tags(conn, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let t = tags.remove(&r.experiment_id.to_string()).unwrap_or_default();
                r.into_experiment(t)
            })
            .collect())
    }

    async fn set_lifecycle(&self, experiment_id: &str, from: &str, to: &str) -> StoreResult<()> {
        let now = now_millis();
        let mut w = self.begin_write().await?;
        let row = Self::require_experiment(&mut w.tx, experiment_id).await?;
        if row.lifecycle_stage != from {
            return Err(StoreError::Invalid(format!(
                "Cannot {} experiment {experiment_id}: it is {}.",
                if to == "deleted" { "delete" } else { "restore" },
                row.lifecycle_stage
            )));
        }
        sqlx::query("UPDATE experiments SET lifecycle_stage = $1, last_update_time = $2 WHERE experiment_id = $3")
            .bind(to)
            .bind(now)
            .bind(row.experiment_id)
            .execute(&mut *w.tx)
            .await?;
        // The experiment's runs follow it into and out of the bin, as in MLflow.
        let deleted_time = (to == "deleted").then_some(now);
        sqlx::query(
            "UPDATE runs SET lifecycle_stage = $1, deleted_time = $2 WHERE experiment_id = $3 AND lifecycle_stage = $4",
        )
        .bind(to)
        .bind(deleted_time)
        .bind(row.experiment_id)
        .bind(from)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl ExperimentStore for SqlStore {
    async fn create_experiment(
        &self,
        name: &str,
        artifact_location: Option<&str>,
        tags: &[KeyValue],
    ) -> StoreResult<String> {
        let now = now_millis();
        let mut w = self.begin_write().await?;
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time) \
             VALUES ($1, $2, 'active', $3, $3) RETURNING experiment_id",
        )
        .bind(name)
        .bind(artifact_location.unwrap_or(""))
        .bind(now)
        .fetch_one(&mut *w.tx)
        .await;
        let id = match inserted {
            Ok(id) => id,
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::AlreadyExists(format!("Experiment(name={name}) already exists.")));
            }
            Err(e) => return Err(e.into()),
        };
        if artifact_location.is_none_or(str::is_empty) {
            sqlx::query("UPDATE experiments SET artifact_location = $1 WHERE experiment_id = $2")
                .bind(self.artifact_location_for(id))
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
        }
        for tag in tags {
            sqlx::query(
                "INSERT INTO experiment_tags (experiment_id, key, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
            )
            .bind(id)
            .bind(&tag.key)
            .bind(&tag.value)
            .execute(&mut *w.tx)
            .await?;
        }
        w.commit().await?;
        Ok(id.to_string())
    }

    async fn get_experiment(&self, experiment_id: &str) -> StoreResult<Experiment> {
        let mut conn = self.pool.acquire().await?;
        let row = Self::require_experiment(&mut conn, experiment_id).await?;
        Ok(self.load_experiments(&mut conn, vec![row]).await?.remove(0))
    }

    async fn get_experiment_by_name(&self, name: &str) -> StoreResult<Option<Experiment>> {
        let mut conn = self.pool.acquire().await?;
        let sql = format!("SELECT {EXPERIMENT_COLUMNS} FROM experiments e WHERE e.name = $1");
        let Some(row) = sqlx::query_as::<_, ExperimentRow>(&sql).bind(name).fetch_optional(&mut *conn).await? else {
            return Ok(None);
        };
        Ok(self.load_experiments(&mut conn, vec![row]).await?.pop())
    }

    async fn search_experiments(&self, search: &ExperimentSearch) -> StoreResult<Page<Experiment>> {
        let mut sql = self.sql(format!("SELECT {EXPERIMENT_COLUMNS} FROM experiments e WHERE e.lifecycle_stage IN ("));
        sql.bind_list(search.view_type.stages().iter().copied()).push(")");
        crate::search::experiments_where(&search.filter, &mut sql)?;
        crate::search::experiments_order_by(&search.order_by, &mut sql)?;
        sql.push(" LIMIT ").bind(search.max_results as i64 + 1).push(" OFFSET ").bind(search.offset as i64);
        let mut conn = self.pool.acquire().await?;
        let mut rows = sql.query_as::<ExperimentRow>().fetch_all(&mut *conn).await?;
        let next_offset = (rows.len() > search.max_results).then(|| search.offset + search.max_results);
        rows.truncate(search.max_results);
        Ok(Page { items: self.load_experiments(&mut conn, rows).await?, next_offset })
    }

    async fn rename_experiment(&self, experiment_id: &str, new_name: &str) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        let row = Self::require_experiment(&mut w.tx, experiment_id).await?;
        if row.lifecycle_stage != "active" {
            return Err(StoreError::Invalid("Cannot rename a non-active experiment.".to_owned()));
        }
        let updated = sqlx::query("UPDATE experiments SET name = $1, last_update_time = $2 WHERE experiment_id = $3")
            .bind(new_name)
            .bind(now_millis())
            .bind(row.experiment_id)
            .execute(&mut *w.tx)
            .await;
        match updated {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::AlreadyExists(format!("Experiment(name={new_name}) already exists.")));
            }
            Err(e) => return Err(e.into()),
        }
        w.commit().await?;
        Ok(())
    }

    async fn delete_experiment(&self, experiment_id: &str) -> StoreResult<()> {
        if parse_experiment_id(experiment_id).ok() == Some(0) {
            return Err(StoreError::Invalid(
                "Cannot delete the default experiment '0'. This is an internally reserved experiment.".to_owned(),
            ));
        }
        self.set_lifecycle(experiment_id, "active", "deleted").await
    }

    async fn restore_experiment(&self, experiment_id: &str) -> StoreResult<()> {
        self.set_lifecycle(experiment_id, "deleted", "active").await
    }

    async fn set_experiment_tag(&self, experiment_id: &str, tag: &KeyValue) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        let row = Self::require_active_experiment(&mut w.tx, experiment_id).await?;
        sqlx::query(
            "INSERT INTO experiment_tags (experiment_id, key, value) VALUES ($1, $2, $3) \
             ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
        )
        .bind(row.experiment_id)
        .bind(&tag.key)
        .bind(&tag.value)
        .execute(&mut *w.tx)
        .await?;
        sqlx::query("UPDATE experiments SET last_update_time = $1 WHERE experiment_id = $2")
            .bind(now_millis())
            .bind(row.experiment_id)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(())
    }

    async fn delete_experiment_tag(&self, experiment_id: &str, key: &str) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        let row = Self::require_active_experiment(&mut w.tx, experiment_id).await?;
        let deleted = sqlx::query("DELETE FROM experiment_tags WHERE experiment_id = $1 AND key = $2")
            .bind(row.experiment_id)
            .bind(key)
            .execute(&mut *w.tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("No tag with name: {key} in experiment with id {experiment_id}")));
        }
        w.commit().await?;
        Ok(())
    }
}
