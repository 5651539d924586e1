//! A page's state as read from its query string: repeated keys kept (checked runs, columns).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::convert::Infallible;

/// The query string's pairs, decoded, in order.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>) -> Self {
        Params(url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect())
    }

    /// The first non-empty value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    /// Every non-empty value of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.as_str()).collect()
    }

    /// Every value of `key`, where a value may also be a list: MLflow's links write lists as
    /// JSON arrays (`runs=["a","b"]`), ours repeat the key or separate with commas.
    pub fn list(&self, key: &str) -> Vec<String> {
        let mut out = Vec::new();
        for v in self.all(key) {
            match serde_json::from_str::<Vec<String>>(v) {
                Ok(items) => out.extend(items),
                Err(_) => out.extend(v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)),
            }
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|v| seen.insert(v.clone()));
        out
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Params::parse(parts.uri.query()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_mlflow_and_our_spellings() {
        let p = Params::parse(Some("runs=%5B%22a%22%2C%22b%22%5D&runs=c&runs=d,a&x="));
        assert_eq!(p.list("runs"), ["a", "b", "c", "d"]);
        assert_eq!(p.get("x"), None);
    }
}
