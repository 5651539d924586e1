"""Experiments through the real mlflow client (and the raw answers behind it)."""

from __future__ import annotations

import time

import mlflow
import pytest
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

from conftest import describe, unique


def test_default_experiment_exists(server, tracking):
    exp = tracking.get_experiment("0")
    assert exp.experiment_id == "0"
    assert exp.name == "Default"
    assert exp.lifecycle_stage == "active"
    assert exp.artifact_location == "mlflow-artifacts:/0"


def test_first_created_experiment_gets_id_1(server, tracking):
    # modules get a fresh server, and this is the module's first experiment
    r = server.post("experiments/create", {"name": unique("first")})
    assert r.status_code == 200, describe(r)
    assert r.json() == {"experiment_id": "1"}


def test_set_experiment_creates_then_reuses(server, tracking):
    name = unique("set-exp")
    before = int(time.time() * 1000)
    exp = mlflow.set_experiment(name)
    assert exp.name == name
    assert exp.experiment_id.isdigit()
    assert exp.lifecycle_stage == "active"
    assert exp.artifact_location == f"mlflow-artifacts:/{exp.experiment_id}"
    assert before - 5000 <= exp.creation_time <= int(time.time() * 1000) + 5000
    assert exp.last_update_time == exp.creation_time
    again = mlflow.set_experiment(name)
    assert again.experiment_id == exp.experiment_id
    by_name = tracking.get_experiment_by_name(name)
    assert by_name.experiment_id == exp.experiment_id


def test_raw_experiment_shape(server, tracking):
    name = unique("shape")
    exp_id = server.create_experiment(name)
    r = server.get("experiments/get", {"experiment_id": exp_id})
    assert r.status_code == 200, describe(r)
    e = r.json()["experiment"]
    assert set(e) == {
        "experiment_id", "name", "artifact_location", "lifecycle_stage",
        "last_update_time", "creation_time", "workspace",
    }, describe(r)
    assert e["workspace"] == "default"
    assert isinstance(e["creation_time"], int)
    r2 = server.get("experiments/get-by-name", {"experiment_name": name})
    assert r2.status_code == 200 and r2.json() == r.json(), describe(r2)
    # the ajax prefix serves the same handlers
    r3 = server.get("/ajax-api/2.0/mlflow/experiments/get", {"experiment_id": exp_id})
    assert r3.status_code == 200 and r3.json() == r.json(), describe(r3)


def test_security_headers(server):
    r = server.get("experiments/get", {"experiment_id": "0"})
    assert r.headers.get("X-Frame-Options") == "SAMEORIGIN", describe(r)
    assert r.headers.get("X-Content-Type-Options") == "nosniff", describe(r)
    assert r.headers.get("Content-Type", "").startswith("application/json")


def test_create_with_tags_and_custom_artifact_location(server, tracking, tmp_path):
    name = unique("tagged")
    loc = (tmp_path / "arts").as_uri()
    exp_id = tracking.create_experiment(name, artifact_location=loc, tags={"team": "rust", "k2": "v2"})
    exp = tracking.get_experiment(exp_id)
    assert exp.artifact_location == loc
    assert exp.tags == {"team": "rust", "k2": "v2"}


def test_experiment_tags_set_and_delete(server, tracking):
    exp_id = tracking.create_experiment(unique("tags"))
    tracking.set_experiment_tag(exp_id, "a", "1")
    tracking.set_experiment_tag(exp_id, "a", "2")  # overwrite
    tracking.set_experiment_tag(exp_id, "b", "x" * 20000)  # at the limit
    exp = tracking.get_experiment(exp_id)
    assert exp.tags["a"] == "2"
    assert len(exp.tags["b"]) == 20000
    tracking.delete_experiment_tag(exp_id, "a")
    assert "a" not in tracking.get_experiment(exp_id).tags


def test_rename_delete_restore(server, tracking):
    exp_id = tracking.create_experiment(unique("life"))
    new_name = unique("renamed")
    tracking.rename_experiment(exp_id, new_name)
    assert tracking.get_experiment(exp_id).name == new_name
    assert tracking.get_experiment_by_name(new_name).experiment_id == exp_id

    tracking.delete_experiment(exp_id)
    assert tracking.get_experiment(exp_id).lifecycle_stage == "deleted"
    active = [e.experiment_id for e in tracking.search_experiments(view_type=ViewType.ACTIVE_ONLY)]
    deleted = [e.experiment_id for e in tracking.search_experiments(view_type=ViewType.DELETED_ONLY)]
    assert exp_id not in active and exp_id in deleted

    tracking.restore_experiment(exp_id)
    assert tracking.get_experiment(exp_id).lifecycle_stage == "active"


def test_search_experiments_filter_order_and_pages(server, tracking):
    prefix = unique("srch")
    ids = []
    for i in range(5):
        ids.append(tracking.create_experiment(f"{prefix}-{i}", tags={"i": str(i)}))
        time.sleep(0.01)  # distinct creation times: the default order is creation_time DESC
    found = tracking.search_experiments(filter_string=f"name LIKE '{prefix}-%'")
    # default order: creation_time DESC, experiment_id ASC -> newest first
    assert [e.experiment_id for e in found] == list(reversed(ids))

    asc = tracking.search_experiments(filter_string=f"name LIKE '{prefix}-%'", order_by=["name ASC"])
    assert [e.name for e in asc] == [f"{prefix}-{i}" for i in range(5)]

    tagged = tracking.search_experiments(filter_string=f"name LIKE '{prefix}-%' AND tags.i = '3'")
    assert [e.experiment_id for e in tagged] == [ids[3]]

    page1 = tracking.search_experiments(max_results=2, filter_string=f"name LIKE '{prefix}-%'", order_by=["name"])
    assert len(page1) == 2 and page1.token
    page2 = tracking.search_experiments(max_results=2, filter_string=f"name LIKE '{prefix}-%'", order_by=["name"], page_token=page1.token)
    page3 = tracking.search_experiments(max_results=2, filter_string=f"name LIKE '{prefix}-%'", order_by=["name"], page_token=page2.token)
    assert [e.name for e in page1 + page2 + page3] == [f"{prefix}-{i}" for i in range(5)]
    assert not page3.token

    ilike = tracking.search_experiments(filter_string=f"name ILIKE '{prefix.upper()}-%'")
    assert len(ilike) == 5


def test_search_experiments_via_get(server, tracking):
    name = unique("viaget")
    exp_id = server.create_experiment(name)
    r = server.get("experiments/search", {"max_results": "1000", "filter": f"name = '{name}'"})
    assert r.status_code == 200, describe(r)
    assert [e["experiment_id"] for e in r.json()["experiments"]] == [exp_id]


def test_client_sees_not_found_and_duplicates(server, tracking):
    with pytest.raises(MlflowException) as ei:
        tracking.get_experiment("987654")
    assert ei.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert tracking.get_experiment_by_name(unique("nope")) is None
    name = unique("dup")
    tracking.create_experiment(name)
    with pytest.raises(MlflowException) as ei:
        tracking.create_experiment(name)
    assert ei.value.error_code == "RESOURCE_ALREADY_EXISTS"
