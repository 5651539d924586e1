//! The filter AST and the kind-independent part of parsing.
//!
//! [`parse_clauses`] finds the comparisons of a filter string without judging identifiers or
//! values; each search kind then resolves them into typed [`Comparison`]s with its own rules
//! and messages (MLflow's rules differ per kind in small ways).

use super::SearchError;
use super::lexer::{Kw, Part, Tok, Token, lex};
use super::pyrepr;

/// What a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    Metric,
    Param,
    Tag,
    Attribute,
    Dataset,
}

impl Entity {
    /// MLflow's canonical name, as it appears in its messages.
    pub fn mlflow_name(self) -> &'static str {
        match self {
            Entity::Metric => "metric",
            Entity::Param => "parameter",
            Entity::Tag => "tag",
            Entity::Attribute => "attribute",
            Entity::Dataset => "dataset",
        }
    }
}

/// `[entity.]name`, with aliases already resolved (`created` is `start_time`, …).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub entity: Entity,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    ILike,
    In,
    NotIn,
    IsNull,
    IsNotNull,
}

impl Op {
    /// The comparator as MLflow spells it after upper-casing.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Like => "LIKE",
            Op::ILike => "ILIKE",
            Op::In => "IN",
            Op::NotIn => "NOT IN",
            Op::IsNull => "IS NULL",
            Op::IsNotNull => "IS NOT NULL",
        }
    }

    pub(crate) fn from_mlflow(s: &str) -> Option<Op> {
        Some(match s {
            "=" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "LIKE" => Op::Like,
            "ILIKE" => Op::ILike,
            "IN" => Op::In,
            "NOT IN" => Op::NotIn,
            "IS NULL" => Op::IsNull,
            "IS NOT NULL" => Op::IsNotNull,
            _ => return None,
        })
    }

    /// The SQL operator for a scalar comparison.
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "<>",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Like | Op::ILike => "LIKE",
            Op::In => "IN",
            Op::NotIn => "NOT IN",
            Op::IsNull => "IS NULL",
            Op::IsNotNull => "IS NOT NULL",
        }
    }
}

/// A comparison's right-hand side, typed by what its key accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `IS NULL` / `IS NOT NULL`.
    None,
    Text(String),
    Int(i64),
    Float(f64),
    List(Vec<String>),
}

/// One validated `key op value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub key: Key,
    pub op: Op,
    pub value: Value,
}

/// A comparison as written, before any kind's rules apply.
#[derive(Debug, Clone)]
pub(crate) struct Clause {
    /// The identifier's source text, quotes included.
    pub ident: String,
    /// The comparator upper-cased, possibly one no kind accepts (`==`, `<>`, `RLIKE`).
    pub op: String,
    pub value: RawValue,
}

#[derive(Debug, Clone)]
pub(crate) enum RawValue {
    None,
    /// `'…'`; `raw` keeps the quotes.
    Str {
        raw: String,
    },
    Number {
        raw: String,
        integer: bool,
    },
    /// An identifier in value position: `"text"` is a string to MLflow, a bare word is an
    /// unquoted string (an error).
    Ident {
        raw: String,
    },
    /// `NULL` or a malformed word.
    Bare {
        raw: String,
    },
    /// `( … )`; `raw` keeps the parentheses.
    List {
        raw: String,
        items: Vec<Token>,
        src: String,
    },
}

impl RawValue {
    pub fn raw(&self) -> &str {
        match self {
            RawValue::None => "None",
            RawValue::Str { raw }
            | RawValue::Number { raw, .. }
            | RawValue::Ident { raw }
            | RawValue::Bare { raw }
            | RawValue::List { raw, .. } => raw,
        }
    }
}

/// How a kind formats the offending tokens in "Invalid clause(s) in filter string: …".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InvalidStyle {
    /// `'a', 'b'` (runs).
    Quoted,
    /// `a, b` (experiments and the registry).
    Bare,
}

