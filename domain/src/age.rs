//! Age at registration and age ranges.

use chrono::{Datelike, NaiveDate};

use crate::InputError;
use crate::share::percentage;

/// The oldest age taken as real; older (or negative) ages are "Unknown".
pub const MAX_AGE: u8 = 120;

/// Whole years between `birth` and `on`. Comparing (month, day) pairs makes a 29 February
/// birthday count from 1 March in years without one. `None` when the result is outside
/// `0..=120` (a birth date after registration, or an implausible one).
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> Option<u8> {
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    u8::try_from(years).ok().filter(|a| *a <= MAX_AGE)
}

/// One age range; `max` is inclusive and `None` means open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AgeRange {
    pub min: u8,
    pub max: Option<u8>,
}

impl AgeRange {
    /// `"18-24"`, or `"65+"` when open-ended.
    pub fn label(&self) -> String {
        match self.max {
            Some(max) => format!("{}-{max}", self.min),
            None => format!("{}+", self.min),
        }
    }

    pub fn contains(&self, age: u8) -> bool {
        age >= self.min && self.max.is_none_or(|max| age <= max)
    }
}

/// Ranges checked to be within 0..=120, not inverted and not overlapping; kept in
/// ascending order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AgeRanges(Vec<AgeRange>);

impl Default for AgeRanges {
    /// `0-17, 18-24, 25-34, 35-44, 45-54, 55-64, 65+`.
    fn default() -> Self {
        let bounds =
            [(0, Some(17)), (18, Some(24)), (25, Some(34)), (35, Some(44)), (45, Some(54)), (55, Some(64)), (65, None)];
        AgeRanges(bounds.into_iter().map(|(min, max)| AgeRange { min, max }).collect())
    }
}

impl AgeRanges {
    /// Validates caller ranges given as `(minAge, maxAge)`; errors name `ranges[i]`.
    pub fn parse(ranges: &[(i32, Option<i32>)]) -> Result<AgeRanges, InputError> {
        if ranges.is_empty() {
            return Err(InputError::new("ranges", "give at least one range, or omit `ranges` for the default ones"));
        }
        let bound = |v: i32, arg: String| {
            u8::try_from(v)
                .ok()
                .filter(|v| *v <= MAX_AGE)
                .ok_or_else(|| InputError::new(arg, format!("{v} is not an age in 0..={MAX_AGE}")))
        };
        let mut parsed = Vec::with_capacity(ranges.len());
        for (i, (min, max)) in ranges.iter().enumerate() {
            let min = bound(*min, format!("ranges[{i}].minAge"))?;
            let max = max.map(|m| bound(m, format!("ranges[{i}].maxAge"))).transpose()?;
            if max.is_some_and(|max| max < min) {
                return Err(InputError::new(format!("ranges[{i}]"), "maxAge is below minAge"));
            }
            parsed.push((i, AgeRange { min, max }));
        }
        parsed.sort_by_key(|(_, r)| r.min);
        for pair in parsed.windows(2) {
            let (_, a) = pair[0];
            let (j, b) = pair[1];
            if a.max.is_none_or(|max| max >= b.min) {
                return Err(InputError::new(format!("ranges[{j}]"), format!("{} overlaps {}", b.label(), a.label())));
            }
        }
        Ok(AgeRanges(parsed.into_iter().map(|(_, r)| r).collect()))
    }

    pub fn ranges(&self) -> &[AgeRange] {
        &self.0
    }
}

/// What a row of the age breakdown stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeBucket {
    Range(AgeRange),
    /// Known ages that none of the caller's ranges holds; only present when non-empty.
    Other,
    /// No birth date, or an age outside 0..=120.
    Unknown,
}

/// One row of the age breakdown.
#[derive(Debug, Clone, PartialEq)]
pub struct AgeShare {
    pub bucket: AgeBucket,
    pub label: String,
    pub count: u64,
    pub percentage: f64,
}

