#!/usr/bin/env bash
# THE test command: the house rules (fmt, clippy, workspace dependencies), Rust unit and
# integration tests on SQLite and PostgreSQL, then the cross-language compatibility suite (the
# real mlflow client against `pitwall server`).
#   CARGO_TARGET_DIR   default ~/.cache/pitwall/target
#   PITWALL_VENV       default ~/.cache/pitwall/venv
#   PITWALL_TEST_PG_URL default postgresql://postgres@127.0.0.1:5432/postgres
# Extra arguments are passed to pytest (e.g. scripts/test.sh -k search, or -m "not registry").
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pitwall/target}"
export PITWALL_VENV="${PITWALL_VENV:-$HOME/.cache/pitwall/venv}"
export PITWALL_TEST_PG_URL="${PITWALL_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"

step() { echo; echo "==> $* ($(date +%H:%M:%S))"; }

step "PostgreSQL"
if ! pg_isready -q -h 127.0.0.1; then
    echo "starting PostgreSQL"
    for v in $(ls /etc/postgresql); do
        pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
    done
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1

step "Python venv"
"$root/scripts/setup-python.sh"

step "cargo build --workspace --tests"
cargo build --workspace --tests

step "house rules (scripts/lint.sh)"
"$root/scripts/lint.sh"

step "cargo test --workspace"
cargo test --workspace

step "cargo build -p pitwall"
cargo build -p pitwall
export PITWALL_BIN="${PITWALL_BIN:-$CARGO_TARGET_DIR/debug/pitwall}"

step "compatibility suite (pytest compat)"
"$PITWALL_VENV/bin/python" -m pytest compat "$@"
