//! Logged-model search (`logged-models/search`): filters, order_by and page tokens over
//! `logged_models lm`.
//!
//! MLflow reads these filters with its own small grammar (not the run-search one): entities are
//! spelled `attributes.`, `metrics.`, `params.` and `tags.` only, a bare name is an attribute, and
//! the comparator set depends on whether the key is numeric. Sorting takes structured entries
//! (`field_name`, `ascending`, dataset) instead of strings, and page tokens carry the request they
//! belong to so that they cannot be replayed against another one.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value as Json};

use super::SearchError;
use super::compile::{push_cmp, push_nulls_last};
use super::filter::{Op, RawValue, Value, list_values};
use super::lexer::{Kw, Tok, Token, lex};
use super::pyrepr::{json_repr, str_list_repr, str_repr};
use crate::store::query::Sql;

/// `logged_models` columns a filter or sort may name (MLflow resolves names against its table).
const COLUMNS: &[&str] = &[
    "model_id",
    "experiment_id",
    "name",
    "artifact_location",
    "creation_timestamp_ms",
    "last_updated_timestamp_ms",
    "status",
    "lifecycle_stage",
    "model_type",
    "source_run_id",
    "status_message",
];
const NUMERIC_COLUMNS: &[&str] = &["creation_timestamp_ms", "last_updated_timestamp_ms"];
const NUMERIC_OPS: &[&str] = &["<", "<=", ">", ">=", "=", "!="];
const STRING_OPS: &[&str] = &["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"];
const ENTITIES: &str = "['attributes', 'metrics', 'params', 'tags']";

/// MLflow's shorter names for the timestamp columns.
fn alias(name: &str) -> &str {
    match name {
        "creation_time" | "creation_timestamp" => "creation_timestamp_ms",
        "last_updated_timestamp" => "last_updated_timestamp_ms",
        other => other,
    }
}

/// What a filter key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LmEntity {
    /// A `logged_models` column.
    Attribute(&'static str),
    Metric(String),
    Param(String),
    Tag(String),
}

impl LmEntity {
    fn is_numeric(&self) -> bool {
        match self {
            LmEntity::Metric(_) => true,
            LmEntity::Attribute(c) => NUMERIC_COLUMNS.contains(c),
            _ => false,
        }
    }
}

/// One validated comparison of a logged-model filter.
#[derive(Debug, Clone, PartialEq)]
pub struct LmComparison {
    pub entity: LmEntity,
    pub op: Op,
    pub value: Value,
}

/// A dataset a search restricts metric values to: by name, and by digest when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetFilter {
    pub name: String,
    pub digest: Option<String>,
}

fn invalid_filter(filter: &str) -> SearchError {
    SearchError::new(format!(
        "Invalid filter string: {}. Expected a list of comparisons separated by 'AND' \
         (e.g. 'metrics.loss > 0.1 AND params.lr = 0.01').",
        str_repr(filter)
    ))
}

/// `[entity.]key` as MLflow splits it: a lower-case word, a dot, then the key (backticks removed).
fn entity(ident: &str) -> Result<(String, Option<LmEntity>, String), SearchError> {
    let split = ident
        .split_once('.')
        .filter(|(e, k)| !e.is_empty() && !k.is_empty() && e.chars().all(|c| c.is_ascii_lowercase()));
    let Some((kind, key)) = split else {
        let key = alias(ident.trim_matches('`'));
        let column = COLUMNS.iter().copied().find(|c| *c == key);
        return Ok((format!("attributes.{key}"), column.map(LmEntity::Attribute), key.to_owned()));
    };
    let key = key.trim_matches('`').to_owned();
    let shown = format!("{kind}.{key}");
    let e = match kind {
        "attributes" => {
            let k = alias(&key);
            COLUMNS.iter().copied().find(|c| *c == k).map(LmEntity::Attribute)
        }
        "metrics" => Some(LmEntity::Metric(key.clone())),
        "params" => Some(LmEntity::Param(key.clone())),
        "tags" => Some(LmEntity::Tag(key.clone())),
        other => {
            return Err(SearchError::new(format!(
                "Invalid entity type: {}. Expected one of {ENTITIES}.",
                str_repr(other)
            )));
        }
    };
    Ok((shown, e, key))
}

