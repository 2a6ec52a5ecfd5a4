//! Comparison with an earlier period: the resolved bounds of a period and the change of
//! each figure against the same figure of the earlier period.

use async_graphql::SimpleObject;
use ottstats_domain::period::Period;
use ottstats_domain::period_shift::{PeriodShift, change_percentage};

use super::enums::PeriodShiftValue;
use super::scalars::{DateTimeScalar, TimeZoneScalar};
use crate::error::{Gql, GqlResult};

/// The earlier period of `period`, errors named `shift`.
pub fn shifted(period: &Period, shift: PeriodShiftValue) -> GqlResult<Period> {
    period.shifted(PeriodShift::from(shift)).gql()
}

/// A period as the server read it.
#[derive(SimpleObject, Clone)]
pub struct ResolvedPeriod {
    /// Start, included, with the offset of the time zone at it.
    from: DateTimeScalar,
    /// End, excluded.
    to: DateTimeScalar,
    /// The time zone the bounds and the buckets are read in.
    time_zone: TimeZoneScalar,
}

impl From<&Period> for ResolvedPeriod {
    fn from(p: &Period) -> Self {
        ResolvedPeriod {
            from: p.format(p.from()).into(),
            to: p.format(p.to()).into(),
            time_zone: TimeZoneScalar(p.time_zone().name().to_owned()),
        }
    }
}

/// Registrations against those of the earlier period (same filter).
#[derive(SimpleObject)]
pub struct RegistrationChange {
    /// Registrations in the period.
    total: i64,
    /// Registrations in the earlier period.
    previous_total: i64,
    /// `100 × (total − previousTotal) / previousTotal`; null when `previousTotal` is 0.
    percentage: Option<f64>,
}

impl RegistrationChange {
    pub fn new(total: i64, previous_total: i64) -> Self {
        RegistrationChange { total, previous_total, percentage: change_percentage(total as f64, previous_total as f64) }
    }
}

/// A count against the same count of the earlier period.
#[derive(SimpleObject)]
pub struct CountChange {
    /// In the period.
    value: i64,
    /// In the earlier period.
    previous: i64,
    /// `100 × (value − previous) / previous`; null when `previous` is 0.
    percentage: Option<f64>,
}

impl CountChange {
    pub fn new(value: i64, previous: i64) -> Self {
        CountChange { value, previous, percentage: change_percentage(value as f64, previous as f64) }
    }
}

/// An amount against the same amount of the earlier period.
#[derive(SimpleObject)]
pub struct AmountChange {
    /// In the period.
    value: f64,
    /// In the earlier period.
    previous: f64,
    /// `100 × (value − previous) / previous`; null when `previous` is 0.
    percentage: Option<f64>,
}

impl AmountChange {
    pub fn new(value: f64, previous: f64) -> Self {
        AmountChange { value, previous, percentage: change_percentage(value, previous) }
    }
}

/// The overview's figures against those of the earlier period.
#[derive(SimpleObject)]
pub struct ActivityChange {
    /// Streams.
    pub streams: CountChange,
    /// Playback starts.
    pub playback_starts: CountChange,
    /// Minutes consumed.
    pub minutes_consumed: AmountChange,
}
