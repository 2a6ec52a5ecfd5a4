//! API keys. A key reads `ott_<tenant id>_<48 hex>`: the id lets the lookup go by
//! (tenant, hash) like every other key, and only the hash is stored. Every change of a
//! key moves the installation's `keys_revision` in the same transaction, which every
//! process polls to forget the grants it remembers.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ottstats_domain::RepoError;
use ottstats_domain::access::{KeyGrant, KeyId, KeyRecord, NewKey, Scopes};
use ottstats_domain::repository::KeyRepository;
use ottstats_domain::tenant::{Tenant, TenantId};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, Statement};
use sha2::{Digest, Sha256};

use crate::entities::{api_key, tenant};
use crate::error::{corrupt, db_err};
use crate::store::Store;

const KEY_PREFIX: &str = "ott_";

/// Lower-case hex SHA-256 of the key.
pub(crate) fn hash_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A key of `tenant` whose 24 secret bytes are `secret`'s first (see `derived_key`).
pub(crate) fn key_of(tenant: TenantId, secret: &[u8]) -> String {
    let hex: String = secret.iter().take(24).map(|b| format!("{b:02x}")).collect();
    format!("{KEY_PREFIX}{}_{hex}", tenant.0)
}

fn new_key(tenant: TenantId) -> String {
    let mut secret = [0u8; 24];
    rand::rng().fill_bytes(&mut secret);
    key_of(tenant, &secret)
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

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn instant(ms: i64) -> Result<DateTime<Utc>, RepoError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| corrupt("key timestamp", ms))
}

fn to_record(row: &api_key::Model) -> Result<KeyRecord, RepoError> {
    Ok(KeyRecord {
        id: KeyId::parse(&row.key_id).map_err(|_| corrupt("key id", &row.key_id))?,
        name: row.name.clone(),
        scopes: Scopes::parse(&row.scopes).map_err(|_| corrupt("key scopes", &row.scopes))?,
        created_at: instant(row.created_at)?,
        expires_at: row.expires_at.map(instant).transpose()?,
        last_used_at: row.last_used_at.map(instant).transpose()?,
        revoked_at: row.revoked_at.map(instant).transpose()?,
    })
}

/// Inserts a new key of `tenant` (the caller's transaction moves the revision).
pub(crate) async fn insert_key<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    new: &NewKey,
) -> Result<(KeyRecord, String), RepoError> {
    insert_key_value(conn, tenant, new, new_key(tenant)).await
}

/// Inserts `key` (of our shape, for `tenant`) with the grant of `new`.
pub(crate) async fn insert_key_value<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    new: &NewKey,
    key: String,
) -> Result<(KeyRecord, String), RepoError> {
    let hash = hash_key(&key);
    let row = api_key::ActiveModel {
        tenant_id: Set(tenant.0),
        key_id: Set(KeyId::of_hash(&hash).as_str().to_owned()),
        key_hash: Set(hash),
        name: Set(new.name.clone()),
        scopes: Set(new.scopes.to_string()),
        created_at: Set(millis(Utc::now())),
        expires_at: Set(new.expires_at.map(millis)),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(conn)
    .await
    .map_err(db_err)?;
    Ok((to_record(&row)?, key))
}

/// Moves the revision every process polls; in the transaction that changes a key.
pub(crate) async fn bump_keys_revision<C: ConnectionTrait>(conn: &C) -> Result<(), RepoError> {
    conn.execute_unprepared("UPDATE installation SET keys_revision = keys_revision + 1 WHERE id = 1")
        .await
        .map_err(db_err)?;
    Ok(())
}

/// The unrevoked key `id` of `tenant`.
async fn live_row<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    id: &KeyId,
) -> Result<Option<api_key::Model>, RepoError> {
    api_key::Entity::find()
        .filter(api_key::Column::TenantId.eq(tenant.0))
        .filter(api_key::Column::KeyId.eq(id.as_str()))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(conn)
        .await
        .map_err(db_err)
}

