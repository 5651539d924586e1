//! `pitwall server`: MLflow's flag names and environment variables.

use clap::Args;

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, env = "MLFLOW_HOST", default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on.
    #[arg(long, short = 'p', env = "MLFLOW_PORT", default_value_t = 5000)]
    port: u16,
    /// Metadata store: sqlite://PATH or postgresql://user:pass@host/db.
    #[arg(long, env = "MLFLOW_BACKEND_STORE_URI", default_value = "sqlite://./pitwall-data/mlflow.db")]
    backend_store_uri: String,
    /// Artifact root for new experiments; by default artifacts are proxied (mlflow-artifacts:/).
    #[arg(long, env = "MLFLOW_DEFAULT_ARTIFACT_ROOT")]
    default_artifact_root: Option<String>,
    /// Where proxied artifacts are stored: a folder or s3://bucket/prefix.
    #[arg(long, env = "MLFLOW_ARTIFACTS_DESTINATION", default_value = "./pitwall-data/artifacts")]
    artifacts_destination: String,
}

pub async fn run(args: ServerArgs) -> anyhow::Result<()> {
    let config = pitwall_registry::ServerConfig {
        host: args.host,
        port: args.port,
        backend_store_uri: args.backend_store_uri,
        default_artifact_root: args.default_artifact_root,
        artifacts_destination: args.artifacts_destination,
        s3: pitwall_registry::config::S3Settings::from_env(),
    };
    tracing::debug!(?config, "starting");
    let state = pitwall_registry::open_state(&config).await?;
    let app = pitwall_registry::app_with(state, pitwall_ui::router());
    pitwall_registry::serve_app(&config, app).await?;
    Ok(())
}
