"""Metrics: steps, history, latest values, NaN/±Infinity and concurrent logging."""

from __future__ import annotations

import math
import threading
import time

import mlflow
import pytest

from conftest import describe, unique

MAX_DOUBLE = 1.7976931348623157e308


@pytest.fixture(scope="module")
def exp_id(tracking):
    return mlflow.set_experiment(unique("metrics")).experiment_id


def test_metric_steps_and_history(server, tracking, exp_id):
    with mlflow.start_run(experiment_id=exp_id) as run:
        for step in range(3):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.9, "f1": 0.8}, step=5)
    rid = run.info.run_id
    hist = tracking.get_metric_history(rid, "loss")
    assert [(m.key, m.step, m.value) for m in hist] == [
        ("loss", 0, 1.0), ("loss", 1, 0.5), ("loss", 2, 1.0 / 3),
    ]
    assert all(isinstance(m.timestamp, int) and m.timestamp > 10**12 for m in hist)
    data = tracking.get_run(rid).data
    assert data.metrics == {"loss": 1.0 / 3, "acc": 0.9, "f1": 0.8}


def test_raw_history_shape(server, tracking, exp_id):
    run = server.create_run(exp_id)["info"]["run_id"]
    for step, (v, ts) in enumerate([(3.0, 100), (2.0, 200)]):
        r = server.post("runs/log-metric", {"run_id": run, "key": "k", "value": v, "timestamp": ts, "step": step})
        assert r.status_code == 200 and r.json() == {}, describe(r)
    r = server.get("metrics/get-history", {"run_id": run, "metric_key": "k"})
    assert r.status_code == 200, describe(r)
    assert r.json() == {"metrics": [
        {"key": "k", "value": 3.0, "timestamp": 100, "step": 0},
        {"key": "k", "value": 2.0, "timestamp": 200, "step": 1},
    ]}, describe(r)
    # step defaults to 0
    r = server.post("runs/log-metric", {"run_id": run, "key": "nostep", "value": 1.5, "timestamp": 7})
    assert r.status_code == 200, describe(r)
    r = server.get("metrics/get-history", {"run_id": run, "metric_key": "nostep"})
    assert r.json() == {"metrics": [{"key": "nostep", "value": 1.5, "timestamp": 7, "step": 0}]}, describe(r)


def test_int64_as_strings_accepted(server, tracking, exp_id):
    run = server.create_run(exp_id)["info"]["run_id"]
    r = server.post("runs/log-metric", {"run_id": run, "key": "s", "value": 1.0, "timestamp": "12", "step": "3"})
    assert r.status_code == 200, describe(r)
    r = server.get("metrics/get-history", {"run_id": run, "metric_key": "s"})
    assert r.json() == {"metrics": [{"key": "s", "value": 1.0, "timestamp": 12, "step": 3}]}, describe(r)


def test_latest_metric_is_max_step(server, tracking, exp_id):
    run = tracking.create_run(exp_id).info.run_id
    # logged out of order: the run's value is the one at the highest step, then the latest timestamp
    for value, ts, step in [(5.0, 300, 2), (9.0, 100, 10), (1.0, 500, 3), (7.0, 200, 10)]:
        tracking.log_metric(run, "m", value, timestamp=ts, step=step)
    assert tracking.get_run(run).data.metrics["m"] == 7.0
    assert len(tracking.get_metric_history(run, "m")) == 4


def test_history_pages(server, tracking, exp_id):
    run = server.create_run(exp_id)["info"]["run_id"]
    metrics = [{"key": "p", "value": float(i), "timestamp": 1000 + i, "step": i} for i in range(5)]
    assert server.post("runs/log-batch", {"run_id": run, "metrics": metrics}).status_code == 200
    seen, token, pages = [], None, 0
    while True:
        params = {"run_id": run, "metric_key": "p", "max_results": "2"}
        if token:
            params["page_token"] = token
        r = server.get("metrics/get-history", params)
        assert r.status_code == 200, describe(r)
        body = r.json()
        seen += body.get("metrics", [])
        pages += 1
        token = body.get("next_page_token")
        if not token:
            break
        assert pages < 10, "paging does not end"
    assert [m["step"] for m in seen] == [0, 1, 2, 3, 4]
    assert pages == 3


def test_history_bulk_interval(server, tracking, exp_id):
    run = server.create_run(exp_id)["info"]["run_id"]
    metrics = [{"key": "b", "value": float(i), "timestamp": 10 + i, "step": i} for i in range(4)]
    assert server.post("runs/log-batch", {"run_id": run, "metrics": metrics}).status_code == 200
    r = server.get("metrics/get-history-bulk-interval", {"run_ids": [run], "metric_key": "b"})
    assert r.status_code == 200, describe(r)
    assert r.json() == {"metrics": [dict(m, run_id=run) for m in metrics]}, describe(r)


