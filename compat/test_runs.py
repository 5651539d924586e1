"""Runs, params and tags through the real mlflow client (and the raw answers behind it)."""

from __future__ import annotations

import time

import mlflow
import pytest
from mlflow.entities import Metric, Param, RunStatus, RunTag
from mlflow.exceptions import MlflowException

from conftest import GENERATED_RUN_NAME_RE, RUN_ID_RE, describe, unique


@pytest.fixture(scope="module")
def exp_id(tracking):
    return mlflow.set_experiment(unique("runs")).experiment_id


def test_start_run_defaults(server, tracking, exp_id):
    before = int(time.time() * 1000)
    with mlflow.start_run(experiment_id=exp_id) as run:
        info = run.info
        assert RUN_ID_RE.match(info.run_id)
        assert info.experiment_id == exp_id
        assert info.status == "RUNNING"
        assert info.lifecycle_stage == "active"
        assert GENERATED_RUN_NAME_RE.match(info.run_name), info.run_name
        assert info.artifact_uri == f"mlflow-artifacts:/{exp_id}/{info.run_id}/artifacts"
        assert before - 5000 <= info.start_time <= int(time.time() * 1000) + 5000
        tags = run.data.tags
        assert tags["mlflow.runName"] == info.run_name
        assert tags["mlflow.source.type"] == "LOCAL"
        assert "mlflow.user" in tags and "mlflow.source.name" in tags
    done = tracking.get_run(info.run_id)
    assert done.info.status == "FINISHED"
    assert done.info.end_time >= done.info.start_time


def test_raw_create_and_get_shapes(server, tracking, exp_id):
    r = server.post("runs/create", {"experiment_id": exp_id, "user_id": "u1", "start_time": 1700000000000,
                                    "tags": [{"key": "a", "value": "b"}]})
    assert r.status_code == 200, describe(r)
    run = r.json()["run"]
    assert set(run) == {"info", "data", "inputs"}, describe(r)
    info = run["info"]
    rid = info["run_id"]
    assert info == {
        "run_uuid": rid, "experiment_id": exp_id, "run_name": info["run_name"], "user_id": "u1",
        "status": "RUNNING", "start_time": 1700000000000,
        "artifact_uri": f"mlflow-artifacts:/{exp_id}/{rid}/artifacts", "lifecycle_stage": "active",
        "run_id": rid,
    }, describe(r)
    assert run["inputs"] == {}
    assert sorted(run["data"]["tags"], key=lambda t: t["key"]) == [
        {"key": "a", "value": "b"}, {"key": "mlflow.runName", "value": info["run_name"]},
    ]
    g = server.get("runs/get", {"run_id": rid})
    assert g.status_code == 200, describe(g)
    got = g.json()["run"]
    assert set(got) == {"info", "data", "inputs", "outputs"}, describe(g)
    assert got["info"] == info and got["inputs"] == {} and got["outputs"] == {}
    # run_uuid is accepted in place of run_id
    g2 = server.get("runs/get", {"run_uuid": rid})
    assert g2.status_code == 200 and g2.json() == g.json(), describe(g2)


def test_explicit_run_name(server, tracking, exp_id):
    with mlflow.start_run(experiment_id=exp_id, run_name="explicit-name") as run:
        assert run.info.run_name == "explicit-name"
        assert run.data.tags["mlflow.runName"] == "explicit-name"


def test_params(server, tracking, exp_id):
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_params({"beta": 1, "gamma": "x", "with space/and.dot-dash:colon": "ok"})
        mlflow.log_param("alpha", 0.5)  # same value again is allowed
        with pytest.raises(MlflowException) as ei:
            mlflow.log_param("alpha", 0.7)
        assert ei.value.error_code == "INVALID_PARAMETER_VALUE"
        assert "Changing param values is not allowed" in ei.value.message
    params = tracking.get_run(run.info.run_id).data.params
    assert params == {"alpha": "0.5", "beta": "1", "gamma": "x", "with space/and.dot-dash:colon": "ok"}


def test_long_param_and_tag_values_are_truncated(server, tracking, exp_id):
    run = server.create_run(exp_id)["info"]["run_id"]
    r = server.post("runs/log-parameter", {"run_id": run, "key": "long", "value": "p" * 6500})
    assert r.status_code == 200, describe(r)
    r = server.post("runs/set-tag", {"run_id": run, "key": "long", "value": "t" * 9000})
    assert r.status_code == 200, describe(r)
    r = server.post("runs/log-batch", {"run_id": run, "params": [{"key": "long2", "value": "q" * 7000}],
                                       "tags": [{"key": "long2", "value": "u" * 8001}]})
    assert r.status_code == 200, describe(r)
    data = tracking.get_run(run).data
    assert data.params["long"] == "p" * 6000
    assert data.params["long2"] == "q" * 6000
    assert data.tags["long"] == "t" * 8000
    assert data.tags["long2"] == "u" * 8000


