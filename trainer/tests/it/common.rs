//! Shared fixtures: one full-history lake built once per test run, one model trained on it,
//! and the Python venv of the compatibility suite.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use pitwall_lake::{Lake, LakeConfig, S3Settings, SeasonRange};
use pitwall_trainer::frame::Frame;
use pitwall_trainer::train::{load_abt, write_run};
use pitwall_trainer::{RunFiles, TrainOptions, Trained, train};

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

/// Runs the future `make` returns on a runtime of its own (tests each have theirs; shared
/// fixtures outlive them).
pub fn block_on<T: Send + 'static, F: Future<Output = T>>(make: impl FnOnce() -> F + Send + 'static) -> T {
    // The future is made on the thread that runs it: lake futures need not be Send.
    std::thread::spawn(move || tokio::runtime::Runtime::new().expect("a runtime").block_on(make()))
        .join()
        .expect("the fixture does not panic")
}

/// A lake with every season since 1950 ingested and built, shared by the tests.
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

/// The venv's Python.
pub fn python() -> PathBuf {
    let venv = std::env::var_os("PITWALL_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/pitwall/venv"));
    let exe = venv.join("bin/python");
    assert!(
        exe.is_file(),
        "Python venv not found at {} (install compat/requirements.txt, or set PITWALL_VENV)",
        venv.display()
    );
    exe
}

/// Runs a script of `tests/python` and returns its standard output.
pub fn run_python(script: &str, args: &[&str]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python").join(script);
    let out = Command::new(python()).arg(&path).args(args).output().expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{script} {args:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}
