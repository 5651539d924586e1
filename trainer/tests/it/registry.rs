//! Publishing to a real Pitwall tracking server (SQLite metadata, a local artifact folder):
//! the logged model's files, registration against the champion, and downloading a version.

use std::sync::Arc;

use pitwall_openapi::{KeyValue, LoggedModelStatus};
use pitwall_registry::api::{AppState, Settings};
use pitwall_registry::artifacts::ArtifactRepo;
use pitwall_registry::store::SqlStore;
use pitwall_trainer::client::TrackingClient;
use pitwall_trainer::publish::{CHAMPION, Promotion};

use crate::common::trained_run;

/// A server on a free port; it lives as long as the returned directory.
async fn server() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let db = format!("sqlite:///{}/mlflow.db", dir.path().display());
    let store = SqlStore::connect(&db, "mlflow-artifacts:").await.expect("the store opens");
    let state = AppState {
        store: Arc::new(store),
        settings: Arc::new(Settings { serve_artifacts: true, multipart_uploads: false }),
        artifacts: Arc::new(ArtifactRepo::local(dir.path().join("artifacts")).expect("an artifact folder")),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, pitwall_registry::app(state)).await });
    (url, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_promote_and_download() {
    let run = trained_run();
    let (url, _dir) = server().await;
    let client = TrackingClient::new(&url).expect("a client");
    let info = client.log_training("f1_churn", "test", &run.options, &run.trained, Some(3)).await.expect("logged");
    let model = client.create_logged_model(&info.experiment_id, "model", &info.run_id, vec![]).await.expect("model");
    client.log_model_output(&info.run_id, &model.info.model_id).await.expect("output");
    client.upload_dir(&model.info.artifact_uri, &run.files.model_dir).await.expect("uploaded");
    let model = client.finalize_logged_model(&model.info.model_id, LoggedModelStatus::Ready).await.expect("final");
    assert_eq!(model.info.status, LoggedModelStatus::Ready);

    // The first version becomes champion; a worse one is not registered; a better one is.
    let first = client.promote("f1_churn", &model, 0.80).await.expect("promoted");
    assert_eq!(first, Promotion::Registered { version: "1".into(), champion: true });
    let worse = client.promote("f1_churn", &model, 0.79).await.expect("compared");
    assert_eq!(worse, Promotion::Kept { champion_version: "1".into(), champion_auc: 0.80 });
    // Two trainers finishing at once: the alias ends on the better one whatever the order.
    let (a, b) = tokio::join!(client.promote("f1_churn", &model, 0.85), client.promote("f1_churn", &model, 0.90));
    let (a, b) = (a.expect("a"), b.expect("b"));
    let champion = client.version_by_alias("f1_churn", CHAMPION).await.expect("alias").expect("a champion");
    let best = match (&a, &b) {
        (Promotion::Registered { .. }, Promotion::Registered { version, .. }) => version.clone(),
        (Promotion::Kept { .. }, Promotion::Registered { version, .. }) => version.clone(),
        other => panic!("the 0.90 version must be registered: {other:?}"),
    };
    assert_eq!(champion.version, best);
    assert!(champion.tags.contains(&KeyValue::new("auc_oot", "0.9")), "{:?}", champion.tags);

    // The champion's files come back byte for byte.
    let down = tempfile::tempdir().expect("a temp dir");
    let version = client.download_model_version("f1_churn", "@champion", down.path()).await.expect("downloaded");
    assert_eq!(version.to_string(), best);
    for name in ["MLmodel", "model.onnx", "code/pitwall_churn_pyfunc.py"] {
        let sent = std::fs::read(run.files.model_dir.join(name)).expect("written by the trainer");
        let got = std::fs::read(down.path().join(name)).expect("downloaded");
        assert_eq!(sent, got, "{name}");
    }
}
