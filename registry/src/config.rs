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
    /// Where proxied artifacts are kept (`--artifacts-destination`).
    pub artifacts_destination: String,
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
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_hidden() {
        assert_eq!(super::redact("postgresql://u:secret@h/db"), "postgresql://u:***@h/db");
    }
}
