//! Rows of the ABT or of the feature store, read from Arrow batches into the columns the
//! trainer and the scorer use: the row keys, the team, the numeric features and the label.

use deltalake::arrow::array::{Array, AsArray, RecordBatch};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Float64Type, Int64Type};

use crate::error::{Result, TrainError};
use crate::inputs::ColumnType;

/// The driver key column.
pub const DRIVER: &str = "idDriver";
/// The reference date column (`YYYY-MM-DD`).
pub const DT_REF: &str = "dtRef";
/// The categorical feature, one-hot encoded.
pub const TEAM: &str = "idTeam";
/// The label of the ABT.
pub const LABEL: &str = "flChurn";

/// The numeric feature columns of the ABT, in its order: every fs_drivers column except the
/// keys, the two dates and the team.
pub const NUMERIC_FEATURES: [&str; 60] = [
    "dtIntervalMaxMin",
    "qtRaces",
    "qtTeams",
    "qtLastSeenRace",
    "avgGridPosition",
    "medianGridPosition",
    "avgPosition",
    "medianPosition",
    "totalPositionLift",
    "avgPositionLift",
    "medianPositionLift",
    "pctPolePositition",
    "pctPolewin",
    "qtdPolePositition",
    "qtdPolewin",
    "avgGridPositionRaceFirst05",
    "medianGridPositionRaceFirst05",
    "avgPositionRaceFirst05",
    "medianPositionRaceFirst05",
    "totalPositionLiftRaceFirst05",
    "avgPositionLiftRaceFirst05",
    "medianPositionLiftRaceFirst05",
    "pctPolePosititionRaceFirst05",
    "pctPolewinRaceFirst05",
    "avgGridPositionRaceFirst10",
    "medianGridPositionRaceFirst10",
    "avgPositionRaceFirst10",
    "medianPositionRaceFirst10",
    "totalPositionLiftRaceFirst10",
    "avgPositionLiftRaceFirst10",
    "medianPositionLiftRaceFirst10",
    "pctPolePosititionRaceFirst10",
    "pctPolewinRaceFirst10",
    "avgGridPositionRaceLast10",
    "medianGridPositionRaceLast10",
    "avgPositionRaceLast10",
    "medianPositionRaceLast10",
    "totalPositionLiftRaceLast10",
    "avgPositionLiftRaceLast10",
    "medianPositionLiftRaceLast10",
    "pctPolePosititionRaceLast10",
    "pctPolewinRaceLast10",
    "avgGridPositionRaceLast20",
    "medianGridPositionRaceLast20",
    "avgPositionRaceLast20",
    "medianPositionRaceLast20",
    "totalPositionLiftRaceLast20",
    "avgPositionLiftRaceLast20",
    "medianPositionLiftRaceLast20",
    "pctPolePosititionRaceLast20",
    "pctPolewinRaceLast20",
    "avgGridPositionRaceLast40",
    "medianGridPositionRaceLast40",
    "avgPositionRaceLast40",
    "medianPositionRaceLast40",
    "totalPositionLiftRaceLast40",
    "avgPositionLiftRaceLast40",
    "medianPositionLiftRaceLast40",
    "pctPolePosititionRaceLast40",
    "pctPolewinRaceLast40",
];

/// Rows with their keys, team, numeric features (column-major, nulls as NaN) and, for a
/// training table, the label.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// The table the rows came from, for error messages.
    pub table: String,
    pub drivers: Vec<String>,
    pub dt_refs: Vec<String>,
    /// The team of each row; `None` when null.
    pub teams: Vec<Option<String>>,
    /// The names of the numeric columns, in the order of `numeric`.
    pub numeric_names: Vec<String>,
    /// Their types as the table holds them (doubles until a batch says otherwise).
    pub numeric_types: Vec<ColumnType>,
    /// One vector per numeric column, nulls as NaN.
    pub numeric: Vec<Vec<f64>>,
    /// The label (0 or 1), when read with one.
    pub labels: Option<Vec<u8>>,
}

impl Frame {
    /// Reads `numeric` columns (plus keys and team, and the label when `with_label`) from
    /// `batches` of `table`. A column that is absent or of an unusable type is an error naming
    /// it; so are nulls in keys and labels and labels other than 0 and 1.
    pub fn from_batches(table: &str, batches: &[RecordBatch], numeric: &[String], with_label: bool) -> Result<Self> {
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let mut frame = Frame {
            table: table.to_string(),
            drivers: Vec::with_capacity(rows),
            dt_refs: Vec::with_capacity(rows),
            teams: Vec::with_capacity(rows),
            numeric_names: numeric.to_vec(),
            numeric_types: vec![ColumnType::Double; numeric.len()],
            numeric: vec![Vec::with_capacity(rows); numeric.len()],
            labels: with_label.then(|| Vec::with_capacity(rows)),
        };
        // A table with no batches at all still tells us nothing about its columns: it is empty.
        for batch in batches {
            frame.append(batch)?;
        }
        Ok(frame)
    }

