//! Run search (`runs/search`): filters and order_by over `runs r`.

use super::SearchError;
use super::compile::{push_cmp, push_nulls_last};
use super::filter::{
    Clause, Comparison, Entity, InvalidStyle, Key, Op, RawValue, Value, check_lists, list_values, number_value,
    parse_clauses, quoted_value, run_entity, split_identifier, strip_quotes, trim_backticks,
};
use super::order_by::{OrderKey, parse_entry};
use super::pyrepr::{str_list_repr, str_set_repr};
use crate::store::query::Sql;

const METRIC_COMPARATORS: &[&str] = &[">", ">=", "!=", "=", "<", "<="];
const PARAM_COMPARATORS: &[&str] = &["!=", "=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"];
const TAG_COMPARATORS: &[&str] = PARAM_COMPARATORS;
const STRING_ATTRIBUTE_COMPARATORS: &[&str] = &["!=", "=", "LIKE", "ILIKE", "IN", "NOT IN"];
const DATASET_COMPARATORS: &[&str] = STRING_ATTRIBUTE_COMPARATORS;

const SEARCH_ATTRIBUTES: &[&str] = &[
    "artifact_uri",
    "end_time",
    "run_id",
    "run_name",
    "start_time",
    "status",
    "user_id",
    "created",
    "Created",
    "run name",
    "Run name",
    "Run Name",
];
const ORDER_BY_ATTRIBUTES: &[&str] =
    &["artifact_uri", "end_time", "run_id", "run_name", "start_time", "status", "user_id", "created", "Created"];
const NUMERIC_ATTRIBUTES: &[&str] = &["start_time", "end_time", "created", "Created"];
const DATASET_KEYS: &[&str] = &["name", "digest", "context"];
const LIST_ATTRIBUTES: &str = "['run_id']";

/// The `input_tags` name under which a dataset input's context is stored.
const DATASET_CONTEXT_TAG: &str = "mlflow.data.context";

fn translate_alias(key: &str) -> &str {
    match key {
        "created" | "Created" => "start_time",
        "run name" | "Run name" | "Run Name" => "run_name",
        other => other,
    }
}

/// The `runs` column behind an attribute, and whether it may be NULL.
fn run_column(attribute: &str) -> (&'static str, bool) {
    match attribute {
        "run_id" => ("r.run_uuid", false),
        "run_name" => ("r.name", false),
        "status" => ("r.status", false),
        "user_id" => ("r.user_id", false),
        "artifact_uri" => ("r.artifact_uri", false),
        "start_time" => ("r.start_time", true),
        "end_time" => ("r.end_time", true),
        // Validation admits no other attribute.
        _ => ("r.run_uuid", false),
    }
}

/// `[entity.]key` as run search resolves it, checking attribute and dataset keys.
fn identifier(ident: &str, valid_attributes: &[&str]) -> Result<Key, SearchError> {
    let (entity, key) = split_identifier(ident);
    let entity = match entity {
        Some(e) => run_entity(e)?,
        None => Entity::Attribute,
    };
    let name = trim_backticks(strip_quotes(key)).to_owned();
    if entity == Entity::Attribute && !valid_attributes.contains(&name.as_str()) {
        return Err(SearchError::new(format!(
            "Invalid attribute key '{name}' specified. Valid keys are '{}'",
            str_set_repr(valid_attributes)
        )));
    }
    if entity == Entity::Dataset && !DATASET_KEYS.contains(&name.as_str()) {
        return Err(SearchError::new(format!(
            "Invalid dataset key '{name}' specified. Valid keys are '{}'",
            str_set_repr(DATASET_KEYS)
        )));
    }
    Ok(Key { entity, name })
}

