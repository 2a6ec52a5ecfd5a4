//! Erasing one user: profile, player events, sessions and logins in one transaction, with
//! the registrations index's removal record and every scope of the user bumped.

use ottstats_domain::RepoError;
use ottstats_domain::registration_log::RegistrationFacts;
use ottstats_domain::scope::Scope;
use ottstats_domain::tenant::TenantId;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::activity_write::{SESSIONS_PER_TRANSACTION, session_locks};
use crate::connect::Backend;
use crate::entities::{playback_session, registered_user};
use crate::error::db_err;
use crate::sql::Sql;
use crate::store::Store;
use crate::user_repo::to_domain;

impl Store {
    pub(crate) async fn erase_one(&self, tenant: TenantId, id: &str) -> Result<bool, RepoError> {
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await?;
        // The registrations turn first, as every user write takes it: the removal record
        // then describes the step from this version to the next.
        let version = crate::registration_log::lock_version(&txn, tenant, &Scope::Registrations).await?;
        if self.backend == Backend::Postgres {
            // An event write re-deriving one of the user's latest sessions waits for the
            // erasure (and then finds none of its earlier events), rather than writing
            // back a session it read before. The latest ones are those still being played.
            let sessions: Vec<String> = playback_session::Entity::find()
                .select_only()
                .column(playback_session::Column::SessionId)
                .filter(playback_session::Column::TenantId.eq(tenant.0))
                .filter(playback_session::Column::UserId.eq(id))
                .order_by_desc(playback_session::Column::FirstAt)
                .limit(SESSIONS_PER_TRANSACTION as u64)
                .into_tuple()
                .all(&txn)
                .await
                .map_err(db_err)?;
            let keys: Vec<(&str, &str)> = sessions.iter().map(|s| (id, s.as_str())).collect();
            if let Some(sql) = session_locks(tenant, &keys) {
                txn.execute_unprepared(&sql).await.map_err(db_err)?;
            }
        }
        let profile = registered_user::Entity::find()
            .filter(registered_user::Column::TenantId.eq(tenant.0))
            .filter(registered_user::Column::Id.eq(id))
            .one(&txn)
            .await
            .map_err(db_err)?
            .map(to_domain)
            .transpose()?;
        let backend = txn.get_database_backend();
        // Rows removed from each table keyed by (tenant, user), in this order.
        let mut removed = [0u64; 3];
        for (count, table) in removed.iter_mut().zip(["player_events", "playback_sessions", "logins"]) {
            let mut sql = Sql::new(&format!("DELETE FROM {table} WHERE tenant_id = "));
            sql.bind(tenant.0).push(" AND user_id = ").bind(id);
            *count = txn.execute_raw(sql.statement(backend)).await.map_err(db_err)?.rows_affected();
        }
        let [events, sessions, logins] = removed;
        let mut scopes = Vec::new();
        if let Some(user) = &profile {
            registered_user::Entity::delete_many()
                .filter(registered_user::Column::TenantId.eq(tenant.0))
                .filter(registered_user::Column::Id.eq(id))
                .exec(&txn)
                .await
                .map_err(db_err)?;
            let removed = [(false, RegistrationFacts::of(user))];
            // The bump below produces `version + 1`: the turn taken above keeps it ours.
            crate::registration_log::record(&txn, tenant, version + 1, &removed, self.change_retention).await?;
            scopes.extend([Scope::Registrations, Scope::User(id.to_owned())]);
        }
        if events + sessions + logins > 0 {
            scopes.push(Scope::Activity(id.to_owned()));
        }
        let found = !scopes.is_empty();
        if found {
            self.commit_changes(txn, tenant, scopes).await?;
        } else {
            txn.rollback().await.map_err(db_err)?;
        }
        // Counts only: the log never names the user or anything of theirs.
        tracing::info!(tenant = tenant.0, found, events, sessions, logins, "erased a user");
        Ok(found)
    }
}
