"""The churn loop end to end, checked with the real mlflow client (marked `once`: one server).

A lake is built from the real F1DB data with the CLI; `pitwall train churn` logs its run and
registers `f1_churn` version 1 as `champion`; `pitwall score churn` writes analytics
f1/model_churn. MLflow's own pyfunc must then load the champion and predict exactly what the
scorer wrote, a scikit-learn trainer (`churn/train_churn.py`) must register version 2 beside
the Rust one, and bad input through the CLI must fail clearly without touching model_churn.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests
from deltalake import DeltaTable

from conftest import ORACLE, _free_port, _target_dir, pitwall_bin, unique

# One server (SQLite, local artifacts by default): the registry and artifact paths used here
# are covered on every backend and store by the other modules.
pytestmark = [pytest.mark.registry, pytest.mark.once]

HERE = Path(__file__).resolve().parent
MODEL = "f1_churn"
CHAMPION = "champion"
SINCE = "2000-01-01"
TOLERANCE = 1e-6
FS_DRIVERS = "silver/f1/fs_drivers"
ABT = "analytics/f1/abt_churn"
MODEL_CHURN = "analytics/f1/model_churn"
RUST_METRICS = ["auc_oot", "acc_oot", "acc_train", "auc_train", "acc_test", "auc_test"]
# Under the suite's 300 s per test, so that a hung command fails with its output.
CLI_TIMEOUT = 240


# --- the CLI ---------------------------------------------------------------------------------

def f1db_dir() -> Path:
    """The F1DB data folder: $PITWALL_F1DB, else the shared copy beside the repository."""
    path = Path(os.environ.get("PITWALL_F1DB") or HERE.parent.parent / "shared" / "f1db")
    if not (path / "drivers").is_dir():
        pytest.fail(f"F1DB data not found at {path}: set PITWALL_F1DB")
    return path


def cli_bin() -> Path:
    """The binary the CLI commands run: the server's, except in an oracle run, where the server
    is MLflow's (PITWALL_BIN is the shim) and the CLI is the built `pitwall` (PITWALL_CLI_BIN)."""
    if ORACLE:
        return Path(os.environ.get("PITWALL_CLI_BIN") or _target_dir() / "debug" / "pitwall")
    return pitwall_bin()


def _text(out) -> str:
    if isinstance(out, bytes):
        return out.decode("utf-8", "replace")
    return out or ""


