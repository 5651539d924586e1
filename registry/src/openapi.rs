//! The OpenAPI document, built from the route table and the wire types.

use crate::api::routes::endpoints;
use pitwall_openapi as w;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApiBuilder, PathsBuilder, Ref, ResponseBuilder,
};

fn components() -> utoipa::openapi::Components {
    ComponentsBuilder::new()
        .schema_from::<w::KeyValue>()
        .schema_from::<w::ViewType>()
        .schema_from::<w::Empty>()
        .schema_from::<w::ErrorResponse>()
        .schema_from::<w::ServerInfo>()
        .schema_from::<w::Experiment>()
        .schema_from::<w::CreateExperiment>()
        .schema_from::<w::CreateExperimentResponse>()
        .schema_from::<w::GetExperiment>()
        .schema_from::<w::GetExperimentByName>()
        .schema_from::<w::ExperimentResponse>()
        .schema_from::<w::UpdateExperiment>()
        .schema_from::<w::ExperimentIdRequest>()
        .schema_from::<w::SetExperimentTag>()
        .schema_from::<w::DeleteExperimentTag>()
        .schema_from::<w::SearchExperiments>()
        .schema_from::<w::SearchExperimentsResponse>()
        .schema_from::<w::RunStatus>()
        .schema_from::<w::RunInfo>()
        .schema_from::<w::RunData>()
        .schema_from::<w::Dataset>()
        .schema_from::<w::DatasetInput>()
        .schema_from::<w::ModelInput>()
        .schema_from::<w::ModelOutput>()
        .schema_from::<w::RunInputs>()
        .schema_from::<w::RunOutputs>()
        .schema_from::<w::Run>()
        .schema_from::<w::CreateRun>()
        .schema_from::<w::RunResponse>()
        .schema_from::<w::RunIdRequest>()
        .schema_from::<w::UpdateRun>()
        .schema_from::<w::UpdateRunResponse>()
        .schema_from::<w::LogMetric>()
        .schema_from::<w::RunKeyValue>()
        .schema_from::<w::DeleteTag>()
        .schema_from::<w::LogBatch>()
        .schema_from::<w::LogInputs>()
        .schema_from::<w::LogOutputs>()
        .schema_from::<w::SearchRuns>()
        .schema_from::<w::SearchRunsResponse>()
        .schema_from::<w::Metric>()
        .schema_from::<w::GetMetricHistory>()
        .schema_from::<w::GetMetricHistoryResponse>()
        .schema_from::<w::MetricWithRunId>()
        .schema_from::<w::MetricsWithRunIdResponse>()
        .schema_from::<w::GetMetricHistoryBulkIntervalResponse>()
        .schema_from::<w::ModelVersionStatus>()
        .schema_from::<w::ModelVersion>()
        .schema_from::<w::RegisteredModelAlias>()
        .schema_from::<w::RegisteredModel>()
        .schema_from::<w::CreateRegisteredModel>()
        .schema_from::<w::RegisteredModelResponse>()
        .schema_from::<w::RegisteredModelName>()
        .schema_from::<w::RenameRegisteredModel>()
        .schema_from::<w::UpdateRegisteredModel>()
        .schema_from::<w::SearchRegisteredModels>()
        .schema_from::<w::SearchRegisteredModelsResponse>()
        .schema_from::<w::GetLatestVersions>()
        .schema_from::<w::ModelVersionsResponse>()
        .schema_from::<w::SetRegisteredModelTag>()
        .schema_from::<w::DeleteRegisteredModelTag>()
        .schema_from::<w::SetRegisteredModelAlias>()
        .schema_from::<w::RegisteredModelAliasRequest>()
        .schema_from::<w::CreateModelVersion>()
        .schema_from::<w::ModelVersionResponse>()
        .schema_from::<w::ModelVersionRef>()
        .schema_from::<w::UpdateModelVersion>()
        .schema_from::<w::TransitionModelVersionStage>()
        .schema_from::<w::SearchModelVersions>()
        .schema_from::<w::SearchModelVersionsResponse>()
        .schema_from::<w::GetModelVersionDownloadUriResponse>()
        .schema_from::<w::SetModelVersionTag>()
        .schema_from::<w::DeleteModelVersionTag>()
        .schema_from::<w::LoggedModelStatus>()
        .schema_from::<w::LoggedModelInfo>()
        .schema_from::<w::LoggedModelData>()
        .schema_from::<w::LoggedModel>()
        .schema_from::<w::LoggedModelResponse>()
        .schema_from::<w::CreateLoggedModel>()
        .schema_from::<w::FinalizeLoggedModel>()
        .schema_from::<w::SetLoggedModelTags>()
        .schema_from::<w::LogLoggedModelParams>()
        .schema_from::<w::SearchLoggedModelsDataset>()
        .schema_from::<w::SearchLoggedModelsOrderBy>()
        .schema_from::<w::SearchLoggedModels>()
        .schema_from::<w::SearchLoggedModelsResponse>()
        .schema_from::<w::FileInfo>()
        .schema_from::<w::ListArtifacts>()
        .schema_from::<w::ListArtifactsResponse>()
        .schema_from::<w::ListLoggedModelArtifacts>()
        .schema_from::<w::ListProxiedArtifacts>()
        .schema_from::<w::ListProxiedArtifactsResponse>()
        .schema_from::<w::CreateMultipartUpload>()
        .schema_from::<w::MultipartUploadCredential>()
        .schema_from::<w::CreateMultipartUploadResponse>()
        .schema_from::<w::MultipartUploadPart>()
        .schema_from::<w::CompleteMultipartUpload>()
        .schema_from::<w::AbortMultipartUpload>()
        .schema_from::<w::PresignedDownloadUrl>()
        .build()
}

