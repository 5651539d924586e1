//! Experiment search (`experiments/search`): filters and order_by over `experiments e`.

use super::SearchError;
use super::compile::{push_cmp, push_int_list};
use super::filter::{
    Clause, Comparison, Entity, InvalidStyle, Key, Op, RawValue, Value, attribute_or_tag_entity, check_lists,
    list_values, number_value, parse_clauses, quoted_value, split_identifier, strip_quotes, trim_backticks,
};
use super::order_by::{OrderKey, parse_entry};
use super::pyrepr::{str_repr, str_set_repr};
use crate::store::query::Sql;

const ATTRIBUTES: &[&str] = &["name", "experiment_id", "creation_time", "last_update_time"];
const NUMERIC_ATTRIBUTES: &[&str] = &["creation_time", "last_update_time"];
const NUMERIC_COMPARATORS: &[&str] = &[">", ">=", "!=", "=", "<", "<="];
const STRING_ATTRIBUTE_COMPARATORS: &[&str] = &["!=", "=", "LIKE", "ILIKE", "IN", "NOT IN"];

fn identifier(ident: &str) -> Result<Key, SearchError> {
    let (entity, key) = split_identifier(ident);
    let entity = match entity {
        Some(e) => attribute_or_tag_entity(e)?,
        None => Entity::Attribute,
    };
    let name = trim_backticks(strip_quotes(key)).to_owned();
    if entity == Entity::Attribute && !ATTRIBUTES.contains(&name.as_str()) {
        return Err(SearchError::new(format!(
            "Invalid attribute key '{name}' specified. Valid keys are '{}'",
            str_set_repr(ATTRIBUTES)
        )));
    }
    Ok(Key { entity, name })
}

/// A value as it is after MLflow's parse step: numbers for the timestamps, strings or a list
/// of strings (experiment ids) otherwise.
fn value(key: &Key, raw: &RawValue) -> Result<Value, SearchError> {
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
    if NUMERIC_ATTRIBUTES.contains(&key.name.as_str()) {
        return match raw {
            RawValue::Number { raw, integer } => Ok(number_value(raw, *integer)),
            other => Err(SearchError::new(format!(
                "Expected numeric value type for numeric attribute: {}. Found {}",
                key.name,
                other.raw()
            ))),
        };
    }
    match raw {
        _ if is_string => Ok(Value::Text(quoted_value(raw.raw())?)),
        RawValue::List { .. } => {
            if key.name != "experiment_id" {
                return Err(SearchError::new(
                    "Only ['experiment_id'] attributes support comparison with a list of quoted \
                     string values.",
                ));
            }
            Ok(Value::List(list_values(raw)?))
        }
        other => {
            Err(SearchError::new(format!("Expected a quoted string value for attributes. Got value {}", other.raw())))
        }
    }
}

fn resolve(clause: &Clause) -> Result<(Key, Value), SearchError> {
    let key = identifier(&clause.ident)?;
    if matches!(clause.value, RawValue::None) {
        if key.entity != Entity::Tag {
            return Err(SearchError::new(format!(
                "IS NULL / IS NOT NULL is only supported for tags, not for attribute '{}'",
                key.name
            )));
        }
        return Ok((key, Value::None));
    }
    let v = value(&key, &clause.value)?;
    Ok((key, v))
}

fn experiment_id(s: &str) -> Result<i64, SearchError> {
    let t = s.trim();
    t.strip_prefix('+')
        .unwrap_or(t)
        .parse::<i64>()
        .map_err(|_| SearchError::new(format!("Invalid experiment ID '{s}'. Experiment ID must be a valid integer.")))
}

