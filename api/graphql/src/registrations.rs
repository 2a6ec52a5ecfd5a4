//! `registrations(period, filter)`: parsed once here, figured in the domain.

use async_graphql::{Context, InputObject, Object, SimpleObject};
use ottstats_domain::age::{AgeBucket, AgeRanges};
use ottstats_domain::gender::GenderCounts;
use ottstats_domain::period::Period;
use ottstats_domain::registration_filter::RegistrationFilter;
use ottstats_domain::registration_stats::{self as stats, RegistrationQuery};
use ottstats_domain::timeline::TimelineBucket as DomainBucket;
use std::sync::Arc;

use ottstats_domain::repository::RegistrationStatsRepository;
use tokio::sync::OnceCell;

use super::comparison::{RegistrationChange, ResolvedPeriod, shifted};
use super::enums::{GenderValue, GeoLevelValue, GranularityValue, PeriodShiftValue};
use super::scalars::{CountryCodeScalar, DateTimeScalar, TimeZoneScalar};
use super::tenant_context;
use crate::reader::Reader;

use crate::error::{Gql, GqlResult};

/// A period `[from, to)`. `from` and `to` take RFC 3339 instants
/// (`2026-03-01T00:00:00Z`) or local forms read in `timeZone` (`2026-03-01`,
/// `2026-03-01T08:00`).
#[derive(InputObject, Debug, Clone)]
pub struct PeriodInput {
    /// Start, included.
    pub from: String,
    /// End, excluded; must be after `from`, at most 20 years later.
    pub to: String,
    /// The time zone `from`, `to` and the buckets are read in; the tenant's when omitted.
    pub time_zone: Option<TimeZoneScalar>,
}

impl PeriodInput {
    /// The domain period, errors named under `argument` (`period.from`, …).
    pub fn parse(&self, default_tz: chrono_tz::Tz, argument: &str) -> GqlResult<Period> {
        let time_zone = self.time_zone.as_ref().map(|t| t.0.as_str());
        Period::parse(&self.from, &self.to, time_zone, default_tz).gql_at(argument)
    }
}

/// Restricts which registrations count. Omitted fields do not restrict.
#[derive(InputObject, Debug, Clone, Default)]
#[graphql(name = "RegistrationFilter")]
pub struct RegistrationFilterInput {
    /// Only these genders.
    pub genders: Option<Vec<GenderValue>>,
    /// Only these countries.
    pub countries: Option<Vec<CountryCodeScalar>>,
    /// Only users at least this old at registration; leaves out unknown ages.
    pub min_age: Option<i32>,
    /// Only users at most this old at registration; leaves out unknown ages.
    pub max_age: Option<i32>,
}

impl RegistrationFilterInput {
    fn parse(&self) -> GqlResult<RegistrationFilter> {
        let genders = self.genders.as_ref().map(|g| g.iter().map(|v| (*v).into()).collect());
        let countries: Option<Vec<String>> = self.countries.as_ref().map(|c| c.iter().map(|c| c.0.clone()).collect());
        RegistrationFilter::parse(genders, countries.as_deref(), self.min_age, self.max_age).gql_at("filter")
    }
}

/// An age range asked for; `maxAge` omitted means open-ended (`65+`).
#[derive(InputObject, Debug, Clone)]
pub struct AgeRangeInput {
    /// Lowest age in the range, inclusive.
    pub min_age: i32,
    /// Highest age in the range, inclusive; omitted for an open-ended range.
    pub max_age: Option<i32>,
}

/// Statistics of the registrations in a period that pass a filter. Each field is one
/// panel; ask only for the ones you show.
pub struct RegistrationStats {
    query: RegistrationQuery,
    reader: Reader,
    /// What every panel of this question is answered from: one version of the data, so
    /// that the total, the timeline and the shares add up.
    view: OnceCell<Arc<dyn RegistrationStatsRepository>>,
    /// `total` and `byGender` share one count.
    genders: OnceCell<GenderCounts>,
}

impl RegistrationStats {
    pub fn resolve(
        ctx: &Context<'_>,
        period: PeriodInput,
        filter: Option<RegistrationFilterInput>,
    ) -> GqlResult<RegistrationStats> {
        let tc = tenant_context(ctx)?;
        let tenant = tc.tenant.clone();
        let period = period.parse(tenant.time_zone, "period")?;
        let filter = filter.map(|f| f.parse()).transpose()?.unwrap_or_default();
        Ok(RegistrationStats::new(RegistrationQuery { tenant, period, filter }, tc.reader.clone()))
    }

