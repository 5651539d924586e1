//! The model registry: registered models, model versions, their tags and aliases.

use super::{MAX_BINDS_PER_STATEMENT, SqlStore, is_unique_violation, now_millis};
use crate::search::registry::{
    IS_PROMPT_TAG, model_versions_order_by, model_versions_where, registered_models_order_by, registered_models_where,
};
use crate::store::model_registry::{STAGE_PRODUCTION, STAGE_STAGING, canonical_stage, parse_version};
use crate::store::{ModelRegistryStore, NewModelVersion, Page, RegistrySearch, StoreError, StoreResult};
use async_trait::async_trait;
use pitwall_openapi::{KeyValue, ModelVersion, ModelVersionStatus, RegisteredModel, RegisteredModelAlias};
use sqlx::{AnyConnection, FromRow};
use std::collections::{BTreeMap, HashMap};

const MODEL_COLUMNS: &str = "rm.name, rm.creation_time, rm.last_updated_time, rm.description";
const VERSION_COLUMNS: &str = "mv.name, mv.version, mv.creation_time, mv.last_updated_time, mv.description, \
     mv.user_id, mv.current_stage, mv.source, mv.storage_location, mv.run_id, mv.run_link, mv.status, mv.status_message";

#[derive(Debug, FromRow)]
struct ModelRow {
    name: String,
    creation_time: i64,
    last_updated_time: i64,
    description: Option<String>,
}

#[derive(Debug, FromRow)]
struct VersionRow {
    name: String,
    version: i64,
    creation_time: i64,
    last_updated_time: i64,
    description: Option<String>,
    user_id: Option<String>,
    current_stage: String,
    source: String,
    storage_location: Option<String>,
    run_id: Option<String>,
    run_link: Option<String>,
    status: String,
    status_message: Option<String>,
}

impl VersionRow {
    fn into_version(self, tags: Vec<KeyValue>, aliases: Vec<String>) -> ModelVersion {
        ModelVersion {
            name: self.name,
            version: self.version.to_string(),
            creation_timestamp: self.creation_time,
            last_updated_timestamp: Some(self.last_updated_time),
            user_id: self.user_id,
            current_stage: self.current_stage,
            description: self.description,
            source: Some(self.source),
            run_id: self.run_id,
            status: ModelVersionStatus::from_name(&self.status),
            status_message: self.status_message.filter(|m| !m.is_empty()),
            tags,
            run_link: self.run_link,
            aliases,
        }
    }
}

#[derive(Debug, FromRow)]
struct TagRow {
    name: String,
    version: i64,
    key: String,
    value: String,
}

#[derive(Debug, FromRow)]
struct AliasRow {
    name: String,
    alias: String,
    version: i64,
}

fn model_not_found(name: &str) -> StoreError {
    StoreError::NotFound(format!("Registered Model with name={name} not found"))
}

fn version_not_found(name: &str, version: i64) -> StoreError {
    StoreError::NotFound(format!("Model Version (name={name}, version={version}) not found"))
}

fn has_prompt_tag(tags: &[KeyValue]) -> bool {
    tags.iter().any(|t| t.key == IS_PROMPT_TAG)
}

/// MLflow's wording for a name that is taken, which tells models and prompts apart.
fn name_taken(name: &str, existing_is_prompt: bool, new_is_prompt: bool) -> StoreError {
    let entity = |prompt: bool| if prompt { "Prompt" } else { "Registered Model" };
    let (old, new) = (entity(existing_is_prompt), entity(new_is_prompt));
    if old != new {
        return StoreError::AlreadyExists(format!(
            "Tried to create a {} with name '{name}', but the name is already taken by a {}. MLflow does not allow \
             creating a model and a prompt with the same name.",
            new.to_lowercase(),
            old.to_lowercase()
        ));
    }
    StoreError::AlreadyExists(format!("{new} (name={name}) already exists."))
}

/// Later values of a repeated key win, as if the tags were set one after another.
fn dedup_tags(tags: &[KeyValue]) -> Vec<(&str, &str)> {
    let mut latest: BTreeMap<&str, &str> = BTreeMap::new();
    for t in tags {
        latest.insert(&t.key, &t.value);
    }
    latest.into_iter().collect()
}

