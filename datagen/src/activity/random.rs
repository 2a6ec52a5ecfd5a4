//! Random helpers: the few continuous distributions the generator needs
//! (written here so the output does not depend on `rand_distr`'s algorithms).

use std::f64::consts::TAU;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A value from a short table of `(value, weight)`; `fallback` when the table is empty.
pub(super) fn pick<T: Copy>(rng: &mut ChaCha8Rng, table: &[(T, f64)], fallback: T) -> T {
    let total: f64 = table.iter().map(|e| e.1).sum();
    let mut x = rng.random::<f64>() * total;
    let mut chosen = fallback;
    for &(value, weight) in table {
        chosen = value;
        if x < weight {
            break;
        }
        x -= weight;
    }
    chosen
}

/// True with probability `p` (any `p`: below 0 is never, above 1 always).
pub(super) fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.random::<f64>() < p
}

/// A standard normal deviate (Box–Muller).
pub(super) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>(); // (0, 1]: the logarithm is finite
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
}

/// A log-normal deviate with the given median: long-tailed to the right.
pub(super) fn log_normal(rng: &mut ChaCha8Rng, median: f64, sigma: f64) -> f64 {
    median * (sigma * normal(rng)).exp()
}

/// A value in `[lo, hi)` whose logarithm is uniform (`lo` and `hi` positive).
pub(super) fn log_uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    (lo.ln() + rng.random::<f64>() * (hi / lo).ln()).exp()
}

/// An exponential deviate with the given mean.
pub(super) fn exponential(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    -mean * (1.0 - rng.random::<f64>()).ln()
}

/// Milliseconds in `lo..=hi`.
pub(super) fn millis(rng: &mut ChaCha8Rng, lo: i64, hi: i64) -> i64 {
    if hi <= lo { lo } else { rng.random_range(lo..=hi) }
}

/// A duration in milliseconds from a log-normal with the given median, clamped.
pub(super) fn log_normal_millis(rng: &mut ChaCha8Rng, median: i64, sigma: f64, lo: i64, hi: i64) -> i64 {
    (log_normal(rng, median as f64, sigma).round() as i64).clamp(lo, hi)
}
