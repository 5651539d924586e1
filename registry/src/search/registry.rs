//! Registered model and model version search: parsing, validation and compilation to SQL
//! over the registry tables (`registered_models rm`, `model_versions mv`).
//!
//! Parsing yields complete sort and filter specifications (MLflow's defaults and
//! tie-breakers included); compiling appends them to a statement with every value bound.

use super::SearchError;
use super::compile::push_cmp;
use super::filter::{
    Clause, Comparison, Entity, InvalidStyle, Key, Op, RawValue, Value, attribute_or_tag_entity, check_lists,
    list_values, number_value, parse_clauses, quoted_value, split_identifier, strip_quotes, trim_backticks,
};
use super::order_by::{OrderKey, parse_entry};
use super::pyrepr::{str_list_repr, str_repr, str_set_repr};
use crate::store::query::Sql;

/// The tag that marks a registered model (and its versions) as a prompt.
pub const IS_PROMPT_TAG: &str = "mlflow.prompt.is_prompt";

/// A validated registry filter.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryFilter {
    /// Comparisons that must all hold; every one compares an attribute or a tag.
    pub comparisons: Vec<Comparison>,
    /// Whether models tagged `mlflow.prompt.is_prompt = 'true'` must be left out. MLflow leaves
    /// them out unless the filter asks for prompts, and then drops the filter's own
    /// `is_prompt` conditions, which `comparisons` already reflects.
    pub exclude_prompts: bool,
}

#[derive(Clone, Copy)]
enum Kind {
    Models,
    Versions,
}

const MODEL_ATTRIBUTES: &[&str] = &["name"];
const VERSION_ATTRIBUTES: &[&str] = &["name", "version_number", "run_id", "source_path"];
const VERSION_NUMERIC_ATTRIBUTES: &[&str] = &["version_number", "creation_timestamp", "last_updated_timestamp"];
const NUMERIC_COMPARATORS: &[&str] = &[">", ">=", "!=", "=", "<", "<="];

fn identifier(ident: &str, valid: &[&str]) -> Result<Key, SearchError> {
    let (entity, key) = split_identifier(ident);
    let entity = match entity {
        Some(e) => attribute_or_tag_entity(e)?,
        None => Entity::Attribute,
    };
    // The registry checks the attribute name before removing quotes, so `"name"` is unknown.
    if entity == Entity::Attribute && !valid.contains(&key) {
        return Err(SearchError::new(format!(
            "Invalid attribute key '{key}' specified. Valid keys are '{}'",
            str_set_repr(valid)
        )));
    }
    Ok(Key { entity, name: trim_backticks(strip_quotes(key)).to_owned() })
}

fn value(kind: Kind, key: &Key, raw: &RawValue) -> Result<Value, SearchError> {
    let is_string = matches!(raw, RawValue::Str { .. } | RawValue::Ident { .. });
    if key.entity == Entity::Tag {
        return if is_string {
            Ok(Value::Text(quoted_value(raw.raw())?))
        } else {
            Err(SearchError::new(format!(
                "Expected a quoted string value for tag (e.g. 'my-value'). Got value {}",
                raw.raw()
            )))
        };
    }
    let (list_keys, listed) = match kind {
        Kind::Models => (&["name"][..], "['name']"),
        Kind::Versions => (&["name", "run_id"][..], "['name', 'run_id']"),
    };
    match raw {
        _ if is_string => Ok(Value::Text(quoted_value(raw.raw())?)),
        RawValue::List { .. } => {
            if !list_keys.contains(&key.name.as_str()) {
                return Err(SearchError::new(format!(
                    "Only {listed} attributes support comparison with a list of quoted string \
                     values."
                )));
            }
            Ok(Value::List(list_values(raw)?))
        }
        RawValue::Number { raw, integer } if matches!(kind, Kind::Versions) => {
            if !VERSION_NUMERIC_ATTRIBUTES.contains(&key.name.as_str()) {
                return Err(SearchError::new(format!(
                    "Only the '{}' attributes support comparison with numeric values.",
                    str_set_repr(VERSION_NUMERIC_ATTRIBUTES)
                )));
            }
            Ok(number_value(raw, *integer))
        }
        other => Err(SearchError::new(format!(
            "Expected a quoted string value or a list of quoted string values for attributes. \
             Got value {}",
            other.raw()
        ))),
    }
}