/// Folds counts per age (`None`: unknown) into the ranges, in range order, then an
/// "Other" row when some known ages fall outside every range, then "Unknown" always last.
pub fn fold_ages(ranges: &AgeRanges, counts: &[(Option<u8>, u64)]) -> Vec<AgeShare> {
    let mut per_range = vec![0u64; ranges.0.len()];
    let (mut other, mut unknown) = (0u64, 0u64);
    for (age, count) in counts {
        match age.filter(|a| *a <= MAX_AGE) {
            None => unknown += count,
            Some(age) => match ranges.0.iter().position(|r| r.contains(age)) {
                Some(i) => per_range[i] += count,
                None => other += count,
            },
        }
    }
    let total = per_range.iter().sum::<u64>() + other + unknown;
    let mut rows: Vec<AgeShare> = ranges
        .0
        .iter()
        .zip(per_range)
        .map(|(r, count)| AgeShare {
            bucket: AgeBucket::Range(*r),
            label: r.label(),
            count,
            percentage: percentage(count, total),
        })
        .collect();
    if other > 0 {
        rows.push(AgeShare {
            bucket: AgeBucket::Other,
            label: "Other".into(),
            count: other,
            percentage: percentage(other, total),
        });
    }
    rows.push(AgeShare {
        bucket: AgeBucket::Unknown,
        label: "Unknown".into(),
        count: unknown,
        percentage: percentage(unknown, total),
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn age_counts_whole_years() {
        assert_eq!(age_on(d("2000-06-15"), d("2026-06-14")), Some(25));
        assert_eq!(age_on(d("2000-06-15"), d("2026-06-15")), Some(26));
        assert_eq!(age_on(d("2026-06-15"), d("2026-06-15")), Some(0));
    }

    #[test]
    fn leap_day_birthday_counts_from_first_of_march() {
        assert_eq!(age_on(d("2004-02-29"), d("2025-02-28")), Some(20));
        assert_eq!(age_on(d("2004-02-29"), d("2025-03-01")), Some(21));
        assert_eq!(age_on(d("2004-02-29"), d("2024-02-28")), Some(19));
        assert_eq!(age_on(d("2004-02-29"), d("2024-02-29")), Some(20));
    }

    #[test]
    fn implausible_ages_are_unknown() {
        assert_eq!(age_on(d("2026-06-16"), d("2026-06-15")), None);
        assert_eq!(age_on(d("1900-01-01"), d("2026-01-01")), None);
        assert_eq!(age_on(d("1906-01-01"), d("2026-01-01")), Some(120));
    }

    #[test]
    fn default_ranges_fold_with_unknown_last() {
        let rows = fold_ages(&AgeRanges::default(), &[(Some(17), 1), (Some(18), 2), (Some(90), 1), (None, 4)]);
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+", "Unknown"]);
        let counts: Vec<u64> = rows.iter().map(|r| r.count).collect();
        assert_eq!(counts, [1, 2, 0, 0, 0, 0, 1, 4]);
        assert_eq!(rows[7].percentage, 50.0);
        assert_eq!(rows[1].percentage, 25.0);
    }

    #[test]
    fn caller_ranges_are_sorted_and_gaps_go_to_other() {
        let ranges = AgeRanges::parse(&[(30, Some(44)), (18, Some(29))]).unwrap();
        let rows = fold_ages(&ranges, &[(Some(20), 1), (Some(50), 1), (Some(44), 2)]);
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["18-29", "30-44", "Other", "Unknown"]);
        assert_eq!(rows.iter().map(|r| r.count).collect::<Vec<_>>(), [1, 2, 1, 0]);
    }

    #[test]
    fn overlapping_inverted_and_out_of_range_ranges_are_refused() {
        let e = AgeRanges::parse(&[(18, Some(30)), (30, None)]).unwrap_err();
        assert_eq!(e.argument, "ranges[1]");
        let e = AgeRanges::parse(&[(40, None), (18, Some(30)), (50, Some(60))]).unwrap_err();
        assert_eq!(e.argument, "ranges[2]");
        let e = AgeRanges::parse(&[(30, Some(20))]).unwrap_err();
        assert_eq!(e.argument, "ranges[0]");
        let e = AgeRanges::parse(&[(-1, Some(20))]).unwrap_err();
        assert_eq!(e.argument, "ranges[0].minAge");
        let e = AgeRanges::parse(&[(0, Some(121))]).unwrap_err();
        assert_eq!(e.argument, "ranges[0].maxAge");
        assert_eq!(AgeRanges::parse(&[]).unwrap_err().argument, "ranges");
    }

    #[test]
    fn open_ended_label() {
        assert_eq!(AgeRange { min: 65, max: None }.label(), "65+");
        assert_eq!(AgeRange { min: 30, max: Some(44) }.label(), "30-44");
    }
}
