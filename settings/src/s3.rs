//! How to reach an S3-compatible store (AWS, MinIO, a local test server): the tracking
//! server's artifact destination and the lake read the same settings.

use std::collections::HashMap;
use std::fmt;

/// Connection settings for an S3-compatible store.
///
/// [`S3Settings::from_env`] reads, first set and non-blank wins:
///
/// | setting | variables, in order |
/// |---|---|
/// | endpoint | `MLFLOW_S3_ENDPOINT_URL`, `AWS_ENDPOINT_URL`, `MINIO_URI` |
/// | access key | `AWS_ACCESS_KEY_ID`, `MINIO_ROOT_USER` |
/// | secret key | `AWS_SECRET_ACCESS_KEY`, `MINIO_ROOT_PASSWORD` |
/// | session token | `AWS_SESSION_TOKEN` |
/// | region | `AWS_REGION`, `AWS_DEFAULT_REGION` (default `us-east-1`) |
///
/// MLflow's own variable comes first because MLflow's server reads it for the same purpose;
/// the seed's MinIO variables are the last resort. An endpoint written as `host:port` gets
/// `http://`. `Debug` hides the secret key and the session token.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Settings {
    /// `http(s)://host:port` of a non-AWS endpoint (requests are then path-style); none means
    /// AWS itself.
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub region: Option<String>,
}

/// The region used when none is set.
const DEFAULT_REGION: &str = "us-east-1";

impl S3Settings {
    /// Reads the settings from the process environment (see the table above).
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// As [`S3Settings::from_env`] over any variable lookup, so tests need not touch the
    /// process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: &[&str]| names.iter().find_map(|n| get(n).filter(|v| !v.trim().is_empty()));
        let endpoint = first(&["MLFLOW_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL", "MINIO_URI"]).map(|e| {
            // The seed's MINIO_URI is sometimes written as host:port.
            if e.contains("://") { e } else { format!("http://{e}") }
        });
        Self {
            endpoint,
            access_key_id: first(&["AWS_ACCESS_KEY_ID", "MINIO_ROOT_USER"]),
            secret_access_key: first(&["AWS_SECRET_ACCESS_KEY", "MINIO_ROOT_PASSWORD"]),
            session_token: first(&["AWS_SESSION_TOKEN"]),
            region: first(&["AWS_REGION", "AWS_DEFAULT_REGION"]),
        }
    }

    /// The region, or `us-east-1`.
    pub fn region_or_default(&self) -> &str {
        self.region.as_deref().unwrap_or(DEFAULT_REGION)
    }

    /// The settings as options in the spelling both `object_store` (`AmazonS3ConfigKey`) and
    /// delta-rs understand.
    pub fn storage_options(&self) -> HashMap<String, String> {
        let mut o = HashMap::new();
        if let Some(e) = &self.endpoint {
            o.insert("aws_endpoint".into(), e.clone());
            if e.starts_with("http://") {
                o.insert("aws_allow_http".into(), "true".into());
            }
            // MinIO and test servers do not resolve bucket names as host names.
            o.insert("aws_virtual_hosted_style_request".into(), "false".into());
        }
        if let Some(v) = &self.access_key_id {
            o.insert("aws_access_key_id".into(), v.clone());
        }
        if let Some(v) = &self.secret_access_key {
            o.insert("aws_secret_access_key".into(), v.clone());
        }
        if let Some(v) = &self.session_token {
            o.insert("aws_session_token".into(), v.clone());
        }
        o.insert("aws_region".into(), self.region_or_default().to_owned());
        // Delta commits are safe on S3 only when a commit file is created with
        // `If-None-Match: *`; MinIO and the test server honour it.
        o.insert("aws_conditional_put".into(), "etag".into());
        o
    }
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key.as_ref().map(|_| "***"))
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .field("region", &self.region)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn mlflows_endpoint_comes_first_then_aws_then_minio() {
        let all = [
            ("MLFLOW_S3_ENDPOINT_URL", "http://mlflow:9000"),
            ("AWS_ENDPOINT_URL", "http://aws:9000"),
            ("MINIO_URI", "http://minio:9000"),
        ];
        assert_eq!(S3Settings::from_lookup(lookup(&all)).endpoint.as_deref(), Some("http://mlflow:9000"));
        assert_eq!(S3Settings::from_lookup(lookup(&all[1..])).endpoint.as_deref(), Some("http://aws:9000"));
        assert_eq!(S3Settings::from_lookup(lookup(&all[2..])).endpoint.as_deref(), Some("http://minio:9000"));
    }

    #[test]
    fn blank_values_are_ignored_and_host_port_gets_a_scheme() {
        let vars = [("MLFLOW_S3_ENDPOINT_URL", ""), ("AWS_ENDPOINT_URL", " "), ("MINIO_URI", "minio:9000")];
        let s = S3Settings::from_lookup(lookup(&vars));
        assert_eq!(s.endpoint.as_deref(), Some("http://minio:9000"));
        assert_eq!(s.storage_options()["aws_allow_http"], "true");
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let vars = [("AWS_SECRET_ACCESS_KEY", "hunter2"), ("AWS_SESSION_TOKEN", "tok3n")];
        let s = S3Settings::from_lookup(lookup(&vars));
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("tok3n"), "{shown}");
        assert_eq!(s.storage_options()["aws_session_token"], "tok3n");
        assert_eq!(s.storage_options()["aws_region"], "us-east-1");
    }
}
