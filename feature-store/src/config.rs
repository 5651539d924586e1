//! Where the lake lives and how to reach it: the root URL and the S3 settings.

use std::collections::HashMap;
use std::fmt;

/// The lake root used when none is given.
pub const DEFAULT_LAKE_URI: &str = "./pitwall-data/lake";

/// Settings for an S3-compatible store (MinIO, AWS, a local test server).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Settings {
    /// Endpoint URL; none means AWS itself.
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub region: Option<String>,
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key.as_ref().map(|_| "***"))
            .field("region", &self.region)
            .finish()
    }
}

impl S3Settings {
    /// Reads the standard AWS variables, with MLflow's endpoint variable and the seed's MinIO
    /// variables as fallbacks, from the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Same as [`S3Settings::from_env`] over any variable lookup, so tests need not touch the
    /// process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let first = |keys: &[&str]| keys.iter().find_map(|k| get(k));
        let endpoint = first(&["AWS_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL", "MINIO_URI"]).map(|e| {
            // The seed's MINIO_URI is sometimes written as host:port.
            if e.contains("://") { e } else { format!("http://{e}") }
        });
        Self {
            endpoint,
            access_key_id: first(&["AWS_ACCESS_KEY_ID", "MINIO_ROOT_USER"]),
            secret_access_key: first(&["AWS_SECRET_ACCESS_KEY", "MINIO_ROOT_PASSWORD"]),
            region: first(&["AWS_REGION", "AWS_DEFAULT_REGION"]),
        }
    }

    /// Options in the spelling both `object_store` and delta-rs understand.
    pub(crate) fn storage_options(&self) -> HashMap<String, String> {
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
        o.insert("aws_region".into(), self.region.clone().unwrap_or_else(|| "us-east-1".into()));
        // Delta commits are safe on S3 only when a commit file is created with
        // `If-None-Match: *`; MinIO and the test server honour it.
        o.insert("aws_conditional_put".into(), "etag".into());
        o
    }
}

/// The lake's configuration: where the root is and how to reach S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeConfig {
    /// A local folder, a `file://` URL or an `s3://bucket/prefix` URL. A `{layer}` placeholder
    /// puts the layer name there (`s3://{layer}` makes each layer a bucket); without it the
    /// layers are sub-folders (prefixes) of the root.
    pub root: String,
    pub s3: S3Settings,
}

impl LakeConfig {
    /// A configuration for `root` with S3 settings from the environment.
    pub fn new(root: impl Into<String>) -> Self {
        Self { root: root.into(), s3: S3Settings::from_env() }
    }
}

impl Default for LakeConfig {
    fn default() -> Self {
        Self::new(DEFAULT_LAKE_URI)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minio_variables_are_fallbacks_for_the_aws_ones() {
        let env: HashMap<&str, &str> = [
            ("MINIO_URI", "minio:9000"),
            ("MINIO_ROOT_USER", "minio"),
            ("MINIO_ROOT_PASSWORD", "secret"),
            ("AWS_ACCESS_KEY_ID", "aws-key"),
        ]
        .into();
        let s = S3Settings::from_lookup(|k| env.get(k).map(|v| v.to_string()));
        assert_eq!(s.endpoint.as_deref(), Some("http://minio:9000"));
        assert_eq!(s.access_key_id.as_deref(), Some("aws-key"));
        assert_eq!(s.secret_access_key.as_deref(), Some("secret"));
        let o = s.storage_options();
        assert_eq!(o["aws_allow_http"], "true");
        assert_eq!(o["aws_region"], "us-east-1");
        assert!(!format!("{s:?}").contains("secret\""));
    }

    #[test]
    fn mlflow_endpoint_is_used_when_aws_one_is_absent() {
        let s = S3Settings::from_lookup(|k| (k == "MLFLOW_S3_ENDPOINT_URL").then(|| "https://s3.example".to_string()));
        assert_eq!(s.endpoint.as_deref(), Some("https://s3.example"));
        assert!(!s.storage_options().contains_key("aws_allow_http"));
    }
}
