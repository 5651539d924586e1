//! Runs and what is logged to them: run-name rules, MLflow's limits on metrics, params and
//! tags, the wording of a refused param change, search.

use super::{ServiceError, ServiceResult, paging};
use crate::names::generate_run_name;
use crate::store::{NewRun, RunSearch, RunUpdate, StoreError, TrackingStore};
use crate::validation;
use pitwall_openapi::{
    CreateRun, DatasetInput, KeyValue, Metric, ModelInput, ModelOutput, RUN_NAME_TAG, Run, RunInfo, SearchRuns,
    ViewType,
};

const SEARCH_DEFAULT_MAX_RESULTS: i64 = 1000;
const SEARCH_MAX_RESULTS: i64 = 50000;

/// The run's name: the one given, else its `mlflow.runName` tag, else a generated one; the two
/// may not disagree.
pub fn run_name(given: Option<String>, tags: &[KeyValue]) -> ServiceResult<String> {
    let tag_name = tags.iter().rev().find(|t| t.key == RUN_NAME_TAG).map(|t| t.value.clone());
    let given_name = given.filter(|n| !n.is_empty());
    match (given_name, tag_name) {
        (Some(a), Some(b)) if a != b => Err(ServiceError::Invalid(format!(
            "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values \
             (run_name='{a}', mlflow.runName='{b}')."
        ))),
        (Some(a), _) => Ok(a),
        (None, Some(b)) if !b.is_empty() => Ok(b),
        _ => Ok(generate_run_name()),
    }
}

/// A param logged alone and refused because it has another value: MLflow's single-param
/// wording; other failures as they are.
fn single_param_error(e: StoreError) -> ServiceError {
    match e {
        StoreError::ParamsChanged { run_id, changes } if changes.len() == 1 => ServiceError::Invalid(format!(
            "Changing param values is not allowed. Param with key='{}' was already logged with value='{}' for run \
             ID='{run_id}'. Attempted logging new value '{}'.",
            changes[0].key, changes[0].old_value, changes[0].new_value
        )),
        e => e.into(),
    }
}

/// Runs.
#[derive(Clone, Copy)]
pub struct RunService<'a> {
    pub(super) store: &'a dyn TrackingStore,
}

