#!/usr/bin/env bash
# The house rules CI can check: formatting, clippy with warnings as errors, and every
# dependency of a member declared once in the root [workspace.dependencies] table.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pitwall/target}"

echo "lint: cargo fmt --check"
cargo fmt --all --check

echo "lint: dependencies through the workspace table"
stray=0
for manifest in */Cargo.toml; do
    # Lines of a [*dependencies] section that name a crate without `workspace = true`.
    lines=$(awk '/^\[.*dependencies\]/{d=1;next} /^\[/{d=0} d && NF && !/^#/ && !/workspace *= *true/' "$manifest")
    if [ -n "$lines" ]; then
        echo "$manifest declares dependencies outside [workspace.dependencies]:"
        echo "$lines" | sed 's/^/    /'
        stray=1
    fi
done
[ "$stray" -eq 0 ]

echo "lint: cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
