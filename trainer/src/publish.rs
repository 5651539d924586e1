//! Publishing a trained model over the MLflow REST API: its files through the artifact proxy,
//! an MLflow 3 logged model linked to the run, and a registry version that takes the
//! `champion` alias only when it is the best one.

use std::path::Path;

use pitwall_openapi::{
    CreateLoggedModel, CreateModelVersion, CreateRegisteredModel, ErrorCode, FinalizeLoggedModel,
    GetModelVersionDownloadUriResponse, KeyValue, ListProxiedArtifactsResponse, LogOutputs, LoggedModel,
    LoggedModelResponse, LoggedModelStatus, ModelOutput, ModelVersion, ModelVersionResponse,
    SearchModelVersionsResponse, SetRegisteredModelAlias,
};

use crate::client::TrackingClient;
use crate::error::{Result, TrainError};

/// The alias the best version of a model carries.
pub const CHAMPION: &str = "champion";
/// The model-version tag that holds a version's out-of-time AUC (on the latest labelled
/// season, trained on the seasons before it), which champions are compared on. Versions
/// without it (registered before out-of-time evaluation) are not compared.
pub const AUC_TAG: &str = "auc_oot";

/// What became of a trained model in the registry.
#[derive(Debug, Clone, PartialEq)]
pub enum Promotion {
    /// Registered as `version`; `champion` says whether the alias points at it now.
    Registered { version: String, champion: bool },
    /// Not registered: the champion was at least as good.
    Kept { champion_version: String, champion_auc: f64 },
}

impl TrackingClient {
    /// Uploads every file under `dir` to `artifact_uri` (an `mlflow-artifacts:` URI), keeping
    /// the relative paths.
    pub async fn upload_dir(&self, artifact_uri: &str, dir: &Path) -> Result<()> {
        let mut pending = vec![dir.to_path_buf()];
        while let Some(current) = pending.pop() {
            let entries = std::fs::read_dir(&current).map_err(|e| TrainError::io(&current, e))?;
            for entry in entries {
                let path = entry.map_err(|e| TrainError::io(&current, e))?.path();
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                let rel = path.strip_prefix(dir).expect("walked under dir");
                let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                let bytes = std::fs::read(&path).map_err(|e| TrainError::io(&path, e))?;
                self.put_artifact(artifact_uri, &rel, bytes).await?;
            }
        }
        Ok(())
    }

    /// `POST logged-models`: a pending model of `experiment_id` logged by `run_id`.
    pub async fn create_logged_model(
        &self,
        experiment_id: &str,
        name: &str,
        run_id: &str,
        params: Vec<KeyValue>,
    ) -> Result<LoggedModel> {
        let body = CreateLoggedModel {
            experiment_id: experiment_id.into(),
            name: Some(name.into()),
            model_type: Some("onnx".into()),
            source_run_id: Some(run_id.into()),
            params,
            tags: vec![],
        };
        let created: LoggedModelResponse = self.post("logged-models", &body).await?;
        Ok(created.model)
    }

    /// `PATCH logged-models/{id}`: the files are uploaded (or failed to be).
    pub async fn finalize_logged_model(&self, model_id: &str, status: LoggedModelStatus) -> Result<LoggedModel> {
        let body = FinalizeLoggedModel { model_id: model_id.into(), status };
        let done: LoggedModelResponse = self.patch(&format!("logged-models/{model_id}"), &body).await?;
        Ok(done.model)
    }

    /// `runs/outputs`: the run produced the model.
    pub async fn log_model_output(&self, run_id: &str, model_id: &str) -> Result<()> {
        let models = vec![ModelOutput { model_id: model_id.into(), step: 0 }];
        let body = LogOutputs { run_id: run_id.into(), models };
        let _: serde_json::Value = self.post("runs/outputs", &body).await?;
        Ok(())
    }

