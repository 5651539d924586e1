//! The trainer's fixtures over the shared full-history lake: its ABT and one model trained on
//! it, each made once per test run; and the scripts of `tests/python`.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use pitwall_test_support::venv::python;
use pitwall_test_support::{block_on, full_lake, local_lake};
use pitwall_trainer::frame::Frame;
use pitwall_trainer::train::{load_abt, write_run};
use pitwall_trainer::{RunFiles, TrainOptions, Trained, train};

/// The ABT of the full lake.
pub fn abt() -> &'static Frame {
    static ABT: OnceLock<Frame> = OnceLock::new();
    ABT.get_or_init(|| {
        let root = full_lake().to_path_buf();
        block_on(move || async move { load_abt(&local_lake(&root)).await.expect("the ABT loads") })
    })
}

/// The default tree ensemble trained on the full ABT, with its run written to disk.
pub struct TrainedRun {
    pub trained: Trained,
    pub files: RunFiles,
    pub options: TrainOptions,
    _dir: tempfile::TempDir,
}

pub fn trained_run() -> &'static TrainedRun {
    static RUN: OnceLock<TrainedRun> = OnceLock::new();
    RUN.get_or_init(|| {
        let options = TrainOptions::default();
        let trained = train(abt(), &options, |_| {}).expect("training succeeds");
        let dir = tempfile::tempdir().expect("a temp dir");
        let files = write_run(&dir.path().join("run"), abt(), &trained, &options).expect("the run is written");
        TrainedRun { trained, files, options, _dir: dir }
    })
}

/// Runs a script of `tests/python` and returns its standard output.
pub fn run_python(script: &str, args: &[&str]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python").join(script);
    let out = Command::new(python()).arg(&path).args(args).output().expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{script} {args:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}
