//! MLflow's error body and its codes.

use std::fmt;

use http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, schema::SchemaType};
use utoipa::{PartialSchema, ToSchema};

/// MLflow's error codes (`databricks.proto`) that Pitwall answers with; a code another server
/// sends that is not among them is kept as [`ErrorCode::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    InternalError,
    TemporarilyUnavailable,
    BadRequest,
    InvalidParameterValue,
    EndpointNotFound,
    MalformedRequest,
    InvalidState,
    PermissionDenied,
    Unauthenticated,
    NotImplemented,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
    ResourceConflict,
    RequestLimitExceeded,
    /// A code from a server other than Pitwall, as it was sent.
    Other(String),
}

impl ErrorCode {
    /// Every code Pitwall answers with.
    pub const KNOWN: [ErrorCode; 14] = [
        ErrorCode::InternalError,
        ErrorCode::TemporarilyUnavailable,
        ErrorCode::BadRequest,
        ErrorCode::InvalidParameterValue,
        ErrorCode::EndpointNotFound,
        ErrorCode::MalformedRequest,
        ErrorCode::InvalidState,
        ErrorCode::PermissionDenied,
        ErrorCode::Unauthenticated,
        ErrorCode::NotImplemented,
        ErrorCode::ResourceAlreadyExists,
        ErrorCode::ResourceDoesNotExist,
        ErrorCode::ResourceConflict,
        ErrorCode::RequestLimitExceeded,
    ];

    /// The code's name on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::TemporarilyUnavailable => "TEMPORARILY_UNAVAILABLE",
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::InvalidParameterValue => "INVALID_PARAMETER_VALUE",
            ErrorCode::EndpointNotFound => "ENDPOINT_NOT_FOUND",
            ErrorCode::MalformedRequest => "MALFORMED_REQUEST",
            ErrorCode::InvalidState => "INVALID_STATE",
            ErrorCode::PermissionDenied => "PERMISSION_DENIED",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::NotImplemented => "NOT_IMPLEMENTED",
            ErrorCode::ResourceAlreadyExists => "RESOURCE_ALREADY_EXISTS",
            ErrorCode::ResourceDoesNotExist => "RESOURCE_DOES_NOT_EXIST",
            ErrorCode::ResourceConflict => "RESOURCE_CONFLICT",
            ErrorCode::RequestLimitExceeded => "REQUEST_LIMIT_EXCEEDED",
            ErrorCode::Other(code) => code,
        }
    }

    /// The code named `name`; a name outside [`ErrorCode::KNOWN`] becomes [`ErrorCode::Other`].
    pub fn parse(name: &str) -> ErrorCode {
        ErrorCode::KNOWN.into_iter().find(|c| c.as_str() == name).unwrap_or_else(|| ErrorCode::Other(name.to_owned()))
    }

    /// MLflow's code → status table (`mlflow/exceptions.py`); a code outside it is a 500, as
    /// MLflow answers one.
    pub fn status(&self) -> StatusCode {
        match self {
            ErrorCode::InternalError | ErrorCode::Other(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::BadRequest
            | ErrorCode::InvalidParameterValue
            | ErrorCode::MalformedRequest
            | ErrorCode::InvalidState
            | ErrorCode::ResourceAlreadyExists => StatusCode::BAD_REQUEST,
            ErrorCode::EndpointNotFound | ErrorCode::ResourceDoesNotExist => StatusCode::NOT_FOUND,
            ErrorCode::PermissionDenied => StatusCode::FORBIDDEN,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            ErrorCode::ResourceConflict => StatusCode::CONFLICT,
            ErrorCode::RequestLimitExceeded => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// The `error_class` MLflow 3 adds beside the code.
    pub fn error_class(&self) -> &'static str {
        match self {
            ErrorCode::ResourceDoesNotExist | ErrorCode::EndpointNotFound => "RESOURCE_NOT_FOUND",
            ErrorCode::ResourceAlreadyExists => "RESOURCE_ALREADY_EXISTS",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            _ => "INVALID_PARAMETER_VALUE",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(ErrorCode::parse(&name))
    }
}

impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        let names: Vec<&str> = ErrorCode::KNOWN.iter().map(|c| c.as_str()).collect();
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .description(Some("MLflow's error code"))
            .enum_values(Some(names))
            .into()
    }
}

impl ToSchema for ErrorCode {}

/// MLflow's error body, as Pitwall's servers send it.
// The fields are declared in the order the tracking server has always written them (sorted by
// name), so a body keeps its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorResponse {
    /// MLflow 3's class of the error; the tracking server sends it, the scoring server does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub error_class: Option<String>,
    #[schema(inline)]
    pub error_code: ErrorCode,
    pub message: String,
}

impl ErrorResponse {
    /// The tracking server's body: the code, the message and the code's class.
    pub fn tracking(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorResponse { error_class: Some(code.error_class().to_owned()), error_code: code, message: message.into() }
    }

    /// The scoring server's body: the code and the message.
    pub fn scoring(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorResponse { error_class: None, error_code: code, message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_code_round_trips_and_a_foreign_one_is_kept() {
        for code in ErrorCode::KNOWN {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
        }
        let foreign: ErrorCode = serde_json::from_str("\"RESOURCE_EXHAUSTED\"").unwrap();
        assert_eq!(foreign, ErrorCode::Other("RESOURCE_EXHAUSTED".into()));
        assert_eq!(serde_json::to_string(&foreign).unwrap(), "\"RESOURCE_EXHAUSTED\"");
        assert_eq!(foreign.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn bodies_keep_their_bytes() {
        let tracking = ErrorResponse::tracking(ErrorCode::ResourceDoesNotExist, "no run");
        assert_eq!(
            serde_json::to_string(&tracking).unwrap(),
            r#"{"error_class":"RESOURCE_NOT_FOUND","error_code":"RESOURCE_DOES_NOT_EXIST","message":"no run"}"#
        );
        let scoring = ErrorResponse::scoring(ErrorCode::BadRequest, "bad rows");
        assert_eq!(serde_json::to_string(&scoring).unwrap(), r#"{"error_code":"BAD_REQUEST","message":"bad rows"}"#);
        let mlflow: ErrorResponse =
            serde_json::from_str(r#"{"error_code":"BAD_REQUEST","message":"m","stack_trace":"…"}"#).unwrap();
        assert_eq!(mlflow, scoring_with("m"));
    }

    fn scoring_with(message: &str) -> ErrorResponse {
        ErrorResponse::scoring(ErrorCode::BadRequest, message)
    }
}
