"""MLflow 3 logged models through the real client, and their errors through raw REST.

Expected codes and messages were checked against a real `mlflow server` (3.17.2); cases where
MLflow answers a 5xx are marked `stricter`.
"""

from __future__ import annotations

import base64
import json

import mlflow
import pytest
from mlflow.entities import LoggedModelStatus
from mlflow.exceptions import MlflowException

from conftest import assert_error, unique

pytestmark = pytest.mark.registry

IPV = "INVALID_PARAMETER_VALUE"
RDNE = "RESOURCE_DOES_NOT_EXIST"
HINT = " See the API docs for more information about request parameters."


@pytest.fixture()
def experiment(server, tracking):
    exp = mlflow.set_experiment(unique("logged-models"))
    return exp.experiment_id


def test_initialize_finalize_get(server, tracking, experiment):
    model = mlflow.initialize_logged_model(
        name="clf", model_type="classifier", tags={"team": "f1"}, params={"lr": "0.1"}
    )
    assert model.model_id.startswith("m-") and len(model.model_id) == 34
    assert model.status == LoggedModelStatus.PENDING
    assert model.experiment_id == experiment
    assert model.artifact_location == f"mlflow-artifacts:/{experiment}/models/{model.model_id}/artifacts"
    # The client adds its context tags (mlflow.user, mlflow.source.*).
    assert model.tags["team"] == "f1" and "mlflow.user" in model.tags
    assert model.params == {"lr": "0.1"}
    assert model.model_type == "classifier"

    ready = mlflow.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    assert ready.status == LoggedModelStatus.READY
    assert ready.last_updated_timestamp >= model.last_updated_timestamp
    got = mlflow.get_logged_model(model.model_id)
    assert (got.name, got.status, got.creation_timestamp) == ("clf", LoggedModelStatus.READY, model.creation_timestamp)

    failed = tracking.finalize_logged_model(model.model_id, LoggedModelStatus.FAILED)
    assert failed.status == LoggedModelStatus.FAILED


def test_create_without_name_and_from_a_run(server, tracking, experiment):
    with mlflow.start_run() as run:
        model = tracking.create_logged_model(experiment_id=experiment, source_run_id=run.info.run_id)
    assert model.source_run_id == run.info.run_id
    assert model.name and "-" in model.name
    assert model.status == LoggedModelStatus.PENDING


def test_tags_and_params(server, tracking, experiment):
    model = mlflow.initialize_logged_model(name="tagged")
    mlflow.set_logged_model_tags(model.model_id, {"a": "1", "b": "2"})
    tracking.set_logged_model_tags(model.model_id, {"a": "3"})
    mlflow.delete_logged_model_tag(model.model_id, "b")
    mlflow.log_model_params({"alpha": "0.5", "depth": "3"}, model_id=model.model_id)
    got = mlflow.get_logged_model(model.model_id)
    assert {k: v for k, v in got.tags.items() if not k.startswith("mlflow.")} == {"a": "3"}
    assert got.params == {"alpha": "0.5", "depth": "3"}
    with pytest.raises(MlflowException, match="No tag with key 'b' found"):
        tracking.delete_logged_model_tag(model.model_id, "b")


def test_metrics_logged_with_model_id_show_on_the_model(server, tracking, experiment):
    model = mlflow.initialize_logged_model(name="scored")
    with mlflow.start_run() as run:
        mlflow.log_metric("acc", 0.75, step=1, model_id=model.model_id)
        mlflow.log_metrics({"f1": 0.5, "loss": 0.25}, model_id=model.model_id)
        mlflow.log_metric("plain", 1.0)
    got = mlflow.get_logged_model(model.model_id)
    by_key = {m.key: m for m in got.metrics}
    assert set(by_key) == {"acc", "f1", "loss"}
    assert by_key["acc"].value == 0.75 and by_key["acc"].step == 1
    assert by_key["acc"].run_id == run.info.run_id and by_key["acc"].model_id == model.model_id
    # The run keeps all its metrics as usual.
    assert set(tracking.get_run(run.info.run_id).data.metrics) == {"acc", "f1", "loss", "plain"}


