//! The engine answers the registration panels through the same trait as the SQL path,
//! so the use cases do not know which one answered.

use async_trait::async_trait;
use ottstats_domain::RepoError;
use ottstats_domain::country::Country;
use ottstats_domain::gender::GenderCounts;
use ottstats_domain::geography::{GeoCount, GeoLevel};
use ottstats_domain::granularity::Bucket;
use ottstats_domain::period::Period;
use ottstats_domain::registration_filter::RegistrationFilter;
use ottstats_domain::repository::RegistrationStatsRepository;
use ottstats_domain::tenant::TenantId;

use crate::engine::Engine;

fn span(p: &Period) -> (i64, i64) {
    (p.from().timestamp_millis(), p.to().timestamp_millis())
}

#[async_trait]
impl RegistrationStatsRepository for Engine {
    async fn count_by_gender(
        &self,
        tenant: TenantId,
        period: &Period,
        filter: &RegistrationFilter,
    ) -> Result<GenderCounts, RepoError> {
        let (p, f) = (*period, filter.clone());
        let fallback = self.inner.fallback.count_by_gender(tenant, period, filter);
        self.answer(tenant, span(period), move |i| i.count_by_gender(&p, &f), fallback).await
    }

    async fn count_by_bucket(
        &self,
        tenant: TenantId,
        buckets: &[Bucket],
        filter: &RegistrationFilter,
    ) -> Result<Vec<GenderCounts>, RepoError> {
        let whole = match (buckets.first(), buckets.last()) {
            (Some(a), Some(b)) => (a.start.timestamp_millis(), b.end.timestamp_millis()),
            _ => return Ok(Vec::new()),
        };
        let (b, f) = (buckets.to_vec(), filter.clone());
        let fallback = self.inner.fallback.count_by_bucket(tenant, buckets, filter);
        self.answer(tenant, whole, move |i| i.count_by_bucket(&b, &f), fallback).await
    }

    async fn count_by_age(
        &self,
        tenant: TenantId,
        period: &Period,
        filter: &RegistrationFilter,
    ) -> Result<Vec<(Option<u8>, u64)>, RepoError> {
        let (p, f) = (*period, filter.clone());
        let fallback = self.inner.fallback.count_by_age(tenant, period, filter);
        self.answer(tenant, span(period), move |i| i.count_by_age(&p, &f), fallback).await
    }

    async fn count_by_place(
        &self,
        tenant: TenantId,
        period: &Period,
        filter: &RegistrationFilter,
        level: GeoLevel,
        home: Country,
    ) -> Result<Vec<GeoCount>, RepoError> {
        let (p, f) = (*period, filter.clone());
        let fallback = self.inner.fallback.count_by_place(tenant, period, filter, level, home);
        self.answer(tenant, span(period), move |i| i.count_by_place(&p, &f, level, home), fallback).await
    }
}
