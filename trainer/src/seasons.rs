//! Out-of-time evaluation: the churn model is used during a season to say who will not be on
//! next season's grid, so it is judged on a season it has not seen. The latest labelled season
//! is the test season; the few seasons before it are the validation seasons of rolling-origin
//! validation (train on the seasons before S, validate on S).

use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::frame::Frame;

/// How many seasons before the test season hyper-parameters are validated on.
pub const VALIDATION_SEASONS: usize = 3;

/// The seasons a run is judged on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeasonPlan {
    /// The latest labelled season: the model is trained on the seasons before it and tested
    /// on it.
    pub test: i32,
    /// The seasons before it, oldest first, each validated on with the seasons before it.
    pub validation: Vec<i32>,
}

impl SeasonPlan {
    /// The test season is the latest season of `seasons` (one per row); the `validation`
    /// seasons before it must each hold both classes, and so must the test season, and there
    /// must be rows before the oldest of them to train on.
    pub fn new(seasons: &[i32], labels: &[u8], validation: usize) -> Result<Self> {
        let mut distinct: Vec<i32> = seasons.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < validation + 2 {
            return Err(TrainError::Settings(format!(
                "out-of-time evaluation needs {} labelled seasons (training, {validation} to validate on, one to test on); the ABT has {}",
                validation + 2,
                distinct.len()
            )));
        }
        let test = distinct[distinct.len() - 1];
        let validation = distinct[distinct.len() - 1 - validation..distinct.len() - 1].to_vec();
        for &season in validation.iter().chain([&test]) {
            let churners = rows_of(seasons, season).iter().filter(|&&i| labels[i] == 1).count();
            let rows = rows_of(seasons, season).len();
            if churners == 0 || churners == rows {
                return Err(TrainError::OneClassSplit { set: "out-of-time", value: u8::from(churners > 0), rows });
            }
        }
        Ok(Self { test, validation })
    }
}

/// The season (year of dtRef) of each row of `frame`; a dtRef that does not start with a year
/// is an error naming it.
pub fn row_seasons(frame: &Frame) -> Result<Vec<i32>> {
    (0..frame.len())
        .map(|i| {
            frame.season(i).parse().map_err(|_| {
                TrainError::Settings(format!(
                    "{}: dtRef {:?} does not start with a year",
                    frame.table, frame.dt_refs[i]
                ))
            })
        })
        .collect()
}

/// Rows of the seasons before `season`.
pub fn rows_before(seasons: &[i32], season: i32) -> Vec<usize> {
    (0..seasons.len()).filter(|&i| seasons[i] < season).collect()
}

/// Rows of `season`.
pub fn rows_of(seasons: &[i32], season: i32) -> Vec<usize> {
    (0..seasons.len()).filter(|&i| seasons[i] == season).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_season_is_tested_and_the_ones_before_it_validated() {
        let seasons = [2018, 2019, 2019, 2020, 2020, 2021, 2021, 2022, 2022];
        let labels = [0, 0, 1, 0, 1, 1, 0, 0, 1];
        let plan = SeasonPlan::new(&seasons, &labels, 2).unwrap();
        assert_eq!(plan, SeasonPlan { test: 2022, validation: vec![2020, 2021] });
        assert_eq!(rows_before(&seasons, 2020), [0, 1, 2]);
        assert_eq!(rows_of(&seasons, 2022), [7, 8]);
        assert!(matches!(SeasonPlan::new(&seasons, &labels, 4), Err(TrainError::Settings(_))));
        let one_class = [0, 0, 1, 0, 1, 1, 0, 0, 0];
        assert!(matches!(SeasonPlan::new(&seasons, &one_class, 2), Err(TrainError::OneClassSplit { .. })));
    }
}
