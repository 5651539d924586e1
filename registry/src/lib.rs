//! Pitwall's MLflow-compatible tracking server.
//!
//! [`app`] builds the router over a store; [`serve`] runs it. The router takes further layers
//! (auth, metrics) from the caller. Handlers read requests and call [`service`], whose
//! operations the web pages call too; [`store`] is what the services read and write.

#![forbid(unsafe_code)]

pub mod api;
pub mod artifacts;
pub mod config;
pub mod error;
pub mod names;
mod openapi;
pub mod search;
pub mod service;
pub mod store;
pub mod validation;

pub use api::{AppState, Settings};
pub use config::ServerConfig;
pub use openapi::openapi_json;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request};
use axum::routing::any;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Largest JSON request body accepted (MLflow caps a log-batch at about 1 MB; this leaves room
/// for large dataset schemas and profiles).
const MAX_JSON_BODY: usize = 32 * 1024 * 1024;

/// The tracking API over `state`, with MLflow's response headers and the server's safety layers.
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new().fallback(api::fallback::not_found))
}

/// The tracking API and `pages` (routes of another crate, such as the web UI) over `state`,
/// under the same layers. A path the API does not hold goes to `pages`, whose fallback answers
/// what neither holds; unknown paths under `/api/` and `/ajax-api/` still get MLflow's JSON
/// 404, which clients parse.
pub fn app_with(state: AppState, pages: Router<AppState>) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let rest = pages
        .route("/api/{*rest}", any(api::fallback::not_found))
        .route("/ajax-api/{*rest}", any(api::fallback::not_found))
        .with_state(state.clone());
    api::routes::router()
        .fallback_service(rest)
        .method_not_allowed_fallback(api::fallback::method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        .layer(CatchPanicLayer::custom(|_| api::fallback::handler_panicked()))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("SAMEORIGIN"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Opens the store named by `config` and serves the tracking API until SIGTERM or Ctrl-C.
pub async fn serve(config: ServerConfig) -> Result<(), ServeError> {
    let state = open_state(&config).await?;
    serve_app(&config, app(state)).await
}

/// The state a server over `config` runs on: its store (migrated) and artifact repository.
pub async fn open_state(config: &ServerConfig) -> Result<AppState, ServeError> {
    let store = store::SqlStore::connect(&config.backend_store_uri, &config.default_artifact_root()).await?;
    let artifacts = artifacts::ArtifactRepo::open(&config.artifacts_destination, &config.s3)?;
    tracing::info!(destination = %artifacts.destination(), "artifact store");
    let state = AppState {
        store: Arc::new(store),
        settings: Arc::new(Settings {
            serve_artifacts: config.serve_artifacts(),
            multipart_uploads: config.serve_artifacts() && artifacts.supports_multipart(),
        }),
        artifacts: Arc::new(artifacts),
    };
    Ok(state)
}

/// Serves `app` on the address of `config` until SIGTERM or Ctrl-C.
pub async fn serve_app(config: &ServerConfig, app: Router) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind((config.host.as_str(), config.port))
        .await
        .map_err(|e| ServeError::Bind(format!("{}:{}", config.host, config.port), e))?;
    tracing::info!(address = %listener.local_addr().map_err(ServeError::Io)?, backend = %config.redacted_store_uri(), "pitwall server listening");
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await.map_err(ServeError::Io)?;
    tracing::info!("pitwall server stopped");
    Ok(())
}

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open the backend store: {0}")]
    Store(#[from] store::StoreError),
    #[error("cannot open the artifact store: {0}")]
    Artifacts(#[from] artifacts::ArtifactError),
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
    #[error(transparent)]
    Io(std::io::Error),
}

/// Resolves on SIGTERM or Ctrl-C: the signal every Pitwall server drains on.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