impl SqlStore {
    async fn model_row(conn: &mut AnyConnection, name: &str) -> StoreResult<ModelRow> {
        let sql = format!("SELECT {MODEL_COLUMNS} FROM registered_models rm WHERE rm.name = $1");
        sqlx::query_as::<_, ModelRow>(&sql).bind(name).fetch_optional(conn).await?.ok_or_else(|| model_not_found(name))
    }

    async fn version_row(conn: &mut AnyConnection, name: &str, version: i64) -> StoreResult<VersionRow> {
        let sql = format!("SELECT {VERSION_COLUMNS} FROM model_versions mv WHERE mv.name = $1 AND mv.version = $2");
        sqlx::query_as::<_, VersionRow>(&sql)
            .bind(name)
            .bind(version)
            .fetch_optional(conn)
            .await?
            .ok_or_else(|| version_not_found(name, version))
    }

    /// Tags of the given versions, keyed by (name, version), each list ordered by key.
    async fn version_tags(
        &self,
        conn: &mut AnyConnection,
        versions: &[(String, i64)],
    ) -> StoreResult<HashMap<(String, i64), Vec<KeyValue>>> {
        let mut out: HashMap<(String, i64), Vec<KeyValue>> = HashMap::new();
        for chunk in versions.chunks(MAX_BINDS_PER_STATEMENT / 2) {
            let mut sql = self.sql("SELECT name, version, key, value FROM model_version_tags WHERE ");
            for (i, (name, version)) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(name = " } else { " OR (name = " });
                sql.bind(name.as_str()).push(" AND version = ").bind(*version).push(")");
            }
            sql.push(" ORDER BY name, version, key");
            for row in sql.query_as::<TagRow>().fetch_all(&mut *conn).await? {
                out.entry((row.name, row.version)).or_default().push(KeyValue::new(row.key, row.value));
            }
        }
        Ok(out)
    }

    /// Versions with their tags; aliases only when `with_aliases` (MLflow leaves them out of
    /// search results and of a model's latest versions).
    async fn load_versions(
        &self,
        conn: &mut AnyConnection,
        rows: Vec<VersionRow>,
        with_aliases: bool,
    ) -> StoreResult<Vec<ModelVersion>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<(String, i64)> = rows.iter().map(|r| (r.name.clone(), r.version)).collect();
        let mut tags = self.version_tags(conn, &keys).await?;
        let mut aliases: HashMap<(String, i64), Vec<String>> = HashMap::new();
        if with_aliases {
            let mut names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            for row in self.alias_rows(conn, &names).await? {
                aliases.entry((row.name, row.version)).or_default().push(row.alias);
            }
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let key = (r.name.clone(), r.version);
                r.into_version(tags.remove(&key).unwrap_or_default(), aliases.remove(&key).unwrap_or_default())
            })
            .collect())
    }

    async fn alias_rows(&self, conn: &mut AnyConnection, names: &[&str]) -> StoreResult<Vec<AliasRow>> {
        let mut out = Vec::new();
        for chunk in names.chunks(MAX_BINDS_PER_STATEMENT) {
            let mut sql = self.sql("SELECT name, alias, version FROM registered_model_aliases WHERE name IN (");
            sql.bind_list(chunk.iter().copied()).push(") ORDER BY name, alias");
            out.extend(sql.query_as::<AliasRow>().fetch_all(&mut *conn).await?);
        }
        Ok(out)
    }

    /// The highest version of each stage of each model, ordered per model as MLflow lists
    /// them: stages in the order their first version was registered.
    async fn latest_version_rows(&self, conn: &mut AnyConnection, names: &[&str]) -> StoreResult<Vec<VersionRow>> {
        let mut out = Vec::new();
        for chunk in names.chunks(MAX_BINDS_PER_STATEMENT) {
            let mut sql = self.sql(format!(
                    "SELECT {VERSION_COLUMNS} FROM model_versions mv WHERE mv.version = \
                     (SELECT MAX(v.version) FROM model_versions v WHERE v.name = mv.name AND v.current_stage = mv.current_stage) \
                     AND mv.name IN ("
                ),
            );
            sql.bind_list(chunk.iter().copied()).push(
                ") ORDER BY mv.name, (SELECT MIN(v.version) FROM model_versions v \
                 WHERE v.name = mv.name AND v.current_stage = mv.current_stage)",
            );
            out.extend(sql.query_as::<VersionRow>().fetch_all(&mut *conn).await?);
        }
        Ok(out)
    }

    /// Full registered models: latest versions, tags and aliases, one query per part.
    async fn load_models(&self, conn: &mut AnyConnection, rows: Vec<ModelRow>) -> StoreResult<Vec<RegisteredModel>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        let mut latest: HashMap<String, Vec<ModelVersion>> = HashMap::new();
        let latest_rows = self.latest_version_rows(conn, &names).await?;
        for v in self.load_versions(conn, latest_rows, false).await? {
            latest.entry(v.name.clone()).or_default().push(v);
        }
        let mut tags: HashMap<String, Vec<KeyValue>> = HashMap::new();
        let mut aliases: HashMap<String, Vec<RegisteredModelAlias>> = HashMap::new();
        for chunk in names.chunks(MAX_BINDS_PER_STATEMENT) {
            let mut sql = self.sql(
                "SELECT name, CAST(0 AS BIGINT) AS version, key, value FROM registered_model_tags WHERE name IN (",
            );
            sql.bind_list(chunk.iter().copied()).push(") ORDER BY name, key");
            for row in sql.query_as::<TagRow>().fetch_all(&mut *conn).await? {
                tags.entry(row.name).or_default().push(KeyValue::new(row.key, row.value));
            }
            for row in self.alias_rows(conn, chunk).await? {
                aliases
                    .entry(row.name)
                    .or_default()
                    .push(RegisteredModelAlias { alias: row.alias, version: row.version.to_string() });
            }
        }
        Ok(rows
            .into_iter()
            .map(|r| RegisteredModel {
                latest_versions: latest.remove(&r.name).unwrap_or_default(),
                tags: tags.remove(&r.name).unwrap_or_default(),
                aliases: aliases.remove(&r.name).unwrap_or_default(),
                creation_timestamp: Some(r.creation_time),
                last_updated_timestamp: Some(r.last_updated_time),
                description: r.description.filter(|d| !d.is_empty()),
                name: r.name,
            })
            .collect())
    }

    async fn load_model(&self, conn: &mut AnyConnection, name: &str) -> StoreResult<RegisteredModel> {
        let row = Self::model_row(conn, name).await?;
        Ok(self.load_models(conn, vec![row]).await?.remove(0))
    }

    async fn load_version(&self, conn: &mut AnyConnection, name: &str, version: i64) -> StoreResult<ModelVersion> {
        let row = Self::version_row(conn, name, version).await?;
        Ok(self.load_versions(conn, vec![row], true).await?.remove(0))
    }

    /// Takes the model's row lock (PostgreSQL; SQLite's write gate already serialises writers),
    /// so that writes to one model's versions, tags and aliases do not interleave: a version
    /// deleted under a concurrent alias or tag write would otherwise fail its foreign key.
    async fn lock_model(conn: &mut AnyConnection, name: &str) -> StoreResult<()> {
        let locked = sqlx::query("UPDATE registered_models SET last_version = last_version WHERE name = $1")
            .bind(name)
            .execute(conn)
            .await?;
        if locked.rows_affected() == 0 {
            return Err(model_not_found(name));
        }
        Ok(())
    }

    /// Locks the model, then reads the version (or fails with MLflow's version not-found error).
    async fn lock_version(conn: &mut AnyConnection, name: &str, version: i64) -> StoreResult<VersionRow> {
        Self::lock_model(conn, name).await.map_err(|e| match e {
            StoreError::NotFound(_) => version_not_found(name, version),
            e => e,
        })?;
        Self::version_row(conn, name, version).await
    }

    async fn touch_model(conn: &mut AnyConnection, name: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE registered_models SET last_updated_time = $1 WHERE name = $2")
            .bind(now)
            .bind(name)
            .execute(conn)
            .await?;
        Ok(())
    }
}

