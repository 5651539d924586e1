//! Reading a request the way MLflow's server does.
//!
//! GET requests carry their fields as query parameters, other methods as a JSON body. Both
//! become one JSON object with snake_case keys, which is checked against the endpoint's
//! schema (required fields, and the types of fields MLflow's proto parser would reject) and
//! then decoded into the endpoint's wire type.

use crate::error::ApiError;
use crate::validation;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{Method, header};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// One step into a JSON document.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The path (`a.b[2].c`) of the first key or string of `map` that holds a NUL character. The
/// path is spelled out only when one is found: a log-batch body has thousands of values.
fn find_nul_in(map: &Map<String, Value>) -> Option<String> {
    fn in_map<'a>(map: &'a Map<String, Value>, path: &mut Vec<Step<'a>>) -> bool {
        map.iter().any(|(k, x)| {
            path.push(Step::Key(k));
            let found = k.contains('\0') || in_value(x, path);
            if !found {
                path.pop();
            }
            found
        })
    }
    fn in_value<'a>(v: &'a Value, path: &mut Vec<Step<'a>>) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().enumerate().any(|(i, x)| {
                path.push(Step::Index(i));
                let found = in_value(x, path);
                if !found {
                    path.pop();
                }
                found
            }),
            Value::Object(map) => in_map(map, path),
            _ => false,
        }
    }
    let mut path = Vec::new();
    if !in_map(map, &mut path) {
        return None;
    }
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    Some(out)
}

/// A request's fields as one JSON object.
#[derive(Debug, Clone, Default)]
pub struct Fields(pub Map<String, Value>);

/// The proto-JSON type of a field, for MLflow's type hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Int,
    Float,
    Bool,
    Array,
    /// A repeated string field whose items MLflow also checks (`_assert_item_type_string`).
    StrArray,
    Object,
    /// An enum: a name or a number.
    Enum,
}

/// One field of an endpoint's schema.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

pub const fn req(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: true }
}

pub const fn opt(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: false }
}

pub use crate::validation::DOCS_HINT;

fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether MLflow's proto-JSON parser accepts `v` for a field of this kind.
fn proto_accepts(kind: Kind, v: &Value) -> bool {
    match (kind, v) {
        (_, Value::Null) => true,
        (Kind::Str, Value::String(_)) => true,
        (Kind::Int, v) => pitwall_openapi::json::int64_from_value(v).is_some(),
        (Kind::Float, v) => pitwall_openapi::json::double_from_value(v).is_some(),
        (Kind::Bool, Value::Bool(_)) => true,
        (Kind::Array, Value::Array(_)) => true,
        (Kind::StrArray, Value::Array(items)) => items.iter().all(Value::is_string),
        (Kind::Object, Value::Object(_)) => true,
        (Kind::Enum, Value::String(_) | Value::Number(_)) => true,
        _ => false,
    }
}

/// MLflow's own (looser, Python-side) check of a field's type once proto parsing failed.
fn python_accepts(kind: Kind, v: &Value) -> bool {
    match kind {
        Kind::Str | Kind::Enum => v.is_string(),
        Kind::Int => match v {
            Value::Number(n) => n.is_i64() || n.is_u64(),
            Value::String(s) => s.trim().parse::<i64>().is_ok(),
            Value::Bool(_) => true,
            _ => false,
        },
        Kind::Float => match v {
            Value::Number(_) | Value::Bool(_) => true,
            Value::String(s) => {
                let t = s.trim().to_ascii_lowercase();
                t.parse::<f64>().is_ok() || matches!(t.as_str(), "nan" | "inf" | "-inf" | "infinity" | "-infinity")
            }
            _ => false,
        },
        Kind::Bool => v.is_boolean(),
        Kind::Array => v.is_array(),
        Kind::StrArray => v.as_array().is_some_and(|items| items.iter().all(Value::is_string)),
        Kind::Object => v.is_object(),
    }
}

/// MLflow's `invalid_value`: the value as compact JSON, then the reason.
pub fn invalid_value_with(param: &str, value: &Value, reason: &str) -> ApiError {
    validation::invalid_value_with(param, value, reason).into()
}

/// A value of the wrong type, with MLflow's hint naming the type it was.
pub fn invalid_value(param: &str, value: &Value) -> ApiError {
    validation::wrong_type(param, value).into()
}

pub fn missing_value(param: &str) -> ApiError {
    ApiError::invalid(format!("Missing value for required parameter '{param}'.{DOCS_HINT}"))
}

