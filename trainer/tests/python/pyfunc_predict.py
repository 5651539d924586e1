"""Predictions of a model directory through MLflow's pyfunc, as a JSON list.

    python pyfunc_predict.py MODEL_DIR INPUT_JSON

INPUT_JSON is {"columns": [...], "data": [[...], ...]} (MLflow's split orientation).
"""

import json
import sys

import mlflow.pyfunc
import pandas as pd


def main():
    model_dir, input_path = sys.argv[1], sys.argv[2]
    with open(input_path) as f:
        spec = json.load(f)
    df = pd.DataFrame(spec["data"], columns=spec["columns"], dtype="float64")
    model = mlflow.pyfunc.load_model(model_dir)
    out = model.predict(df)
    print(json.dumps({"columns": list(out.columns), "values": [float(v) for v in out.iloc[:, 0]]}))


if __name__ == "__main__":
    main()
