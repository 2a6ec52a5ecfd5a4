//! Data versions of scopes (see [`ottstats_domain::scope`]): what a cached answer is keyed
//! by. Every write bumps the version of exactly the scopes it changes, in its own transaction, so a cache can never serve
//! figures older than the database's, whatever it missed.

use ottstats_domain::RepoError;
use ottstats_domain::scope::Scope;
use ottstats_domain::tenant::TenantId;
use sea_orm::ConnectionTrait;

use crate::error::{corrupt, db_err};
use crate::sql::Sql;

/// Adds one to the version of each scope (creating it at 1).
pub(crate) async fn bump<C: ConnectionTrait>(conn: &C, tenant: TenantId, scopes: &[Scope]) -> Result<(), RepoError> {
    for chunk in scopes.chunks(500) {
        let mut sql = Sql::new("INSERT INTO data_versions (tenant_id, scope, version) VALUES ");
        for (i, scope) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push("(").bind(tenant.0).push(", ").bind(scope.key()).push(", 1)");
        }
        sql.push(" ON CONFLICT (tenant_id, scope) DO UPDATE SET version = data_versions.version + 1");
        conn.execute_raw(sql.statement(conn.get_database_backend())).await.map_err(db_err)?;
    }
    Ok(())
}

/// The current versions of (tenant, scope) pairs, in one read per 500 pairs; a pair
/// never written is absent (version 0).
pub(crate) async fn current_pairs<C: ConnectionTrait>(
    conn: &C,
    pairs: &[(i64, String)],
) -> Result<std::collections::HashMap<(i64, String), i64>, RepoError> {
    let mut found = std::collections::HashMap::with_capacity(pairs.len());
    for chunk in pairs.chunks(500) {
        let mut sql = Sql::new("SELECT tenant_id, scope, version FROM data_versions WHERE (tenant_id, scope) IN (");
        for (i, (tenant, scope)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push("(").bind(*tenant).push(", ").bind(scope.clone()).push(")");
        }
        sql.push(")");
        for row in conn.query_all_raw(sql.statement(conn.get_database_backend())).await.map_err(db_err)? {
            let tenant: i64 = row.try_get("", "tenant_id").map_err(|e| corrupt("data version", e))?;
            let scope: String = row.try_get("", "scope").map_err(|e| corrupt("data version", e))?;
            let version: i64 = row.try_get("", "version").map_err(|e| corrupt("data version", e))?;
            found.insert((tenant, scope), version);
        }
    }
    Ok(found)
}
