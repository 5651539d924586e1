//! The HTTP API in process: wire shapes, MLflow's errors and headers.

use crate::db::TestStore;
use crate::server;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use pitwall_registry::artifacts::ArtifactRepo;
use pitwall_test_support::{Backend, BackendFixture, backend_tests};
use serde_json::{Value, json};
use tower::ServiceExt;

// Each test below runs once per backend, as `sqlite::name` and `postgres::name`.
backend_tests! {
    experiment_and_run_round_trip,
    errors_are_mlflows,
    every_route_is_mounted_under_both_prefixes_with_mlflows_headers,
    logged_model_wire_shapes_and_errors,
    log_metric_with_a_model_id_reaches_the_model,
}

/// The registry's app in process, over a fresh store and a local artifact folder.
pub(crate) struct Api {
    router: axum::Router,
    _store: TestStore,
    _artifacts: tempfile::TempDir,
}

impl BackendFixture for Api {
    async fn open(backend: Backend) -> Self {
        let t = TestStore::open(backend).await;
        let artifacts = tempfile::tempdir().expect("tempdir");
        let repo = ArtifactRepo::local(artifacts.path()).expect("artifact folder");
        Api { router: server::app(&t, repo, true), _store: t, _artifacts: artifacts }
    }
}

impl Api {
    pub(crate) async fn send(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
        let resp = self.router.clone().oneshot(req).await.expect("router answers");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, headers, body)
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let req = Request::post(format!("/api/2.0/mlflow/{path}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let (s, _, b) = self.send(req).await;
        (s, b)
    }

    pub(crate) async fn get(&self, path_and_query: &str) -> (StatusCode, Value) {
        let req = Request::get(format!("/api/2.0/mlflow/{path_and_query}")).body(Body::empty()).unwrap();
        let (s, _, b) = self.send(req).await;
        (s, b)
    }

    pub(crate) async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(format!("/api/2.0/mlflow/{path}"));
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        let (s, _, b) = self.send(req.body(body).unwrap()).await;
        (s, b)
    }

    /// A call that must succeed; answers its body.
    pub(crate) async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (s, b) = self.call(method, path, body).await;
        assert_eq!(s, StatusCode::OK, "{path}: {b}");
        b
    }
}

