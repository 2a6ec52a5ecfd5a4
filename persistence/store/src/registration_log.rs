//! The registrations log: the change records each user write leaves in its transaction
//! (written here), and what the registrations index reads (the [`RegistrationLog`]
//! implementation: a consistent snapshot of every registration, and the records since a
//! version).

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use ottstats_domain::RepoError;
use ottstats_domain::registration_log::{
    ChangesSince, RegistrationChange, RegistrationFacts, RegistrationLog, RegistrationRef, RegistrationSnapshot,
};
use ottstats_domain::scope::DataVersions;
use ottstats_domain::scope::Scope;
use ottstats_domain::tenant::TenantId;
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult};

use crate::error::{corrupt, db_err};
use crate::sql::Sql;
use crate::store::Store;

/// Pruning runs in one write out of this many versions.
const PRUNE_EVERY: i64 = 64;
/// Records per INSERT statement (12 columns: well under either engine's limit on
/// bound parameters).
const CHUNK: usize = 500;

/// Takes the tenant's turn for `scope` inside `txn` and returns its current version.
/// Concurrent writers of one tenant's scope wait here for each other, so each reads what
/// its predecessor committed (and, for registrations, its records describe exactly the
/// step from one version to the next). The first statement writes, which on SQLite also
/// takes the write lock at once rather than upgrading to it later.
pub(crate) async fn lock_version(txn: &DatabaseTransaction, tenant: TenantId, scope: &Scope) -> Result<i64, RepoError> {
    let scope = scope.key();
    let backend = txn.get_database_backend();
    let mut insert = Sql::new("INSERT INTO data_versions (tenant_id, scope, version) VALUES (");
    insert.bind(tenant.0).push(", ").bind(scope.clone()).push(", 0) ON CONFLICT (tenant_id, scope) DO NOTHING");
    txn.execute_raw(insert.statement(backend)).await.map_err(db_err)?;
    let mut select = Sql::new("SELECT version FROM data_versions WHERE tenant_id = ");
    select.bind(tenant.0).push(" AND scope = ").bind(scope.clone());
    if backend == sea_orm::DbBackend::Postgres {
        select.push(" FOR UPDATE");
    }
    let row = txn.query_one_raw(select.statement(backend)).await.map_err(db_err)?;
    let row = row.ok_or_else(|| RepoError::Internal(format!("the {scope} version row is missing")))?;
    row.try_get::<i64>("", "version").map_err(|e| corrupt("data version", e))
}

/// Writes the records of `version` (the one this transaction's bump produces), and now
/// and then prunes the tenant's records older than `retention` (the
/// `database.change_retention` setting: an index that has not caught up for longer reloads).
pub(crate) async fn record(
    txn: &DatabaseTransaction,
    tenant: TenantId,
    version: i64,
    changes: &[(bool, RegistrationFacts)],
    retention: Duration,
) -> Result<(), RepoError> {
    let backend = txn.get_database_backend();
    let now = Utc::now().timestamp_millis();
    for (c, chunk) in changes.chunks(CHUNK).enumerate() {
        let mut sql = Sql::new(
            "INSERT INTO registration_changes (tenant_id, version, seq, added, registered_at, gender, age, country, \
             state, city, recorded_at) VALUES ",
        );
        for (i, (added, f)) in chunk.iter().enumerate() {
            let seq = i32::try_from(c * CHUNK + i).map_err(|e| RepoError::Internal(e.to_string()))?;
            if i > 0 {
                sql.push(", ");
            }
            sql.push("(")
                .bind(tenant.0)
                .push(", ")
                .bind(version)
                .push(", ")
                .bind(seq)
                .push(", ")
                .bind(*added)
                .push(", ")
                .bind(f.registered_at_ms)
                .push(", ")
                .bind(f.gender.as_str())
                .push(", ")
                .bind(f.age.map(i16::from))
                .push(", ")
                .bind(f.country.map(|c| c.code()))
                .push(", ")
                .bind(f.state.clone())
                .push(", ")
                .bind(f.city.clone())
                .push(", ")
                .bind(now)
                .push(")");
        }
        txn.execute_raw(sql.statement(backend)).await.map_err(db_err)?;
    }
    if let Some((sql, cutoff)) = prune_statement(version, now, retention) {
        let statement = sea_orm::Statement::from_sql_and_values(backend, sql, [tenant.0.into(), cutoff.into()]);
        txn.execute_raw(statement).await.map_err(db_err)?;
    }
    Ok(())
}

