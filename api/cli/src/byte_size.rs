//! Sizes on the command line: `0`, `1048576`, `512MiB`, `2GiB`, `64MB`.

/// Bytes of a size written with an optional binary (`KiB MiB GiB`) or decimal
/// (`KB MB GB`) unit.
pub fn parse(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| format!("{text:?} is not a size such as 512MiB or 2GiB"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        other => return Err(format!("unknown unit {other:?} in {text:?}: use KiB, MiB, GiB, KB, MB or GB")),
    };
    n.checked_mul(scale).and_then(|b| usize::try_from(b).ok()).ok_or_else(|| format!("{text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn reads_units() {
        assert_eq!(parse("0"), Ok(0));
        assert_eq!(parse("1024"), Ok(1024));
        assert_eq!(parse("512MiB"), Ok(512 << 20));
        assert_eq!(parse("2 GiB"), Ok(2 << 30));
        assert_eq!(parse("64MB"), Ok(64_000_000));
        assert!(parse("lots").is_err());
        assert!(parse("5 parsecs").is_err());
        assert!(parse("99999999999999999999GiB").is_err());
    }
}
