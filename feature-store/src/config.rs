//! Where the lake lives and how to reach it: the root URL and the S3 settings.

/// The lake root used when none is given.
pub const DEFAULT_LAKE_URI: &str = "./pitwall-data/lake";

pub use pitwall_settings::S3Settings;

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
    use std::collections::HashMap;

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
