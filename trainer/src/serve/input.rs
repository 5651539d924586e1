//! The request bodies of MLflow's scoring protocol, read into the rows a model's signature
//! asks for: JSON with one of `dataframe_split`, `dataframe_records`, `instances` or `inputs`
//! (plus an optional `params`), or CSV with a header line.

use serde_json::{Map, Value};

use super::error::ScoringError;
use crate::features::FeatureSpec;
use crate::inputs::{ColumnType, InputColumn, Inputs};

/// The JSON keys that carry the input, exactly one per request.
pub const INPUT_KEYS: [&str; 4] = ["dataframe_split", "dataframe_records", "instances", "inputs"];

/// Input columns as the request named them, with one cell per row each.
#[derive(Debug, Default, PartialEq)]
pub struct Columns {
    names: Vec<String>,
    cells: Vec<Vec<Value>>,
    rows: usize,
}

impl Columns {
    /// Rows given as objects; a key missing from a row is a missing value (null), as pandas
    /// reads records.
    fn from_records(records: &[Value], what: &str) -> Result<Self, ScoringError> {
        let mut out = Columns { rows: records.len(), ..Columns::default() };
        for (row, record) in records.iter().enumerate() {
            let Value::Object(fields) = record else {
                return Err(ScoringError::input(format!("{what}: row {row} is {}, not an object", kind(record))));
            };
            for (name, value) in fields {
                let column = match out.names.iter().position(|n| n == name) {
                    Some(i) => i,
                    None => {
                        out.names.push(name.clone());
                        out.cells.push(vec![Value::Null; records.len()]);
                        out.names.len() - 1
                    }
                };
                out.cells[column][row] = value.clone();
            }
        }
        Ok(out)
    }

    /// Rows given as arrays, under `names` (or positions when the request gave none).
    fn from_arrays(names: Option<Vec<String>>, rows: &[Value], what: &str) -> Result<Self, ScoringError> {
        let width = match (&names, rows.first()) {
            (Some(n), _) => n.len(),
            (None, Some(Value::Array(first))) => first.len(),
            (None, _) => 0,
        };
        let mut cells = vec![Vec::with_capacity(rows.len()); width];
        for (i, row) in rows.iter().enumerate() {
            let Value::Array(values) = row else {
                return Err(ScoringError::input(format!("{what}: row {i} is {}, not an array", kind(row))));
            };
            if values.len() != width {
                return Err(ScoringError::input(format!(
                    "{what}: row {i} has {} values, but there are {width} columns",
                    values.len()
                )));
            }
            for (column, value) in cells.iter_mut().zip(values) {
                column.push(value.clone());
            }
        }
        let names = names.unwrap_or_else(|| (0..width).map(|i| i.to_string()).collect());
        Ok(Columns { names, cells, rows: rows.len() })
    }

