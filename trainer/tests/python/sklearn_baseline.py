"""The seed's churn pipeline in scikit-learn, on the split Pitwall's trainer made.

Reads analytics/f1/abt_churn with the `deltalake` package and the split written by
`pitwall train churn` (split.csv: idDriver, dtRef, set), fits the seed's pipeline (missing numbers
set to -10000, idTeam one-hot encoded with unknown teams as zeros, AdaBoost over decision
stumps) on the training rows and prints its metrics as JSON.

    python sklearn_baseline.py LAKE_ROOT SPLIT_CSV [--n-estimators 1000] [--learning-rate 0.1]
        [--max-depth 1] [--seed 42]
"""

import argparse
import json
import time

import pandas as pd
from deltalake import DeltaTable
from sklearn import compose, ensemble, impute, metrics, pipeline, preprocessing, tree


def main():
    p = argparse.ArgumentParser()
    p.add_argument("lake")
    p.add_argument("split")
    p.add_argument("--n-estimators", type=int, default=1000)
    p.add_argument("--learning-rate", type=float, default=0.1)
    p.add_argument("--max-depth", type=int, default=1)
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args()

    abt = DeltaTable(f"{args.lake}/analytics/f1/abt_churn").to_pandas()
    split = pd.read_csv(args.split, dtype=str)
    df = abt.merge(split, on=["idDriver", "dtRef"], how="inner", validate="one_to_one")
    assert len(df) == len(abt) == len(split), (len(df), len(abt), len(split))

    target = "flChurn"
    # As the seed: every column after idDriver, dtRef, dtLastSeen, dtFirstSeen.
    features = [c for c in abt.columns[4:] if c != target]
    numeric = [c for c in features if c != "idTeam"]
    train, test = df[df["set"] == "train"], df[df["set"] == "test"]

    prep = compose.ColumnTransformer(
        [
            ("numeric", impute.SimpleImputer(strategy="constant", fill_value=-10000), numeric),
            ("team", preprocessing.OneHotEncoder(handle_unknown="ignore"), ["idTeam"]),
        ]
    )
    clf = ensemble.AdaBoostClassifier(
        estimator=tree.DecisionTreeClassifier(max_depth=args.max_depth),
        n_estimators=args.n_estimators,
        learning_rate=args.learning_rate,
        random_state=args.seed,
    )
    model = pipeline.Pipeline([("prep", prep), ("ada", clf)])
    started = time.perf_counter()
    model.fit(train[features], train[target])
    fit_seconds = time.perf_counter() - started

    out = {"fit_seconds": fit_seconds, "rows_train": len(train), "rows_test": len(test)}
    for name, rows in [("train", train), ("test", test)]:
        proba = model.predict_proba(rows[features])[:, 1]
        out[f"auc_{name}"] = metrics.roc_auc_score(rows[target], proba)
        out[f"acc_{name}"] = metrics.accuracy_score(rows[target], proba > 0.5)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
