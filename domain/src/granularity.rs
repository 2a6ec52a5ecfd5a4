//! Calendar-aligned buckets of a period, DST-correct, clipped to the period.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Timelike, Utc};
use chrono_tz::Tz;

use crate::InputError;
use crate::period::{Period, local_to_instant};

/// The most buckets one answer may hold.
pub const MAX_BUCKETS: usize = 10_000;

/// The width of a bucket, aligned to the calendar of the period's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Granularity {
    Hour,
    Day,
    /// Starts on Monday.
    Week,
    Month,
    Year,
}

impl Granularity {
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Hour => "HOUR",
            Granularity::Day => "DAY",
            Granularity::Week => "WEEK",
            Granularity::Month => "MONTH",
            Granularity::Year => "YEAR",
        }
    }
}

/// One bucket `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Bucket {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Every bucket of `period`, in order: the first starts at `from` and the last ends at
/// `to` (clipped), the others start and end on calendar boundaries of the time zone.
/// More than [`MAX_BUCKETS`] is an error naming `granularity`.
pub fn buckets(period: &Period, granularity: Granularity) -> Result<Vec<Bucket>, InputError> {
    let tz = period.time_zone();
    let too_many = || {
        InputError::new(
            "granularity",
            format!(
                "the period holds more than {MAX_BUCKETS} {} buckets; choose a coarser granularity or a shorter period",
                granularity.as_str()
            ),
        )
    };
    let mut out = Vec::new();
    let mut start = period.from();
    while start < period.to() {
        if out.len() == MAX_BUCKETS {
            return Err(too_many());
        }
        let next = next_boundary(start, granularity, tz).ok_or_else(too_many)?;
        let end = next.min(period.to());
        out.push(Bucket { start, end });
        start = end;
    }
    Ok(out)
}

/// The first calendar boundary of `granularity` in `tz` strictly after `t`.
fn next_boundary(t: DateTime<Utc>, granularity: Granularity, tz: Tz) -> Option<DateTime<Utc>> {
    let local = t.with_timezone(&tz).naive_local();
    match granularity {
        Granularity::Hour => next_hour(t, tz),
        Granularity::Day => first_instant_after(t, tz, local.date().succ_opt()?),
        Granularity::Week => {
            let days_to_monday = 7 - i64::from(local.weekday().num_days_from_monday());
            first_instant_after(t, tz, local.date().checked_add_signed(Duration::days(days_to_monday))?)
        }
        Granularity::Month => {
            let first = NaiveDate::from_ymd_opt(local.year(), local.month(), 1)?;
            first_instant_after(t, tz, first.checked_add_months(chrono::Months::new(1))?)
        }
        Granularity::Year => first_instant_after(t, tz, NaiveDate::from_ymd_opt(local.year() + 1, 1, 1)?),
    }
}

/// The start of local `day` (its first instant, even when midnight was skipped), which
/// must lie after `t`.
fn first_instant_after(t: DateTime<Utc>, tz: Tz, day: NaiveDate) -> Option<DateTime<Utc>> {
    let start = local_to_instant(day.and_hms_opt(0, 0, 0)?, tz)?;
    (start > t).then_some(start)
}

