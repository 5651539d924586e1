//! Lakes for the tests: one in a given folder, and one with every season built once per test
//! binary and shared by the tests that only read it.

use std::path::Path;
use std::sync::OnceLock;

use pitwall_lake::{Lake, LakeConfig, S3Settings, SeasonRange};

use crate::{block_on, f1db};

/// A lake in a local folder, with no S3 settings.
pub fn local_lake(dir: &Path) -> Lake {
    Lake::open(&LakeConfig { root: dir.to_str().expect("a UTF-8 temp path").to_string(), s3: S3Settings::default() })
        .expect("a local lake opens")
}

/// A lake with every season since 1950 ingested and built.
pub fn full_lake() -> &'static Path {
    static FULL: OnceLock<tempfile::TempDir> = OnceLock::new();
    FULL.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temp dir");
        let root = dir.path().to_path_buf();
        block_on(move || async move {
            let lake = local_lake(&root);
            lake.ingest_f1db(&f1db(), SeasonRange::ALL).await.expect("full ingest");
            lake.build(false).await.expect("full build");
        });
        dir
    })
    .path()
}
