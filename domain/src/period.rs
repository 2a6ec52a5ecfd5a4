//! A period `[from, to)` read in a time zone, parsed once at the edge.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;

use crate::InputError;

/// The longest period a query may ask for.
pub const MAX_PERIOD_YEARS: u32 = 20;

/// A half-open interval of instants with the time zone its buckets are aligned in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Period {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    time_zone: Tz,
}

impl Period {
    /// Parses `from` and `to` (RFC 3339 instants, or local `YYYY-MM-DD` /
    /// `YYYY-MM-DDTHH:MM[:SS]` read in the time zone) and the optional IANA time zone
    /// (the tenant's when absent). Errors name `from`, `to` or `timeZone`.
    pub fn parse(from: &str, to: &str, time_zone: Option<&str>, default_time_zone: Tz) -> Result<Period, InputError> {
        let tz = match time_zone {
            Some(name) => parse_time_zone(name).map_err(|e| e.within_field("timeZone"))?,
            None => default_time_zone,
        };
        let from = parse_instant(from, tz).map_err(|e| e.within_field("from"))?;
        let to = parse_instant(to, tz).map_err(|e| e.within_field("to"))?;
        Period::new(from, to, tz)
    }

    /// Checks that `to` is after `from` and that the period is at most
    /// [`MAX_PERIOD_YEARS`] long.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>, time_zone: Tz) -> Result<Period, InputError> {
        // Years 1 to 9999 (RFC 3339's, give or take a day of offset): local times, buckets
        // and earlier periods of such instants all stay inside the calendar.
        for (instant, field) in [(from, "from"), (to, "to")] {
            if !(1..=9999).contains(&instant.year()) {
                return Err(InputError::new(field, "must be in the years 1 to 9999"));
            }
        }
        if to <= from {
            return Err(InputError::new("to", "must be after `from`"));
        }
        // On the local calendar: 20 years later may fall in a clock change, which
        // `local_to_instant` resolves like any local time.
        let limit = from
            .with_timezone(&time_zone)
            .naive_local()
            .checked_add_months(chrono::Months::new(12 * MAX_PERIOD_YEARS))
            .and_then(|local| local_to_instant(local, time_zone));
        if limit.is_none_or(|limit| to > limit) {
            return Err(InputError::new("to", format!("the period is longer than {MAX_PERIOD_YEARS} years")));
        }
        Ok(Period { from, to, time_zone })
    }

    pub fn from(&self) -> DateTime<Utc> {
        self.from
    }

    pub fn to(&self) -> DateTime<Utc> {
        self.to
    }

    pub fn time_zone(&self) -> Tz {
        self.time_zone
    }

    /// Whether `instant` lies in `[from, to)`.
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.from <= instant && instant < self.to
    }

    /// The instant as RFC 3339 with the offset of this period's time zone at it.
    pub fn format(&self, instant: DateTime<Utc>) -> String {
        format_in(instant, self.time_zone)
    }
}

