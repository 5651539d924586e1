//! The project's Python venv (`compat/requirements.txt`): the S3 test server, reference
//! scripts and the scoring baselines run from it.

use std::path::PathBuf;

/// `$PITWALL_VENV`, or `$HOME/.cache/pitwall/venv`.
pub fn venv() -> PathBuf {
    std::env::var_os("PITWALL_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/pitwall/venv"))
}

/// The venv's Python.
pub fn python() -> PathBuf {
    let venv = venv();
    let exe = venv.join("bin/python");
    assert!(
        exe.is_file(),
        "Python venv not found at {} (install compat/requirements.txt, or set PITWALL_VENV)",
        venv.display()
    );
    exe
}
