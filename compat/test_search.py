"""search_runs: filters on metrics, params, tags and attributes; order_by; pages."""

from __future__ import annotations

import mlflow
import pytest
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

from conftest import describe, unique


@pytest.fixture(scope="module")
def runs(tracking):
    """Three finished runs and one running run in a fresh experiment, logged through the client."""
    exp_id = tracking.create_experiment(unique("search"))
    specs = [
        ("r-alpha", {"model": "lr", "C": "1.0"}, {"acc": 0.7, "loss": 0.9}, {"team": "red", "env": "prod"}, 1000, "FINISHED"),
        ("r-beta", {"model": "rf", "C": "0.5"}, {"acc": 0.9, "loss": 0.2}, {"team": "blue"}, 2000, "FINISHED"),
        ("r-gamma", {"model": "lr", "C": "2.0"}, {"acc": 0.8}, {"team": "Red", "env": "dev"}, 3000, "FAILED"),
        ("other", {"model": "svm"}, {}, {}, 4000, None),
    ]
    ids = {}
    for name, params, metrics, tags, start, status in specs:
        run = tracking.create_run(exp_id, run_name=name, start_time=start, tags=tags)
        rid = run.info.run_id
        for k, v in params.items():
            tracking.log_param(rid, k, v)
        for k, v in metrics.items():
            tracking.log_metric(rid, k, v, timestamp=start, step=0)
        if status:
            tracking.set_terminated(rid, status=status, end_time=start + 500)
        ids[name] = rid
    return exp_id, ids


def names(result, ids):
    rev = {v: k for k, v in ids.items()}
    return [rev[r.info.run_id] for r in result]


@pytest.mark.parametrize(
    "filter_string,expected",
    [
        ("", ["other", "r-gamma", "r-beta", "r-alpha"]),  # default order: start_time DESC
        ("metrics.acc > 0.75", ["r-gamma", "r-beta"]),
        ("metrics.acc >= 0.8", ["r-gamma", "r-beta"]),
        ("metrics.acc < 0.8", ["r-alpha"]),
        ("metrics.acc = 0.9", ["r-beta"]),
        ("metrics.acc != 0.9", ["r-gamma", "r-alpha"]),
        ("metrics.loss <= 0.9 AND metrics.acc > 0.7", ["r-beta"]),
        ("metric.acc > 0.1 and params.model = 'lr'", ["r-gamma", "r-alpha"]),
        ("params.model = 'lr'", ["r-gamma", "r-alpha"]),
        ("params.model != 'lr'", ["other", "r-beta"]),
        ("params.model LIKE 'l%'", ["r-gamma", "r-alpha"]),
        ("params.C = '1.0'", ["r-alpha"]),
        ("param.C IS NULL", ["other"]),
        ("params.C IS NOT NULL", ["r-gamma", "r-beta", "r-alpha"]),
        ("tags.team = 'red'", ["r-alpha"]),
        ("tags.team ILIKE 'red'", ["r-gamma", "r-alpha"]),
        ("tags.team LIKE 'R%'", ["r-gamma"]),
        ("tags.env != 'prod'", ["r-gamma"]),  # runs without the tag do not match !=
        ("tags.env IS NULL", ["other", "r-beta"]),
        ("tag.`env` = 'dev'", ["r-gamma"]),
        ('tags."env" = "dev"', ["r-gamma"]),
        ("attributes.status = 'FINISHED'", ["r-beta", "r-alpha"]),
        ("attributes.status != 'FINISHED'", ["other", "r-gamma"]),
        ("attributes.run_name = 'r-beta'", ["r-beta"]),
        ("attributes.run_name LIKE 'r-%'", ["r-gamma", "r-beta", "r-alpha"]),
        ("run_name ILIKE 'R-A%'", ["r-alpha"]),
        ("attributes.start_time > 1500", ["other", "r-gamma", "r-beta"]),
        ("attributes.start_time >= 2000 AND attributes.start_time < 4000", ["r-gamma", "r-beta"]),
        ("attributes.end_time = 1500", ["r-alpha"]),
        ("attribute.user_id = 'nobody-here'", []),
        ("metrics.acc > 0.95", []),
    ],
)
def test_filters(server, tracking, runs, filter_string, expected):
    exp_id, ids = runs
    got = tracking.search_runs([exp_id], filter_string=filter_string)
    assert names(got, ids) == expected


def test_run_id_in(server, tracking, runs):
    exp_id, ids = runs
    got = tracking.search_runs([exp_id], filter_string=f"attributes.run_id IN ('{ids['r-alpha']}', '{ids['other']}')")
    assert names(got, ids) == ["other", "r-alpha"]


