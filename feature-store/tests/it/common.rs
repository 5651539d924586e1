//! Reading query results in the lake's tests, and partial F1DB trees to edit (the source and
//! the lakes themselves come from `pitwall-test-support`).

use std::path::{Path, PathBuf};

use deltalake::arrow::util::display::array_value_to_string;
use pitwall_lake::{Lake, RecordBatch};
use pitwall_test_support::f1db;

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