    /// Columns given as `{name: [values…]}`; every column must have the same length.
    fn from_columnar(fields: &Map<String, Value>, what: &str) -> Result<Self, ScoringError> {
        let mut out = Columns::default();
        for (name, values) in fields {
            let values = match values {
                Value::Array(v) => v.clone(),
                scalar => vec![scalar.clone()],
            };
            if !out.names.is_empty() && values.len() != out.rows {
                return Err(ScoringError::input(format!(
                    "{what}: column {name:?} has {} values, but {:?} has {}",
                    values.len(),
                    out.names[0],
                    out.rows
                )));
            }
            out.rows = values.len();
            out.names.push(name.clone());
            out.cells.push(values);
        }
        Ok(out)
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The position of each of `schema`'s columns in the request; a column the request lacks
    /// is an error naming it.
    fn positions(&self, schema: &[String]) -> Result<Vec<usize>, ScoringError> {
        let missing: Vec<&str> = schema.iter().filter(|c| !self.names.contains(c)).map(String::as_str).collect();
        if !missing.is_empty() {
            const SHOWN: usize = 8;
            let more = match missing.len().saturating_sub(SHOWN) {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            return Err(ScoringError::Schema(format!(
                "the model is missing inputs {:?}{more}; it takes {} named columns (see its signature)",
                &missing[..missing.len().min(SHOWN)],
                schema.len()
            )));
        }
        Ok(schema.iter().map(|c| self.names.iter().position(|n| n == c).expect("checked above")).collect())
    }

    /// The matrix of `schema`'s columns in order, row-major, as numbers. Columns the schema
    /// does not name are ignored; a null is a missing value (NaN), which the model handles.
    pub fn to_matrix(&self, schema: &[String]) -> Result<Vec<f64>, ScoringError> {
        let positions = self.positions(schema)?;
        let mut out = Vec::with_capacity(self.rows * schema.len());
        for row in 0..self.rows {
            for (&column, name) in positions.iter().zip(schema) {
                out.push(number(&self.cells[column][row], name, row)?);
            }
        }
        Ok(out)
    }

    /// The typed inputs of `spec` (see [`crate::inputs`]): numbers of a `double` column as in
    /// [`Self::to_matrix`]; an integer column takes whole numbers only, as MLflow's signature
    /// check does; the team takes strings, a null being an unknown team. Columns the model does
    /// not take are ignored.
    pub fn to_inputs(&self, spec: &FeatureSpec) -> Result<Inputs, ScoringError> {
        let names = spec.input_names();
        let positions = self.positions(&names)?;
        let mut out = Vec::with_capacity(names.len());
        for (k, (name, &column)) in names.into_iter().zip(&positions).enumerate() {
            let cells = &self.cells[column];
            let values = match spec.numeric_types.get(k) {
                Some(ColumnType::Double) => InputColumn::Double(
                    cells.iter().enumerate().map(|(row, v)| number(v, &name, row)).collect::<Result<_, _>>()?,
                ),
                Some(ColumnType::Integer) => InputColumn::Integer(
                    cells
                        .iter()
                        .enumerate()
                        .map(|(row, v)| {
                            let n = whole(v, &name, row, "integer")?;
                            i32::try_from(n).map_err(|_| bad_cell_as(&name, row, v, "integer"))
                        })
                        .collect::<Result<_, _>>()?,
                ),
                Some(ColumnType::Long) => InputColumn::Long(
                    cells.iter().enumerate().map(|(row, v)| whole(v, &name, row, "long")).collect::<Result<_, _>>()?,
                ),
                None => InputColumn::Text(
                    cells
                        .iter()
                        .map(|v| match v {
                            Value::String(s) => s.clone(),
                            Value::Null => String::new(),
                            other => other.to_string(),
                        })
                        .collect(),
                ),
            };
            out.push((name, values));
        }
        Ok(out)
    }
}

/// A cell of an integer column: a JSON integer, or a number with no fraction (CSV cells are
/// read as numbers).
fn whole(value: &Value, column: &str, row: usize, kind: &str) -> Result<i64, ScoringError> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
            .ok_or_else(|| bad_cell_as(column, row, value, kind)),
        _ => Err(bad_cell_as(column, row, value, kind)),
    }
}

/// A cell as a double, as the signature's `double` type accepts it.
fn number(value: &Value, column: &str, row: usize) -> Result<f64, ScoringError> {
    match value {
        Value::Number(n) => n.as_f64().ok_or_else(|| bad_cell(column, row, value)),
        Value::Null => Ok(f64::NAN),
        Value::String(s) if matches!(s.as_str(), "NaN" | "nan") => Ok(f64::NAN),
        _ => Err(bad_cell(column, row, value)),
    }
}

fn bad_cell(column: &str, row: usize, value: &Value) -> ScoringError {
    bad_cell_as(column, row, value, "double")
}

fn bad_cell_as(column: &str, row: usize, value: &Value, kind: &str) -> ScoringError {
    ScoringError::input(format!(
        "incompatible input types for column {column:?}: row {row} holds {}, which cannot be converted to {kind}",
        short(value)
    ))
}

