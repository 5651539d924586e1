"""mlflow.sklearn.autolog() of a small LogisticRegression fit on iris (shipped with sklearn).

The main test keeps artifacts off the server (the experiment's artifact location is a local
directory, so autolog's plots go there) and logs no model: params, metrics, tags and the
dataset input are what the tracking server must hold. The log_models=True variant needs the
artifact proxy and logged models and is marked `registry`.
"""

from __future__ import annotations

import mlflow
import pytest

from conftest import unique

TRAINING_METRICS = {
    "training_precision_score", "training_recall_score", "training_f1_score",
    "training_accuracy_score", "training_log_loss", "training_roc_auc", "training_score",
}


def _fit():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=200)
    model.fit(X, y)
    return model, X, y


@pytest.fixture
def autolog_off():
    yield
    mlflow.sklearn.autolog(disable=True)


def test_sklearn_autolog_params_metrics_tags(server, tracking, tmp_path, autolog_off):
    exp_id = tracking.create_experiment(unique("autolog"), artifact_location=(tmp_path / "a").as_uri())
    mlflow.set_experiment(experiment_id=exp_id)
    mlflow.sklearn.autolog(log_models=False, log_datasets=True, silent=True)
    model, X, y = _fit()
    run = mlflow.last_active_run()
    assert run is not None, "autolog started no run"
    got = tracking.get_run(run.info.run_id)

    assert got.info.status == "FINISHED"
    assert got.info.end_time and got.info.end_time >= got.info.start_time

    expected_params = {k: str(v) for k, v in model.get_params().items()}
    assert got.data.params == expected_params

    assert set(got.data.metrics) == TRAINING_METRICS
    assert got.data.metrics["training_accuracy_score"] == pytest.approx(model.score(X, y))
    assert got.data.metrics["training_score"] == pytest.approx(model.score(X, y))
    for key in TRAINING_METRICS - {"training_log_loss"}:
        assert 0.9 <= got.data.metrics[key] <= 1.0, key
    for key in TRAINING_METRICS:
        hist = tracking.get_metric_history(run.info.run_id, key)
        assert len(hist) == 1 and hist[0].step == 0, key

    tags = got.data.tags
    assert tags["estimator_name"] == "LogisticRegression"
    assert tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert tags["mlflow.autologging"] == "sklearn"
    assert tags["mlflow.runName"] == got.info.run_name

    dataset_inputs = got.inputs.dataset_inputs
    assert len(dataset_inputs) >= 1
    train = [d for d in dataset_inputs if {t.key: t.value for t in d.tags}.get("mlflow.data.context") == "train"]
    assert len(train) == 1
    assert train[0].dataset.source_type == "code"
    assert "float64" in train[0].dataset.schema


def test_autolog_runs_are_searchable_by_param(server, tracking, tmp_path, autolog_off):
    exp_id = tracking.create_experiment(unique("autolog-search"), artifact_location=(tmp_path / "b").as_uri())
    mlflow.set_experiment(experiment_id=exp_id)
    mlflow.sklearn.autolog(log_models=False, log_datasets=False, silent=True)
    _fit()
    runs = tracking.search_runs([exp_id], filter_string="params.C = '1.0' AND metrics.training_score > 0.5")
    assert len(runs) == 1
    assert runs[0].data.params["solver"] == "lbfgs"


@pytest.mark.registry
def test_sklearn_autolog_with_model(server, tracking, autolog_off):
    mlflow.set_experiment(unique("autolog-model"))
    mlflow.sklearn.autolog(log_models=True, silent=True)
    model, X, y = _fit()
    run = mlflow.last_active_run()
    got = tracking.get_run(run.info.run_id)
    assert set(got.data.metrics) == TRAINING_METRICS
    assert got.outputs is not None and len(got.outputs.model_outputs) == 1
    model_id = got.outputs.model_outputs[0].model_id
    loaded = mlflow.sklearn.load_model(f"models:/{model_id}")
    assert (loaded.predict(X[:5]) == model.predict(X[:5])).all()
