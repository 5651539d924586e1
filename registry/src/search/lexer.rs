//! Tokens of MLflow's filter and order_by strings.
//!
//! MLflow tokenizes with `sqlparse`; this lexer recognizes the subset a filter can use and turns
//! everything else into [`Tok::Other`], which the parser reports as an invalid clause. Quoted
//! text is kept verbatim (MLflow strips the outer quotes and never unescapes).

/// One token with its byte span in the source.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// `[part.]part…` where a part is a bare word, `` `quoted` `` or `"quoted"`
    /// (after a dot also `'quoted'`).
    Ident(Vec<Part>),
    /// A case-insensitive keyword, upper-cased.
    Keyword(Kw),
    /// `'…'`.
    Str,
    /// A numeric literal; `integer` when it has neither a fraction nor an exponent.
    Number {
        integer: bool,
    },
    /// A word that starts with a digit but is no number, e.g. `1abc`.
    Word,
    /// `=`, `==`, `!=`, `<>`, `<`, `<=`, `>`, `>=`.
    Op,
    LParen,
    RParen,
    Comma,
    Semicolon,
    /// Anything else, including an unterminated quote.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kw {
    And,
    Or,
    Not,
    In,
    Is,
    Null,
    Like,
    ILike,
    RLike,
}

/// One dot-separated part of an identifier.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Part {
    /// The text between the quotes, or the bare word.
    pub text: String,
    pub quote: Option<char>,
}

fn keyword(word: &str) -> Option<Kw> {
    Some(match word.to_ascii_uppercase().as_str() {
        "AND" => Kw::And,
        "OR" => Kw::Or,
        "NOT" => Kw::Not,
        "IN" => Kw::In,
        "IS" => Kw::Is,
        "NULL" => Kw::Null,
        "LIKE" => Kw::Like,
        "ILIKE" => Kw::ILike,
        "RLIKE" => Kw::RLike,
        _ => return None,
    })
}

fn is_word_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.src[self.pos..].chars().nth(offset)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat_while(&mut self, f: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&f) {
            self.bump();
        }
    }

    /// Consumes a quoted run starting at the opening `q`; a doubled `q` (and for `'`/`"` a
    /// backslash-escaped one) stays inside. Returns the inner text, or `None` (consuming only
    /// the opening quote) when the quote is never closed.
    fn quoted(&mut self, q: char) -> Option<String> {
        let open = self.pos;
        self.bump();
        let inner_start = self.pos;
        loop {
            match self.bump() {
                None => {
                    self.pos = open + q.len_utf8();
                    return None;
                }
                Some('\\') if q != '`' => {
                    if self.peek() == Some(q) {
                        self.bump();
                    }
                }
                Some(c) if c == q => {
                    if self.peek() == Some(q) {
                        self.bump();
                    } else {
                        return Some(self.src[inner_start..self.pos - q.len_utf8()].to_owned());
                    }
                }
                Some(_) => {}
            }
        }
    }

    /// A number at the current position: `-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?`.
    fn starts_number(&self) -> bool {
        let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
        match self.peek() {
            Some('-') => digit(self.peek_at(1)) || (self.peek_at(1) == Some('.') && digit(self.peek_at(2))),
            Some('.') => digit(self.peek_at(1)),
            c => digit(c),
        }
    }

    fn number(&mut self) -> Tok {
        let mut integer = true;
        if self.peek() == Some('-') {
            self.bump();
        }
        self.eat_while(|c| c.is_ascii_digit());
        if self.peek() == Some('.') {
            integer = false;
            self.bump();
            self.eat_while(|c| c.is_ascii_digit());
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let save = self.pos;
            self.bump();
            if matches!(self.peek(), Some('-' | '+')) {
                self.bump();
            }
            if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                integer = false;
                self.eat_while(|c| c.is_ascii_digit());
            } else {
                self.pos = save;
            }
        }
        // `1abc` or `1e` is one malformed word, as MLflow reports it.
        if self.peek().is_some_and(is_word_char) {
            self.eat_while(|c| is_word_char(c) || c == '.');
            return Tok::Word;
        }
        Tok::Number { integer }
    }

    fn part(&mut self, after_dot: bool) -> Option<Part> {
        match self.peek()? {
            q @ ('`' | '"') => self.quoted(q).map(|text| Part { text, quote: Some(q) }),
            '\'' if after_dot => self.quoted('\'').map(|text| Part { text, quote: Some('\'') }),
            c if is_word_start(c) || (after_dot && is_word_char(c)) => {
                let start = self.pos;
                self.eat_while(is_word_char);
                Some(Part { text: self.src[start..self.pos].to_owned(), quote: None })
            }
            _ => None,
        }
    }

    fn ident(&mut self) -> Option<Tok> {
        let first = self.part(false)?;
        let mut parts = vec![first];
        while self.peek() == Some('.') {
            let dot = self.pos;
            self.bump();
            match self.part(true) {
                Some(p) => parts.push(p),
                None => {
                    self.pos = dot;
                    break;
                }
            }
        }
        if parts.len() == 1
            && parts[0].quote.is_none()
            && let Some(kw) = keyword(&parts[0].text)
        {
            return Some(Tok::Keyword(kw));
        }
        Some(Tok::Ident(parts))
    }

    fn next_token(&mut self) -> Option<Token> {
        self.eat_while(char::is_whitespace);
        let start = self.pos;
        let c = self.peek()?;
        let kind = if self.starts_number() {
            self.number()
        } else if c == '\'' {
            match self.quoted('\'') {
                Some(_) => Tok::Str,
                None => Tok::Other,
            }
        } else if let Some(tok) = self.ident() {
            tok
        } else {
            // An unterminated backtick or double quote lands here, with `ident` having
            // consumed nothing.
            self.pos = start;
            self.bump();
            match c {
                '(' => Tok::LParen,
                ')' => Tok::RParen,
                ',' => Tok::Comma,
                ';' => Tok::Semicolon,
                '=' => {
                    if self.peek() == Some('=') {
                        self.bump();
                    }
                    Tok::Op
                }
                '!' if self.peek() == Some('=') => {
                    self.bump();
                    Tok::Op
                }
                '<' => {
                    if matches!(self.peek(), Some('=' | '>')) {
                        self.bump();
                    }
                    Tok::Op
                }
                '>' => {
                    if self.peek() == Some('=') {
                        self.bump();
                    }
                    Tok::Op
                }
                _ => Tok::Other,
            }
        };
        Some(Token { kind, start, end: self.pos })
    }
}

