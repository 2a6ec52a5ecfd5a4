//! The registrations log: the change records each user write leaves in its transaction
//! (written here, packed a version to a row: see [`crate::change_payload`]), and what the
//! registrations index reads (the [`RegistrationLog`] implementation: a consistent
//! snapshot of every registration, and the records since a version).

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
use sea_orm::{ConnectionTrait, DatabaseTransaction};

use crate::change_payload::{PART_RECORDS, decode, encode};
use crate::error::{corrupt, db_err};
use crate::sql::Sql;
use crate::store::Store;

/// Pruning runs in one write out of this many versions.
const PRUNE_EVERY: i64 = 64;

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

/// Writes the records of `version` (the one this transaction's bump produces), packed in
/// as few rows as [`packed_parts`] makes, and now
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
    let parts = packed_parts(changes)?;
    // One row per part: a batch of a few thousand users is one row (and one statement).
    for (part, records, payload) in parts {
        let mut sql = Sql::new(
            "INSERT INTO registration_changes (tenant_id, version, part, records, payload, recorded_at) VALUES (",
        );
        sql.bind(tenant.0)
            .push(", ")
            .bind(version)
            .push(", ")
            .bind(part)
            .push(", ")
            .bind(records)
            .push(", ")
            .bind(payload)
            .push(", ")
            .bind(now)
            .push(")");
        txn.execute_raw(sql.statement(backend)).await.map_err(db_err)?;
    }
    if let Some((sql, cutoff)) = prune_statement(version, now, retention) {
        let statement = sea_orm::Statement::from_sql_and_values(backend, sql, [tenant.0.into(), cutoff.into()]);
        txn.execute_raw(statement).await.map_err(db_err)?;
    }
    Ok(())
}

/// The rows of one version's records: `(part, records, payload)`, parts numbered from 0,
/// each holding 1 to [`PART_RECORDS`] records in order (what both writers store).
pub(crate) fn packed_parts(changes: &[(bool, RegistrationFacts)]) -> Result<Vec<(i32, i32, Vec<u8>)>, RepoError> {
    let internal = |e: std::num::TryFromIntError| RepoError::Internal(e.to_string());
    changes
        .chunks(PART_RECORDS)
        .enumerate()
        .map(|(part, chunk)| {
            Ok((i32::try_from(part).map_err(internal)?, i32::try_from(chunk.len()).map_err(internal)?, encode(chunk)))
        })
        .collect()
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
        // At most `limit + 1` rows (each holds one record or more), and the payloads of
        // only those within the first `limit` records: an index far behind reads a few
        // numbers per row, not megabytes it would throw away.
        let limit_records = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut sql =
            Sql::new("SELECT version, part, records, CASE WHEN SUM(records) OVER (ORDER BY version, part) <= ");
        sql.bind(limit_records)
            .push(
                " THEN payload END AS payload FROM (SELECT version, part, records, payload FROM \
                 registration_changes WHERE tenant_id = ",
            )
            .bind(tenant.0)
            .push(" AND version > ")
            .bind(since)
            .push(" ORDER BY version, part LIMIT ")
            .bind(limit_records.saturating_add(1))
            .push(") AS r ORDER BY version, part");
        let rows = self.db.query_all_raw(sql.statement(self.db.get_database_backend())).await.map_err(db_err)?;
        let mut out = Vec::new();
        let (mut previous, mut next_part) = (since, 0);
        for row in &rows {
            let version: i64 = row.try_get("", "version").map_err(|e| corrupt("change version", e))?;
            let part: i32 = row.try_get("", "part").map_err(|e| corrupt("change part", e))?;
            let records: i32 = row.try_get("", "records").map_err(|e| corrupt("change count", e))?;
            if version != previous {
                next_part = 0;
            }
            // Every version after `since` has records, in parts from 0: a hole means some
            // were pruned (or discarded, as the migration that packed them did).
            if (version != previous && version != previous + 1) || part != next_part {
                return Ok(ChangesSince::TooFarBehind);
            }
            (previous, next_part) = (version, part + 1);
            let payload: Option<Vec<u8>> = row.try_get("", "payload").map_err(|e| corrupt("change payload", e))?;
            // No payload: this row goes past the limit.
            let Some(payload) = payload else { return Ok(ChangesSince::TooFarBehind) };
            let decoded = decode(&payload).map_err(|e| corrupt("change payload", e))?;
            if usize::try_from(records).ok() != Some(decoded.len()) {
                return Err(corrupt(
                    "change payload",
                    format!("{} records where {records} were written", decoded.len()),
                ));
            }
            out.extend(decoded.into_iter().map(|(added, facts)| RegistrationChange { version, added, facts }));
        }
        Ok(ChangesSince::Changes(out))
    }
}

#[cfg(test)]
mod tests {
    use ottstats_domain::gender::Gender;

    use super::*;

    #[test]
    fn a_version_is_packed_in_parts_of_at_most_part_records() {
        let one = |ms: i64| {
            let facts = RegistrationFacts {
                registered_at_ms: ms,
                gender: Gender::Male,
                age: None,
                country: None,
                state: None,
                city: None,
            };
            (ms % 2 == 0, facts)
        };
        let changes: Vec<_> = (0..2 * PART_RECORDS as i64 + 1).map(one).collect();
        let parts = packed_parts(&changes).unwrap();
        let shape: Vec<(i32, i32)> = parts.iter().map(|(p, n, _)| (*p, *n)).collect();
        assert_eq!(shape, [(0, 10_000), (1, 10_000), (2, 1)]);
        let back: Vec<_> = parts.iter().flat_map(|(_, _, payload)| decode(payload).unwrap()).collect();
        assert_eq!(back, changes);
        // No records, no row.
        assert!(packed_parts(&[]).unwrap().is_empty());
    }
}
