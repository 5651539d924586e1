//! MLflow's wire types, shared by the Pitwall server and its clients.
//!
//! Field names, nesting and optionality follow MLflow's protos (`service.proto`). Responses
//! serialise as MLflow's server does: snake_case, unset fields omitted, int64 as JSON numbers,
//! NaN and infinities as strings. Requests are read the way MLflow's proto-JSON parser reads
//! them: both snake_case and camelCase names, int64 as number or string, doubles as number or
//! `"NaN"`/`"Infinity"`/`"-Infinity"`.

pub mod artifacts;
pub mod error;
pub mod experiments;
pub mod json;
pub mod logged_models;
pub mod metrics;
pub mod registry;
pub mod runs;
pub mod server;

pub use artifacts::*;
pub use error::{ErrorCode, ErrorResponse};
pub use experiments::*;
pub use logged_models::*;
pub use metrics::*;
pub use registry::*;
pub use runs::*;
pub use server::*;

/// A `{key, value}` pair, the shape of every tag and param on the wire.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct KeyValue {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub value: String,
}

impl KeyValue {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        KeyValue { key: key.into(), value: value.into() }
    }
}

/// Which lifecycle stages a search returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", try_from = "serde_json::Value")]
pub enum ViewType {
    #[default]
    ActiveOnly,
    DeletedOnly,
    All,
}

impl ViewType {
    /// MLflow accepts the enum's name or its proto number (1, 2, 3).
    pub fn parse(v: &serde_json::Value) -> Option<ViewType> {
        match v {
            serde_json::Value::String(s) => match s.as_str() {
                "ACTIVE_ONLY" | "1" => Some(ViewType::ActiveOnly),
                "DELETED_ONLY" | "2" => Some(ViewType::DeletedOnly),
                "ALL" | "3" => Some(ViewType::All),
                _ => None,
            },
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(1) => Some(ViewType::ActiveOnly),
                Some(2) => Some(ViewType::DeletedOnly),
                Some(3) => Some(ViewType::All),
                _ => None,
            },
            _ => None,
        }
    }

    /// The lifecycle stages this view admits.
    pub fn stages(self) -> &'static [&'static str] {
        match self {
            ViewType::ActiveOnly => &["active"],
            ViewType::DeletedOnly => &["deleted"],
            ViewType::All => &["active", "deleted"],
        }
    }
}

/// An empty JSON object, the response of most write RPCs.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Empty {}

impl TryFrom<serde_json::Value> for ViewType {
    type Error = String;
    fn try_from(v: serde_json::Value) -> Result<Self, String> {
        ViewType::parse(&v).ok_or_else(|| format!("invalid view type: {v}"))
    }
}
