//! The earlier period a figure is compared with (DESIGN.md, "Comparison").

use chrono::{Days, Months, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;

use crate::InputError;
use crate::period::{Period, local_to_instant};

/// How the earlier period is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeriodShift {
    /// The period just before: as many local calendar days when both bounds are local
    /// midnights, otherwise the same duration; it ends where the period starts.
    PreviousPeriod,
    /// Each bound one year back on the local calendar, the wall clock kept.
    PreviousYear,
}

impl Period {
    /// The earlier period this one is compared with, in the same time zone. An error
    /// (named `shift`) when it cannot be represented: before the calendar's start, or a
    /// year back that does not keep `from` before `to` (a period inside 29 February).
    pub fn shifted(&self, shift: PeriodShift) -> Result<Period, InputError> {
        let tz = self.time_zone();
        let shifted = match shift {
            PeriodShift::PreviousPeriod => self.previous_period(tz),
            PeriodShift::PreviousYear => self.previous_year(tz),
        };
        let (from, to) =
            shifted.ok_or_else(|| InputError::new("shift", "the earlier period falls outside the calendar"))?;
        Period::new(from, to, tz)
            .map_err(|e| InputError::new("shift", format!("the earlier period is invalid: {}", e.message)))
    }

    fn previous_period(&self, tz: Tz) -> Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> {
        match (local_midnight_date(self.from(), tz), local_midnight_date(self.to(), tz)) {
            (Some(from), Some(to)) => {
                let days = u64::try_from(to.signed_duration_since(from).num_days()).ok()?;
                let start = from.checked_sub_days(Days::new(days))?.and_time(NaiveTime::MIN);
                Some((local_to_instant(start, tz)?, self.from()))
            }
            _ => {
                let length = self.to() - self.from();
                Some((self.from().checked_sub_signed(length)?, self.from()))
            }
        }
    }

    fn previous_year(&self, tz: Tz) -> Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> {
        let back = |instant: chrono::DateTime<chrono::Utc>| {
            let local = instant.with_timezone(&tz).naive_local();
            year_back(local).and_then(|l| local_to_instant(l, tz))
        };
        Some((back(self.from())?, back(self.to())?))
    }
}

/// `100 × (value − previous) / previous`; `None` when `previous` is 0.
pub fn change_percentage(value: f64, previous: f64) -> Option<f64> {
    (previous != 0.0).then(|| 100.0 * (value - previous) / previous)
}

/// One year back on the calendar, 29 February becoming 28 February (chrono clamps the
/// day to the month's last).
fn year_back(local: NaiveDateTime) -> Option<NaiveDateTime> {
    local.checked_sub_months(Months::new(12))
}

