//! Time: instants as Unix milliseconds, the weekly viewing rhythm in Chile's local time,
//! and RFC 3339 output.

use crate::users::utc_offset_hours;
use chrono::{DateTime, SecondsFormat, Utc};

pub(super) const SECOND: i64 = 1_000;
pub(super) const MINUTE: i64 = 60 * SECOND;
pub(super) const HOUR: i64 = 60 * MINUTE;
pub(super) const DAY: i64 = 24 * HOUR;
pub(super) const WEEK: i64 = 7 * DAY;

/// Relative viewing by local hour, Monday to Friday: a little at lunch, a strong evening
/// peak around 21–22 h, next to nothing before dawn.
const WEEKDAY_HOURS: [f64; 24] = [
    0.45, 0.22, 0.11, 0.06, 0.05, 0.06, 0.12, 0.20, 0.22, 0.22, 0.24, 0.27, //
    0.36, 0.40, 0.34, 0.32, 0.36, 0.46, 0.66, 0.92, 1.22, 1.45, 1.35, 0.88,
];

/// Relative viewing by local hour on Saturday and Sunday: later mornings, busy afternoons
/// and late nights.
const WEEKEND_HOURS: [f64; 24] = [
    0.62, 0.40, 0.22, 0.12, 0.07, 0.06, 0.08, 0.13, 0.22, 0.34, 0.44, 0.52, //
    0.58, 0.62, 0.62, 0.60, 0.62, 0.70, 0.82, 0.98, 1.20, 1.38, 1.25, 0.95,
];

/// Relative viewing by local weekday, Monday first: Friday to Sunday are the busiest.
const WEEKDAY_FACTOR: [f64; 7] = [0.95, 0.95, 0.97, 1.0, 1.08, 1.12, 1.08];

/// The weekly cycle of viewing, used to thin a Poisson process of session starts.
#[derive(Debug, Clone)]
pub(super) struct Rhythm {
    /// Mean weight over the hours of a week.
    mean: f64,
    /// Highest weight of any hour.
    peak: f64,
}

impl Rhythm {
    pub(super) fn new() -> Rhythm {
        let (mut sum, mut peak) = (0.0, 0.0_f64);
        for weekday in 0..7 {
            for hour in 0..24 {
                let w = hour_weight(weekday, hour);
                sum += w;
                peak = peak.max(w);
            }
        }
        Rhythm { mean: sum / 168.0, peak }
    }

    /// The busiest hour's weight over the mean: how much faster than average the
    /// candidate process must run.
    pub(super) fn peak_over_mean(&self) -> f64 {
        self.peak / self.mean
    }

    /// The probability of keeping a candidate session start at `ms`.
    pub(super) fn acceptance(&self, ms: i64) -> f64 {
        let local = ms + utc_offset_hours(chrono_tz::America::Santiago, ms.div_euclid(1_000)) * HOUR;
        let day = local.div_euclid(DAY);
        let hour = usize::try_from(local.rem_euclid(DAY) / HOUR).unwrap_or(0);
        let weekday = usize::try_from((day + 3).rem_euclid(7)).unwrap_or(0);
        hour_weight(weekday, hour) / self.peak
    }
}

fn hour_weight(weekday: usize, hour: usize) -> f64 {
    let profile = if weekday >= 5 { &WEEKEND_HOURS } else { &WEEKDAY_HOURS };
    profile.get(hour).copied().unwrap_or(0.0) * WEEKDAY_FACTOR.get(weekday).copied().unwrap_or(1.0)
}

/// The first whole millisecond at or after `t`, in Unix time.
pub(super) fn ceil_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis() + i64::from(!t.timestamp_subsec_nanos().is_multiple_of(1_000_000))
}

/// `ms` (Unix milliseconds) as RFC 3339 in UTC with milliseconds: `2026-03-04T21:15:07.250Z`.
pub(super) fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}