    fn new(query: RegistrationQuery, reader: Reader) -> RegistrationStats {
        RegistrationStats { query, reader, view: OnceCell::new(), genders: OnceCell::new() }
    }

    /// The same question, to be answered afresh by `reader`.
    pub fn fresh(&self, reader: Reader) -> RegistrationStats {
        RegistrationStats::new(self.query.clone(), reader)
    }

    /// The same question over the earlier period, read from the same view of the data
    /// (so that a figure and its earlier figure come from one version).
    async fn earlier(&self, shift: PeriodShiftValue) -> GqlResult<RegistrationStats> {
        let period = shifted(&self.query.period, shift)?;
        let view = self.shared_view().await?.clone();
        let query = RegistrationQuery { period, ..self.query.clone() };
        Ok(RegistrationStats {
            view: OnceCell::new_with(Some(view)),
            ..RegistrationStats::new(query, self.reader.clone())
        })
    }

    /// The view this question's panels share, taken by the first panel asked.
    async fn shared_view(&self) -> GqlResult<&Arc<dyn RegistrationStatsRepository>> {
        self.view.get_or_try_init(|| async { self.reader.registrations().await.gql() }).await
    }

    async fn repo(&self) -> GqlResult<&dyn RegistrationStatsRepository> {
        Ok(self.shared_view().await?.as_ref())
    }

    async fn gender_counts(&self) -> GqlResult<&GenderCounts> {
        let repo = self.repo().await?;
        self.genders.get_or_try_init(|| async { stats::gender_counts(repo, &self.query).await.gql() }).await
    }

    fn bucket(&self, b: &DomainBucket) -> TimelineBucket {
        let period = &self.query.period;
        TimelineBucket {
            start: period.format(b.bucket.start).into(),
            end: period.format(b.bucket.end).into(),
            total: count(b.total()),
            by_gender: gender_counts(&b.counts),
        }
    }
}

/// A count as GraphQL's `Int` (64-bit here), saturating.
pub(crate) fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn gender_counts(c: &GenderCounts) -> Vec<GenderCount> {
    ottstats_domain::gender::Gender::ALL
        .into_iter()
        .map(|g| GenderCount { gender: g.into(), count: count(c.get(g)) })
        .collect()
}

/// Statistics of the registrations in a period that pass a filter. Each field is one
/// panel; ask only for the ones you show.
#[Object]
impl RegistrationStats {
    /// The period as read: its bounds with their offsets, and its time zone.
    async fn period(&self) -> ResolvedPeriod {
        ResolvedPeriod::from(&self.query.period)
    }

    /// The same statistics (same filter) over an earlier period; its buckets are its own.
    async fn previous(
        &self,
        #[graphql(default_with = "PeriodShiftValue::PreviousPeriod", desc = "Which earlier period.")]
        shift: PeriodShiftValue,
    ) -> GqlResult<RegistrationStats> {
        self.earlier(shift).await
    }

    /// The total against the total of an earlier period (same filter).
    async fn change(
        &self,
        #[graphql(default_with = "PeriodShiftValue::PreviousPeriod", desc = "Which earlier period.")]
        shift: PeriodShiftValue,
    ) -> GqlResult<RegistrationChange> {
        let earlier = self.earlier(shift).await?;
        let total = count(self.gender_counts().await?.total());
        let previous = count(earlier.gender_counts().await?.total());
        Ok(RegistrationChange::new(total, previous))
    }

    /// Registrations in the period passing the filter.
    async fn total(&self) -> GqlResult<i64> {
        Ok(count(self.gender_counts().await?.total()))
    }

    /// Every bucket of the period (empty ones with zeros), split by gender, and the peak.
    async fn timeline(
        &self,
        #[graphql(default_with = "GranularityValue::Day", desc = "Bucket width.")] granularity: GranularityValue,
    ) -> GqlResult<RegistrationTimeline> {
        let repo = self.repo().await?;
        let timeline = stats::timeline(repo, &self.query, granularity.into()).await.gql()?;
        Ok(RegistrationTimeline {
            peak: timeline.peak_bucket().map(|b| self.bucket(b)),
            buckets: timeline.buckets.iter().map(|b| self.bucket(b)).collect(),
        })
    }

    /// Each gender once (`FEMALE MALE OTHER UNKNOWN`) with its count and share.
    async fn by_gender(&self) -> GqlResult<Vec<GenderShare>> {
        let counts = self.gender_counts().await?;
        Ok(stats::gender_shares(counts)
            .into_iter()
            .map(|s| GenderShare { gender: s.gender.into(), count: count(s.count), percentage: s.percentage })
            .collect())
    }

