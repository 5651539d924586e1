//! The model directory in MLflow's own layout, as `mlflow.onnx.save_model` writes it: `MLmodel`
//! (onnx and python_function flavors, signature, input example info), `model.onnx`, the
//! environment files and the input examples. `mlflow.pyfunc.load_model(dir)` loads it through
//! the loader in `code/` (the onnx flavor, fed column by column); `mlflow.onnx.load_model(dir)`
//! gives the ONNX model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{Result, TrainError};
use crate::features::FeatureSpec;
use crate::frame::Frame;
use crate::inputs::ColumnType;
use crate::model::ChurnModel;
use crate::onnx;

/// The model file inside the directory.
pub const MODEL_FILE: &str = "model.onnx";
/// The MLflow version whose layout is written (the one the compatibility suite pins).
pub const MLFLOW_VERSION: &str = "3.17.2";
/// The `onnx` package version recorded in the flavor and the requirements.
pub const ONNX_VERSION: &str = "1.23.2";
/// The `onnxruntime` package version in the requirements.
pub const ONNXRUNTIME_VERSION: &str = "1.32.0";
/// The Python the environment files ask for.
pub const PYTHON_VERSION: &str = "3.11.7";
/// Rows of the input example.
const EXAMPLE_ROWS: usize = 5;
/// The python_function flavor's loader, shipped in the model's `code/` folder: MLflow's onnx
/// flavor, fed column by column as NumPy arrays (see the module's docstring for why).
pub const PYFUNC_LOADER: &str = "pitwall_churn_pyfunc";
const PYFUNC_LOADER_SOURCE: &str = include_str!("../python/pitwall_churn_pyfunc.py");
/// The folder of the model directory MLflow puts on `sys.path` before loading.
const CODE_DIR: &str = "code";

/// The parts of `MLmodel` this crate reads back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MlModel {
    pub flavors: BTreeMap<String, serde_norway::Value>,
    #[serde(default)]
    pub model_uuid: Option<String>,
    #[serde(default)]
    pub utc_time_created: Option<String>,
    #[serde(default)]
    pub metadata: Option<Metadata>,
    #[serde(default)]
    pub signature: Option<Signature>,
}

/// `MLmodel`'s `signature`: JSON strings of column specs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Signature {
    pub inputs: String,
    pub outputs: String,
    pub params: Option<String>,
}

/// What Pitwall keeps in `MLmodel`'s `metadata`: the encoding of the input.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Metadata {
    pub pitwall_features: FeatureSpec,
    pub pitwall_model: String,
}

/// A column of a signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSpec {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub required: bool,
}

/// Writes the model directory `dir` (created; must not hold another model). The first few
/// rows of `examples` become the input example, as the lake holds them.
pub fn save(dir: &Path, model: &ChurnModel, examples: &Frame, created: chrono::DateTime<chrono::Utc>) -> Result<()> {
    if dir.join("MLmodel").exists() {
        return Err(TrainError::model_dir(dir, "already holds a model"));
    }
    std::fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
    let onnx_bytes = onnx::to_onnx_bytes(model)?;
    write(&dir.join(MODEL_FILE), &onnx_bytes)?;
    let code = dir.join(CODE_DIR);
    std::fs::create_dir_all(&code).map_err(|e| TrainError::io(&code, e))?;
    write(&code.join(format!("{PYFUNC_LOADER}.py")), PYFUNC_LOADER_SOURCE.as_bytes())?;

    let spec = &model.features;
    let names = spec.input_names();
    let mut kinds: Vec<&str> = spec.numeric_types.iter().map(|t| t.mlflow_name()).collect();
    kinds.push("string");
    let inputs: Vec<ColumnSpec> = names
        .iter()
        .zip(kinds)
        .map(|(n, kind)| ColumnSpec { kind: kind.into(), name: n.clone(), required: true })
        .collect();
    let outputs = vec![ColumnSpec { kind: "double".into(), name: onnx::OUTPUT.into(), required: true }];
    let example = json!({ "columns": names, "data": example_rows(spec, examples) });
    write_json(&dir.join("input_example.json"), &example, false)?;
    write_json(&dir.join("serving_input_example.json"), &json!({ "dataframe_split": example }), true)?;

    let requirements =
        format!("mlflow=={MLFLOW_VERSION}\nnumpy\nonnx=={ONNX_VERSION}\nonnxruntime=={ONNXRUNTIME_VERSION}\npandas");
    write(&dir.join("requirements.txt"), requirements.as_bytes())?;
    let pip: Vec<String> = requirements.lines().map(str::to_string).collect();
    let conda = json!({
        "channels": ["conda-forge"],
        "dependencies": [format!("python={PYTHON_VERSION}"), "pip<=26.3", { "pip": pip }],
        "name": "mlflow-env",
    });
    write_yaml(&dir.join("conda.yaml"), &conda)?;
    let python_env = json!({
        "python": PYTHON_VERSION,
        "build_dependencies": ["pip==26.3", "setuptools==65.5.0", "wheel"],
        "dependencies": ["-r requirements.txt"],
    });
    write_yaml(&dir.join("python_env.yaml"), &python_env)?;

    let to_json = |v: &[ColumnSpec]| serde_json::to_string(v).expect("column specs always serialise");
    let mlmodel = json!({
        "flavors": {
            "onnx": {
                "code": null,
                "data": MODEL_FILE,
                "onnx_session_options": null,
                "onnx_version": ONNX_VERSION,
                "providers": ["CUDAExecutionProvider", "CPUExecutionProvider"],
            },
            "python_function": {
                "code": CODE_DIR,
                "data": MODEL_FILE,
                "env": { "conda": "conda.yaml", "virtualenv": "python_env.yaml" },
                "loader_module": PYFUNC_LOADER,
                "python_version": PYTHON_VERSION,
            },
        },
        "is_signature_from_type_hint": false,
        "metadata": {
            "pitwall_features": model.features,
            "pitwall_model": model.kind(),
        },
        "mlflow_version": MLFLOW_VERSION,
        "model_id": null,
        "model_size_bytes": onnx_bytes.len(),
        "model_uuid": uuid::Uuid::new_v4().simple().to_string(),
        "prompts": null,
        "saved_input_example_info": {
            "artifact_path": "input_example.json",
            "pandas_orient": "split",
            "serving_input_path": "serving_input_example.json",
            "type": "dataframe",
        },
        "signature": { "inputs": to_json(&inputs), "outputs": to_json(&outputs), "params": null },
        "type_hint_from_example": false,
        "utc_time_created": created.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
    });
    write_yaml(&dir.join("MLmodel"), &mlmodel)
}