/// The next instant after `t` at which the local clock shows a whole hour. Offsets that
/// are not whole hours (India, Nepal, Lord Howe's half-hour DST) are handled by reading
/// the local minutes at each candidate rather than stepping whole hours in UTC.
fn next_hour(t: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
    let local: NaiveDateTime = t.with_timezone(&tz).naive_local();
    let into_hour = Duration::seconds(i64::from(local.minute() * 60 + local.second()))
        + Duration::nanoseconds(i64::from(local.nanosecond()));
    let candidate = t - into_hour + Duration::hours(1);
    // After an offset change of a fraction of an hour the candidate is off the local hour:
    // go back to the hour it shows, as long as that is still after `t`.
    let cl = candidate.with_timezone(&tz).naive_local();
    let back = Duration::seconds(i64::from(cl.minute() * 60 + cl.second()));
    let aligned = candidate - back;
    Some(if aligned > t { aligned } else { candidate })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::format_in;

    const SANTIAGO: Tz = chrono_tz::America::Santiago;
    const MADRID: Tz = chrono_tz::Europe::Madrid;

    fn period(from: &str, to: &str, tz: Tz) -> Period {
        Period::parse(from, to, None, tz).unwrap()
    }

    fn show(bs: &[Bucket], tz: Tz) -> Vec<(String, String)> {
        bs.iter().map(|b| (format_in(b.start, tz), format_in(b.end, tz))).collect()
    }

    #[test]
    fn days_across_madrid_spring_forward_last_23_hours() {
        let p = period("2026-03-28", "2026-03-31", MADRID);
        let bs = buckets(&p, Granularity::Day).unwrap();
        assert_eq!(
            show(&bs, MADRID),
            vec![
                ("2026-03-28T00:00:00+01:00".into(), "2026-03-29T00:00:00+01:00".into()),
                ("2026-03-29T00:00:00+01:00".into(), "2026-03-30T00:00:00+02:00".into()),
                ("2026-03-30T00:00:00+02:00".into(), "2026-03-31T00:00:00+02:00".into()),
            ]
        );
        assert_eq!(bs[1].end - bs[1].start, Duration::hours(23));
    }

    #[test]
    fn days_across_madrid_fall_back_last_25_hours() {
        let p = period("2026-10-25", "2026-10-26", MADRID);
        let bs = buckets(&p, Granularity::Day).unwrap();
        assert_eq!(bs.len(), 1);
        assert_eq!(bs[0].end - bs[0].start, Duration::hours(25));
    }

    #[test]
    fn hours_across_madrid_fall_back_repeat_the_local_hour() {
        let p = period("2026-10-25T01:00", "2026-10-25T04:00", MADRID);
        let bs = buckets(&p, Granularity::Hour).unwrap();
        assert_eq!(
            show(&bs, MADRID),
            vec![
                ("2026-10-25T01:00:00+02:00".into(), "2026-10-25T02:00:00+02:00".into()),
                ("2026-10-25T02:00:00+02:00".into(), "2026-10-25T02:00:00+01:00".into()),
                ("2026-10-25T02:00:00+01:00".into(), "2026-10-25T03:00:00+01:00".into()),
                ("2026-10-25T03:00:00+01:00".into(), "2026-10-25T04:00:00+01:00".into()),
            ]
        );
    }

    #[test]
    fn santiago_day_with_skipped_midnight_starts_at_one() {
        // 2026-09-06 00:00 does not exist in Santiago: the day starts at 01:00 (-03).
        let p = period("2026-09-05", "2026-09-07", SANTIAGO);
        let bs = buckets(&p, Granularity::Day).unwrap();
        assert_eq!(
            show(&bs, SANTIAGO),
            vec![
                ("2026-09-05T00:00:00-04:00".into(), "2026-09-06T01:00:00-03:00".into()),
                ("2026-09-06T01:00:00-03:00".into(), "2026-09-07T00:00:00-03:00".into()),
            ]
        );
        assert_eq!(bs[0].end - bs[0].start, Duration::hours(24));
        assert_eq!(bs[1].end - bs[1].start, Duration::hours(23));
    }

    #[test]
    fn santiago_day_when_clocks_go_back_lasts_25_hours() {
        // 2026-04-05 00:00 (-03) became 2026-04-04 23:00 (-04).
        let p = period("2026-04-04", "2026-04-06", SANTIAGO);
        let bs = buckets(&p, Granularity::Day).unwrap();
        assert_eq!(
            show(&bs, SANTIAGO),
            vec![
                ("2026-04-04T00:00:00-03:00".into(), "2026-04-05T00:00:00-04:00".into()),
                ("2026-04-05T00:00:00-04:00".into(), "2026-04-06T00:00:00-04:00".into()),
            ]
        );
        assert_eq!(bs[0].end - bs[0].start, Duration::hours(25));
    }

    #[test]
    fn first_and_last_buckets_are_clipped() {
        let p = period("2026-03-10T15:30", "2026-03-12T06:00", MADRID);
        let bs = buckets(&p, Granularity::Day).unwrap();
        assert_eq!(
            show(&bs, MADRID),
            vec![
                ("2026-03-10T15:30:00+01:00".into(), "2026-03-11T00:00:00+01:00".into()),
                ("2026-03-11T00:00:00+01:00".into(), "2026-03-12T00:00:00+01:00".into()),
                ("2026-03-12T00:00:00+01:00".into(), "2026-03-12T06:00:00+01:00".into()),
            ]
        );
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-03-04 is a Wednesday.
        let p = period("2026-03-04", "2026-03-20", MADRID);
        let starts: Vec<String> =
            buckets(&p, Granularity::Week).unwrap().iter().map(|b| format_in(b.start, MADRID)).collect();
        assert_eq!(starts, vec!["2026-03-04T00:00:00+01:00", "2026-03-09T00:00:00+01:00", "2026-03-16T00:00:00+01:00"]);
    }

    #[test]
    fn months_and_years_follow_the_calendar() {
        let p = period("2024-01-15", "2024-04-01", MADRID);
        let bs = buckets(&p, Granularity::Month).unwrap();
        assert_eq!(bs.len(), 3);
        assert_eq!(format_in(bs[1].start, MADRID), "2024-02-01T00:00:00+01:00");
        assert_eq!(format_in(bs[2].start, MADRID), "2024-03-01T00:00:00+01:00");
        let p = period("2023-06-01", "2026-01-01", SANTIAGO);
        let bs = buckets(&p, Granularity::Year).unwrap();
        assert_eq!(bs.len(), 3);
        assert_eq!(format_in(bs[2].start, SANTIAGO), "2025-01-01T00:00:00-03:00");
    }

    #[test]
    fn hours_in_a_half_hour_zone_align_to_local_hours() {
        let tz: Tz = chrono_tz::Asia::Kolkata;
        let p = period("2026-01-01T10:15", "2026-01-01T12:00", tz);
        let bs = buckets(&p, Granularity::Hour).unwrap();
        assert_eq!(
            show(&bs, tz),
            vec![
                ("2026-01-01T10:15:00+05:30".into(), "2026-01-01T11:00:00+05:30".into()),
                ("2026-01-01T11:00:00+05:30".into(), "2026-01-01T12:00:00+05:30".into()),
            ]
        );
    }

    #[test]
    fn more_than_ten_thousand_buckets_is_refused() {
        let p = period("2025-01-01", "2026-02-01", MADRID);
        assert_eq!(buckets(&p, Granularity::Hour).unwrap().len(), 24 * 396);
        let p = period("2024-01-01", "2026-01-01", MADRID);
        let e = buckets(&p, Granularity::Hour).unwrap_err();
        assert_eq!(e.argument, "granularity");
        assert!(buckets(&p, Granularity::Day).is_ok());
    }
}