/// MLflow's compile step: comparator per key, experiment ids and timestamps as integers.
fn check(key: &Key, op: &str, value: Value) -> Result<(Op, Value), SearchError> {
    let parsed = Op::from_mlflow(op);
    if key.entity == Entity::Tag {
        return match parsed {
            Some(o @ (Op::IsNull | Op::IsNotNull | Op::Eq | Op::Ne | Op::Like | Op::ILike)) => Ok((o, value)),
            _ => Err(SearchError::new(format!("Invalid comparator for tag: {op}"))),
        };
    }
    if key.name == "experiment_id" {
        let o = match parsed {
            Some(o @ (Op::Eq | Op::Ne | Op::In | Op::NotIn)) => o,
            _ => {
                return Err(SearchError::new(format!("Invalid comparator for experiment_id: {op}")));
            }
        };
        // Ids travel as text in the List/Text value and are checked here; the SQL binds ints.
        return match value {
            Value::Text(s) => Ok((o, Value::Int(experiment_id(&s)?))),
            Value::List(items) => {
                for s in &items {
                    experiment_id(s)?;
                }
                Ok((o, Value::List(items)))
            }
            other => Ok((o, other)),
        };
    }
    if NUMERIC_ATTRIBUTES.contains(&key.name.as_str()) {
        let o = match parsed {
            Some(o) if NUMERIC_COMPARATORS.contains(&op) => o,
            _ => {
                // MLflow lists the string comparators here and drops the closing quote.
                return Err(SearchError::new(format!(
                    "Invalid comparator '{op}' not one of '{}",
                    str_set_repr(STRING_ATTRIBUTE_COMPARATORS)
                )));
            }
        };
        return match value {
            Value::Int(i) => Ok((o, Value::Int(i))),
            Value::Float(f) => Err(SearchError::new(format!(
                "Invalid value for numeric attribute '{}': {}",
                key.name,
                str_repr(&python_float_str(f))
            ))),
            other => Ok((o, other)),
        };
    }
    match parsed {
        Some(o @ (Op::Eq | Op::Ne | Op::Like | Op::ILike)) => Ok((o, value)),
        Some(Op::In | Op::NotIn) => Err(SearchError::new(format!("Invalid comparator for string attribute: {op}"))),
        _ => Err(SearchError::new(format!(
            "Invalid comparator '{op}' not one of '{}'",
            str_set_repr(STRING_ATTRIBUTE_COMPARATORS)
        ))),
    }
}

/// Python's `str(float)` for the values a filter can hold.
fn python_float_str(f: f64) -> String {
    if f.is_finite() && f == f.trunc() && f.abs() < 1e16 {
        format!("{f:.1}")
    } else if f.is_infinite() {
        if f > 0.0 { "inf".to_owned() } else { "-inf".to_owned() }
    } else {
        format!("{f}")
    }
}

/// Parses and validates an experiment filter. Experiment ids come back as `Int` (or a `List`
/// of their decimal text, every item a valid integer).
pub fn parse_filter(filter: &str) -> Result<Vec<Comparison>, SearchError> {
    let clauses = parse_clauses(filter, InvalidStyle::Bare)?;
    let resolved = clauses.iter().map(resolve).collect::<Result<Vec<_>, _>>()?;
    clauses
        .iter()
        .zip(resolved)
        .map(|(clause, (key, value))| {
            let (op, value) = check(&key, &clause.op, value)?;
            Ok(Comparison { key, op, value })
        })
        .collect::<Result<Vec<_>, SearchError>>()
        .and_then(check_lists)
}

/// Appends ` AND (…)` for each comparison of `filter` over `experiments e`.
pub fn experiments_where(filter: &str, sql: &mut Sql) -> Result<(), SearchError> {
    for c in parse_filter(filter)? {
        sql.push(" AND (");
        match c.key.entity {
            Entity::Tag => {
                if c.op == Op::IsNull {
                    sql.push("NOT ");
                }
                sql.push(
                    "EXISTS (SELECT 1 FROM experiment_tags et WHERE et.experiment_id = \
                     e.experiment_id AND et.key = ",
                )
                .bind(c.key.name.as_str());
                if !matches!(c.op, Op::IsNull | Op::IsNotNull) {
                    sql.push(" AND ");
                    push_cmp(sql, "et.value", c.op, &c.value);
                }
                sql.push(")");
            }
            _ => {
                let col = column(&c.key.name);
                match &c.value {
                    Value::List(items) if c.key.name == "experiment_id" => {
                        let ids: Vec<i64> = items.iter().map(|s| experiment_id(s)).collect::<Result<_, _>>()?;
                        push_int_list(sql, col, c.op == Op::NotIn, &ids);
                    }
                    v => push_cmp(sql, col, c.op, v),
                }
            }
        }
        sql.push(")");
    }
    Ok(())
}

