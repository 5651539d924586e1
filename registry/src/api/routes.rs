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
    route: fn() -> MethodRouter<AppState>,
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
    (stream $method:ident $mount:ident $path:literal => $handler:path, $rpc:literal, $req:expr, $resp:literal) => {
        Endpoint { streaming: true, ..endpoint!($method $mount $path => $handler, $rpc, $req, $resp) }
    };
    ($method:ident $mount:ident $path:literal => $handler:path, $rpc:literal, $req:expr, $resp:literal) => {
        Endpoint {
            method: Method::$method,
            mount: Mount::$mount,
            path: $path,
            rpc: $rpc,
            request: $req,
            response: $resp,
            streaming: false,
            route: || on(MethodFilter::try_from(Method::$method).expect("standard method"), $handler),
        }
    };
}

/// Every endpoint of the tracking API and the model registry.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint!(GET Root "/health" => server::health, "Health", None, "text"),
        endpoint!(GET Root "/version" => server::version, "Version", None, "text"),
        endpoint!(GET Root "/api/3.0/mlflow/server-info" => server::server_info, "GetServerInfo", None, "ServerInfo"),
        endpoint!(POST Api "/experiments/create" => experiments::create, "CreateExperiment", Some("CreateExperiment"), "CreateExperimentResponse"),
        endpoint!(GET Api "/experiments/get" => experiments::get, "GetExperiment", Some("GetExperiment"), "ExperimentResponse"),
        endpoint!(GET Api "/experiments/get-by-name" => experiments::get_by_name, "GetExperimentByName", Some("GetExperimentByName"), "ExperimentResponse"),
        endpoint!(GET Api "/experiments/search" => experiments::search, "SearchExperiments", Some("SearchExperiments"), "SearchExperimentsResponse"),
        endpoint!(POST Api "/experiments/search" => experiments::search, "SearchExperiments", Some("SearchExperiments"), "SearchExperimentsResponse"),
        endpoint!(POST Api "/experiments/update" => experiments::update, "UpdateExperiment", Some("UpdateExperiment"), "Empty"),
        endpoint!(POST Api "/experiments/delete" => experiments::delete, "DeleteExperiment", Some("ExperimentIdRequest"), "Empty"),
        endpoint!(POST Api "/experiments/restore" => experiments::restore, "RestoreExperiment", Some("ExperimentIdRequest"), "Empty"),
        endpoint!(POST Api "/experiments/set-experiment-tag" => experiments::set_tag, "SetExperimentTag", Some("SetExperimentTag"), "Empty"),
        endpoint!(POST Api "/experiments/delete-experiment-tag" => experiments::delete_tag, "DeleteExperimentTag", Some("DeleteExperimentTag"), "Empty"),
        endpoint!(POST Api "/runs/create" => runs::create, "CreateRun", Some("CreateRun"), "RunResponse"),
        endpoint!(GET Api "/runs/get" => runs::get, "GetRun", Some("RunIdRequest"), "RunResponse"),
        endpoint!(POST Api "/runs/update" => runs::update, "UpdateRun", Some("UpdateRun"), "UpdateRunResponse"),
        endpoint!(POST Api "/runs/delete" => runs::delete, "DeleteRun", Some("RunIdRequest"), "Empty"),
        endpoint!(POST Api "/runs/restore" => runs::restore, "RestoreRun", Some("RunIdRequest"), "Empty"),
        endpoint!(POST Api "/runs/search" => runs::search, "SearchRuns", Some("SearchRuns"), "SearchRunsResponse"),
        endpoint!(POST Api "/runs/log-metric" => runs::log_metric, "LogMetric", Some("LogMetric"), "Empty"),
        endpoint!(POST Api "/runs/log-parameter" => runs::log_param, "LogParam", Some("RunKeyValue"), "Empty"),
        endpoint!(POST Api "/runs/set-tag" => runs::set_tag, "SetTag", Some("RunKeyValue"), "Empty"),
        endpoint!(POST Api "/runs/delete-tag" => runs::delete_tag, "DeleteTag", Some("DeleteTag"), "Empty"),
        endpoint!(POST Api "/runs/log-batch" => runs::log_batch, "LogBatch", Some("LogBatch"), "Empty"),
        endpoint!(POST Api "/runs/log-inputs" => runs::log_inputs, "LogInputs", Some("LogInputs"), "Empty"),
        endpoint!(POST Api "/runs/outputs" => runs::log_outputs, "LogOutputs", Some("LogOutputs"), "Empty"),
        endpoint!(GET Api "/metrics/get-history" => metrics::get_history, "GetMetricHistory", Some("GetMetricHistory"), "GetMetricHistoryResponse"),
        endpoint!(GET Api "/metrics/get-history-bulk-interval" => metrics::get_history_bulk_interval, "GetMetricHistoryBulkInterval", None, "GetMetricHistoryBulkIntervalResponse"),
        endpoint!(GET AjaxOnly "/metrics/get-history-bulk" => metrics::get_history_bulk, "GetMetricHistoryBulk", None, "MetricsWithRunIdResponse"),
        endpoint!(POST Api "/registered-models/create" => registered_models::create, "CreateRegisteredModel", Some("CreateRegisteredModel"), "RegisteredModelResponse"),
        endpoint!(POST Api "/registered-models/rename" => registered_models::rename, "RenameRegisteredModel", Some("RenameRegisteredModel"), "RegisteredModelResponse"),
        endpoint!(PATCH Api "/registered-models/update" => registered_models::update, "UpdateRegisteredModel", Some("UpdateRegisteredModel"), "RegisteredModelResponse"),
        endpoint!(DELETE Api "/registered-models/delete" => registered_models::delete, "DeleteRegisteredModel", Some("RegisteredModelName"), "Empty"),
        endpoint!(GET Api "/registered-models/get" => registered_models::get, "GetRegisteredModel", Some("RegisteredModelName"), "RegisteredModelResponse"),
        endpoint!(GET Api "/registered-models/search" => registered_models::search, "SearchRegisteredModels", Some("SearchRegisteredModels"), "SearchRegisteredModelsResponse"),
        endpoint!(GET Api "/registered-models/get-latest-versions" => registered_models::get_latest_versions, "GetLatestVersions", Some("GetLatestVersions"), "ModelVersionsResponse"),
        endpoint!(POST Api "/registered-models/get-latest-versions" => registered_models::get_latest_versions, "GetLatestVersions", Some("GetLatestVersions"), "ModelVersionsResponse"),
        endpoint!(POST Api "/registered-models/set-tag" => registered_models::set_tag, "SetRegisteredModelTag", Some("SetRegisteredModelTag"), "Empty"),
        endpoint!(DELETE Api "/registered-models/delete-tag" => registered_models::delete_tag, "DeleteRegisteredModelTag", Some("DeleteRegisteredModelTag"), "Empty"),
        endpoint!(POST Api "/registered-models/alias" => registered_models::set_alias, "SetRegisteredModelAlias", Some("SetRegisteredModelAlias"), "Empty"),
        endpoint!(DELETE Api "/registered-models/alias" => registered_models::delete_alias, "DeleteRegisteredModelAlias", Some("RegisteredModelAliasRequest"), "Empty"),
        endpoint!(GET Api "/registered-models/alias" => registered_models::get_by_alias, "GetModelVersionByAlias", Some("RegisteredModelAliasRequest"), "ModelVersionResponse"),
        endpoint!(POST Api "/model-versions/create" => model_versions::create, "CreateModelVersion", Some("CreateModelVersion"), "ModelVersionResponse"),
        endpoint!(PATCH Api "/model-versions/update" => model_versions::update, "UpdateModelVersion", Some("UpdateModelVersion"), "ModelVersionResponse"),
        endpoint!(POST Api "/model-versions/transition-stage" => model_versions::transition_stage, "TransitionModelVersionStage", Some("TransitionModelVersionStage"), "ModelVersionResponse"),
        endpoint!(DELETE Api "/model-versions/delete" => model_versions::delete, "DeleteModelVersion", Some("ModelVersionRef"), "Empty"),
        endpoint!(GET Api "/model-versions/get" => model_versions::get, "GetModelVersion", Some("ModelVersionRef"), "ModelVersionResponse"),
        endpoint!(GET Api "/model-versions/get-download-uri" => model_versions::get_download_uri, "GetModelVersionDownloadUri", Some("ModelVersionRef"), "GetModelVersionDownloadUriResponse"),
        endpoint!(GET Api "/model-versions/search" => model_versions::search, "SearchModelVersions", Some("SearchModelVersions"), "SearchModelVersionsResponse"),
        endpoint!(POST Api "/model-versions/set-tag" => model_versions::set_tag, "SetModelVersionTag", Some("SetModelVersionTag"), "Empty"),
        endpoint!(DELETE Api "/model-versions/delete-tag" => model_versions::delete_tag, "DeleteModelVersionTag", Some("DeleteModelVersionTag"), "Empty"),
        endpoint!(POST Api "/logged-models" => logged_models::create, "CreateLoggedModel", Some("CreateLoggedModel"), "LoggedModelResponse"),
        endpoint!(POST Api "/logged-models/search" => logged_models::search, "SearchLoggedModels", Some("SearchLoggedModels"), "SearchLoggedModelsResponse"),
        endpoint!(GET Api "/logged-models/{model_id}" => logged_models::get, "GetLoggedModel", None, "LoggedModelResponse"),
        endpoint!(PATCH Api "/logged-models/{model_id}" => logged_models::finalize, "FinalizeLoggedModel", Some("FinalizeLoggedModel"), "LoggedModelResponse"),
        endpoint!(DELETE Api "/logged-models/{model_id}" => logged_models::delete, "DeleteLoggedModel", None, "Empty"),
        endpoint!(PATCH Api "/logged-models/{model_id}/tags" => logged_models::set_tags, "SetLoggedModelTags", Some("SetLoggedModelTags"), "Empty"),
        endpoint!(DELETE Api "/logged-models/{model_id}/tags/{tag_key}" => logged_models::delete_tag, "DeleteLoggedModelTag", None, "Empty"),
        endpoint!(POST Api "/logged-models/{model_id}/params" => logged_models::log_params, "LogLoggedModelParams", Some("LogLoggedModelParams"), "Empty"),
        endpoint!(GET Api "/artifacts/list" => artifacts::list_run_artifacts, "ListArtifacts", Some("ListArtifacts"), "ListArtifactsResponse"),
        endpoint!(stream GET Root "/get-artifact" => artifacts::get_artifact, "GetArtifact", None, "bytes"),
        endpoint!(stream GET Root "/model-versions/get-artifact" => artifacts::get_model_version_artifact, "GetModelVersionArtifact", None, "bytes"),
        endpoint!(GET Api "/logged-models/{model_id}/artifacts/directories" => artifacts::list_logged_model_artifacts, "ListLoggedModelArtifacts", Some("ListLoggedModelArtifacts"), "ListArtifactsResponse"),
        endpoint!(stream GET AjaxOnly "/logged-models/{model_id}/artifacts/files" => artifacts::get_logged_model_artifact, "GetLoggedModelArtifact", None, "bytes"),
        endpoint!(GET Artifacts "/artifacts" => artifacts::list, "ListProxiedArtifacts", Some("ListProxiedArtifacts"), "ListProxiedArtifactsResponse"),
        endpoint!(stream GET Artifacts "/artifacts/{*path}" => artifacts::download, "DownloadArtifact", None, "bytes"),
        endpoint!(stream PUT Artifacts "/artifacts/{*path}" => artifacts::upload, "UploadArtifact", Some("bytes"), "Empty"),
        endpoint!(DELETE Artifacts "/artifacts/{*path}" => artifacts::delete, "DeleteArtifact", None, "Empty"),
        endpoint!(POST Artifacts "/mpu/create/{*path}" => artifacts::mpu_create, "CreateMultipartUpload", Some("CreateMultipartUpload"), "CreateMultipartUploadResponse"),
        endpoint!(POST Artifacts "/mpu/complete/{*path}" => artifacts::mpu_complete, "CompleteMultipartUpload", Some("CompleteMultipartUpload"), "Empty"),
        endpoint!(POST Artifacts "/mpu/abort/{*path}" => artifacts::mpu_abort, "AbortMultipartUpload", Some("AbortMultipartUpload"), "Empty"),
        endpoint!(stream PUT Artifacts "/mpu/upload-part/{*path}" => artifacts::upload_part, "UploadMultipartPart", Some("bytes"), "Empty"),
        endpoint!(GET Artifacts "/presigned/{*path}" => artifacts::presigned, "GetPresignedDownloadUrl", None, "PresignedDownloadUrl"),
    ]
}

impl Endpoint {
    /// The paths as the OpenAPI document writes them: a trailing `{*path}` (any number of
    /// segments) becomes the template parameter `{path}`.
    pub fn doc_paths(&self) -> Vec<String> {
        self.paths().into_iter().map(|p| p.replace("{*path}", "{path}")).collect()
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