/// Parses and validates a logged-model filter. An empty filter has no comparisons.
pub fn parse_filter(filter: &str) -> Result<Vec<LmComparison>, SearchError> {
    if filter.trim().is_empty() {
        return Ok(Vec::new());
    }
    let tokens = lex(filter);
    if let Some(i) = tokens.iter().position(|t| t.kind == Tok::Semicolon)
        && i + 1 < tokens.len()
    {
        return Err(SearchError::new(format!(
            "Invalid filter string: {}. Expected a single SQL expression.",
            str_repr(filter)
        )));
    }
    let text = |t: &Token| &filter[t.start..t.end];
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i].kind {
            Tok::Keyword(Kw::And) => {
                i += 1;
                continue;
            }
            Tok::Ident(_) => {}
            _ => return Err(invalid_filter(filter)),
        }
        let ident = text(&tokens[i]);
        let kind = |j: usize| tokens.get(j).map(|t| &t.kind);
        // The comparator, as written (upper-cased), and where its operand starts.
        let (op, at) = match kind(i + 1) {
            Some(Tok::Op) => (text(&tokens[i + 1]).to_owned(), i + 2),
            Some(Tok::Keyword(Kw::Like)) => ("LIKE".to_owned(), i + 2),
            Some(Tok::Keyword(Kw::ILike)) => ("ILIKE".to_owned(), i + 2),
            Some(Tok::Keyword(Kw::In)) => ("IN".to_owned(), i + 2),
            Some(Tok::Keyword(Kw::Not)) if kind(i + 2) == Some(&Tok::Keyword(Kw::In)) => ("NOT IN".to_owned(), i + 3),
            Some(Tok::Keyword(Kw::Is)) => {
                let end = tokens[i + 1..]
                    .iter()
                    .take_while(|t| matches!(t.kind, Tok::Keyword(Kw::Is | Kw::Not | Kw::Null)))
                    .last()
                    .map_or(tokens[i + 1].end, |t| t.end);
                return Err(SearchError::new(format!(
                    "Invalid comparison: {ident}{}. Expected a comparison with 3 tokens.",
                    filter[tokens[i + 1].start..end].to_ascii_uppercase()
                )));
            }
            _ => return Err(invalid_filter(filter)),
        };
        let (shown, entity, key) = entity(ident)?;
        let numeric = entity.as_ref().is_some_and(LmEntity::is_numeric);
        let allowed = if numeric { NUMERIC_OPS } else { STRING_OPS };
        if !allowed.contains(&op.as_str()) {
            let listed: Vec<String> = allowed.iter().map(|o| str_repr(o)).collect();
            return Err(SearchError::new(format!(
                "Invalid comparison operator for {shown}: {}. Expected one of ({}).",
                str_repr(&op),
                listed.join(", ")
            )));
        }
        let Some(entity) = entity else {
            return Err(SearchError::new(format!(
                "Invalid attribute key '{key}' specified. Valid keys are {}",
                str_list_repr(&COLUMNS.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>())
            )));
        };
        let op = Op::from_mlflow(&op).ok_or_else(|| invalid_filter(filter))?;
        let (value, next) = if matches!(op, Op::In | Op::NotIn) {
            let Some(Tok::LParen) = kind(at) else { return Err(invalid_filter(filter)) };
            let close = tokens[at..]
                .iter()
                .position(|t| t.kind == Tok::RParen)
                .map(|p| at + p)
                .ok_or_else(|| invalid_filter(filter))?;
            let raw = RawValue::List {
                raw: filter[tokens[at].start..tokens[close].end].to_owned(),
                items: tokens[at + 1..close].to_vec(),
                src: filter.to_owned(),
            };
            (Value::List(list_values(&raw)?), close + 1)
        } else {
            let Some(t) = tokens.get(at) else { return Err(invalid_filter(filter)) };
            if !matches!(t.kind, Tok::Str | Tok::Number { .. } | Tok::Ident(_) | Tok::Word | Tok::Keyword(Kw::Null)) {
                return Err(invalid_filter(filter));
            }
            let raw = text(t);
            let value = if numeric {
                match (&t.kind, raw.parse::<f64>()) {
                    (Tok::Number { integer: true }, _) if raw.parse::<i64>().is_ok() => {
                        Value::Int(raw.parse::<i64>().unwrap_or_default())
                    }
                    (Tok::Number { .. }, Ok(f)) => Value::Float(f),
                    _ => {
                        return Err(SearchError::new(format!("could not convert string to float: {}", str_repr(raw))));
                    }
                }
            } else {
                Value::Text(raw.trim_matches('\'').to_owned())
            };
            (value, at + 1)
        };
        out.push(LmComparison { entity, op, value });
        i = next;
    }
    Ok(out)
}

