//! The `pitwall` command. Each arm is a call into one of the workspace's libraries.

mod args;
mod lake_cli;
mod serve_cli;
mod server_cli;
mod train_cli;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "pitwall", version, about = "Pitwall: an MLflow-compatible tracking server and an F1 lakehouse")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the MLflow-compatible tracking server.
    Server(server_cli::ServerArgs),
    /// Print the OpenAPI document of the server's REST API.
    Openapi,
    /// Load a source into the lake's raw layer.
    #[command(subcommand)]
    Ingest(lake_cli::IngestCommand),
    /// Build, inspect and maintain the lake's tables.
    #[command(subcommand)]
    Lake(lake_cli::LakeCommand),
    /// Train a model on the lake's ABT.
    #[command(subcommand)]
    Train(train_cli::TrainCommand),
    /// Score the feature store with a trained model.
    #[command(subcommand)]
    Score(train_cli::ScoreCommand),
    /// Serve a model over MLflow's scoring protocol (POST /invocations), as `mlflow models serve`.
    ServeModel(serve_cli::ServeModelArgs),
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // A missing .env is the normal case; a malformed one is worth failing on.
    match dotenvy::dotenv() {
        Ok(_) => {}
        Err(e) if e.not_found() => {}
        Err(e) => return Err(e.into()),
    }
    init_tracing();
    match Cli::parse().command {
        Command::Server(args) => server_cli::run(args).await,
        Command::Openapi => {
            println!("{}", pitwall_registry::openapi_json());
            Ok(())
        }
        Command::Ingest(cmd) => lake_cli::ingest(cmd).await,
        Command::Lake(cmd) => lake_cli::lake(cmd).await,
        Command::Train(cmd) => train_cli::train(cmd).await,
        Command::Score(cmd) => train_cli::score(cmd).await,
        Command::ServeModel(args) => serve_cli::run(args).await,
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    // The Delta kernel logs an ERROR for every table opened before its first commit, which a
    // lake's first build does for each table; the error also comes back as a value, handled.
    let filter = EnvFilter::try_from_env("PITWALL_LOG").unwrap_or_else(|_| {
        EnvFilter::new("info,buoyant_kernel=warn,buoyant_kernel::snapshot::builder=off,deltalake_core=warn")
    });
    // Colour codes only for a terminal: a log redirected to a file or a pipe stays plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).init();
}