def test_search_filters_order_and_pages(server, tracking, experiment):
    ids = {}
    for name, acc, lr in [("m-low", 0.2, "0.1"), ("m-mid", 0.5, "0.01"), ("m-high", 0.9, "0.001"), ("m-none", None, "1")]:
        m = mlflow.initialize_logged_model(name=name.replace("-", "_"), params={"lr": lr}, model_type="clf")
        ids[name] = m.model_id
        if acc is not None:
            with mlflow.start_run():
                mlflow.log_metric("acc", acc, model_id=m.model_id)
    mlflow.finalize_logged_model(ids["m-high"], LoggedModelStatus.READY)

    def names(**kw):
        return [m.name for m in mlflow.search_logged_models(output_format="list", **kw)]

    assert names() == ["m_none", "m_high", "m_mid", "m_low"], "newest first"
    assert names(filter_string="name = 'm_mid'") == ["m_mid"]
    assert names(filter_string="metrics.acc > 0.3") == ["m_high", "m_mid"]
    assert names(filter_string="params.lr = '0.1' AND model_type = 'clf'") == ["m_low"]
    assert names(filter_string="name LIKE 'm_%h'") == ["m_high"]
    assert names(filter_string=f"model_id = '{ids['m-low']}'") == ["m_low"]
    assert names(order_by=[{"field_name": "metrics.acc", "ascending": True}]) == ["m_low", "m_mid", "m_high", "m_none"]
    assert names(order_by=[{"field_name": "metrics.acc", "ascending": False}]) == ["m_high", "m_mid", "m_low", "m_none"]
    assert names(order_by=[{"field_name": "creation_time", "ascending": True}]) == ["m_low", "m_mid", "m_high", "m_none"]
    assert names(max_results=2) == ["m_none", "m_high"]
    # Pages of one through the client: every model once, in order.
    page = tracking.search_logged_models(experiment_ids=[experiment], max_results=1)
    seen = [m.name for m in page]
    while page.token:
        page = tracking.search_logged_models(experiment_ids=[experiment], max_results=1, page_token=page.token)
        seen += [m.name for m in page]
    assert seen == ["m_none", "m_high", "m_mid", "m_low"]
    df = mlflow.search_logged_models(filter_string="name = 'm_high'")
    assert list(df["name"]) == ["m_high"]


def test_search_by_dataset(server, tracking, experiment):
    import numpy as np

    model = mlflow.initialize_logged_model(name="on_data")
    ds = mlflow.data.from_numpy(np.array([[1.0, 2.0]]), name="eval-set")
    with mlflow.start_run():
        mlflow.log_metric("acc", 0.8, model_id=model.model_id, dataset=ds)
    mlflow.initialize_logged_model(name="other")
    hits = mlflow.search_logged_models(
        datasets=[{"dataset_name": "eval-set", "dataset_digest": ds.digest}], output_format="list"
    )
    assert [m.name for m in hits] == ["on_data"]
    metric = mlflow.get_logged_model(model.model_id).metrics[0]
    assert (metric.dataset_name, metric.dataset_digest) == ("eval-set", ds.digest)


@pytest.mark.stricter
def test_search_by_dataset_name_only(server, tracking, experiment):
    # MLflow's handler turns a missing digest into a match on "no digest", so a dataset given by
    # name alone finds nothing there; the proto documents the digest as optional.
    import numpy as np

    model = mlflow.initialize_logged_model(name="on_data")
    ds = mlflow.data.from_numpy(np.array([[1.0, 2.0]]), name="eval-set")
    with mlflow.start_run():
        mlflow.log_metric("acc", 0.8, model_id=model.model_id, dataset=ds)
    hits = mlflow.search_logged_models(datasets=[{"dataset_name": "eval-set"}], output_format="list")
    assert [m.name for m in hits] == ["on_data"]


def test_delete(server, tracking, experiment):
    model = mlflow.initialize_logged_model(name="gone")
    tracking.delete_logged_model(model.model_id)
    with pytest.raises(MlflowException, match="not found"):
        mlflow.get_logged_model(model.model_id)
    assert mlflow.search_logged_models(output_format="list") == []
    r = server.get(f"logged-models/{model.model_id}", params={"allow_deleted": "true"})
    assert r.status_code == 200 and r.json()["model"]["info"]["name"] == "gone"


# --- errors through raw REST