/// A JSON body: exactly one input key (and perhaps `params`).
pub fn parse_json(body: &[u8]) -> Result<Columns, ScoringError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ScoringError::input(format!("the body is not valid JSON: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(ScoringError::input(format!(
            "{}. Received {}.",
            required_format(),
            if value.is_array() { "a list".to_string() } else { kind(&value).to_string() }
        )));
    };
    let present: Vec<&str> = INPUT_KEYS.iter().copied().filter(|k| fields.contains_key(*k)).collect();
    let &[key] = present.as_slice() else {
        let received: Vec<&String> = fields.keys().collect();
        return Err(ScoringError::input(format!(
            "{}. Received a dictionary with input fields: {received:?}.",
            required_format()
        )));
    };
    let input = &fields[key];
    match (key, input) {
        ("dataframe_split", Value::Object(split)) => dataframe_split(split),
        ("dataframe_records", Value::Array(records)) => Columns::from_records(records, key),
        ("instances" | "inputs", Value::Array(rows)) if rows.iter().all(Value::is_object) => {
            Columns::from_records(rows, key)
        }
        ("instances" | "inputs", Value::Array(rows)) => Columns::from_arrays(None, rows, key),
        ("inputs", Value::Object(columns)) => Columns::from_columnar(columns, key),
        (_, other) => Err(ScoringError::input(format!("{key} must not be {}", kind(other)))),
    }
}

