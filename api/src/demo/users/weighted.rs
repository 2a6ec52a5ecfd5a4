//! Weighted random choice, shared by the tables of names, places, ages and days.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Picks an index with probability proportional to its weight.
#[derive(Debug, Clone)]
pub(super) struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    pub(super) fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        let mut total = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += w.max(0.0);
                total
            })
            .collect();
        Weighted { cumulative }
    }

    /// Zipf-like weights for a list ordered from most to least frequent.
    pub(super) fn ranked(len: usize) -> Weighted {
        Weighted::new((0..len).map(|i| 1.0 / (i as f64 + 4.0)))
    }

    fn total(&self) -> f64 {
        self.cumulative.last().copied().unwrap_or(0.0)
    }

    pub(super) fn sample(&self, rng: &mut ChaCha8Rng) -> usize {
        let x = rng.random::<f64>() * self.total();
        let i = self.cumulative.partition_point(|&c| c <= x);
        i.min(self.cumulative.len().saturating_sub(1))
    }
}
