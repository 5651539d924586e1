//! Feature-store rows to score, kept as the Arrow batches they were read in: checked once
//! against the model's features, encoded into its input a chunk at a time, and their keys
//! carried to the output without a copy per row.

use deltalake::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use deltalake::arrow::compute::{cast, concat};
use deltalake::arrow::datatypes::{DataType, Float64Type};
use ndarray::Array2;

use crate::error::{Result, TrainError};
use crate::features::FeatureSpec;
use crate::frame::{column, string_column, type_error};
use crate::inputs::{self, Inputs};

/// Rows of `table` with the columns a [`FeatureSpec`] reads, plus the row keys.
#[derive(Debug, Clone)]
pub struct FeatureRows {
    table: String,
    batches: Vec<RecordBatch>,
    rows: usize,
}

/// String arrays one after the other, as one; none make an empty one.
pub(crate) fn concat_strings(parts: &[ArrayRef]) -> Result<ArrayRef> {
    if parts.is_empty() {
        return Ok(deltalake::arrow::array::new_empty_array(&DataType::Utf8));
    }
    let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
    Ok(concat(&refs)?)
}

impl FeatureRows {
    /// Checks `batches` against `features`: every numeric feature is a number column, the
    /// categorical one a string column, and the key columns `keys` are strings without nulls.
    pub fn new(table: &str, batches: Vec<RecordBatch>, features: &FeatureSpec, keys: &[&str]) -> Result<Self> {
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        let checked = Self { table: table.to_string(), batches, rows };
        for batch in &checked.batches {
            for name in &features.numeric {
                let col = column(&checked.table, batch, name)?;
                if !col.data_type().is_numeric() {
                    return Err(type_error(&checked.table, name, "a number", col.data_type()));
                }
            }
            string_column(&checked.table, batch, &features.categorical)?;
            for key in keys {
                let col = string_column(&checked.table, batch, key)?;
                if col.null_count() > 0 {
                    return Err(TrainError::NullValues {
                        table: checked.table.clone(),
                        column: key.to_string(),
                        count: col.null_count(),
                    });
                }
            }
        }
        Ok(checked)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// String column `name` of every row, as one array.
    pub fn strings(&self, name: &str) -> Result<ArrayRef> {
        let parts = self
            .batches
            .iter()
            .map(|b| Ok(cast(string_column(&self.table, b, name)?, &DataType::Utf8)?))
            .collect::<Result<Vec<ArrayRef>>>()?;
        concat_strings(&parts)
    }

    /// Calls `run` with consecutive chunks of at most `chunk` rows, as the slices of the
    /// batches that hold them.
    fn for_each_slice(&self, chunk: usize, mut run: impl FnMut(&[RecordBatch], usize) -> Result<()>) -> Result<()> {
        let chunk = chunk.max(1);
        let mut slices = Vec::new();
        let mut rows = 0;
        for batch in &self.batches {
            let mut start = 0;
            while start < batch.num_rows() {
                let take = (chunk - rows).min(batch.num_rows() - start);
                slices.push(batch.slice(start, take));
                start += take;
                rows += take;
                if rows == chunk {
                    run(&slices, rows)?;
                    slices.clear();
                    rows = 0;
                }
            }
        }
        if rows > 0 {
            run(&slices, rows)?;
        }
        Ok(())
    }

    /// Calls `run` with consecutive chunks of at most `chunk` rows, encoded by `features`
    /// (row-major, `features.width()` values a row). The buffer is reused from chunk to chunk.
    pub fn for_each_chunk(
        &self,
        features: &FeatureSpec,
        chunk: usize,
        mut run: impl FnMut(&[f64], usize) -> Result<()>,
    ) -> Result<()> {
        let mut buf = Vec::with_capacity(chunk.max(1).min(self.rows) * features.width());
        self.for_each_slice(chunk, |slices, rows| {
            buf.clear();
            for slice in slices {
                self.encode(features, slice, &mut buf)?;
            }
            run(&buf, rows)
        })
    }

    /// Calls `run` with consecutive chunks of at most `chunk` rows, as the typed inputs of
    /// `features` (see [`crate::inputs`]).
    pub fn for_each_input_chunk(
        &self,
        features: &FeatureSpec,
        chunk: usize,
        mut run: impl FnMut(Inputs) -> Result<()>,
    ) -> Result<()> {
        self.for_each_slice(chunk, |slices, _| run(inputs::from_batches(&self.table, slices, features)?))
    }

    /// Every row encoded by `features`, one matrix row each.
    pub fn matrix(&self, features: &FeatureSpec) -> Result<Array2<f64>> {
        let mut all = Vec::with_capacity(self.rows * features.width());
        for batch in &self.batches {
            self.encode(features, batch, &mut all)?;
        }
        Ok(Array2::from_shape_vec((self.rows, features.width()), all).expect("one row of width values per row"))
    }

    /// Appends `batch`'s rows to `out`, encoded as [`FeatureSpec::matrix`] encodes a frame:
    /// numbers as they are (nulls and NaN as the missing value), then the team one-hot.
    fn encode(&self, features: &FeatureSpec, batch: &RecordBatch, out: &mut Vec<f64>) -> Result<()> {
        let width = features.width();
        let first = out.len();
        out.resize(first + batch.num_rows() * width, 0.0);
        let data = &mut out[first..];
        let numeric = features
            .numeric
            .iter()
            .map(|name| Ok(cast(column(&self.table, batch, name)?, &DataType::Float64)?))
            .collect::<Result<Vec<ArrayRef>>>()?;
        // Column values are scattered into rows a block at a time, so that the strided writes
        // stay within a cache-sized part of the output.
        const BLOCK: usize = 256;
        for block in (0..batch.num_rows()).step_by(BLOCK) {
            let end = (block + BLOCK).min(batch.num_rows());
            for (j, col) in numeric.iter().enumerate() {
                let col = col.as_primitive::<Float64Type>();
                let values = &col.values()[block..end];
                let nulls = col.nulls();
                for (i, v) in values.iter().enumerate() {
                    let row = block + i;
                    let missing = v.is_nan() || nulls.is_some_and(|n| n.is_null(row));
                    data[row * width + j] = if missing { features.missing_value } else { *v };
                }
            }
        }
        let teams = cast(string_column(&self.table, batch, &features.categorical)?, &DataType::Utf8)?;
        let offset = features.numeric.len();
        for (row, team) in teams.as_string::<i32>().iter().enumerate() {
            if let Some(k) = team.and_then(|t| features.categories.binary_search_by(|c| c.as_str().cmp(t)).ok()) {
                data[row * width + offset + k] = 1.0;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use deltalake::arrow::array::{Float64Array, Int32Array, StringArray, StringViewArray};
    use deltalake::arrow::datatypes::{Field, Schema};

    use super::*;
    use crate::frame::Frame;
    use crate::inputs::ColumnType;

    fn batch(drivers: &[&str], teams: &[Option<&str>], x: &[Option<f64>], n: &[Option<i32>]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("idDriver", DataType::Utf8, false),
            Field::new("dtRef", DataType::Utf8, false),
            Field::new("idTeam", DataType::Utf8View, true),
            Field::new("x", DataType::Float64, true),
            Field::new("n", DataType::Int32, true),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(drivers)),
            Arc::new(StringArray::from_iter_values(drivers.iter().map(|_| "2020-01-01"))),
            Arc::new(teams.iter().copied().collect::<StringViewArray>()),
            Arc::new(x.iter().copied().collect::<Float64Array>()),
            Arc::new(n.iter().copied().collect::<Int32Array>()),
        ];
        RecordBatch::try_new(schema, columns).unwrap()
    }

    fn batches() -> Vec<RecordBatch> {
        vec![
            batch(
                &["a", "b", "c"],
                &[Some("mclaren"), None, Some("brabham")],
                &[Some(1.0), None, Some(f64::NAN)],
                &[Some(3), Some(4), None],
            ),
            batch(&["d", "e"], &[Some("ferrari"), Some("mclaren")], &[Some(-2.5), Some(0.0)], &[None, Some(7)]),
        ]
    }

    fn spec() -> FeatureSpec {
        FeatureSpec {
            numeric: vec!["x".into(), "n".into()],
            numeric_types: vec![ColumnType::Double, ColumnType::Integer],
            categorical: "idTeam".into(),
            categories: vec!["ferrari".into(), "mclaren".into()],
            missing_value: -10_000.0,
        }
    }

    #[test]
    fn batches_encode_as_the_training_frame_does_in_every_chunking() {
        let rows = FeatureRows::new("t", batches(), &spec(), &["idDriver"]).unwrap();
        let frame = Frame::from_batches("t", &batches(), &spec().numeric, false).unwrap();
        let want = spec().matrix(&frame);
        assert_eq!(rows.matrix(&spec()).unwrap(), want);
        for chunk in 1..=6 {
            let mut got = Vec::new();
            let mut sizes = Vec::new();
            rows.for_each_chunk(&spec(), chunk, |x, n| {
                assert_eq!(x.len(), n * spec().width());
                got.extend_from_slice(x);
                sizes.push(n);
                Ok(())
            })
            .unwrap();
            assert_eq!(got, want.as_slice().unwrap(), "chunks of {chunk}");
            let (last, full) = sizes.split_last().unwrap();
            assert!(full.iter().all(|&n| n == chunk) && *last <= chunk, "chunks of {chunk}: {sizes:?}");
        }
        assert_eq!(
            rows.strings("idDriver").unwrap().as_string::<i32>().iter().flatten().collect::<Vec<_>>(),
            ["a", "b", "c", "d", "e"]
        );
    }

    #[test]
    fn wrong_columns_are_named() {
        let mut other = spec();
        other.numeric.push("missing".into());
        let err = FeatureRows::new("t", batches(), &other, &["idDriver"]).unwrap_err();
        assert!(matches!(err, TrainError::MissingColumn { ref column, .. } if column == "missing"), "{err}");
        let mut other = spec();
        other.numeric.push("idDriver".into());
        let err = FeatureRows::new("t", batches(), &other, &["idDriver"]).unwrap_err();
        assert!(matches!(err, TrainError::ColumnType { ref column, .. } if column == "idDriver"), "{err}");
        let err = FeatureRows::new("t", batches(), &spec(), &["x"]).unwrap_err();
        assert!(matches!(err, TrainError::ColumnType { ref column, .. } if column == "x"), "{err}");
        let err = FeatureRows::new("t", batches(), &spec(), &["idTeam"]).unwrap_err();
        assert!(matches!(err, TrainError::NullValues { count: 1, .. }), "{err}");
    }
}
