//! Registration instants: growth over the period, the weekly and daily cycle in the home
//! country's local time, and campaign days.

use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::weighted::Weighted;

const SECS_PER_HOUR: i64 = 3_600;
const SECS_PER_DAY: i64 = 86_400;

/// Relative registrations by local hour, Monday to Friday.
const WEEKDAY_HOURS: [f64; 24] = [
    0.90, 0.50, 0.30, 0.20, 0.15, 0.20, 0.40, 0.70, 0.90, 1.00, 1.05, 1.10, //
    1.25, 1.30, 1.15, 1.10, 1.20, 1.40, 1.70, 2.10, 2.50, 2.70, 2.30, 1.60,
];

/// Relative registrations by local hour on Saturday and Sunday: later mornings, busier
/// afternoons and late nights.
const WEEKEND_HOURS: [f64; 24] = [
    1.30, 0.90, 0.55, 0.35, 0.25, 0.20, 0.25, 0.40, 0.65, 0.95, 1.20, 1.40, //
    1.55, 1.60, 1.55, 1.50, 1.55, 1.65, 1.85, 2.20, 2.50, 2.60, 2.30, 1.80,
];

/// Relative volume by local weekday, Monday first.
const WEEKDAY_FACTOR: [f64; 7] = [0.93, 0.91, 0.93, 0.96, 1.06, 1.18, 1.14];

/// Last day's volume over the first day's, per year of the period (capped at 3 years).
const GROWTH_PER_YEAR: f64 = 1.5;

/// One campaign day per this many days (at least one in a period of two weeks or more).
const DAYS_PER_CAMPAIGN: i64 = 60;

/// Of a campaign's extra volume, the part that carries over to the next day.
const CAMPAIGN_TAIL: f64 = 0.3;

/// A representative IANA time zone of a home country, for the daily cycle.
pub(crate) fn home_time_zone(home: &str) -> Tz {
    use chrono_tz::{America, Europe};
    match home {
        "CL" => America::Santiago,
        "PY" => America::Asuncion,
        "AR" => America::Argentina::Buenos_Aires,
        "BR" => America::Sao_Paulo,
        "UY" => America::Montevideo,
        "BO" => America::La_Paz,
        "VE" => America::Caracas,
        "DO" => America::Santo_Domingo,
        "PR" => America::Puerto_Rico,
        "PE" => America::Lima,
        "CO" => America::Bogota,
        "EC" => America::Guayaquil,
        "PA" => America::Panama,
        "MX" => America::Mexico_City,
        "GT" => America::Guatemala,
        "SV" => America::El_Salvador,
        "HN" => America::Tegucigalpa,
        "NI" => America::Managua,
        "CR" => America::Costa_Rica,
        "US" => America::New_York,
        "CA" => America::Toronto,
        "ES" => Europe::Madrid,
        "FR" => Europe::Paris,
        "IT" => Europe::Rome,
        "DE" => Europe::Berlin,
        "PT" => Europe::Lisbon,
        "GB" => Europe::London,
        _ => chrono_tz::UTC,
    }
}

/// The zone's offset from UTC in whole hours at an instant (Unix seconds).
pub(crate) fn utc_offset_hours(tz: Tz, unix_seconds: i64) -> i64 {
    DateTime::from_timestamp(unix_seconds, 0)
        .map_or(0, |t| i64::from(tz.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc()) / 3_600)
}

/// Where registrations fall: UTC days weighted by growth, weekday and campaigns, then
/// UTC hours weighted by the home country's daily cycle.
#[derive(Debug, Clone)]
pub(super) struct Calendar {
    /// First whole second (Unix time) that may be generated.
    first: i64,
    /// First whole second past the range.
    last: i64,
    /// UTC day number (days since 1970-01-01) of `first`.
    first_day: i64,
    /// One weight per UTC day from `first_day`.
    days: Weighted,
    /// Home offset from UTC in hours, per UTC day.
    offsets: Vec<i8>,
    /// Campaign days: local day number and volume multiplier, sorted by day.
    campaigns: Vec<(i64, f64)>,
}