fn resolve(kind: Kind, clause: &Clause) -> Result<(Key, Value), SearchError> {
    let valid = match kind {
        Kind::Models => MODEL_ATTRIBUTES,
        Kind::Versions => VERSION_ATTRIBUTES,
    };
    let key = identifier(&clause.ident, valid)?;
    if matches!(clause.value, RawValue::None) {
        // MLflow fails here with an internal error; the store's own wording is the 400 it
        // would give.
        let what = if key.entity == Entity::Tag { "tag" } else { "attribute" };
        return Err(SearchError::new(format!("Invalid comparator for {what}: {}", clause.op)));
    }
    let v = value(kind, &key, &clause.value)?;
    Ok((key, v))
}

fn check(kind: Kind, key: &Key, op: &str, value: Value) -> Result<(Op, Value), SearchError> {
    let parsed = Op::from_mlflow(op);
    if key.entity == Entity::Tag {
        return match parsed {
            Some(o @ (Op::Eq | Op::Ne | Op::Like | Op::ILike)) => Ok((o, value)),
            _ => Err(SearchError::new(format!("Invalid comparator for tag: {op}"))),
        };
    }
    if matches!(kind, Kind::Versions) && key.name == "version_number" {
        let o = match parsed {
            Some(o) if NUMERIC_COMPARATORS.contains(&op) => o,
            _ => {
                return Err(SearchError::new(format!("Invalid comparator for attribute {}: {op}", key.name)));
            }
        };
        let bad =
            |shown: String| SearchError::new(format!("Invalid value for numeric attribute '{}': {shown}", key.name));
        return match value {
            Value::Int(i) => Ok((o, Value::Int(i))),
            Value::Float(f) => Err(bad(format!("{f:?}"))),
            Value::Text(s) => {
                let t = s.trim();
                match t.strip_prefix('+').unwrap_or(t).parse::<i64>() {
                    Ok(i) => Ok((o, Value::Int(i))),
                    Err(_) => Err(bad(str_repr(&s))),
                }
            }
            Value::List(_) | Value::None => Err(bad(str_repr(""))),
        };
    }
    let list_ok = match kind {
        Kind::Models => true,
        Kind::Versions => matches!(key.name.as_str(), "name" | "run_id"),
    };
    match parsed {
        Some(o @ (Op::Eq | Op::Ne | Op::Like | Op::ILike)) => Ok((o, value)),
        Some(o @ (Op::In | Op::NotIn)) if list_ok => Ok((o, value)),
        _ => Err(SearchError::new(format!("Invalid comparator for attribute: {op}"))),
    }
}

fn parse(kind: Kind, filter: &str) -> Result<RegistryFilter, SearchError> {
    let clauses = parse_clauses(filter, InvalidStyle::Bare)?;
    let resolved = clauses.iter().map(|c| resolve(kind, c)).collect::<Result<Vec<_>, _>>()?;
    let comparisons = clauses
        .iter()
        .zip(resolved)
        .map(|(clause, (key, value))| {
            let (op, value) = check(kind, &key, &clause.op, value)?;
            Ok(Comparison { key, op, value })
        })
        .collect::<Result<Vec<_>, SearchError>>()
        .and_then(check_lists)?;
    // MLflow decides on the first is_prompt condition only.
    let asks_for_prompts = comparisons
        .iter()
        .find(|c| c.key.entity == Entity::Tag && c.key.name == IS_PROMPT_TAG)
        .is_some_and(|c| match (&c.op, &c.value) {
            (Op::Eq, Value::Text(v)) => v.eq_ignore_ascii_case("true"),
            (Op::Ne, Value::Text(v)) => v.eq_ignore_ascii_case("false"),
            _ => false,
        });
    let comparisons = if asks_for_prompts {
        comparisons
    } else {
        comparisons.into_iter().filter(|c| !(c.key.entity == Entity::Tag && c.key.name == IS_PROMPT_TAG)).collect()
    };
    Ok(RegistryFilter { comparisons, exclude_prompts: !asks_for_prompts })
}

