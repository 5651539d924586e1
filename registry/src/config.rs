//! The server's configuration, with MLflow's names for its flags and variables.

use pitwall_settings::redact_uri as redact;

/// Where the server listens and what it stores where.
#[derive(Clone)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    /// `sqlite://…` or `postgresql://…`.
    pub backend_store_uri: String,
    /// Root for the artifact locations of new experiments; `mlflow-artifacts:/` when proxying.
    pub default_artifact_root: Option<String>,
    /// Where proxied artifacts are kept (`--artifacts-destination`): a folder or `s3://bucket/prefix`.
    pub artifacts_destination: String,
    /// How to reach S3 when the destination is `s3://…`.
    pub s3: S3Settings,
}

pub use pitwall_settings::S3Settings;

impl ServerConfig {
    /// With a destination and no explicit root, experiments get proxied `mlflow-artifacts:` URIs.
    pub fn default_artifact_root(&self) -> String {
        self.default_artifact_root.clone().unwrap_or_else(|| "mlflow-artifacts:".to_owned())
    }

    pub fn serve_artifacts(&self) -> bool {
        self.default_artifact_root().starts_with("mlflow-artifacts:")
    }

    /// The store URI without its password, for logs.
    pub fn redacted_store_uri(&self) -> String {
        redact(&self.backend_store_uri)
    }
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("backend_store_uri", &self.redacted_store_uri())
            .field("default_artifact_root", &self.default_artifact_root)
            .field("artifacts_destination", &redact(&self.artifacts_destination))
            .field("s3", &self.s3)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn s3_settings_fall_back_to_the_minio_variables() {
        let env = |k: &str| match k {
            "MINIO_URI" => Some("http://127.0.0.1:9000".to_owned()),
            "MINIO_ROOT_USER" => Some("minio".to_owned()),
            "MINIO_ROOT_PASSWORD" => Some("hunter2".to_owned()),
            "AWS_ACCESS_KEY_ID" => Some("  ".to_owned()),
            _ => None,
        };
        let c = super::S3Settings::from_lookup(env);
        assert_eq!(c.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(c.access_key_id.as_deref(), Some("minio"));
        assert_eq!(c.secret_access_key.as_deref(), Some("hunter2"));
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(super::redact("postgresql://u:secret@h/db"), "postgresql://u:***@h/db");
    }
}