def test_not_found_everywhere(server):
    msg = "Logged model with ID 'm-nope' not found."
    assert_error(server.get("logged-models/m-nope"), 404, RDNE, msg)
    r = server.http.patch(server.api_url("logged-models/m-nope"), json={"model_id": "m-nope", "status": "LOGGED_MODEL_READY"})
    assert_error(r, 404, RDNE, msg)
    assert_error(server.http.delete(server.api_url("logged-models/m-nope")), 404, RDNE, msg)
    r = server.http.patch(server.api_url("logged-models/m-nope/tags"), json={"tags": [{"key": "k", "value": "v"}]})
    assert_error(r, 404, RDNE, msg)
    assert_error(server.http.delete(server.api_url("logged-models/m-nope/tags/k")), 404, RDNE, msg)
    r = server.post("logged-models/m-nope/params", {"model_id": "m-nope", "params": [{"key": "p", "value": "1"}]})
    assert_error(r, 404, RDNE, msg)


def test_create_errors(server):
    exp = server.create_experiment(unique("lm-errors"))
    assert_error(server.post("logged-models", {}), 400, IPV, f"Missing value for required parameter 'experiment_id'.{HINT}")
    assert_error(server.post("logged-models", {"experiment_id": "999999"}), 404, RDNE, "No Experiment with id=999999 exists")
    assert_error(
        server.post("logged-models", {"experiment_id": "abc"}), 400, IPV,
        "Invalid experiment ID 'abc'. Experiment ID must be a valid integer.",
    )
    assert_error(
        server.post("logged-models", {"experiment_id": exp, "name": "a/b"}), 400, IPV,
        "Invalid model name ('a/b') provided. Model name must be a non-empty string and cannot contain the "
        "following characters: ('/', ':', '.', '%', '\"', \"'\")",
    )
    assert_error(
        server.post("logged-models", {"experiment_id": exp, "tags": "x"}), 400, IPV,
        f"Invalid value \"x\" for parameter 'tags' supplied:  Hint: Value was of type 'str'.{HINT}",
    )
    r = server.post("logged-models", {"experiment_id": exp, "params": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]})
    assert_error(r, 400, "BAD_REQUEST")
    server.post("experiments/delete", {"experiment_id": exp})
    assert_error(
        server.post("logged-models", {"experiment_id": exp}), 400, IPV,
        f"The experiment {exp} must be in the 'active' state. Current state is deleted.",
    )


def test_finalize_tag_param_errors(server):
    exp = server.create_experiment(unique("lm-errors"))
    mid = server.post("logged-models", {"experiment_id": exp}).json()["model"]["info"]["model_id"]
    url = server.api_url(f"logged-models/{mid}")
    assert_error(server.http.patch(url, json={"model_id": mid}), 400, IPV, f"Missing value for required parameter 'status'.{HINT}")
    assert_error(
        server.http.patch(url, json={"status": "LOGGED_MODEL_READY"}), 400, IPV,
        f"Missing value for required parameter 'model_id'.{HINT}",
    )
    assert_error(
        server.post(f"logged-models/{mid}/params", {"params": [{"key": "p", "value": "1"}]}), 400, IPV,
        f"Missing value for required parameter 'model_id'.{HINT}",
    )
    assert server.post(f"logged-models/{mid}/params", {"model_id": mid, "params": [{"key": "p", "value": "1"}]}).status_code == 200
    r = server.post(f"logged-models/{mid}/params", {"model_id": mid, "params": [{"key": "p", "value": "2"}]})
    assert_error(r, 400, "BAD_REQUEST")
    assert_error(
        server.http.delete(server.api_url(f"logged-models/{mid}/tags/nope")), 404, RDNE,
        f"No tag with key 'nope' found for model with ID '{mid}'.",
    )


@pytest.mark.stricter
def test_finalize_with_an_unknown_status_is_refused(server):
    exp = server.create_experiment(unique("lm-errors"))
    mid = server.post("logged-models", {"experiment_id": exp}).json()["model"]["info"]["model_id"]
    r = server.http.patch(server.api_url(f"logged-models/{mid}"), json={"model_id": mid, "status": "FOO"})
    assert_error(r, 400, IPV)


