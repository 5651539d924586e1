//! The route table: each endpoint declared once, and used for the router, the OpenAPI
//! document and the tests.

use super::{
    AppState, artifacts, experiments, logged_models, metrics, model_versions, registered_models, runs, server,
};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode};
use axum::routing::{MethodFilter, MethodRouter, on};
use std::time::Duration;
use tower_http::timeout::TimeoutLayer;

/// MLflow's REST prefixes: the API and the same API as the web UI calls it.
pub const API_PREFIX: &str = "/api/2.0/mlflow";
pub const AJAX_PREFIX: &str = "/ajax-api/2.0/mlflow";
/// The artifact proxy's prefixes (`mlflow_artifacts.proto`), mounted the same two ways.
pub const ARTIFACTS_PREFIX: &str = "/api/2.0/mlflow-artifacts";
pub const AJAX_ARTIFACTS_PREFIX: &str = "/ajax-api/2.0/mlflow-artifacts";

/// Longest a request with a JSON body may take. Streaming endpoints are exempt: a large
/// artifact may take longer to move, and their bodies have an idle timeout instead.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// Where an endpoint is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mount {
    /// Under both `/api/2.0/mlflow` and `/ajax-api/2.0/mlflow`.
    Api,
    /// Under `/ajax-api/2.0/mlflow` only.
    AjaxOnly,
    /// At the path as written.
    Root,
    /// Under `/api/2.0/mlflow-artifacts` and `/ajax-api/2.0/mlflow-artifacts`.
    Artifacts,
}

/// One endpoint: what it answers, where, and what it reads and writes on the wire.
pub struct Endpoint {
    pub method: Method,
    pub mount: Mount,
    pub path: &'static str,
    /// The MLflow RPC it serves (the OpenAPI operation id).
    pub rpc: &'static str,
    /// Wire type names of the request and response (schemas of the OpenAPI document).
    pub request: Option<&'static str>,
    pub response: &'static str,
    /// Whether the endpoint streams a raw body (artifact bytes) rather than JSON: no body-size
    /// limit and no request timeout apply to it.
    pub streaming: bool,
    /// What the request touches, and what its caller must be allowed to do with it: the table
    /// an authorisation layer reads (MLflow's auth app keeps the same per-RPC table).
    pub resource: Resource,
    pub permission: Permission,
    route: fn() -> MethodRouter<AppState>,
}

/// The kind of thing an endpoint reads or changes, named by the request; permissions are
/// granted on experiments and registered models, so every other kind resolves to one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// Nothing a user owns (health, version, server info).
    None,
    /// By `experiment_id` or name.
    Experiment,
    /// By `run_id` (or `run_uuid`): the run's experiment.
    Run,
    /// By `model_id`: the logged model's experiment.
    LoggedModel,
    /// By model `name`.
    RegisteredModel,
    /// By `name` and `version`: the version's registered model.
    ModelVersion,
    /// A path under the artifact proxy, whose first segment is the experiment id.
    ProxiedArtifact,
}

/// What a caller must be allowed to do with the endpoint's [`Resource`]. The levels follow
/// MLflow's permissions: READ grants read; EDIT adds update; MANAGE adds delete and manage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// No check at all (only with [`Resource::None`]).
    None,
    /// Any authenticated user may create a new one of these.
    Create,
    Read,
    /// A search: allowed to anyone authenticated, answered with only the items the caller may read.
    ReadEach,
    Update,
    Delete,
    Manage,
}

impl Endpoint {
    /// The full paths this endpoint answers on.
    pub fn paths(&self) -> Vec<String> {
        match self.mount {
            Mount::Api => vec![format!("{API_PREFIX}{}", self.path), format!("{AJAX_PREFIX}{}", self.path)],
            Mount::AjaxOnly => vec![format!("{AJAX_PREFIX}{}", self.path)],
            Mount::Root => vec![self.path.to_owned()],
            Mount::Artifacts => {
                vec![format!("{ARTIFACTS_PREFIX}{}", self.path), format!("{AJAX_ARTIFACTS_PREFIX}{}", self.path)]
            }
        }
    }
}

