"""MLflow's python_function loader for a Pitwall churn model: the model's onnx flavor, fed a
DataFrame column by column as NumPy arrays.

MLflow's onnx flavor feeds a model of several inputs `data[name].values`; with pandas 3 a
string column's values are an Arrow array, which ONNX Runtime refuses. Here every input is
passed as a NumPy array (strings as objects, a missing team as the empty string, which the
graph encodes as an unknown team), and the output comes back as the one-column DataFrame the
onnx flavor returns.
"""

import numpy as np
import pandas as pd
from mlflow.onnx import _load_pyfunc as _load_onnx


class _ChurnModel:
    def __init__(self, onnx):
        self._onnx = onnx
        self._inputs = [(i.name, i.type) for i in onnx.get_raw_model().get_inputs()]

    def get_raw_model(self):
        return self._onnx.get_raw_model()

    def predict(self, data, params=None):
        if not isinstance(data, pd.DataFrame):
            return self._onnx.predict(data, params)
        feed = {}
        for name, kind in self._inputs:
            column = data[name]
            if kind == "tensor(string)":
                feed[name] = column.fillna("").to_numpy(dtype=object)
            else:
                feed[name] = column.to_numpy()
        out = self._onnx.predict(feed, params)
        return pd.DataFrame({name: np.asarray(values).reshape(-1) for name, values in out.items()})


def _load_pyfunc(path):
    return _ChurnModel(_load_onnx(path))
