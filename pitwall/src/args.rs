//! Arguments shared by several commands.

use clap::Args;
use pitwall_lake::{DEFAULT_LAKE_URI, Lake, LakeConfig};

/// The lake a command reads or writes.
#[derive(Debug, Args)]
pub struct LakeArgs {
    /// Lake root: a folder, file://, s3://bucket/prefix, or s3://{layer} for a bucket per layer.
    #[arg(long, env = "PITWALL_LAKE_URI", default_value = DEFAULT_LAKE_URI)]
    pub lake_uri: String,
}

impl LakeArgs {
    /// Opens the lake at the URI.
    pub fn open(&self) -> anyhow::Result<Lake> {
        Ok(Lake::open(&LakeConfig::new(&self.lake_uri))?)
    }
}
