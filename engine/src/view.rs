//! What a question is answered from: one published version of a tenant's index (or the
//! fallback while it loads), shared by every panel of the question, so that a request's
//! total, timeline and shares come from the same data and always add up.

use std::sync::Arc;

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
use crate::index::RegistrationIndex;

/// One version of one tenant's index.
pub struct IndexView {
    index: Arc<RegistrationIndex>,
    /// Panels over more rows than this are computed on a blocking thread.
    blocking_rows: usize,
}

impl IndexView {
    pub fn new(index: Arc<RegistrationIndex>, blocking_rows: usize) -> IndexView {
        IndexView { index, blocking_rows }
    }

    async fn compute<T, C>(&self, span: (i64, i64), compute: C) -> Result<T, RepoError>
    where
        T: Send + 'static,
        C: FnOnce(&RegistrationIndex) -> T + Send + 'static,
    {
        if self.index.rows_between(span.0, span.1) < self.blocking_rows {
            return Ok(compute(&self.index));
        }
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || compute(&index))
            .await
            .map_err(|e| RepoError::Internal(format!("registrations index: a panel failed: {e}")))
    }
}

fn span(p: &Period) -> (i64, i64) {
    (p.from().timestamp_millis(), p.to().timestamp_millis())
}

#[async_trait]
impl RegistrationStatsRepository for IndexView {
    async fn count_by_gender(
        &self,
        _: TenantId,
        p: &Period,
        f: &RegistrationFilter,
    ) -> Result<GenderCounts, RepoError> {
        let (p, f) = (*p, f.clone());
        self.compute(span(&p), move |i| i.count_by_gender(&p, &f)).await
    }

    async fn count_by_bucket(
        &self,
        _: TenantId,
        buckets: &[Bucket],
        f: &RegistrationFilter,
    ) -> Result<Vec<GenderCounts>, RepoError> {
        let whole = match (buckets.first(), buckets.last()) {
            (Some(a), Some(b)) => (a.start.timestamp_millis(), b.end.timestamp_millis()),
            _ => return Ok(Vec::new()),
        };
        let (b, f) = (buckets.to_vec(), f.clone());
        self.compute(whole, move |i| i.count_by_bucket(&b, &f)).await
    }

    async fn count_by_age(
        &self,
        _: TenantId,
        p: &Period,
        f: &RegistrationFilter,
    ) -> Result<Vec<(Option<u8>, u64)>, RepoError> {
        let (p, f) = (*p, f.clone());
        self.compute(span(&p), move |i| i.count_by_age(&p, &f)).await
    }

    async fn count_by_place(
        &self,
        _: TenantId,
        p: &Period,
        f: &RegistrationFilter,
        level: GeoLevel,
        home: Country,
    ) -> Result<Vec<GeoCount>, RepoError> {
        let (p, f) = (*p, f.clone());
        self.compute(span(&p), move |i| i.count_by_place(&p, &f, level, home)).await
    }
}

#[async_trait]
impl RegistrationViews for Engine {
    async fn view(&self, tenant: TenantId) -> Result<Arc<dyn RegistrationStatsRepository>, RepoError> {
        Ok(match self.snapshot(tenant).await? {
            Some(index) => Arc::new(IndexView::new(index, self.inner.settings.blocking_rows)),
            None => self.inner.fallback.clone(),
        })
    }
}