macro_rules! endpoint {
    (stream $method:ident $mount:ident $path:literal => $handler:path, $rpc:literal, $req:expr, $resp:literal, $res:ident $perm:ident) => {
        Endpoint { streaming: true, ..endpoint!($method $mount $path => $handler, $rpc, $req, $resp, $res $perm) }
    };
    ($method:ident $mount:ident $path:literal => $handler:path, $rpc:literal, $req:expr, $resp:literal, $res:ident $perm:ident) => {
        Endpoint {
            method: Method::$method,
            mount: Mount::$mount,
            path: $path,
            rpc: $rpc,
            request: $req,
            response: $resp,
            streaming: false,
            resource: Resource::$res,
            permission: Permission::$perm,
            route: || on(MethodFilter::try_from(Method::$method).expect("standard method"), $handler),
        }
    };
}

/// Every endpoint of the tracking API and the model registry.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint!(GET Root "/health" => server::health, "Health", None, "text", None None),
        endpoint!(GET Root "/version" => server::version, "Version", None, "text", None None),
        endpoint!(GET Root "/api/3.0/mlflow/server-info" => server::server_info, "GetServerInfo", None, "ServerInfo", None None),
        endpoint!(POST Api "/experiments/create" => experiments::create, "CreateExperiment", Some("CreateExperiment"), "CreateExperimentResponse", Experiment Create),
        endpoint!(GET Api "/experiments/get" => experiments::get, "GetExperiment", Some("GetExperiment"), "ExperimentResponse", Experiment Read),
        endpoint!(GET Api "/experiments/get-by-name" => experiments::get_by_name, "GetExperimentByName", Some("GetExperimentByName"), "ExperimentResponse", Experiment Read),
        endpoint!(GET Api "/experiments/search" => experiments::search, "SearchExperiments", Some("SearchExperiments"), "SearchExperimentsResponse", Experiment ReadEach),
        endpoint!(POST Api "/experiments/search" => experiments::search, "SearchExperiments", Some("SearchExperiments"), "SearchExperimentsResponse", Experiment ReadEach),
        endpoint!(POST Api "/experiments/update" => experiments::update, "UpdateExperiment", Some("UpdateExperiment"), "Empty", Experiment Update),
        endpoint!(POST Api "/experiments/delete" => experiments::delete, "DeleteExperiment", Some("ExperimentIdRequest"), "Empty", Experiment Delete),
        endpoint!(POST Api "/experiments/restore" => experiments::restore, "RestoreExperiment", Some("ExperimentIdRequest"), "Empty", Experiment Delete),
        endpoint!(POST Api "/experiments/set-experiment-tag" => experiments::set_tag, "SetExperimentTag", Some("SetExperimentTag"), "Empty", Experiment Update),
        endpoint!(POST Api "/experiments/delete-experiment-tag" => experiments::delete_tag, "DeleteExperimentTag", Some("DeleteExperimentTag"), "Empty", Experiment Update),
        endpoint!(POST Api "/runs/create" => runs::create, "CreateRun", Some("CreateRun"), "RunResponse", Experiment Update),
        endpoint!(GET Api "/runs/get" => runs::get, "GetRun", Some("RunIdRequest"), "RunResponse", Run Read),
        endpoint!(POST Api "/runs/update" => runs::update, "UpdateRun", Some("UpdateRun"), "UpdateRunResponse", Run Update),
        endpoint!(POST Api "/runs/delete" => runs::delete, "DeleteRun", Some("RunIdRequest"), "Empty", Run Delete),
        endpoint!(POST Api "/runs/restore" => runs::restore, "RestoreRun", Some("RunIdRequest"), "Empty", Run Delete),
        endpoint!(POST Api "/runs/search" => runs::search, "SearchRuns", Some("SearchRuns"), "SearchRunsResponse", Run ReadEach),
        endpoint!(POST Api "/runs/log-metric" => runs::log_metric, "LogMetric", Some("LogMetric"), "Empty", Run Update),
        endpoint!(POST Api "/runs/log-parameter" => runs::log_param, "LogParam", Some("RunKeyValue"), "Empty", Run Update),
        endpoint!(POST Api "/runs/set-tag" => runs::set_tag, "SetTag", Some("RunKeyValue"), "Empty", Run Update),
        endpoint!(POST Api "/runs/delete-tag" => runs::delete_tag, "DeleteTag", Some("DeleteTag"), "Empty", Run Update),
        endpoint!(POST Api "/runs/log-batch" => runs::log_batch, "LogBatch", Some("LogBatch"), "Empty", Run Update),
        endpoint!(POST Api "/runs/log-inputs" => runs::log_inputs, "LogInputs", Some("LogInputs"), "Empty", Run Update),
        endpoint!(POST Api "/runs/outputs" => runs::log_outputs, "LogOutputs", Some("LogOutputs"), "Empty", Run Update),
        endpoint!(GET Api "/metrics/get-history" => metrics::get_history, "GetMetricHistory", Some("GetMetricHistory"), "GetMetricHistoryResponse", Run Read),
        endpoint!(GET Api "/metrics/get-history-bulk-interval" => metrics::get_history_bulk_interval, "GetMetricHistoryBulkInterval", None, "GetMetricHistoryBulkIntervalResponse", Run Read),
        endpoint!(GET AjaxOnly "/metrics/get-history-bulk" => metrics::get_history_bulk, "GetMetricHistoryBulk", None, "MetricsWithRunIdResponse", Run Read),
        endpoint!(POST Api "/registered-models/create" => registered_models::create, "CreateRegisteredModel", Some("CreateRegisteredModel"), "RegisteredModelResponse", RegisteredModel Create),
        endpoint!(POST Api "/registered-models/rename" => registered_models::rename, "RenameRegisteredModel", Some("RenameRegisteredModel"), "RegisteredModelResponse", RegisteredModel Update),
        endpoint!(PATCH Api "/registered-models/update" => registered_models::update, "UpdateRegisteredModel", Some("UpdateRegisteredModel"), "RegisteredModelResponse", RegisteredModel Update),
        endpoint!(DELETE Api "/registered-models/delete" => registered_models::delete, "DeleteRegisteredModel", Some("RegisteredModelName"), "Empty", RegisteredModel Delete),
        endpoint!(GET Api "/registered-models/get" => registered_models::get, "GetRegisteredModel", Some("RegisteredModelName"), "RegisteredModelResponse", RegisteredModel Read),
        endpoint!(GET Api "/registered-models/search" => registered_models::search, "SearchRegisteredModels", Some("SearchRegisteredModels"), "SearchRegisteredModelsResponse", RegisteredModel ReadEach),
        endpoint!(GET Api "/registered-models/get-latest-versions" => registered_models::get_latest_versions, "GetLatestVersions", Some("GetLatestVersions"), "ModelVersionsResponse", RegisteredModel Read),
        endpoint!(POST Api "/registered-models/get-latest-versions" => registered_models::get_latest_versions, "GetLatestVersions", Some("GetLatestVersions"), "ModelVersionsResponse", RegisteredModel Read),
        endpoint!(POST Api "/registered-models/set-tag" => registered_models::set_tag, "SetRegisteredModelTag", Some("SetRegisteredModelTag"), "Empty", RegisteredModel Update),
        endpoint!(DELETE Api "/registered-models/delete-tag" => registered_models::delete_tag, "DeleteRegisteredModelTag", Some("DeleteRegisteredModelTag"), "Empty", RegisteredModel Update),
        endpoint!(POST Api "/registered-models/alias" => registered_models::set_alias, "SetRegisteredModelAlias", Some("SetRegisteredModelAlias"), "Empty", RegisteredModel Update),
        endpoint!(DELETE Api "/registered-models/alias" => registered_models::delete_alias, "DeleteRegisteredModelAlias", Some("RegisteredModelAliasRequest"), "Empty", RegisteredModel Delete),
        endpoint!(GET Api "/registered-models/alias" => registered_models::get_by_alias, "GetModelVersionByAlias", Some("RegisteredModelAliasRequest"), "ModelVersionResponse", RegisteredModel Read),
        endpoint!(POST Api "/model-versions/create" => model_versions::create, "CreateModelVersion", Some("CreateModelVersion"), "ModelVersionResponse", RegisteredModel Update),
        endpoint!(PATCH Api "/model-versions/update" => model_versions::update, "UpdateModelVersion", Some("UpdateModelVersion"), "ModelVersionResponse", ModelVersion Update),
        endpoint!(POST Api "/model-versions/transition-stage" => model_versions::transition_stage, "TransitionModelVersionStage", Some("TransitionModelVersionStage"), "ModelVersionResponse", ModelVersion Update),
        endpoint!(DELETE Api "/model-versions/delete" => model_versions::delete, "DeleteModelVersion", Some("ModelVersionRef"), "Empty", ModelVersion Delete),
        endpoint!(GET Api "/model-versions/get" => model_versions::get, "GetModelVersion", Some("ModelVersionRef"), "ModelVersionResponse", ModelVersion Read),
        endpoint!(GET Api "/model-versions/get-download-uri" => model_versions::get_download_uri, "GetModelVersionDownloadUri", Some("ModelVersionRef"), "GetModelVersionDownloadUriResponse", ModelVersion Read),
        endpoint!(GET Api "/model-versions/search" => model_versions::search, "SearchModelVersions", Some("SearchModelVersions"), "SearchModelVersionsResponse", ModelVersion ReadEach),
        endpoint!(POST Api "/model-versions/set-tag" => model_versions::set_tag, "SetModelVersionTag", Some("SetModelVersionTag"), "Empty", ModelVersion Update),
        endpoint!(DELETE Api "/model-versions/delete-tag" => model_versions::delete_tag, "DeleteModelVersionTag", Some("DeleteModelVersionTag"), "Empty", ModelVersion Delete),
        endpoint!(POST Api "/logged-models" => logged_models::create, "CreateLoggedModel", Some("CreateLoggedModel"), "LoggedModelResponse", Experiment Update),
        endpoint!(POST Api "/logged-models/search" => logged_models::search, "SearchLoggedModels", Some("SearchLoggedModels"), "SearchLoggedModelsResponse", LoggedModel ReadEach),
        endpoint!(GET Api "/logged-models/{model_id}" => logged_models::get, "GetLoggedModel", None, "LoggedModelResponse", LoggedModel Read),
        endpoint!(PATCH Api "/logged-models/{model_id}" => logged_models::finalize, "FinalizeLoggedModel", Some("FinalizeLoggedModel"), "LoggedModelResponse", LoggedModel Update),
        endpoint!(DELETE Api "/logged-models/{model_id}" => logged_models::delete, "DeleteLoggedModel", None, "Empty", LoggedModel Delete),
        endpoint!(PATCH Api "/logged-models/{model_id}/tags" => logged_models::set_tags, "SetLoggedModelTags", Some("SetLoggedModelTags"), "Empty", LoggedModel Update),
        endpoint!(DELETE Api "/logged-models/{model_id}/tags/{tag_key}" => logged_models::delete_tag, "DeleteLoggedModelTag", None, "Empty", LoggedModel Delete),
        endpoint!(POST Api "/logged-models/{model_id}/params" => logged_models::log_params, "LogLoggedModelParams", Some("LogLoggedModelParams"), "Empty", LoggedModel Update),
        endpoint!(GET Api "/artifacts/list" => artifacts::list_run_artifacts, "ListArtifacts", Some("ListArtifacts"), "ListArtifactsResponse", Run Read),
        endpoint!(stream GET Root "/get-artifact" => artifacts::get_artifact, "GetArtifact", None, "bytes", Run Read),
        endpoint!(stream GET Root "/model-versions/get-artifact" => artifacts::get_model_version_artifact, "GetModelVersionArtifact", None, "bytes", ModelVersion Read),
        endpoint!(GET Api "/logged-models/{model_id}/artifacts/directories" => artifacts::list_logged_model_artifacts, "ListLoggedModelArtifacts", Some("ListLoggedModelArtifacts"), "ListArtifactsResponse", LoggedModel Read),
        endpoint!(stream GET AjaxOnly "/logged-models/{model_id}/artifacts/files" => artifacts::get_logged_model_artifact, "GetLoggedModelArtifact", None, "bytes", LoggedModel Read),
        endpoint!(GET Artifacts "/artifacts" => artifacts::list, "ListProxiedArtifacts", Some("ListProxiedArtifacts"), "ListProxiedArtifactsResponse", ProxiedArtifact Read),
        endpoint!(stream GET Artifacts "/artifacts/{*path}" => artifacts::download, "DownloadArtifact", None, "bytes", ProxiedArtifact Read),
        endpoint!(stream PUT Artifacts "/artifacts/{*path}" => artifacts::upload, "UploadArtifact", Some("bytes"), "Empty", ProxiedArtifact Update),
        endpoint!(DELETE Artifacts "/artifacts/{*path}" => artifacts::delete, "DeleteArtifact", None, "Empty", ProxiedArtifact Delete),
        endpoint!(POST Artifacts "/mpu/create/{*path}" => artifacts::mpu_create, "CreateMultipartUpload", Some("CreateMultipartUpload"), "CreateMultipartUploadResponse", ProxiedArtifact Update),
        endpoint!(POST Artifacts "/mpu/complete/{*path}" => artifacts::mpu_complete, "CompleteMultipartUpload", Some("CompleteMultipartUpload"), "Empty", ProxiedArtifact Update),
        endpoint!(POST Artifacts "/mpu/abort/{*path}" => artifacts::mpu_abort, "AbortMultipartUpload", Some("AbortMultipartUpload"), "Empty", ProxiedArtifact Update),
        endpoint!(stream PUT Artifacts "/mpu/upload-part/{*path}" => artifacts::upload_part, "UploadMultipartPart", Some("bytes"), "Empty", ProxiedArtifact Update),
        endpoint!(GET Artifacts "/presigned/{*path}" => artifacts::presigned, "GetPresignedDownloadUrl", None, "PresignedDownloadUrl", ProxiedArtifact Read),
    ]
}

