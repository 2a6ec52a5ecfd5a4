//! Bandwidth samples per bucket.

/// The samples of one bucket (or of a whole period).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BandwidthStats {
    pub samples: u64,
    pub sum_kbps: f64,
    pub min_kbps: Option<f64>,
    pub max_kbps: Option<f64>,
}

impl BandwidthStats {
    /// Mean of the samples; `None` without samples.
    pub fn average(&self) -> Option<f64> {
        (self.samples > 0).then(|| self.sum_kbps / self.samples as f64)
    }

    /// Both sets of samples together.
    pub fn merge(self, other: BandwidthStats) -> BandwidthStats {
        let pick = |a: Option<f64>, b: Option<f64>, f: fn(f64, f64) -> f64| match (a, b) {
            (Some(x), Some(y)) => Some(f(x, y)),
            (x, y) => x.or(y),
        };
        BandwidthStats {
            samples: self.samples + other.samples,
            sum_kbps: self.sum_kbps + other.sum_kbps,
            min_kbps: pick(self.min_kbps, other.min_kbps, f64::min),
            max_kbps: pick(self.max_kbps, other.max_kbps, f64::max),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_extremes_and_the_mean_of_all_samples() {
        let a = BandwidthStats { samples: 2, sum_kbps: 3000.0, min_kbps: Some(1000.0), max_kbps: Some(2000.0) };
        let b = BandwidthStats { samples: 1, sum_kbps: 6000.0, min_kbps: Some(6000.0), max_kbps: Some(6000.0) };
        let all = a.merge(b).merge(BandwidthStats::default());
        assert_eq!(all.average(), Some(3000.0));
        assert_eq!((all.min_kbps, all.max_kbps), (Some(1000.0), Some(6000.0)));
        assert_eq!(BandwidthStats::default().average(), None);
    }
}
