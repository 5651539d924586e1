//! A scratch SQLite database: a file in a temporary folder, removed with it.

use std::path::PathBuf;

pub struct ScratchSqlite {
    dir: tempfile::TempDir,
}

impl ScratchSqlite {
    /// A folder for the database; the store creates the file when it opens it.
    pub fn new() -> Self {
        ScratchSqlite { dir: tempfile::tempdir().expect("a temp dir") }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("mlflow.db")
    }

    /// `sqlite:////tmp/…/mlflow.db`, as a backend-store URI names an absolute path.
    pub fn uri(&self) -> String {
        format!("sqlite:///{}", self.path().display())
    }
}

impl Default for ScratchSqlite {
    fn default() -> Self {
        Self::new()
    }
}