/// The proto number behind a status named in a filter (`LOGGED_MODEL_READY` or `2`).
fn status_number(text: &str) -> String {
    let name = serde_json::Value::String(text.to_owned());
    pitwall_openapi::LoggedModelStatus::parse(&name).map_or_else(|| text.to_owned(), |s| s.as_int().to_string())
}

fn map_status(value: &Value) -> Value {
    match value {
        Value::Text(t) => Value::Text(status_number(t)),
        Value::List(items) => Value::List(items.iter().map(|t| status_number(t)).collect()),
        other => other.clone(),
    }
}

/// The SQL `(a OR b …)` restricting `alias`'s metric rows to the datasets.
fn push_dataset_match(sql: &mut Sql, alias: &str, datasets: &[DatasetFilter]) {
    sql.push("(");
    for (i, d) in datasets.iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        sql.push("(").push(alias).push(".dataset_name = ").bind(d.name.as_str());
        if let Some(digest) = &d.digest {
            sql.push(" AND ").push(alias).push(".dataset_digest = ").bind(digest.as_str());
        }
        sql.push(")");
    }
    sql.push(")");
}

/// Appends ` AND (…)` for each comparison of `filter`, and for `datasets`, over `logged_models lm`.
/// A metric comparison holds when any value the model has for that metric satisfies it (on one
/// of the datasets, when given); without a metric comparison, datasets keep the models that have
/// any metric on one of them.
pub fn logged_models_where(filter: &str, datasets: &[DatasetFilter], sql: &mut Sql) -> Result<(), SearchError> {
    let comparisons = parse_filter(filter)?;
    for c in &comparisons {
        sql.push(" AND (");
        match &c.entity {
            LmEntity::Attribute(col) => match *col {
                // Integer columns compared as text, as MLflow compares them with string values.
                "experiment_id" => push_cmp(sql, "CAST(lm.experiment_id AS TEXT)", c.op, &c.value),
                "status" => push_cmp(sql, "CAST(lm.status AS TEXT)", c.op, &map_status(&c.value)),
                col => push_cmp(sql, &format!("lm.{col}"), c.op, &c.value),
            },
            LmEntity::Metric(name) => {
                sql.push("EXISTS (SELECT 1 FROM logged_model_metrics mm WHERE mm.model_id = lm.model_id AND mm.metric_name = ")
                    .bind(name.as_str())
                    .push(" AND ");
                push_cmp(sql, "mm.metric_value", c.op, &c.value);
                if !datasets.is_empty() {
                    sql.push(" AND ");
                    push_dataset_match(sql, "mm", datasets);
                }
                sql.push(")");
            }
            LmEntity::Param(key) | LmEntity::Tag(key) => {
                let (table, k, v) = if matches!(c.entity, LmEntity::Param(_)) {
                    ("logged_model_params", "param_key", "param_value")
                } else {
                    ("logged_model_tags", "tag_key", "tag_value")
                };
                sql.push(&format!("EXISTS (SELECT 1 FROM {table} kv WHERE kv.model_id = lm.model_id AND kv.{k} = "))
                    .bind(key.as_str())
                    .push(" AND ");
                push_cmp(sql, &format!("kv.{v}"), c.op, &c.value);
                sql.push(")");
            }
        }
        sql.push(")");
    }
    let has_metric_filter = comparisons.iter().any(|c| matches!(c.entity, LmEntity::Metric(_)));
    if !datasets.is_empty() && !has_metric_filter {
        sql.push(" AND EXISTS (SELECT 1 FROM logged_model_metrics dm WHERE dm.model_id = lm.model_id AND ");
        push_dataset_match(sql, "dm", datasets);
        sql.push(")");
    }
    Ok(())
}

/// One `order_by` entry of `logged-models/search`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderByEntry {
    pub field_name: String,
    pub ascending: bool,
    pub dataset_name: Option<String>,
    pub dataset_digest: Option<String>,
}

impl OrderByEntry {
    /// The entry as `json.dumps` writes MLflow's dict, keys in its order.
    fn py_json(&self) -> String {
        let opt = |v: &Option<String>| v.clone().map_or(Json::Null, Json::String);
        format!(
            "{{\"field_name\": {}, \"ascending\": {}, \"dataset_name\": {}, \"dataset_digest\": {}}}",
            py_json(&Json::String(self.field_name.clone())),
            self.ascending,
            py_json(&opt(&self.dataset_name)),
            py_json(&opt(&self.dataset_digest))
        )
    }

