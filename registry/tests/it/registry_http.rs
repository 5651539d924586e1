//! The model registry over HTTP in process: paths and methods, wire shapes, MLflow's errors.

use crate::http::Api;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use pitwall_test_support::backend_tests;
use serde_json::{Value, json};

// Each test below runs once per backend, as `sqlite::name` and `postgres::name`.
backend_tests! {
    registry_round_trip_in_mlflow_shapes,
    registry_errors_are_mlflows,
    runs_sources_resolve_to_the_runs_artifacts,
}

fn assert_error(got: (StatusCode, Value), status: StatusCode, code: &str, message: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["error_code"], code, "{}", got.1);
    assert_eq!(got.1["message"], message, "{}", got.1);
}

async fn registry_round_trip_in_mlflow_shapes(api: Api) {
    let b = api.ok(Method::POST, "registered-models/create", Some(json!({"name": "iris"}))).await;
    let rm = &b["registered_model"];
    assert_eq!(rm["name"], "iris");
    assert!(rm.get("description").is_none() && rm.get("tags").is_none() && rm.get("latest_versions").is_none());
    assert_eq!(rm["creation_timestamp"], rm["last_updated_timestamp"]);

    let b = api
        .ok(
            Method::POST,
            "model-versions/create",
            Some(json!({"name": "iris", "source": "s3://bucket/models/iris", "run_id": "abc"})),
        )
        .await;
    let mv = b["model_version"].as_object().unwrap();
    let mut keys: Vec<&str> = mv.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "creation_timestamp",
            "current_stage",
            "description",
            "last_updated_timestamp",
            "name",
            "run_id",
            "run_link",
            "source",
            "status",
            "version"
        ],
        "the fields MLflow answers with"
    );
    assert_eq!((&mv["version"], &mv["status"], &mv["current_stage"]), (&json!("1"), &json!("READY"), &json!("None")));
    assert_eq!((&mv["description"], &mv["run_link"]), (&json!(""), &json!("")));

    api.ok(Method::POST, "registered-models/alias", Some(json!({"name": "iris", "alias": "champion", "version": "1"})))
        .await;
    let b = api.ok(Method::GET, "registered-models/alias?name=iris&alias=champion", None).await;
    assert_eq!(b["model_version"]["aliases"], json!(["champion"]));
    let b = api.ok(Method::GET, "registered-models/get?name=iris", None).await;
    assert_eq!(b["registered_model"]["aliases"], json!([{"alias": "champion", "version": "1"}]));
    assert_eq!(b["registered_model"]["latest_versions"][0]["version"], "1");
    let b = api.ok(Method::POST, "registered-models/get-latest-versions", Some(json!({"name": "iris"}))).await;
    assert_eq!(b["model_versions"][0]["aliases"], json!(["champion"]));
    let b =
        api.ok(Method::GET, "registered-models/get-latest-versions?name=iris&stages=None&stages=Staging", None).await;
    assert_eq!(b["model_versions"].as_array().unwrap().len(), 1);
    let b = api.ok(Method::GET, "model-versions/get-download-uri?name=iris&version=1", None).await;
    assert_eq!(b, json!({"artifact_uri": "s3://bucket/models/iris"}));

    let b = api
        .ok(
            Method::POST,
            "model-versions/transition-stage",
            Some(json!({"name": "iris", "version": "1", "stage": "production", "archive_existing_versions": true})),
        )
        .await;
    assert_eq!(b["model_version"]["current_stage"], "Production");
    let b = api
        .ok(Method::PATCH, "model-versions/update", Some(json!({"name": "iris", "version": "1", "description": "d"})))
        .await;
    assert_eq!(b["model_version"]["description"], "d");
    let b =
        api.ok(Method::PATCH, "registered-models/update", Some(json!({"name": "iris", "description": "about"}))).await;
    assert_eq!(b["registered_model"]["description"], "about");
    api.ok(Method::POST, "registered-models/set-tag", Some(json!({"name": "iris", "key": "k", "value": "v"}))).await;
    api.ok(
        Method::POST,
        "model-versions/set-tag",
        Some(json!({"name": "iris", "version": "1", "key": "k", "value": "v"})),
    )
    .await;
    let b = api.ok(Method::GET, "model-versions/search?filter=tags.k%3D%27v%27&max_results=10", None).await;
    assert_eq!(b["model_versions"][0]["tags"], json!([{"key": "k", "value": "v"}]));
    let b = api
        .ok(
            Method::GET,
            "registered-models/search?filter=name%3D%27iris%27+AND+tag.%60mlflow.prompt.is_prompt%60+%21%3D+%27true%27&max_results=100",
            None,
        )
        .await;
    assert_eq!(b["registered_models"][0]["name"], "iris");
    assert!(b.get("next_page_token").is_none());
    api.ok(Method::DELETE, "model-versions/delete-tag", Some(json!({"name": "iris", "version": "1", "key": "k"})))
        .await;
    api.ok(Method::DELETE, "registered-models/delete-tag", Some(json!({"name": "iris", "key": "k"}))).await;
    api.ok(Method::DELETE, "registered-models/alias", Some(json!({"name": "iris", "alias": "champion"}))).await;
    let b = api.ok(Method::POST, "registered-models/rename", Some(json!({"name": "iris", "new_name": "iris2"}))).await;
    assert_eq!(b["registered_model"]["name"], "iris2");
    api.ok(Method::DELETE, "model-versions/delete", Some(json!({"name": "iris2", "version": "1"}))).await;
    let b = api.ok(Method::POST, "model-versions/create", Some(json!({"name": "iris2", "source": "s3://b/x"}))).await;
    assert_eq!(b["model_version"]["version"], "2", "a deleted number is not given out again");
    assert_eq!(b["model_version"]["run_id"], "", "an unset run id is answered as MLflow stores it");
    api.ok(Method::DELETE, "registered-models/delete", Some(json!({"name": "iris2"}))).await;
    let (s, _) = api.call(Method::GET, "registered-models/get?name=iris2", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The web UI's prefix serves the same API.
    let req = Request::get("/ajax-api/2.0/mlflow/registered-models/search").body(Body::empty()).unwrap();
    assert_eq!(api.send(req).await.0, StatusCode::OK);
}

