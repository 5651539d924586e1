//! ONNX Runtime, loaded at run time: `ORT_DYLIB_PATH`, else the library of the `onnxruntime`
//! wheel in the Python venv (`$PITWALL_VENV`, default `~/.cache/pitwall/venv`), else the system's
//! `libonnxruntime.so` on the loader's search path.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::session::Session;
use ort::session::SessionInputValue;
use ort::value::{Tensor, TensorRef};

use crate::error::{Result, TrainError};
use crate::inputs::{InputColumn, Inputs};

/// The library ONNX Runtime is loaded from: `None` leaves it to the system loader.
pub fn library_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let venv = std::env::var_os("PITWALL_VENV")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/pitwall/venv")))?;
    wheel_library(&venv)
}

/// `lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so*` under a venv.
fn wheel_library(venv: &Path) -> Option<PathBuf> {
    let lib = venv.join("lib");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&lib)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
        .filter_map(|e| std::fs::read_dir(e.path().join("site-packages/onnxruntime/capi")).ok())
        .flat_map(|dir| dir.flatten().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("libonnxruntime.so")))
        .collect();
    found.sort();
    found.pop()
}

/// Loads ONNX Runtime once per process.
fn environment() -> Result<&'static Environment> {
    static ENV: OnceLock<std::result::Result<Environment, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let builder = match library_path() {
            Some(path) => {
                tracing::debug!(library = %path.display(), "loading ONNX Runtime");
                ort::init_from(&path).map_err(|e| format!("cannot load {}: {e}", path.display()))?
            }
            None => ort::init_from("libonnxruntime.so").map_err(|e| {
                format!("no ONNX Runtime library found (set ORT_DYLIB_PATH or install onnxruntime in the venv): {e}")
            })?,
        };
        builder.with_name("pitwall").build().map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| TrainError::RuntimeLoad(e.clone()))
}

/// An ONNX model ready to run.
pub struct OnnxModel {
    session: Session,
    input: String,
    output: String,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel").field("input", &self.input).field("output", &self.output).finish()
    }
}

impl OnnxModel {
    /// Loads the model file; it must have one output.
    pub fn load(path: &Path) -> Result<Self> {
        // ONNX Runtime's threads spin between calls by default, taking the cores that the
        // scan feeding the next call decodes on (a quarter of a scoring run's time).
        let session = Session::builder(environment()?)?
            .with_intra_op_spinning(false)
            .map_err(ort::Error::from)?
            .commit_from_file(path)?;
        let (inputs, outputs) = (session.inputs(), session.outputs());
        if inputs.is_empty() || outputs.len() != 1 {
            return Err(TrainError::model_dir(
                path,
                format!("expected inputs and one output, found {} and {}", inputs.len(), outputs.len()),
            ));
        }
        let input = inputs[0].name().to_string();
        let output = outputs[0].name().to_string();
        Ok(Self { session, input, output })
    }

    /// The name of the model's output.
    pub fn output_name(&self) -> &str {
        &self.output
    }

    /// Runs the named columns of a model of typed inputs and returns the one value per row.
    pub fn run_inputs(&mut self, inputs: Inputs) -> Result<Vec<f64>> {
        let mut feed: Vec<(String, SessionInputValue<'_>)> = Vec::with_capacity(inputs.len());
        for (name, column) in inputs {
            let rows = column.len();
            let value: SessionInputValue<'_> = match column {
                InputColumn::Integer(v) => Tensor::from_array(([rows], v))?.into(),
                InputColumn::Long(v) => Tensor::from_array(([rows], v))?.into(),
                InputColumn::Double(v) => Tensor::from_array(([rows], v))?.into(),
                InputColumn::Text(v) => Tensor::from_string_array(([rows], v.as_slice()))?.into(),
            };
            feed.push((name, value));
        }
        let outputs = self.session.run(feed)?;
        let (_, values) = outputs[self.output.as_str()].try_extract_tensor::<f64>()?;
        Ok(values.to_vec())
    }

    /// Runs rows `x` (row-major, `width` columns) of a model of one matrix input and returns the
    /// one value per row. The rows are read in place, not copied.
    pub fn run(&mut self, x: &[f64], width: usize) -> Result<Vec<f64>> {
        let rows = x.len().checked_div(width).unwrap_or(0);
        let tensor = TensorRef::from_array_view(([rows, width], x))?;
        let outputs = self.session.run(ort::inputs![self.input.as_str() => tensor])?;
        let (_, values) = outputs[self.output.as_str()].try_extract_tensor::<f64>()?;
        Ok(values.to_vec())
    }
}
