//! Tenants and their API keys. A key reads `ott_<tenant id>_<secret>`: the id lets the
//! lookup go by (tenant, hash) like every other key, and only the hash is stored.

use async_trait::async_trait;
use chrono::Utc;
use chrono_tz::Tz;
use ottstats_domain::RepoError;
use ottstats_domain::country::Country;
use ottstats_domain::repository::{IssuedKey, TenantRepository};
use ottstats_domain::tenant::{Tenant, TenantId};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use sha2::{Digest, Sha256};

use crate::entities::{api_key, tenant};
use crate::error::{corrupt, db_err};
use crate::store::Store;

const KEY_PREFIX: &str = "ott_";

/// Lower-case hex SHA-256 of the key.
fn hash_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn new_key(tenant: TenantId) -> String {
    let mut secret = [0u8; 24];
    rand::rng().fill_bytes(&mut secret);
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    format!("{KEY_PREFIX}{}_{hex}", tenant.0)
}

/// The tenant id a key claims, if it has the shape of one of ours.
fn claimed_tenant(key: &str) -> Option<TenantId> {
    let rest = key.strip_prefix(KEY_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    if secret.is_empty() {
        return None;
    }
    id.parse().ok().map(TenantId)
}

fn to_domain(row: tenant::Model) -> Result<Tenant, RepoError> {
    let home_country = Country::parse(&row.home_country).ok_or_else(|| corrupt("tenant country", &row.home_country))?;
    let time_zone: Tz = row.time_zone.parse().map_err(|_| corrupt("tenant time zone", &row.time_zone))?;
    Ok(Tenant { id: TenantId(row.id), name: row.name, home_country, time_zone })
}

impl Store {
    async fn insert_key<C: sea_orm::ConnectionTrait>(conn: &C, tenant: TenantId) -> Result<String, RepoError> {
        let key = new_key(tenant);
        api_key::ActiveModel {
            tenant_id: Set(tenant.0),
            key_hash: Set(hash_key(&key)),
            created_at: Set(Utc::now().timestamp_millis()),
            revoked_at: Set(None),
        }
        .insert(conn)
        .await
        .map_err(db_err)?;
        Ok(key)
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
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(db_err)?;
        let tenant = to_domain(row)?;
        let api_key = Store::insert_key(&txn, tenant.id).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(IssuedKey { tenant, api_key })
    }

    async fn find_by_api_key(&self, key: &str) -> Result<Option<Tenant>, RepoError> {
        let Some(tenant_id) = claimed_tenant(key) else {
            return Ok(None);
        };
        let found = api_key::Entity::find_by_id((tenant_id.0, hash_key(key)))
            .filter(api_key::Column::RevokedAt.is_null())
            .one(&self.db)
            .await
            .map_err(db_err)?;
        if found.is_none() {
            return Ok(None);
        }
        let row = tenant::Entity::find_by_id(tenant_id.0).one(&self.db).await.map_err(db_err)?;
        row.map(to_domain).transpose()
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
        let key = Store::insert_key(&txn, tenant).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_tenant_and_hash_stably() {
        let key = new_key(TenantId(42));
        assert_eq!(claimed_tenant(&key), Some(TenantId(42)));
        assert_eq!(hash_key("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(hash_key(&key).len(), 64);
        assert_ne!(new_key(TenantId(42)), key);
    }

    #[test]
    fn malformed_keys_claim_nothing() {
        assert_eq!(claimed_tenant("ott_x_abc"), None);
        assert_eq!(claimed_tenant("ott_1_"), None);
        assert_eq!(claimed_tenant("Bearer"), None);
        assert_eq!(claimed_tenant(""), None);
    }
}