#[async_trait]
impl ModelRegistryStore for SqlStore {
    async fn create_registered_model(
        &self,
        name: &str,
        tags: &[KeyValue],
        description: Option<&str>,
    ) -> StoreResult<RegisteredModel> {
        let now = now_millis();
        let mut w = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO registered_models (name, creation_time, last_updated_time, description, last_version) \
             VALUES ($1, $2, $2, $3, 0)",
        )
        .bind(name)
        .bind(now)
        .bind(description)
        .execute(&mut *w.tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                // Rolled back before the write gate opens, so that no writer finds SQLite's lock
                // still held; the failed statement ended the transaction on PostgreSQL anyway.
                w.tx.rollback().await?;
                let existing = self.get_registered_model(name).await?;
                return Err(name_taken(name, has_prompt_tag(&existing.tags), has_prompt_tag(tags)));
            }
            Err(e) => return Err(e.into()),
        }
        for (key, value) in dedup_tags(tags) {
            sqlx::query("INSERT INTO registered_model_tags (name, key, value) VALUES ($1, $2, $3)")
                .bind(name)
                .bind(key)
                .bind(value)
                .execute(&mut *w.tx)
                .await?;
        }
        let model = self.load_model(&mut w.tx, name).await?;
        w.commit().await?;
        Ok(model)
    }

    async fn get_registered_model(&self, name: &str) -> StoreResult<RegisteredModel> {
        let mut conn = self.pool.acquire().await?;
        self.load_model(&mut conn, name).await
    }

    async fn rename_registered_model(&self, name: &str, new_name: &str) -> StoreResult<RegisteredModel> {
        let now = now_millis();
        let mut w = self.begin_write().await?;
        Self::model_row(&mut w.tx, name).await?;
        // The foreign keys carry the new name to versions, tags and aliases (ON UPDATE CASCADE).
        let renamed = sqlx::query("UPDATE registered_models SET name = $1, last_updated_time = $2 WHERE name = $3")
            .bind(new_name)
            .bind(now)
            .bind(name)
            .execute(&mut *w.tx)
            .await;
        match renamed {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                w.tx.rollback().await?;
                return Err(StoreError::AlreadyExists(format!("Registered Model (name={new_name}) already exists.")));
            }
            Err(e) => return Err(e.into()),
        }
        sqlx::query("UPDATE model_versions SET last_updated_time = $1 WHERE name = $2")
            .bind(now)
            .bind(new_name)
            .execute(&mut *w.tx)
            .await?;
        let model = self.load_model(&mut w.tx, new_name).await?;
        w.commit().await?;
        Ok(model)
    }

    async fn update_registered_model(&self, name: &str, description: Option<&str>) -> StoreResult<RegisteredModel> {
        let mut w = self.begin_write().await?;
        Self::model_row(&mut w.tx, name).await?;
        sqlx::query("UPDATE registered_models SET description = $1, last_updated_time = $2 WHERE name = $3")
            .bind(description)
            .bind(now_millis())
            .bind(name)
            .execute(&mut *w.tx)
            .await?;
        let model = self.load_model(&mut w.tx, name).await?;
        w.commit().await?;
        Ok(model)
    }

    async fn delete_registered_model(&self, name: &str) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        Self::lock_model(&mut w.tx, name).await?;
        // Children first, so the delete does not depend on the foreign keys' cascades.
        for table in [
            "registered_model_aliases",
            "model_version_tags",
            "model_versions",
            "registered_model_tags",
            "registered_models",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE name = $1")).bind(name).execute(&mut *w.tx).await?;
        }
        w.commit().await?;
        Ok(())
    }

    async fn search_registered_models(&self, search: &RegistrySearch) -> StoreResult<Page<RegisteredModel>> {
        let mut sql = self.sql(format!("SELECT {MODEL_COLUMNS} FROM registered_models rm WHERE 1 = 1"));
        registered_models_where(&search.filter, &mut sql)?;
        registered_models_order_by(&search.order_by, &mut sql)?;
        let offset = search.offset;
        sql.push(" LIMIT ").bind(search.max_results as i64 + 1).push(" OFFSET ").bind(offset as i64);
        let mut conn = self.pool.acquire().await?;
        let mut rows = sql.query_as::<ModelRow>().fetch_all(&mut *conn).await?;
        let next_offset = (rows.len() > search.max_results).then(|| offset + search.max_results);
        rows.truncate(search.max_results);
        Ok(Page { items: self.load_models(&mut conn, rows).await?, next_offset })
    }

    async fn set_registered_model_tag(&self, name: &str, tag: &KeyValue) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        Self::model_row(&mut w.tx, name).await?;
        sqlx::query(
            "INSERT INTO registered_model_tags (name, key, value) VALUES ($1, $2, $3) \
             ON CONFLICT (name, key) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(&tag.key)
        .bind(&tag.value)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await?;
        Ok(())
    }

    async fn delete_registered_model_tag(&self, name: &str, key: &str) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        Self::model_row(&mut w.tx, name).await?;
        sqlx::query("DELETE FROM registered_model_tags WHERE name = $1 AND key = $2")
            .bind(name)
            .bind(key)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(())
    }

    async fn get_latest_versions(&self, name: &str, stages: &[String]) -> StoreResult<Vec<ModelVersion>> {
        let mut conn = self.pool.acquire().await?;
        Self::model_row(&mut conn, name).await?;
        let wanted = stages.iter().map(|s| canonical_stage(s)).collect::<StoreResult<Vec<_>>>()?;
        let rows: Vec<VersionRow> = self
            .latest_version_rows(&mut conn, &[name])
            .await?
            .into_iter()
            .filter(|r| wanted.is_empty() || wanted.contains(&r.current_stage.as_str()))
            .collect();
        self.load_versions(&mut conn, rows, true).await
    }

    async fn create_model_version(&self, v: NewModelVersion) -> StoreResult<ModelVersion> {
        let now = now_millis();
        let mut w = self.begin_write().await?;
        // The counter's row lock (PostgreSQL) or the write gate (SQLite) orders concurrent
        // creates; each reads the number the previous one committed.
        let version = sqlx::query_scalar::<_, i64>(
            "UPDATE registered_models SET last_version = last_version + 1, last_updated_time = $1 \
             WHERE name = $2 RETURNING last_version",
        )
        .bind(now)
        .bind(&v.name)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or_else(|| model_not_found(&v.name))?;
        sqlx::query(
            "INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id, \
             current_stage, source, storage_location, run_id, run_link, model_id, status) \
             VALUES ($1, $2, $3, $3, $4, $5, 'None', $6, $7, $8, $9, $10, 'READY')",
        )
        .bind(&v.name)
        .bind(version)
        .bind(now)
        .bind(v.description.as_deref())
        .bind(v.user_id.as_deref())
        .bind(&v.source)
        .bind(v.storage_location.as_deref())
        .bind(v.run_id.as_deref())
        .bind(v.run_link.as_deref())
        .bind(v.model_id.as_deref())
        .execute(&mut *w.tx)
        .await?;
        for (key, value) in dedup_tags(&v.tags) {
            sqlx::query("INSERT INTO model_version_tags (name, version, key, value) VALUES ($1, $2, $3, $4)")
                .bind(&v.name)
                .bind(version)
                .bind(key)
                .bind(value)
                .execute(&mut *w.tx)
                .await?;
        }
        if let Some(model_id) = &v.model_id {
            self.record_version_on_logged_model(&mut w.tx, model_id, &v.name, version).await?;
        }
        let created = self.load_version(&mut w.tx, &v.name, version).await?;
        w.commit().await?;
        Ok(created)
    }

    async fn get_model_version(&self, name: &str, version: &str) -> StoreResult<ModelVersion> {
        let version = parse_version(version)?;
        let mut conn = self.pool.acquire().await?;
        self.load_version(&mut conn, name, version).await
    }

    async fn update_model_version(
        &self,
        name: &str,
        version: &str,
        description: Option<&str>,
    ) -> StoreResult<ModelVersion> {
        let version = parse_version(version)?;
        let mut w = self.begin_write().await?;
        Self::version_row(&mut w.tx, name, version).await?;
        sqlx::query(
            "UPDATE model_versions SET description = $1, last_updated_time = $2 WHERE name = $3 AND version = $4",
        )
        .bind(description)
        .bind(now_millis())
        .bind(name)
        .bind(version)
        .execute(&mut *w.tx)
        .await?;
        let updated = self.load_version(&mut w.tx, name, version).await?;
        w.commit().await?;
        Ok(updated)
    }

    async fn delete_model_version(&self, name: &str, version: &str) -> StoreResult<()> {
        let version = parse_version(version)?;
        let now = now_millis();
        let mut w = self.begin_write().await?;
        Self::lock_version(&mut w.tx, name, version).await?;
        for table in ["registered_model_aliases", "model_version_tags", "model_versions"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE name = $1 AND version = $2"))
                .bind(name)
                .bind(version)
                .execute(&mut *w.tx)
                .await?;
        }
        Self::touch_model(&mut w.tx, name, now).await?;
        w.commit().await?;
        Ok(())
    }

    async fn transition_model_version_stage(
        &self,
        name: &str,
        version: &str,
        stage: &str,
        archive_existing_versions: bool,
    ) -> StoreResult<ModelVersion> {
        let target = canonical_stage(stage)?;
        if archive_existing_versions && target != STAGE_STAGING && target != STAGE_PRODUCTION {
            return Err(StoreError::Invalid(format!(
                "Model version transition cannot archive existing model versions because '{stage}' is not an Active \
                 stage. Valid stages are ['{STAGE_STAGING}', '{STAGE_PRODUCTION}']"
            )));
        }
        let version = parse_version(version)?;
        let now = now_millis();
        let mut w = self.begin_write().await?;
        Self::lock_version(&mut w.tx, name, version).await?;
        if archive_existing_versions {
            sqlx::query(
                "UPDATE model_versions SET current_stage = 'Archived', last_updated_time = $1 \
                 WHERE name = $2 AND version <> $3 AND current_stage = $4",
            )
            .bind(now)
            .bind(name)
            .bind(version)
            .bind(target)
            .execute(&mut *w.tx)
            .await?;
        }
        sqlx::query(
            "UPDATE model_versions SET current_stage = $1, last_updated_time = $2 WHERE name = $3 AND version = $4",
        )
        .bind(target)
        .bind(now)
        .bind(name)
        .bind(version)
        .execute(&mut *w.tx)
        .await?;
        Self::touch_model(&mut w.tx, name, now).await?;
        let moved = self.load_version(&mut w.tx, name, version).await?;
        w.commit().await?;
        Ok(moved)
    }

    async fn get_model_version_download_uri(&self, name: &str, version: &str) -> StoreResult<String> {
        let version = parse_version(version)?;
        let mut conn = self.pool.acquire().await?;
        let row = Self::version_row(&mut conn, name, version).await?;
        Ok(row.storage_location.filter(|s| !s.is_empty()).unwrap_or(row.source))
    }

    async fn search_model_versions(&self, search: &RegistrySearch) -> StoreResult<Page<ModelVersion>> {
        let mut sql = self.sql(format!("SELECT {VERSION_COLUMNS} FROM model_versions mv WHERE 1 = 1"));
        model_versions_where(&search.filter, &mut sql)?;
        model_versions_order_by(&search.order_by, &mut sql)?;
        let offset = search.offset;
        sql.push(" LIMIT ").bind(search.max_results as i64 + 1).push(" OFFSET ").bind(offset as i64);
        let mut conn = self.pool.acquire().await?;
        let mut rows = sql.query_as::<VersionRow>().fetch_all(&mut *conn).await?;
        let next_offset = (rows.len() > search.max_results).then(|| offset + search.max_results);
        rows.truncate(search.max_results);
        Ok(Page { items: self.load_versions(&mut conn, rows, false).await?, next_offset })
    }

    async fn set_model_version_tag(&self, name: &str, version: &str, tag: &KeyValue) -> StoreResult<()> {
        let version = parse_version(version)?;
        let mut w = self.begin_write().await?;
        Self::lock_version(&mut w.tx, name, version).await?;
        sqlx::query(
            "INSERT INTO model_version_tags (name, version, key, value) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(version)
        .bind(&tag.key)
        .bind(&tag.value)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await?;
        Ok(())
    }

    async fn delete_model_version_tag(&self, name: &str, version: &str, key: &str) -> StoreResult<()> {
        let version = parse_version(version)?;
        let mut w = self.begin_write().await?;
        Self::version_row(&mut w.tx, name, version).await?;
        sqlx::query("DELETE FROM model_version_tags WHERE name = $1 AND version = $2 AND key = $3")
            .bind(name)
            .bind(version)
            .bind(key)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(())
    }

    async fn set_registered_model_alias(&self, name: &str, alias: &str, version: &str) -> StoreResult<()> {
        let version = parse_version(version)?;
        let mut w = self.begin_write().await?;
        Self::lock_version(&mut w.tx, name, version).await?;
        sqlx::query(
            "INSERT INTO registered_model_aliases (name, alias, version) VALUES ($1, $2, $3) \
             ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version",
        )
        .bind(name)
        .bind(alias)
        .bind(version)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await?;
        Ok(())
    }

    async fn delete_registered_model_alias(&self, name: &str, alias: &str) -> StoreResult<()> {
        let mut w = self.begin_write().await?;
        Self::model_row(&mut w.tx, name).await?;
        sqlx::query("DELETE FROM registered_model_aliases WHERE name = $1 AND alias = $2")
            .bind(name)
            .bind(alias)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(())
    }

    async fn get_model_version_by_alias(&self, name: &str, alias: &str) -> StoreResult<ModelVersion> {
        let mut conn = self.pool.acquire().await?;
        Self::model_row(&mut conn, name).await?;
        let version = if alias.eq_ignore_ascii_case("latest") {
            sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(version) FROM model_versions WHERE name = $1")
                .bind(name)
                .fetch_one(&mut *conn)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("Latest version not found for model {name}.")))?
        } else {
            sqlx::query_scalar::<_, i64>("SELECT version FROM registered_model_aliases WHERE name = $1 AND alias = $2")
                .bind(name)
                .bind(alias)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| StoreError::Invalid(format!("Registered model alias {alias} not found.")))?
        };
        self.load_version(&mut conn, name, version).await
    }
}