    /// The entry as MLflow's handler passes it on (and stores it in page tokens).
    fn to_json(&self) -> Json {
        let mut m = Map::new();
        m.insert("field_name".into(), Json::String(self.field_name.clone()));
        m.insert("ascending".into(), Json::Bool(self.ascending));
        m.insert("dataset_name".into(), self.dataset_name.clone().map_or(Json::Null, Json::String));
        m.insert("dataset_digest".into(), self.dataset_digest.clone().map_or(Json::Null, Json::String));
        Json::Object(m)
    }
}

enum SortKey {
    Column(&'static str),
    Metric { name: String, dataset_name: Option<String>, dataset_digest: Option<String> },
}

fn sort_keys(order_by: &[OrderByEntry]) -> Result<Vec<(SortKey, bool)>, SearchError> {
    order_by
        .iter()
        .map(|ob| {
            let key = match ob.field_name.split_once('.') {
                None => {
                    let name = alias(&ob.field_name);
                    let col =
                        COLUMNS.iter().copied().find(|c| *c == name).ok_or_else(|| {
                            SearchError::new(format!("Invalid order by field name: {}", ob.field_name))
                        })?;
                    SortKey::Column(col)
                }
                Some(("metrics", name)) => SortKey::Metric {
                    name: name.to_owned(),
                    dataset_name: ob.dataset_name.clone(),
                    dataset_digest: ob.dataset_digest.clone(),
                },
                Some(_) => {
                    return Err(SearchError::new(format!(
                        "Invalid order by field name: {}. Only metrics are supported.",
                        ob.field_name
                    )));
                }
            };
            Ok((key, ob.ascending))
        })
        .collect()
}

fn sort_alias(i: usize) -> String {
    format!("lsk{i}")
}

/// Checks `order_by` without building SQL.
pub fn check_order_by(order_by: &[OrderByEntry]) -> Result<(), SearchError> {
    sort_keys(order_by).map(|_| ())
}

/// The `LEFT JOIN`s that bring each metric sort key beside its model, after `FROM logged_models lm`:
/// the model's latest value of the metric (by timestamp, then step), on the dataset when given.
pub fn logged_models_sort_joins(order_by: &[OrderByEntry], sql: &mut Sql) -> Result<(), SearchError> {
    for (i, (key, _)) in sort_keys(order_by)?.iter().enumerate() {
        let SortKey::Metric { name, dataset_name, dataset_digest } = key else { continue };
        let a = sort_alias(i);
        sql.push(
            " LEFT JOIN (SELECT model_id, metric_value, ROW_NUMBER() OVER (PARTITION BY model_id \
             ORDER BY metric_timestamp_ms DESC, metric_step DESC, metric_value DESC) AS rn \
             FROM logged_model_metrics WHERE metric_name = ",
        )
        .bind(name.as_str());
        if let Some(d) = dataset_name {
            sql.push(" AND dataset_name = ").bind(d.as_str());
        }
        if let Some(d) = dataset_digest {
            sql.push(" AND dataset_digest = ").bind(d.as_str());
        }
        sql.push(&format!(") {a} ON {a}.model_id = lm.model_id AND {a}.rn = 1"));
    }
    Ok(())
}

/// Appends ` ORDER BY …`: the requested keys with missing values last, then MLflow's default
/// `creation_timestamp_ms DESC` unless already sorted on, then the model id so that pages are stable.
pub fn logged_models_order_by(order_by: &[OrderByEntry], sql: &mut Sql) -> Result<(), SearchError> {
    let keys = sort_keys(order_by)?;
    sql.push(" ORDER BY ");
    for (i, (key, ascending)) in keys.iter().enumerate() {
        let expr = match key {
            SortKey::Column(col) => format!("lm.{col}"),
            SortKey::Metric { .. } => format!("{}.metric_value", sort_alias(i)),
        };
        push_nulls_last(
            sql,
            &mut |s: &mut Sql| {
                s.push(&expr);
            },
            *ascending,
        );
        sql.push(", ");
    }
    if !keys.iter().any(|(k, _)| matches!(k, SortKey::Column("creation_timestamp_ms"))) {
        sql.push("lm.creation_timestamp_ms DESC, ");
    }
    sql.push("lm.model_id");
    Ok(())
}

/// MLflow's logged-model page token: the request it continues and the offset of the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct PageToken {
    pub experiment_ids: Vec<String>,
    pub filter: Option<String>,
    pub order_by: Option<Vec<OrderByEntry>>,
    pub offset: i64,
}