/// The first rows of `frame` in the signature's columns: integers as integers, missing values
/// as nulls.
fn example_rows(spec: &FeatureSpec, frame: &Frame) -> Vec<Vec<serde_json::Value>> {
    (0..frame.len().min(EXAMPLE_ROWS))
        .map(|i| {
            let mut row: Vec<serde_json::Value> = frame
                .numeric
                .iter()
                .zip(&spec.numeric_types)
                .map(|(col, kind)| match (col[i], kind) {
                    (v, _) if v.is_nan() => serde_json::Value::Null,
                    (v, ColumnType::Integer | ColumnType::Long) => json!(v as i64),
                    (v, ColumnType::Double) => json!(v),
                })
                .collect();
            row.push(json!(frame.teams[i]));
            row
        })
        .collect()
}

/// A model directory read back: its `MLmodel`, the feature encoding and the ONNX file.
#[derive(Debug, Clone)]
pub struct ModelDir {
    pub dir: PathBuf,
    pub mlmodel: MlModel,
    pub features: FeatureSpec,
    pub onnx_path: PathBuf,
}

impl ModelDir {
    /// Reads `dir/MLmodel`: it must have the onnx flavor, Pitwall's feature metadata, and a
    /// signature whose inputs are those features.
    pub fn open(dir: &Path) -> Result<Self> {
        let path = dir.join("MLmodel");
        let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
        let mlmodel: MlModel =
            serde_norway::from_str(&text).map_err(|e| TrainError::model_dir(dir, format!("MLmodel: {e}")))?;
        let onnx =
            mlmodel.flavors.get("onnx").ok_or_else(|| TrainError::model_dir(dir, "MLmodel has no onnx flavor"))?;
        let data = onnx
            .get("data")
            .and_then(serde_norway::Value::as_str)
            .ok_or_else(|| TrainError::model_dir(dir, "the onnx flavor names no data file"))?;
        let onnx_path = dir.join(data);
        if !onnx_path.is_file() {
            return Err(TrainError::model_dir(dir, format!("{data} is missing")));
        }
        let features = mlmodel
            .metadata
            .as_ref()
            .map(|m| m.pitwall_features.clone())
            .ok_or_else(|| TrainError::model_dir(dir, "MLmodel has no pitwall_features metadata"))?;
        if let Some(sig) = &mlmodel.signature {
            let inputs: Vec<ColumnSpec> = serde_json::from_str(&sig.inputs)
                .map_err(|e| TrainError::model_dir(dir, format!("signature inputs: {e}")))?;
            let names: Vec<String> = inputs.into_iter().map(|c| c.name).collect();
            if names != features.input_names() {
                return Err(TrainError::model_dir(dir, "the signature's inputs are not the model's features"));
            }
        }
        Ok(Self { dir: dir.to_path_buf(), mlmodel, features, onnx_path })
    }

    /// When the model was saved, as `MLmodel` records it.
    pub fn created(&self) -> Option<&str> {
        self.mlmodel.utc_time_created.as_deref()
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| TrainError::io(path, e))
}

fn write_json(path: &Path, value: &serde_json::Value, pretty: bool) -> Result<()> {
    let text = if pretty { serde_json::to_string_pretty(value) } else { serde_json::to_string(value) }
        .map_err(|e| TrainError::Serialise { what: path.display().to_string(), reason: e.to_string() })?;
    write(path, text.as_bytes())
}

fn write_yaml(path: &Path, value: &serde_json::Value) -> Result<()> {
    let text = serde_norway::to_string(value)
        .map_err(|e| TrainError::Serialise { what: path.display().to_string(), reason: e.to_string() })?;
    write(path, text.as_bytes())
}
