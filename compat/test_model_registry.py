"""The model registry through the real client and raw REST (marked `registry`).

Registered models, versions registered from run artifact URIs, stages, aliases, search and
MLflow's errors. Logging and loading models (logged models, the artifact proxy) are covered by
`test_registry.py`.
"""

from __future__ import annotations

import pytest
from mlflow.exceptions import MlflowException

from conftest import assert_error, describe, unique

pytestmark = pytest.mark.registry

IPV = "INVALID_PARAMETER_VALUE"
RDNE = "RESOURCE_DOES_NOT_EXIST"
HINT = " See the API docs for more information about request parameters."


@pytest.fixture(scope="module")
def run(server, tracking):
    """A finished run whose artifact URI the versions below are registered from."""
    exp = tracking.create_experiment(unique("registry"))
    r = tracking.create_run(exp)
    tracking.set_terminated(r.info.run_id)
    return r


def _delete(server, path, body):
    return server.http.delete(server.api_url(path), json=body, timeout=60)


def _patch(server, path, body):
    return server.http.patch(server.api_url(path), json=body, timeout=60)


def test_registered_model_lifecycle(server, tracking):
    name = unique("model")
    rm = tracking.create_registered_model(name, tags={"team": "pit"}, description="first")
    assert (rm.name, rm.description, rm.tags) == (name, "first", {"team": "pit"})
    got = tracking.get_registered_model(name)
    assert got.creation_timestamp == rm.creation_timestamp
    assert got.latest_versions == []

    tracking.update_registered_model(name, description="second")
    assert tracking.get_registered_model(name).description == "second"
    tracking.set_registered_model_tag(name, "stage", "dev")
    tracking.delete_registered_model_tag(name, "team")
    assert tracking.get_registered_model(name).tags == {"stage": "dev"}

    new_name = unique("renamed")
    tracking.rename_registered_model(name, new_name)
    assert tracking.get_registered_model(new_name).tags == {"stage": "dev"}
    with pytest.raises(MlflowException) as e:
        tracking.get_registered_model(name)
    assert e.value.error_code == RDNE

    tracking.delete_registered_model(new_name)
    with pytest.raises(MlflowException) as e:
        tracking.get_registered_model(new_name)
    assert e.value.error_code == RDNE


