//! Brand-new users to write, and the little calendar arithmetic they need (UTC only: the
//! server reads every local form in the period's time zone).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// The day number of the `YYYY-MM-DD` that `text` starts with (`2025-11-01`, `2025-11-01T08:00`).
pub fn parse_day(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?} does not start with a YYYY-MM-DD date");
    let date = text.get(..10).ok_or_else(bad)?;
    let mut parts = date.split('-');
    let (Some(y), Some(m), Some(d), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let (y, m, d): (i64, u32, u32) =
        (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    Ok(days_from_civil(y, m, d))
}

/// `YYYY-MM-DD` of a day number.
pub fn format_day(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A local form `YYYY-MM-DDTHH:MM`, `minutes` after the start of day `days`.
pub fn format_local_minutes(days: i64, minutes: i64) -> String {
    let day = days + minutes.div_euclid(1440);
    let m = minutes.rem_euclid(1440);
    format!("{}T{:02}:{:02}", format_day(day), m / 60, m % 60)
}

/// RFC 3339 in UTC with milliseconds (`2026-03-01T08:00:00.123Z`).
pub fn rfc3339_ms(epoch_ms: i64) -> String {
    let days = epoch_ms.div_euclid(DAY_MS);
    let ms = epoch_ms.rem_euclid(DAY_MS);
    let s = ms / 1000;
    format!("{}T{:02}:{:02}:{:02}.{:03}Z", format_day(days), s / 3600, s / 60 % 60, s % 60, ms % 1000)
}

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// SplitMix64: small, fast, good enough to spread registrations and genders.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo { lo } else { lo + (self.next_u64() % (hi - lo) as u64) as i64 }
    }
}

const STATES: [(&str, &str); 6] = [
    ("Metropolitana", "Santiago"),
    ("Metropolitana", "Puente Alto"),
    ("Valparaíso", "Viña del Mar"),
    ("Biobío", "Concepción"),
    ("Antofagasta", "Antofagasta"),
    ("Los Lagos", "Puerto Montt"),
];
const GENDERS: [&str; 4] = ["FEMALE", "MALE", "OTHER", "UNKNOWN"];

/// Writes users with ids `<prefix>-<n>`, never the same twice in a run.
pub struct UserFactory {
    prefix: String,
    next: u64,
    rng: Rng,
}

impl UserFactory {
    pub fn new(prefix: &str, seed: u64) -> UserFactory {
        UserFactory { prefix: prefix.to_owned(), next: 0, rng: Rng::new(seed) }
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// A `UserInput` registered at `registered_at_ms`, home CL, born 1950..2008.
    pub fn user(&mut self, registered_at_ms: i64) -> Value {
        self.next += 1;
        let id = format!("{}-{}", self.prefix, self.next);
        let (state, city) = STATES[(self.rng.next_u64() % STATES.len() as u64) as usize];
        let gender = GENDERS[(self.rng.next_u64() % GENDERS.len() as u64) as usize];
        let born = self.rng.range(days_from_civil(1950, 1, 1), days_from_civil(2008, 1, 1));
        json!({
            "id": id,
            "name": format!("Load {id}"),
            "gender": gender,
            "birthDate": format_day(born),
            "country": "CL",
            "state": state,
            "city": city,
            "registeredAt": rfc3339_ms(registered_at_ms),
        })
    }
}

/// A run id: the start time in base 36 and the process id, unique enough between runs.
pub fn run_id() -> String {
    let mut n = now_ms() as u64;
    let mut s = Vec::new();
    while n > 0 {
        s.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize]);
        n /= 36;
    }
    s.reverse();
    format!("{}{}", String::from_utf8_lossy(&s), std::process::id() % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(parse_day("2025-11-01").unwrap(), 20_393);
        for d in [-800_000, -1, 0, 11_016, 20_393, 60_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(rfc3339_ms(1_772_352_000_123), "2026-03-01T08:00:00.123Z");
        assert_eq!(format_local_minutes(parse_day("2025-11-30").unwrap(), 1441), "2025-12-01T00:01");
        assert!(parse_day("2025/11/01").is_err());
    }
}
