//! MLflow's limits on what may be logged (`mlflow/utils/validation.py`), with its messages.
//!
//! Checked by the services, below the HTTP layer; a refusal is a [`ServiceError::Invalid`].

use crate::service::ServiceError;
use pitwall_openapi::{DatasetInput, KeyValue, Metric};
use serde_json::Value;
use std::sync::LazyLock;

pub const MAX_PARAMS_TAGS_PER_BATCH: usize = 100;
pub const MAX_METRICS_PER_BATCH: usize = 1000;
pub const MAX_ENTITIES_PER_BATCH: usize = 1000;
pub const MAX_BATCH_LOG_REQUEST_SIZE: usize = 1_000_000;
pub const MAX_PARAM_VAL_LENGTH: usize = 6000;
pub const MAX_TAG_VAL_LENGTH: usize = 8000;
pub const MAX_EXPERIMENT_NAME_LENGTH: usize = 500;
pub const MAX_EXPERIMENT_TAG_KEY_LENGTH: usize = 250;
pub const MAX_EXPERIMENT_TAG_VAL_LENGTH: usize = 20000;
pub const MAX_ENTITY_KEY_LENGTH: usize = 250;
pub const MAX_DATASET_NAME_SIZE: usize = 500;
pub const MAX_DATASET_DIGEST_SIZE: usize = 36;
pub const MAX_DATASET_SCHEMA_SIZE: usize = 1_048_575;
pub const MAX_DATASET_SOURCE_SIZE: usize = 65535;
pub const MAX_DATASET_PROFILE_SIZE: usize = 16_777_215;
pub const MAX_INPUT_TAG_KEY_SIZE: usize = 255;
pub const MAX_INPUT_TAG_VALUE_SIZE: usize = 500;

/// The tail of MLflow's messages about request parameters.
pub const DOCS_HINT: &str = " See the API docs for more information about request parameters.";

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(message.into())
}

/// Python's `type(value).__name__`, which MLflow quotes in its hints.
fn python_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// `json.dumps(value, sort_keys=True, separators=(",", ":"))`, as MLflow quotes values.
fn compact_json(v: &Value) -> String {
    // serde_json's maps are ordered by key unless preserve_order is on, as sort_keys does.
    serde_json::to_string(v).unwrap_or_default()
}

/// MLflow's `invalid_value`: the value as compact JSON, then the reason.
pub fn invalid_value_with(param: &str, value: &Value, reason: &str) -> ServiceError {
    invalid(format!("Invalid value {} for parameter '{param}' supplied: {reason}", compact_json(value)))
}

/// A value of the wrong type, with MLflow's hint naming the type it was.
pub fn wrong_type(param: &str, value: &Value) -> ServiceError {
    invalid_value_with(param, value, &format!(" Hint: Value was of type '{}'.{DOCS_HINT}", python_type(value)))
}

const BAD_CHARACTERS: &str = "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).";

static VALID_NAME: LazyLock<regex::Regex> = LazyLock::new(|| regex::Regex::new(r"^[/\w.\- :]*$").expect("valid regex"));
static VALID_RUN_ID: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^[a-zA-Z0-9][a-zA-Z0-9_\-]{0,255}$").expect("valid regex"));

/// Python's `posixpath.normpath`, enough to tell whether a name resolves to another.
fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

fn path_not_unique(name: &str) -> bool {
    let norm = normpath(name);
    norm != name || norm == "." || norm.starts_with("..") || norm.starts_with('/')
}