@pytest.mark.parametrize(
    "order_by,expected",
    [
        (["metrics.acc DESC"], ["r-beta", "r-gamma", "r-alpha", "other"]),  # runs lacking the metric come last
        (["metrics.acc ASC"], ["r-alpha", "r-gamma", "r-beta", "other"]),
        (["metrics.acc"], ["r-alpha", "r-gamma", "r-beta", "other"]),
        (["params.C DESC"], ["r-gamma", "r-alpha", "r-beta", "other"]),
        (["attributes.start_time ASC"], ["r-alpha", "r-beta", "r-gamma", "other"]),
        (["start_time"], ["r-alpha", "r-beta", "r-gamma", "other"]),
        (["attributes.run_name DESC"], ["r-gamma", "r-beta", "r-alpha", "other"]),
        (["params.model ASC", "metrics.acc DESC"], ["r-gamma", "r-alpha", "r-beta", "other"]),
        (["tags.team ASC"], ["r-gamma", "r-beta", "r-alpha", "other"]),
    ],
)
def test_order_by(server, tracking, runs, order_by, expected):
    exp_id, ids = runs
    got = tracking.search_runs([exp_id], order_by=order_by)
    assert names(got, ids) == expected


def test_pages(server, tracking, runs):
    exp_id, ids = runs
    page1 = tracking.search_runs([exp_id], max_results=3, order_by=["attributes.start_time ASC"])
    assert names(page1, ids) == ["r-alpha", "r-beta", "r-gamma"] and page1.token
    page2 = tracking.search_runs([exp_id], max_results=3, order_by=["attributes.start_time ASC"], page_token=page1.token)
    assert names(page2, ids) == ["other"]
    assert not page2.token


def test_last_page_has_no_token(server, tracking, runs):
    exp_id, _ = runs
    r = server.post("runs/search", {"experiment_ids": [exp_id], "max_results": 4})
    assert r.status_code == 200, describe(r)
    assert "next_page_token" not in r.json(), describe(r)
    assert len(r.json()["runs"]) == 4


def test_view_types(server, tracking, runs):
    exp_id, ids = runs
    extra = tracking.create_run(exp_id, run_name="deleted-one", start_time=500)
    tracking.delete_run(extra.info.run_id)
    try:
        active = tracking.search_runs([exp_id], run_view_type=ViewType.ACTIVE_ONLY)
        deleted = tracking.search_runs([exp_id], run_view_type=ViewType.DELETED_ONLY)
        both = tracking.search_runs([exp_id], run_view_type=ViewType.ALL)
        assert extra.info.run_id not in [r.info.run_id for r in active]
        assert [r.info.run_id for r in deleted] == [extra.info.run_id]
        assert len(both) == len(active) + 1
    finally:
        tracking.restore_run(extra.info.run_id)
        tracking.delete_run(extra.info.run_id)


def test_across_experiments(server, tracking, runs):
    exp_id, ids = runs
    other_exp = tracking.create_experiment(unique("search-other"))
    r = tracking.create_run(other_exp, start_time=5000)
    got = tracking.search_runs([exp_id, other_exp], filter_string="attributes.start_time >= 3000")
    assert [x.info.run_id for x in got] == [r.info.run_id, ids["other"], ids["r-gamma"]]


def test_search_result_carries_data(server, tracking, runs):
    exp_id, ids = runs
    (run,) = tracking.search_runs([exp_id], filter_string="attributes.run_name = 'r-beta'")
    assert run.data.params == {"model": "rf", "C": "0.5"}
    assert run.data.metrics == {"acc": 0.9, "loss": 0.2}
    assert run.data.tags["team"] == "blue" and run.data.tags["mlflow.runName"] == "r-beta"
    assert run.info.status == "FINISHED" and run.info.end_time == 2500


def test_fluent_search_runs_dataframe(server, tracking, runs):
    exp_id, ids = runs
    df = mlflow.search_runs([exp_id], filter_string="params.model = 'lr'", order_by=["metrics.acc DESC"])
    assert list(df["run_id"]) == [ids["r-gamma"], ids["r-alpha"]]
    assert list(df["metrics.acc"]) == [0.8, 0.7]
    assert list(df["params.C"]) == ["2.0", "1.0"]
    assert list(df["tags.team"]) == ["Red", "red"]


def test_or_is_rejected_by_the_client_too(server, tracking, runs):
    exp_id, _ = runs
    with pytest.raises(MlflowException) as ei:
        tracking.search_runs([exp_id], filter_string="params.model = 'lr' OR params.model = 'rf'")
    assert ei.value.error_code == "INVALID_PARAMETER_VALUE"
