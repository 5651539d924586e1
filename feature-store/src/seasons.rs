//! The `--seasons` filter: an inclusive range of season years.

use std::fmt;
use std::str::FromStr;

/// An inclusive range of seasons; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeasonRange {
    pub first: Option<i32>,
    pub last: Option<i32>,
}

impl SeasonRange {
    /// Every season.
    pub const ALL: SeasonRange = SeasonRange { first: None, last: None };

    /// Seasons `first` to `last`, both included.
    pub fn between(first: i32, last: i32) -> Self {
        Self { first: Some(first), last: Some(last) }
    }

    pub fn contains(&self, season: i32) -> bool {
        self.first.is_none_or(|f| season >= f) && self.last.is_none_or(|l| season <= l)
    }
}

impl fmt::Display for SeasonRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = |v: Option<i32>| v.map(|y| y.to_string()).unwrap_or_default();
        write!(f, "{}..{}", end(self.first), end(self.last))
    }
}

impl FromStr for SeasonRange {
    type Err = String;

    /// Accepts `2020..2025` and `2020..=2025` (both include 2025: seasons are counted the way
    /// people say them), `2020..`, `..1960` and a single `2025`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let year = |t: &str| -> Result<Option<i32>, String> {
            let t = t.trim();
            if t.is_empty() {
                return Ok(None);
            }
            t.parse::<i32>().map(Some).map_err(|_| format!("{t:?} is not a season year"))
        };
        let range = match s.split_once("..") {
            Some((a, b)) => Self { first: year(a)?, last: year(b.strip_prefix('=').unwrap_or(b))? },
            None => {
                let y = year(s)?.ok_or("empty season range")?;
                Self::between(y, y)
            }
        };
        if let (Some(a), Some(b)) = (range.first, range.last)
            && a > b
        {
            return Err(format!("season range {s} is empty ({a} > {b})"));
        }
        Ok(range)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_include_both_ends() {
        let r: SeasonRange = "2020..2025".parse().unwrap();
        assert!(r.contains(2020) && r.contains(2025) && !r.contains(2026) && !r.contains(2019));
        assert_eq!("2020..=2025".parse::<SeasonRange>().unwrap(), r);
        assert_eq!("2021".parse::<SeasonRange>().unwrap(), SeasonRange::between(2021, 2021));
        let open: SeasonRange = "..1960".parse().unwrap();
        assert!(open.contains(1950) && !open.contains(1961));
    }

    #[test]
    fn bad_ranges_are_refused() {
        assert!("2025..2020".parse::<SeasonRange>().is_err());
        assert!("abc".parse::<SeasonRange>().is_err());
        assert!("".parse::<SeasonRange>().is_err());
    }
}
