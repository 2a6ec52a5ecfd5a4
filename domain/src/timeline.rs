//! A timeline of counts per bucket with its peak.

use crate::gender::GenderCounts;
use crate::granularity::Bucket;

/// One bucket of a timeline with its counts by gender (zeros when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineBucket {
    pub bucket: Bucket,
    pub counts: GenderCounts,
}

impl TimelineBucket {
    pub fn total(&self) -> u64 {
        self.counts.total()
    }
}

/// Every bucket of a period, and which one is the peak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    pub buckets: Vec<TimelineBucket>,
    /// Index of the bucket with the highest total, the earliest on ties; `None` when
    /// every bucket is empty.
    pub peak: Option<usize>,
}

impl Timeline {
    /// Pairs each bucket with its counts (`counts[i]` for `buckets[i]`) and finds the peak.
    pub fn new(buckets: Vec<Bucket>, counts: Vec<GenderCounts>) -> Timeline {
        let buckets: Vec<TimelineBucket> = buckets
            .into_iter()
            .zip(counts.into_iter().chain(std::iter::repeat(GenderCounts::default())))
            .map(|(bucket, counts)| TimelineBucket { bucket, counts })
            .collect();
        let peak = peak_index(buckets.iter().map(TimelineBucket::total));
        Timeline { buckets, peak }
    }

    pub fn peak_bucket(&self) -> Option<&TimelineBucket> {
        self.peak.and_then(|i| self.buckets.get(i))
    }
}

/// The index of the highest value, the earliest on ties; `None` when all are zero.
pub fn peak_index(totals: impl IntoIterator<Item = u64>) -> Option<usize> {
    let mut best: Option<(usize, u64)> = None;
    for (i, t) in totals.into_iter().enumerate() {
        if t > 0 && best.is_none_or(|(_, b)| t > b) {
            best = Some((i, t));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_is_the_earliest_highest() {
        assert_eq!(peak_index([0, 3, 1, 3]), Some(1));
        assert_eq!(peak_index([5]), Some(0));
        assert_eq!(peak_index([1, 2, 2, 0]), Some(1));
    }

    #[test]
    fn no_peak_when_everything_is_empty() {
        assert_eq!(peak_index([0, 0, 0]), None);
        assert_eq!(peak_index(Vec::<u64>::new()), None);
    }
}