    /// Age at registration by range: the given ranges (default `0-17, 18-24, 25-34,
    /// 35-44, 45-54, 55-64, 65+`) in ascending order, an "Other" row for known ages
    /// outside every given range (only when there are some), and "Unknown" last.
    async fn by_age(
        &self,
        #[graphql(desc = "Ranges that neither overlap nor invert; the defaults when omitted.")] ranges: Option<
            Vec<AgeRangeInput>,
        >,
    ) -> GqlResult<Vec<AgeShare>> {
        let ranges = match ranges {
            None => AgeRanges::default(),
            Some(r) => {
                let raw: Vec<(i32, Option<i32>)> = r.iter().map(|r| (r.min_age, r.max_age)).collect();
                AgeRanges::parse(&raw).gql()?
            }
        };
        let repo = self.repo().await?;
        let rows = stats::age_shares(repo, &self.query, &ranges).await.gql()?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let (min_age, max_age) = match r.bucket {
                    AgeBucket::Range(range) => (Some(i32::from(range.min)), range.max.map(i32::from)),
                    AgeBucket::Other | AgeBucket::Unknown => (None, None),
                };
                AgeShare { label: r.label, min_age, max_age, count: count(r.count), percentage: r.percentage }
            })
            .collect())
    }

    /// Registrations by place, highest count first, then by label.
    async fn by_geography(
        &self,
        #[graphql(desc = "How finely to break down.")] level: GeoLevelValue,
    ) -> GqlResult<Vec<GeoShare>> {
        let repo = self.repo().await?;
        let rows = stats::geography(repo, &self.query, level.into()).await.gql()?;
        Ok(rows
            .into_iter()
            .map(|r| GeoShare {
                label: r.label,
                code: r.code.map(CountryCodeScalar),
                parent: r.parent,
                count: count(r.count),
                percentage: r.percentage,
                is_other: r.is_other,
            })
            .collect())
    }
}

/// The buckets of a period and its peak.
#[derive(SimpleObject)]
pub struct RegistrationTimeline {
    /// Every bucket of the period in order, empty ones with zeros.
    buckets: Vec<TimelineBucket>,
    /// The bucket with the highest total, the earliest on ties; null when all are empty.
    peak: Option<TimelineBucket>,
}

/// One bucket of a timeline.
#[derive(SimpleObject, Clone)]
pub struct TimelineBucket {
    /// Start, included, with the offset of the period's time zone.
    start: DateTimeScalar,
    /// End, excluded.
    end: DateTimeScalar,
    /// Registrations in the bucket.
    total: i64,
    /// Each gender once, in `FEMALE MALE OTHER UNKNOWN` order.
    by_gender: Vec<GenderCount>,
}

/// A gender's count in a bucket.
#[derive(SimpleObject, Clone)]
pub struct GenderCount {
    /// The gender.
    gender: GenderValue,
    /// Registrations of this gender in the bucket.
    count: i64,
}

/// A gender's count and share of the total.
#[derive(SimpleObject)]
pub struct GenderShare {
    /// The gender.
    gender: GenderValue,
    /// Registrations of this gender.
    count: i64,
    /// `100 × count / total`; 0 when the total is 0.
    percentage: f64,
}

/// An age range's count and share.
#[derive(SimpleObject)]
pub struct AgeShare {
    /// `18-24`, `65+`, `Other` or `Unknown`.
    label: String,
    /// Lowest age of the range; null on `Other` and `Unknown`.
    min_age: Option<i32>,
    /// Highest age of the range; null when open-ended, and on `Other` and `Unknown`.
    max_age: Option<i32>,
    /// Registrations whose age at registration falls in the range.
    count: i64,
    /// `100 × count / total`; 0 when the total is 0.
    percentage: f64,
}

/// A place's count and share.
#[derive(SimpleObject)]
pub struct GeoShare {
    /// Country name, state or city as given, `Other` (abroad) or `Unknown` (not given).
    label: String,
    /// The country, on COUNTRY rows of a known country.
    code: Option<CountryCodeScalar>,
    /// The state's label on CITY rows of the home country (`Unknown` when not given).
    parent: Option<String>,
    /// Registrations in the place.
    count: i64,
    /// `100 × count / total`; 0 when the total is 0.
    percentage: f64,
    /// True on the row that folds every registration abroad.
    is_other: bool,
}