/// The right-hand side, typed by the key (MLflow's parse-time checks).
fn value(key: &Key, raw: &RawValue) -> Result<Value, SearchError> {
    let is_string = matches!(raw, RawValue::Str { .. } | RawValue::Ident { .. });
    match key.entity {
        Entity::Metric => match raw {
            RawValue::Number { raw, .. } => Ok(Value::Float(raw.parse().unwrap_or(f64::NAN))),
            other => Err(SearchError::new(format!("Expected numeric value type for metric. Found {}", other.raw()))),
        },
        Entity::Param | Entity::Tag => {
            if is_string {
                Ok(Value::Text(quoted_value(raw.raw())?))
            } else {
                Err(SearchError::new(format!(
                    "Expected a quoted string value for {} (e.g. 'my-value'). Got value {}",
                    key.entity.mlflow_name(),
                    raw.raw()
                )))
            }
        }
        Entity::Attribute if NUMERIC_ATTRIBUTES.contains(&key.name.as_str()) => match raw {
            RawValue::Number { raw, integer } => Ok(number_value(raw, *integer)),
            other => Err(SearchError::new(format!(
                "Expected numeric value type for numeric attribute: {}. Found {}",
                key.name,
                other.raw()
            ))),
        },
        Entity::Attribute => match raw {
            _ if is_string => Ok(Value::Text(quoted_value(raw.raw())?)),
            RawValue::List { .. } => {
                if key.name != "run_id" {
                    return Err(SearchError::new(format!(
                        "Only {LIST_ATTRIBUTES} attributes support comparison with a list of \
                         quoted string values."
                    )));
                }
                Ok(Value::List(list_values(raw)?))
            }
            other => Err(SearchError::new(format!(
                "Expected a quoted string value for attributes. Got value {}",
                other.raw()
            ))),
        },
        Entity::Dataset => match raw {
            _ if is_string => Ok(Value::Text(quoted_value(raw.raw())?)),
            RawValue::List { .. } => Ok(Value::List(list_values(raw)?)),
            other => Err(SearchError::new(format!(
                "Expected a quoted string value for dataset attributes. Got value {}",
                other.raw()
            ))),
        },
    }
}

/// MLflow's parse step for one clause: the key and the typed value, comparator unchecked.
fn resolve(clause: &Clause) -> Result<(Key, Value), SearchError> {
    let key = identifier(&clause.ident, SEARCH_ATTRIBUTES)?;
    if matches!(clause.value, RawValue::None) {
        if !matches!(key.entity, Entity::Tag | Entity::Param) {
            return Err(SearchError::new(format!(
                "IS NULL / IS NOT NULL is only supported for tags and params, not for '{}' '{}'",
                key.entity.mlflow_name(),
                key.name
            )));
        }
        return Ok((key, Value::None));
    }
    let v = value(&key, &clause.value)?;
    Ok((key, v))
}

/// MLflow's compile step for one clause: the comparator must suit the key.
fn check_comparator(key: &Key, op: &str) -> Result<Op, SearchError> {
    // Some of these messages lack their closing quote in MLflow; kept so texts match.
    let (allowed, listed, close) = match key.entity {
        Entity::Metric => (METRIC_COMPARATORS, METRIC_COMPARATORS, ""),
        Entity::Param => (PARAM_COMPARATORS, PARAM_COMPARATORS, "'"),
        Entity::Tag => (TAG_COMPARATORS, TAG_COMPARATORS, ""),
        Entity::Dataset => (DATASET_COMPARATORS, DATASET_COMPARATORS, ""),
        Entity::Attribute if NUMERIC_ATTRIBUTES.contains(&key.name.as_str()) => {
            (METRIC_COMPARATORS, STRING_ATTRIBUTE_COMPARATORS, "")
        }
        Entity::Attribute => (STRING_ATTRIBUTE_COMPARATORS, STRING_ATTRIBUTE_COMPARATORS, "'"),
    };
    match Op::from_mlflow(op) {
        Some(o) if allowed.contains(&op) => Ok(o),
        _ => Err(SearchError::new(format!("Invalid comparator '{op}' not one of '{}{close}", str_set_repr(listed)))),
    }
}

/// Parses and validates a run filter into comparisons (aliases resolved: `created` is
/// `start_time`, `Run name` is `run_name`).
pub fn parse_filter(filter: &str) -> Result<Vec<Comparison>, SearchError> {
    let clauses = parse_clauses(filter, InvalidStyle::Quoted)?;
    // MLflow parses every clause before checking any comparator; the first error wins.
    let resolved = clauses.iter().map(resolve).collect::<Result<Vec<_>, _>>()?;
    clauses
        .iter()
        .zip(resolved)
        .map(|(clause, (mut key, value))| {
            let op = check_comparator(&key, &clause.op)?;
            key.name = translate_alias(&key.name).to_owned();
            Ok(Comparison { key, op, value })
        })
        .collect::<Result<Vec<_>, SearchError>>()
        .and_then(check_lists)
}

/// Appends ` AND (…)` for each comparison of `filter` over `runs r`.
pub fn runs_where(filter: &str, sql: &mut Sql) -> Result<(), SearchError> {
    for c in parse_filter(filter)? {
        sql.push(" AND (");
        push_comparison(sql, &c);
        sql.push(")");
    }
    Ok(())
}

