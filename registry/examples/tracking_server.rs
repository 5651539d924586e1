//! The tracking server alone, without the lake: the same `pitwall_registry::serve` the
//! `pitwall server` command runs, in a binary that builds in minutes with optimisations on.
//! Used by `bench/tracking/bench.py`.
//!
//! `tracking_server <port> <backend-store-uri> [<artifacts-destination>]` (S3 settings from the
//! environment, as `pitwall server` reads them).

// The allocator of the `pitwall` binary, so that the benchmark measures what users run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().ok_or("usage: tracking_server <port> <backend-store-uri>")?.parse()?;
    let backend_store_uri = args.next().ok_or("usage: tracking_server <port> <backend-store-uri>")?;
    let artifacts_destination =
        args.next().unwrap_or_else(|| std::env::temp_dir().join("pitwall-bench-artifacts").display().to_string());
    pitwall_registry::serve(pitwall_registry::ServerConfig {
        host: "127.0.0.1".to_owned(),
        port,
        backend_store_uri,
        default_artifact_root: None,
        artifacts_destination,
        s3: pitwall_registry::config::S3Settings::from_env(),
    })
    .await?;
    Ok(())
}