impl Endpoint {
    /// The paths as the OpenAPI document writes them: a trailing `{*path}` (any number of
    /// segments) becomes the template parameter `{path}`.
    pub fn doc_paths(&self) -> Vec<String> {
        self.paths().into_iter().map(|p| p.replace("{*path}", "{path}")).collect()
    }

    /// The endpoint answering `method` at the full `path` (a path the router matches, with
    /// concrete segments), for checks that run before the handler.
    pub fn find<'a>(endpoints: &'a [Endpoint], method: &Method, path: &str) -> Option<&'a Endpoint> {
        // A static path wins over a template that also matches it, as in the router.
        let of_method = || endpoints.iter().filter(|e| e.method == *method);
        of_method()
            .find(|e| e.paths().iter().any(|p| p == path))
            .or_else(|| of_method().find(|e| e.paths().iter().any(|p| template_matches(p, path))))
    }

    /// The handler with the layers its kind of body needs.
    fn method_router(&self) -> MethodRouter<AppState> {
        if self.streaming {
            (self.route)().layer(DefaultBodyLimit::disable())
        } else {
            (self.route)().layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
        }
    }
}

/// The router of every endpoint, under each of its paths.
pub fn router() -> Router<AppState> {
    endpoints().into_iter().fold(Router::new(), |router, e| {
        e.paths().into_iter().fold(router, |router, path| router.route(&path, e.method_router()))
    })
}

