#!/usr/bin/env bash
# Creates or updates the Python venv of the compatibility suite (compat/requirements.txt).
# Idempotent and fast when nothing changed: the hash of requirements.txt is kept in the venv.
#   PITWALL_VENV  venv location (default ~/.cache/pitwall/venv)
#   PITWALL_PYTHON  interpreter to create it with (default: python3.11, else python3)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PITWALL_VENV:-$HOME/.cache/pitwall/venv}"
req="$root/compat/requirements.txt"
stamp="$venv/.pitwall-requirements.sha256"

want="$( (cat "$req"; echo "python=${PITWALL_PYTHON:-default}") | sha256sum | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "setup-python: $venv is up to date"
    exit 0
fi

pick_python() {
    if [ -n "${PITWALL_PYTHON:-}" ]; then echo "$PITWALL_PYTHON"; return; fi
    for c in python3.11 "$HOME/.pyenv/shims/python3.11" python3; do
        if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return; fi
    done
    echo "setup-python: no python3 found" >&2
    exit 1
}

if [ ! -x "$venv/bin/python" ]; then
    py="$(pick_python)"
    echo "setup-python: creating $venv with $py ($("$py" --version 2>&1))"
    mkdir -p "$(dirname "$venv")"
    "$py" -m venv "$venv"
fi

echo "setup-python: installing $req into $venv"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet --progress-bar off -r "$req"
"$venv/bin/python" -c 'import mlflow, sklearn, pytest, requests; print("setup-python: mlflow", mlflow.__version__)'
echo "$want" > "$stamp"
echo "setup-python: done"
