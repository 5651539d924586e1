"""Logged models, artifacts and the model registry through the client (marked `registry`)."""

from __future__ import annotations

import mlflow
import pytest

from conftest import unique

pytestmark = pytest.mark.registry


def _model():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    return LogisticRegression(max_iter=200).fit(X, y), X


def test_log_artifact_text(server, tracking, tmp_path):
    mlflow.set_experiment(unique("artifacts"))
    with mlflow.start_run() as run:
        p = tmp_path / "hello.txt"
        p.write_text("hello")
        mlflow.log_artifact(str(p), artifact_path="notes")
    files = [f.path for f in tracking.list_artifacts(run.info.run_id, "notes")]
    assert files == ["notes/hello.txt"]
    out = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="notes/hello.txt", dst_path=str(tmp_path / "d"))
    assert open(out).read() == "hello"


def test_log_register_alias_load(server, tracking):
    mlflow.set_experiment(unique("registry"))
    model, X = _model()
    name = unique("iris-model")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model", input_example=X[:2])
    v1 = mlflow.register_model(info.model_uri, name)
    v2 = mlflow.register_model(info.model_uri, name)
    assert (v1.version, v2.version) == ("1", "2")
    assert [m.name for m in tracking.search_registered_models(filter_string=f"name='{name}'")] == [name]
    latest = tracking.get_latest_versions(name)
    assert [v.version for v in latest] == ["2"]
    tracking.set_registered_model_alias(name, "champion", "1")
    by_version = mlflow.sklearn.load_model(f"models:/{name}/1")
    by_alias = mlflow.sklearn.load_model(f"models:/{name}@champion")
    assert (by_version.predict(X[:5]) == model.predict(X[:5])).all()
    assert (by_alias.predict(X[:5]) == model.predict(X[:5])).all()


def test_signature_both_sources_stages_and_pyfunc(server, tracking):
    """The whole loop: log with a signature and an input example, register from the run's
    `runs:/` URI and from the logged model's `models:/m-…` URI, promote, load through pyfunc."""
    import numpy as np
    import pandas as pd
    from mlflow.models import infer_signature

    mlflow.set_experiment(unique("loop"))
    model, X = _model()
    frame = pd.DataFrame(X, columns=["sepal_l", "sepal_w", "petal_l", "petal_w"])
    signature = infer_signature(frame, model.predict(X))
    name = unique("loop-model")
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(model, name="model", signature=signature, input_example=frame.head(3))
    assert info.model_id.startswith("m-")
    logged = tracking.get_logged_model(info.model_id)
    assert logged.source_run_id == run.info.run_id
    assert "READY" in str(logged.status)
    files = {a.path.rsplit("/", 1)[-1] for a in mlflow.artifacts.list_artifacts(artifact_uri=logged.artifact_location)}
    assert {"MLmodel", "input_example.json", "requirements.txt"} <= files

    v1 = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
    v2 = mlflow.register_model(f"models:/{info.model_id}", name)
    assert (v1.version, v2.version) == ("1", "2")
    for v in (v1, v2):
        got = tracking.get_model_version(name, v.version)
        assert got.status == "READY"
        assert got.run_id == run.info.run_id

    tracking.transition_model_version_stage(name, "1", "Production")
    tracking.transition_model_version_stage(name, "2", "production", archive_existing_versions=True)
    stages = {v.version: v.current_stage for v in tracking.search_model_versions(f"name='{name}'")}
    assert stages == {"1": "Archived", "2": "Production"}
    assert [v.version for v in tracking.get_latest_versions(name, stages=["Production"])] == ["2"]

    tracking.set_registered_model_alias(name, "champion", "2")
    assert tracking.get_model_version_by_alias(name, "champion").version == "2"
    assert tracking.get_registered_model(name).aliases == {"champion": "2"}

    expected = model.predict(X[:10])
    for uri in (f"models:/{name}/1", f"models:/{name}@champion", info.model_uri):
        loaded = mlflow.pyfunc.load_model(uri)
        assert loaded.metadata.get_input_schema().input_names() == list(frame.columns)
        assert np.array_equal(np.asarray(loaded.predict(frame.head(10))), expected), uri


def test_concurrent_registration_yields_distinct_versions(server, tracking):
    """Many clients registering the same name at once each get their own number; none is lost."""
    from concurrent.futures import ThreadPoolExecutor

    mlflow.set_experiment(unique("concurrent"))
    model, _ = _model()
    name = unique("race-model")
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(model, name="model")
    source = f"runs:/{run.info.run_id}/model"
    with ThreadPoolExecutor(max_workers=8) as pool:
        versions = list(pool.map(lambda _: mlflow.register_model(source, name).version, range(16)))
    assert sorted(int(v) for v in versions) == list(range(1, 17))
    listed = tracking.search_model_versions(f"name='{name}'", max_results=100)
    assert sorted(int(v.version) for v in listed) == list(range(1, 17))


def test_deleting_a_model_removes_versions_aliases_and_tags(server, tracking):
    mlflow.set_experiment(unique("delete"))
    model, _ = _model()
    name = unique("gone-model")
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(model, name="model")
    v = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
    tracking.set_registered_model_tag(name, "team", "f1")
    tracking.set_model_version_tag(name, v.version, "ok", "yes")
    tracking.set_registered_model_alias(name, "champion", v.version)
    tracking.delete_registered_model(name)
    r = server.get("model-versions/get", {"name": name, "version": v.version})
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    r = server.get("registered-models/alias", {"name": name, "alias": "champion"})
    assert r.status_code in (400, 404)
    # The name is free again, and numbering starts afresh for the new model.
    again = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
    assert again.version == "1"
    assert tracking.get_registered_model(name).tags == {}