/// Whether a route template (`/a/{id}/b`, `/a/{*rest}`) matches a concrete path.
fn template_matches(template: &str, path: &str) -> bool {
    let mut want = template.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (Some(w), Some(_)) if w.starts_with("{*") => return true,
            (Some(w), Some(g)) if w.starts_with('{') && !g.is_empty() => {}
            (Some(w), Some(g)) if w == g => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_names_what_it_touches_and_needs() {
        for e in endpoints() {
            let open = e.resource == Resource::None;
            assert_eq!(open, e.permission == Permission::None, "{} {}: public iff it touches nothing", e.method, e.rpc);
            if e.method == Method::GET {
                assert!(
                    matches!(e.permission, Permission::None | Permission::Read | Permission::ReadEach),
                    "{} {}: a GET only reads",
                    e.method,
                    e.rpc
                );
            }
            if e.permission == Permission::Create {
                assert!(e.rpc.starts_with("Create"), "{}: only a create RPC creates", e.rpc);
            }
        }
    }

    #[test]
    fn permissions_follow_mlflows_auth_app() {
        let need = |rpc: &str| {
            let e = endpoints().into_iter().find(|e| e.rpc == rpc).unwrap_or_else(|| panic!("no endpoint {rpc}"));
            (e.resource, e.permission)
        };
        assert_eq!(need("Health"), (Resource::None, Permission::None));
        assert_eq!(need("CreateExperiment"), (Resource::Experiment, Permission::Create));
        assert_eq!(need("RestoreExperiment"), (Resource::Experiment, Permission::Delete));
        assert_eq!(need("LogBatch"), (Resource::Run, Permission::Update));
        assert_eq!(need("GetMetricHistory"), (Resource::Run, Permission::Read));
        assert_eq!(need("SearchRegisteredModels"), (Resource::RegisteredModel, Permission::ReadEach));
        assert_eq!(need("DeleteModelVersionTag"), (Resource::ModelVersion, Permission::Delete));
        assert_eq!(need("UploadArtifact"), (Resource::ProxiedArtifact, Permission::Update));
    }

    #[test]
    fn every_mounted_path_finds_its_endpoint() {
        let all = endpoints();
        for e in &all {
            for path in e.paths() {
                let concrete = path.replace("{*path}", "1/abc/artifacts/model.onnx").replace('{', "x").replace('}', "");
                let found = Endpoint::find(&all, &e.method, &concrete)
                    .unwrap_or_else(|| panic!("{} {concrete} finds no endpoint", e.method));
                assert_eq!((found.resource, found.permission), (e.resource, e.permission), "{} {concrete}", e.method);
            }
        }
        assert!(Endpoint::find(&all, &Method::GET, "/api/2.0/mlflow/nope").is_none());
    }
}