/// Parses a `registered-models/search` filter: `name` (`= != LIKE ILIKE IN NOT IN`) and tags
/// (`= != LIKE ILIKE`).
pub fn parse_registered_models_filter(filter: &str) -> Result<RegistryFilter, SearchError> {
    parse(Kind::Models, filter)
}

/// Parses a `model-versions/search` filter: `name`, `run_id` (both also `IN`), `source_path`,
/// `version_number` (numeric) and tags.
pub fn parse_model_versions_filter(filter: &str) -> Result<RegistryFilter, SearchError> {
    parse(Kind::Versions, filter)
}

fn attribute(name: &str, ascending: bool) -> OrderKey {
    OrderKey { key: Key { entity: Entity::Attribute, name: name.to_owned() }, ascending }
}

fn duplicate(order_by: &[String]) -> SearchError {
    SearchError::new(format!("`order_by` contains duplicate fields: {}", str_list_repr(order_by)))
}

/// Parses registered model `order_by` entries into the full sort: keys `name` and
/// `last_updated_timestamp` (`timestamp` is its alias), then `name ASC` unless present.
pub fn parse_registered_models_order_by(order_by: &[String]) -> Result<Vec<OrderKey>, SearchError> {
    let mut keys: Vec<OrderKey> = Vec::new();
    for entry in order_by {
        let (ident, ascending) = parse_entry(entry)?;
        let name = match ident.trim() {
            "name" => "name",
            "timestamp" | "last_updated_timestamp" => "last_updated_timestamp",
            other => {
                return Err(SearchError::new(format!(
                    "Invalid order by key '{other}' specified. Valid keys are '{}'",
                    str_set_repr(&["name", "timestamp"])
                )));
            }
        };
        if keys.iter().any(|k| k.key.name == name) {
            return Err(duplicate(order_by));
        }
        keys.push(attribute(name, ascending));
    }
    if !keys.iter().any(|k| k.key.name == "name") {
        keys.push(attribute("name", true));
    }
    Ok(keys)
}

/// Parses model version `order_by` entries into the full sort: keys `name`,
/// `version_number`, `creation_timestamp`, `last_updated_timestamp`; none means
/// `last_updated_timestamp DESC, name ASC, version_number DESC`; then `name ASC` and
/// `version_number DESC` unless present.
pub fn parse_model_versions_order_by(order_by: &[String]) -> Result<Vec<OrderKey>, SearchError> {
    const VALID: &[&str] = &["name", "version_number", "creation_timestamp", "last_updated_timestamp"];
    if order_by.is_empty() {
        return Ok(vec![
            attribute("last_updated_timestamp", false),
            attribute("name", true),
            attribute("version_number", false),
        ]);
    }
    let mut keys: Vec<OrderKey> = Vec::new();
    for entry in order_by {
        let (ident, ascending) = parse_entry(entry)?;
        let (entity, key) = split_identifier(ident.trim());
        let entity = match entity {
            Some(e) => attribute_or_tag_entity(e)?,
            None => Entity::Attribute,
        };
        let name = trim_backticks(strip_quotes(key));
        if !VALID.contains(&name) {
            return Err(SearchError::new(if entity == Entity::Attribute {
                format!("Invalid attribute key '{name}' specified. Valid keys are '{}'", str_set_repr(VALID))
            } else {
                format!("Invalid order by key '{name}' specified. Valid keys are {}", str_set_repr(VALID))
            }));
        }
        if keys.iter().any(|k| k.key.name == name) {
            return Err(duplicate(order_by));
        }
        keys.push(attribute(name, ascending));
    }
    if !keys.iter().any(|k| k.key.name == "name") {
        keys.push(attribute("name", true));
    }
    if !keys.iter().any(|k| k.key.name == "version_number") {
        keys.push(attribute("version_number", false));
    }
    Ok(keys)
}

