//! What a model version page shows of a model's `MLmodel` file: its flavors, the files they
//! name, the signature and where the input example is. MLflow writes the signature's inputs
//! and outputs as JSON strings inside the YAML.

use serde_json::Value;

/// One input or output of a signature.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpec {
    /// Unnamed tensors have no name.
    pub name: String,
    /// `double`, `string`, … or `tensor float32 [-1, 65]`.
    pub kind: String,
    pub required: bool,
}

/// The parts of an `MLmodel` a page shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MlModel {
    pub flavors: Vec<String>,
    /// Files the flavors name (`data`, `model_data`, …), relative to the model's root.
    pub files: Vec<String>,
    pub inputs: Option<Vec<ColumnSpec>>,
    pub outputs: Option<Vec<ColumnSpec>>,
    /// The input example's file, relative to the model's root.
    pub input_example: Option<String>,
}

/// Reads the text of an `MLmodel` file.
pub fn parse(text: &str) -> Result<MlModel, String> {
    let doc: Value = serde_norway::from_str(text).map_err(|e| format!("MLmodel is not YAML: {e}"))?;
    let mut out = MlModel::default();
    if let Some(flavors) = doc.get("flavors").and_then(Value::as_object) {
        for (name, flavor) in flavors {
            out.flavors.push(name.clone());
            for key in ["data", "model_data", "pickled_model", "model_path"] {
                if let Some(f) = flavor.get(key).and_then(Value::as_str)
                    && !out.files.iter().any(|x| x == f)
                {
                    out.files.push(f.to_owned());
                }
            }
        }
    }
    if let Some(sig) = doc.get("signature") {
        out.inputs = columns(sig.get("inputs"))?;
        out.outputs = columns(sig.get("outputs"))?;
    }
    out.input_example = doc
        .get("saved_input_example_info")
        .and_then(|i| i.get("artifact_path"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(out)
}

/// A signature part: a JSON string (as MLflow writes it) or already a list.
fn columns(v: Option<&Value>) -> Result<Option<Vec<ColumnSpec>>, String> {
    let list = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => serde_json::from_str::<Value>(s).map_err(|e| format!("signature: {e}"))?,
        Some(other) => other.clone(),
    };
    let Some(items) = list.as_array() else { return Err("signature: not a list of columns".into()) };
    Ok(Some(
        items
            .iter()
            .map(|c| {
                let text = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
                let mut kind = text("type");
                if let Some(t) = c.get("tensor-spec") {
                    let dtype = t.get("dtype").and_then(Value::as_str).unwrap_or("?");
                    let shape = t.get("shape").map(Value::to_string).unwrap_or_default();
                    kind = format!("tensor {dtype} {shape}");
                }
                ColumnSpec {
                    name: text("name"),
                    kind,
                    required: c.get("required").and_then(Value::as_bool).unwrap_or(true),
                }
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mlflow_signatures() {
        let text = r#"
flavors:
  onnx:
    data: model.onnx
    onnx_version: 1.17.0
  python_function:
    data: model.onnx
    loader_module: mlflow.onnx
saved_input_example_info:
  artifact_path: input_example.json
  type: dataframe
signature:
  inputs: '[{"type": "double", "name": "avgPosition", "required": true}, {"type": "string", "name": "team", "required": false}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}]'
  params: null
"#;
        let m = parse(text).unwrap();
        assert_eq!(m.flavors, ["onnx", "python_function"]);
        assert_eq!(m.files, ["model.onnx"]);
        let inputs = m.inputs.unwrap();
        assert_eq!(inputs[0], ColumnSpec { name: "avgPosition".into(), kind: "double".into(), required: true });
        assert!(!inputs[1].required);
        assert_eq!(m.outputs.unwrap()[0].kind, "tensor float32 [-1,2]");
        assert_eq!(m.input_example.as_deref(), Some("input_example.json"));
        assert!(parse("flavors: [").is_err());
    }
}
