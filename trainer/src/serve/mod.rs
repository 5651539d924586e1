//! `pitwall serve-model`: MLflow's scoring protocol over a churn model's ONNX file, answering
//! as `mlflow models serve` does: `POST /invocations` (JSON in the four forms of
//! [`input::INPUT_KEYS`], or CSV), `GET /ping`, `/health` and `/version`.

pub mod error;
pub mod input;
pub mod source;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::error::{Result, TrainError};
use crate::features::FeatureSpec;
use crate::inputs::Inputs;
use crate::mlmodel::{MLFLOW_VERSION, ModelDir};
use crate::runtime::OnnxModel;
pub use error::ScoringError;
pub use source::{ModelUri, VersionRef};

/// The largest request body read; a batch of a million rows of the churn features fits.
const MAX_BODY: usize = 512 * 1024 * 1024;
const CONTENT_TYPES: [&str; 2] = ["application/json", "text/csv"];

/// A model ready to answer requests: its signature's columns and a few ONNX Runtime sessions
/// (a session runs one batch at a time).
pub struct ServedModel {
    features: FeatureSpec,
    columns: Vec<String>,
    output: String,
    sessions: Vec<std::sync::Mutex<OnnxModel>>,
    next: AtomicUsize,
}

impl std::fmt::Debug for ServedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServedModel")
            .field("columns", &self.columns.len())
            .field("sessions", &self.sessions.len())
            .finish()
    }
}

impl ServedModel {
    /// Loads the model directory `dir` with `sessions` ONNX Runtime sessions (at least one).
    pub fn open(dir: &Path, sessions: usize) -> Result<Self> {
        let model_dir = ModelDir::open(dir)?;
        let columns = model_dir.features.input_names();
        let sessions = (0..sessions.max(1))
            .map(|_| OnnxModel::load(&model_dir.onnx_path).map(std::sync::Mutex::new))
            .collect::<Result<Vec<_>>>()?;
        let output = sessions[0].lock().map_err(|_| poisoned())?.output_name().to_owned();
        Ok(Self { features: model_dir.features, columns, output, sessions, next: AtomicUsize::new(0) })
    }

    /// The input columns, in the signature's order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The encoding of the model's input.
    pub fn features(&self) -> &FeatureSpec {
        &self.features
    }

    /// One probability per row. Blocks: call it off the async runtime.
    pub fn predict(&self, rows: Rows) -> Result<Vec<f64>> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.sessions.len();
        let mut session = self.sessions[i].lock().map_err(|_| poisoned())?;
        match rows {
            Rows::Typed(inputs) => session.run_inputs(inputs),
            Rows::Matrix(x) => session.run(&x, self.columns.len()),
        }
    }
}

/// Rows to predict, as the model takes them.
#[derive(Debug)]
pub enum Rows {
    /// One column per input, typed (models that encode their input themselves).
    Typed(Inputs),
    /// Row-major encoded columns, [`ServedModel::columns`] wide (older models).
    Matrix(Vec<f64>),
}

fn poisoned() -> TrainError {
    TrainError::Settings("an ONNX Runtime session panicked earlier".into())
}

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    /// Longest time one request may take; MLflow's `MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT`.
    pub timeout: Duration,
}

#[derive(Clone)]
struct AppState {
    model: Arc<ServedModel>,
    settings: ServeSettings,
}

/// The scoring server's routes; layers (auth, tracing) can be added by the caller.
pub fn router(model: Arc<ServedModel>, settings: ServeSettings) -> Router {
    Router::new()
        .route("/ping", get(ping))
        .route("/health", get(ping))
        .route("/version", get(version))
        .route("/invocations", post(invocations))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(AppState { model, settings })
}

async fn ping() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], "\n").into_response()
}

async fn version() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], MLFLOW_VERSION).into_response()
}

async fn invocations(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let timeout = state.settings.timeout;
    match tokio::time::timeout(timeout, score(state, &headers, body)).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => e.into_response(),
        Err(_) => (
            StatusCode::GATEWAY_TIMEOUT,
            [(header::CONTENT_TYPE, "application/json")],
            "Request processing time exceeded limit",
        )
            .into_response(),
    }
}

/// What the body holds, by its content type.
enum BodyKind {
    Json,
    Csv,
}

/// The content type as MLflow's scoring server reads it: a media type, and no parameter but
/// a UTF-8 charset.
fn body_kind(headers: &HeaderMap) -> std::result::Result<BodyKind, ScoringError> {
    let raw = headers.get(header::CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let raw = raw.unwrap_or_default();
    let mut parts = raw.split(';').map(str::trim);
    let mime = parts.next().unwrap_or_default().to_ascii_lowercase();
    for param in parts.filter(|p| !p.is_empty()) {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        if !key.trim().eq_ignore_ascii_case("charset") {
            return Err(ScoringError::ContentType(format!("Unrecognized content type parameters: {}.", key.trim())));
        }
        if !value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8") {
            return Err(ScoringError::ContentType("The scoring server only supports UTF-8".into()));
        }
    }
    match mime.as_str() {
        "application/json" => Ok(BodyKind::Json),
        "text/csv" => Ok(BodyKind::Csv),
        _ => Err(ScoringError::ContentType(format!(
            "This predictor only supports the following content types: Types: {CONTENT_TYPES:?}. Got {raw:?}."
        ))),
    }
}

async fn score(state: AppState, headers: &HeaderMap, body: Bytes) -> std::result::Result<Response, ScoringError> {
    let columns = match body_kind(headers)? {
        BodyKind::Json => input::parse_json(&body)?,
        BodyKind::Csv => input::parse_csv(&body)?,
    };
    let rows = columns.rows();
    let x = match state.model.features().typed() {
        true => Rows::Typed(columns.to_inputs(state.model.features())?),
        false => Rows::Matrix(columns.to_matrix(state.model.columns())?),
    };
    drop(body);
    let proba = if rows == 0 {
        Vec::new()
    } else {
        let model = state.model.clone();
        tokio::task::spawn_blocking(move || model.predict(x))
            .await
            .map_err(|e| ScoringError::Model(e.to_string()))?
            .map_err(|e| ScoringError::Model(e.to_string()))?
    };
    Ok(predictions(&state.model.output, &proba))
}

/// `{"predictions": [{"<output>": p}, …]}`: the records of the one-column frame MLflow's onnx
/// flavor returns.
fn predictions(output: &str, proba: &[f64]) -> Response {
    let key = serde_json::to_string(output).expect("a string serialises");
    let mut body = String::with_capacity(16 + proba.len() * (key.len() + 26));
    body.push_str("{\"predictions\": [");
    for (i, p) in proba.iter().enumerate() {
        if i > 0 {
            body.push_str(", ");
        }
        body.push('{');
        body.push_str(&key);
        body.push_str(": ");
        match serde_json::Number::from_f64(*p) {
            Some(n) => body.push_str(&n.to_string()),
            None => body.push_str("NaN"),
        }
        body.push('}');
    }
    body.push_str("]}");
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
