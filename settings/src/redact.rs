//! Secrets kept out of logs.

/// `uri` with its password replaced by `***`, for logs; a URI without one is kept as it is.
pub fn redact_uri(uri: &str) -> String {
    match url::Url::parse(uri) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => uri.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_hidden() {
        assert_eq!(super::redact_uri("postgresql://u:secret@h/db"), "postgresql://u:***@h/db");
        assert_eq!(super::redact_uri("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }
}
