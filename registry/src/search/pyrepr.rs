//! Python `repr()` of the values MLflow interpolates into its error messages.
//!
//! MLflow builds several messages with `{x!r}` or by formatting a dict, a tuple or a bytes
//! object; reproducing Python's spelling keeps our messages identical to its.

use serde_json::Value as Json;

/// `repr(s)` for a Python `str`.
pub(crate) fn str_repr(s: &str) -> String {
    quoted(s.chars().map(u32::from), false)
}

/// `repr(b)` for a Python `bytes`.
pub(crate) fn bytes_repr(b: &[u8]) -> String {
    let mut out = String::from("b");
    out.push_str(&quoted(b.iter().map(|&c| u32::from(c)), true));
    out
}

fn quoted(units: impl Iterator<Item = u32> + Clone, bytes: bool) -> String {
    // Python prefers single quotes and switches only when that avoids escaping.
    let has_single = units.clone().any(|c| c == u32::from('\''));
    let has_double = units.clone().any(|c| c == u32::from('"'));
    let quote = if has_single && !has_double { '"' } else { '\'' };
    let mut out = String::new();
    out.push(quote);
    for c in units {
        match char::from_u32(c) {
            Some('\\') => out.push_str("\\\\"),
            Some('\n') => out.push_str("\\n"),
            Some('\r') => out.push_str("\\r"),
            Some('\t') => out.push_str("\\t"),
            Some(ch) if ch == quote => {
                out.push('\\');
                out.push(ch);
            }
            Some(ch) if c < 0x20 || c == 0x7f || (bytes && c >= 0x80) => {
                out.push_str(&format!("\\x{:02x}", u32::from(ch)));
            }
            Some(ch) => out.push(ch),
            None => out.push('?'),
        }
    }
    out.push(quote);
    out
}

/// `repr()` of the Python object `json.loads` would have produced.
pub(crate) fn json_repr(v: &Json) -> String {
    match v {
        Json::Null => "None".to_owned(),
        Json::Bool(true) => "True".to_owned(),
        Json::Bool(false) => "False".to_owned(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => str_repr(s),
        Json::Array(items) => {
            let inner: Vec<String> = items.iter().map(json_repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Json::Object(map) => {
            let inner: Vec<String> = map.iter().map(|(k, v)| format!("{}: {}", str_repr(k), json_repr(v))).collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// `repr()` of a Python tuple whose items are already repr'd.
pub(crate) fn tuple_repr(items: &[String]) -> String {
    if items.len() == 1 { format!("({},)", items[0]) } else { format!("({})", items.join(", ")) }
}

/// `repr()` of a Python list of strings.
pub(crate) fn str_list_repr(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| str_repr(s)).collect();
    format!("[{}]", inner.join(", "))
}

/// `repr()` of a Python set of strings, in the order MLflow declares it.
///
/// Python's own order depends on the per-process hash seed, so no fixed order is "the" one.
pub(crate) fn str_set_repr(items: &[&str]) -> String {
    let inner: Vec<String> = items.iter().map(|s| str_repr(s)).collect();
    format!("{{{}}}", inner.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_pick_the_quote_python_picks() {
        assert_eq!(str_repr("a"), "'a'");
        assert_eq!(str_repr("it's"), "\"it's\"");
        assert_eq!(str_repr("'\""), "'\\'\"'");
        assert_eq!(str_repr("a\\b\n"), "'a\\\\b\\n'");
    }

    #[test]
    fn bytes_escape_non_ascii() {
        assert_eq!(bytes_repr(b"{x"), "b'{x'");
        assert_eq!(bytes_repr(&[0xff, b'a', 0x01]), "b'\\xffa\\x01'");
    }

    #[test]
    fn json_values_print_as_python_objects() {
        let v: Json = serde_json::from_str(r#"{"offset": 0, "x": [true, null, "s"]}"#).unwrap();
        assert_eq!(json_repr(&v), "{'offset': 0, 'x': [True, None, 's']}");
    }

    #[test]
    fn one_tuple_has_a_trailing_comma() {
        assert_eq!(tuple_repr(&["1".to_owned()]), "(1,)");
        assert_eq!(tuple_repr(&["1".to_owned(), "'a'".to_owned()]), "(1, 'a')");
    }
}
