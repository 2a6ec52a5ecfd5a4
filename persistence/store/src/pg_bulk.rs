//! The bulk write path on PostgreSQL: a transaction on the pool's own driver (SeaORM has
//! no `COPY`), rows streamed with `COPY … FROM STDIN` into a temporary staging table of
//! the target's shape, then one set-based `INSERT … SELECT … ON CONFLICT` per table. The
//! data versions are bumped in one statement per batch, and what the registrations index
//! reads goes in packed, a row per 10,000 records: a batch costs a few round trips
//! whatever its size.
//! Batches smaller than `database.bulk_from` (a player's few events) cost fewer round trips
//! as multi-row statements on the SeaORM path.

use std::sync::Arc;

use ottstats_domain::RepoError;
use ottstats_domain::registration_log::RegistrationFacts;
use ottstats_domain::scope::Scope;
use ottstats_domain::tenant::TenantId;
use sea_orm::sqlx::postgres::{PgConnection, PgRow, Postgres};
use sea_orm::sqlx::{self, AssertSqlSafe, Row};
use sea_orm::{DbErr, RuntimeErr};

use crate::copy_text::CopyRows;
use crate::error::{corrupt, db_err};
use crate::store::Store;

pub(crate) fn sqlx_err(e: sqlx::Error) -> RepoError {
    db_err(DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e))))
}

pub(crate) fn get<'r, T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>>(
    row: &'r PgRow,
    column: &str,
) -> Result<T, RepoError> {
    row.try_get(column).map_err(|e| corrupt(column, e))
}

/// One write transaction of the bulk path.
pub(crate) struct BulkTxn {
    tx: sqlx::Transaction<'static, Postgres>,
}

impl BulkTxn {
    pub async fn begin(store: &Store) -> Result<BulkTxn, RepoError> {
        let pool = store.db.get_postgres_connection_pool();
        let mut txn = BulkTxn { tx: pool.begin().await.map_err(sqlx_err)? };
        sqlx::raw_sql(crate::store::WRITE_PLANS).execute(txn.conn()).await.map_err(sqlx_err)?;
        Ok(txn)
    }

    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Takes the tenant's turn for `scope` and returns its version, as
    /// [`crate::registration_log::lock_version`] does on the SeaORM path.
    pub async fn lock_version(&mut self, tenant: TenantId, scope: &Scope) -> Result<i64, RepoError> {
        let key = scope.key();
        sqlx::query(
            "INSERT INTO data_versions (tenant_id, scope, version) VALUES ($1, $2, 0) ON CONFLICT (tenant_id, scope) \
             DO NOTHING",
        )
        .bind(tenant.0)
        .bind(&key)
        .execute(self.conn())
        .await
        .map_err(sqlx_err)?;
        let row = sqlx::query("SELECT version FROM data_versions WHERE tenant_id = $1 AND scope = $2 FOR UPDATE")
            .bind(tenant.0)
            .bind(&key)
            .fetch_one(self.conn())
            .await
            .map_err(sqlx_err)?;
        get(&row, "version")
    }

    /// A temporary table shaped like `table`, empty, emptied again when the transaction
    /// ends. Created once per pooled connection.
    pub async fn staging(&mut self, table: &str) -> Result<String, RepoError> {
        let name = format!("staging_{table}");
        let sql = format!(
            "CREATE TEMPORARY TABLE IF NOT EXISTS {name} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        );
        // IF NOT EXISTS on an existing table only raises a notice.
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(self.conn()).await.map_err(sqlx_err)?;
        Ok(name)
    }

    /// Streams `rows` into `columns` of `table`.
    pub async fn copy(&mut self, table: &str, columns: &str, rows: CopyRows) -> Result<(), RepoError> {
        self.copy_rows(table, columns, rows).await.map_err(sqlx_err)
    }

    /// [`BulkTxn::copy`] of rows that must be new: a row another transaction stored first
    /// (a unique violation, 23505) is a conflict, and the caller's write is tried again.
    pub async fn copy_new(&mut self, table: &str, columns: &str, rows: CopyRows) -> Result<(), RepoError> {
        self.copy_rows(table, columns, rows).await.map_err(|e| match &e {
            sqlx::Error::Database(db) if db.code().is_some_and(|c| c == "23505") => RepoError::Conflict(e.to_string()),
            _ => sqlx_err(e),
        })
    }

    async fn copy_rows(&mut self, table: &str, columns: &str, rows: CopyRows) -> Result<(), sqlx::Error> {
        if rows.rows() == 0 {
            return Ok(());
        }
        let statement = format!("COPY {table} ({columns}) FROM STDIN");
        let mut copy = self.conn().copy_in_raw(&statement).await?;
        if let Err(e) = copy.send(rows.into_bytes()).await {
            let _ = copy.abort("the rows could not be sent").await;
            return Err(e);
        }
        copy.finish().await?;
        Ok(())
    }

    pub async fn execute(&mut self, sql: &str, tenant: TenantId) -> Result<u64, RepoError> {
        let done =
            sqlx::query(AssertSqlSafe(sql.to_owned())).bind(tenant.0).execute(self.conn()).await.map_err(sqlx_err)?;
        Ok(done.rows_affected())
    }

    /// Writes the registrations log's records of `version`: the same packed rows as
    /// [`crate::registration_log::record`], and the same pruning.
    pub async fn record_registrations(
        &mut self,
        tenant: TenantId,
        version: i64,
        changes: &[(bool, RegistrationFacts)],
        retention: std::time::Duration,
    ) -> Result<(), RepoError> {
        let now = chrono::Utc::now().timestamp_millis();
        // A version's records packed in a row per 10,000 (no COPY: a batch is one row or two).
        for (part, records, payload) in crate::registration_log::packed_parts(changes)? {
            sqlx::query(
                "INSERT INTO registration_changes (tenant_id, version, part, records, payload, recorded_at) VALUES \
                 ($1, $2, $3, $4, $5, $6)",
            )
            .bind(tenant.0)
            .bind(version)
            .bind(part)
            .bind(records)
            .bind(payload)
            .bind(now)
            .execute(self.conn())
            .await
            .map_err(sqlx_err)?;
        }
        if let Some((sql, cutoff)) = crate::registration_log::prune_statement(version, now, retention) {
            sqlx::query(sql).bind(tenant.0).bind(cutoff).execute(self.conn()).await.map_err(sqlx_err)?;
        }
        Ok(())
    }

    /// Bumps the versions of `scopes` in one statement, commits, then announces them.
    pub async fn commit_changes(
        mut self,
        store: &Store,
        tenant: TenantId,
        scopes: Vec<Scope>,
    ) -> Result<(), RepoError> {
        if !scopes.is_empty() {
            // Sorted and once each: one statement may not update a row twice, and
            // concurrent batches take the rows' locks in one order.
            let mut keys: Vec<String> = scopes.iter().map(Scope::key).collect();
            keys.sort_unstable();
            keys.dedup();
            sqlx::query(
                "INSERT INTO data_versions (tenant_id, scope, version) SELECT $1, s, 1 FROM unnest($2::text[]) AS s \
                 ON CONFLICT (tenant_id, scope) DO UPDATE SET version = data_versions.version + 1",
            )
            .bind(tenant.0)
            .bind(&keys)
            .execute(self.conn())
            .await
            .map_err(sqlx_err)?;
        }
        self.tx.commit().await.map_err(sqlx_err)?;
        store.announce(tenant, &scopes);
        Ok(())
    }
}