/// The tables a registry filter compiles against.
struct Target {
    /// The column behind an attribute of the filter.
    column: fn(&str) -> &'static str,
    /// The tag table, and the condition tying one of its rows `t` to the searched row.
    tags: &'static str,
    tag_join: &'static str,
    /// The same for prompt detection, over the tag table as `p`.
    prompt_join: &'static str,
}

const MODELS: Target = Target {
    column: |_| "rm.name",
    tags: "registered_model_tags",
    tag_join: "t.name = rm.name",
    prompt_join: "p.name = rm.name",
};

// MLflow recognises prompt versions by any version of the same model carrying the tag.
const VERSIONS: Target = Target {
    column: version_column,
    tags: "model_version_tags",
    tag_join: "t.name = mv.name AND t.version = mv.version",
    prompt_join: "p.name = mv.name",
};

fn version_column(attribute: &str) -> &'static str {
    match attribute {
        "run_id" => "mv.run_id",
        "source_path" => "mv.source",
        "version_number" => "mv.version",
        // Validation admits no other attribute.
        _ => "mv.name",
    }
}

fn push_where(f: &RegistryFilter, target: &Target, sql: &mut Sql) {
    // Comparisons of one tag key all apply to the same tag row, as MLflow groups them.
    let mut tag_keys: Vec<&str> = Vec::new();
    for c in &f.comparisons {
        match c.key.entity {
            Entity::Tag => {
                if !tag_keys.contains(&c.key.name.as_str()) {
                    tag_keys.push(&c.key.name);
                }
            }
            _ => {
                sql.push(" AND (");
                push_cmp(sql, (target.column)(&c.key.name), c.op, &c.value);
                sql.push(")");
            }
        }
    }
    for key in tag_keys {
        sql.push(" AND EXISTS (SELECT 1 FROM ").push(target.tags).push(" t WHERE ").push(target.tag_join);
        sql.push(" AND t.key = ").bind(key);
        for c in f.comparisons.iter().filter(|c| c.key.entity == Entity::Tag && c.key.name == key) {
            sql.push(" AND ");
            push_cmp(sql, "t.value", c.op, &c.value);
        }
        sql.push(")");
    }
    if f.exclude_prompts {
        sql.push(" AND NOT EXISTS (SELECT 1 FROM ").push(target.tags).push(" p WHERE ").push(target.prompt_join);
        sql.push(" AND p.key = ").bind(IS_PROMPT_TAG).push(" AND p.value = ").bind("true").push(")");
    }
}

/// Appends ` AND (…)` for each condition of a `registered-models/search` filter over
/// `registered_models rm`; prompts are left out unless the filter asks for them.
pub fn registered_models_where(filter: &str, sql: &mut Sql) -> Result<(), SearchError> {
    let f = parse_registered_models_filter(filter)?;
    push_where(&f, &MODELS, sql);
    Ok(())
}

/// Appends ` AND (…)` for each condition of a `model-versions/search` filter over
/// `model_versions mv`; versions of prompts are left out unless the filter asks for them.
pub fn model_versions_where(filter: &str, sql: &mut Sql) -> Result<(), SearchError> {
    let f = parse_model_versions_filter(filter)?;
    push_where(&f, &VERSIONS, sql);
    Ok(())
}

fn push_order(keys: &[OrderKey], column: fn(&str) -> &'static str, sql: &mut Sql) {
    sql.push(" ORDER BY ");
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push(column(&k.key.name)).push(if k.ascending { " ASC" } else { " DESC" });
    }
}

/// Appends the ` ORDER BY` of a registered model search over `registered_models rm`.
pub fn registered_models_order_by(order_by: &[String], sql: &mut Sql) -> Result<(), SearchError> {
    let keys = parse_registered_models_order_by(order_by)?;
    push_order(&keys, |name| if name == "name" { "rm.name" } else { "rm.last_updated_time" }, sql);
    Ok(())
}

