//! The tables as the Python `deltalake` package reads them, checked against an independent
//! computation from the YAML (`tests/reference/f1db_reference.py`: PyYAML + plain Python).

use std::path::{Path, PathBuf};
use std::process::Command;

use pitwall_test_support::venv::python;
use pitwall_test_support::{f1db, full_lake, local_lake};

fn run(args: &[&str]) -> String {
    let out = Command::new(python()).args(args).output().expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "python {args:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

fn reference_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/f1db_reference.py")
}

#[test]
fn python_deltalake_reads_the_same_feature_rows_as_an_independent_computation() {
    let lake = full_lake();
    // Dates chosen for their edge cases: the first GP, shared drives (1950s), the 1984
    // exclusions and disqualifications, the last race of 2024 and of 2025.
    let dtrefs = "1950-05-13,1951-05-27,1955-01-16,1984-04-29,1984-06-03,1998-03-08,2024-12-08,2025-12-07";
    let out = run(&[
        reference_script().to_str().unwrap(),
        lake.to_str().unwrap(),
        f1db().to_str().unwrap(),
        "--dtrefs",
        dtrefs,
        "--abt",
    ]);
    assert!(out.contains(" passed, 0 failed"), "{out}");
}

#[tokio::test]
async fn python_deltalake_sees_every_table_with_the_same_row_count() {
    let root = full_lake();
    let inventory = local_lake(root).tables().await.unwrap();
    let script = r#"
import sys
from deltalake import DeltaTable
root = sys.argv[1]
for path in sys.argv[2:]:
    t = DeltaTable(f"{root}/{path}")
    print(path, t.version(), t.to_pyarrow_dataset().count_rows())
"#;
    let paths: Vec<String> = inventory.tables.iter().map(|t| t.table.to_string()).collect();
    let mut args = vec!["-c", script, root.to_str().unwrap()];
    args.extend(paths.iter().map(String::as_str));
    let out = run(&args);
    let expected: String =
        inventory.tables.iter().map(|t| format!("{} {} {}\n", t.table, t.version.unwrap(), t.rows)).collect();
    assert_eq!(out, expected);
}