/// pandas' `split` orientation: `columns`, `data` and an ignored `index`.
fn dataframe_split(split: &Map<String, Value>) -> Result<Columns, ScoringError> {
    if let Some(unknown) = split.keys().find(|k| !matches!(k.as_str(), "columns" | "data" | "index")) {
        return Err(ScoringError::input(format!(
            "dataframe_split takes \"columns\", \"data\" and \"index\", not {unknown:?}"
        )));
    }
    let names = match split.get("columns") {
        None | Some(Value::Null) => None,
        Some(Value::Array(names)) => Some(
            names
                .iter()
                .map(|n| match n {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
        ),
        Some(other) => {
            return Err(ScoringError::input(format!("dataframe_split columns must be a list, not {}", kind(other))));
        }
    };
    match split.get("data") {
        None | Some(Value::Null) => Ok(Columns::from_arrays(names, &[], "dataframe_split data")?),
        Some(Value::Array(rows)) => Columns::from_arrays(names, rows, "dataframe_split data"),
        Some(other) => {
            Err(ScoringError::input(format!("dataframe_split data must be a list of rows, not {}", kind(other))))
        }
    }
}

/// A CSV body with a header line, as pandas' `to_csv(index=False)` writes it.
pub fn parse_csv(body: &[u8]) -> Result<Columns, ScoringError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(body);
    let names: Vec<String> = reader
        .headers()
        .map_err(|e| ScoringError::input(format!("the body is not valid CSV: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut cells = vec![Vec::new(); names.len()];
    let mut rows = 0;
    for record in reader.records() {
        let record = record.map_err(|e| ScoringError::input(format!("the body is not valid CSV: {e}")))?;
        for (column, field) in cells.iter_mut().zip(record.iter()) {
            let field = field.trim();
            column.push(if field.is_empty() {
                Value::Null
            } else {
                field.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or_else(
                    || if field.eq_ignore_ascii_case("nan") { Value::Null } else { Value::String(field.to_owned()) },
                    Value::Number,
                )
            });
        }
        rows += 1;
    }
    Ok(Columns { names, cells, rows })
}

fn required_format() -> String {
    format!("The input must be a JSON dictionary with exactly one of the input fields {INPUT_KEYS:?}")
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A value for an error message, cut short.
fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Vec<String> {
        vec!["a".into(), "b".into()]
    }

    fn matrix(body: Value) -> Result<Vec<f64>, ScoringError> {
        parse_json(body.to_string().as_bytes())?.to_matrix(&schema())
    }

    #[test]
    fn the_four_json_forms_give_the_same_rows() {
        let want = vec![1.0, 2.0, 3.0, 4.5];
        let split = json!({"dataframe_split": {"columns": ["b", "a"], "data": [[2, 1], [4.5, 3]], "index": [7, 8]}});
        assert_eq!(matrix(split).unwrap(), want);
        let records = json!({"dataframe_records": [{"a": 1, "b": 2}, {"b": 4.5, "a": 3, "extra": "x"}]});
        assert_eq!(matrix(records).unwrap(), want);
        let instances = json!({"instances": [{"a": 1, "b": 2}, {"a": 3, "b": 4.5}]});
        assert_eq!(matrix(instances).unwrap(), want);
        let inputs = json!({"inputs": {"a": [1, 3], "b": [2, 4.5]}, "params": {"k": 1}});
        assert_eq!(matrix(inputs).unwrap(), want);
    }

    #[test]
    fn nulls_and_missing_record_keys_are_missing_values() {
        let got = matrix(json!({"dataframe_records": [{"a": 1}, {"a": null, "b": 2}]})).unwrap();
        assert_eq!(got[0], 1.0);
        assert!(got[1].is_nan() && got[2].is_nan());
        assert_eq!(got[3], 2.0);
    }

    #[test]
    fn bad_bodies_are_input_errors_naming_the_cause() {
        let cases = [
            (json!([1, 2]), "Received a list"),
            (json!({"data": []}), "exactly one of the input fields"),
            (json!({"instances": [], "inputs": []}), "exactly one of the input fields"),
            (json!({"dataframe_split": {"columns": ["a"], "data": [[1]]}}), "missing inputs [\"b\"]"),
            (json!({"dataframe_split": {"columns": ["a", "b"], "data": [[1]]}}), "row 0 has 1 values"),
            (json!({"dataframe_records": [{"a": "x", "b": 1}]}), "column \"a\""),
            (json!({"inputs": {"a": [1, 2], "b": [1]}}), "has 1 values"),
            (json!({"dataframe_split": "text"}), "must not be a string"),
        ];
        for (body, needle) in cases {
            let err = matrix(body.clone()).unwrap_err();
            assert!(err.to_string().contains(needle), "{body}: {err}");
        }
        let err = parse_json(b"{not json").unwrap_err();
        assert!(err.to_string().contains("not valid JSON"), "{err}");
    }

    #[test]
    fn typed_columns_take_whole_numbers_and_strings() {
        let spec = FeatureSpec {
            numeric: vec!["a".into(), "n".into()],
            numeric_types: vec![ColumnType::Double, ColumnType::Long],
            categorical: "team".into(),
            categories: vec![],
            missing_value: -1.0,
        };
        let body = json!({"dataframe_records": [{"a": 1.5, "n": 3, "team": "x"}, {"a": null, "n": 4.0, "team": null}]});
        let inputs = parse_json(body.to_string().as_bytes()).unwrap().to_inputs(&spec).unwrap();
        assert_eq!(inputs[1], ("n".to_string(), InputColumn::Long(vec![3, 4])));
        assert_eq!(inputs[2], ("team".to_string(), InputColumn::Text(vec!["x".into(), String::new()])));
        let InputColumn::Double(a) = &inputs[0].1 else { panic!("{inputs:?}") };
        assert!(a[0] == 1.5 && a[1].is_nan());
        for bad in [json!(2.5), json!(null), json!("3")] {
            let body = json!({"dataframe_records": [{"a": 1, "n": bad, "team": "x"}]});
            let err = parse_json(body.to_string().as_bytes()).unwrap().to_inputs(&spec).unwrap_err();
            assert!(err.to_string().contains("converted to long"), "{bad}: {err}");
        }
    }

    #[test]
    fn csv_with_a_header_line() {
        let cols = parse_csv(b"b,a\n2,1\n,3\n").unwrap();
        let got = cols.to_matrix(&schema()).unwrap();
        assert_eq!(got[0], 1.0);
        assert_eq!(got[1], 2.0);
        assert_eq!(got[2], 3.0);
        assert!(got[3].is_nan());
        let err = parse_csv(b"a,b\nx,1\n").unwrap().to_matrix(&schema()).unwrap_err();
        assert!(err.to_string().contains("\"x\""), "{err}");
    }
}
