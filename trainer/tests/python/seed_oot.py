"""The seed's churn recipe judged out of time, on the same seasons as Pitwall's trainer.

Reads analytics/f1/abt_churn with the `deltalake` package, trains the seed's pipeline (missing
numbers set to -10000, idTeam one-hot encoded with unknown teams as zeros, AdaBoost with
learning rate 0.02 over random forests of two stumps) on every season before TEST_SEASON, and
prints as JSON the AUC on TEST_SEASON for each seed, their mean, and the fit times.

    python seed_oot.py LAKE_ROOT TEST_SEASON [--seeds 0,1,2] [--n-estimators 1000]
"""

import argparse
import json
import time

from deltalake import DeltaTable
from sklearn import compose, ensemble, impute, metrics, pipeline, preprocessing


def main():
    p = argparse.ArgumentParser()
    p.add_argument("lake")
    p.add_argument("test_season", type=int)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--n-estimators", type=int, default=1000)
    args = p.parse_args()

    abt = DeltaTable(f"{args.lake}/analytics/f1/abt_churn").to_pandas()
    target = "flChurn"
    # As the seed: every column after idDriver, dtRef, dtLastSeen, dtFirstSeen.
    features = [c for c in abt.columns[4:] if c != target]
    numeric = [c for c in features if c != "idTeam"]
    season = abt["dtRef"].str[:4].astype(int)
    train, test = abt[season < args.test_season], abt[season == args.test_season]

    aucs, fit_seconds = [], []
    for seed in [int(s) for s in args.seeds.split(",")]:
        prep = compose.ColumnTransformer(
            [
                ("numeric", impute.SimpleImputer(strategy="constant", fill_value=-10000), numeric),
                ("team", preprocessing.OneHotEncoder(handle_unknown="ignore"), ["idTeam"]),
            ]
        )
        forest = ensemble.RandomForestClassifier(n_estimators=2, max_depth=1, random_state=seed)
        boost = ensemble.AdaBoostClassifier(
            estimator=forest, n_estimators=args.n_estimators, learning_rate=0.02, random_state=seed
        )
        model = pipeline.Pipeline([("prep", prep), ("ada", boost)])
        started = time.perf_counter()
        model.fit(train[features], train[target])
        fit_seconds.append(time.perf_counter() - started)
        aucs.append(float(metrics.roc_auc_score(test[target], model.predict_proba(test[features])[:, 1])))
    print(json.dumps({
        "auc_oot": sum(aucs) / len(aucs),
        "aucs": aucs,
        "fit_seconds": fit_seconds,
        "rows_train": len(train),
        "rows_test": len(test),
    }))


if __name__ == "__main__":
    main()
