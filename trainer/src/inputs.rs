//! The model's inputs as MLflow's signature and the ONNX graph name them: one column per
//! feature-store column, each with its own type (integers as integers, `idTeam` as a string),
//! so that rows read from the lake go to the model unchanged.

use deltalake::arrow::array::{AsArray, RecordBatch};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::features::FeatureSpec;
use crate::frame::{column, string_column};

/// The type of a numeric input, named as MLflow's column specs name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// 32-bit integer (`int32`).
    Integer,
    /// 64-bit integer (`int64`).
    Long,
    /// 64-bit float (`float64`).
    Double,
}

impl ColumnType {
    /// The type a lake column of `arrow` type is given: integers that fit 32 bits as
    /// `integer`, other integers as `long`, everything else as `double`. MLflow upcasts a
    /// narrower pandas column to these without loss, so the signature accepts the lake's rows.
    pub fn of(arrow: &DataType) -> Self {
        match arrow {
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::UInt8 | DataType::UInt16 => {
                ColumnType::Integer
            }
            DataType::Int64 | DataType::UInt32 | DataType::UInt64 => ColumnType::Long,
            _ => ColumnType::Double,
        }
    }

    /// MLflow's name of the type.
    pub fn mlflow_name(self) -> &'static str {
        match self {
            ColumnType::Integer => "integer",
            ColumnType::Long => "long",
            ColumnType::Double => "double",
        }
    }

    /// The Arrow type values are read as.
    fn arrow(self) -> DataType {
        match self {
            ColumnType::Integer => DataType::Int32,
            ColumnType::Long => DataType::Int64,
            ColumnType::Double => DataType::Float64,
        }
    }
}

/// The values of one input, one per row.
#[derive(Debug, Clone, PartialEq)]
pub enum InputColumn {
    Integer(Vec<i32>),
    Long(Vec<i64>),
    /// Missing values are NaN: the graph replaces them.
    Double(Vec<f64>),
    /// Missing values are the empty string, which is no category: the graph encodes it as an
    /// unknown team.
    Text(Vec<String>),
}

impl InputColumn {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            InputColumn::Integer(v) => v.len(),
            InputColumn::Long(v) => v.len(),
            InputColumn::Double(v) => v.len(),
            InputColumn::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn extend(&mut self, other: InputColumn) {
        match (self, other) {
            (InputColumn::Integer(a), InputColumn::Integer(b)) => a.extend(b),
            (InputColumn::Long(a), InputColumn::Long(b)) => a.extend(b),
            (InputColumn::Double(a), InputColumn::Double(b)) => a.extend(b),
            (InputColumn::Text(a), InputColumn::Text(b)) => a.extend(b),
            _ => unreachable!("one input keeps one type"),
        }
    }
}

/// Named inputs in the signature's order.
pub type Inputs = Vec<(String, InputColumn)>;

/// The inputs of `features` read from `batches` of `table`: each numeric column cast to its
/// type (an integer column must not hold nulls, as MLflow's signature check refuses them
/// too), the categorical one as strings.
pub fn from_batches(table: &str, batches: &[RecordBatch], features: &FeatureSpec) -> Result<Inputs> {
    let mut out: Inputs = Vec::with_capacity(features.numeric.len() + 1);
    for (k, batch) in batches.iter().enumerate() {
        let mut columns = Vec::with_capacity(features.numeric.len() + 1);
        for (name, kind) in features.numeric.iter().zip(&features.numeric_types) {
            let col = column(table, batch, name)?;
            if *kind != ColumnType::Double && col.null_count() > 0 {
                return Err(TrainError::NullValues {
                    table: table.to_string(),
                    column: name.clone(),
                    count: col.null_count(),
                });
            }
            let col = cast(col, &kind.arrow())?;
            columns.push(match kind {
                ColumnType::Integer => InputColumn::Integer(col.as_primitive::<Int32Type>().values().to_vec()),
                ColumnType::Long => InputColumn::Long(col.as_primitive::<Int64Type>().values().to_vec()),
                ColumnType::Double => InputColumn::Double(
                    col.as_primitive::<Float64Type>().iter().map(|v| v.unwrap_or(f64::NAN)).collect(),
                ),
            });
        }
        let teams = cast(string_column(table, batch, &features.categorical)?, &DataType::Utf8)?;
        columns.push(InputColumn::Text(
            teams.as_string::<i32>().iter().map(|t| t.unwrap_or_default().to_string()).collect(),
        ));
        if k == 0 {
            out = features.input_names().into_iter().zip(columns).collect();
        } else {
            for ((_, dst), src) in out.iter_mut().zip(columns) {
                dst.extend(src);
            }
        }
    }
    if batches.is_empty() {
        out = features.input_names().into_iter().zip(empty(features)).collect();
    }
    Ok(out)
}