/// Appends the ` ORDER BY` of a model version search over `model_versions mv`.
pub fn model_versions_order_by(order_by: &[String], sql: &mut Sql) -> Result<(), SearchError> {
    let keys = parse_model_versions_order_by(order_by)?;
    push_order(
        &keys,
        |name| match name {
            "version_number" => "mv.version",
            "creation_timestamp" => "mv.creation_time",
            "last_updated_timestamp" => "mv.last_updated_time",
            _ => "mv.name",
        },
        sql,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models(f: &str) -> Result<RegistryFilter, String> {
        parse_registered_models_filter(f).map_err(|e| e.message().to_owned())
    }

    fn versions(f: &str) -> Result<RegistryFilter, String> {
        parse_model_versions_filter(f).map_err(|e| e.message().to_owned())
    }

    fn key(entity: Entity, name: &str) -> Key {
        Key { entity, name: name.to_owned() }
    }

    #[test]
    fn registered_model_filters() {
        let f = models("name IN ('a', 'b') AND attribute.name LIKE 'a%' AND tags.`k` = 'v'").unwrap();
        assert_eq!(f.comparisons[0].value, Value::List(vec!["a".into(), "b".into()]));
        assert_eq!(f.comparisons[1].op, Op::Like);
        assert_eq!(f.comparisons[2].key, key(Entity::Tag, "k"));
        assert!(f.exclude_prompts);
        assert_eq!(
            models("\"name\" = 'x'").unwrap_err(),
            "Invalid attribute key '\"name\"' specified. Valid keys are '{'name'}'"
        );
        assert_eq!(
            models("run_id = 'x'").unwrap_err(),
            "Invalid attribute key 'run_id' specified. Valid keys are '{'name'}'"
        );
        assert_eq!(
            models("foo.x = 'y'").unwrap_err(),
            "Invalid entity type 'foo'. Valid entity types are ('attribute', 'tag', 'tags')"
        );
        assert_eq!(
            models("name = 1").unwrap_err(),
            "Expected a quoted string value or a list of quoted string values for attributes. Got value 1"
        );
        assert_eq!(
            models("tags.x = 1").unwrap_err(),
            "Expected a quoted string value for tag (e.g. 'my-value'). Got value 1"
        );
        assert_eq!(models("name > 'a'").unwrap_err(), "Invalid comparator for attribute: >");
        assert_eq!(
            models("tags.x IN ('a')").unwrap_err(),
            "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('a')"
        );
        assert_eq!(models("tags.x IS NULL").unwrap_err(), "Invalid comparator for tag: IS NULL");
        assert_eq!(models("name = 'a' OR name = 'b'").unwrap_err(), "Invalid clause(s) in filter string: OR");
    }

    #[test]
    fn filters_compile_to_bound_sql() {
        let mut sql = Sql::new("");
        registered_models_where("name LIKE 'a%' AND tags.k = 'v' AND tags.k != 'w'", &mut sql).unwrap();
        assert_eq!(
            sql.text(),
            " AND (rm.name LIKE $1) AND EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.name = rm.name \
             AND t.key = $2 AND t.value = $3 AND t.value <> $4) AND NOT EXISTS (SELECT 1 FROM \
             registered_model_tags p WHERE p.name = rm.name AND p.key = $5 AND p.value = $6)"
        );
        let mut sql = Sql::new("");
        model_versions_where("tags.`mlflow.prompt.is_prompt` = 'true' AND version_number >= 2", &mut sql).unwrap();
        assert_eq!(
            sql.text(),
            " AND (mv.version >= $1) AND EXISTS (SELECT 1 FROM model_version_tags t WHERE t.name = mv.name \
             AND t.version = mv.version AND t.key = $2 AND t.value = $3)",
            "asking for prompts keeps them"
        );
        let mut sql = Sql::new("");
        model_versions_order_by(&[], &mut sql).unwrap();
        assert_eq!(sql.text(), " ORDER BY mv.last_updated_time DESC, mv.name ASC, mv.version DESC");
        let mut sql = Sql::new("");
        registered_models_order_by(&strings(&["timestamp DESC"]), &mut sql).unwrap();
        assert_eq!(sql.text(), " ORDER BY rm.last_updated_time DESC, rm.name ASC");
    }

    #[test]
    fn prompts_are_excluded_unless_asked_for() {
        let f = models("name = 'a' AND tags.`mlflow.prompt.is_prompt` != 'true'").unwrap();
        assert!(f.exclude_prompts);
        assert_eq!(f.comparisons.len(), 1);
        let f = models("tags.`mlflow.prompt.is_prompt` = 'TRUE'").unwrap();
        assert!(!f.exclude_prompts);
        assert_eq!(f.comparisons.len(), 1);
        assert!(!models("tags.`mlflow.prompt.is_prompt` != 'false'").unwrap().exclude_prompts);
        assert!(models("").unwrap().exclude_prompts);
    }

    #[test]
    fn model_version_filters() {
        let f = versions("version_number = 1 AND run_id IN ('r') AND source_path LIKE 's%'").unwrap();
        assert_eq!(f.comparisons[0].value, Value::Int(1));
        assert_eq!(f.comparisons[1].op, Op::In);
        assert_eq!(f.comparisons[2].key, key(Entity::Attribute, "source_path"));
        assert_eq!(versions("version_number = '2'").unwrap().comparisons[0].value, Value::Int(2));
        assert_eq!(
            versions("version_number > 1.5").unwrap_err(),
            "Invalid value for numeric attribute 'version_number': 1.5"
        );
        assert_eq!(
            versions("version_number = 'x'").unwrap_err(),
            "Invalid value for numeric attribute 'version_number': 'x'"
        );
        assert_eq!(
            versions("version_number LIKE '1'").unwrap_err(),
            "Invalid comparator for attribute version_number: LIKE"
        );
        assert_eq!(
            versions("source_path IN ('a')").unwrap_err(),
            "Only ['name', 'run_id'] attributes support comparison with a list of quoted string values."
        );
        assert_eq!(
            versions("source_path = 1").unwrap_err(),
            "Only the '{'version_number', 'creation_timestamp', 'last_updated_timestamp'}' attributes support comparison with numeric values."
        );
        assert_eq!(
            versions("foo = 'x'").unwrap_err(),
            "Invalid attribute key 'foo' specified. Valid keys are '{'name', 'version_number', 'run_id', 'source_path'}'"
        );
        assert_eq!(versions("run_id > 'x'").unwrap_err(), "Invalid comparator for attribute: >");
        assert_eq!(versions("tags.x > 'x'").unwrap_err(), "Invalid comparator for tag: >");
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn registered_model_order_by() {
        let o = parse_registered_models_order_by(&strings(&["timestamp DESC"])).unwrap();
        assert_eq!(o, [attribute("last_updated_timestamp", false), attribute("name", true)]);
        assert_eq!(parse_registered_models_order_by(&[]).unwrap(), [attribute("name", true)]);
        assert_eq!(parse_registered_models_order_by(&strings(&["name DESC"])).unwrap(), [attribute("name", false)]);
        let e = |v: &[&str]| parse_registered_models_order_by(&strings(v)).unwrap_err().message().to_owned();
        assert_eq!(
            e(&["creation_timestamp"]),
            "Invalid order by key 'creation_timestamp' specified. Valid keys are '{'name', 'timestamp'}'"
        );
        assert_eq!(
            e(&["timestamp", "last_updated_timestamp"]),
            "`order_by` contains duplicate fields: ['timestamp', 'last_updated_timestamp']"
        );
    }

    #[test]
    fn model_version_order_by() {
        assert_eq!(
            parse_model_versions_order_by(&[]).unwrap(),
            [attribute("last_updated_timestamp", false), attribute("name", true), attribute("version_number", false)]
        );
        assert_eq!(
            parse_model_versions_order_by(&strings(&["creation_timestamp"])).unwrap(),
            [attribute("creation_timestamp", true), attribute("name", true), attribute("version_number", false)]
        );
        let e = |v: &[&str]| parse_model_versions_order_by(&strings(v)).unwrap_err().message().to_owned();
        assert_eq!(
            e(&["version_number", "version_number"]),
            "`order_by` contains duplicate fields: ['version_number', 'version_number']"
        );
        assert_eq!(
            e(&["tags.x"]),
            "Invalid order by key 'x' specified. Valid keys are {'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}"
        );
        assert_eq!(
            e(&["foo"]),
            "Invalid attribute key 'foo' specified. Valid keys are '{'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}'"
        );
    }
}