def test_versions_from_run_artifacts(server, tracking, run):
    name = unique("iris")
    tracking.create_registered_model(name)
    source = f"{run.info.artifact_uri}/model"
    v1 = tracking.create_model_version(name, source, run_id=run.info.run_id, tags={"flavor": "sklearn"},
                                       description="from a run")
    assert (v1.version, v1.status, v1.current_stage) == ("1", "READY", "None")
    assert (v1.source, v1.run_id, v1.description, v1.tags) == (source, run.info.run_id, "from a run",
                                                              {"flavor": "sklearn"})
    v2 = tracking.create_model_version(name, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    assert v2.version == "2"
    assert tracking.get_model_version_download_uri(name, "1") == source
    assert tracking.get_model_version_download_uri(name, "2") == source, "runs:/ resolves to the run's artifacts"

    tracking.update_model_version(name, "1", description="better")
    assert tracking.get_model_version(name, "1").description == "better"
    tracking.set_model_version_tag(name, "1", "validated", "yes")
    tracking.delete_model_version_tag(name, "1", "flavor")
    assert tracking.get_model_version(name, "1").tags == {"validated": "yes"}

    rm = tracking.get_registered_model(name)
    assert [v.version for v in rm.latest_versions] == ["2"]


def test_stages_and_latest_versions(server, tracking, run):
    name = unique("staged")
    tracking.create_registered_model(name)
    for _ in range(3):
        tracking.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    tracking.transition_model_version_stage(name, "1", "Production")
    tracking.transition_model_version_stage(name, "2", "staging")
    latest = {v.current_stage: v.version for v in tracking.get_latest_versions(name)}
    assert latest == {"Production": "1", "Staging": "2", "None": "3"}
    assert [v.version for v in tracking.get_latest_versions(name, stages=["Staging"])] == ["2"]

    mv = tracking.transition_model_version_stage(name, "3", "Production", archive_existing_versions=True)
    assert mv.current_stage == "Production"
    assert tracking.get_model_version(name, "1").current_stage == "Archived"
    assert tracking.get_model_version(name, "2").current_stage == "Staging"
    prod = tracking.get_latest_versions(name, stages=["Production"])
    assert [v.version for v in prod] == ["3"]


def test_aliases(server, tracking, run):
    name = unique("aliased")
    tracking.create_registered_model(name)
    for _ in range(2):
        tracking.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    tracking.set_registered_model_alias(name, "champion", "1")
    mv = tracking.get_model_version_by_alias(name, "champion")
    assert (mv.version, mv.aliases) == ("1", ["champion"])
    tracking.set_registered_model_alias(name, "champion", "2")
    assert tracking.get_model_version_by_alias(name, "champion").version == "2"
    assert tracking.get_registered_model(name).aliases == {"champion": "2"}
    assert tracking.get_model_version(name, "2").aliases == ["champion"]
    tracking.delete_registered_model_alias(name, "champion")
    assert tracking.get_registered_model(name).aliases == {}
    with pytest.raises(MlflowException) as e:
        tracking.get_model_version_by_alias(name, "champion")
    assert e.value.error_code == IPV
    assert "Registered model alias champion not found." in str(e.value)


def test_deleted_version_numbers_are_not_reused(server, tracking, run):
    name = unique("deleting")
    tracking.create_registered_model(name)
    for _ in range(3):
        tracking.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    tracking.set_registered_model_alias(name, "best", "3")
    tracking.delete_model_version(name, "3")
    with pytest.raises(MlflowException) as e:
        tracking.get_model_version(name, "3")
    assert e.value.error_code == RDNE
    assert tracking.get_registered_model(name).aliases == {}, "the deleted version's alias goes with it"
    v = tracking.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    assert v.version == "4"


def test_search_registered_models(server, tracking):
    prefix = unique("search")
    names = [f"{prefix}-{c}" for c in "abcde"]
    for i, n in enumerate(names):
        tracking.create_registered_model(n, tags={"parity": "even" if i % 2 == 0 else "odd"})
    found = tracking.search_registered_models(filter_string=f"name LIKE '{prefix}-%'")
    assert [m.name for m in found] == names
    odd = tracking.search_registered_models(filter_string=f"name LIKE '{prefix}-%' AND tags.parity = 'odd'")
    assert [m.name for m in odd] == [names[1], names[3]]
    desc = tracking.search_registered_models(filter_string=f"name LIKE '{prefix}-%'", order_by=["name DESC"])
    assert [m.name for m in desc] == names[::-1]
    listed = tracking.search_registered_models(filter_string=f"name IN ('{names[0]}', '{names[4]}')")
    assert [m.name for m in listed] == [names[0], names[4]]

    pages, token = [], None
    while True:
        page = tracking.search_registered_models(filter_string=f"name LIKE '{prefix}-%'", max_results=2,
                                                 page_token=token)
        pages.append([m.name for m in page])
        token = page.token
        if not token:
            break
    assert pages == [names[0:2], names[2:4], names[4:]]


def test_prompts_are_left_out_of_model_search(server, tracking):
    name = unique("prompt-like")
    r = server.post("registered-models/create",
                    {"name": name, "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]})
    assert r.status_code == 200, describe(r)
    assert tracking.search_registered_models(filter_string=f"name = '{name}'") == []
    r = server.get("registered-models/search",
                   params={"filter": f"name = '{name}' AND tags.`mlflow.prompt.is_prompt` = 'true'"})
    assert [m["name"] for m in r.json()["registered_models"]] == [name], describe(r)


def test_search_model_versions(server, tracking, run):
    name = unique("versions")
    tracking.create_registered_model(name)
    for _ in range(3):
        tracking.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    found = tracking.search_model_versions(f"name = '{name}'")
    assert [v.version for v in found] == ["3", "2", "1"], "default order: newest first"
    asc = tracking.search_model_versions(f"name = '{name}'", order_by=["version_number ASC"])
    assert [v.version for v in asc] == ["1", "2", "3"]
    by_run = tracking.search_model_versions(f"run_id = '{run.info.run_id}' AND name = '{name}' AND version_number >= 2")
    assert sorted(v.version for v in by_run) == ["2", "3"]
    page = tracking.search_model_versions(f"name = '{name}'", max_results=2)
    assert len(page) == 2 and page.token


def test_error_answers(server, tracking, run):
    name = unique("errors")
    tracking.create_registered_model(name)
    assert_error(server.post("registered-models/create", {"name": name}), 400, "RESOURCE_ALREADY_EXISTS",
                 f"Registered Model (name={name}) already exists.")
    assert_error(server.post("registered-models/create", {}), 400, IPV,
                 f"Missing value for required parameter 'name'.{HINT}")
    assert_error(server.post("registered-models/create", {"name": "a:b"}), 400, IPV,
                 "Invalid model name 'a:b'. Names cannot contain '/' or ':'.")
    assert_error(server.get("registered-models/get", params={"name": unique("none")}), 404, RDNE,
                 message_prefix="Registered Model with name=")
    assert_error(server.get("model-versions/get", params={"name": name, "version": "7"}), 404, RDNE,
                 f"Model Version (name={name}, version=7) not found")
    assert_error(server.get("model-versions/get", params={"name": name, "version": "x"}), 400, IPV,
                 "Parameter 'version' must be an integer, got 'x'.")
    tracking.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    assert_error(server.post("model-versions/transition-stage",
                             {"name": name, "version": "1", "stage": "Live", "archive_existing_versions": False}),
                 400, IPV, "Invalid Model Version stage: Live. Value must be one of None, Staging, Production, Archived.")
    assert_error(server.post("registered-models/alias", {"name": name, "alias": "latest", "version": "1"}),
                 400, IPV, "'latest' alias name (case insensitive) is reserved.")
    assert_error(server.post("registered-models/alias", {"name": name, "alias": "v1", "version": "1"}),
                 400, IPV, "Version alias name 'v1' is reserved.")
    assert_error(server.get("registered-models/alias", params={"name": name, "alias": "ghost"}), 400, IPV,
                 "Registered model alias ghost not found.")
    assert_error(server.post("registered-models/set-tag", {"name": name, "key": "k", "value": "x" * 100_001}),
                 400, IPV, "'value' exceeds the maximum length of 100000 characters")
    assert_error(server.get("registered-models/search", params={"max_results": 1001}), 400, IPV,
                 f"Invalid value \"1001\" for parameter 'max_results' supplied:  Hint: Value was of type 'str'.{HINT}")
    assert_error(server.post("model-versions/create", {"name": name, "source": "/etc/passwd"}), 400, IPV,
                 message_prefix="Invalid model version source: '/etc/passwd'. To use a local path")
    assert_error(server.post("model-versions/create",
                             {"name": name, "source": "mlflow-artifacts:/0/../../secrets"}), 400, IPV,
                 message_prefix="Invalid model version source: 'mlflow-artifacts:/0/../../secrets'.")
    assert_error(_delete(server, "registered-models/delete", {"name": unique("none")}), 404, RDNE,
                 message_prefix="Registered Model with name=")
    assert_error(_patch(server, "model-versions/update", {"name": name, "version": "9", "description": "d"}),
                 404, RDNE, f"Model Version (name={name}, version=9) not found")

