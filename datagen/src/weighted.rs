//! Weighted random choice, shared by the demo generators' tables (names, places, ages,
//! days, the catalogue's popularity).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Picks an index with probability proportional to its weight.
#[derive(Debug, Clone)]
pub(crate) struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    pub(crate) fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
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
    pub(crate) fn ranked(len: usize) -> Weighted {
        Weighted::new((0..len).map(|i| 1.0 / (i as f64 + 4.0)))
    }

    /// Zipf-like weights for `len` items ranked from most to least popular.
    pub(crate) fn zipf(len: usize) -> Weighted {
        Weighted::new((0..len).map(|rank| 1.0 / (rank as f64 + 2.0).powf(1.1)))
    }

    fn total(&self) -> f64 {
        self.cumulative.last().copied().unwrap_or(0.0)
    }

    pub(crate) fn sample(&self, rng: &mut ChaCha8Rng) -> usize {
        let x = rng.random::<f64>() * self.total();
        let i = self.cumulative.partition_point(|&c| c <= x);
        i.min(self.cumulative.len().saturating_sub(1))
    }
}