fn push_comparison(sql: &mut Sql, c: &Comparison) {
    match c.key.entity {
        Entity::Attribute => push_cmp(sql, run_column(&c.key.name).0, c.op, &c.value),
        Entity::Metric => {
            sql.push("EXISTS (SELECT 1 FROM latest_metrics lm WHERE lm.run_uuid = r.run_uuid AND lm.key = ")
                .bind(c.key.name.as_str())
                .push(" AND ");
            // NaN is stored as 0 with is_nan = 1: it satisfies only `!=`, as in MLflow.
            if c.op == Op::Ne {
                sql.push("(");
                push_cmp(sql, "lm.value", c.op, &c.value);
                sql.push(" OR lm.is_nan = 1))");
            } else {
                push_cmp(sql, "lm.value", c.op, &c.value);
                sql.push(" AND lm.is_nan = 0)");
            }
        }
        Entity::Param | Entity::Tag => {
            let (table, alias) = if c.key.entity == Entity::Param { ("params", "p") } else { ("tags", "t") };
            if c.op == Op::IsNull {
                sql.push("NOT ");
            }
            sql.push("EXISTS (SELECT 1 FROM ")
                .push(table)
                .push(" ")
                .push(alias)
                .push(" WHERE ")
                .push(alias)
                .push(".run_uuid = r.run_uuid AND ")
                .push(alias)
                .push(".key = ")
                .bind(c.key.name.as_str());
            if !matches!(c.op, Op::IsNull | Op::IsNotNull) {
                sql.push(" AND ");
                push_cmp(sql, &format!("{alias}.value"), c.op, &c.value);
            }
            sql.push(")");
        }
        Entity::Dataset => {
            sql.push("EXISTS (SELECT 1 FROM run_dataset_inputs di ");
            if c.key.name == "context" {
                sql.push("JOIN input_tags it ON it.input_uuid = di.input_uuid WHERE it.name = ")
                    .bind(DATASET_CONTEXT_TAG)
                    .push(" AND ");
                push_cmp(sql, "it.value", c.op, &c.value);
            } else {
                let col = if c.key.name == "digest" { "d.digest" } else { "d.name" };
                sql.push("JOIN datasets d ON d.dataset_uuid = di.dataset_uuid WHERE ");
                push_cmp(sql, col, c.op, &c.value);
            }
            sql.push(" AND di.run_uuid = r.run_uuid)");
        }
    }
}

/// Parses and validates run `order_by` entries.
pub fn parse_order_by(order_by: &[String]) -> Result<Vec<OrderKey>, SearchError> {
    let mut keys: Vec<OrderKey> = Vec::new();
    for entry in order_by {
        let (ident, ascending) = parse_entry(entry)?;
        let mut key = identifier(ident.trim(), ORDER_BY_ATTRIBUTES)?;
        if key.entity == Entity::Dataset {
            return Err(SearchError::new("Invalid identifier type 'dataset'"));
        }
        key.name = translate_alias(&key.name).to_owned();
        if keys.iter().any(|k| k.key == key) {
            return Err(SearchError::new(format!("`order_by` contains duplicate fields: {}", str_list_repr(order_by))));
        }
        keys.push(OrderKey { key, ascending });
    }
    Ok(keys)
}

fn sort_alias(i: usize) -> String {
    format!("sk{i}")
}

/// A validated run `order_by`, compiled into the joins and the `ORDER BY` of one statement.
///
/// MLflow sorts runs that lack a metric, or hold NaN for it, after every run with a number. So
/// the runs that have a number for a leading metric key come first, in the order of that
/// number: [`RunOrder::numbers_only`] selects exactly that prefix with an inner join, which an
/// index on `latest_metrics (key, is_nan, value)` can feed in order, so the database stops after
/// one page instead of sorting the whole experiment.
#[derive(Debug, Clone)]
pub struct RunOrder {
    keys: Vec<OrderKey>,
    numbers_only: bool,
}

impl RunOrder {
    pub fn parse(order_by: &[String]) -> Result<RunOrder, SearchError> {
        Ok(RunOrder { keys: parse_order_by(order_by)?, numbers_only: false })
    }

    /// Whether the first sort key is a metric.
    pub fn leads_with_metric(&self) -> bool {
        self.keys.first().is_some_and(|k| k.key.entity == Entity::Metric)
    }

    /// The same order over only the runs with a number for the leading metric: a prefix of the
    /// full order. Without a leading metric, the order is unchanged.
    pub fn numbers_only(&self) -> RunOrder {
        RunOrder { keys: self.keys.clone(), numbers_only: self.leads_with_metric() }
    }

