//! Model URIs as `mlflow models serve -m` takes them: `models:/NAME/VERSION`,
//! `models:/NAME@ALIAS`, `models:/NAME/latest`, or a local model directory (path or `file://`).

use std::path::{Path, PathBuf};

use crate::client::TrackingClient;
use crate::error::{Result, TrainError};

/// Which version of a registered model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionRef {
    Number(u64),
    Alias(String),
    Latest,
}

/// Where a model to serve lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelUri {
    Registered { name: String, version: VersionRef },
    Local(PathBuf),
}

impl ModelUri {
    pub fn parse(uri: &str) -> Result<Self> {
        let bad = |why: &str| TrainError::Settings(format!("model URI {uri:?}: {why}"));
        if let Some(rest) = uri.strip_prefix("models:/") {
            let rest = rest.trim_start_matches('/');
            if rest.starts_with("m-") && !rest.contains(['/', '@']) {
                return Err(bad("logged-model URIs cannot be served; register the model and serve a version"));
            }
            if let Some((name, alias)) = rest.split_once('@') {
                if name.is_empty() || alias.is_empty() || alias.contains('/') {
                    return Err(bad("expected models:/NAME@ALIAS"));
                }
                return Ok(ModelUri::Registered { name: name.into(), version: VersionRef::Alias(alias.into()) });
            }
            let Some((name, version)) = rest.rsplit_once('/') else {
                return Err(bad("expected models:/NAME/VERSION, models:/NAME/latest or models:/NAME@ALIAS"));
            };
            if name.is_empty() {
                return Err(bad("the model name is empty"));
            }
            let version = if version.eq_ignore_ascii_case("latest") {
                VersionRef::Latest
            } else {
                match version.parse::<u64>() {
                    Ok(n) if n > 0 => VersionRef::Number(n),
                    _ => return Err(bad("the version must be a positive number, \"latest\" or an @alias")),
                }
            };
            return Ok(ModelUri::Registered { name: name.into(), version });
        }
        if let Some(path) = uri.strip_prefix("file://") {
            return Ok(ModelUri::Local(PathBuf::from(path)));
        }
        if uri.contains("://") || uri.starts_with("runs:/") {
            return Err(bad("serve a registered version (models:/…) or a local model directory"));
        }
        Ok(ModelUri::Local(PathBuf::from(uri)))
    }

    /// The model directory: a local one as it is, a registered version downloaded into
    /// `download_to`. Answers the directory and, for a registered model, its version.
    pub async fn fetch(&self, client: Option<&TrackingClient>, download_to: &Path) -> Result<(PathBuf, Option<i64>)> {
        match self {
            ModelUri::Local(dir) => Ok((dir.clone(), None)),
            ModelUri::Registered { name, version } => {
                let client = client.ok_or_else(|| {
                    TrainError::Settings(
                        "a models:/ URI needs the tracking server: set --tracking-uri or MLFLOW_TRACKING_URI".into(),
                    )
                })?;
                let wanted = match version {
                    VersionRef::Number(n) => n.to_string(),
                    VersionRef::Alias(a) => format!("@{a}"),
                    VersionRef::Latest => latest_version(client, name).await?.to_string(),
                };
                let number = client.download_model_version(name, &wanted, download_to).await?;
                Ok((download_to.to_path_buf(), Some(number)))
            }
        }
    }
}

async fn latest_version(client: &TrackingClient, name: &str) -> Result<u64> {
    client
        .model_versions(name)
        .await?
        .iter()
        .filter_map(|v| v.version.parse::<u64>().ok())
        .max()
        .ok_or_else(|| TrainError::Settings(format!("registered model {name:?} has no versions")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_of_registered_versions_and_folders() {
        let reg = |name: &str, version| ModelUri::Registered { name: name.into(), version };
        assert_eq!(
            ModelUri::parse("models:/f1_churn@champion").unwrap(),
            reg("f1_churn", VersionRef::Alias("champion".into()))
        );
        assert_eq!(ModelUri::parse("models:/f1_churn/3").unwrap(), reg("f1_churn", VersionRef::Number(3)));
        assert_eq!(ModelUri::parse("models:/f1_churn/latest").unwrap(), reg("f1_churn", VersionRef::Latest));
        assert_eq!(ModelUri::parse("/tmp/model").unwrap(), ModelUri::Local("/tmp/model".into()));
        assert_eq!(ModelUri::parse("file:///tmp/model").unwrap(), ModelUri::Local("/tmp/model".into()));
        for bad in [
            "models:/f1_churn",
            "models:/f1_churn/0",
            "models:/f1_churn/x",
            "models:/@a",
            "models:/m-abc",
            "s3://b/k",
            "runs:/abc/model",
        ] {
            assert!(ModelUri::parse(bad).is_err(), "{bad}");
        }
    }
}