#[async_trait]
impl KeyRepository for Store {
    async fn find_key(&self, key: &str) -> Result<Option<(Tenant, KeyGrant)>, RepoError> {
        let Some(tenant_id) = claimed_tenant(key) else {
            return Ok(None);
        };
        let found = api_key::Entity::find_by_id((tenant_id.0, hash_key(key)))
            .filter(api_key::Column::RevokedAt.is_null())
            .one(&self.db)
            .await
            .map_err(db_err)?;
        let Some(found) = found else { return Ok(None) };
        let Some(row) = tenant::Entity::find_by_id(tenant_id.0).one(&self.db).await.map_err(db_err)? else {
            return Ok(None);
        };
        let record = to_record(&found)?;
        let grant = KeyGrant { key: record.id, scopes: record.scopes, expires_at: record.expires_at };
        Ok(Some((crate::tenant_repo::to_domain(row)?, grant)))
    }

    async fn create_key(&self, tenant: TenantId, new: NewKey) -> Result<(KeyRecord, String), RepoError> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await?;
        let made = insert_key(&txn, tenant, &new).await?;
        bump_keys_revision(&txn).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(made)
    }

    async fn list_keys(&self, tenant: TenantId) -> Result<Vec<KeyRecord>, RepoError> {
        let rows = api_key::Entity::find()
            .filter(api_key::Column::TenantId.eq(tenant.0))
            .order_by_desc(api_key::Column::CreatedAt)
            .order_by_asc(api_key::Column::KeyId)
            .all(&self.db)
            .await
            .map_err(db_err)?;
        rows.iter().map(to_record).collect()
    }

    async fn revoke_key(&self, tenant: TenantId, key: &KeyId) -> Result<bool, RepoError> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await?;
        let revoked = api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(millis(Utc::now())))
            .filter(api_key::Column::TenantId.eq(tenant.0))
            .filter(api_key::Column::KeyId.eq(key.as_str()))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(&txn)
            .await
            .map_err(db_err)?
            .rows_affected;
        bump_keys_revision(&txn).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(revoked > 0)
    }

    async fn rotate_key(
        &self,
        tenant: TenantId,
        key: &KeyId,
        overlap: std::time::Duration,
    ) -> Result<Option<(KeyRecord, String)>, RepoError> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await?;
        let Some(old) = live_row(&txn, tenant, key).await? else {
            return Ok(None);
        };
        let now = Utc::now();
        let overlap = chrono::Duration::from_std(overlap).unwrap_or(chrono::Duration::MAX);
        let mut retired: api_key::ActiveModel = old.clone().into();
        if overlap.is_zero() {
            retired.revoked_at = Set(Some(millis(now)));
        } else {
            // The old key ends after the overlap, or at its own expiry if that is sooner.
            let ends = now.checked_add_signed(overlap).map(millis).unwrap_or(i64::MAX);
            retired.expires_at = Set(Some(old.expires_at.map_or(ends, |at| at.min(ends))));
        }
        retired.update(&txn).await.map_err(db_err)?;
        // The new key keeps the old one's name, scopes and expiry: rotating extends nothing.
        let record = to_record(&old)?;
        let new = NewKey { name: record.name, scopes: record.scopes, expires_at: record.expires_at };
        let made = insert_key(&txn, tenant, &new).await?;
        bump_keys_revision(&txn).await?;
        txn.commit().await.map_err(db_err)?;
        Ok(Some(made))
    }

    async fn touch_keys(&self, used: &[(TenantId, KeyId)], at: DateTime<Utc>) -> Result<(), RepoError> {
        for (tenant, key) in used {
            api_key::Entity::update_many()
                .col_expr(api_key::Column::LastUsedAt, Expr::value(millis(at)))
                .filter(api_key::Column::TenantId.eq(tenant.0))
                .filter(api_key::Column::KeyId.eq(key.as_str()))
                .exec(&self.db)
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    async fn keys_revision(&self) -> Result<i64, RepoError> {
        let sql = "SELECT keys_revision FROM installation WHERE id = 1";
        let row = self
            .db
            .query_one_raw(Statement::from_string(self.db.get_database_backend(), sql))
            .await
            .map_err(db_err)?
            .ok_or_else(|| corrupt("installation", "no row"))?;
        row.try_get("", "keys_revision").map_err(|e| corrupt("keys revision", e))
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