    /// `registered-models/create`, taking an existing model as it is.
    pub async fn ensure_registered_model(&self, name: &str) -> Result<()> {
        let body = CreateRegisteredModel { name: name.into(), tags: vec![], description: None };
        match self.post::<_, serde_json::Value>("registered-models/create", &body).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_refusal(&[ErrorCode::ResourceAlreadyExists]) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `model-versions/create` from a logged model.
    pub async fn create_model_version(
        &self,
        name: &str,
        model: &LoggedModel,
        tags: Vec<KeyValue>,
    ) -> Result<ModelVersion> {
        let body = CreateModelVersion {
            name: name.into(),
            source: format!("models:/{}", model.info.model_id),
            run_id: model.info.source_run_id.clone(),
            tags,
            model_id: Some(model.info.model_id.clone()),
            ..Default::default()
        };
        let created: ModelVersionResponse = self.post("model-versions/create", &body).await?;
        Ok(created.model_version)
    }

    /// The version `alias` points at, if any.
    pub async fn version_by_alias(&self, name: &str, alias: &str) -> Result<Option<ModelVersion>> {
        match self.get::<ModelVersionResponse>("registered-models/alias", &[("name", name), ("alias", alias)]).await {
            Ok(found) => Ok(Some(found.model_version)),
            Err(e) if e.is_refusal(&[ErrorCode::InvalidParameterValue, ErrorCode::ResourceDoesNotExist]) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every version of model `name`.
    pub async fn model_versions(&self, name: &str) -> Result<Vec<ModelVersion>> {
        let filter = format!("name='{}'", name.replace('\'', "\\'"));
        let mut versions = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![("filter", filter.as_str()), ("max_results", "1000")];
            if let Some(t) = token.as_deref() {
                query.push(("page_token", t));
            }
            let page: SearchModelVersionsResponse = self.get("model-versions/search", &query).await?;
            versions.extend(page.model_versions);
            match page.next_page_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Ok(versions),
            }
        }
    }

    /// `registered-models/alias`.
    pub async fn set_alias(&self, name: &str, alias: &str, version: &str) -> Result<()> {
        let body = SetRegisteredModelAlias { name: name.into(), alias: alias.into(), version: version.into() };
        let _: serde_json::Value = self.post("registered-models/alias", &body).await?;
        Ok(())
    }

    /// Registers `model` as a version of `name` when its out-of-time AUC `auc` beats the
    /// champion's, then points the champion alias at the best registered version.
    ///
    /// MLflow has no compare-and-set on aliases, so two trainers finishing at once could each
    /// see the old champion and move the alias to themselves. Each trainer therefore sets the
    /// alias to the best version among all those registered when it looks, after its own
    /// version exists: the trainer that looks last sees both and both agree on the winner, so
    /// the alias ends on the best version whichever order the calls interleave in.
    pub async fn promote(&self, name: &str, model: &LoggedModel, auc: f64) -> Result<Promotion> {
        self.ensure_registered_model(name).await?;
        if let Some(champion) = self.version_by_alias(name, CHAMPION).await?
            && let Some(champion_auc) = version_auc(&champion)
            && champion_auc >= auc
        {
            return Ok(Promotion::Kept { champion_version: champion.version, champion_auc });
        }
        let tags = vec![KeyValue::new(AUC_TAG, auc.to_string())];
        let version = self.create_model_version(name, model, tags).await?;
        let best = best_version(&self.model_versions(name).await?).unwrap_or_else(|| version.version.clone());
        self.set_alias(name, CHAMPION, &best).await?;
        Ok(Promotion::Registered { champion: best == version.version, version: version.version })
    }
}

/// A version's out-of-time AUC, from its tag.
fn version_auc(v: &ModelVersion) -> Option<f64> {
    v.tags.iter().find(|t| t.key == AUC_TAG).and_then(|t| t.value.parse().ok()).filter(|a: &f64| a.is_finite())
}

/// The version with the highest AUC; the earlier version wins a tie, so every trainer picks
/// the same one.
fn best_version(versions: &[ModelVersion]) -> Option<String> {
    versions
        .iter()
        .filter_map(|v| Some((version_auc(v)?, v.version.parse::<u64>().ok()?, &v.version)))
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
        .map(|(_, _, v)| v.clone())
}

impl TrackingClient {
    /// Downloads the files of version `version` (a number, or `@alias`) of model `name` into
    /// `dir`, and answers the version number.
    pub async fn download_model_version(&self, name: &str, version: &str, dir: &Path) -> Result<i64> {
        // The server's own error names what is missing: the model, the alias or the version.
        let found = match version.strip_prefix('@') {
            Some(alias) => {
                let got: ModelVersionResponse =
                    self.get("registered-models/alias", &[("name", name), ("alias", alias)]).await?;
                got.model_version
            }
            None => {
                let got: ModelVersionResponse =
                    self.get("model-versions/get", &[("name", name), ("version", version)]).await?;
                got.model_version
            }
        };
        let uri: GetModelVersionDownloadUriResponse =
            self.get("model-versions/get-download-uri", &[("name", name), ("version", &found.version)]).await?;
        let mut pending = vec![String::new()];
        while let Some(rel) = pending.pop() {
            let root = uri.artifact_uri.strip_prefix("mlflow-artifacts:").unwrap_or(&uri.artifact_uri);
            let root = root.trim_start_matches('/');
            let dir_path = if rel.is_empty() { root.to_owned() } else { format!("{root}/{rel}") };
            let listing: ListProxiedArtifactsResponse = self.list_proxied(&dir_path).await?;
            for f in listing.files {
                let child = if rel.is_empty() { f.path.clone() } else { format!("{rel}/{}", f.path) };
                if f.is_dir {
                    pending.push(child);
                } else {
                    let bytes = self.get_artifact(&uri.artifact_uri, &child).await?;
                    let target = dir.join(&child);
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent).map_err(|e| TrainError::io(parent, e))?;
                    }
                    std::fs::write(&target, bytes).map_err(|e| TrainError::io(&target, e))?;
                }
            }
        }
        found.version.parse().map_err(|_| TrainError::Settings(format!("version {:?} is not a number", found.version)))
    }
}
