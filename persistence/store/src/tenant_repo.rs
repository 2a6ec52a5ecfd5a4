//! Tenants. Their keys live in `key_repo`.

use async_trait::async_trait;
use chrono::Utc;
use chrono_tz::Tz;
use ottstats_domain::RepoError;
use ottstats_domain::access::{NewKey, Scopes};
use ottstats_domain::country::Country;
use ottstats_domain::repository::{IssuedKey, KeyRepository, TenantRepository};
use ottstats_domain::tenant::{Tenant, TenantId};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

use crate::entities::{api_key, tenant};
use crate::error::{corrupt, db_err};
use crate::key_repo::{bump_keys_revision, insert_key};
use crate::store::Store;

/// The key a new tenant (or the demo) gets.
fn first_key() -> NewKey {
    NewKey { name: "default".to_owned(), scopes: Scopes::DEFAULT, expires_at: None }
}

pub(crate) fn to_domain(row: tenant::Model) -> Result<Tenant, RepoError> {
    let home_country = Country::parse(&row.home_country).ok_or_else(|| corrupt("tenant country", &row.home_country))?;
    let time_zone: Tz = row.time_zone.parse().map_err(|_| corrupt("tenant time zone", &row.time_zone))?;
    let rate_limit =
        row.rate_limit.map(|n| u32::try_from(n).map_err(|_| corrupt("tenant rate limit", n))).transpose()?;
    Ok(Tenant { id: TenantId(row.id), name: row.name, home_country, time_zone, rate_limit })
}

impl Store {
    /// When the tenant was created (`None`: no such tenant): what anchors the demo's
    /// example period, generated once at creation.
    pub async fn tenant_created_at(&self, tenant: TenantId) -> Result<Option<chrono::DateTime<Utc>>, RepoError> {
        let row = tenant::Entity::find_by_id(tenant.0).one(&self.db).await.map_err(db_err)?;
        row.map(|r| {
            chrono::DateTime::from_timestamp_millis(r.created_at).ok_or_else(|| corrupt("tenant created", r.created_at))
        })
        .transpose()
    }
}

#[async_trait]
impl TenantRepository for Store {
    async fn create_tenant(&self, name: &str, home_country: Country, time_zone: Tz) -> Result<IssuedKey, RepoError> {
        let txn = self.db.begin().await.map_err(db_err)?;
        let row = tenant::ActiveModel {
            name: Set(name.to_owned()),
            home_country: Set(home_country.code().to_owned()),
            time_zone: Set(time_zone.name().to_owned()),
            created_at: Set(Utc::now().timestamp_millis()),
            rate_limit: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        let tenant = to_domain(row)?;
        let (_, api_key) = insert_key(&txn, tenant.id, &first_key()).await?;
        bump_keys_revision(&txn).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(IssuedKey { tenant, api_key })
    }

    async fn find_by_api_key(&self, key: &str) -> Result<Option<Tenant>, RepoError> {
        let found = self.find_key(key).await?;
        Ok(found.filter(|(_, grant)| grant.is_live(Utc::now())).map(|(tenant, _)| tenant))
    }

    async fn find_by_name(&self, name: &str) -> Result<Option<Tenant>, RepoError> {
        let row = tenant::Entity::find().filter(tenant::Column::Name.eq(name)).one(&self.db).await.map_err(db_err)?;
        row.map(to_domain).transpose()
    }

    async fn rotate_api_key(&self, tenant: TenantId) -> Result<String, RepoError> {
        let txn = self.db.begin().await.map_err(db_err)?;
        api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(Utc::now().timestamp_millis()))
            .filter(api_key::Column::TenantId.eq(tenant.0))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(&txn)
            .await
            .map_err(db_err)?;
        let (_, key) = insert_key(&txn, tenant, &first_key()).await?;
        bump_keys_revision(&txn).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(key)
    }

    async fn set_rate_limit(&self, tenant: TenantId, per_minute: Option<u32>) -> Result<bool, RepoError> {
        let txn = self.db.begin().await.map_err(db_err)?;
        let changed = tenant::Entity::update_many()
            .col_expr(tenant::Column::RateLimit, Expr::value(per_minute.map(i64::from)))
            .filter(tenant::Column::Id.eq(tenant.0))
            .exec(&txn)
            .await
            .map_err(db_err)?
            .rows_affected;
        // Grants remembered by every process carry the tenant: they are forgotten.
        bump_keys_revision(&txn).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(changed > 0)
    }
}
