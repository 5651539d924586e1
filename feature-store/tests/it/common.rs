//! Shared fixtures: the F1DB source, lakes in temporary folders, and one full-history lake
//! built once per test run.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use deltalake::arrow::util::display::array_value_to_string;
use pitwall_lake::{Lake, LakeConfig, RecordBatch, S3Settings, SeasonRange};

/// The F1DB source tree: `$PITWALL_F1DB`, or `shared/f1db` beside the checkout.
pub fn f1db() -> PathBuf {
    let path = std::env::var_os("PITWALL_F1DB")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/f1db"));
    assert!(path.join("seasons").is_dir(), "F1DB source not found at {} (set PITWALL_F1DB)", path.display());
    path
}

/// A lake in a local folder, with no S3 settings.
pub fn local_lake(dir: &Path) -> Lake {
    Lake::open(&LakeConfig { root: dir.to_str().expect("a UTF-8 temp path").to_string(), s3: S3Settings::default() })
        .expect("a local lake opens")
}

/// A lake with every season since 1950 ingested and built, shared by the tests that only read.
pub fn full_lake() -> &'static Path {
    static FULL: OnceLock<tempfile::TempDir> = OnceLock::new();
    FULL.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temp dir");
        let root = dir.path().to_path_buf();
        // Each test has its own runtime; the shared build gets one of its own.
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new().expect("a runtime").block_on(async {
                let lake = local_lake(&root);
                lake.ingest_f1db(&f1db(), SeasonRange::ALL).await.expect("full ingest");
                lake.build(false).await.expect("full build");
            });
        })
        .join()
        .expect("the full build does not panic");
        dir
    })
    .path()
}

/// Query results as rows of display strings (nulls as "").
pub fn rows(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            out.push(
                b.columns()
                    .iter()
                    .map(
                        |c| {
                            if c.is_null(r) { String::new() } else { array_value_to_string(c, r).expect("displayable") }
                        },
                    )
                    .collect(),
            );
        }
    }
    out
}

/// Runs `sql` on `lake` and returns the rows as strings.
pub async fn query(lake: &Lake, sql: &str) -> Vec<Vec<String>> {
    rows(&lake.sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}")))
}

/// The one value of a one-row, one-column query.
pub async fn scalar(lake: &Lake, sql: &str) -> String {
    let r = query(lake, sql).await;
    assert_eq!(r.len(), 1, "{sql} returned {} rows", r.len());
    r[0][0].clone()
}

/// A source tree holding only the given race folders of one season, the entity folders linked
/// from the real tree, so a test can edit or break files without touching the shared copy.
pub fn partial_source(dir: &Path, season: i32, races: &[&str]) -> PathBuf {
    let src = f1db();
    let root = dir.join("f1db");
    for entity in ["drivers", "constructors", "circuits", "countries"] {
        std::fs::create_dir_all(&root).unwrap();
        std::os::unix::fs::symlink(src.join(entity), root.join(entity)).unwrap();
    }
    for race in races {
        let from = src.join(format!("seasons/{season}/races/{race}"));
        let to = root.join(format!("seasons/{season}/races/{race}"));
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(&from).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
    root
}