def test_nan_and_infinity_round_trip(server, tracking, exp_id):
    """As in the misc recording: NaN comes back as "NaN"; ±Infinity as ±max double."""
    run = server.create_run(exp_id)["info"]["run_id"]
    for key, value in (("nanm", "NaN"), ("infm", "Infinity")):
        r = server.post("runs/log-metric", {"run_id": run, "key": key, "value": value, "timestamp": 5, "step": 0})
        assert r.status_code == 200, describe(r)
    r = server.post("runs/log-batch", {"run_id": run, "metrics": [{"key": "bm", "value": "-Infinity", "timestamp": 1, "step": 0}]})
    assert r.status_code == 200, describe(r)
    r = server.get("runs/get", {"run_id": run})
    assert r.status_code == 200, describe(r)
    got = {m["key"]: m for m in r.json()["run"]["data"]["metrics"]}
    assert got["nanm"] == {"key": "nanm", "value": "NaN", "timestamp": 5, "step": 0}, describe(r)
    assert got["infm"] == {"key": "infm", "value": MAX_DOUBLE, "timestamp": 5, "step": 0}, describe(r)
    assert got["bm"] == {"key": "bm", "value": -MAX_DOUBLE, "timestamp": 1, "step": 0}, describe(r)
    h = server.get("metrics/get-history", {"run_id": run, "metric_key": "nanm"})
    assert h.json() == {"metrics": [{"key": "nanm", "value": "NaN", "timestamp": 5, "step": 0}]}, describe(h)
    # and through the client
    data = tracking.get_run(run).data.metrics
    assert math.isnan(data["nanm"]) and data["infm"] == MAX_DOUBLE and data["bm"] == -MAX_DOUBLE


def test_client_nan_inf(server, tracking, exp_id):
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_metric("n", float("nan"))
        mlflow.log_metric("i", float("inf"))
        mlflow.log_metric("ni", float("-inf"))
    m = tracking.get_run(run.info.run_id).data.metrics
    assert math.isnan(m["n"]) and m["i"] == MAX_DOUBLE and m["ni"] == -MAX_DOUBLE


def test_concurrent_logging_to_one_run_loses_nothing(server, tracking, exp_id):
    run = tracking.create_run(exp_id).info.run_id
    threads, per_thread = 8, 25
    errors: list[str] = []
    barrier = threading.Barrier(threads)

    def worker(t: int):
        import requests

        s = requests.Session()
        barrier.wait()
        for i in range(per_thread):
            step = t * per_thread + i
            calls = [
                ("runs/log-metric", {"run_id": run, "key": "shared", "value": float(step), "timestamp": 1000 + step, "step": step}),
                ("runs/log-metric", {"run_id": run, "key": f"own{t}", "value": float(i), "timestamp": 1000 + i, "step": i}),
                ("runs/log-parameter", {"run_id": run, "key": f"p{t}_{i}", "value": str(step)}),
                ("runs/set-tag", {"run_id": run, "key": f"t{t}", "value": str(i)}),
                ("runs/log-batch", {"run_id": run,
                                    "metrics": [{"key": "batched", "value": float(step), "timestamp": 5, "step": step}],
                                    "params": [{"key": f"bp{t}_{i}", "value": "v"}]}),
            ]
            for path, body in calls:
                r = s.post(server.api_url(path), json=body, timeout=60)
                if r.status_code != 200:
                    errors.append(f"{path} {body} -> {r.status_code} {r.text[:300]}")

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    start = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=240)
    assert not any(t.is_alive() for t in ts), "workers hung"
    assert not errors, f"{len(errors)} concurrent calls failed, e.g.:\n" + "\n".join(errors[:10])
    total = threads * per_thread
    assert len(tracking.get_metric_history(run, "shared")) == total
    assert sorted(m.step for m in tracking.get_metric_history(run, "shared")) == list(range(total))
    assert len(tracking.get_metric_history(run, "batched")) == total
    for t in range(threads):
        assert len(tracking.get_metric_history(run, f"own{t}")) == per_thread
    data = tracking.get_run(run).data
    assert len([k for k in data.params if k.startswith("p")]) == total
    assert len([k for k in data.params if k.startswith("bp")]) == total
    assert data.metrics["shared"] == float(total - 1)
    # each thread sets its own tag in order, so the last value wins
    assert {k: v for k, v in data.tags.items() if k.startswith("t")} == {f"t{t}": str(per_thread - 1) for t in range(threads)}
    assert time.monotonic() - start < 240


@pytest.mark.stricter
def test_concurrent_identical_params_are_idempotent(server, tracking, exp_id):
    """The same param (same value) logged by many clients at once: all succeed, one value kept.

    MLflow's SQL store can answer 400 BAD_REQUEST (a unique-constraint race) here.
    """
    run = tracking.create_run(exp_id).info.run_id
    errors: list[str] = []
    barrier = threading.Barrier(8)

    def worker(t: int):
        import requests

        s = requests.Session()
        barrier.wait()
        for i in range(10):
            body = {"run_id": run, "params": [{"key": "same", "value": "x"}, {"key": f"own{t}_{i}", "value": "y"}]}
            r = s.post(server.api_url("runs/log-batch"), json=body, timeout=60)
            if r.status_code != 200:
                errors.append(f"{r.status_code} {r.text[:300]}")
            r = s.post(server.api_url("runs/log-parameter"), json={"run_id": run, "key": "same2", "value": "z"}, timeout=60)
            if r.status_code != 200:
                errors.append(f"{r.status_code} {r.text[:300]}")

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=120)
    assert not errors, f"{len(errors)} calls failed, e.g.:\n" + "\n".join(errors[:5])
    params = tracking.get_run(run).data.params
    assert params["same"] == "x" and params["same2"] == "z" and len(params) == 2 + 80
