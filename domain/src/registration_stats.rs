//! The registration statistics use cases: figures computed from store counts.

use crate::DomainError;
use crate::age::{AgeRanges, AgeShare, fold_ages};
use crate::gender::{Gender, GenderCounts};
use crate::geography::{GeoLevel, GeoShare, fold_geography};
use crate::granularity::{Granularity, buckets};
use crate::period::Period;
use crate::registration_filter::RegistrationFilter;
use crate::repository::RegistrationStatsRepository;
use crate::share::percentage;
use crate::tenant::Tenant;
use crate::timeline::Timeline;

/// One question about registrations: whose, when, which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationQuery {
    pub tenant: Tenant,
    pub period: Period,
    pub filter: RegistrationFilter,
}

/// A gender's count and share.
#[derive(Debug, Clone, PartialEq)]
pub struct GenderShare {
    pub gender: Gender,
    pub count: u64,
    pub percentage: f64,
}

/// Every gender once, in [`Gender::ALL`] order.
pub fn gender_shares(counts: &GenderCounts) -> Vec<GenderShare> {
    let total = counts.total();
    Gender::ALL
        .into_iter()
        .map(|gender| {
            let count = counts.get(gender);
            GenderShare { gender, count, percentage: percentage(count, total) }
        })
        .collect()
}

pub async fn gender_counts(
    repo: &dyn RegistrationStatsRepository,
    q: &RegistrationQuery,
) -> Result<GenderCounts, DomainError> {
    Ok(repo.count_by_gender(q.tenant.id, &q.period, &q.filter).await?)
}

pub async fn timeline(
    repo: &dyn RegistrationStatsRepository,
    q: &RegistrationQuery,
    granularity: Granularity,
) -> Result<Timeline, DomainError> {
    let buckets = buckets(&q.period, granularity)?;
    let counts = repo.count_by_bucket(q.tenant.id, &buckets, &q.filter).await?;
    Ok(Timeline::new(buckets, counts))
}

pub async fn age_shares(
    repo: &dyn RegistrationStatsRepository,
    q: &RegistrationQuery,
    ranges: &AgeRanges,
) -> Result<Vec<AgeShare>, DomainError> {
    let counts = repo.count_by_age(q.tenant.id, &q.period, &q.filter).await?;
    Ok(fold_ages(ranges, &counts))
}

pub async fn geography(
    repo: &dyn RegistrationStatsRepository,
    q: &RegistrationQuery,
    level: GeoLevel,
) -> Result<Vec<GeoShare>, DomainError> {
    let home = q.tenant.home_country;
    let counts = repo.count_by_place(q.tenant.id, &q.period, &q.filter, level, home).await?;
    Ok(fold_geography(level, home, &counts))
}
