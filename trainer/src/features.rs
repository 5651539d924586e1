//! The model's encoding: the numeric features as they are, then `idTeam` one-hot encoded over
//! the teams seen in training (a team not seen then encodes as all zeros). Missing numbers are
//! replaced by a constant far outside every feature's range, as the seed's pipeline does. The
//! logged model takes the raw columns ([`FeatureSpec::input_names`]) and encodes them inside
//! its graph; the learners work on the encoded matrix ([`FeatureSpec::names`]).

use std::collections::BTreeSet;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::frame::{Frame, TEAM};
use crate::inputs::ColumnType;

/// What missing numeric values are replaced with (the seed's `ArbitraryNumberImputer`).
pub const MISSING_VALUE: f64 = -10_000.0;

/// How rows become the model's feature vectors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    /// Numeric columns, in input order.
    pub numeric: Vec<String>,
    /// Their types as the lake holds them. Empty in models written before the graph took
    /// typed columns: those take one double matrix of the encoded columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numeric_types: Vec<ColumnType>,
    /// The one-hot encoded column.
    pub categorical: String,
    /// Its categories, in input order after the numeric columns.
    pub categories: Vec<String>,
    /// The value a missing number is replaced with.
    pub missing_value: f64,
}

impl FeatureSpec {
    /// The encoding learnt from `frame`: its numeric columns and the teams it holds, sorted.
    pub fn fit(frame: &Frame) -> Self {
        let categories: BTreeSet<&str> = frame.teams.iter().flatten().map(String::as_str).collect();
        Self {
            numeric: frame.numeric_names.clone(),
            numeric_types: frame.numeric_types.clone(),
            categorical: TEAM.to_string(),
            categories: categories.into_iter().map(str::to_string).collect(),
            missing_value: MISSING_VALUE,
        }
    }

    /// The input column names: the numeric ones, then `idTeam_<team>` for each category.
    pub fn names(&self) -> Vec<String> {
        let mut names = self.numeric.clone();
        names.extend(self.categories.iter().map(|c| self.one_hot_name(c)));
        names
    }

    /// Whether the model takes typed raw columns (else one matrix of the encoded ones).
    pub fn typed(&self) -> bool {
        !self.numeric_types.is_empty()
    }

    /// The model's input columns, as its signature names them: the numeric ones and the
    /// categorical one, raw; for an older model, the encoded columns.
    pub fn input_names(&self) -> Vec<String> {
        if !self.typed() {
            return self.names();
        }
        let mut names = self.numeric.clone();
        names.push(self.categorical.clone());
        names
    }

    /// The column name of one category's indicator.
    pub fn one_hot_name(&self, category: &str) -> String {
        format!("{}_{category}", self.categorical)
    }

    /// Number of input columns.
    pub fn width(&self) -> usize {
        self.numeric.len() + self.categories.len()
    }

    /// The feature matrix of `frame`, one row per frame row. `frame` must have been read with
    /// this spec's numeric columns, in order.
    pub fn matrix(&self, frame: &Frame) -> Array2<f64> {
        self.matrix_rows(frame, 0..frame.len())
    }

    /// The feature matrix of the frame rows in `rows`.
    pub fn matrix_rows(&self, frame: &Frame, rows: std::ops::Range<usize>) -> Array2<f64> {
        debug_assert_eq!(frame.numeric_names, self.numeric, "frame read with other columns");
        let width = self.width();
        let mut x = Array2::zeros((rows.len(), width));
        // Columns are copied into the row-major matrix a block of rows at a time, so that the
        // strided writes stay within a cache-sized block instead of striding the whole matrix.
        const BLOCK: usize = 256;
        let data = x.as_slice_mut().expect("a new array is contiguous");
        for start in rows.clone().step_by(BLOCK) {
            let end = (start + BLOCK).min(rows.end);
            let out_row = start - rows.start;
            for (j, col) in frame.numeric.iter().enumerate() {
                for (i, v) in col[start..end].iter().enumerate() {
                    data[(out_row + i) * width + j] = if v.is_nan() { self.missing_value } else { *v };
                }
            }
        }
        let offset = self.numeric.len();
        for (i, team) in frame.teams[rows].iter().enumerate() {
            if let Some(k) = team.as_deref().and_then(|t| self.categories.binary_search_by(|c| c.as_str().cmp(t)).ok())
            {
                data[i * width + offset + k] = 1.0;
            }
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> Frame {
        Frame {
            table: "t".into(),
            drivers: vec!["a".into(), "b".into(), "c".into()],
            dt_refs: vec!["2020-01-01".into(); 3],
            teams: vec![Some("mclaren".into()), None, Some("ferrari".into())],
            numeric_names: vec!["x".into()],
            numeric_types: vec![ColumnType::Double],
            numeric: vec![vec![1.0, f64::NAN, 3.0]],
            labels: None,
        }
    }

    #[test]
    fn teams_are_one_hot_in_sorted_order_and_unknown_teams_are_all_zero() {
        let spec = FeatureSpec::fit(&frame());
        assert_eq!(spec.names(), ["x", "idTeam_ferrari", "idTeam_mclaren"]);
        assert_eq!(spec.input_names(), ["x", "idTeam"]);
        let mut other = frame();
        other.teams[0] = Some("brabham".into());
        let x = spec.matrix(&other);
        assert_eq!(x.row(0).to_vec(), [1.0, 0.0, 0.0]);
        assert_eq!(x.row(1).to_vec(), [MISSING_VALUE, 0.0, 0.0]);
        assert_eq!(x.row(2).to_vec(), [3.0, 1.0, 0.0]);
    }

    #[test]
    fn a_range_of_rows_encodes_as_those_rows_of_the_whole() {
        let f = frame();
        let spec = FeatureSpec::fit(&f);
        let whole = spec.matrix(&f);
        for (start, end) in [(0, 3), (1, 3), (2, 3), (0, 1), (1, 1)] {
            let part = spec.matrix_rows(&f, start..end);
            let rows: Vec<usize> = (start..end).collect();
            assert_eq!(part, whole.select(ndarray::Axis(0), &rows), "{start}..{end}");
        }
    }
}
