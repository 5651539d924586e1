"""The churn model trained the way the seed trained it, in Python, beside Pitwall's Rust trainer.

pandas + scikit-learn: the ABT (analytics f1/abt_churn, read with the `deltalake` package), the
numeric features with missing values set to -10000, `idTeam` one-hot encoded (a team unseen in
training encodes as zeros), AdaBoost over decision stumps, `mlflow.sklearn.autolog()` for params
and training metrics. Judged as Pitwall's trainer judges its own: the model logged is trained on
every season before the latest labelled one and tested on that season (`auc_oot`); the split
metrics (`auc_test` …) come from the same pipeline fitted on a split that keeps each
(driver, season) group on one side. The model is registered as a new version of the registered
model, tagged with its `auc_oot` as Pitwall's trainer tags its own versions; the `champion`
alias moves to it only when that beats the champion's `auc_oot` (the seed registered only better
models; with aliases every model is kept and the alias says which one serves).

    python train_churn.py --tracking-uri URL --abt LAKE/analytics/f1/abt_churn
        [--experiment f1_churn] [--registered-model f1_churn] [--n-estimators 50]
        [--learning-rate 0.1] [--seed 42]

The last line printed is a JSON summary: run_id, model_uri, version, auc_oot, auc_test,
test_season, champion (the version the alias points at afterwards) and reason.
"""

from __future__ import annotations

import argparse
import json
import math

import mlflow
import pandas as pd
from deltalake import DeltaTable
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from sklearn import compose, ensemble, impute, metrics, model_selection, pipeline, preprocessing, tree

TARGET = "flChurn"
TEAM = "idTeam"
# As the seed: the features are every ABT column after these four (and the label).
KEYS = ["idDriver", "dtRef", "dtLastSeen", "dtFirstSeen"]
MISSING_VALUE = -10000
CHAMPION = "champion"
# The model-version tag both trainers compare champions on: the AUC on the latest labelled
# season of a model trained on the seasons before it.
AUC_TAG = "auc_oot"
# Types of our own fitted trees that skops (MLflow's default sklearn format) will not load
# unless told to trust them; the model is ours, so they are.
SKOPS_TRUSTED_TYPES = ["numpy.dtype", "sklearn.tree._tree.Tree"]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tracking-uri", required=True)
    p.add_argument("--abt", required=True, help="the abt_churn Delta table (a folder)")
    p.add_argument("--experiment", default="f1_churn")
    p.add_argument("--registered-model", default="f1_churn")
    p.add_argument("--n-estimators", type=int, default=50)
    p.add_argument("--learning-rate", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=42)
    return p.parse_args(argv)


def read_abt(path: str) -> pd.DataFrame:
    """The ABT as the seed read it: the whole Delta table into pandas."""
    return DeltaTable(path).to_pandas()


