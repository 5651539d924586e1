//! `order_by` entries: `<identifier> [ASC|DESC]`.

use super::SearchError;
use super::filter::Key;
use super::lexer::{Tok, lex};

/// One resolved sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderKey {
    pub key: Key,
    pub ascending: bool,
}

/// Reads one entry into its identifier and direction.
///
/// MLflow removes every quote of the identifier (shell-style) before splitting it at the first
/// dot, so `` metrics.`a b` `` and `"metrics".acc` name `metrics.a b` and `metrics.acc`; the
/// returned text is that unquoted form.
pub(crate) fn parse_entry(entry: &str) -> Result<(String, bool), SearchError> {
    let unparsable = || SearchError::new(format!("Invalid order_by clause '{entry}'. Could not be parsed."));
    let tokens = lex(entry);
    let ident = match tokens.first().map(|t| &t.kind) {
        Some(Tok::Ident(parts)) => parts.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join("."),
        _ => return Err(unparsable()),
    };
    match tokens.len() {
        1 => Ok((ident, true)),
        2 => {
            let dir = &entry[tokens[1].start..tokens[1].end];
            match (&tokens[1].kind, dir.to_ascii_lowercase().as_str()) {
                (Tok::Ident(_), "asc") => Ok((ident, true)),
                (Tok::Ident(_), "desc") => Ok((ident, false)),
                (Tok::Ident(_) | Tok::Keyword(_) | Tok::Word, _) => {
                    Err(SearchError::new(format!("Invalid ordering key in order_by clause '{entry}'.")))
                }
                _ => Err(unparsable()),
            }
        }
        _ => Err(unparsable()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_and_direction() {
        assert_eq!(parse_entry("metrics.acc").unwrap(), ("metrics.acc".into(), true));
        assert_eq!(parse_entry("metrics.acc desc").unwrap(), ("metrics.acc".into(), false));
        assert_eq!(parse_entry("metric.acc  Asc").unwrap(), ("metric.acc".into(), true));
        assert_eq!(parse_entry("metrics.`my metric` DESC").unwrap(), ("metrics.my metric".into(), false));
        assert_eq!(parse_entry("metrics.\"my metric\"").unwrap(), ("metrics.my metric".into(), true));
        assert_eq!(parse_entry("tags.`mlflow.runName`").unwrap(), ("tags.mlflow.runName".into(), true));
        assert_eq!(parse_entry("`Run name`").unwrap(), ("Run name".into(), true));
    }

    #[test]
    fn malformed_entries() {
        let e = |s: &str| parse_entry(s).unwrap_err().message().to_owned();
        assert_eq!(e(""), "Invalid order_by clause ''. Could not be parsed.");
        assert_eq!(e("metrics.acc DESC ASC"), "Invalid order_by clause 'metrics.acc DESC ASC'. Could not be parsed.");
        assert_eq!(
            e("metrics.acc DESC,params.x"),
            "Invalid order_by clause 'metrics.acc DESC,params.x'. Could not be parsed."
        );
        assert_eq!(e("metrics.acc ;"), "Invalid order_by clause 'metrics.acc ;'. Could not be parsed.");
        assert_eq!(e("metrics.acc foo"), "Invalid ordering key in order_by clause 'metrics.acc foo'.");
        assert_eq!(
            e("metrics.acc NULLS LAST"),
            "Invalid order_by clause 'metrics.acc NULLS LAST'. Could not be parsed."
        );
    }
}