/// The instant as RFC 3339 (whole seconds unless it has a fraction) with the offset of `tz`.
pub fn format_in(instant: DateTime<Utc>, tz: Tz) -> String {
    instant.with_timezone(&tz).to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// An IANA time zone name (`America/Santiago`); case is not significant.
pub fn parse_time_zone(name: &str) -> Result<Tz, InputError> {
    let t = name.trim();
    t.parse::<Tz>()
        .or_else(|_| Tz::from_str_insensitive(t))
        .map_err(|_| InputError::new("", format!("{name:?} is not an IANA time zone name")))
}

/// An RFC 3339 instant, or a local date or date-time read in `tz`.
pub fn parse_instant(text: &str, tz: Tz) -> Result<DateTime<Utc>, InputError> {
    let t = text.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(t) {
        return Ok(instant.with_timezone(&Utc));
    }
    let local = NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .or_else(|| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M").ok())
        .or_else(|| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f").ok());
    match local {
        Some(local) => local_to_instant(local, tz)
            .ok_or_else(|| InputError::new("", format!("{text:?} cannot be placed in {}", tz.name()))),
        None => Err(InputError::new(
            "",
            format!(
                "{text:?} is neither an RFC 3339 instant (2026-03-01T00:00:00Z) nor a local \
                 date (2026-03-01) or date-time (2026-03-01T08:00)"
            ),
        )),
    }
}

/// The instant a local wall-clock time names in `tz`. An ambiguous time (clocks set back)
/// is its earlier instant; a time skipped by clocks set forward is read with the offset in
/// force before the gap, which lands just as far past the gap's end (so a skipped midnight
/// becomes the first instant of that day).
pub fn local_to_instant(local: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => {
            let before = local.checked_sub_signed(Duration::days(1))?;
            let offset = match tz.from_local_datetime(&before) {
                LocalResult::Single(t) => *t.offset(),
                LocalResult::Ambiguous(a, _) => *a.offset(),
                LocalResult::None => return None,
            };
            let offset = chrono::Offset::fix(&offset);
            let instant = local.checked_sub_signed(Duration::seconds(i64::from(offset.local_minus_utc())))?;
            Some(instant.and_utc())
        }
    }
}

impl InputError {
    /// Names the field when the error did not know it yet (`""` → `from`), or nests it.
    pub(crate) fn within_field(self, field: &str) -> InputError {
        if self.argument.is_empty() {
            InputError::new(field, self.message)
        } else {
            InputError::new(format!("{field}.{}", self.argument), self.message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const SANTIAGO: Tz = chrono_tz::America::Santiago;
    const MADRID: Tz = chrono_tz::Europe::Madrid;

    #[test]
    fn reads_rfc3339_and_local_forms() {
        let p = Period::parse("2026-03-01", "2026-03-02T08:00", Some("Europe/Madrid"), SANTIAGO).unwrap();
        assert_eq!(p.from(), utc("2026-02-28T23:00:00Z"));
        assert_eq!(p.to(), utc("2026-03-02T07:00:00Z"));
        assert_eq!(p.time_zone(), MADRID);
        let p = Period::parse("2026-03-01T00:00:00Z", "2026-03-01T10:00:00+02:00", None, MADRID).unwrap();
        assert_eq!(p.to(), utc("2026-03-01T08:00:00Z"));
        let p = Period::parse("2026-03-01T08:00:30", "2026-03-02", None, MADRID).unwrap();
        assert_eq!(p.from(), utc("2026-03-01T07:00:30Z"));
    }

    #[test]
    fn a_skipped_local_midnight_is_the_first_instant_of_that_day() {
        // Chile set clocks forward from 2026-09-06 00:00 (-04) to 01:00 (-03).
        let t = parse_instant("2026-09-06", SANTIAGO).unwrap();
        assert_eq!(t, utc("2026-09-06T04:00:00Z"));
        assert_eq!(format_in(t, SANTIAGO), "2026-09-06T01:00:00-03:00");
    }

    #[test]
    fn an_ambiguous_local_time_is_its_earlier_instant() {
        // Madrid set clocks back at 2026-10-25 03:00 (+02) to 02:00 (+01).
        let t = parse_instant("2026-10-25T02:30", MADRID).unwrap();
        assert_eq!(t, utc("2026-10-25T00:30:00Z"));
    }

    #[test]
    fn bad_input_names_the_argument() {
        let e = Period::parse("2026-03-01", "2026-03-02", Some("Mars/Olympus"), MADRID).unwrap_err();
        assert_eq!(e.argument, "timeZone");
        let e = Period::parse("yesterday", "2026-03-02", None, MADRID).unwrap_err();
        assert_eq!(e.argument, "from");
        let e = Period::parse("2026-03-01", "2026-02-31", None, MADRID).unwrap_err();
        assert_eq!(e.argument, "to");
        let e = Period::parse("2026-03-02", "2026-03-01", None, MADRID).unwrap_err();
        assert_eq!(e.argument, "to");
        let e = Period::parse("2026-03-01", "2026-03-01", None, MADRID).unwrap_err();
        assert_eq!(e.argument, "to");
    }

    #[test]
    fn twenty_years_is_the_longest_period() {
        assert!(Period::parse("2000-01-01", "2020-01-01", None, MADRID).is_ok());
        let e = Period::parse("2000-01-01", "2020-01-01T00:00:01", None, MADRID).unwrap_err();
        assert_eq!(e.argument, "to");
        assert!(e.message.contains("20 years"));
    }

    #[test]
    fn twenty_years_later_may_fall_in_a_clock_change() {
        // 2026-09-06 00:00 does not exist in Santiago; a one-day period twenty years
        // earlier is fine, and so is exactly twenty years from a skipped midnight.
        assert!(Period::parse("2006-09-06", "2006-09-07", None, SANTIAGO).is_ok());
        assert!(Period::parse("2006-09-06", "2026-09-06", None, SANTIAGO).is_ok());
        assert!(Period::parse("2006-09-06", "2026-09-07", None, SANTIAGO).is_err());
    }

    #[test]
    fn years_outside_1_to_9999_are_refused_by_name() {
        // chrono reads signed and five-digit years in local forms; a local time of such an
        // instant may not exist at all (the calendar's edge), so they stop here.
        let e = Period::parse("-262143-01-01T02:00", "-262143-01-01T06:00", Some("America/Los_Angeles"), MADRID)
            .unwrap_err();
        assert_eq!(e.argument, "from");
        let e = Period::parse("9999-12-31", "+10000-01-01", None, chrono_tz::UTC).unwrap_err();
        assert_eq!(e.argument, "to");
        assert!(Period::parse("0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z", None, chrono_tz::UTC).is_ok());
    }

    #[test]
    fn time_zone_names_ignore_case() {
        assert_eq!(parse_time_zone("america/santiago").unwrap(), SANTIAGO);
    }

    #[test]
    fn formats_with_the_offset_at_the_instant() {
        assert_eq!(format_in(utc("2026-07-01T12:00:00Z"), MADRID), "2026-07-01T14:00:00+02:00");
        assert_eq!(format_in(utc("2026-01-01T12:00:00Z"), MADRID), "2026-01-01T13:00:00+01:00");
        assert_eq!(format_in(utc("2026-01-01T12:00:00Z"), chrono_tz::UTC), "2026-01-01T12:00:00+00:00");
    }
}
