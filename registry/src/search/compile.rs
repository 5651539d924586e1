//! SQL for one column compared with one validated value; shared by every search kind.

use super::filter::{Op, Value};
use crate::store::query::{Bind, Sql};

fn bind_of(value: &Value) -> Bind {
    match value {
        Value::Int(i) => Bind::Int(*i),
        Value::Float(f) => Bind::Float(*f),
        Value::Text(s) => Bind::Text(s.clone()),
        // Callers never bind these; a NULL makes the comparison false rather than wrong.
        Value::None | Value::List(_) => Bind::NullText,
    }
}

/// Appends `col op value`; `ILIKE` lowers both sides because SQLite has no ILIKE and
/// PostgreSQL's LIKE is case-sensitive, and `LIKE` relies on the connection making SQLite's
/// LIKE case-sensitive too.
pub(crate) fn push_cmp(sql: &mut Sql, col: &str, op: Op, value: &Value) {
    match (op, value) {
        (Op::In | Op::NotIn, Value::List(items)) => {
            sql.push(col).push(" ").push(op.sql()).push(" (");
            sql.bind_list(items.iter().map(String::as_str));
            sql.push(")");
        }
        (Op::ILike, v) => {
            sql.push("LOWER(").push(col).push(") LIKE LOWER(").bind(bind_of(v)).push(")");
        }
        (Op::IsNull | Op::IsNotNull, _) => {
            sql.push(col).push(" ").push(op.sql());
        }
        (op, v) => {
            sql.push(col).push(" ").push(op.sql()).push(" ").bind(bind_of(v));
        }
    }
}

/// Appends `col [NOT] IN ($a, $b, …)` over integers.
pub(crate) fn push_int_list(sql: &mut Sql, col: &str, negated: bool, items: &[i64]) {
    sql.push(col).push(if negated { " NOT IN (" } else { " IN (" });
    sql.bind_list(items.iter().copied());
    sql.push(")");
}

/// Appends the sort terms for a nullable expression: rows without a value come last in
/// either direction, portably (PostgreSQL and SQLite disagree on where NULLs sort).
pub(crate) fn push_nulls_last(sql: &mut Sql, expr: &mut dyn FnMut(&mut Sql), ascending: bool) {
    sql.push("CASE WHEN ");
    expr(sql);
    sql.push(" IS NULL THEN 1 ELSE 0 END, ");
    expr(sql);
    if !ascending {
        sql.push(" DESC");
    }
}