    fn strings(&self, batch: &RecordBatch, name: &str, nullable: bool) -> Result<Vec<Option<String>>> {
        let col = cast(string_column(&self.table, batch, name)?, &DataType::Utf8)?;
        let col = col.as_string::<i32>();
        if !nullable && col.null_count() > 0 {
            return Err(TrainError::NullValues {
                table: self.table.clone(),
                column: name.to_string(),
                count: col.null_count(),
            });
        }
        Ok(col.iter().map(|v| v.map(str::to_string)).collect())
    }

    fn append(&mut self, batch: &RecordBatch) -> Result<()> {
        let drivers = self.strings(batch, DRIVER, false)?;
        let dt_refs = self.strings(batch, DT_REF, false)?;
        let teams = self.strings(batch, TEAM, true)?;
        let mut numeric = Vec::with_capacity(self.numeric_names.len());
        let mut types = Vec::with_capacity(self.numeric_names.len());
        for name in &self.numeric_names {
            let col = column(&self.table, batch, name)?;
            if !col.data_type().is_numeric() {
                return Err(type_error(&self.table, name, "a number", col.data_type()));
            }
            types.push(ColumnType::of(col.data_type()));
            let col = cast(col, &DataType::Float64)?;
            numeric.push(col.as_primitive::<Float64Type>().iter().map(|v| v.unwrap_or(f64::NAN)).collect::<Vec<_>>());
        }
        let labels = match self.labels.is_some() {
            false => None,
            true => {
                let col = column(&self.table, batch, LABEL)?;
                if !col.data_type().is_integer() {
                    return Err(type_error(&self.table, LABEL, "an integer", col.data_type()));
                }
                if col.null_count() > 0 {
                    return Err(TrainError::NullValues {
                        table: self.table.clone(),
                        column: LABEL.into(),
                        count: col.null_count(),
                    });
                }
                let col = cast(col, &DataType::Int64)?;
                let mut out = Vec::with_capacity(col.len());
                for v in col.as_primitive::<Int64Type>().values().iter() {
                    match *v {
                        0 | 1 => out.push(*v as u8),
                        other => {
                            return Err(TrainError::BadLabel {
                                table: self.table.clone(),
                                column: LABEL.into(),
                                value: other,
                            });
                        }
                    }
                }
                Some(out)
            }
        };
        self.numeric_types = types;
        self.drivers.extend(drivers.into_iter().flatten());
        self.dt_refs.extend(dt_refs.into_iter().flatten());
        self.teams.extend(teams);
        for (dst, src) in self.numeric.iter_mut().zip(numeric) {
            dst.extend(src);
        }
        if let (Some(dst), Some(src)) = (self.labels.as_mut(), labels) {
            dst.extend(src);
        }
        Ok(())
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.drivers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.drivers.is_empty()
    }

    /// The season (year) of row `i`'s dtRef.
    pub fn season(&self, i: usize) -> &str {
        self.dt_refs[i].get(..4).unwrap_or(&self.dt_refs[i])
    }

    /// The rows at `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Frame {
        let pick = |v: &Vec<String>| idx.iter().map(|&i| v[i].clone()).collect();
        Frame {
            table: self.table.clone(),
            drivers: pick(&self.drivers),
            dt_refs: pick(&self.dt_refs),
            teams: idx.iter().map(|&i| self.teams[i].clone()).collect(),
            numeric_names: self.numeric_names.clone(),
            numeric_types: self.numeric_types.clone(),
            numeric: self.numeric.iter().map(|c| idx.iter().map(|&i| c[i]).collect()).collect(),
            labels: self.labels.as_ref().map(|l| idx.iter().map(|&i| l[i]).collect()),
        }
    }
}

/// Column `name` of a batch of `table`.
pub(crate) fn column<'b>(table: &str, batch: &'b RecordBatch, name: &str) -> Result<&'b dyn Array> {
    batch
        .column_by_name(name)
        .map(|c| c.as_ref())
        .ok_or_else(|| TrainError::MissingColumn { table: table.to_string(), column: name.to_string() })
}

/// Column `name`, which must hold strings: plain, large, views, or dictionary-encoded as
/// partition columns (fs_drivers' dtRef) come back.
pub(crate) fn string_column<'b>(table: &str, batch: &'b RecordBatch, name: &str) -> Result<&'b dyn Array> {
    let col = column(table, batch, name)?;
    let is_string = |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    let ok = match col.data_type() {
        DataType::Dictionary(_, values) => is_string(values),
        other => is_string(other),
    };
    if !ok {
        return Err(type_error(table, name, "a string", col.data_type()));
    }
    Ok(col)
}

pub(crate) fn type_error(table: &str, column: &str, expected: &'static str, found: &DataType) -> TrainError {
    TrainError::ColumnType { table: table.to_string(), column: column.to_string(), expected, found: found.to_string() }
}

/// The default numeric feature names as owned strings.
pub fn numeric_features() -> Vec<String> {
    NUMERIC_FEATURES.iter().map(|s| s.to_string()).collect()
}