/// The statement that prunes the records older than `retention` (`$1` the tenant, `$2`
/// the cutoff it returns), in one write out of [`PRUNE_EVERY`] versions. Always a prefix
/// of the versions, whatever the writers' clocks said, so what is kept has no holes.
pub(crate) fn prune_statement(version: i64, now: i64, retention: Duration) -> Option<(&'static str, i64)> {
    let cutoff = now - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    (version % PRUNE_EVERY == 0).then_some((
        "DELETE FROM registration_changes WHERE tenant_id = $1 AND version <= (SELECT MAX(version) FROM \
         registration_changes WHERE tenant_id = $1 AND recorded_at < $2)",
        cutoff,
    ))
}

fn facts(row: &QueryResult) -> Result<RegistrationFacts, RepoError> {
    let get_str = |col: &str| row.try_get::<Option<String>>("", col).map_err(|e| corrupt(col, e));
    let gender: String = row.try_get("", "gender").map_err(|e| corrupt("gender", e))?;
    let country = match get_str("country")? {
        Some(code) => Some(crate::registration_load::parse_country(&code)?),
        None => None,
    };
    let age: Option<i16> = row.try_get("", "age").map_err(|e| corrupt("age", e))?;
    Ok(RegistrationFacts {
        registered_at_ms: row.try_get("", "registered_at").map_err(|e| corrupt("registration instant", e))?,
        gender: crate::registration_load::parse_gender(&gender)?,
        age: age.and_then(|a| u8::try_from(a).ok()),
        country,
        state: get_str("state")?,
        city: get_str("city")?,
    })
}

#[async_trait]
impl RegistrationLog for Store {
    async fn tenant_ids(&self) -> Result<Vec<TenantId>, RepoError> {
        let sql = Sql::new("SELECT id FROM tenants ORDER BY id");
        let rows = self.db.query_all_raw(sql.statement(self.db.get_database_backend())).await.map_err(db_err)?;
        rows.iter().map(|r| r.try_get::<i64>("", "id").map(TenantId).map_err(|e| corrupt("tenant id", e))).collect()
    }

    async fn registrations_version(&self, tenant: TenantId) -> Result<i64, RepoError> {
        let v = self.versions(tenant, &[Scope::Registrations]).await?;
        Ok(v.first().copied().unwrap_or(0))
    }

    async fn load_registrations(
        &self,
        tenant: TenantId,
        sink: &mut (dyn for<'a> FnMut(RegistrationRef<'a>) + Send),
    ) -> Result<RegistrationSnapshot, RepoError> {
        match self.backend {
            crate::connect::Backend::Postgres => crate::registration_load::postgres(&self.db, tenant, sink).await,
            crate::connect::Backend::Sqlite => crate::registration_load::sqlite(&self.db, tenant, sink).await,
        }
    }

    async fn registration_changes(
        &self,
        tenant: TenantId,
        since: i64,
        limit: usize,
    ) -> Result<ChangesSince, RepoError> {
        let mut sql = Sql::new(
            "SELECT version, added, registered_at, gender, age, country, state, city FROM registration_changes \
             WHERE tenant_id = ",
        );
        sql.bind(tenant.0)
            .push(" AND version > ")
            .bind(since)
            .push(" ORDER BY version, seq LIMIT ")
            .bind(i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX));
        let rows = self.db.query_all_raw(sql.statement(self.db.get_database_backend())).await.map_err(db_err)?;
        if rows.len() > limit {
            return Ok(ChangesSince::TooFarBehind);
        }
        let mut out = Vec::with_capacity(rows.len());
        let mut previous = since;
        for row in &rows {
            let version: i64 = row.try_get("", "version").map_err(|e| corrupt("change version", e))?;
            // Every version after `since` has records; a hole means some were pruned.
            if version != previous && version != previous + 1 {
                return Ok(ChangesSince::TooFarBehind);
            }
            previous = version;
            let added: bool = row.try_get("", "added").map_err(|e| corrupt("change sign", e))?;
            out.push(RegistrationChange { version, added, facts: facts(row)? });
        }
        Ok(ChangesSince::Changes(out))
    }
}