def feature_columns(abt: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(all features, the numeric ones), in the ABT's column order."""
    features = [c for c in abt.columns if c not in KEYS and c != TARGET]
    return features, [c for c in features if c != TEAM]


def out_of_time(abt: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(the seasons before the latest labelled one, that season, its year)."""
    season = abt["dtRef"].str[:4].astype(int)
    latest = int(season.max())
    return abt[season < latest], abt[season == latest], latest


def split(abt: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """80/20 by (driver, season of dtRef): a driver's season is never on both sides, so the
    test set measures churn of driver-seasons the model has not seen."""
    groups = abt["idDriver"] + "/" + abt["dtRef"].str[:4]
    splitter = model_selection.GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=seed)
    train_idx, test_idx = next(splitter.split(abt, groups=groups))
    return abt.iloc[train_idx], abt.iloc[test_idx]


def build_model(numeric: list[str], args: argparse.Namespace) -> pipeline.Pipeline:
    """The seed's pipeline: impute, one-hot the team, boost decision stumps."""
    prep = compose.ColumnTransformer(
        [
            ("numeric", impute.SimpleImputer(strategy="constant", fill_value=MISSING_VALUE), numeric),
            ("team", preprocessing.OneHotEncoder(handle_unknown="ignore"), [TEAM]),
        ]
    )
    boost = ensemble.AdaBoostClassifier(
        estimator=tree.DecisionTreeClassifier(max_depth=1),
        n_estimators=args.n_estimators,
        learning_rate=args.learning_rate,
        random_state=args.seed,
    )
    return pipeline.Pipeline([("prep", prep), ("ada", boost)])


def evaluate(model, rows: pd.DataFrame, features: list[str], suffix: str) -> dict[str, float]:
    """Accuracy (at 0.5) and ROC AUC, named as Pitwall's trainer names them."""
    x, y = rows[features], rows[TARGET]
    proba = model.predict_proba(x)[:, 1]
    return {
        f"acc_{suffix}": float(metrics.accuracy_score(y, model.predict(x))),
        f"auc_{suffix}": float(metrics.roc_auc_score(y, proba)),
    }


def champion_auc(client: MlflowClient, name: str) -> tuple[str, float] | None:
    """(version, auc_oot) of the champion, or None when there is none. The AUC is the
    version's tag, else the metric of the run that produced it."""
    try:
        champion = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException as e:
        if e.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise
    tagged = champion.tags.get(AUC_TAG)
    if tagged is not None:
        return champion.version, float(tagged)
    if champion.run_id:
        metric = client.get_run(champion.run_id).data.metrics.get(AUC_TAG)
        if metric is not None:
            return champion.version, float(metric)
    return champion.version, math.nan


def promote(client: MlflowClient, name: str, version: str, auc_oot: float) -> tuple[str, str]:
    """Moves the champion alias to `version` when its auc_oot beats the champion's;
    answers (the champion afterwards, why)."""
    current = champion_auc(client, name)
    if current is None:
        reason = "there was no champion"
    else:
        champion_version, best = current
        if not math.isnan(best) and best >= auc_oot:
            return champion_version, (
                f"champion version {champion_version} kept: its auc_oot {best:.4f} is at least "
                f"this run's {auc_oot:.4f}"
            )
        reason = f"its auc_oot {auc_oot:.4f} beats champion version {champion_version}'s {best:.4f}"
    client.set_registered_model_alias(name, CHAMPION, version)
    return version, f"version {version} is the new champion: {reason}"


def main(argv=None) -> dict:
    args = parse_args(argv)
    mlflow.set_tracking_uri(args.tracking_uri)
    mlflow.set_experiment(args.experiment)
    # The model is logged by hand below, with a signature over the raw ABT columns, so that
    # autolog's copy does not make a second logged model per run; the test metrics are logged
    # under the names Pitwall's trainer uses rather than autolog's `accuracy_score_x…`.
    mlflow.sklearn.autolog(log_models=False, log_post_training_metrics=False)

    abt = read_abt(args.abt)
    features, numeric = feature_columns(abt)
    history, season_rows, test_season = out_of_time(abt)
    train, test = split(abt, args.seed)
    with mlflow.start_run() as run:
        # The split's fit first, so that autolog's training metrics are the logged model's.
        on_split = build_model(numeric, args).fit(train[features], train[TARGET])
        scores = {**evaluate(on_split, train, features, "train"), **evaluate(on_split, test, features, "test")}
        model = build_model(numeric, args)
        model.fit(history[features], history[TARGET])
        scores.update(evaluate(model, season_rows, features, "oot"))
        mlflow.log_metrics(scores)
        mlflow.log_params({
            "test_fraction": 0.2, "rows_train": len(train), "rows_test": len(test), "test_season": test_season,
        })
        example = season_rows[features].head(5)
        signature = mlflow.models.infer_signature(example, model.predict(example))
        info = mlflow.sklearn.log_model(
            model, name="model", signature=signature, input_example=example,
            skops_trusted_types=SKOPS_TRUSTED_TYPES,
        )

    auc_oot = scores["auc_oot"]
    version = mlflow.register_model(info.model_uri, args.registered_model, tags={AUC_TAG: str(auc_oot)})
    client = MlflowClient(tracking_uri=args.tracking_uri)
    champion, reason = promote(client, args.registered_model, version.version, auc_oot)
    print(reason)
    summary = {
        "run_id": run.info.run_id,
        "model_uri": info.model_uri,
        "version": str(version.version),
        "auc_oot": auc_oot,
        "auc_test": scores["auc_test"],
        "test_season": test_season,
        "champion": str(champion),
        "reason": reason,
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
