//! MLflow 3 logged models: creation, status, tags, params, and search with its own page
//! tokens (which must continue the very search that minted them).

use super::{ServiceError, ServiceResult};
use crate::search::logged_models::{DatasetFilter, OrderByEntry, PageToken};
use crate::store::{LoggedModelSearch, NewLoggedModel, TrackingStore};
use crate::validation;
use pitwall_openapi::{CreateLoggedModel, KeyValue, LoggedModel, LoggedModelStatus, SearchLoggedModels};

/// `max_results` when a search gives none (the proto's default).
const SEARCH_DEFAULT_MAX_RESULTS: i64 = 50;

/// Logged models.
#[derive(Clone, Copy)]
pub struct LoggedModelService<'a> {
    pub(super) store: &'a dyn TrackingStore,
}

impl LoggedModelService<'_> {
    pub async fn create(&self, m: CreateLoggedModel) -> ServiceResult<LoggedModel> {
        // MLflow's handler passes unset strings on as empty ones, which it then stores and answers with.
        let model = NewLoggedModel {
            experiment_id: m.experiment_id,
            name: m.name.filter(|n| !n.is_empty()),
            model_type: Some(m.model_type.unwrap_or_default()),
            source_run_id: Some(m.source_run_id.unwrap_or_default()),
            params: m.params,
            tags: m.tags,
        };
        Ok(self.store.create_logged_model(model).await?)
    }

    /// The model; with `allow_deleted` also a deleted one.
    pub async fn get(&self, model_id: &str, allow_deleted: bool) -> ServiceResult<LoggedModel> {
        Ok(self.store.find_logged_model(model_id, allow_deleted).await?)
    }

    pub async fn finalize(&self, model_id: &str, status: LoggedModelStatus) -> ServiceResult<LoggedModel> {
        Ok(self.store.finalize_logged_model(model_id, status).await?)
    }

    pub async fn delete(&self, model_id: &str) -> ServiceResult<()> {
        Ok(self.store.delete_logged_model(model_id).await?)
    }

    pub async fn set_tags(&self, model_id: &str, tags: &[KeyValue]) -> ServiceResult<()> {
        Ok(self.store.set_logged_model_tags(model_id, tags).await?)
    }

    pub async fn delete_tag(&self, model_id: &str, key: &str) -> ServiceResult<()> {
        Ok(self.store.delete_logged_model_tag(model_id, key).await?)
    }

    pub async fn log_params(&self, model_id: &str, params: &[KeyValue]) -> ServiceResult<()> {
        Ok(self.store.log_logged_model_params(model_id, params).await?)
    }

    /// One page of the experiments' models and the token of the next.
    pub async fn search(&self, m: SearchLoggedModels) -> ServiceResult<(Vec<LoggedModel>, Option<String>)> {
        if m.datasets.iter().any(|d| d.dataset_name.is_empty()) {
            return Err(ServiceError::Invalid("`dataset_name` in the `datasets` clause must be specified.".into()));
        }
        let max_results = match m.max_results {
            None | Some(0) => SEARCH_DEFAULT_MAX_RESULTS,
            Some(n) if n < 0 => {
                return Err(ServiceError::Invalid(format!("Invalid value for max_results: {n}. It must be positive.")));
            }
            // An int32 in the proto.
            Some(n) if n > i64::from(i32::MAX) => return Err(validation::wrong_type("max_results", &n.into())),
            Some(n) => n,
        };
        let filter = m.filter.filter(|f| !f.is_empty());
        let order_by: Vec<OrderByEntry> = m
            .order_by
            .into_iter()
            .map(|o| OrderByEntry {
                field_name: o.field_name,
                ascending: o.ascending.unwrap_or(true),
                dataset_name: o.dataset_name.filter(|d| !d.is_empty()),
                dataset_digest: o.dataset_digest.filter(|d| !d.is_empty()),
            })
            .collect();
        let token_order = (!order_by.is_empty()).then(|| order_by.clone());
        let offset = match m.page_token.as_deref().filter(|t| !t.is_empty()) {
            Some(token) => PageToken::resume(token, &m.experiment_ids, filter.as_deref(), &token_order)?,
            None => 0,
        };
        let page = self
            .store
            .search_logged_models(&LoggedModelSearch {
                experiment_ids: m.experiment_ids.clone(),
                filter: filter.clone().unwrap_or_default(),
                datasets: m
                    .datasets
                    .into_iter()
                    .map(|d| DatasetFilter { name: d.dataset_name, digest: d.dataset_digest.filter(|g| !g.is_empty()) })
                    .collect(),
                order_by,
                max_results: max_results as usize,
                offset: offset as usize,
            })
            .await?;
        let next_page_token = page.next_offset.map(|offset| {
            PageToken { experiment_ids: m.experiment_ids, filter, order_by: token_order, offset: offset as i64 }
                .encode()
        });
        Ok((page.items, next_page_token))
    }
}
