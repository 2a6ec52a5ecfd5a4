//! Registration counts, grouped in the database so only a few rows travel.

use async_trait::async_trait;
use ottstats_domain::RepoError;
use ottstats_domain::country::Country;
use ottstats_domain::gender::{Gender, GenderCounts};
use ottstats_domain::geography::{GeoCount, GeoLevel, GeoPlace};
use ottstats_domain::granularity::Bucket;
use ottstats_domain::period::Period;
use ottstats_domain::registration_filter::RegistrationFilter;
use ottstats_domain::repository::RegistrationStatsRepository;
use ottstats_domain::tenant::TenantId;
use sea_orm::QueryResult;

use crate::error::corrupt;
use crate::sql::{Sql, bucket_sql};
use crate::store::Store;

impl Store {
    /// `FROM … WHERE` the tenant's registrations in `[from, to)` passing the filter.
    fn registrations_in(sql: &mut Sql, tenant: TenantId, from: i64, to: i64, filter: &RegistrationFilter) {
        sql.push(" FROM registered_users u WHERE u.tenant_id = ")
            .bind(tenant.0)
            .push(" AND u.registered_at >= ")
            .bind(from)
            .push(" AND u.registered_at < ")
            .bind(to)
            .registration_filter(filter);
    }
}

fn period_ms(p: &Period) -> (i64, i64) {
    (p.from().timestamp_millis(), p.to().timestamp_millis())
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, col: &str) -> Result<T, RepoError> {
    row.try_get::<T>("", col).map_err(|e| corrupt(col, e))
}

fn count(row: &QueryResult) -> Result<u64, RepoError> {
    let n: i64 = get(row, "n")?;
    u64::try_from(n).map_err(|e| corrupt("count", e))
}

fn gender(row: &QueryResult) -> Result<Gender, RepoError> {
    get::<String>(row, "gender")?.parse().map_err(|e| corrupt("gender", e))
}

#[async_trait]
impl RegistrationStatsRepository for Store {
    async fn count_by_gender(
        &self,
        tenant: TenantId,
        period: &Period,
        filter: &RegistrationFilter,
    ) -> Result<GenderCounts, RepoError> {
        let (from, to) = period_ms(period);
        let mut sql = Sql::new("SELECT u.gender AS gender, COUNT(*) AS n");
        Store::registrations_in(&mut sql, tenant, from, to, filter);
        sql.push(" GROUP BY u.gender");
        let mut counts = GenderCounts::default();
        for row in self.statistics_rows(tenant, sql).await? {
            counts.add(gender(&row)?, count(&row)?);
        }
        Ok(counts)
    }

    async fn count_by_bucket(
        &self,
        tenant: TenantId,
        buckets: &[Bucket],
        filter: &RegistrationFilter,
    ) -> Result<Vec<GenderCounts>, RepoError> {
        let mut out = vec![GenderCounts::default(); buckets.len()];
        let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
            return Ok(out);
        };
        let (from, to) = (first.start.timestamp_millis(), last.end.timestamp_millis());
        let b = bucket_sql(self.backend, buckets, "u.registered_at");
        let mut sql = Sql::new(&format!(
            "{}SELECT {} AS idx, u.gender AS gender, COUNT(*) AS n FROM registered_users u{} WHERE u.tenant_id = ",
            b.with, b.index, b.join
        ));
        sql.bind(tenant.0)
            .push(" AND u.registered_at >= ")
            .bind(from)
            .push(" AND u.registered_at < ")
            .bind(to)
            .registration_filter(filter)
            .push(" GROUP BY 1, 2");
        for row in self.statistics_rows(tenant, sql).await? {
            let idx: i64 = get(&row, "idx")?;
            let slot =
                usize::try_from(idx).ok().and_then(|i| out.get_mut(i)).ok_or_else(|| corrupt("bucket index", idx))?;
            slot.add(gender(&row)?, count(&row)?);
        }
        Ok(out)
    }

    async fn count_by_age(
        &self,
        tenant: TenantId,
        period: &Period,
        filter: &RegistrationFilter,
    ) -> Result<Vec<(Option<u8>, u64)>, RepoError> {
        let (from, to) = period_ms(period);
        let mut sql = Sql::new("SELECT u.age AS age, COUNT(*) AS n");
        Store::registrations_in(&mut sql, tenant, from, to, filter);
        sql.push(" GROUP BY u.age");
        self.statistics_rows(tenant, sql)
            .await?
            .iter()
            .map(|row| {
                let age: Option<i16> = get(row, "age")?;
                Ok((age.and_then(|a| u8::try_from(a).ok()), count(row)?))
            })
            .collect()
    }

    async fn count_by_place(
        &self,
        tenant: TenantId,
        period: &Period,
        filter: &RegistrationFilter,
        level: GeoLevel,
        home: Country,
    ) -> Result<Vec<GeoCount>, RepoError> {
        let (from, to) = period_ms(period);
        let mut sql = Sql::new("SELECT u.country AS country, ");
        // Abroad folds into one row below COUNTRY level, so only home places are grouped.
        match level {
            GeoLevel::Country => sql.push("NULL AS state, NULL AS city, COUNT(*) AS n"),
            GeoLevel::State => sql
                .push("CASE WHEN u.country = ")
                .bind(home.code())
                .push(" THEN u.state END AS state, NULL AS city, COUNT(*) AS n"),
            GeoLevel::City => sql
                .push("CASE WHEN u.country = ")
                .bind(home.code())
                .push(" THEN u.state END AS state, CASE WHEN u.country = ")
                .bind(home.code())
                .push(" THEN u.city END AS city, COUNT(*) AS n"),
        };
        Store::registrations_in(&mut sql, tenant, from, to, filter);
        sql.push(" GROUP BY 1, 2, 3");
        let mut out = Vec::new();
        for row in self.statistics_rows(tenant, sql).await? {
            let country: Option<String> = get(&row, "country")?;
            let place = match country {
                None => GeoPlace::NoCountry,
                Some(code) => match Country::parse(&code) {
                    Some(c) if c == home => GeoPlace::Home { state: get(&row, "state")?, city: get(&row, "city")? },
                    Some(c) => GeoPlace::Abroad(Some(c)),
                    None => return Err(corrupt("country", code)),
                },
            };
            out.push(GeoCount { place, count: count(&row)? });
        }
        Ok(out)
    }
}