impl RunService<'_> {
    pub async fn create(&self, run: CreateRun) -> ServiceResult<Run> {
        let tags = run
            .tags
            .iter()
            .enumerate()
            .map(|(i, t)| validation::validate_tag(t, &format!("tags[{i}].")))
            .collect::<Result<Vec<_>, _>>()?;
        let run_name = run_name(run.run_name, &tags)?;
        let run = self
            .store
            .create_run(NewRun {
                experiment_id: run.experiment_id.filter(|e| !e.is_empty()).unwrap_or_else(|| "0".to_owned()),
                user_id: run.user_id.unwrap_or_default(),
                run_name,
                start_time: run.start_time.unwrap_or(0),
                tags,
            })
            .await?;
        Ok(run)
    }

    pub async fn get(&self, run_id: &str) -> ServiceResult<Run> {
        Ok(self.store.get_run(run_id).await?)
    }

    pub async fn update(&self, run_id: &str, update: RunUpdate) -> ServiceResult<RunInfo> {
        Ok(self.store.update_run(run_id, update).await?)
    }

    pub async fn delete(&self, run_id: &str) -> ServiceResult<()> {
        Ok(self.store.delete_run(run_id).await?)
    }

    pub async fn restore(&self, run_id: &str) -> ServiceResult<()> {
        Ok(self.store.restore_run(run_id).await?)
    }

    pub async fn log_metric(&self, run_id: &str, metric: Metric) -> ServiceResult<()> {
        validation::validate_metric(&metric, "")?;
        Ok(self.store.log_batch(run_id, &[metric], &[], &[]).await?)
    }

    pub async fn log_param(&self, run_id: &str, param: &KeyValue) -> ServiceResult<()> {
        let param = validation::validate_param(param, "")?;
        self.store.log_batch(run_id, &[], &[param], &[]).await.map_err(single_param_error)
    }

    pub async fn set_tag(&self, run_id: &str, tag: &KeyValue) -> ServiceResult<()> {
        let tag = validation::validate_tag(tag, "")?;
        Ok(self.store.log_batch(run_id, &[], &[], &[tag]).await?)
    }

    pub async fn delete_tag(&self, run_id: &str, key: &str) -> ServiceResult<()> {
        Ok(self.store.delete_tag(run_id, key).await?)
    }

    /// Metrics, params and tags checked against MLflow's batch limits, stored whole or not at all.
    pub async fn log_batch(
        &self,
        run_id: &str,
        metrics: &[Metric],
        params: &[KeyValue],
        tags: &[KeyValue],
    ) -> ServiceResult<()> {
        let (params, tags) = validation::validate_batch(metrics, params, tags)?;
        Ok(self.store.log_batch(run_id, metrics, &params, &tags).await?)
    }

    pub async fn log_inputs(
        &self,
        run_id: &str,
        datasets: &[DatasetInput],
        models: &[ModelInput],
    ) -> ServiceResult<()> {
        validation::validate_dataset_inputs(datasets)?;
        Ok(self.store.log_inputs(run_id, datasets, models).await?)
    }

    pub async fn log_outputs(&self, run_id: &str, models: &[ModelOutput]) -> ServiceResult<()> {
        Ok(self.store.log_outputs(run_id, models).await?)
    }

    /// One page of runs and the token of the next.
    pub async fn search(&self, search: SearchRuns) -> ServiceResult<(Vec<Run>, Option<String>)> {
        let max_results = search.max_results.unwrap_or(SEARCH_DEFAULT_MAX_RESULTS);
        if max_results > SEARCH_MAX_RESULTS {
            return Err(validation::wrong_type("max_results", &max_results.into()));
        }
        if max_results < 1 {
            return Err(ServiceError::Invalid(format!(
                "Invalid value for max_results: {max_results}. It must be positive."
            )));
        }
        let offset = paging::offset(search.page_token.as_deref())?;
        let page = self
            .store
            .search_runs(&RunSearch {
                experiment_ids: search.experiment_ids,
                filter: search.filter.unwrap_or_default(),
                view_type: search.run_view_type.unwrap_or(ViewType::ActiveOnly),
                order_by: search.order_by,
                max_results: max_results as usize,
                offset,
            })
            .await?;
        Ok((page.items, paging::next_token(page.next_offset)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_name_comes_from_the_request_the_tag_or_is_generated() {
        let tag = |v: &str| vec![KeyValue::new(RUN_NAME_TAG, v)];
        assert_eq!(run_name(Some("a".into()), &[]).unwrap(), "a");
        assert_eq!(run_name(None, &tag("b")).unwrap(), "b");
        assert_eq!(run_name(Some("b".into()), &tag("b")).unwrap(), "b");
        assert!(!run_name(Some(String::new()), &tag("")).unwrap().is_empty());
        assert_eq!(
            run_name(Some("a".into()), &tag("b")).unwrap_err().to_string(),
            "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values \
             (run_name='a', mlflow.runName='b')."
        );
    }

    #[test]
    fn one_changed_param_is_worded_alone() {
        let change =
            |k: &str| crate::store::ParamChange { key: k.into(), old_value: "1".into(), new_value: "2".into() };
        let one = StoreError::ParamsChanged { run_id: "r".into(), changes: vec![change("lr")] };
        assert_eq!(
            single_param_error(one).to_string(),
            "Changing param values is not allowed. Param with key='lr' was already logged with value='1' for run \
             ID='r'. Attempted logging new value '2'."
        );
        let two = StoreError::ParamsChanged { run_id: "r".into(), changes: vec![change("a"), change("b")] };
        assert!(matches!(single_param_error(two), ServiceError::Store(StoreError::ParamsChanged { .. })));
    }
}
