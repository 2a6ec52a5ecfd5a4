//! Keys the installation can make again: derived from its secret (the `installation`
//! table), so that a key printed once, the demo's, is the same key after every restart
//! of the same database, while only its hash is stored like any other key's. A derived
//! key is a real key: same shape, same hashing, its scopes and name stored with it, and
//! revoking it works; the next start then derives the next one of its series.

use chrono::Utc;
use ottstats_domain::RepoError;
use ottstats_domain::access::NewKey;
use ottstats_domain::tenant::TenantId;
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::connect::Backend;
use crate::entities::api_key;
use crate::error::db_err;
use crate::key_repo::{bump_keys_revision, hash_key, insert_key_value, key_of};
use crate::store::Store;

/// Derived keys of one series tried before giving up (each revoked one moves to the next).
const SERIES: u32 = 1_000;

impl Store {
    /// The first key of `tenant`'s series `label` that is not revoked or expired, stored
    /// with the grant of `new` when it is not stored yet.
    pub async fn derived_key(&self, tenant: TenantId, label: &str, new: &NewKey) -> Result<String, RepoError> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await?;
        if self.backend() == Backend::Postgres {
            // Two processes starting on one database derive the same key: one inserts it.
            txn.execute_unprepared("SELECT pg_advisory_xact_lock(7247253)").await.map_err(db_err)?;
        }
        let now = Utc::now().timestamp_millis();
        for n in 0..SERIES {
            let mut input = Vec::with_capacity(label.len() + 24);
            input.extend_from_slice(b"ottstats derived key\0");
            input.extend_from_slice(&tenant.0.to_be_bytes());
            input.extend_from_slice(&n.to_be_bytes());
            input.extend_from_slice(label.as_bytes());
            let key = key_of(tenant, &self.secret().derive(&input));
            let row = api_key::Entity::find_by_id((tenant.0, hash_key(&key))).one(&txn).await.map_err(db_err)?;
            match row {
                Some(row) if row.revoked_at.is_none() && row.expires_at.is_none_or(|at| at > now) => {
                    txn.commit().await.map_err(db_err)?;
                    return Ok(key);
                }
                Some(_) => continue,
                None => {
                    let (_, key) = insert_key_value(&txn, tenant, new, key).await?;
                    bump_keys_revision(&txn).await?;
                    txn.commit().await.map_err(db_err)?;
                    return Ok(key);
                }
            }
        }
        Err(RepoError::Internal(format!("every one of the {SERIES} derived keys {label:?} is revoked")))
    }
}
