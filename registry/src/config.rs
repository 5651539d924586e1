//! The server's configuration, with MLflow's names for its flags and variables.

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
    pub s3: S3Config,
}

/// Connection settings for an S3-compatible artifact destination (AWS, MinIO, moto).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Config {
    /// `http(s)://host:port` of a non-AWS endpoint; requests are path-style.
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub region: Option<String>,
}

impl S3Config {
    /// From MLflow's and AWS's variables, then the seed's MinIO ones:
    /// `MLFLOW_S3_ENDPOINT_URL` / `AWS_ENDPOINT_URL` / `MINIO_URI`,
    /// `AWS_ACCESS_KEY_ID` / `MINIO_ROOT_USER`, `AWS_SECRET_ACCESS_KEY` / `MINIO_ROOT_PASSWORD`,
    /// `AWS_SESSION_TOKEN`, `AWS_REGION` / `AWS_DEFAULT_REGION`.
    pub fn from_env() -> S3Config {
        S3Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// As [`S3Config::from_env`], reading variables through `get` (for tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> S3Config {
        let first = |names: &[&str]| names.iter().find_map(|n| get(n).filter(|v| !v.trim().is_empty()));
        S3Config {
            endpoint: first(&["MLFLOW_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL", "MINIO_URI"]),
            access_key_id: first(&["AWS_ACCESS_KEY_ID", "MINIO_ROOT_USER"]),
            secret_access_key: first(&["AWS_SECRET_ACCESS_KEY", "MINIO_ROOT_PASSWORD"]),
            session_token: first(&["AWS_SESSION_TOKEN"]),
            region: first(&["AWS_REGION", "AWS_DEFAULT_REGION"]),
        }
    }
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key.as_ref().map(|_| "***"))
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .field("region", &self.region)
            .finish()
    }
}

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

fn redact(uri: &str) -> String {
    match url::Url::parse(uri) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => uri.to_owned(),
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
        let c = super::S3Config::from_lookup(env);
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
