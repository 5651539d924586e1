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