/// The logged-model tag listing the registry versions made from a model.
const MODEL_VERSIONS_TAG: &str = "mlflow.modelVersions";

impl SqlStore {
    /// Appends `{"name", "version"}` to the logged model's `mlflow.modelVersions` tag (a JSON
    /// list written as Python's `json.dumps` writes it, as MLflow's server keeps it), inside the
    /// version's transaction: the model's row is locked first, so concurrent registrations of
    /// one model each add their entry and none is lost.
    async fn record_version_on_logged_model(
        &self,
        conn: &mut AnyConnection,
        model_id: &str,
        name: &str,
        version: i64,
    ) -> StoreResult<()> {
        let lock = self.engine.lock_logged_model();
        let Some(experiment_id) = sqlx::query_scalar::<_, i64>(lock).bind(model_id).fetch_optional(&mut *conn).await?
        else {
            return Ok(());
        };
        let current: Option<String> =
            sqlx::query_scalar("SELECT tag_value FROM logged_model_tags WHERE model_id = $1 AND tag_key = $2")
                .bind(model_id)
                .bind(MODEL_VERSIONS_TAG)
                .fetch_optional(&mut *conn)
                .await?;
        let mut entries: Vec<serde_json::Value> = current
            .and_then(|t| serde_json::from_str::<Vec<serde_json::Value>>(&t).ok())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| {
                let (n, v) = (e.get("name")?.as_str()?, e.get("version")?.as_i64()?);
                Some(serde_json::json!({ "name": n, "version": v }))
            })
            .collect();
        entries.push(serde_json::json!({ "name": name, "version": version }));
        let value = crate::search::logged_models::py_json(&serde_json::Value::Array(entries));
        sqlx::query(
            "INSERT INTO logged_model_tags (model_id, experiment_id, tag_key, tag_value) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (model_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
        )
        .bind(model_id)
        .bind(experiment_id)
        .bind(MODEL_VERSIONS_TAG)
        .bind(value)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}