impl Fields {
    /// Reads the query string of a GET: a repeated key becomes a list.
    pub fn from_query(query: &str) -> Fields {
        let mut map = Map::new();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            let key = k.into_owned();
            let v = Value::String(v.into_owned());
            match map.get_mut(&key) {
                Some(Value::Array(items)) => items.push(v),
                Some(existing) => {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, v]);
                }
                None => {
                    map.insert(key, v);
                }
            }
        }
        Fields(map)
    }

    /// Reads a JSON body, once (a log-batch body holds thousands of values), and tells whether
    /// it was not JSON at all. Like MLflow, an unreadable body counts as empty and a body that
    /// is a JSON string holding JSON (older clients double-encode) is decoded twice.
    pub fn from_body(body: &[u8]) -> Result<(Fields, bool), ApiError> {
        let blank = body.iter().all(u8::is_ascii_whitespace);
        let parsed = serde_json::from_slice::<Value>(body);
        let malformed = !blank && parsed.is_err();
        let mut value = parsed.unwrap_or(Value::Null);
        if let Value::String(s) = &value {
            value = serde_json::from_str(s).unwrap_or(Value::Null);
        }
        let map = match value {
            Value::Object(map) => map,
            // MLflow fails on these with a 500; a client error is what they are.
            Value::Array(_) | Value::Bool(_) | Value::Number(_) | Value::String(_) => {
                return Err(ApiError::invalid("Bad Request. The request body must be a JSON object."));
            }
            Value::Null if !blank && !malformed => {
                return Err(ApiError::invalid("Bad Request. The request body must be a JSON object."));
            }
            Value::Null => Map::new(),
        };
        for k in map.keys() {
            let snake = snake_case(k);
            if snake != *k && map.contains_key(&snake) {
                return Err(ApiError::invalid(format!(
                    "Request specifies both '{snake}' and '{k}'; provide only one of them."
                )));
            }
        }
        if let Some(path) = find_nul_in(&map) {
            return Err(ApiError::invalid(format!(
                "Invalid value for parameter '{path}': text may not contain NUL characters."
            )));
        }
        Ok((Fields(map), malformed))
    }

    /// Fields whose values are repeated: a single query value becomes a one-item list.
    fn lists_for_query(&mut self, schema: &[Field]) {
        for f in schema.iter().filter(|f| matches!(f.kind, Kind::Array | Kind::StrArray)) {
            if let Some(v) = self.0.get_mut(f.name)
                && !v.is_array()
            {
                *v = Value::Array(vec![v.take()]);
            }
        }
    }

    /// Query values are strings; the ones that are numbers or booleans in the proto are converted
    /// so that the typed decode sees what a JSON body would carry.
    fn types_for_query(&mut self, schema: &[Field]) -> Result<(), ApiError> {
        for f in schema {
            let Some(Value::String(s)) = self.0.get(f.name) else { continue };
            if f.kind == Kind::Bool {
                let b = match s.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(ApiError::invalid(format!(
                            "Invalid boolean value: {s}, must be 'true' or 'false'."
                        )));
                    }
                };
                self.0.insert(f.name.to_owned(), Value::Bool(b));
            }
        }
        Ok(())
    }

    /// MLflow's schema check: type checks only when proto parsing failed, required always.
    pub fn validate(&mut self, schema: &[Field]) -> Result<(), ApiError> {
        // `run_uuid` is the older name of `run_id`; either may be given, both are accepted.
        if let Some(uuid) = self.0.remove("run_uuid") {
            let missing = matches!(self.0.get("run_id"), None | Some(Value::Null))
                || self.0.get("run_id").and_then(Value::as_str) == Some("");
            if missing {
                self.0.insert("run_id".to_owned(), uuid);
            }
        }
        let parse_ok = schema.iter().all(|f| self.0.get(f.name).is_none_or(|v| proto_accepts(f.kind, v)));
        for f in schema {
            let value = self.0.get(f.name);
            if value.is_none() && !f.required {
                continue;
            }
            if !parse_ok
                && let Some(v) = value.filter(|v| !v.is_null())
                && !python_accepts(f.kind, v)
            {
                return Err(invalid_value(f.name, v));
            }
            let absent = matches!(value, None | Some(Value::Null)) || value.and_then(Value::as_str) == Some("");
            if f.required && absent {
                return Err(missing_value(f.name));
            }
        }
        Ok(())
    }

    /// Decodes into the endpoint's wire type after validation; camelCase names, which MLflow's
    /// proto parser also accepts, are read as their snake_case fields.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let decoded = if self.0.keys().all(|k| snake_case(k) == *k) {
            // Read in place: a log-batch's fields hold thousands of values.
            T::deserialize(&self.0)
        } else {
            let normalized: Map<String, Value> = self.0.iter().map(|(k, v)| (snake_case(k), v.clone())).collect();
            T::deserialize(&normalized)
        };
        decoded.map_err(|e| ApiError::invalid(format!("Failed to parse request: {e}.{DOCS_HINT}")))
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }
}