impl Calendar {
    /// `None` when `[start, end)` holds no whole second.
    pub(super) fn new(rng: &mut ChaCha8Rng, home: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Calendar> {
        let first = ceil_second(start);
        let last = ceil_second(end);
        if last <= first {
            return None;
        }
        let first_day = first.div_euclid(SECS_PER_DAY);
        let last_day = (last - 1).div_euclid(SECS_PER_DAY);
        let day_count = last_day - first_day + 1;

        let tz = home_time_zone(home);
        let offsets: Vec<i8> = (first_day..=last_day)
            .map(|day| i8::try_from(utc_offset_hours(tz, day * SECS_PER_DAY + SECS_PER_DAY / 2)).unwrap_or(0))
            .collect();

        let mut campaigns = Vec::new();
        if day_count >= 14 {
            for _ in 0..(day_count / DAYS_PER_CAMPAIGN).max(1) {
                // Local day numbers; the UTC and local day differ by at most one.
                let day = rng.random_range(first_day..first_day + day_count);
                campaigns.push((day, rng.random_range(3.0..5.0)));
            }
            campaigns.sort_by_key(|c| c.0);
            campaigns.dedup_by_key(|c| c.0);
        }

        let mut calendar = Calendar { first, last, first_day, days: Weighted::new([]), offsets, campaigns };
        let years = day_count as f64 / 365.25;
        let growth = GROWTH_PER_YEAR * years.min(3.0);
        let span = (day_count - 1).max(1) as f64;
        let weights: Vec<f64> = (0..day_count)
            .map(|i| {
                let frac = i as f64 / span;
                let trend = 1.0 + growth * (0.5 * frac + 0.5 * frac * frac);
                trend * calendar.hour_weights(i).iter().sum::<f64>()
            })
            .collect();
        calendar.days = Weighted::new(weights);
        Some(calendar)
    }

    /// The multiplier of a local day: a campaign, or the day after one.
    fn campaign_factor(&self, local_day: i64) -> f64 {
        let find = |day: i64| {
            self.campaigns.binary_search_by_key(&day, |c| c.0).ok().and_then(|i| self.campaigns.get(i)).map(|c| c.1)
        };
        if let Some(m) = find(local_day) {
            m
        } else if let Some(m) = find(local_day - 1) {
            1.0 + (m - 1.0) * CAMPAIGN_TAIL
        } else {
            1.0
        }
    }

    /// The weight of each UTC hour of the `index`-th day, for the part of it in range.
    fn hour_weights(&self, index: i64) -> [f64; 24] {
        let day = self.first_day + index;
        let offset = usize::try_from(index).ok().and_then(|i| self.offsets.get(i)).map_or(0, |o| i64::from(*o));
        let mut weights = [0.0; 24];
        for (hour, weight) in (0_i64..).zip(weights.iter_mut()) {
            let (lo, hi) = self.hour_span(day, hour);
            if hi <= lo {
                continue;
            }
            let local = day * 24 + hour + offset;
            let local_day = local.div_euclid(24);
            let local_hour = usize::try_from(local.rem_euclid(24)).unwrap_or(0);
            let weekday = usize::try_from((local_day + 3).rem_euclid(7)).unwrap_or(0);
            let profile = if weekday >= 5 { &WEEKEND_HOURS } else { &WEEKDAY_HOURS };
            *weight =
                profile[local_hour] * WEEKDAY_FACTOR[weekday] * self.campaign_factor(local_day) * (hi - lo) as f64
                    / SECS_PER_HOUR as f64;
        }
        weights
    }

    /// The seconds of a UTC hour that are in range, as `[lo, hi)`.
    fn hour_span(&self, day: i64, hour: i64) -> (i64, i64) {
        let start = day * SECS_PER_DAY + hour * SECS_PER_HOUR;
        (start.max(self.first), (start + SECS_PER_HOUR).min(self.last))
    }

    /// A registration instant in whole seconds of Unix time.
    pub(super) fn sample(&self, rng: &mut ChaCha8Rng) -> i64 {
        let index = self.days.sample(rng) as i64;
        let weights = self.hour_weights(index);
        let total: f64 = weights.iter().sum();
        let x = rng.random::<f64>() * total;
        let mut acc = 0.0;
        let mut chosen = None;
        for (hour, w) in (0_i64..).zip(weights) {
            if w <= 0.0 {
                continue;
            }
            chosen = Some(hour);
            acc += w;
            if x < acc {
                break;
            }
        }
        let day = self.first_day + index;
        let (lo, hi) = chosen.map_or((self.first, self.last), |h| self.hour_span(day, h));
        if hi <= lo {
            return self.first;
        }
        rng.random_range(lo..hi)
    }
}

/// The first whole second at or after `t`, in Unix time.
fn ceil_second(t: DateTime<Utc>) -> i64 {
    t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0)
}
