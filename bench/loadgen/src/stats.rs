//! Latency percentiles.

/// The `p`-th percentile (0..=100) of sorted samples, by nearest rank: the smallest
/// sample with at least `p`% of the samples at or below it. `None` without samples.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64 / 100.0).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// p50, p90, p99 and max of a set of latencies in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

impl Summary {
    pub fn of(mut samples: Vec<f64>) -> Summary {
        samples.sort_by(f64::total_cmp);
        Summary {
            count: samples.len(),
            p50: percentile(&samples, 50.0),
            p90: percentile(&samples, 90.0),
            p99: percentile(&samples, 99.0),
            max: samples.last().copied(),
        }
    }

    /// `p50 1.2 ms, p90 … , max … ms`.
    pub fn human(&self) -> String {
        format!("p50 {} ms, p90 {} ms, p99 {} ms, max {} ms", ms(self.p50), ms(self.p90), ms(self.p99), ms(self.max))
    }

    /// `p50_ms=… p90_ms=… p99_ms=… max_ms=…`, each key after `prefix`.
    pub fn bench(&self, prefix: &str) -> String {
        format!(
            "{prefix}p50_ms={} {prefix}p90_ms={} {prefix}p99_ms={} {prefix}max_ms={}",
            ms(self.p50),
            ms(self.p90),
            ms(self.p99),
            ms(self.max)
        )
    }
}

/// Milliseconds with one decimal (two below 10 ms), `NA` when unknown.
pub fn ms(v: Option<f64>) -> String {
    match v {
        Some(v) if v < 10.0 => format!("{v:.2}"),
        Some(v) => format!("{v:.1}"),
        None => "NA".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_on_one_to_a_hundred() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 90.0), Some(90.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&v, 100.0), Some(100.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
    }

    #[test]
    fn small_and_empty_sets() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        // Ten samples: p50 is the 5th, p90 the 9th, p99 the 10th.
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(
            (percentile(&v, 50.0), percentile(&v, 90.0), percentile(&v, 99.0)),
            (Some(5.0), Some(9.0), Some(10.0))
        );
    }

    #[test]
    fn summary_sorts_its_samples() {
        let s = Summary::of(vec![30.0, 10.0, 20.0, 40.0]);
        assert_eq!((s.count, s.p50, s.p90, s.max), (4, Some(20.0), Some(40.0), Some(40.0)));
        assert_eq!(Summary::of(Vec::new()).bench(""), "p50_ms=NA p90_ms=NA p99_ms=NA max_ms=NA");
        assert_eq!(s.bench("write_").split(' ').next(), Some("write_p50_ms=20.0"));
    }
}
