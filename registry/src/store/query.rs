//! A small SQL text builder with positional binds, valid on both engines.
//!
//! SQLite accepts `$n` placeholders as well as PostgreSQL does, so every statement in the
//! store is written once. Dynamic statements (search filters, multi-row inserts) are built
//! here; the values travel as binds, never as text.

use super::sql::dialect::{Engine, Placeholders};
use sqlx::any::{Any, AnyArguments};
use sqlx::query::{Query, QueryAs};
use std::fmt::Write;

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Int(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
    NullInt,
    NullText,
}

impl From<i64> for Bind {
    fn from(v: i64) -> Self {
        Bind::Int(v)
    }
}
impl From<f64> for Bind {
    fn from(v: f64) -> Self {
        Bind::Float(v)
    }
}
impl From<String> for Bind {
    fn from(v: String) -> Self {
        Bind::Text(v)
    }
}
impl From<&str> for Bind {
    fn from(v: &str) -> Self {
        Bind::Text(v.to_owned())
    }
}
impl From<Vec<u8>> for Bind {
    fn from(v: Vec<u8>) -> Self {
        Bind::Blob(v)
    }
}
impl From<Option<i64>> for Bind {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Bind::NullInt, Bind::Int)
    }
}
impl From<Option<String>> for Bind {
    fn from(v: Option<String>) -> Self {
        v.map_or(Bind::NullText, Bind::Text)
    }
}

/// Binds every value onto a `Query` or `QueryAs` (sqlx gives the two no common trait).
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {
        $binds.iter().fold($query, |q, b| match b {
            Bind::Int(v) => q.bind(*v),
            Bind::Float(v) => q.bind(*v),
            Bind::Text(v) => q.bind(v.as_str()),
            Bind::Blob(v) => q.bind(v.as_slice()),
            Bind::NullInt => q.bind(None::<i64>),
            Bind::NullText => q.bind(None::<String>),
        })
    };
}

/// SQL text plus its binds, in placeholder order.
#[derive(Debug, Default, Clone)]
pub struct Sql {
    text: String,
    binds: Vec<Bind>,
    placeholders: Placeholders,
}

impl Sql {
    /// A statement with `$n` placeholders, which either engine runs.
    pub fn new(text: impl Into<String>) -> Self {
        Sql { text: text.into(), binds: Vec::new(), placeholders: Placeholders::Numbered }
    }

    /// A statement with the placeholders `engine` binds fastest. Binds are always appended in
    /// text order here, so anonymous placeholders bind as numbered ones would.
    pub fn new_for(engine: Engine, text: impl Into<String>) -> Self {
        Sql { text: text.into(), binds: Vec::new(), placeholders: engine.placeholders() }
    }

    /// Appends literal SQL text (never user input).
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: impl Into<Bind>) -> &mut Self {
        self.binds.push(value.into());
        match self.placeholders {
            Placeholders::Anonymous => self.text.push('?'),
            Placeholders::Numbered => {
                write!(self.text, "${}", self.binds.len()).expect("writing to a String cannot fail");
            }
        }
        self
    }

    /// Appends `$a, $b, …` for each value.
    pub fn bind_list<I, V>(&mut self, values: I) -> &mut Self
    where
        I: IntoIterator<Item = V>,
        V: Into<Bind>,
    {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(v);
        }
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn binds(&self) -> &[Bind] {
        &self.binds
    }

    pub fn bind_count(&self) -> usize {
        self.binds.len()
    }

    /// A query ready to run; the statement is cached per connection by its text.
    pub fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        bind_all!(sqlx::query(&self.text), &self.binds)
    }

    /// Like [`Sql::query`], decoding each row as `T`.
    pub fn query_as<T>(&self) -> QueryAs<'_, Any, T, AnyArguments<'_>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        bind_all!(sqlx::query_as(&self.text), &self.binds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_are_numbered_in_order() {
        let mut sql = Sql::new("SELECT 1 WHERE a = ");
        sql.bind(1_i64).push(" AND b IN (").bind_list(["x", "y"]).push(")");
        assert_eq!(sql.text(), "SELECT 1 WHERE a = $1 AND b IN ($2, $3)");
        assert_eq!(sql.binds().len(), 3);
        let mut sql = Sql::new_for(Engine::Sqlite, "SELECT 1 WHERE a = ");
        sql.bind(1_i64).push(" AND b IN (").bind_list(["x", "y"]).push(")");
        assert_eq!(sql.text(), "SELECT 1 WHERE a = ? AND b IN (?, ?)");
        let mut sql = Sql::new_for(Engine::Postgres, "SELECT 1 WHERE a = ");
        sql.bind(1_i64).push(" AND b IN (").bind_list(["x", "y"]).push(")");
        assert_eq!(sql.text(), "SELECT 1 WHERE a = $1 AND b IN ($2, $3)");
    }
}