async fn registry_errors_are_mlflows(api: Api) {
    api.ok(Method::POST, "registered-models/create", Some(json!({"name": "m"}))).await;
    assert_error(
        api.post("registered-models/create", json!({"name": "m"})).await,
        StatusCode::BAD_REQUEST,
        "RESOURCE_ALREADY_EXISTS",
        "Registered Model (name=m) already exists.",
    );
    assert_error(
        api.post("registered-models/create", json!({})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "Missing value for required parameter 'name'. See the API docs for more information about request parameters.",
    );
    assert_error(
        api.post("registered-models/create", json!({"name": "a/b"})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "Invalid model name 'a/b'. Names cannot contain '/' or ':'.",
    );
    assert_error(
        api.post(
            "registered-models/create",
            json!({"name": "big", "tags": [{"key": "k", "value": "x".repeat(100_001)}]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "'value' exceeds the maximum length of 100000 characters",
    );
    assert_error(
        api.get("registered-models/get?name=nope").await,
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
        "Registered Model with name=nope not found",
    );
    assert_error(
        api.get("model-versions/get?name=m&version=3").await,
        StatusCode::NOT_FOUND,
        "RESOURCE_DOES_NOT_EXIST",
        "Model Version (name=m, version=3) not found",
    );
    assert_error(
        api.get("model-versions/get?name=m&version=abc").await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "Parameter 'version' must be an integer, got 'abc'.",
    );
    api.ok(Method::POST, "model-versions/create", Some(json!({"name": "m", "source": "s3://b/m"}))).await;
    assert_error(
        api.post("model-versions/transition-stage", json!({"name": "m", "version": "1", "stage": "prod"})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "Invalid Model Version stage: prod. Value must be one of None, Staging, Production, Archived.",
    );
    assert_error(
        api.post("registered-models/alias", json!({"name": "m", "alias": "latest", "version": "1"})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "'latest' alias name (case insensitive) is reserved.",
    );
    assert_error(
        api.post("registered-models/alias", json!({"name": "m", "alias": "v2", "version": "1"})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "Version alias name 'v2' is reserved.",
    );
    assert_error(
        api.post("registered-models/alias", json!({"name": "m", "alias": "bad alias", "version": "1"})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "Invalid alias name: 'bad alias'. Names may only contain alphanumerics, underscores (_), and dashes (-).",
    );
    assert_error(
        api.get("registered-models/alias?name=m&alias=ghost").await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "Registered model alias ghost not found.",
    );
    assert_error(
        api.get("registered-models/search?max_results=1001").await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "Invalid value \"1001\" for parameter 'max_results' supplied:  Hint: Value was of type 'str'. See the API \
         docs for more information about request parameters.",
    );
    assert_error(
        api.get("registered-models/search?filter=name%20%3E%20%27a%27").await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "Invalid comparator for attribute: >",
    );
    assert_error(
        api.get("model-versions/search?max_results=0").await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "Invalid value for max_results. It must be a positive integer, but got 0",
    );
    assert_error(
        api.post("model-versions/create", json!({"name": "m", "source": "s3://b/../../etc"})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMETER_VALUE",
        "Invalid model version source: 's3://b/../../etc'. If supplying a source as an http, https, local file path, \
         ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path \
         references present. Please provide an absolute path.",
    );
    let (s, b) = api.post("model-versions/create", json!({"name": "m", "source": "/etc/passwd"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b["message"].as_str().unwrap().contains("To use a local path as a model version source"), "{b}");
    let (s, b) = api.post("model-versions/create", json!({"name": "nope", "source": "s3://b/x"})).await;
    assert_eq!((s, &b["error_code"]), (StatusCode::NOT_FOUND, &json!("RESOURCE_DOES_NOT_EXIST")));
    let (s, b) = api.post("model-versions/create", json!({"name": "m", "source": "models:/m-0123"})).await;
    assert!(s.is_client_error(), "an unknown logged model is a client error: {b}");
    let (s, _) = api.call(Method::POST, "registered-models/update", Some(json!({"name": "m"}))).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED, "update is PATCH");
}

async fn runs_sources_resolve_to_the_runs_artifacts(api: Api) {
    let (_, b) = api.post("runs/create", json!({"experiment_id": "0"})).await;
    let run_id = b["run"]["info"]["run_id"].as_str().unwrap().to_owned();
    let artifact_uri = b["run"]["info"]["artifact_uri"].as_str().unwrap().to_owned();
    api.ok(Method::POST, "registered-models/create", Some(json!({"name": "m"}))).await;
    let b = api
        .ok(
            Method::POST,
            "model-versions/create",
            Some(json!({"name": "m", "source": format!("runs:/{run_id}/model")})),
        )
        .await;
    assert_eq!(b["model_version"]["source"], format!("runs:/{run_id}/model"), "the source is answered as given");
    let b = api.ok(Method::GET, "model-versions/get-download-uri?name=m&version=1", None).await;
    assert_eq!(b["artifact_uri"], format!("{artifact_uri}/model"));
    // models:/<name>/<version> points at that version's artifacts.
    let b = api.ok(Method::POST, "model-versions/create", Some(json!({"name": "m", "source": "models:/m/1"}))).await;
    assert_eq!(b["model_version"]["version"], "2");
    let b = api.ok(Method::GET, "model-versions/get-download-uri?name=m&version=2", None).await;
    assert_eq!(b["artifact_uri"], format!("{artifact_uri}/model"));
}
