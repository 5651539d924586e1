"""MLflow's own scoring server (what `mlflow models serve --env-manager local` runs) for a model
directory, on 127.0.0.1:PORT, as the reference `pitwall serve-model` is compared with.

    python mlflow_scoring_server.py MODEL_DIR PORT
"""

import sys

import uvicorn
from mlflow.pyfunc import load_model, scoring_server


def main():
    model_dir, port = sys.argv[1], int(sys.argv[2])
    app = scoring_server.init(load_model(model_dir))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
