//! The engine answers the registration panels through the same trait as the SQL path,
//! so the use cases do not know which one answered. Each call here takes a view of its
//! own; a request's panels share one through [`RegistrationViews`].

use async_trait::async_trait;
use ottstats_domain::RepoError;
use ottstats_domain::country::Country;
use ottstats_domain::gender::GenderCounts;
use ottstats_domain::geography::{GeoCount, GeoLevel};
use ottstats_domain::granularity::Bucket;
use ottstats_domain::period::Period;
use ottstats_domain::registration_filter::RegistrationFilter;
use ottstats_domain::repository::{RegistrationStatsRepository, RegistrationViews};
use ottstats_domain::tenant::TenantId;

use crate::engine::Engine;

macro_rules! through_a_view {
    ($self:ident, $tenant:ident, $call:ident($($arg:expr),*)) => {
        $self.view($tenant).await?.$call($tenant, $($arg),*).await
    };
}

#[async_trait]
impl RegistrationStatsRepository for Engine {
    async fn count_by_gender(
        &self,
        tenant: TenantId,
        period: &Period,
        filter: &RegistrationFilter,
    ) -> Result<GenderCounts, RepoError> {
        through_a_view!(self, tenant, count_by_gender(period, filter))
    }

    async fn count_by_bucket(
        &self,
        tenant: TenantId,
        buckets: &[Bucket],
        filter: &RegistrationFilter,
    ) -> Result<Vec<GenderCounts>, RepoError> {
        through_a_view!(self, tenant, count_by_bucket(buckets, filter))
    }

    async fn count_by_age(
        &self,
        tenant: TenantId,
        period: &Period,
        filter: &RegistrationFilter,
    ) -> Result<Vec<(Option<u8>, u64)>, RepoError> {
        through_a_view!(self, tenant, count_by_age(period, filter))
    }

    async fn count_by_place(
        &self,
        tenant: TenantId,
        period: &Period,
        filter: &RegistrationFilter,
        level: GeoLevel,
        home: Country,
    ) -> Result<Vec<GeoCount>, RepoError> {
        through_a_view!(self, tenant, count_by_place(period, filter, level, home))
    }
}