/// A request read, validated against `schema` and decoded into `T`.
pub struct Parsed<T> {
    pub msg: T,
    pub fields: Fields,
}

/// Reads the request's fields, validates them against `schema` and decodes `T`.
pub fn parse<T: DeserializeOwned>(raw: RawRequest, schema: &[Field]) -> Result<Parsed<T>, ApiError> {
    let mut fields = raw.fields;
    if raw.from_query {
        fields.lists_for_query(schema);
        fields.types_for_query(schema)?;
    }
    // MLflow reads an unparsable body as `{}`, so a missing field is what it reports first.
    fields.validate(schema)?;
    if raw.malformed {
        return Err(ApiError::invalid("Bad Request. The request body is not valid JSON."));
    }
    let msg = fields.decode()?;
    Ok(Parsed { msg, fields })
}

/// The fields of a request, where they came from, and whether its body was unreadable.
pub struct RawRequest {
    pub fields: Fields,
    pub from_query: bool,
    pub malformed: bool,
}

impl RawRequest {
    /// The fields of a JSON body.
    pub fn from_json(body: &[u8]) -> Result<RawRequest, ApiError> {
        let (fields, malformed) = Fields::from_body(body)?;
        Ok(RawRequest { fields, from_query: false, malformed })
    }
}

impl<S: Send + Sync> FromRequest<S> for RawRequest {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if req.method() == Method::GET {
            let query = req.uri().query().unwrap_or("").to_owned();
            return Ok(RawRequest { fields: Fields::from_query(&query), from_query: true, malformed: false });
        }
        let JsonBody(body) = JsonBody::from_request(req, state).await?;
        RawRequest::from_json(&body)
    }
}

/// A request body whose content type says JSON, not yet parsed: an endpoint that takes
/// thousands of values decodes it straight into its wire type.
pub struct JsonBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("Could not read the request body: {e}")))?;
        match content_type.as_deref() {
            None => Err(ApiError::invalid("Bad Request. Content-Type header is missing.")),
            Some("application/json") => Ok(JsonBody(body)),
            Some(_) => Err(ApiError::invalid("Bad Request. Content-Type must be one of ['application/json'].")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Fields {
        Fields::from_body(v.to_string().as_bytes()).unwrap().0
    }

    #[test]
    fn camel_case_is_decoded_as_snake_case() {
        let f = fields(json!({"experimentId": "1", "runName": "x"}));
        let v: Value = f.decode().unwrap();
        assert_eq!(v["experiment_id"], "1");
        assert_eq!(v["run_name"], "x");
    }

    #[test]
    fn required_fields_must_use_their_proto_name() {
        let mut f = fields(json!({"runId": "abc"}));
        assert!(f.validate(&[req("run_id", Kind::Str)]).is_err());
    }

    #[test]
    fn nul_characters_are_refused() {
        assert!(Fields::from_body(br#"{"name":"a\u0000b"}"#).is_err());
    }

    #[test]
    fn both_spellings_of_a_field_are_refused() {
        assert!(Fields::from_body(br#"{"run_id":"a","runId":"b"}"#).is_err());
    }

    #[test]
    fn missing_required_field_has_mlflows_message() {
        let mut f = fields(json!({}));
        let err = f.validate(&[req("experiment_id", Kind::Str)]).unwrap_err();
        assert_eq!(
            err.message,
            "Missing value for required parameter 'experiment_id'. See the API docs for more information about request parameters."
        );
    }

    #[test]
    fn wrong_type_has_mlflows_hint() {
        let mut f = fields(json!({"experiment_id": 12}));
        let err = f.validate(&[req("experiment_id", Kind::Str)]).unwrap_err();
        assert!(
            err.message.starts_with(
                "Invalid value 12 for parameter 'experiment_id' supplied:  Hint: Value was of type 'int'."
            )
        );
    }

    #[test]
    fn run_uuid_stands_in_for_run_id() {
        let mut f = fields(json!({"run_uuid": "abc"}));
        f.validate(&[req("run_id", Kind::Str)]).unwrap();
        assert_eq!(f.str("run_id"), Some("abc"));
    }

    #[test]
    fn malformed_json_reads_as_empty() {
        let (fields, malformed) = Fields::from_body(b"{not json").unwrap();
        assert!(fields.0.is_empty());
        assert!(malformed);
    }

    #[test]
    fn repeated_query_keys_become_lists() {
        let f = Fields::from_query("run_id=a&run_id=b&metric_key=m");
        assert_eq!(f.get("run_id"), Some(&json!(["a", "b"])));
        assert_eq!(f.str("metric_key"), Some("m"));
    }
}