def test_search_errors(server):
    exp = server.create_experiment(unique("lm-errors"))

    def search(**body):
        return server.post("logged-models/search", body)

    assert_error(search(), 400, IPV, f"Missing value for required parameter 'experiment_ids'.{HINT}")
    assert search(experiment_ids=[]).json() == {}
    assert_error(
        search(experiment_ids=["abc"]), 400, IPV, "Invalid experiment ID 'abc'. Experiment ID must be a valid integer."
    )
    assert_error(
        search(experiment_ids=[exp], filter="name = 'x' OR name = 'y'"), 400, IPV,
        "Invalid filter string: \"name = 'x' OR name = 'y'\". Expected a list of comparisons separated by 'AND' "
        "(e.g. 'metrics.loss > 0.1 AND params.lr = 0.01').",
    )
    assert_error(
        search(experiment_ids=[exp], filter="metric.acc > 1"), 400, IPV,
        "Invalid entity type: 'metric'. Expected one of ['attributes', 'metrics', 'params', 'tags'].",
    )
    assert_error(
        search(experiment_ids=[exp], filter="metrics.acc LIKE 1"), 400, IPV,
        "Invalid comparison operator for metrics.acc: 'LIKE'. Expected one of ('<', '<=', '>', '>=', '=', '!=').",
    )
    assert_error(
        search(experiment_ids=[exp], filter="name < 'm2'"), 400, IPV,
        "Invalid comparison operator for attributes.name: '<'. Expected one of ('=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN').",
    )
    assert_error(
        search(experiment_ids=[exp], filter="name = 'x'; name = 'y'"), 400, IPV,
        "Invalid filter string: \"name = 'x'; name = 'y'\". Expected a single SQL expression.",
    )
    assert_error(
        search(experiment_ids=[exp], datasets=[{"dataset_digest": "x"}]), 400, IPV,
        "`dataset_name` in the `datasets` clause must be specified.",
    )
    assert_error(search(experiment_ids=[exp], order_by=[{"field_name": "foo"}]), 400, IPV, "Invalid order by field name: foo")
    assert_error(
        search(experiment_ids=[exp], order_by=[{"field_name": "params.x"}]), 400, IPV,
        "Invalid order by field name: params.x. Only metrics are supported.",
    )
    assert_error(
        search(experiment_ids=[exp], page_token="bm90IGpzb24="), 400, IPV,
        "Invalid page token: bm90IGpzb24=. Expecting value: line 1 column 1 (char 0)",
    )


@pytest.mark.stricter
def test_search_errors_mlflow_answers_with_500(server):
    exp = server.create_experiment(unique("lm-errors"))
    for body in [
        {"experiment_ids": [exp], "filter": "foo = 'x'"},
        {"experiment_ids": [exp], "filter": "metrics.acc > 'x'"},
        {"experiment_ids": [exp], "filter": "attributes.creation_timestamp > '5'"},
        {"experiment_ids": [exp], "order_by": [{"field_name": "tags"}]},
        {"experiment_ids": [exp], "page_token": "abc"},
    ]:
        assert_error(server.post("logged-models/search", body), 400, IPV)


def test_page_token_is_tied_to_its_request(server):
    exp = server.create_experiment(unique("lm-pages"))
    for i in range(3):
        server.post("logged-models", {"experiment_id": exp, "name": f"p{i}"})
    order = [{"field_name": "name"}]
    first = server.post("logged-models/search", {"experiment_ids": [exp], "max_results": 1, "order_by": order}).json()
    token = first["next_page_token"]
    decoded = json.loads(base64.b64decode(token))
    assert decoded == {
        "experiment_ids": [exp], "filter_string": None,
        "order_by": [{"field_name": "name", "ascending": True, "dataset_name": None, "dataset_digest": None}],
        "offset": 1,
    }
    second = server.post(
        "logged-models/search", {"experiment_ids": [exp], "max_results": 1, "order_by": order, "page_token": token}
    ).json()
    assert [m["info"]["name"] for m in first["models"] + second["models"]] == ["p0", "p1"]
    r = server.post("logged-models/search", {"experiment_ids": [exp, "0"], "max_results": 1, "order_by": order, "page_token": token})
    assert_error(
        r, 400, IPV,
        f"Experiment IDs in the page token do not match the requested experiment IDs. Expected: ['{exp}', '0']. Found: ['{exp}']",
    )
    r = server.post(
        "logged-models/search",
        {"experiment_ids": [exp], "max_results": 1, "order_by": order, "filter": "name = 'x'", "page_token": token},
    )
    assert_error(
        r, 400, IPV,
        "Filter string in the page token does not match the requested filter string. Expected: name = 'x'. Found: None",
    )
    r = server.post("logged-models/search", {"experiment_ids": [exp], "max_results": 1, "page_token": token})
    assert_error(
        r, 400, IPV,
        "Order by in the page token does not match the requested order by. Expected: None. "
        "Found: [{'field_name': 'name', 'ascending': True, 'dataset_name': None, 'dataset_digest': None}]",
    )
    last = server.post("logged-models/search", {"experiment_ids": [exp], "max_results": 5, "order_by": order}).json()
    assert "next_page_token" not in last