/// Splits `src` into tokens; whitespace separates tokens and is dropped.
pub(crate) fn lex(src: &str) -> Vec<Token> {
    let mut lexer = Lexer { src, pos: 0 };
    let mut out = Vec::new();
    while let Some(t) = lexer.next_token() {
        out.push(t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        lex(src).into_iter().map(|t| t.kind).collect()
    }

    fn texts(src: &str) -> Vec<&str> {
        lex(src).into_iter().map(|t| &src[t.start..t.end]).collect()
    }

    #[test]
    fn splits_a_comparison() {
        assert_eq!(texts("metrics.acc>=0.5"), ["metrics.acc", ">=", "0.5"]);
        assert_eq!(texts("params.x != 'a b'"), ["params.x", "!=", "'a b'"]);
        assert_eq!(texts("run_id NOT IN ('a','b')"), ["run_id", "NOT", "IN", "(", "'a'", ",", "'b'", ")"]);
    }

    #[test]
    fn identifiers_keep_quoted_parts() {
        let parts = |src: &str| match &lex(src)[0].kind {
            Tok::Ident(p) => p.clone(),
            other => panic!("{other:?}"),
        };
        let p = parts("metrics.`my metric`");
        assert_eq!(p[1], Part { text: "my metric".into(), quote: Some('`') });
        let p = parts("tags.\"mlflow.runName\"");
        assert_eq!(p[1], Part { text: "mlflow.runName".into(), quote: Some('"') });
        let p = parts("params.'x'");
        assert_eq!(p[1].quote, Some('\''));
        let p = parts("metrics.a.b");
        assert_eq!(p.len(), 3);
        assert_eq!(parts("metrics.1x")[1].text, "1x");
    }

    #[test]
    fn keywords_are_case_insensitive_but_not_inside_identifiers() {
        assert_eq!(kinds("and Or not"), [Tok::Keyword(Kw::And), Tok::Keyword(Kw::Or), Tok::Keyword(Kw::Not)]);
        assert!(matches!(kinds("tags.and")[0], Tok::Ident(_)));
        assert!(matches!(kinds("`and`")[0], Tok::Ident(_)));
    }

    #[test]
    fn numbers() {
        for (src, integer) in [
            ("1", true),
            ("-12", true),
            ("1.5", false),
            ("5.", false),
            (".5", false),
            ("-.5", false),
            ("1.5e-3", false),
            ("1e10", false),
        ] {
            assert_eq!(kinds(src), [Tok::Number { integer }], "{src}");
        }
        assert_eq!(kinds("1and"), [Tok::Word]);
        assert_eq!(kinds("1e"), [Tok::Word]);
        assert_eq!(texts("- 1"), ["-", "1"]);
    }

    #[test]
    fn quotes_double_to_escape_and_unterminated_quotes_are_other() {
        assert_eq!(texts("'it''s'"), ["'it''s'"]);
        assert_eq!(texts("'a\\'b'"), ["'a\\'b'"]);
        assert_eq!(kinds("'abc"), [Tok::Other, Tok::Ident(vec![Part { text: "abc".into(), quote: None }])]);
        assert_eq!(kinds("`abc")[0], Tok::Other);
        assert_eq!(texts("params.`x"), ["params", ".", "`", "x"]);
    }

    #[test]
    fn multibyte_text_is_sliced_on_char_boundaries() {
        assert_eq!(texts("tags.ü = 'é'"), ["tags.ü", "=", "'é'"]);
        assert_eq!(texts("€"), ["€"]);
    }
}
