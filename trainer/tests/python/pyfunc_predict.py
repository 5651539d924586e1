"""Predictions of a model directory through MLflow's pyfunc on feature-store rows as the lake
holds them: silver/f1/fs_drivers read with the `deltalake` package, unchanged, since a date.

    python pyfunc_predict.py MODEL_DIR LAKE_ROOT SINCE

Prints JSON: the output columns, and idDriver, dtRef and the probability of every row.
"""

import json
import sys

import mlflow.pyfunc
from deltalake import DeltaTable


def main():
    model_dir, lake, since = sys.argv[1], sys.argv[2], sys.argv[3]
    rows = DeltaTable(f"{lake}/silver/f1/fs_drivers").to_pandas(filters=[("dtRef", ">=", since)])
    model = mlflow.pyfunc.load_model(model_dir)
    out = model.predict(rows)
    print(json.dumps({
        "columns": list(out.columns),
        "idDriver": rows["idDriver"].tolist(),
        "dtRef": rows["dtRef"].astype(str).tolist(),
        "values": [float(v) for v in out.iloc[:, 0]],
    }))


if __name__ == "__main__":
    main()