/// Inputs of no rows.
fn empty(features: &FeatureSpec) -> Vec<InputColumn> {
    let mut columns: Vec<InputColumn> = features
        .numeric_types
        .iter()
        .map(|kind| match kind {
            ColumnType::Integer => InputColumn::Integer(Vec::new()),
            ColumnType::Long => InputColumn::Long(Vec::new()),
            ColumnType::Double => InputColumn::Double(Vec::new()),
        })
        .collect();
    columns.push(InputColumn::Text(Vec::new()));
    columns
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use deltalake::arrow::array::{ArrayRef, Float64Array, Int32Array, Int64Array, StringArray};
    use deltalake::arrow::datatypes::{Field, Schema};

    use super::*;

    fn spec() -> FeatureSpec {
        FeatureSpec {
            numeric: vec!["n".into(), "q".into(), "x".into()],
            numeric_types: vec![ColumnType::Integer, ColumnType::Long, ColumnType::Double],
            categorical: "idTeam".into(),
            categories: vec!["ferrari".into()],
            missing_value: -10_000.0,
        }
    }

    fn batch(n: Vec<Option<i32>>, teams: Vec<Option<&str>>) -> RecordBatch {
        let rows = n.len();
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int32, true),
            Field::new("q", DataType::Int64, true),
            Field::new("x", DataType::Float64, true),
            Field::new("idTeam", DataType::Utf8, true),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from(n)),
            Arc::new(Int64Array::from_iter_values((0..rows as i64).map(|i| i * 10))),
            Arc::new(Float64Array::from_iter((0..rows).map(|i| (i % 2 == 0).then_some(i as f64 / 2.0)))),
            Arc::new(StringArray::from(teams)),
        ];
        RecordBatch::try_new(schema, columns).unwrap()
    }

    #[test]
    fn columns_keep_their_types_across_batches_and_missing_values_are_marked() {
        let batches =
            [batch(vec![Some(1), Some(2)], vec![Some("ferrari"), None]), batch(vec![Some(3)], vec![Some("brabham")])];
        let inputs = from_batches("t", &batches, &spec()).unwrap();
        let names: Vec<&str> = inputs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["n", "q", "x", "idTeam"]);
        assert_eq!(inputs[0].1, InputColumn::Integer(vec![1, 2, 3]));
        assert_eq!(inputs[1].1, InputColumn::Long(vec![0, 10, 0]));
        let InputColumn::Double(x) = &inputs[2].1 else { panic!("{:?}", inputs[2]) };
        assert_eq!(x[0], 0.0);
        assert!(x[1].is_nan());
        assert_eq!(inputs[3].1, InputColumn::Text(vec!["ferrari".into(), String::new(), "brabham".into()]));
        assert!(from_batches("t", &[], &spec()).unwrap().iter().all(|(_, c)| c.is_empty()));
    }

    #[test]
    fn a_null_in_an_integer_column_is_refused() {
        let err = from_batches("t", &[batch(vec![Some(1), None], vec![None, None])], &spec()).unwrap_err();
        assert!(matches!(err, TrainError::NullValues { ref column, count: 1, .. } if column == "n"), "{err}");
    }

    #[test]
    fn lake_types_map_to_mlflow_types() {
        assert_eq!(ColumnType::of(&DataType::Int32), ColumnType::Integer);
        assert_eq!(ColumnType::of(&DataType::Int64), ColumnType::Long);
        assert_eq!(ColumnType::of(&DataType::Float32), ColumnType::Double);
        assert_eq!(serde_json::to_string(&ColumnType::Long).unwrap(), "\"long\"");
    }
}