    /// The joins that bring each metric, param or tag sort key beside its run, to be placed
    /// after `FROM runs r`. A join lets the database read each key once for all rows instead of
    /// probing it row by row.
    pub fn push_joins(&self, sql: &mut Sql) {
        for (i, k) in self.keys.iter().enumerate() {
            let table = match k.key.entity {
                Entity::Metric => "latest_metrics",
                Entity::Param => "params",
                Entity::Tag => "tags",
                Entity::Attribute | Entity::Dataset => continue,
            };
            let alias = sort_alias(i);
            let join = if i == 0 && self.numbers_only { "JOIN" } else { "LEFT JOIN" };
            sql.push(&format!(" {join} {table} {alias} ON {alias}.run_uuid = r.run_uuid AND {alias}.key = "))
                .bind(k.key.name.as_str());
            if i == 0 && self.numbers_only {
                sql.push(&format!(" AND {alias}.is_nan = 0"));
            }
        }
    }

    /// ` ORDER BY …` for the keys, then MLflow's tie-breakers (`start_time DESC` unless already
    /// sorted on, then `run_uuid`). Missing values sort last; among metrics, NaN sorts after
    /// every number and before missing.
    pub fn push_order_by(&self, sql: &mut Sql) {
        sql.push(" ORDER BY ");
        for (i, k) in self.keys.iter().enumerate() {
            match k.key.entity {
                Entity::Attribute => {
                    let (col, nullable) = run_column(&k.key.name);
                    if nullable {
                        push_nulls_last(
                            sql,
                            &mut |s: &mut Sql| {
                                s.push(col);
                            },
                            k.ascending,
                        );
                    } else {
                        sql.push(col).push(if k.ascending { "" } else { " DESC" });
                    }
                }
                Entity::Metric => {
                    let alias = sort_alias(i);
                    if !(i == 0 && self.numbers_only) {
                        // 0 for a number, 1 for NaN, 2 for no such metric.
                        sql.push(&format!("CASE WHEN {alias}.run_uuid IS NULL THEN 2 ELSE {alias}.is_nan END, "));
                    }
                    sql.push(&format!("{alias}.value"));
                    sql.push(if k.ascending { "" } else { " DESC" });
                }
                Entity::Param | Entity::Tag => {
                    let column = format!("{}.value", sort_alias(i));
                    push_nulls_last(
                        sql,
                        &mut |s: &mut Sql| {
                            s.push(&column);
                        },
                        k.ascending,
                    );
                }
                // Rejected by parse_order_by.
                Entity::Dataset => continue,
            }
            sql.push(", ");
        }
        let sorted_on_start = self.keys.iter().any(|k| k.key.entity == Entity::Attribute && k.key.name == "start_time");
        if !sorted_on_start {
            push_nulls_last(
                sql,
                &mut |s: &mut Sql| {
                    s.push("r.start_time");
                },
                false,
            );
            sql.push(", ");
        }
        sql.push("r.run_uuid");
    }
}

/// [`RunOrder::push_joins`] for raw `order_by` entries.
pub fn runs_sort_joins(order_by: &[String], sql: &mut Sql) -> Result<(), SearchError> {
    RunOrder::parse(order_by)?.push_joins(sql);
    Ok(())
}