/// Splits `filter` into clauses, or fails with MLflow's message for a filter it cannot parse.
/// An empty filter has no clauses.
pub(crate) fn parse_clauses(filter: &str, style: InvalidStyle) -> Result<Vec<Clause>, SearchError> {
    if filter.is_empty() {
        return Ok(Vec::new());
    }
    let tokens = lex(filter);
    if tokens.is_empty() {
        return Err(SearchError::new(format!("Invalid filter '{filter}'. Could not be parsed.")));
    }
    // A `;` followed by anything starts a second statement.
    if let Some(i) = tokens.iter().position(|t| t.kind == Tok::Semicolon)
        && i + 1 < tokens.len()
    {
        return Err(SearchError::new(format!(
            "Search filter contained multiple expression {}. Provide AND-ed expression list.",
            pyrepr::str_repr(filter)
        )));
    }

    let text = |t: &Token| &filter[t.start..t.end];
    let mut clauses = Vec::new();
    let mut invalid: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        match &t.kind {
            // MLflow ignores every AND token, so a leading or doubled AND is accepted.
            Tok::Keyword(Kw::And) => i += 1,
            Tok::Ident(_) => match comparison(filter, &tokens, i) {
                Some((clause, next)) => {
                    clauses.push(clause);
                    i = next;
                }
                None => {
                    invalid.push(text(t));
                    i += 1;
                }
            },
            Tok::LParen => {
                // A parenthesized group is one invalid clause to MLflow, whatever is inside.
                let end = matching_paren(&tokens, i).unwrap_or(tokens.len() - 1);
                invalid.push(&filter[t.start..tokens[end].end]);
                i = end + 1;
            }
            _ => {
                invalid.push(text(t));
                i += 1;
            }
        }
    }
    if !invalid.is_empty() {
        let listed: Vec<String> = match style {
            InvalidStyle::Quoted => invalid.iter().map(|s| format!("'{s}'")).collect(),
            InvalidStyle::Bare => invalid.iter().map(|s| (*s).to_owned()).collect(),
        };
        return Err(SearchError::new(format!("Invalid clause(s) in filter string: {}", listed.join(", "))));
    }
    Ok(clauses)
}