/// `json.dumps` with Python's separators and ASCII escapes.
pub(crate) fn py_json(v: &Json) -> String {
    match v {
        Json::String(s) => {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                        let mut buf = [0u16; 2];
                        for unit in c.encode_utf16(&mut buf) {
                            out.push_str(&format!("\\u{unit:04x}"));
                        }
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        Json::Array(items) => format!("[{}]", items.iter().map(py_json).collect::<Vec<_>>().join(", ")),
        Json::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", py_json(&Json::String(k.clone())), py_json(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// Python's repr of an order_by list from a token, keys in the order MLflow writes them.
fn order_by_repr(v: &Json) -> String {
    const FIRST: [&str; 4] = ["field_name", "ascending", "dataset_name", "dataset_digest"];
    match v {
        Json::Array(items) => {
            let inner: Vec<String> = items
                .iter()
                .map(|item| match item {
                    Json::Object(map) => {
                        let mut keys: Vec<&String> = map.keys().collect();
                        keys.sort_by_key(|k| (FIRST.iter().position(|f| f == k).unwrap_or(FIRST.len()), (*k).clone()));
                        let parts: Vec<String> =
                            keys.iter().map(|k| format!("{}: {}", str_repr(k), json_repr(&map[*k]))).collect();
                        format!("{{{}}}", parts.join(", "))
                    }
                    other => json_repr(other),
                })
                .collect();
            format!("[{}]", inner.join(", "))
        }
        other => json_repr(other),
    }
}

fn order_by_json(order_by: &Option<Vec<OrderByEntry>>) -> Json {
    match order_by {
        Some(entries) => Json::Array(entries.iter().map(OrderByEntry::to_json).collect()),
        None => Json::Null,
    }
}

impl PageToken {
    /// base64 of the JSON MLflow writes (`experiment_ids`, `filter_string`, `order_by`, `offset`).
    pub fn encode(&self) -> String {
        // Keys in MLflow's order; serde_json's map is sorted, so the object is written by hand.
        let text = format!(
            "{{\"experiment_ids\": {}, \"filter_string\": {}, \"order_by\": {}, \"offset\": {}}}",
            py_json(&Json::Array(self.experiment_ids.iter().cloned().map(Json::String).collect())),
            py_json(&self.filter.clone().map_or(Json::Null, Json::String)),
            match &self.order_by {
                Some(entries) =>
                    format!("[{}]", entries.iter().map(OrderByEntry::py_json).collect::<Vec<_>>().join(", ")),
                None => "null".to_owned(),
            },
            self.offset
        );
        STANDARD.encode(text)
    }

    /// Decodes `token` and checks that it continues this very request; returns the offset.
    pub fn resume(
        token: &str,
        experiment_ids: &[String],
        filter: Option<&str>,
        order_by: &Option<Vec<OrderByEntry>>,
    ) -> Result<i64, SearchError> {
        let bad = |why: &str| SearchError::new(format!("Invalid page token: {token}. {why}"));
        // Python's b64decode drops characters outside the alphabet before decoding.
        let cleaned: String =
            token.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')).collect();
        let bytes = STANDARD.decode(cleaned).map_err(|_| bad("Incorrect padding"))?;
        let parsed: Json = serde_json::from_slice(&bytes).map_err(|e| {
            // Python's wording when no JSON value starts where one must (the usual garbage token).
            let text = String::from_utf8_lossy(&bytes);
            let start = text.len() - text.trim_start().len();
            let rest = &text[start..];
            let value_starts = rest.starts_with(['{', '[', '"', '-'])
                || rest.starts_with(|c: char| c.is_ascii_digit())
                || ["true", "false", "null", "NaN", "Infinity"].iter().any(|w| rest.starts_with(w));
            if value_starts {
                bad(&e.to_string())
            } else {
                bad(&format!("Expecting value: line 1 column {} (char {start})", start + 1))
            }
        })?;
        let Json::Object(map) = parsed else { return Err(bad("The token is not a JSON object.")) };
        let falsy = |v: &Json| match v {
            Json::Null => true,
            Json::Bool(b) => !b,
            Json::String(s) => s.is_empty(),
            Json::Array(a) => a.is_empty(),
            Json::Object(o) => o.is_empty(),
            Json::Number(n) => n.as_f64() == Some(0.0),
        };
        let get = |k: &str| map.get(k).filter(|v| !falsy(v)).cloned().unwrap_or(Json::Null);

        let token_ids = map.get("experiment_ids").cloned().unwrap_or(Json::Null);
        let requested_ids = Json::Array(experiment_ids.iter().cloned().map(Json::String).collect());
        if token_ids != requested_ids {
            return Err(SearchError::new(format!(
                "Experiment IDs in the page token do not match the requested experiment IDs. Expected: {}. Found: {}",
                str_list_repr(experiment_ids),
                json_repr(&token_ids)
            )));
        }
        let token_filter = get("filter_string");
        let requested_filter = filter.filter(|f| !f.is_empty());
        if token_filter.as_str() != requested_filter || (token_filter != Json::Null && !token_filter.is_string()) {
            let found = match &token_filter {
                Json::String(s) => s.clone(),
                other => json_repr(other),
            };
            return Err(SearchError::new(format!(
                "Filter string in the page token does not match the requested filter string. Expected: {}. Found: {found}",
                requested_filter.unwrap_or("None")
            )));
        }
        let token_order = get("order_by");
        let requested_order = order_by_json(order_by);
        if token_order != requested_order {
            return Err(SearchError::new(format!(
                "Order by in the page token does not match the requested order by. Expected: {}. Found: {}",
                order_by_repr(&requested_order),
                order_by_repr(&token_order)
            )));
        }
        match get("offset") {
            Json::Null => Ok(0),
            Json::Number(n) => n.as_i64().filter(|o| *o >= 0).ok_or_else(|| bad("The offset is not a valid position.")),
            _ => Err(bad("The offset is not a valid position.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::testdb;
    use crate::store::query::Bind;
    use sqlx::AnyPool;

    fn err(f: &str) -> String {
        parse_filter(f).unwrap_err().message().to_owned()
    }

    fn ob(field: &str, ascending: bool) -> OrderByEntry {
        OrderByEntry { field_name: field.into(), ascending, dataset_name: None, dataset_digest: None }
    }

    #[test]
    fn comparisons_by_entity() {
        let c =
            parse_filter("metrics.`my acc` > 0.5 AND params.lr = '0.1' and tags.t != 'x' AND name LIKE 'a%'").unwrap();
        assert_eq!(
            c[0],
            LmComparison { entity: LmEntity::Metric("my acc".into()), op: Op::Gt, value: Value::Float(0.5) }
        );
        assert_eq!(c[1].entity, LmEntity::Param("lr".into()));
        assert_eq!(c[1].value, Value::Text("0.1".into()));
        assert_eq!(c[2].op, Op::Ne);
        assert_eq!(c[3].entity, LmEntity::Attribute("name"));
        assert_eq!(parse_filter("creation_time > 5").unwrap()[0].entity, LmEntity::Attribute("creation_timestamp_ms"));
        assert_eq!(parse_filter("attributes.last_updated_timestamp >= 5").unwrap()[0].value, Value::Int(5));
        assert_eq!(parse_filter("name in ('a', 'b')").unwrap()[0].value, Value::List(vec!["a".into(), "b".into()]));
        assert_eq!(parse_filter("name NOT IN ('a')").unwrap()[0].op, Op::NotIn);
        assert_eq!(parse_filter("params.a = 1").unwrap()[0].value, Value::Text("1".into()));
        assert!(parse_filter("").unwrap().is_empty());
        assert_eq!(parse_filter("AND name = 'a' AND").unwrap().len(), 1);
    }

    #[test]
    fn mlflow_messages() {
        assert_eq!(
            err("name = 'x' OR name = 'y'"),
            "Invalid filter string: \"name = 'x' OR name = 'y'\". Expected a list of comparisons separated by 'AND' \
             (e.g. 'metrics.loss > 0.1 AND params.lr = 0.01')."
        );
        assert_eq!(
            err("metric.acc > 1"),
            "Invalid entity type: 'metric'. Expected one of ['attributes', 'metrics', 'params', 'tags']."
        );
        assert_eq!(
            err("metrics.acc LIKE 1"),
            "Invalid comparison operator for metrics.acc: 'LIKE'. Expected one of ('<', '<=', '>', '>=', '=', '!=')."
        );
        assert_eq!(
            err("name == 'm1'"),
            "Invalid comparison operator for attributes.name: '=='. Expected one of ('=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN')."
        );
        assert_eq!(
            err("name = 'x'; name = 'y'"),
            "Invalid filter string: \"name = 'x'; name = 'y'\". Expected a single SQL expression."
        );
        assert_eq!(
            err("metrics.acc IS NULL"),
            "Invalid comparison: metrics.accIS NULL. Expected a comparison with 3 tokens."
        );
        assert_eq!(err("metrics.acc > 'x'"), "could not convert string to float: \"'x'\"");
        assert!(err("foo = 'x'").starts_with("Invalid attribute key 'foo' specified."));
        assert!(err("name").starts_with("Invalid filter string"));
    }

    #[test]
    fn order_by_messages() {
        let e = |o: OrderByEntry| check_order_by(&[o]).unwrap_err().message().to_owned();
        assert_eq!(e(ob("foo", true)), "Invalid order by field name: foo");
        assert_eq!(e(ob("", true)), "Invalid order by field name: ");
        assert_eq!(e(ob("params.x", true)), "Invalid order by field name: params.x. Only metrics are supported.");
        assert!(check_order_by(&[ob("creation_timestamp", false), ob("metrics.acc", true)]).is_ok());
    }

    #[test]
    fn page_tokens_round_trip_and_match_mlflow() {
        let t = PageToken {
            experiment_ids: vec!["1".into()],
            filter: None,
            order_by: Some(vec![ob("name", true)]),
            offset: 1,
        };
        // base64 of MLflow's own token for this request.
        let mlflow = "eyJleHBlcmltZW50X2lkcyI6IFsiMSJdLCAiZmlsdGVyX3N0cmluZyI6IG51bGwsICJvcmRlcl9ieSI6IFt7ImZpZWxkX25hbWUiOiAibmFtZSIsICJhc2NlbmRpbmciOiB0cnVlLCAiZGF0YXNldF9uYW1lIjogbnVsbCwgImRhdGFzZXRfZGlnZXN0IjogbnVsbH1dLCAib2Zmc2V0IjogMX0=";
        assert_eq!(t.encode(), mlflow);
        let ids = vec!["1".to_owned()];
        assert_eq!(PageToken::resume(mlflow, &ids, None, &t.order_by).unwrap(), 1);
        let e = |r: Result<i64, SearchError>| r.unwrap_err().message().to_owned();
        assert_eq!(
            e(PageToken::resume(mlflow, &["1".into(), "0".into()], None, &t.order_by)),
            "Experiment IDs in the page token do not match the requested experiment IDs. Expected: ['1', '0']. Found: ['1']"
        );
        assert_eq!(
            e(PageToken::resume(mlflow, &ids, Some("name = 'x'"), &t.order_by)),
            "Filter string in the page token does not match the requested filter string. Expected: name = 'x'. Found: None"
        );
        assert_eq!(
            e(PageToken::resume(mlflow, &ids, None, &None)),
            "Order by in the page token does not match the requested order by. Expected: None. Found: \
             [{'field_name': 'name', 'ascending': True, 'dataset_name': None, 'dataset_digest': None}]"
        );
        assert_eq!(
            e(PageToken::resume("bm90IGpzb24=", &ids, None, &None)),
            "Invalid page token: bm90IGpzb24=. Expecting value: line 1 column 1 (char 0)"
        );
        assert!(PageToken::resume("abc", &ids, None, &None).is_err());
    }

    // Three models in experiment 1, created at 100 (a), 200 (b), 300 (c).
    async fn seed(pool: &AnyPool) {
        use Bind::{Float, Int, NullText, Text};
        let t = |s: &str| Text(s.to_owned());
        testdb::exec(
            pool,
            "INSERT INTO experiments (name, artifact_location, creation_time, last_update_time) VALUES",
            vec![t("e"), t("x"), Int(0), Int(0)],
        )
        .await;
        testdb::exec(
            pool,
            "INSERT INTO runs (run_uuid, experiment_id, name, status, artifact_uri) VALUES",
            vec![t("r1"), Int(1), t("r"), t("RUNNING"), t("x")],
        )
        .await;
        for (id, name, created, status, mtype) in
            [("a", "alpha", 100, 2, t("clf")), ("b", "beta", 200, 1, NullText), ("c", "Gamma", 300, 2, t("reg"))]
        {
            testdb::exec(
                pool,
                "INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms, \
                 last_updated_timestamp_ms, status, lifecycle_stage, model_type, source_run_id) VALUES",
                vec![
                    t(id),
                    Int(1),
                    t(name),
                    t("x"),
                    Int(created),
                    Int(created),
                    Int(status),
                    t("active"),
                    mtype,
                    t("r1"),
                ],
            )
            .await;
        }
        for (m, k, v) in [("a", "lr", "0.1"), ("b", "lr", "0.01")] {
            testdb::exec(
                pool,
                "INSERT INTO logged_model_params (model_id, experiment_id, param_key, param_value) VALUES",
                vec![t(m), Int(1), t(k), t(v)],
            )
            .await;
        }
        testdb::exec(
            pool,
            "INSERT INTO logged_model_tags (model_id, experiment_id, tag_key, tag_value) VALUES",
            vec![t("c"), Int(1), t("team"), t("core")],
        )
        .await;
        // a: acc 0.9 (latest, ts 2) after 0.5; b: acc 0.7 on dataset ds/d1; c: none.
        for (m, v, ts, ds, dg) in
            [("a", 0.5, 1, NullText, NullText), ("a", 0.9, 2, NullText, NullText), ("b", 0.7, 1, t("ds"), t("d1"))]
        {
            testdb::exec(
                pool,
                "INSERT INTO logged_model_metrics (model_id, metric_name, metric_timestamp_ms, metric_step, metric_value, \
                 experiment_id, run_id, dataset_name, dataset_digest) VALUES",
                vec![t(m), t("acc"), Int(ts), Int(0), Float(v), Int(1), t("r1"), ds, dg],
            )
            .await;
        }
    }

    async fn search(
        pool: &AnyPool,
        filter: &str,
        datasets: &[DatasetFilter],
        order_by: &[OrderByEntry],
    ) -> Vec<String> {
        let mut sql = Sql::new("SELECT lm.model_id AS run_uuid FROM logged_models lm");
        logged_models_sort_joins(order_by, &mut sql).unwrap();
        sql.push(" WHERE lm.experiment_id = 1");
        logged_models_where(filter, datasets, &mut sql).unwrap_or_else(|e| panic!("{filter}: {e}"));
        logged_models_order_by(order_by, &mut sql).unwrap();
        testdb::ids(pool, &sql).await
    }

    async fn check(pool: &AnyPool) {
        let ds = |n: &str, d: Option<&str>| DatasetFilter { name: n.into(), digest: d.map(str::to_owned) };
        for (filter, expected) in [
            ("", &["c", "b", "a"][..]),
            ("name = 'alpha'", &["a"]),
            ("name != 'alpha'", &["c", "b"]),
            ("name LIKE 'g%'", &[]),
            ("name ILIKE 'g%'", &["c"]),
            ("name IN ('alpha', 'beta')", &["b", "a"]),
            ("name NOT IN ('alpha')", &["c", "b"]),
            ("model_id = 'b'", &["b"]),
            ("model_type = 'clf'", &["a"]),
            ("source_run_id = 'r1'", &["c", "b", "a"]),
            ("status = 'LOGGED_MODEL_READY'", &["c", "a"]),
            ("status = '1'", &["b"]),
            ("experiment_id = '1'", &["c", "b", "a"]),
            ("creation_timestamp > 150", &["c", "b"]),
            ("last_updated_timestamp <= 200", &["b", "a"]),
            ("metrics.acc > 0.8", &["a"]),
            ("metrics.acc < 0.6", &["a"]),
            ("metrics.acc >= 0.7", &["b", "a"]),
            ("params.lr = '0.1'", &["a"]),
            ("params.lr != '0.1'", &["b"]),
            ("tags.team = 'core'", &["c"]),
            ("params.lr LIKE '0.0%' AND metrics.acc > 0", &["b"]),
        ] {
            assert_eq!(search(pool, filter, &[], &[]).await, expected, "{filter}");
        }
        assert_eq!(search(pool, "", &[ds("ds", None)], &[]).await, ["b"]);
        assert_eq!(search(pool, "", &[ds("ds", Some("zz"))], &[]).await, Vec::<String>::new());
        assert_eq!(search(pool, "metrics.acc > 0.6", &[ds("ds", Some("d1"))], &[]).await, ["b"]);
        assert_eq!(search(pool, "metrics.acc > 0.8", &[ds("ds", None)], &[]).await, Vec::<String>::new());
        for (order, expected) in [
            (vec![ob("metrics.acc", true)], ["b", "a", "c"]),
            (vec![ob("metrics.acc", false)], ["a", "b", "c"]),
            (vec![ob("name", true)], ["c", "a", "b"]),
            (vec![ob("creation_timestamp", true)], ["a", "b", "c"]),
            (vec![ob("model_type", false)], ["c", "a", "b"]),
        ] {
            assert_eq!(search(pool, "", &[], &order).await, expected, "{order:?}");
        }
        let on_ds = OrderByEntry { dataset_name: Some("ds".into()), ..ob("metrics.acc", false) };
        assert_eq!(search(pool, "", &[], &[on_ds]).await, ["b", "c", "a"]);
    }

    #[tokio::test]
    async fn filters_and_orderings_on_sqlite() {
        let pool = testdb::sqlite().await;
        seed(&pool).await;
        check(&pool).await;
    }

    #[tokio::test]
    async fn filters_and_orderings_on_postgres() {
        let (pool, _db) = testdb::postgres().await;
        seed(&pool).await;
        check(&pool).await;
    }
}
