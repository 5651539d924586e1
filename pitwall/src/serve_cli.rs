//! `pitwall serve-model`: `mlflow models serve`'s flags over Pitwall's ONNX scoring server.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use pitwall_trainer::client::TrackingClient;
use pitwall_trainer::serve::{ModelUri, ServeSettings, ServedModel, router};

#[derive(Debug, Args)]
pub struct ServeModelArgs {
    /// The model: models:/NAME@ALIAS, models:/NAME/VERSION, models:/NAME/latest, or a local
    /// model directory.
    #[arg(value_name = "MODEL_URI", required_unless_present = "model_uri", conflicts_with = "model_uri")]
    model: Option<String>,
    /// The model, as `mlflow models serve -m` takes it.
    #[arg(long, short = 'm')]
    model_uri: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on.
    #[arg(long, short = 'p', default_value_t = 5000)]
    port: u16,
    /// Requests scored at once (one ONNX Runtime session each).
    #[arg(long, short = 'w', env = "MLFLOW_MODELS_WORKERS", default_value_t = 2)]
    workers: usize,
    /// Seconds one request may take before it is answered 504.
    #[arg(long, short = 't', env = "MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT", default_value_t = 60)]
    timeout: u64,
    /// Tracking server holding the registry (for models:/ URIs).
    #[arg(long, env = "MLFLOW_TRACKING_URI")]
    tracking_uri: Option<String>,
}

pub async fn run(args: ServeModelArgs) -> anyhow::Result<()> {
    let uri_text = args.model.or(args.model_uri).expect("clap requires one of them");
    let uri = ModelUri::parse(&uri_text)?;
    let client = args.tracking_uri.as_deref().map(TrackingClient::new).transpose()?;
    let download = tempfile_dir()?;
    let (dir, version) =
        uri.fetch(client.as_ref(), download.path()).await.with_context(|| format!("fetching {uri_text}"))?;
    let workers = args.workers.max(1);
    let model = tokio::task::spawn_blocking(move || ServedModel::open(&dir, workers))
        .await?
        .with_context(|| format!("loading {uri_text}"))?;
    let settings = ServeSettings { timeout: Duration::from_secs(args.timeout.max(1)) };
    let app = router(Arc::new(model), settings);
    let addr = format!("{}:{}", args.host, args.port);
    let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("binding {addr}"))?;
    match version {
        Some(v) => tracing::info!(model = %uri_text, version = v, "serving on http://{addr}"),
        None => tracing::info!(model = %uri_text, "serving on http://{addr}"),
    }
    axum::serve(listener, app).with_graceful_shutdown(pitwall_registry::shutdown_signal()).await?;
    Ok(())
}

/// Where a registered version's files are put while it is served; removed on exit.
fn tempfile_dir() -> anyhow::Result<tempfile::TempDir> {
    Ok(tempfile::Builder::new().prefix("pitwall-serve-").tempdir()?)
}