fn matching_paren(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, t) in tokens.iter().enumerate().skip(open) {
        match t.kind {
            Tok::LParen => depth += 1,
            Tok::RParen => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

/// Tries to read one comparison starting at the identifier `tokens[i]`.
fn comparison(src: &str, tokens: &[Token], i: usize) -> Option<(Clause, usize)> {
    let ident = src[tokens[i].start..tokens[i].end].to_owned();
    let kind = |j: usize| tokens.get(j).map(|t| &t.kind);
    let clause = |op: &str, value: RawValue| Clause { ident: ident.clone(), op: op.to_owned(), value };
    match kind(i + 1)? {
        Tok::Op => {
            let op = &src[tokens[i + 1].start..tokens[i + 1].end];
            let (value, next) = operand(src, tokens, i + 2)?;
            Some((clause(op, value), next))
        }
        Tok::Keyword(kw @ (Kw::Like | Kw::ILike | Kw::RLike)) => {
            let op = match kw {
                Kw::Like => "LIKE",
                Kw::ILike => "ILIKE",
                _ => "RLIKE",
            };
            let (value, next) = operand(src, tokens, i + 2)?;
            Some((clause(op, value), next))
        }
        Tok::Keyword(Kw::In) => {
            let (value, next) = list(src, tokens, i + 2)?;
            Some((clause("IN", value), next))
        }
        Tok::Keyword(Kw::Not) => match kind(i + 2)? {
            Tok::Keyword(Kw::In) => {
                let (value, next) = list(src, tokens, i + 3)?;
                Some((clause("NOT IN", value), next))
            }
            _ => None,
        },
        Tok::Keyword(Kw::Is) => match (kind(i + 2)?, kind(i + 3)) {
            (Tok::Keyword(Kw::Null), _) => Some((clause("IS NULL", RawValue::None), i + 3)),
            (Tok::Keyword(Kw::Not), Some(Tok::Keyword(Kw::Null))) => {
                Some((clause("IS NOT NULL", RawValue::None), i + 4))
            }
            _ => None,
        },
        _ => None,
    }
}

/// A scalar or, as MLflow's grouping allows after any comparator, a parenthesized list
/// (which the kinds then reject with their own messages).
fn operand(src: &str, tokens: &[Token], at: usize) -> Option<(RawValue, usize)> {
    if tokens.get(at)?.kind == Tok::LParen {
        return list(src, tokens, at);
    }
    Some((scalar(src, tokens.get(at)?)?, at + 1))
}

fn scalar(src: &str, t: &Token) -> Option<RawValue> {
    let raw = src[t.start..t.end].to_owned();
    Some(match t.kind {
        Tok::Str => RawValue::Str { raw },
        Tok::Number { integer } => RawValue::Number { raw, integer },
        Tok::Ident(_) => RawValue::Ident { raw },
        Tok::Keyword(Kw::Null) | Tok::Word => RawValue::Bare { raw },
        _ => return None,
    })
}

fn list(src: &str, tokens: &[Token], open: usize) -> Option<(RawValue, usize)> {
    if tokens.get(open)?.kind != Tok::LParen {
        return None;
    }
    let close = matching_paren(tokens, open)?;
    let raw = src[tokens[open].start..tokens[close].end].to_owned();
    let items = tokens[open + 1..close].to_vec();
    Some((RawValue::List { raw, items, src: src.to_owned() }, close + 1))
}

/// `( 'a', "b", … )` as Python's `ast.literal_eval` reads it: non-empty, strings only.
pub(crate) fn list_values(value: &RawValue) -> Result<Vec<String>, SearchError> {
    let RawValue::List { items, src, .. } = value else {
        return Err(ill_formed_list());
    };
    enum Item {
        Str(String),
        Num(String),
    }
    let mut parsed = Vec::new();
    let mut expect_item = true;
    for t in items {
        let text = &src[t.start..t.end];
        match (&t.kind, expect_item) {
            (Tok::Str, true) => parsed.push(Item::Str(text[1..text.len() - 1].to_owned())),
            (Tok::Ident(parts), true) if is_double_quoted(parts) => parsed.push(Item::Str(parts[0].text.clone())),
            (Tok::Number { .. }, true) => parsed.push(Item::Num(text.to_owned())),
            (Tok::Comma, false) => {}
            _ => return Err(ill_formed_list()),
        }
        expect_item = !expect_item;
    }
    if parsed.is_empty() {
        return Err(SearchError::new(
            "While parsing a list in the query, expected a non-empty list of string values, \
             but got empty list",
        ));
    }
    if parsed.iter().any(|i| matches!(i, Item::Num(_))) {
        let reprs: Vec<String> = parsed
            .iter()
            .map(|i| match i {
                Item::Str(s) => pyrepr::str_repr(s),
                Item::Num(n) => n.clone(),
            })
            .collect();
        return Err(SearchError::new(format!(
            "While parsing a list in the query, expected string value, punctuation, or \
             whitespace, but got different type in list: {}",
            pyrepr::tuple_repr(&reprs)
        )));
    }
    Ok(parsed
        .into_iter()
        .map(|i| match i {
            Item::Str(s) | Item::Num(s) => s,
        })
        .collect())
}

fn is_double_quoted(parts: &[Part]) -> bool {
    parts.len() == 1 && parts[0].quote == Some('"')
}

fn ill_formed_list() -> SearchError {
    SearchError::new(
        "While parsing a list in the query, expected a non-empty list of string values, but got \
         ill-formed list.",
    )
}

/// Rejects a list compared with anything but `IN` / `NOT IN`, after every other check (MLflow
/// lets such a clause through to SQLAlchemy, which fails; a 400 is the useful answer).
pub(crate) fn check_lists(comparisons: Vec<Comparison>) -> Result<Vec<Comparison>, SearchError> {
    for c in &comparisons {
        if matches!(c.value, Value::List(_)) && !matches!(c.op, Op::In | Op::NotIn) {
            return Err(SearchError::new(format!(
                "Invalid comparator '{}' for a list of values; use IN or NOT IN",
                c.op.as_str()
            )));
        }
    }
    Ok(comparisons)
}

/// Whether `s` is wrapped in `q` (at least two characters).
fn is_quoted(s: &str, q: char) -> bool {
    s.len() >= 2 && s.starts_with(q) && s.ends_with(q)
}

fn trim_ends(s: &str) -> &str {
    let mut chars = s.chars();
    chars.next();
    chars.next_back();
    chars.as_str()
}

/// Removes one pair of `'` or `"` around `s`.
pub(crate) fn strip_quotes(s: &str) -> &str {
    if is_quoted(s, '\'') || is_quoted(s, '"') { trim_ends(s) } else { s }
}

/// Removes one pair of backticks around `s`.
pub(crate) fn trim_backticks(s: &str) -> &str {
    if is_quoted(s, '`') { trim_ends(s) } else { s }
}

/// A string value: `'…'` or `"…"`, anything else is MLflow's "not quoted" error.
pub(crate) fn quoted_value(raw: &str) -> Result<String, SearchError> {
    if is_quoted(raw, '\'') || is_quoted(raw, '"') {
        Ok(trim_ends(raw).to_owned())
    } else {
        Err(SearchError::new(format!(
            "Parameter value is either not quoted or unidentified quote types used for string \
             value {raw}. Use either single or double quotes."
        )))
    }
}

/// Splits an identifier's source text at its first dot, as MLflow does (quotes and all).
pub(crate) fn split_identifier(ident: &str) -> (Option<&str>, &str) {
    match ident.split_once('.') {
        Some((entity, key)) => (Some(entity), key),
        None => (None, ident),
    }
}

/// The entity names runs accept, canonical first.
pub(crate) const RUN_ENTITIES: &str = "['metric', 'parameter', 'tag', 'attribute', 'dataset']";

/// Resolves an entity name as run search does (backticks allowed, case-sensitive).
pub(crate) fn run_entity(name: &str) -> Result<Entity, SearchError> {
    let name = trim_backticks(name);
    Ok(match name {
        "metric" | "metrics" => Entity::Metric,
        "parameter" | "parameters" | "param" | "params" => Entity::Param,
        "tag" | "tags" => Entity::Tag,
        "attribute" | "attributes" | "attr" | "run" => Entity::Attribute,
        "dataset" | "datasets" => Entity::Dataset,
        _ => {
            return Err(SearchError::new(format!("Invalid entity type '{name}'. Valid values are {RUN_ENTITIES}")));
        }
    })
}

/// Resolves an entity name as experiment and registry search do: only these three spellings.
pub(crate) fn attribute_or_tag_entity(name: &str) -> Result<Entity, SearchError> {
    match name {
        "attribute" => Ok(Entity::Attribute),
        "tag" | "tags" => Ok(Entity::Tag),
        _ => Err(SearchError::new(format!(
            "Invalid entity type '{name}'. Valid entity types are ('attribute', 'tag', 'tags')"
        ))),
    }
}

/// A number literal as an `Int` when it is an integer that fits, else a `Float`.
pub(crate) fn number_value(raw: &str, integer: bool) -> Value {
    if integer && let Ok(i) = raw.parse::<i64>() {
        return Value::Int(i);
    }
    Value::Float(raw.parse::<f64>().unwrap_or(f64::NAN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(f: &str) -> Result<Vec<(String, String, String)>, String> {
        parse_clauses(f, InvalidStyle::Quoted)
            .map(|cs| cs.into_iter().map(|c| (c.ident, c.op, c.value.raw().to_owned())).collect())
            .map_err(|e| e.message().to_owned())
    }

    fn ok(f: &str) -> Vec<(String, String, String)> {
        parse(f).unwrap_or_else(|e| panic!("{f}: {e}"))
    }

    fn err(f: &str) -> String {
        parse(f).expect_err(f)
    }

    fn c(i: &str, o: &str, v: &str) -> (String, String, String) {
        (i.into(), o.into(), v.into())
    }

    #[test]
    fn empty_filter_has_no_clauses_but_blank_is_an_error() {
        assert!(ok("").is_empty());
        assert_eq!(err("  "), "Invalid filter '  '. Could not be parsed.");
    }

    #[test]
    fn comparisons_joined_by_and_any_case() {
        assert_eq!(
            ok("metrics.acc > 1 and params.b = 'x' AnD tags.`a b` LIKE '%c'"),
            [c("metrics.acc", ">", "1"), c("params.b", "=", "'x'"), c("tags.`a b`", "LIKE", "'%c'")]
        );
        assert_eq!(ok("metrics.acc>=1"), [c("metrics.acc", ">=", "1")]);
    }

    #[test]
    fn and_tokens_are_ignored_like_mlflow() {
        assert_eq!(ok("AND params.y = 'b'").len(), 1);
        assert_eq!(ok("params.x = 'a' AND AND params.y = 'b'").len(), 2);
        assert_eq!(ok("metrics.acc > 1 AND").len(), 1);
    }

    #[test]
    fn null_checks_in_and_not_in() {
        assert_eq!(ok("params.x is not null"), [c("params.x", "IS NOT NULL", "None")]);
        assert_eq!(ok("params.x IS NULL"), [c("params.x", "IS NULL", "None")]);
        assert_eq!(ok("run_id in ('a')"), [c("run_id", "IN", "('a')")]);
        assert_eq!(ok("run_id NOT IN ('a','b')"), [c("run_id", "NOT IN", "('a','b')")]);
        assert_eq!(ok("params.x ilike '%A'"), [c("params.x", "ILIKE", "'%A'")]);
    }

    #[test]
    fn or_and_dangling_tokens_are_invalid_clauses() {
        assert_eq!(err("metrics.acc > 1 OR metrics.b < 2"), "Invalid clause(s) in filter string: 'OR'");
        assert_eq!(err("metrics.acc"), "Invalid clause(s) in filter string: 'metrics.acc'");
        assert_eq!(err("metrics.acc >"), "Invalid clause(s) in filter string: 'metrics.acc', '>'");
        assert_eq!(err("= 1"), "Invalid clause(s) in filter string: '=', '1'");
        assert_eq!(err("NOT metrics.acc > 1"), "Invalid clause(s) in filter string: 'NOT'");
        assert_eq!(err("(metrics.acc > 1)"), "Invalid clause(s) in filter string: '(metrics.acc > 1)'");
        assert_eq!(err("run_id IN 'a'"), "Invalid clause(s) in filter string: 'run_id', 'IN', ''a''");
        assert_eq!(err("metrics.acc = +1"), "Invalid clause(s) in filter string: 'metrics.acc', '=', '+', '1'");
        assert_eq!(
            parse_clauses("name = 'a' OR name = 'b'", InvalidStyle::Bare).unwrap_err().message(),
            "Invalid clause(s) in filter string: OR"
        );
    }

    #[test]
    fn semicolon_starts_a_second_statement() {
        assert_eq!(
            err("metrics.acc > 1; params.x = 'y'"),
            "Search filter contained multiple expression \"metrics.acc > 1; params.x = 'y'\". \
             Provide AND-ed expression list."
        );
        assert_eq!(err("metrics.acc > 1;"), "Invalid clause(s) in filter string: ';'");
    }

    #[test]
    fn lists_read_like_python_literals() {
        let list = |f: &str| {
            let cs = parse_clauses(f, InvalidStyle::Quoted).unwrap();
            list_values(&cs[0].value).map_err(|e| e.message().to_owned())
        };
        assert_eq!(list("run_id IN ('a', \"b\",)").unwrap(), ["a", "b"]);
        assert_eq!(
            list("run_id IN ()").unwrap_err(),
            "While parsing a list in the query, expected a non-empty list of string values, but got empty list"
        );
        assert_eq!(
            list("run_id IN (1, 'a')").unwrap_err(),
            "While parsing a list in the query, expected string value, punctuation, or whitespace, \
             but got different type in list: (1, 'a')"
        );
        assert_eq!(
            list("run_id IN (1)").unwrap_err(),
            "While parsing a list in the query, expected string value, punctuation, or whitespace, \
             but got different type in list: (1,)"
        );
        assert!(list("run_id IN (a)").unwrap_err().ends_with("but got ill-formed list."));
        assert!(list("run_id IN ('a' 'b')").unwrap_err().ends_with("but got ill-formed list."));
    }

    #[test]
    fn values_keep_their_source_text() {
        assert_eq!(ok("params.x = 'it''s'"), [c("params.x", "=", "'it''s'")]);
        assert_eq!(ok("params.x = \"a\""), [c("params.x", "=", "\"a\"")]);
        assert_eq!(ok("metrics.a = -1.5e3"), [c("metrics.a", "=", "-1.5e3")]);
        assert_eq!(ok("params.x = NULL"), [c("params.x", "=", "NULL")]);
        assert_eq!(ok("metrics.acc == 1"), [c("metrics.acc", "==", "1")]);
        assert_eq!(ok("metrics.acc <> 1"), [c("metrics.acc", "<>", "1")]);
        assert_eq!(ok("params.x RLIKE 'a'"), [c("params.x", "RLIKE", "'a'")]);
    }

    #[test]
    fn quoting_helpers() {
        assert_eq!(strip_quotes("'a'"), "a");
        assert_eq!(strip_quotes("\"a\""), "a");
        assert_eq!(strip_quotes("'"), "'");
        assert_eq!(trim_backticks("`a b`"), "a b");
        assert_eq!(trim_backticks("`ü`"), "ü");
        assert!(quoted_value("a").unwrap_err().message().starts_with("Parameter value is either not quoted"));
        assert_eq!(split_identifier("metrics.a.b"), (Some("metrics"), "a.b"));
        assert_eq!(split_identifier("`Run name`"), (None, "`Run name`"));
    }
}