/// Checks a metric, param or tag name given as request field `param`.
fn validate_name(param: &str, name: &str) -> Result<(), ServiceError> {
    let value = Value::String(name.to_owned());
    if !VALID_NAME.is_match(name) {
        return Err(invalid_value_with(param, &value, BAD_CHARACTERS));
    }
    if path_not_unique(name) {
        let reason = format!(
            "Names may be treated as files in certain cases, and must not resolve to other names when treated as \
             such. This name would resolve to '{}'",
            normpath(name)
        );
        return Err(invalid_value_with(param, &value, &reason));
    }
    Ok(())
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

fn truncate_chars(s: &str, limit: usize) -> String {
    s.chars().take(limit).collect()
}

/// MLflow's length check: an error, or (for values MLflow truncates) the first `limit` characters.
fn length_limit(entity: &str, limit: usize, value: &str, truncate: bool) -> Result<String, ServiceError> {
    let len = char_len(value);
    if len <= limit {
        return Ok(value.to_owned());
    }
    if truncate {
        tracing::warn!(
            "{entity} '{}...' ({len} characters) is truncated to {limit} characters",
            truncate_chars(value, 100)
        );
        return Ok(truncate_chars(value, limit));
    }
    Err(invalid(format!("'{entity}' exceeds the maximum length of {limit} characters")))
}

pub fn validate_run_id(run_id: &str) -> Result<(), ServiceError> {
    if VALID_RUN_ID.is_match(run_id) { Ok(()) } else { Err(invalid(format!("Invalid run ID: '{run_id}'"))) }
}

/// Checks a metric; `prefix` is where it sits in the request (`metrics[3].` in a batch).
pub fn validate_metric(m: &Metric, prefix: &str) -> Result<(), ServiceError> {
    validate_name(&format!("{prefix}name"), &m.key)?;
    if m.timestamp < 0 {
        let reason =
            format!("metric '{}' (value={:?}). Timestamp must be a nonnegative long (64-bit integer) ", m.key, m.value);
        return Err(invalid_value_with(&format!("{prefix}timestamp"), &m.timestamp.into(), &reason));
    }
    length_limit("Metric name", MAX_ENTITY_KEY_LENGTH, &m.key, false)?;
    Ok(())
}

/// A param as it will be stored (its value truncated as MLflow does).
pub fn validate_param(p: &KeyValue, prefix: &str) -> Result<KeyValue, ServiceError> {
    validate_name(&format!("{prefix}key"), &p.key)?;
    Ok(KeyValue {
        key: length_limit("Param key", MAX_ENTITY_KEY_LENGTH, &p.key, false)?,
        value: length_limit("Param value", MAX_PARAM_VAL_LENGTH, &p.value, true)?,
    })
}

/// A run tag as it will be stored (its value truncated as MLflow does).
pub fn validate_tag(t: &KeyValue, prefix: &str) -> Result<KeyValue, ServiceError> {
    validate_name(&format!("{prefix}key"), &t.key)?;
    Ok(KeyValue {
        key: length_limit("Tag key", MAX_ENTITY_KEY_LENGTH, &t.key, false)?,
        value: length_limit("Tag value", MAX_TAG_VAL_LENGTH, &t.value, true)?,
    })
}

pub fn validate_experiment_tag(t: &KeyValue) -> Result<(), ServiceError> {
    validate_name("key", &t.key)?;
    length_limit("key", MAX_EXPERIMENT_TAG_KEY_LENGTH, &t.key, false)?;
    length_limit("value", MAX_EXPERIMENT_TAG_VAL_LENGTH, &t.value, false)?;
    Ok(())
}

pub fn validate_experiment_name(name: &str) -> Result<(), ServiceError> {
    if name.trim().is_empty() {
        return Err(invalid(format!("Invalid experiment name: '{name}'")));
    }
    length_limit("name", MAX_EXPERIMENT_NAME_LENGTH, name, false)?;
    Ok(())
}

pub fn validate_artifact_location(location: &str) -> Result<(), ServiceError> {
    if location.starts_with("runs:") {
        return Err(invalid(format!("Artifact location cannot be a runs:/ URI. Given: '{location}'")));
    }
    if location.contains('#') {
        return Err(invalid("'artifact_location' URL can't include fragments or params."));
    }
    Ok(())
}

fn batch_limit(entity: &str, limit: usize, len: usize) -> Result<(), ServiceError> {
    if len > limit {
        return Err(invalid(format!(
            "A batch logging request can contain at most {limit} {entity}. Got {len} {entity}. Please split up \
             {entity} across multiple requests and try again."
        )));
    }
    Ok(())
}

/// The limits and contents of a `log-batch`, returning params and tags as they will be stored.
pub fn validate_batch(
    metrics: &[Metric],
    params: &[KeyValue],
    tags: &[KeyValue],
) -> Result<(Vec<KeyValue>, Vec<KeyValue>), ServiceError> {
    batch_limit("metrics", MAX_METRICS_PER_BATCH, metrics.len())?;
    batch_limit("params", MAX_PARAMS_TAGS_PER_BATCH, params.len())?;
    batch_limit("tags", MAX_PARAMS_TAGS_PER_BATCH, tags.len())?;
    batch_limit("metrics, params, and tags", MAX_ENTITIES_PER_BATCH, metrics.len() + params.len() + tags.len())?;
    // A batch logs a few keys many times: each key's checks run once, at its first metric, so
    // the first metric that fails is still the one reported.
    let mut checked_keys = std::collections::HashSet::new();
    for (i, m) in metrics.iter().enumerate() {
        if m.timestamp < 0 || !checked_keys.contains(m.key.as_str()) {
            validate_metric(m, &format!("metrics[{i}]."))?;
            checked_keys.insert(m.key.as_str());
        }
    }
    let params = params
        .iter()
        .enumerate()
        .map(|(i, p)| validate_param(p, &format!("params[{i}].")))
        .collect::<Result<Vec<_>, _>>()?;
    let tags =
        tags.iter().enumerate().map(|(i, t)| validate_tag(t, &format!("tags[{i}]."))).collect::<Result<Vec<_>, _>>()?;
    let mut seen = std::collections::HashSet::new();
    let dupes: Vec<String> = params.iter().filter(|p| !seen.insert(&p.key)).map(|p| format!("'{}'", p.key)).collect();
    if !dupes.is_empty() {
        return Err(invalid(format!(
            "Duplicate parameter keys have been submitted: [{}]. Please ensure the request contains only one param \
             value per param key.",
            dupes.join(", ")
        )));
    }
    Ok((params, tags))
}

pub fn validate_dataset_inputs(inputs: &[DatasetInput]) -> Result<(), ServiceError> {
    for input in inputs {
        let d = &input.dataset;
        let checks = [
            ("name", d.name.len(), MAX_DATASET_NAME_SIZE),
            ("digest", d.digest.len(), MAX_DATASET_DIGEST_SIZE),
            ("source", d.source.len(), MAX_DATASET_SOURCE_SIZE),
            ("schema", d.schema.as_deref().map_or(0, str::len), MAX_DATASET_SCHEMA_SIZE),
            ("profile", d.profile.as_deref().map_or(0, str::len), MAX_DATASET_PROFILE_SIZE),
        ];
        for (what, len, max) in checks {
            if len > max {
                return Err(invalid(format!("Dataset {what} exceeds the maximum length of {max}")));
            }
        }
        for tag in &input.tags {
            if tag.key.len() > MAX_INPUT_TAG_KEY_SIZE {
                return Err(invalid(format!("InputTag key exceeds the maximum length of {MAX_INPUT_TAG_KEY_SIZE}")));
            }
            if tag.value.len() > MAX_INPUT_TAG_VALUE_SIZE {
                return Err(invalid(format!(
                    "InputTag value exceeds the maximum length of {MAX_INPUT_TAG_VALUE_SIZE}"
                )));
            }
        }
    }
    Ok(())
}

pub const MAX_MODEL_REGISTRY_TAG_KEY_LENGTH: usize = 250;
pub const MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH: usize = 100_000;
pub const MAX_REGISTERED_MODEL_ALIAS_LENGTH: usize = 255;
/// The tag holding a prompt version's text, whose length MLflow reports in its own words.
const PROMPT_TEXT_TAG: &str = "mlflow.prompt.text";

static VALID_ALIAS: LazyLock<regex::Regex> = LazyLock::new(|| regex::Regex::new(r"^[\w\-]*$").expect("valid regex"));
static VERSION_ALIAS: LazyLock<regex::Regex> = LazyLock::new(|| regex::Regex::new(r"^[vV]\d+$").expect("valid regex"));

/// A registered model name (`_validate_model_name`); `param` names the request field.
pub fn validate_model_name_as(param: &str, name: &str) -> Result<(), ServiceError> {
    if name.trim().is_empty() {
        return Err(invalid(format!("Missing value for required parameter '{param}'.")));
    }
    if name.contains('/') || name.contains(':') {
        return Err(invalid(format!("Invalid model name '{name}'. Names cannot contain '/' or ':'.")));
    }
    if path_not_unique(name) {
        let reason = format!(
            "Names may be treated as files in certain cases, and must not resolve to other names when treated as \
             such. This name would resolve to '{}'",
            normpath(name)
        );
        return Err(invalid_value_with("name", &Value::String(name.to_owned()), &reason));
    }
    Ok(())
}

/// A registered model name given as `name`.
pub fn validate_model_name(name: &str) -> Result<(), ServiceError> {
    validate_model_name_as("name", name)
}

/// A registered model tag (`_validate_registered_model_tag`).
pub fn validate_registered_model_tag(t: &KeyValue) -> Result<(), ServiceError> {
    validate_name("key", &t.key)?;
    length_limit("key", MAX_MODEL_REGISTRY_TAG_KEY_LENGTH, &t.key, false)?;
    length_limit("value", MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH, &t.value, false)?;
    Ok(())
}

/// A model version tag (`_validate_model_version_tag`).
pub fn validate_model_version_tag(t: &KeyValue) -> Result<(), ServiceError> {
    validate_name("key", &t.key)?;
    length_limit("key", MAX_MODEL_REGISTRY_TAG_KEY_LENGTH, &t.key, false)?;
    if t.key == PROMPT_TEXT_TAG && char_len(&t.value) > MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH {
        return Err(invalid(format!(
            "Prompt text exceeds max length of {MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH} characters."
        )));
    }
    length_limit("value", MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH, &t.value, false)?;
    Ok(())
}

/// A tag key given for deletion (`_validate_tag_name`).
pub fn validate_tag_key(key: &str) -> Result<(), ServiceError> {
    validate_name("key", key)
}

/// An alias name (`_validate_model_alias_name`); reserved names are checked apart, because
/// looking a version up by `latest` is allowed.
pub fn validate_alias(alias: &str) -> Result<(), ServiceError> {
    if alias.is_empty() {
        return Err(invalid("Registered model alias name cannot be empty."));
    }
    if !VALID_ALIAS.is_match(alias) {
        return Err(invalid(format!(
            "Invalid alias name: '{alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-)."
        )));
    }
    length_limit("Registered model alias name", MAX_REGISTERED_MODEL_ALIAS_LENGTH, alias, false)?;
    Ok(())
}

/// Aliases that would shadow `models:/name@latest` or a version (`v3`).
pub fn validate_alias_not_reserved(alias: &str) -> Result<(), ServiceError> {
    if alias.eq_ignore_ascii_case("latest") {
        return Err(invalid("'latest' alias name (case insensitive) is reserved."));
    }
    if VERSION_ALIAS.is_match(alias) {
        return Err(invalid(format!("Version alias name '{alias}' is reserved.")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_resolve_elsewhere_are_refused() {
        for bad in ["a/../b", "./x", "/abs", "..", "x/", "a//b"] {
            assert!(validate_name("key", bad).is_err(), "{bad}");
        }
        for good in ["a/b", "loss", "val acc", "m:1", "a.b-c_d"] {
            assert!(validate_name("key", good).is_ok(), "{good}");
        }
        let err = validate_name("name", "a/../b").unwrap_err();
        assert!(
            err.to_string().starts_with("Invalid value \"a/../b\" for parameter 'name' supplied: Names may be treated")
        );
        assert!(err.to_string().ends_with("This name would resolve to 'b'"));
    }

    #[test]
    fn long_values_are_truncated_long_keys_refused() {
        let p = validate_param(&KeyValue::new("k", "x".repeat(7000)), "").unwrap();
        assert_eq!(p.value.len(), MAX_PARAM_VAL_LENGTH);
        let err = validate_param(&KeyValue::new("k".repeat(251), "v"), "").unwrap_err();
        assert_eq!(err.to_string(), "'Param key' exceeds the maximum length of 250 characters");
        assert!(validate_experiment_tag(&KeyValue::new("k", "v".repeat(20001))).is_err());
    }

    #[test]
    fn batch_limits_and_duplicate_keys() {
        let params: Vec<KeyValue> = (0..101).map(|i| KeyValue::new(format!("p{i}"), "v")).collect();
        assert!(validate_batch(&[], &params, &[]).is_err());
        let dup = [KeyValue::new("a", "1"), KeyValue::new("a", "2")];
        let err = validate_batch(&[], &dup, &[]).unwrap_err();
        assert!(err.to_string().contains("Duplicate parameter keys have been submitted: ['a']"));
    }

    #[test]
    fn registry_names_tags_and_aliases() {
        assert!(validate_model_name("iris model-1.v2").is_ok());
        assert_eq!(
            validate_model_name("a/b").unwrap_err().to_string(),
            "Invalid model name 'a/b'. Names cannot contain '/' or ':'."
        );
        assert_eq!(validate_model_name("  ").unwrap_err().to_string(), "Missing value for required parameter 'name'.");
        assert!(validate_model_name("..").is_err());
        assert!(validate_registered_model_tag(&KeyValue::new("k", "v".repeat(100_000))).is_ok());
        assert_eq!(
            validate_registered_model_tag(&KeyValue::new("k", "v".repeat(100_001))).unwrap_err().to_string(),
            "'value' exceeds the maximum length of 100000 characters"
        );
        assert!(validate_model_version_tag(&KeyValue::new("a/../b", "v")).is_err());
        assert!(validate_alias("champion-1_a").is_ok());
        assert_eq!(
            validate_alias("a b").unwrap_err().to_string(),
            "Invalid alias name: 'a b'. Names may only contain alphanumerics, underscores (_), and dashes (-)."
        );
        assert!(validate_alias(&"a".repeat(256)).is_err());
        assert_eq!(
            validate_alias_not_reserved("Latest").unwrap_err().to_string(),
            "'latest' alias name (case insensitive) is reserved."
        );
        assert_eq!(
            validate_alias_not_reserved("V12").unwrap_err().to_string(),
            "Version alias name 'V12' is reserved."
        );
        assert!(validate_alias_not_reserved("v1a").is_ok());
    }

    #[test]
    fn run_ids() {
        assert!(validate_run_id("0123abc").is_ok());
        assert!(validate_run_id("../x").is_err());
        assert!(validate_run_id("").is_err());
    }
}
