//! The train/test split: by (driver, season) groups, so that no driver-season is in both sets
//! (rows of one driver in one season are near copies of each other).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::frame::Frame;

/// Which rows are for testing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// `true` for a test row, per frame row.
    pub is_test: Vec<bool>,
}

impl Split {
    /// Puts `round(test_fraction × groups)` (driver, season) groups in the test set. Groups are
    /// ordered by a SHA-256 of the seed and the group key, so the split depends on the seed and
    /// the groups only: not on row order, platform or library versions.
    pub fn by_driver_season(frame: &Frame, test_fraction: f64, seed: u64) -> Self {
        let mut groups: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
        for i in 0..frame.len() {
            groups.entry((frame.drivers[i].as_str(), frame.season(i))).or_default().push(i);
        }
        let mut keyed: Vec<([u8; 32], &Vec<usize>)> = groups
            .iter()
            .map(|((driver, season), rows)| {
                let mut h = Sha256::new();
                h.update(seed.to_le_bytes());
                h.update(driver.as_bytes());
                h.update([0]);
                h.update(season.as_bytes());
                (h.finalize().into(), rows)
            })
            .collect();
        keyed.sort();
        let n_test = ((groups.len() as f64) * test_fraction).round() as usize;
        let mut is_test = vec![false; frame.len()];
        for (_, rows) in keyed.iter().take(n_test) {
            for &i in rows.iter() {
                is_test[i] = true;
            }
        }
        Self { is_test }
    }

    /// Row indices of the training set.
    pub fn train(&self) -> Vec<usize> {
        (0..self.is_test.len()).filter(|&i| !self.is_test[i]).collect()
    }

    /// Row indices of the test set.
    pub fn test(&self) -> Vec<usize> {
        (0..self.is_test.len()).filter(|&i| self.is_test[i]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n_drivers: usize) -> Frame {
        let mut drivers = Vec::new();
        let mut dt_refs = Vec::new();
        for d in 0..n_drivers {
            for season in 2000..2004 {
                for race in 1..4 {
                    drivers.push(format!("driver-{d}"));
                    dt_refs.push(format!("{season}-0{race}-01"));
                }
            }
        }
        let n = drivers.len();
        Frame {
            table: "t".into(),
            drivers,
            dt_refs,
            teams: vec![None; n],
            numeric_names: vec![],
            numeric_types: vec![],
            numeric: vec![],
            labels: None,
        }
    }

    #[test]
    fn groups_are_never_split_and_a_fifth_of_them_are_tested() {
        let f = frame(25);
        let split = Split::by_driver_season(&f, 0.2, 42);
        let mut seen: BTreeMap<(String, String), bool> = BTreeMap::new();
        for i in 0..f.len() {
            let key = (f.drivers[i].clone(), f.season(i).to_string());
            let prev = seen.insert(key, split.is_test[i]);
            assert!(prev.is_none_or(|p| p == split.is_test[i]), "group split across sets");
        }
        assert_eq!(seen.values().filter(|t| **t).count(), 20);
        assert_eq!(split.test().len(), 60);
    }

    #[test]
    fn the_split_follows_the_seed_not_the_row_order() {
        let f = frame(25);
        let a = Split::by_driver_season(&f, 0.2, 42);
        let mut rev: Vec<usize> = (0..f.len()).collect();
        rev.reverse();
        let b = Split::by_driver_season(&f.select(&rev), 0.2, 42);
        let b_back: Vec<bool> = rev.iter().rev().map(|&i| b.is_test[f.len() - 1 - i]).collect();
        assert_eq!(a.is_test, b_back);
        assert_ne!(a, Split::by_driver_season(&f, 0.2, 7));
    }
}
