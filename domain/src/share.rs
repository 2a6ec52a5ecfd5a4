/// `100 × count / total`, and 0 when the total is 0.
pub fn percentage(count: u64, total: u64) -> f64 {
    if total == 0 { 0.0 } else { 100.0 * count as f64 / total as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_total_is_zero_percent() {
        assert_eq!(percentage(0, 0), 0.0);
    }

    #[test]
    fn shares_sum_to_one_hundred() {
        let counts = [1u64, 1, 1];
        let sum: f64 = counts.iter().map(|c| percentage(*c, 3)).sum();
        assert!((sum - 100.0).abs() < 1e-9);
        assert_eq!(percentage(1, 4), 25.0);
    }
}
