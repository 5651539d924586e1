//! PostgreSQL array literals, bound as one text value each ([`Batch::Arrays`](super::Batch)).
//!
//! sqlx's `Any` driver binds scalars only. A multi-row insert written as `UNNEST` over a few
//! arrays is one short statement whatever the row count: PostgreSQL parses and plans it once
//! per connection, where a `VALUES` list of a thousand rows (six thousand binds) is planned
//! on every call and costs twice the time to run.

use std::fmt::Write;

/// `{"a","b"}`: every element quoted, so that spaces, commas and braces stay in it.
pub(in crate::store::sql) fn text<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from("{");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        for c in item.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    out.push('}');
    out
}

/// `{1,2}`.
pub(in crate::store::sql) fn ints(items: impl IntoIterator<Item = i64>) -> String {
    join(items, |out, v| write!(out, "{v}"))
}

/// `{0.5,1e300}`: Rust writes the shortest text that reads back as the same double, and
/// PostgreSQL reads decimal text correctly rounded, so values round-trip exactly. Callers map
/// NaN and infinities first (see `stored_value`); they are written as PostgreSQL spells them.
pub(in crate::store::sql) fn floats(items: impl IntoIterator<Item = f64>) -> String {
    join(items, |out, v| {
        if v.is_nan() {
            out.write_str("NaN")
        } else if v.is_infinite() {
            out.write_str(if v > 0.0 { "Infinity" } else { "-Infinity" })
        } else {
            write!(out, "{v:?}")
        }
    })
}

fn join<T>(items: impl IntoIterator<Item = T>, mut write: impl FnMut(&mut String, T) -> std::fmt::Result) -> String {
    let mut out = String::from("{");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write(&mut out, item).expect("writing to a String cannot fail");
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_elements_are_quoted_and_escaped() {
        assert_eq!(text(["a", "b c", "x,{y}", r#"q"u\o"#, ""]), r#"{"a","b c","x,{y}","q\"u\\o",""}"#);
        assert_eq!(text([]), "{}");
    }

    #[test]
    fn numbers_are_written_to_read_back_exactly() {
        assert_eq!(ints([1, -2, i64::MAX]), "{1,-2,9223372036854775807}");
        let values = [0.1, -0.0, 1e300, 5e-324, f64::MAX, f64::MIN, 123456789.125];
        let written = floats(values);
        let parsed: Vec<f64> =
            written.trim_matches(['{', '}']).split(',').map(|s| s.parse().unwrap()).collect::<Vec<_>>();
        assert_eq!(parsed.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), values.map(f64::to_bits));
        assert_eq!(floats([f64::NAN, f64::INFINITY, f64::NEG_INFINITY]), "{NaN,Infinity,-Infinity}");
    }
}