/// [`RunOrder::push_order_by`] for raw `order_by` entries; the statement must hold the joins of
/// [`runs_sort_joins`].
pub fn runs_order_by(order_by: &[String], sql: &mut Sql) -> Result<(), SearchError> {
    RunOrder::parse(order_by)?.push_order_by(sql);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::testdb;
    use crate::store::query::Bind;
    use sqlx::AnyPool;

    fn parsed(filter: &str) -> Vec<Comparison> {
        parse_filter(filter).unwrap_or_else(|e| panic!("{filter}: {e}"))
    }

    fn err(filter: &str) -> String {
        parse_filter(filter).expect_err(filter).message().to_owned()
    }

    fn cmp(entity: Entity, name: &str, op: Op, value: Value) -> Comparison {
        Comparison { key: Key { entity, name: name.to_owned() }, op, value }
    }

    #[test]
    fn entities_and_their_aliases() {
        for (f, entity, name) in [
            ("metrics.acc > 1", Entity::Metric, "acc"),
            ("metric.acc > 1", Entity::Metric, "acc"),
            ("`metrics`.acc > 1", Entity::Metric, "acc"),
            ("params.x = 'a'", Entity::Param, "x"),
            ("param.x = 'a'", Entity::Param, "x"),
            ("parameters.x = 'a'", Entity::Param, "x"),
            ("parameter.x = 'a'", Entity::Param, "x"),
            ("tags.x = 'a'", Entity::Tag, "x"),
            ("tag.x = 'a'", Entity::Tag, "x"),
            ("attributes.status = 'a'", Entity::Attribute, "status"),
            ("attribute.status = 'a'", Entity::Attribute, "status"),
            ("attr.status = 'a'", Entity::Attribute, "status"),
            ("run.status = 'a'", Entity::Attribute, "status"),
            ("status = 'a'", Entity::Attribute, "status"),
            ("datasets.name = 'a'", Entity::Dataset, "name"),
            ("dataset.digest = 'a'", Entity::Dataset, "digest"),
        ] {
            let c = &parsed(f)[0];
            assert_eq!((c.key.entity, c.key.name.as_str()), (entity, name), "{f}");
        }
    }

    #[test]
    fn quoted_keys() {
        assert_eq!(
            parsed("metrics.`my metric` >= -1.5e3")[0],
            cmp(Entity::Metric, "my metric", Op::Ge, Value::Float(-1500.0))
        );
        assert_eq!(parsed("metrics.\"my metric\" = 2")[0].key.name, "my metric");
        assert_eq!(parsed("params.'x' = 'a'")[0].key.name, "x");
        assert_eq!(parsed("tags.\"mlflow.runName\" = 'z'")[0].key.name, "mlflow.runName");
        assert_eq!(parsed("tags.`a.b` = 'z'")[0].key.name, "a.b");
        assert_eq!(parsed("metrics.a.b > 1")[0].key.name, "a.b");
        assert_eq!(parsed("tags.ü = 'x'")[0].key.name, "ü");
    }

    #[test]
    fn attribute_aliases_resolve() {
        assert_eq!(parsed("created > 10")[0], cmp(Entity::Attribute, "start_time", Op::Gt, Value::Int(10)));
        assert_eq!(parsed("Created > 10")[0].key.name, "start_time");
        for f in ["`Run name` = 'x'", "\"run name\" = 'x'", "`Run Name` = 'x'", "attributes.run_name = 'x'"] {
            assert_eq!(parsed(f)[0], cmp(Entity::Attribute, "run_name", Op::Eq, Value::Text("x".into())), "{f}");
        }
    }

    #[test]
    fn values_are_typed_by_key() {
        assert_eq!(parsed("metrics.acc = .5")[0].value, Value::Float(0.5));
        assert_eq!(parsed("metrics.acc = 5.")[0].value, Value::Float(5.0));
        assert_eq!(parsed("metrics.acc = 1e10")[0].value, Value::Float(1e10));
        assert_eq!(parsed("start_time > 1.5")[0].value, Value::Float(1.5));
        assert_eq!(parsed("end_time <= 5")[0].value, Value::Int(5));
        assert_eq!(parsed("params.x = \"a\"")[0].value, Value::Text("a".into()));
        assert_eq!(parsed("params.x = 'it''s'")[0].value, Value::Text("it''s".into()));
        assert_eq!(parsed("params.x != ''")[0].value, Value::Text(String::new()));
        assert_eq!(
            parsed("run_id IN ('a', 'b')")[0],
            cmp(Entity::Attribute, "run_id", Op::In, Value::List(vec!["a".into(), "b".into()]))
        );
        assert_eq!(parsed("run_id not in ('a')")[0].op, Op::NotIn);
        assert_eq!(
            parsed("datasets.context IN ('train', 'eval')")[0].value,
            Value::List(vec!["train".into(), "eval".into()])
        );
        assert_eq!(parsed("params.x is null")[0], cmp(Entity::Param, "x", Op::IsNull, Value::None));
        assert_eq!(parsed("tags.x IS NOT NULL")[0].op, Op::IsNotNull);
        assert_eq!(parsed("params.x like '%a'")[0].op, Op::Like);
        assert_eq!(parsed("params.x ILIKE '%a'")[0].op, Op::ILike);
        assert_eq!(parsed("metrics.acc >= 1 AND metrics.acc <= 2").len(), 2);
        // MLflow does not require AND between comparisons either.
        assert_eq!(parsed("params.x = 'a' params.y = 'b'").len(), 2);
    }

    #[test]
    fn mlflow_messages_for_bad_keys() {
        assert_eq!(
            err("foo.bar = 'x'"),
            "Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']"
        );
        assert_eq!(
            err("METRICS.acc > 1"),
            "Invalid entity type 'METRICS'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']"
        );
        assert_eq!(
            err("`params.x` = 'a'"),
            "Invalid entity type '`params'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']"
        );
        assert_eq!(
            err("attributes.foo = 'x'"),
            "Invalid attribute key 'foo' specified. Valid keys are '{'artifact_uri', 'end_time', 'run_id', \
             'run_name', 'start_time', 'status', 'user_id', 'created', 'Created', 'run name', 'Run name', 'Run Name'}'"
        );
        assert_eq!(
            err("datasets.foo = 'x'"),
            "Invalid dataset key 'foo' specified. Valid keys are '{'name', 'digest', 'context'}'"
        );
    }

    #[test]
    fn mlflow_messages_for_bad_values() {
        assert_eq!(err("metrics.acc = 'x'"), "Expected numeric value type for metric. Found 'x'");
        assert_eq!(err("metrics.acc > 1e"), "Expected numeric value type for metric. Found 1e");
        assert_eq!(err("metrics.acc IN (1)"), "Expected numeric value type for metric. Found (1)");
        assert_eq!(err("params.x = 1"), "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 1");
        assert_eq!(
            err("params.x = NULL"),
            "Expected a quoted string value for parameter (e.g. 'my-value'). Got value NULL"
        );
        assert_eq!(
            err("params.x IN ('a')"),
            "Expected a quoted string value for parameter (e.g. 'my-value'). Got value ('a')"
        );
        assert_eq!(
            err("tags.x NOT IN ('a')"),
            "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('a')"
        );
        assert_eq!(
            err("params.x = a"),
            "Parameter value is either not quoted or unidentified quote types used for string value a. \
             Use either single or double quotes."
        );
        assert_eq!(
            err("start_time > '10'"),
            "Expected numeric value type for numeric attribute: start_time. Found '10'"
        );
        assert_eq!(
            err("status IN ('a')"),
            "Only ['run_id'] attributes support comparison with a list of quoted string values."
        );
        assert_eq!(err("status = 1"), "Expected a quoted string value for attributes. Got value 1");
        assert_eq!(err("datasets.name = 1"), "Expected a quoted string value for dataset attributes. Got value 1");
        assert_eq!(
            err("run_id IN ()"),
            "While parsing a list in the query, expected a non-empty list of string values, but got empty list"
        );
        assert_eq!(
            err("metrics.acc IS NULL"),
            "IS NULL / IS NOT NULL is only supported for tags and params, not for 'metric' 'acc'"
        );
        assert_eq!(
            err("start_time IS NULL"),
            "IS NULL / IS NOT NULL is only supported for tags and params, not for 'attribute' 'start_time'"
        );
    }

    #[test]
    fn mlflow_messages_for_bad_comparators() {
        assert_eq!(
            err("metrics.acc LIKE 1"),
            "Invalid comparator 'LIKE' not one of '{'>', '>=', '!=', '=', '<', '<='}"
        );
        assert_eq!(err("metrics.acc == 1"), "Invalid comparator '==' not one of '{'>', '>=', '!=', '=', '<', '<='}");
        assert_eq!(
            err("params.x > 'a'"),
            "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}'"
        );
        assert_eq!(
            err("tags.x RLIKE 'a'"),
            "Invalid comparator 'RLIKE' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'}"
        );
        assert_eq!(
            err("status > 'a'"),
            "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}'"
        );
        assert_eq!(
            err("start_time LIKE 1"),
            "Invalid comparator 'LIKE' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}"
        );
        assert_eq!(
            err("datasets.name > 'x'"),
            "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}"
        );
        // MLflow hands these to SQLAlchemy, which fails; they are 400s here.
        assert_eq!(err("run_id = ('a', 'b')"), "Invalid comparator '=' for a list of values; use IN or NOT IN");
        assert_eq!(err("datasets.name LIKE ('a')"), "Invalid comparator 'LIKE' for a list of values; use IN or NOT IN");
        // Every clause is parsed before any comparator is checked.
        assert_eq!(err("params.x > 'a' AND metrics.y = 'q'"), "Expected numeric value type for metric. Found 'q'");
    }

    #[test]
    fn mlflow_messages_for_bad_order_by() {
        let e = |o: &[&str]| {
            let o: Vec<String> = o.iter().map(|s| s.to_string()).collect();
            parse_order_by(&o).unwrap_err().message().to_owned()
        };
        assert_eq!(
            e(&["`Run name`"]),
            "Invalid attribute key 'Run name' specified. Valid keys are '{'artifact_uri', 'end_time', 'run_id', \
             'run_name', 'start_time', 'status', 'user_id', 'created', 'Created'}'"
        );
        assert_eq!(e(&["datasets.name"]), "Invalid identifier type 'dataset'");
        assert_eq!(
            e(&["foo.bar"]),
            "Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']"
        );
        assert_eq!(
            e(&["created DESC", "start_time"]),
            "`order_by` contains duplicate fields: ['created DESC', 'start_time']"
        );
        assert_eq!(
            e(&["metrics.acc", "metric.acc DESC"]),
            "`order_by` contains duplicate fields: ['metrics.acc', 'metric.acc DESC']"
        );
        assert_eq!(e(&["metrics.acc foo"]), "Invalid ordering key in order_by clause 'metrics.acc foo'.");
    }

    #[test]
    fn order_by_keys() {
        let o = |s: &str| parse_order_by(&[s.to_owned()]).unwrap().remove(0);
        assert_eq!(
            o("metrics.`my metric` DESC"),
            OrderKey { key: Key { entity: Entity::Metric, name: "my metric".into() }, ascending: false }
        );
        assert_eq!(o("created").key.name, "start_time");
        assert_eq!(o("tags.`mlflow.runName`").key, Key { entity: Entity::Tag, name: "mlflow.runName".into() });
    }

    #[test]
    fn sql_has_only_binds_for_user_text() {
        let mut sql = Sql::new("SELECT r.run_uuid FROM runs r WHERE 1 = 1");
        runs_where("params.`x'; DROP TABLE runs; --` = 'y''); DROP TABLE runs; --'", &mut sql).unwrap();
        assert!(!sql.text().contains("DROP"), "{}", sql.text());
        assert_eq!(sql.binds().len(), 2);
    }

    // Four runs in experiment 1. Default order is start_time DESC, run_uuid: r2, r4, r3, r1.
    async fn seed(pool: &AnyPool) {
        use Bind::{Float, Int, NullInt, Text};
        let t = |s: &str| Text(s.to_owned());
        testdb::exec(
            pool,
            "INSERT INTO experiments (name, artifact_location, creation_time, last_update_time) VALUES",
            vec![t("e"), t("a"), Int(0), Int(0)],
        )
        .await;
        for (id, name, status, user, start, end) in [
            ("r1", "alpha", "FINISHED", "alice", Int(100), Int(200)),
            ("r2", "beta", "RUNNING", "bob", Int(300), NullInt),
            ("r3", "Gamma", "FAILED", "alice", Int(200), Int(250)),
            ("r4", "delta", "FINISHED", "carol", Int(300), Int(400)),
        ] {
            testdb::exec(
                pool,
                "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time, artifact_uri) VALUES",
                vec![t(id), Int(1), t(name), t(user), t(status), start, end, t("x")],
            )
            .await;
        }
        for (run, key, value) in [
            ("r1", "acc", 0.9),
            ("r1", "loss", f64::NAN),
            ("r2", "acc", 0.5),
            ("r2", "my metric", 5.0),
            ("r3", "loss", 1.0),
            ("r4", "acc", f64::NAN),
        ] {
            let (v, nan) = if value.is_nan() { (0.0, 1) } else { (value, 0) };
            testdb::exec(
                pool,
                "INSERT INTO latest_metrics (run_uuid, key, step, timestamp, value, is_nan) VALUES",
                vec![t(run), t(key), Int(0), Int(0), Float(v), Int(nan)],
            )
            .await;
        }
        for (run, key, value) in [
            ("r1", "lr", "0.1"),
            ("r1", "model", "CNN"),
            ("r2", "lr", "0.01"),
            ("r2", "model", "cnn"),
            ("r3", "model", "RNN"),
        ] {
            testdb::exec(pool, "INSERT INTO params (run_uuid, key, value) VALUES", vec![t(run), t(key), t(value)])
                .await;
        }
        for (run, key, value) in [("r1", "team", "core"), ("r1", "mlflow.runName", "alpha"), ("r2", "team", "ml")] {
            testdb::exec(pool, "INSERT INTO tags (run_uuid, key, value) VALUES", vec![t(run), t(key), t(value)]).await;
        }
        for (ds, name, digest) in [("d1", "train-ds", "abc"), ("d2", "eval-ds", "def")] {
            testdb::exec(
                pool,
                "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, source_type, source) VALUES",
                vec![t(ds), Int(1), t(name), t(digest), t("local"), t("s")],
            )
            .await;
        }
        for (input, run, ds, context) in [("i1", "r1", "d1", "training"), ("i2", "r3", "d2", "eval")] {
            testdb::exec(
                pool,
                "INSERT INTO run_dataset_inputs (input_uuid, run_uuid, dataset_uuid) VALUES",
                vec![t(input), t(run), t(ds)],
            )
            .await;
            testdb::exec(
                pool,
                "INSERT INTO input_tags (input_uuid, name, value) VALUES",
                vec![t(input), t("mlflow.data.context"), t(context)],
            )
            .await;
        }
    }

    async fn search(pool: &AnyPool, filter: &str, order_by: &[&str]) -> Vec<String> {
        let order_by: Vec<String> = order_by.iter().map(|s| s.to_string()).collect();
        let mut sql = Sql::new("SELECT r.run_uuid FROM runs r");
        runs_sort_joins(&order_by, &mut sql).unwrap_or_else(|e| panic!("{order_by:?}: {e}"));
        sql.push(" WHERE r.experiment_id = 1");
        runs_where(filter, &mut sql).unwrap_or_else(|e| panic!("{filter}: {e}"));
        runs_order_by(&order_by, &mut sql).unwrap_or_else(|e| panic!("{order_by:?}: {e}"));
        testdb::ids(pool, &sql).await
    }

    async fn check_filters(pool: &AnyPool) {
        for (filter, expected) in [
            ("", &["r2", "r4", "r3", "r1"][..]),
            ("metrics.acc > 0.6", &["r1"]),
            ("metrics.acc >= 0", &["r2", "r1"]),
            ("metrics.acc != 0.5", &["r4", "r1"]),
            ("metrics.acc = 0", &[]),
            ("metrics.loss < 2", &["r3"]),
            ("metrics.`my metric` > 1", &["r2"]),
            ("params.model = 'CNN'", &["r1"]),
            ("params.model != 'CNN'", &["r2", "r3"]),
            ("params.model LIKE 'C%'", &["r1"]),
            ("params.model ILIKE 'c%'", &["r2", "r1"]),
            ("params.lr IS NULL", &["r4", "r3"]),
            ("params.lr IS NOT NULL", &["r2", "r1"]),
            ("tags.team != 'core'", &["r2"]),
            ("tags.\"mlflow.runName\" = 'alpha'", &["r1"]),
            ("attributes.status = 'FINISHED'", &["r4", "r1"]),
            ("status != 'FINISHED'", &["r2", "r3"]),
            ("run_id IN ('r1', 'r3')", &["r3", "r1"]),
            ("run_id NOT IN ('r1')", &["r2", "r4", "r3"]),
            ("attributes.run_name ILIKE 'g%'", &["r3"]),
            ("`Run name` = 'beta'", &["r2"]),
            ("run_name LIKE 'g%'", &[]),
            ("created > 150", &["r2", "r4", "r3"]),
            ("start_time >= 199.5", &["r2", "r4", "r3"]),
            ("end_time < 240", &["r1"]),
            ("end_time != 200", &["r4", "r3"]),
            ("user_id = 'alice' AND params.model != 'RNN'", &["r1"]),
            ("datasets.name = 'train-ds'", &["r1"]),
            ("datasets.digest IN ('abc', 'def')", &["r3", "r1"]),
            ("datasets.context = 'eval'", &["r3"]),
            ("dataset.name LIKE '%-ds' AND datasets.context != 'eval'", &["r1"]),
        ] {
            assert_eq!(search(pool, filter, &[]).await, expected, "{filter}");
        }
    }

    async fn check_orderings(pool: &AnyPool) {
        for (order_by, expected) in [
            (&["metrics.acc DESC"][..], ["r1", "r2", "r4", "r3"]),
            (&["metrics.acc"], ["r2", "r1", "r4", "r3"]),
            (&["params.lr"], ["r2", "r1", "r4", "r3"]),
            (&["params.lr DESC"], ["r1", "r2", "r4", "r3"]),
            (&["tags.team DESC"], ["r2", "r1", "r4", "r3"]),
            (&["start_time ASC"], ["r1", "r3", "r2", "r4"]),
            (&["attribute.end_time"], ["r1", "r3", "r4", "r2"]),
            (&["end_time DESC"], ["r4", "r3", "r1", "r2"]),
            (&["user_id DESC"], ["r4", "r2", "r3", "r1"]),
            (&["run_id DESC"], ["r4", "r3", "r2", "r1"]),
            (&["user_id", "metrics.loss DESC"], ["r3", "r1", "r2", "r4"]),
        ] {
            assert_eq!(search(pool, "", order_by).await, expected, "{order_by:?}");
        }
        assert_eq!(search(pool, "params.model ILIKE '%n%'", &["metrics.acc DESC"]).await, ["r1", "r2", "r3"]);
    }

    #[tokio::test]
    async fn filters_select_the_runs_mlflow_selects_on_sqlite() {
        let pool = testdb::sqlite().await;
        seed(&pool).await;
        check_filters(&pool).await;
    }

    #[tokio::test]
    async fn orderings_match_mlflow_on_sqlite() {
        let pool = testdb::sqlite().await;
        seed(&pool).await;
        check_orderings(&pool).await;
    }

    #[tokio::test]
    async fn filters_and_orderings_on_postgres() {
        let (pool, _db) = testdb::postgres().await;
        seed(&pool).await;
        check_filters(&pool).await;
        check_orderings(&pool).await;
    }
}