async fn experiment_and_run_round_trip(api: Api) {
    let (s, b) = api.post("experiments/create", json!({"name": "demo"})).await;
    assert_eq!((s, &b), (StatusCode::OK, &json!({"experiment_id": "1"})));
    let (s, b) = api.get("experiments/get-by-name?experiment_name=demo").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["experiment"]["artifact_location"], "mlflow-artifacts:/1");
    assert_eq!(b["experiment"]["workspace"], "default");
    let (s, b) = api.post("runs/create", json!({"experiment_id": "1", "user_id": "u", "start_time": "123"})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let run = &b["run"];
    let run_id = run["info"]["run_id"].as_str().unwrap().to_owned();
    assert_eq!(run["info"]["start_time"], 123, "int64 given as a string is read");
    assert!(regex::Regex::new(r"^[a-z]+-[a-z]+-\d+$").unwrap().is_match(run["info"]["run_name"].as_str().unwrap()));
    assert_eq!(run["inputs"], json!({}));
    assert!(run.get("outputs").is_none(), "runs/create answers without outputs, as MLflow");
    let (s, _) = api
        .post(
            "runs/log-batch",
            json!({"run_id": run_id, "metrics": [{"key": "m", "value": "NaN", "timestamp": 1}, {"key": "i", "value": "-Infinity", "timestamp": 1, "step": "2"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, b) = api.get(&format!("runs/get?run_uuid={run_id}")).await;
    let metrics = b["run"]["data"]["metrics"].as_array().unwrap();
    assert!(metrics.contains(&json!({"key": "m", "value": "NaN", "timestamp": 1, "step": 0})), "{metrics:?}");
    assert!(metrics.contains(&json!({"key": "i", "value": -f64::MAX, "timestamp": 1, "step": 2})), "{metrics:?}");
    let (s, b) =
        api.post("runs/update", json!({"runId": run_id.clone(), "run_id": run_id.clone(), "status": "FINISHED"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(b["message"], "Request specifies both 'run_id' and 'runId'; provide only one of them.");
    let (s, b) = api.post("runs/update", json!({"run_id": run_id, "status": "FINISHED", "end_time": 9})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["run_info"]["status"], "FINISHED");
}

async fn errors_are_mlflows(api: Api) {
    let (s, b) = api.get("experiments/get?experiment_id=999").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(b["error_code"], "RESOURCE_DOES_NOT_EXIST");
    assert_eq!(b["message"], "No Experiment with id=999 exists");
    let (s, b) = api.post("experiments/create", json!({"name": 5})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        b["message"],
        "Invalid value 5 for parameter 'name' supplied:  Hint: Value was of type 'int'. See the API docs for more information about request parameters."
    );
    let (s, b) = api.post("runs/search", json!({"experiment_ids": ["0"], "filter": "a = 1 OR b = 2"})).await;
    assert_eq!((s, b["error_code"].as_str()), (StatusCode::BAD_REQUEST, Some("INVALID_PARAMETER_VALUE")));
    let req = Request::post("/api/2.0/mlflow/experiments/create").body(Body::from("{\"name\":\"x\"}")).unwrap();
    let (s, _, b) = api.send(req).await;
    assert_eq!(
        (s, b["message"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Bad Request. Content-Type header is missing."))
    );
    let req = Request::post("/api/2.0/mlflow/runs/search")
        .header("content-type", "application/json")
        .body(Body::from("[1, 2]"))
        .unwrap();
    let (s, _, _) = api.send(req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a JSON body that is not an object is a client error");
    let (s, b) = api.get("no/such/thing").await;
    assert_eq!((s, b["error_code"].as_str()), (StatusCode::NOT_FOUND, Some("ENDPOINT_NOT_FOUND")));
    let req = Request::get("/api/2.0/mlflow/runs/create").body(Body::empty()).unwrap();
    assert_eq!(api.send(req).await.0, StatusCode::METHOD_NOT_ALLOWED);
}

async fn every_route_is_mounted_under_both_prefixes_with_mlflows_headers(api: Api) {
    for path in
        ["/api/2.0/mlflow/experiments/search?max_results=5", "/ajax-api/2.0/mlflow/experiments/search?max_results=5"]
    {
        let (s, headers, b) = api.send(Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        assert_eq!(b["experiments"][0]["name"], "Default");
        assert_eq!(headers["x-frame-options"], "SAMEORIGIN");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(headers.contains_key("x-request-id"));
    }
    let (s, _, b) = api.send(Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!((s, b), (StatusCode::OK, Value::String("OK".into())));
    let (s, _, b) = api.send(Request::get("/api/3.0/mlflow/server-info").body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["store_type"], "SqlStore");
    assert_eq!(b["artifact_serving_enabled"], true);
    let doc: Value = serde_json::from_str(&pitwall_registry::openapi_json()).unwrap();
    for e in pitwall_registry::api::routes::endpoints() {
        for p in e.doc_paths() {
            assert!(doc["paths"].get(&p).is_some(), "{p} missing from the OpenAPI document");
        }
    }
}

#[test]
fn committed_openapi_document_is_current() {
    let committed = include_str!("../../../openapi/openapi.json");
    assert_eq!(
        committed.trim_end(),
        pitwall_registry::openapi_json().trim_end(),
        "openapi/openapi.json is stale: run `pitwall openapi > openapi/openapi.json`"
    );
}

async fn logged_model_wire_shapes_and_errors(api: Api) {
    let hint = " See the API docs for more information about request parameters.";
    let (_, b) = api.post("experiments/create", json!({"name": "lm"})).await;
    let exp = b["experiment_id"].as_str().unwrap().to_owned();
    let (s, b) = api
        .post("logged-models", json!({"experiment_id": exp, "name": "clf", "tags": [{"key": "t", "value": "v"}]}))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let info = &b["model"]["info"];
    let id = info["model_id"].as_str().unwrap().to_owned();
    assert_eq!(info["status"], "LOGGED_MODEL_PENDING");
    assert_eq!(info["model_type"], "", "unset strings are answered empty, as MLflow");
    assert_eq!(info["source_run_id"], "");
    assert_eq!(info["artifact_uri"], format!("mlflow-artifacts:/{exp}/models/{id}/artifacts"));
    assert_eq!(info["tags"], json!([{"key": "t", "value": "v"}]));
    assert_eq!(b["model"]["data"], json!({}));
    assert!(info.get("status_message").is_none());

    let (s, b) = api
        .call(
            Method::PATCH,
            &format!("logged-models/{id}"),
            Some(json!({"model_id": id, "status": "LOGGED_MODEL_READY"})),
        )
        .await;
    assert_eq!((s, &b["model"]["info"]["status"]), (StatusCode::OK, &json!("LOGGED_MODEL_READY")));
    let (s, b) = api.call(Method::PATCH, &format!("logged-models/{id}"), Some(json!({"model_id": id}))).await;
    assert_eq!(
        (s, b["message"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, format!("Missing value for required parameter 'status'.{hint}").as_str())
    );
    let (s, b) =
        api.call(Method::PATCH, &format!("logged-models/{id}"), Some(json!({"model_id": id, "status": "READY"}))).await;
    assert_eq!((s, &b["error_code"]), (StatusCode::BAD_REQUEST, &json!("INVALID_PARAMETER_VALUE")));
    let (s, _) = api
        .call(Method::PATCH, &format!("logged-models/{id}/tags"), Some(json!({"tags": [{"key": "k", "value": "v"}]})))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = api
        .call(
            Method::POST,
            &format!("logged-models/{id}/params"),
            Some(json!({"model_id": id, "params": [{"key": "p", "value": "1"}]})),
        )
        .await;
    assert_eq!((s, &b), (StatusCode::OK, &json!({})));
    let (s, b) = api
        .call(
            Method::POST,
            &format!("logged-models/{id}/params"),
            Some(json!({"model_id": id, "params": [{"key": "p", "value": "2"}]})),
        )
        .await;
    assert_eq!((s, &b["error_code"]), (StatusCode::BAD_REQUEST, &json!("BAD_REQUEST")));
    let (s, b) = api.call(Method::DELETE, &format!("logged-models/{id}/tags/nope"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    assert_eq!(b["message"], format!("No tag with key 'nope' found for model with ID '{id}'."));
    let (s, _) = api.call(Method::DELETE, &format!("logged-models/{id}/tags/k"), None).await;
    assert_eq!(s, StatusCode::OK);

    let (s, b) = api.post("logged-models/search", json!({"experiment_ids": [exp], "filter": "name = 'clf'"})).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["models"][0]["data"]["params"], json!([{"key": "p", "value": "1"}]));
    assert!(b.get("next_page_token").is_none());
    let (s, b) = api.post("logged-models/search", json!({"experiment_ids": [exp], "filter": "metric.x > 1"})).await;
    assert_eq!((s, &b["error_code"]), (StatusCode::BAD_REQUEST, &json!("INVALID_PARAMETER_VALUE")));
    assert_eq!(
        b["message"],
        "Invalid entity type: 'metric'. Expected one of ['attributes', 'metrics', 'params', 'tags']."
    );
    let (s, b) = api.post("logged-models/search", json!({})).await;
    assert_eq!(
        (s, b["message"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, format!("Missing value for required parameter 'experiment_ids'.{hint}").as_str())
    );
    let (s, b) = api.post("logged-models/search", json!({"experiment_ids": [exp], "order_by": ["name"]})).await;
    assert_eq!((s, &b["message"]), (StatusCode::BAD_REQUEST, &json!("Invalid order by field name: ")));
    let (s, b) = api.post("logged-models/search", json!({"experiment_ids": [exp], "page_token": "abc"})).await;
    assert_eq!((s, &b["error_code"]), (StatusCode::BAD_REQUEST, &json!("INVALID_PARAMETER_VALUE")));

    let (s, _) = api.call(Method::DELETE, &format!("logged-models/{id}"), None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = api.get(&format!("logged-models/{id}")).await;
    assert_eq!((s, &b["error_code"]), (StatusCode::NOT_FOUND, &json!("RESOURCE_DOES_NOT_EXIST")));
    assert_eq!(b["message"], format!("Logged model with ID '{id}' not found."));
    let (s, _) = api.get(&format!("logged-models/{id}?allow_deleted=true")).await;
    assert_eq!(s, StatusCode::OK);
    let req = Request::get(format!("/ajax-api/2.0/mlflow/logged-models/{id}?allow_deleted=True"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(api.send(req).await.0, StatusCode::OK, "served under the ajax prefix too");
    let (s, _) = api.call(Method::POST, &format!("logged-models/{id}"), Some(json!({}))).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
}

async fn log_metric_with_a_model_id_reaches_the_model(api: Api) {
    let (_, b) = api.post("logged-models", json!({"experiment_id": "0", "name": "m"})).await;
    let id = b["model"]["info"]["model_id"].as_str().unwrap().to_owned();
    let (_, b) = api.post("runs/create", json!({"experiment_id": "0"})).await;
    let run_id = b["run"]["info"]["run_id"].as_str().unwrap().to_owned();
    let (s, b) = api
        .post(
            "runs/log-metric",
            json!({"run_id": run_id, "key": "acc", "value": 0.5, "timestamp": 7, "model_id": id, "dataset_name": "ds", "dataset_digest": "dg"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (_, b) = api.get(&format!("logged-models/{id}")).await;
    assert_eq!(
        b["model"]["data"]["metrics"],
        json!([{"key": "acc", "value": 0.5, "timestamp": 7, "step": 0, "dataset_name": "ds", "dataset_digest": "dg", "model_id": id, "run_id": run_id}])
    );
    let (s, b) = api
        .post(
            "runs/log-metric",
            json!({"run_id": run_id, "key": "acc", "value": 0.5, "timestamp": 8, "model_id": "m-unknown"}),
        )
        .await;
    assert_eq!((s, &b["error_code"]), (StatusCode::BAD_REQUEST, &json!("BAD_REQUEST")));
}
