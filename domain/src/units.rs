//! Sizes and durations as people write them in settings: `512MiB`, `2GiB`, `1048576`;
//! `30s`, `200ms`, `1h`. Their serde forms ([`bytes`], [`duration`]) let the settings
//! types of every crate read them from a file; parsing only, no IO.

use std::time::Duration;

/// Bytes of a size written with an optional binary (`KiB MiB GiB`) or decimal
/// (`KB MB GB`) unit: `0`, `1048576`, `512MiB`, `2 GiB`, `64MB`.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
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
    n.checked_mul(scale).ok_or_else(|| format!("{text:?} is too large"))
}

/// A duration such as `30s`, `200ms`, `1h 30m` or `30days`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("{text:?} is not a duration such as 30s, 200ms or 1h ({e})"))
}

/// `#[serde(with = "ottstats_domain::units::bytes")]`: a size as a number of bytes or a
/// string with a unit (`"64MiB"`), into any unsigned integer it fits.
pub mod bytes {
    use serde::de::{self, Deserializer, Visitor};

    pub fn deserialize<'de, D, T>(deserializer: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<u64>,
    {
        let n = deserializer.deserialize_any(Bytes)?;
        T::try_from(n).map_err(|_| de::Error::custom(format!("{n} bytes is too large")))
    }

    struct Bytes;

    impl Visitor<'_> for Bytes {
        type Value = u64;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a size: a number of bytes, or a string such as \"64MiB\" or \"2GiB\"")
        }

        fn visit_u64<E: de::Error>(self, n: u64) -> Result<u64, E> {
            Ok(n)
        }

        fn visit_i64<E: de::Error>(self, n: i64) -> Result<u64, E> {
            u64::try_from(n).map_err(|_| E::custom(format!("{n} is not a size: sizes are not negative")))
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<u64, E> {
            super::parse_bytes(text).map_err(E::custom)
        }
    }
}

/// `#[serde(with = "ottstats_domain::units::duration")]`: a duration as a string with a
/// unit (`"30s"`, `"200ms"`), at most [`LONGEST`](duration::LONGEST).
pub mod duration {
    use std::time::Duration;

    use serde::de::{self, Deserializer, Visitor};

    /// The longest duration a setting takes: none needs more, and a deadline that far
    /// ahead would overflow the clock.
    pub const LONGEST: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let d = deserializer.deserialize_str(Text)?;
        if d > LONGEST {
            return Err(de::Error::custom(format!("{} is longer than 10 years", humantime::format_duration(d))));
        }
        Ok(d)
    }

    struct Text;

    impl Visitor<'_> for Text {
        type Value = Duration;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a duration: a string such as \"30s\", \"200ms\" or \"1h\"")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
            super::parse_duration(text).map_err(E::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{parse_bytes, parse_duration};

    #[test]
    fn reads_sizes() {
        assert_eq!(parse_bytes("0"), Ok(0));
        assert_eq!(parse_bytes("1024"), Ok(1024));
        assert_eq!(parse_bytes("512MiB"), Ok(512 << 20));
        assert_eq!(parse_bytes("2 GiB"), Ok(2 << 30));
        assert_eq!(parse_bytes("64MB"), Ok(64_000_000));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("5 parsecs").is_err());
        assert!(parse_bytes("99999999999999999999GiB").is_err());
    }

    #[test]
    fn reads_durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("30days"), Ok(Duration::from_secs(30 * 24 * 3600)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("30").is_err());
    }
}
