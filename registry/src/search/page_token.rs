//! MLflow's offset page tokens: base64 of `{"offset": N}`.
//!
//! Clients treat tokens as opaque, but a token minted by MLflow (or by us before a restart)
//! must keep working, so the format is MLflow's exactly.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value as Json;

use super::SearchError;
use super::pyrepr;

/// The token for the page starting at `offset`.
pub fn encode(offset: i64) -> String {
    // `json.dumps` separates key and value with ": ".
    STANDARD.encode(format!("{{\"offset\": {offset}}}"))
}

/// The offset a token points at; an absent or empty token is the first page.
pub fn decode(token: Option<&str>) -> Result<i64, SearchError> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Ok(0);
    };
    // Python's lenient b64decode skips characters outside the alphabet before decoding.
    let cleaned: String = token.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')).collect();
    let decoded =
        STANDARD.decode(cleaned).map_err(|_| SearchError::new("Invalid page token, could not base64-decode"))?;
    let parsed: Json = serde_json::from_slice(&decoded)
        .map_err(|_| SearchError::new(format!("Invalid page token, decoded value={}", pyrepr::bytes_repr(&decoded))))?;
    let bad_parsed = || SearchError::new(format!("Invalid page token, parsed value={}", pyrepr::json_repr(&parsed)));
    let offset = match parsed.get("offset") {
        None | Some(Json::Null | Json::Bool(false)) => return Err(bad_parsed()),
        Some(Json::String(s)) if s.is_empty() => return Err(bad_parsed()),
        Some(v) => v,
    };
    let value = match offset {
        Json::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f.trunc() as i64)),
        Json::String(s) => {
            let s = s.trim();
            s.strip_prefix('+').unwrap_or(s).parse::<i64>().ok()
        }
        Json::Bool(true) => Some(1),
        _ => None,
    };
    match value {
        // A zero offset is falsy to MLflow, and a negative one would be an invalid OFFSET.
        Some(0) => Err(bad_parsed()),
        Some(n) if n < 0 => Err(bad_parsed()),
        Some(n) => Ok(n),
        None => Err(SearchError::new(format!(
            "Invalid page token, not stringable {}",
            match offset {
                Json::String(s) => s.clone(),
                other => pyrepr::json_repr(other),
            }
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(token: &str) -> String {
        decode(Some(token)).unwrap_err().message().to_owned()
    }

    #[test]
    fn round_trips_and_matches_mlflow_bytes() {
        // base64.b64encode(json.dumps({"offset": 1000}).encode())
        assert_eq!(encode(1000), "eyJvZmZzZXQiOiAxMDAwfQ==");
        for n in [1, 50, 1000, i64::MAX] {
            assert_eq!(decode(Some(&encode(n))).unwrap(), n);
        }
    }

    #[test]
    fn no_token_is_the_first_page() {
        assert_eq!(decode(None).unwrap(), 0);
        assert_eq!(decode(Some("")).unwrap(), 0);
    }

    #[test]
    fn offsets_as_strings_are_accepted() {
        assert_eq!(decode(Some(&STANDARD.encode(r#"{"offset": "20"}"#))).unwrap(), 20);
    }

    #[test]
    fn invalid_tokens_carry_mlflow_messages() {
        assert_eq!(e("abc"), "Invalid page token, could not base64-decode");
        assert_eq!(e(&STANDARD.encode("not json")), "Invalid page token, decoded value=b'not json'");
        assert_eq!(e(&STANDARD.encode("{}")), "Invalid page token, parsed value={}");
        assert_eq!(e(&STANDARD.encode(r#"{"offset": 0}"#)), "Invalid page token, parsed value={'offset': 0}");
        assert_eq!(e(&STANDARD.encode(r#"{"offset": -5}"#)), "Invalid page token, parsed value={'offset': -5}");
        assert_eq!(e(&STANDARD.encode(r#"{"offset": "abc"}"#)), "Invalid page token, not stringable abc");
        assert_eq!(e(&STANDARD.encode("[1]")), "Invalid page token, parsed value=[1]");
    }
}