/// The request or response "type" of endpoints that move raw bytes.
const BYTES: &str = "bytes";

fn binary() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Binary)))
        .build()
}

fn schema_ref(name: &str) -> Ref {
    Ref::from_schema_name(name)
}

/// The OpenAPI document of the server's REST API, deterministic for a given build.
pub fn openapi_json() -> String {
    let mut paths = PathsBuilder::new();
    for e in endpoints() {
        let method = match e.method.as_str() {
            "GET" => HttpMethod::Get,
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            "PATCH" => HttpMethod::Patch,
            _ => HttpMethod::Delete,
        };
        let mut op = OperationBuilder::new().operation_id(Some(e.rpc)).summary(Some(e.rpc));
        // Path segments like `{model_id}` or `{*path}` are required parameters of the operation.
        for name in e.path.split('/').filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'))) {
            let artifact_path = name.starts_with('*');
            let mut param = ParameterBuilder::new()
                .name(name.trim_start_matches('*'))
                .parameter_in(ParameterIn::Path)
                .required(utoipa::openapi::Required::True);
            if artifact_path {
                param = param.description(Some("An artifact path relative to the artifact root ('/'-separated)"));
            }
            op = op.parameter(param.build());
        }
        if let Some(req) = e.request {
            if req == BYTES {
                op = op.request_body(Some(
                    RequestBodyBuilder::new()
                        .content("application/octet-stream", ContentBuilder::new().schema(Some(binary())).build())
                        .build(),
                ));
            } else if method == HttpMethod::Get {
                op = op.parameter(
                    ParameterBuilder::new()
                        .name("fields")
                        .parameter_in(ParameterIn::Query)
                        .description(Some(format!("The fields of {req}, one query parameter each")))
                        .build(),
                );
            } else {
                op = op.request_body(Some(
                    RequestBodyBuilder::new()
                        .content("application/json", ContentBuilder::new().schema(Some(schema_ref(req))).build())
                        .build(),
                ));
            }
        }
        let ok = if e.response == "text" {
            ResponseBuilder::new().description("plain text").build()
        } else if e.response == BYTES {
            ResponseBuilder::new()
                .description("the file's bytes")
                .content("application/octet-stream", ContentBuilder::new().schema(Some(binary())).build())
                .build()
        } else {
            ResponseBuilder::new()
                .description("success")
                .content("application/json", ContentBuilder::new().schema(Some(schema_ref(e.response))).build())
                .build()
        };
        let err = ResponseBuilder::new()
            .description("MLflow error")
            .content("application/json", ContentBuilder::new().schema(Some(schema_ref("ErrorResponse"))).build())
            .build();
        let op = op.response("200", ok).response("400", err.clone()).response("404", err).build();
        for path in e.doc_paths() {
            paths = paths.path(path, utoipa::openapi::PathItem::new(method.clone(), op.clone()));
        }
    }
    let doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Pitwall tracking API (MLflow-compatible)")
                .version(env!("CARGO_PKG_VERSION"))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components()))
        .build();
    doc.to_pretty_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