/// The local date of `instant` when it is the start of that local day (a midnight, or
/// the first instant of a day whose midnight clocks skipped).
fn local_midnight_date(instant: chrono::DateTime<chrono::Utc>, tz: Tz) -> Option<chrono::NaiveDate> {
    let date = instant.with_timezone(&tz).date_naive();
    (local_to_instant(date.and_time(NaiveTime::MIN), tz)? == instant).then_some(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    const MADRID: Tz = chrono_tz::Europe::Madrid;
    const SANTIAGO: Tz = chrono_tz::America::Santiago;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn period(from: &str, to: &str, tz: Tz) -> Period {
        Period::parse(from, to, None, tz).unwrap()
    }

    fn bounds(p: &Period) -> (String, String) {
        (p.format(p.from()), p.format(p.to()))
    }

    #[test]
    fn the_change_is_a_percentage_of_the_earlier_figure() {
        assert_eq!(change_percentage(12.0, 8.0), Some(50.0));
        assert_eq!(change_percentage(6.0, 8.0), Some(-25.0));
        assert_eq!(change_percentage(0.0, 3.0), Some(-100.0));
        assert_eq!(change_percentage(5.0, 0.0), None);
        assert_eq!(change_percentage(0.0, 0.0), None);
    }

    #[test]
    fn whole_local_days_shift_by_as_many_days_across_a_clock_change() {
        // 2026-03-23..30 holds Madrid's spring change (29 March): 7 days of 167 hours.
        // The previous period is 7 whole days (168 hours), not 167 hours back.
        let p = period("2026-03-23", "2026-03-30", MADRID);
        let prev = p.shifted(PeriodShift::PreviousPeriod).unwrap();
        assert_eq!(bounds(&prev), ("2026-03-16T00:00:00+01:00".into(), "2026-03-23T00:00:00+01:00".into()));
        // And the week after the change looks back over it: 7 days, 167 hours.
        let p = period("2026-03-30", "2026-04-06", MADRID);
        let prev = p.shifted(PeriodShift::PreviousPeriod).unwrap();
        assert_eq!(bounds(&prev), ("2026-03-23T00:00:00+01:00".into(), "2026-03-30T00:00:00+02:00".into()));
        assert_eq!((prev.to() - prev.from()).num_hours(), 167);
    }

    #[test]
    fn a_month_of_days_looks_back_the_same_number_of_days() {
        // March has 31 days: the previous period is 31 days, from 29 January.
        let p = period("2026-03-01", "2026-04-01", MADRID);
        let prev = p.shifted(PeriodShift::PreviousPeriod).unwrap();
        assert_eq!(bounds(&prev), ("2026-01-29T00:00:00+01:00".into(), "2026-03-01T00:00:00+01:00".into()));
    }

    #[test]
    fn other_bounds_shift_by_the_same_duration() {
        let p = period("2026-03-29T00:00", "2026-03-29T12:00", MADRID);
        // 11 hours of Madrid time (03:00 did not exist), so 11 hours back.
        let prev = p.shifted(PeriodShift::PreviousPeriod).unwrap();
        assert_eq!(prev.to(), p.from());
        assert_eq!(prev.from(), utc("2026-03-28T12:00:00Z"));
        assert_eq!(bounds(&prev).0, "2026-03-28T13:00:00+01:00");
        // One midnight bound is not enough to count days.
        let p = period("2026-05-01", "2026-05-02T06:00", MADRID);
        let prev = p.shifted(PeriodShift::PreviousPeriod).unwrap();
        assert_eq!(bounds(&prev).0, "2026-04-29T18:00:00+02:00");
    }

    #[test]
    fn a_skipped_midnight_still_counts_as_the_start_of_its_day() {
        // Santiago skipped 2026-09-06 00:00; that day starts at 01:00 -03.
        let p = period("2026-09-06", "2026-09-08", SANTIAGO);
        let prev = p.shifted(PeriodShift::PreviousPeriod).unwrap();
        assert_eq!(bounds(&prev), ("2026-09-04T00:00:00-04:00".into(), "2026-09-06T01:00:00-03:00".into()));
    }

    #[test]
    fn a_year_back_keeps_the_wall_clock() {
        let p = period("2026-07-01T08:30", "2026-07-15", MADRID);
        let prev = p.shifted(PeriodShift::PreviousYear).unwrap();
        assert_eq!(bounds(&prev), ("2025-07-01T08:30:00+02:00".into(), "2025-07-15T00:00:00+02:00".into()));
        // The same local date a year back may be on the other side of a clock change.
        let p = period("2026-03-29", "2026-03-30", MADRID);
        let prev = p.shifted(PeriodShift::PreviousYear).unwrap();
        assert_eq!(bounds(&prev), ("2025-03-29T00:00:00+01:00".into(), "2025-03-30T00:00:00+01:00".into()));
    }

    #[test]
    fn the_29th_of_february_becomes_the_28th() {
        let p = period("2028-02-29", "2028-03-01", MADRID);
        let prev = p.shifted(PeriodShift::PreviousYear).unwrap();
        assert_eq!(bounds(&prev), ("2027-02-28T00:00:00+01:00".into(), "2027-03-01T00:00:00+01:00".into()));
        // And a year with 29 February looks back over 365 days of the year before.
        let p = period("2028-01-01", "2029-01-01", MADRID);
        let prev = p.shifted(PeriodShift::PreviousYear).unwrap();
        assert_eq!((prev.to() - prev.from()).num_days(), 365);
    }

    #[test]
    fn a_year_back_into_a_clock_gap_reads_as_inputs_do() {
        // Madrid 2026-03-29 02:30 is skipped: read with the offset before the gap, it is
        // 03:30 +02. 2027-03-28 02:30 is skipped the same way.
        let p = period("2027-03-28T02:30", "2027-03-29", MADRID);
        assert_eq!(bounds(&p).0, "2027-03-28T03:30:00+02:00");
        let prev = p.shifted(PeriodShift::PreviousYear).unwrap();
        // 2026-03-28 03:30 exists (+01): the wall clock read off the shown time is kept.
        assert_eq!(bounds(&prev), ("2026-03-28T03:30:00+01:00".into(), "2026-03-29T00:00:00+01:00".into()));
        // A time a year back that falls in a gap: 2026-03-29 02:30 becomes 03:30 +02.
        let p = period("2027-03-29T02:30", "2027-03-30", MADRID);
        let prev = p.shifted(PeriodShift::PreviousYear).unwrap();
        assert_eq!(bounds(&prev).0, "2026-03-29T03:30:00+02:00");
    }

    #[test]
    fn an_unrepresentable_earlier_period_names_the_shift() {
        // Across the end of 29 February both bounds land on 28 February, `to` first.
        let p = period("2028-02-28T18:00", "2028-02-29T06:00", MADRID);
        let e = p.shifted(PeriodShift::PreviousYear).unwrap_err();
        assert_eq!(e.argument, "shift");
        assert!(p.shifted(PeriodShift::PreviousPeriod).is_ok());
        // Before year 1.
        let p = Period::parse("0001-01-01T12:00:00Z", "0001-01-02T12:00:00Z", None, chrono_tz::UTC).unwrap();
        assert_eq!(p.shifted(PeriodShift::PreviousYear).unwrap_err().argument, "shift");
        assert_eq!(p.shifted(PeriodShift::PreviousPeriod).unwrap_err().argument, "shift");
        // At the calendar's very edge (past what a period accepts) nothing panics either.
        let p = Period::parse("-262143-01-01T02:00", "-262143-01-01T06:00", Some("America/Los_Angeles"), MADRID);
        assert_eq!(p.unwrap_err().argument, "from");
    }
}