fn column(attribute: &str) -> &'static str {
    match attribute {
        "experiment_id" => "e.experiment_id",
        "creation_time" => "e.creation_time",
        "last_update_time" => "e.last_update_time",
        _ => "e.name",
    }
}

/// Parses and validates experiment `order_by` entries; none means MLflow's default
/// `creation_time DESC, experiment_id ASC`.
pub fn parse_order_by(order_by: &[String]) -> Result<Vec<OrderKey>, SearchError> {
    if order_by.is_empty() {
        return parse_order_by(&["creation_time DESC".to_owned(), "experiment_id ASC".to_owned()]);
    }
    order_by
        .iter()
        .map(|entry| {
            let (ident, ascending) = parse_entry(entry)?;
            let key = identifier(ident.trim())?;
            if key.entity != Entity::Attribute {
                return Err(SearchError::new(format!("Invalid order_by entity: {}", key.entity.mlflow_name())));
            }
            Ok(OrderKey { key, ascending })
        })
        .collect()
}

/// Appends ` ORDER BY …` for experiment `order_by` entries, ending with `experiment_id DESC`
/// as MLflow's tie-breaker unless the entries already sort on it.
pub fn experiments_order_by(order_by: &[String], sql: &mut Sql) -> Result<(), SearchError> {
    let keys = parse_order_by(order_by)?;
    sql.push(" ORDER BY ");
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push(column(&k.key.name)).push(if k.ascending { " ASC" } else { " DESC" });
    }
    if !keys.iter().any(|k| k.key.name == "experiment_id") {
        sql.push(", e.experiment_id DESC");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::testdb;
    use crate::store::query::Bind;
    use sqlx::AnyPool;

    fn err(filter: &str) -> String {
        parse_filter(filter).expect_err(filter).message().to_owned()
    }

    #[test]
    fn accepted_keys_and_values() {
        let c = parse_filter("name LIKE 'x%' AND attribute.creation_time > 5 AND tag.team = 'a' AND tags.x IS NULL")
            .unwrap();
        assert_eq!(c[0].key, Key { entity: Entity::Attribute, name: "name".into() });
        assert_eq!(c[1].value, Value::Int(5));
        assert_eq!(c[2].key, Key { entity: Entity::Tag, name: "team".into() });
        assert_eq!(c[3].op, Op::IsNull);
        assert_eq!(parse_filter("experiment_id = '7'").unwrap()[0].value, Value::Int(7));
        assert_eq!(
            parse_filter("experiment_id IN ('1', \"2\")").unwrap()[0].value,
            Value::List(vec!["1".into(), "2".into()])
        );
        assert_eq!(parse_filter("name ilike 'A%'").unwrap()[0].op, Op::ILike);
    }

    #[test]
    fn mlflow_messages() {
        assert_eq!(
            err("attributes.name = 'x'"),
            "Invalid entity type 'attributes'. Valid entity types are ('attribute', 'tag', 'tags')"
        );
        assert_eq!(
            err("params.x = 'y'"),
            "Invalid entity type 'params'. Valid entity types are ('attribute', 'tag', 'tags')"
        );
        assert_eq!(
            err("lifecycle_stage = 'active'"),
            "Invalid attribute key 'lifecycle_stage' specified. Valid keys are '{'name', 'experiment_id', 'creation_time', 'last_update_time'}'"
        );
        assert_eq!(
            err("name IN ('a')"),
            "Only ['experiment_id'] attributes support comparison with a list of quoted string values."
        );
        assert_eq!(err("experiment_id = 1"), "Expected a quoted string value for attributes. Got value 1");
        assert_eq!(err("experiment_id = 'x'"), "Invalid experiment ID 'x'. Experiment ID must be a valid integer.");
        assert_eq!(
            err("experiment_id IN ('1', 'y')"),
            "Invalid experiment ID 'y'. Experiment ID must be a valid integer."
        );
        assert_eq!(err("experiment_id > '1'"), "Invalid comparator for experiment_id: >");
        assert_eq!(
            err("creation_time > '5'"),
            "Expected numeric value type for numeric attribute: creation_time. Found '5'"
        );
        assert_eq!(err("creation_time > 5.5"), "Invalid value for numeric attribute 'creation_time': '5.5'");
        assert_eq!(
            err("creation_time LIKE 5"),
            "Invalid comparator 'LIKE' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}"
        );
        assert_eq!(
            err("name > 'a'"),
            "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}'"
        );
        assert_eq!(err("name IS NULL"), "IS NULL / IS NOT NULL is only supported for tags, not for attribute 'name'");
        assert_eq!(err("tags.x > 'a'"), "Invalid comparator for tag: >");
        assert_eq!(err("tags.x = 1"), "Expected a quoted string value for tag (e.g. 'my-value'). Got value 1");
        assert_eq!(err("name = 'a' OR name = 'b'"), "Invalid clause(s) in filter string: OR");
        let o = |s: &str| parse_order_by(&[s.to_owned()]).unwrap_err().message().to_owned();
        assert_eq!(o("tags.x"), "Invalid order_by entity: tag");
        assert_eq!(o("attr.name"), "Invalid entity type 'attr'. Valid entity types are ('attribute', 'tag', 'tags')");
        assert_eq!(
            o("lifecycle_stage"),
            "Invalid attribute key 'lifecycle_stage' specified. Valid keys are '{'name', 'experiment_id', 'creation_time', 'last_update_time'}'"
        );
    }

    // Experiments 1..4: Default (created 10), exp-a (30), exp-b (30), Other (20).
    async fn seed(pool: &AnyPool) {
        use Bind::{Int, Text};
        for (name, created, updated) in [("Default", 10, 100), ("exp-a", 30, 50), ("exp-b", 30, 300), ("Other", 20, 20)]
        {
            testdb::exec(
                pool,
                "INSERT INTO experiments (name, artifact_location, creation_time, last_update_time) VALUES",
                vec![Text(name.into()), Text("a".into()), Int(created), Int(updated)],
            )
            .await;
        }
        for (id, key, value) in [(2, "team", "core"), (3, "team", "ml"), (3, "note", "x")] {
            testdb::exec(
                pool,
                "INSERT INTO experiment_tags (experiment_id, key, value) VALUES",
                vec![Int(id), Text(key.into()), Text(value.into())],
            )
            .await;
        }
    }

    async fn search(pool: &AnyPool, filter: &str, order_by: &[&str]) -> Vec<String> {
        let mut sql = Sql::new("SELECT CAST(e.experiment_id AS TEXT) FROM experiments e WHERE 1 = 1");
        experiments_where(filter, &mut sql).unwrap_or_else(|e| panic!("{filter}: {e}"));
        let order_by: Vec<String> = order_by.iter().map(|s| s.to_string()).collect();
        experiments_order_by(&order_by, &mut sql).unwrap_or_else(|e| panic!("{order_by:?}: {e}"));
        testdb::ids(pool, &sql).await
    }

    async fn check(pool: &AnyPool) {
        for (filter, expected) in [
            ("", &["2", "3", "4", "1"][..]),
            ("name = 'exp-a'", &["2"]),
            ("name != 'exp-a'", &["3", "4", "1"]),
            ("name LIKE 'exp-%'", &["2", "3"]),
            ("name LIKE 'EXP%'", &[]),
            ("name ILIKE 'EXP%'", &["2", "3"]),
            ("experiment_id = '3'", &["3"]),
            ("experiment_id IN ('1', '4')", &["4", "1"]),
            ("experiment_id NOT IN ('1', '4')", &["2", "3"]),
            ("creation_time >= 20", &["2", "3", "4"]),
            ("last_update_time < 100 AND creation_time > 10", &["2", "4"]),
            ("tags.team = 'core'", &["2"]),
            ("tags.team != 'core'", &["3"]),
            ("tags.team IS NULL", &["4", "1"]),
            ("tags.team IS NOT NULL AND tags.note LIKE '%'", &["3"]),
        ] {
            assert_eq!(search(pool, filter, &[]).await, expected, "{filter}");
        }
        for (order_by, expected) in [
            (&["creation_time"][..], ["1", "4", "3", "2"]),
            (&["creation_time DESC"], ["3", "2", "4", "1"]),
            (&["experiment_id DESC"], ["4", "3", "2", "1"]),
            (&["creation_time", "experiment_id"], ["1", "4", "2", "3"]),
            (&["last_update_time DESC"], ["3", "1", "2", "4"]),
        ] {
            assert_eq!(search(pool, "", order_by).await, expected, "{order_by:?}");
        }
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
