//! The lake's layout: which URL each layer and each table lives at.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use url::Url;

use crate::config::LakeConfig;
use crate::error::{LakeError, Result};

/// The medallion layers, each a bucket or a prefix of the lake root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    Raw,
    Bronze,
    Silver,
    Analytics,
}

impl Layer {
    pub const ALL: [Layer; 4] = [Layer::Raw, Layer::Bronze, Layer::Silver, Layer::Analytics];

    pub fn name(self) -> &'static str {
        match self {
            Layer::Raw => "raw",
            Layer::Bronze => "bronze",
            Layer::Silver => "silver",
            Layer::Analytics => "analytics",
        }
    }
}

/// A Delta table of the lake: a layer and a path inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableId {
    pub layer: Layer,
    pub path: &'static str,
}

impl fmt::Display for TableId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.layer.name(), self.path)
    }
}

/// bronze `f1/results`: the latest raw version of every session result, typed.
pub const BRONZE_RESULTS: TableId = TableId { layer: Layer::Bronze, path: "f1/results" };
/// silver `f1/results`: one row per driver per session.
pub const SILVER_RESULTS: TableId = TableId { layer: Layer::Silver, path: "f1/results" };
/// silver `f1/sessions`: one row per session.
pub const SILVER_SESSIONS: TableId = TableId { layer: Layer::Silver, path: "f1/sessions" };
/// silver `f1/fs_drivers`: the driver feature store, partitioned by dtRef.
pub const FS_DRIVERS: TableId = TableId { layer: Layer::Silver, path: "f1/fs_drivers" };
/// The input fingerprint each fs_drivers partition was computed from.
pub const FS_DRIVERS_INPUTS: TableId = TableId { layer: Layer::Silver, path: "f1/fs_drivers_inputs" };
/// analytics `f1/abt_churn`: the churn training table.
pub const ABT_CHURN: TableId = TableId { layer: Layer::Analytics, path: "f1/abt_churn" };

/// Every Delta table the lake builds, in build order.
pub const TABLES: [TableId; 6] =
    [BRONZE_RESULTS, SILVER_RESULTS, SILVER_SESSIONS, FS_DRIVERS, FS_DRIVERS_INPUTS, ABT_CHURN];

/// The resolved locations of a lake.
#[derive(Clone)]
pub struct LakeLocation {
    layers: HashMap<Layer, Url>,
    options: HashMap<String, String>,
}

impl fmt::Debug for LakeLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut layers: Vec<_> = self.layers.iter().collect();
        layers.sort();
        f.debug_struct("LakeLocation").field("layers", &layers).finish_non_exhaustive()
    }
}

impl LakeLocation {
    /// Resolves the root of `config` into one URL per layer. Local folders are created, so a
    /// fresh checkout works without set-up.
    pub fn resolve(config: &LakeConfig) -> Result<Self> {
        let mut layers = HashMap::new();
        let mut is_s3 = false;
        for layer in Layer::ALL {
            let spec = if config.root.contains("{layer}") {
                config.root.replace("{layer}", layer.name())
            } else {
                format!("{}/{}", config.root.trim_end_matches('/'), layer.name())
            };
            let url = to_url(&spec)?;
            match url.scheme() {
                "file" => {
                    let path = url
                        .to_file_path()
                        .map_err(|_| LakeError::Config(format!("{url} is not a usable local path")))?;
                    std::fs::create_dir_all(&path)
                        .map_err(|e| LakeError::Config(format!("cannot create {}: {e}", path.display())))?;
                }
                "s3" | "s3a" => is_s3 = true,
                other => {
                    return Err(LakeError::Config(format!(
                        "unsupported lake scheme {other}:// (use a folder, file:// or s3://)"
                    )));
                }
            }
            layers.insert(layer, url);
        }
        let options = if is_s3 { config.s3.storage_options() } else { HashMap::new() };
        Ok(Self { layers, options })
    }

    /// The URL of a layer, ending in `/`.
    pub fn layer_url(&self, layer: Layer) -> &Url {
        &self.layers[&layer]
    }

    /// The URL of a Delta table, ending in `/`.
    pub fn table_url(&self, table: TableId) -> Url {
        let url = self.layer_url(table.layer);
        url.join(&format!("{}/", table.path)).expect("a relative table path always joins onto a layer URL")
    }

    /// Options for `object_store` and delta-rs (S3 credentials and endpoint).
    pub fn storage_options(&self) -> &HashMap<String, String> {
        &self.options
    }
}

fn to_url(spec: &str) -> Result<Url> {
    let looks_like_url = spec.split_once("://").is_some_and(|(scheme, _)| scheme.len() > 1);
    let mut url = if looks_like_url {
        Url::parse(spec).map_err(|e| LakeError::Config(format!("lake URI {spec}: {e}")))?
    } else {
        let abs =
            std::path::absolute(Path::new(spec)).map_err(|e| LakeError::Config(format!("lake path {spec}: {e}")))?;
        Url::from_directory_path(&abs)
            .map_err(|_| LakeError::Config(format!("lake path {} is not absolute", abs.display())))?
    };
    if url.scheme() == "s3" && url.host_str().is_none_or(str::is_empty) {
        return Err(LakeError::Config(format!(
            "lake URI {spec} names no bucket (use s3://bucket/prefix or s3://{{layer}})"
        )));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::S3Settings;

    fn config(root: &str) -> LakeConfig {
        LakeConfig { root: root.into(), s3: S3Settings::default() }
    }

    #[test]
    fn layers_are_prefixes_of_an_s3_root() {
        let loc = LakeLocation::resolve(&config("s3://lake/prod")).unwrap();
        assert_eq!(loc.table_url(FS_DRIVERS).as_str(), "s3://lake/prod/silver/f1/fs_drivers/");
        assert_eq!(loc.storage_options()["aws_conditional_put"], "etag");
    }

    #[test]
    fn layer_placeholder_makes_each_layer_a_bucket() {
        let loc = LakeLocation::resolve(&config("s3://{layer}")).unwrap();
        assert_eq!(loc.layer_url(Layer::Raw).as_str(), "s3://raw/");
        assert_eq!(loc.table_url(ABT_CHURN).as_str(), "s3://analytics/f1/abt_churn/");
    }

    #[test]
    fn local_roots_become_created_file_urls() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("lake");
        let loc = LakeLocation::resolve(&config(root.to_str().unwrap())).unwrap();
        assert!(root.join("bronze").is_dir());
        assert!(loc.storage_options().is_empty());
        assert_eq!(loc.layer_url(Layer::Bronze).scheme(), "file");
    }

    #[test]
    fn unknown_schemes_and_bucketless_s3_are_refused() {
        assert!(LakeLocation::resolve(&config("gs://x")).is_err());
        assert!(LakeLocation::resolve(&config("s3:///x")).is_err());
    }
}