def test_tags(server, tracking, exp_id):
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.set_tag("team", "rust")
        mlflow.set_tags({"a": "1", "b": "2"})
        mlflow.set_tag("team", "still rust")  # tags may change
        tracking.delete_tag(run.info.run_id, "a")
    tags = tracking.get_run(run.info.run_id).data.tags
    assert tags["team"] == "still rust" and tags["b"] == "2" and "a" not in tags


def test_log_batch(server, tracking, exp_id):
    run = tracking.create_run(exp_id)
    rid = run.info.run_id
    ts = int(time.time() * 1000)
    tracking.log_batch(
        rid,
        metrics=[Metric("m1", 0.1, ts, 0), Metric("m1", 0.2, ts + 1, 1), Metric("m2", -3.5, ts, 7)],
        params=[Param("p1", "v1"), Param("p2", "v2")],
        tags=[RunTag("t1", "x")],
    )
    data = tracking.get_run(rid).data
    assert data.metrics == {"m1": 0.2, "m2": -3.5}
    assert data.params == {"p1": "v1", "p2": "v2"}
    assert data.tags["t1"] == "x"
    hist = tracking.get_metric_history(rid, "m1")
    assert [(m.step, m.value, m.timestamp) for m in hist] == [(0, 0.1, ts), (1, 0.2, ts + 1)]


def test_log_batch_limits_accepted(server, tracking, exp_id):
    run = server.create_run(exp_id)["info"]["run_id"]
    body = {
        "run_id": run,
        "metrics": [{"key": "m", "value": float(i), "timestamp": i, "step": i} for i in range(800)],
        "params": [{"key": f"p{i}", "value": str(i)} for i in range(100)],
        "tags": [{"key": f"t{i}", "value": str(i)} for i in range(100)],
    }
    r = server.post("runs/log-batch", body)
    assert r.status_code == 200 and r.json() == {}, describe(r)
    data = tracking.get_run(run).data
    assert len(data.params) == 100 and data.metrics["m"] == 799.0
    assert len(tracking.get_metric_history(run, "m")) == 800


def test_end_run_statuses_and_update(server, tracking, exp_id):
    run = mlflow.start_run(experiment_id=exp_id)
    mlflow.end_run(status="FAILED")
    info = tracking.get_run(run.info.run_id).info
    assert info.status == "FAILED" and info.end_time is not None

    r = tracking.create_run(exp_id)
    tracking.update_run(r.info.run_id, status="KILLED", name="new-name")
    info = tracking.get_run(r.info.run_id).info
    assert info.status == "KILLED" and info.run_name == "new-name"
    assert tracking.get_run(r.info.run_id).data.tags["mlflow.runName"] == "new-name"
    tracking.set_terminated(r.info.run_id, status=RunStatus.to_string(RunStatus.FINISHED), end_time=123)
    info = tracking.get_run(r.info.run_id).info
    assert info.status == "FINISHED" and info.end_time == 123


def test_raw_update_answer(server, tracking, exp_id):
    run = server.create_run(exp_id, start_time=1000)["info"]
    r = server.post("runs/update", {"run_id": run["run_id"], "status": "FINISHED", "end_time": 2000})
    assert r.status_code == 200, describe(r)
    assert r.json() == {"run_info": {**run, "status": "FINISHED", "end_time": 2000}}, describe(r)


def test_delete_and_restore_run(server, tracking, exp_id):
    run = tracking.create_run(exp_id)
    rid = run.info.run_id
    tracking.delete_run(rid)
    assert tracking.get_run(rid).info.lifecycle_stage == "deleted"
    assert rid not in [r.info.run_id for r in tracking.search_runs([exp_id])]
    tracking.restore_run(rid)
    assert tracking.get_run(rid).info.lifecycle_stage == "active"
    assert rid in [r.info.run_id for r in tracking.search_runs([exp_id])]


def test_nested_runs(server, tracking, exp_id):
    with mlflow.start_run(experiment_id=exp_id) as parent:
        with mlflow.start_run(nested=True) as child:
            pass
    tags = tracking.get_run(child.info.run_id).data.tags
    assert tags["mlflow.parentRunId"] == parent.info.run_id
    kids = tracking.search_runs([exp_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert [r.info.run_id for r in kids] == [child.info.run_id]


def test_log_inputs_dataset(server, tracking, exp_id):
    import numpy as np

    ds = mlflow.data.from_numpy(np.arange(12, dtype="float64").reshape(4, 3), name="tiny")
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_input(ds, context="training", tags={"k": "v"})
    inputs = tracking.get_run(run.info.run_id).inputs
    assert len(inputs.dataset_inputs) == 1
    di = inputs.dataset_inputs[0]
    assert di.dataset.name == "tiny" and di.dataset.digest == ds.digest
    assert di.dataset.source_type == ds.source._get_source_type()
    assert {t.key: t.value for t in di.tags} == {"mlflow.data.context": "training", "k": "v"}