def pitwall(*args: str, cwd: Path, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
    """Runs `pitwall ARGS` in `cwd` and answers it whatever its exit code. Only explicit flags
    configure it: the tracking fixture's MLFLOW_TRACKING_URI is not passed on. Errors come
    without anyhow's backtrace (panics keep theirs) and logs without colours, so that a
    failure message shows the error itself."""
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "PITWALL_LAKE_URI")}
    env.update(RUST_LIB_BACKTRACE="0", NO_COLOR="1")
    cmd = [str(cli_bin()), *args]
    try:
        return subprocess.run(
            cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(
            f"`pitwall {' '.join(args)}` did not finish within {timeout} s\n"
            f"--- stdout ---\n{_text(e.stdout)[-3000:]}\n--- stderr ---\n{_text(e.stderr)[-3000:]}"
        )


def describe_cli(r: subprocess.CompletedProcess) -> str:
    """A failure message naming the command, its exit code and the end of its output."""
    return (
        f"\n  command: {' '.join(r.args)}\n  exit   : {r.returncode}\n"
        f"  stdout : {r.stdout[-3000:]}\n  stderr : {r.stderr[-3000:]}"
    )


def pitwall_ok(*args: str, cwd: Path, timeout: float = CLI_TIMEOUT) -> str:
    """Runs `pitwall ARGS`, which must succeed; answers its stdout."""
    r = pitwall(*args, cwd=cwd, timeout=timeout)
    assert r.returncode == 0, "pitwall failed:" + describe_cli(r)
    return r.stdout


def closed_url() -> str:
    """A tracking URI nothing listens on (a port just bound and released)."""
    return f"http://127.0.0.1:{_free_port()}"


# --- the lake --------------------------------------------------------------------------------

def delta_table(lake: Path, rel: str) -> Path:
    """The folder of Delta table `rel` (e.g. analytics/f1/model_churn) under the lake root,
    found by its `_delta_log` rather than assumed from the layout."""
    found = [p.parent for p in lake.rglob("_delta_log") if p.parent.as_posix().endswith("/" + rel)]
    assert len(found) == 1, f"expected one Delta table {rel} under {lake}, found {found}"
    return found[0]


def fs_drivers_since(lake: Path, since: str) -> pd.DataFrame:
    """fs_drivers rows with dtRef on or after `since` (dtRef is the partition column)."""
    return DeltaTable(str(delta_table(lake, FS_DRIVERS))).to_pandas(filters=[("dtRef", ">=", since)])


def model_churn_version(lake: Path) -> int:
    """The Delta version of model_churn: a failed command must not have committed."""
    return DeltaTable(str(delta_table(lake, MODEL_CHURN))).version()


# --- fixtures: the lake once, one training, one scoring ---------------------------------------

@dataclass
class Training:
    run_id: str
    stdout: str


@dataclass
class Scoring:
    table: Path
    stdout: str


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """The CLI's working directory: it writes pitwall-data/… (runs, downloaded models) there."""
    return tmp_path_factory.mktemp("churn")


@pytest.fixture(scope="module")
def lake(workdir) -> Path:
    """A lake built from F1DB by `pitwall ingest f1db` and `pitwall lake build`."""
    root = workdir / "lake"
    pitwall_ok("ingest", "f1db", "--source", str(f1db_dir()), "--lake-uri", str(root), cwd=workdir)
    pitwall_ok("lake", "build", "--lake-uri", str(root), cwd=workdir)
    return root


@pytest.fixture(scope="module")
def rust_training(server, tracking, lake, workdir) -> Training:
    """`pitwall train churn` with its defaults (hyper-parameters chosen on the validation
    seasons), logged to `server`."""
    out = pitwall_ok("train", "churn", "--tracking-uri", server.url, "--lake-uri", str(lake), cwd=workdir)
    found = re.search(rf"^run ([0-9a-f]{{32}}) logged to experiment {MODEL}$", out, re.M)
    assert found, f"no run id in the trainer's output:\n{out}"
    return Training(found.group(1), out)


@pytest.fixture(scope="module")
def scoring(server, rust_training, lake, workdir) -> Scoring:
    """`pitwall score churn` with the champion (downloaded through the registry) since 2000."""
    out = pitwall_ok(
        "score", "churn", "--tracking-uri", server.url, "--lake-uri", str(lake), "--since", SINCE,
        cwd=workdir,
    )
    return Scoring(delta_table(lake, MODEL_CHURN), out)


def train_in_python(server, lake: Path, name: str) -> dict:
    """Runs `churn/train_churn.py` (50 rounds) with the venv's Python, the one running this
    suite, logging to experiment `name` and registering under `name`; answers its summary."""
    script = HERE / "churn" / "train_churn.py"
    cmd = [
        sys.executable, str(script), "--tracking-uri", server.url, "--abt", str(delta_table(lake, ABT)),
        "--experiment", name, "--registered-model", name, "--n-estimators", "50",
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, "train_churn.py failed:" + describe_cli(r)
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def python_training(server, scoring, lake) -> dict:
    """The Python trainer beside the Rust one, after the Rust model was registered and used
    for scoring (the champion may move afterwards)."""
    return train_in_python(server, lake, MODEL)


# --- the Rust trainer and the registry ---------------------------------------------------------

def test_train_registers_version_1_as_champion(tracking, rust_training):
    assert f"registered {MODEL} version 1: the new champion" in rust_training.stdout
    version = tracking.get_model_version(MODEL, "1")
    assert version.run_id == rust_training.run_id
    assert version.status == "READY"
    assert version.source.startswith("models:/m-"), version.source
    model_id = version.source.removeprefix("models:/")
    logged = tracking.get_logged_model(model_id)
    assert logged.source_run_id == rust_training.run_id
    assert "READY" in str(logged.status)
    assert float(version.tags["auc_oot"]) == pytest.approx(
        tracking.get_run(rust_training.run_id).data.metrics["auc_oot"], rel=1e-12
    )
    assert tracking.get_model_version_by_alias(MODEL, CHAMPION).version == "1"
    assert tracking.get_registered_model(MODEL).aliases == {CHAMPION: "1"}


def test_rust_run_is_found_by_search_runs(tracking, rust_training):
    runs = mlflow.search_runs(experiment_names=[MODEL])
    row = runs[runs["run_id"] == rust_training.run_id]
    assert len(row) == 1, runs[["run_id"]]
    row = row.iloc[0]
    assert row["status"] == "FINISHED"
    for name in RUST_METRICS:
        value = row[f"metrics.{name}"]
        assert 0.0 <= value <= 1.0, (name, value)
    params = {k.removeprefix("params."): v for k, v in row.items() if k.startswith("params.")}
    assert params["model"] == "tree-ensemble"
    # Chosen by validation on the seasons before the test season, among those searched.
    assert float(params["learning_rate"]) in [float(v) for v in params["search_learning_rates"].split(",")]
    assert params["max_depth"] in params["search_max_depths"].split(",")
    assert 0 < int(params["n_estimators"]) <= int(params["search_max_rounds"])
    assert params["seed"] == "42"
    assert float(params["test_fraction"]) == pytest.approx(0.2)
    seasons = [int(s) for s in params["validation_season_list"].split(",")]
    assert seasons == sorted(seasons) and seasons[-1] < int(params["test_season"])
    # The AUC of each season, the season being the step: the validation seasons, then the test one.
    history = tracking.get_metric_history(rust_training.run_id, "auc_season")
    assert [m.step for m in history] == [*seasons, int(params["test_season"])]
    assert history[-1].value == pytest.approx(row["metrics.auc_oot"])
    artifacts = {f.path for f in tracking.list_artifacts(rust_training.run_id)}
    assert {"auc_by_season.png", "auc_by_season.json", "validation.csv"} <= artifacts
    # The run's model is its output, as `log_model` links it in MLflow 3.
    outputs = tracking.get_run(rust_training.run_id).outputs
    model_id = tracking.get_model_version(MODEL, "1").source.removeprefix("models:/")
    assert [o.model_id for o in outputs.model_outputs] == [model_id]


# --- scoring ------------------------------------------------------------------------------------

def test_score_writes_model_churn(scoring, lake):
    assert f"scoring with {MODEL} version 1" in scoring.stdout
    scores = DeltaTable(str(scoring.table)).to_pandas()
    assert set(scores.columns) == {"idDriver", "idTeam", "dtModel", "nrModelVersion", "dtRef", "pctProbaChurn"}
    assert (scores["nrModelVersion"] == 1).all()
    assert scores["dtRef"].min() >= SINCE
    assert not scores.duplicated(["idDriver", "dtRef"]).any()
    assert scores["pctProbaChurn"].between(0.0, 1.0).all()
    assert len(scores) == len(fs_drivers_since(lake, SINCE)) > 0


def test_champion_through_pyfunc_predicts_what_score_wrote(tracking, scoring, lake):
    assert tracking.get_model_version_by_alias(MODEL, CHAMPION).version == "1", (
        "the champion moved before this test: it must run before the Python trainer's"
    )
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}@{CHAMPION}")
    spec = model.metadata.metadata["pitwall_features"]
    schema = model.metadata.get_input_schema()
    # The feature store's columns, with their own types: the team as a string (encoded inside
    # the model), integers as integers.
    assert schema.input_names() == spec["numeric"] + ["idTeam"]
    types = dict(zip(schema.input_names(), (t.name for t in schema.input_types())))
    assert types["idTeam"] == "string" and types["qtRaces"] == "long"
    assert types["dtIntervalMaxMin"] == "integer" and types["avgPosition"] == "double"
    assert spec["categories"], "no teams"

    # fs_drivers rows as the `deltalake` package reads them, unchanged (extra columns too).
    features = fs_drivers_since(lake, SINCE)
    predicted = model.predict(features)
    assert list(predicted.columns) == ["pctProbaChurn"]
    assert len(predicted) == len(features)
    features = features.assign(pyfunc=predicted["pctProbaChurn"].to_numpy())
    scores = DeltaTable(str(scoring.table)).to_pandas()
    rows = scores.merge(features, on=["idDriver", "dtRef"], how="inner", suffixes=("", "_fs"),
                        validate="one_to_one")
    assert len(rows) == len(scores) == len(features)
    assert (rows["idTeam"].fillna("") == rows["idTeam_fs"].fillna("")).all()
    diff = np.abs(rows["pyfunc"].to_numpy() - rows["pctProbaChurn"].to_numpy())
    worst = int(np.argmax(diff))
    assert diff[worst] <= TOLERANCE, (
        f"{int((diff > TOLERANCE).sum())} of {len(rows)} rows differ; worst "
        f"{rows.iloc[worst][['idDriver', 'dtRef', 'pctProbaChurn']].to_dict()} "
        f"vs pyfunc {rows['pyfunc'].iloc[worst]}"
    )


def test_serve_model_answers_what_score_wrote(server, scoring, lake, workdir):
    """`pitwall serve-model models:/f1_churn@champion` (downloaded through the registry) answers
    MLflow's scoring protocol with the probabilities the scorer wrote for the same rows."""
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}@{CHAMPION}")
    names = model.metadata.get_input_schema().input_names()
    scores = DeltaTable(str(scoring.table)).to_pandas()
    rows = scores.merge(fs_drivers_since(lake, SINCE), on=["idDriver", "dtRef"], suffixes=("", "_fs"))
    rows = rows.sample(n=2000, random_state=7).reset_index(drop=True)
    # The raw feature-store columns as JSON (missing numbers as nulls), as a client sends them.
    features = rows[names].assign(idTeam=rows["idTeam_fs"])

    port = _free_port()
    proc = subprocess.Popen(
        [str(cli_bin()), "serve-model", f"models:/{MODEL}@{CHAMPION}", "--tracking-uri", server.url,
         "--port", str(port)],
        cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(240):
            try:
                if requests.get(f"{url}/ping", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None, f"serve-model exited: {proc.communicate()[0]}"
            time.sleep(0.25)
        body = {"dataframe_split": json.loads(features.to_json(orient="split", index=False))}
        r = requests.post(f"{url}/invocations", json=body, timeout=60)
        assert r.status_code == 200, r.text
        served = np.array([p["pctProbaChurn"] for p in r.json()["predictions"]])
        diff = np.abs(served - rows["pctProbaChurn"].to_numpy())
        assert len(served) == len(rows) and diff.max() <= TOLERANCE, f"worst difference {diff.max()}"

        missing = features.drop(columns=[names[0]]).head(3)
        body = {"dataframe_split": json.loads(missing.to_json(orient="split", index=False))}
        r = requests.post(f"{url}/invocations", json=body, timeout=60)
        assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE", r.text
        assert names[0] in r.json()["message"], r.text
    finally:
        proc.terminate()
        proc.wait(30)


# --- bad input through the CLI ------------------------------------------------------------------

# What the CLI says when nothing answers at the tracking URI: the request error and its cause.
UNREACHABLE = r"connection refused"


def assert_fails(r: subprocess.CompletedProcess, *patterns: str) -> str:
    """The command exited non-zero and its output matches every pattern (case-insensitive)."""
    assert r.returncode != 0, "expected a failure:" + describe_cli(r)
    output = r.stdout + r.stderr
    for pattern in patterns:
        assert re.search(pattern, output, re.I), f"expected {pattern!r} in the output:" + describe_cli(r)
    return output


def test_score_with_registry_down_fails_clearly(scoring, lake, workdir):
    before = model_churn_version(lake)
    url = closed_url()
    r = pitwall("score", "churn", "--tracking-uri", url, "--lake-uri", str(lake), "--since", SINCE,
                cwd=workdir, timeout=120)
    assert_fails(r, re.escape(url.removeprefix("http://")), UNREACHABLE)
    assert model_churn_version(lake) == before


def test_score_with_unknown_version_fails_clearly(server, scoring, lake, workdir):
    before = model_churn_version(lake)
    r = pitwall("score", "churn", "--tracking-uri", server.url, "--lake-uri", str(lake),
                "--model-version", "999", "--since", SINCE, cwd=workdir, timeout=120)
    assert_fails(r, r"\b999\b", r"RESOURCE_DOES_NOT_EXIST|not found|does not exist")
    assert model_churn_version(lake) == before


def test_train_with_registry_down_fails_clearly(tracking, scoring, lake, workdir):
    before = model_churn_version(lake)
    versions_before = len(tracking.search_model_versions(f"name='{MODEL}'"))
    url = closed_url()
    # Five rounds: what fails here is reaching the registry after training, not the model.
    r = pitwall("train", "churn", "--tracking-uri", url, "--lake-uri", str(lake),
                "--n-estimators", "5", "--output", str(workdir / "runs" / "registry-down"),
                cwd=workdir, timeout=300)
    out = assert_fails(r, re.escape(url.removeprefix("http://")), UNREACHABLE)
    # The registry is checked before the fit: no training time is spent on a run that cannot be logged.
    assert "auc_oot" not in out, describe_cli(r)
    assert model_churn_version(lake) == before
    assert len(tracking.search_model_versions(f"name='{MODEL}'")) == versions_before


def test_score_with_unknown_model_names_it(server, scoring, lake, workdir):
    before = model_churn_version(lake)
    r = pitwall("score", "churn", "--tracking-uri", server.url, "--lake-uri", str(lake),
                "--registered-model", "no_such_model", "--since", SINCE, cwd=workdir, timeout=120)
    assert_fails(r, r"no_such_model", r"RESOURCE_DOES_NOT_EXIST|not found")
    assert model_churn_version(lake) == before


# --- the Python trainer beside the Rust one ------------------------------------------------------

def test_python_run_is_autologged(tracking, rust_training, python_training):
    runs = mlflow.search_runs(experiment_names=[MODEL])
    assert {rust_training.run_id, python_training["run_id"]} <= set(runs["run_id"])
    row = runs[runs["run_id"] == python_training["run_id"]].iloc[0]
    assert row["status"] == "FINISHED"
    # autolog's parameters of the pipeline and its training metrics
    assert row["params.ada__n_estimators"] == "50"
    assert "DecisionTreeClassifier(max_depth=1)" in row["params.ada__estimator"]
    assert row["params.prep__team__handle_unknown"] == "ignore"
    assert row["tags.estimator_class"] == "sklearn.pipeline.Pipeline"
    for name in ["training_accuracy_score", "training_roc_auc", *RUST_METRICS]:
        value = row[f"metrics.{name}"]
        assert 0.0 <= value <= 1.0, (name, value)
    assert row["metrics.auc_test"] == pytest.approx(python_training["auc_test"])
    assert row["metrics.auc_oot"] == pytest.approx(python_training["auc_oot"])


def test_python_version_is_registered_beside_the_rust_one(tracking, rust_training, python_training):
    versions = {v.version: v for v in tracking.search_model_versions(f"name='{MODEL}'")}
    assert set(versions) == {"1", "2"}
    assert python_training["version"] == "2"
    assert versions["1"].run_id == rust_training.run_id
    assert versions["2"].run_id == python_training["run_id"]
    assert versions["2"].source == python_training["model_uri"]
    assert versions["2"].source.startswith("models:/m-")
    assert versions["2"].source != versions["1"].source


def test_champion_moves_only_to_a_better_out_of_time_auc(tracking, python_training):
    rust_auc = float(tracking.get_model_version(MODEL, "1").tags["auc_oot"])
    python_auc = python_training["auc_oot"]
    assert float(tracking.get_model_version(MODEL, "2").tags["auc_oot"]) == pytest.approx(python_auc)
    expected = "2" if python_auc > rust_auc else "1"
    assert tracking.get_model_version_by_alias(MODEL, CHAMPION).version == expected
    assert python_training["champion"] == expected
    if expected == "1":
        assert "kept" in python_training["reason"], python_training
    else:
        assert "new champion" in python_training["reason"], python_training


def test_python_version_predicts_through_pyfunc(tracking, python_training, lake):
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}/2")
    names = model.metadata.get_input_schema().input_names()
    abt = DeltaTable(str(delta_table(lake, ABT))).to_pandas()
    assert "idTeam" in names and "flChurn" not in names
    sample = abt.sample(n=20, random_state=0)
    predicted = np.asarray(model.predict(sample[names]))
    assert predicted.shape == (20,)
    assert set(predicted.tolist()) <= {0, 1}


def test_python_model_takes_the_alias_from_a_weaker_champion(server, tracking, lake, workdir):
    """The other side of the rule, on a registered model of its own: a one-stump Rust model is
    the champion, the 50-round Python model beats it out of time."""
    name = unique("f1_churn_weak")
    pitwall_ok("train", "churn", "--tracking-uri", server.url, "--lake-uri", str(lake),
               "--n-estimators", "1", "--max-depth", "1", "--experiment", name, "--registered-model", name,
               "--output", str(workdir / "runs" / "weak"), cwd=workdir)
    weak_auc = float(tracking.get_model_version(name, "1").tags["auc_oot"])
    assert tracking.get_model_version_by_alias(name, CHAMPION).version == "1"

    summary = train_in_python(server, lake, name)
    assert summary["auc_oot"] > weak_auc, "the Python model was meant to beat one stump"
    assert summary["version"] == "2"
    assert summary["champion"] == "2"
    assert "beats champion version 1" in summary["reason"], summary
    assert tracking.get_model_version_by_alias(name, CHAMPION).version == "2"
    assert sorted(v.version for v in tracking.search_model_versions(f"name='{name}'")) == ["1", "2"]
