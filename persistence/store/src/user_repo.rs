//! Registered users: batched upserts that write only what changed.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ottstats_domain::RepoError;
use ottstats_domain::country::Country;
use ottstats_domain::gender::Gender;
use ottstats_domain::registration_log::RegistrationFacts;
use ottstats_domain::repository::{UpsertOutcome, UserRepository};
use ottstats_domain::scope::Scope;
use ottstats_domain::tenant::TenantId;
use ottstats_domain::user::RegisteredUser;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::entities::registered_user::{self, Column};
use crate::error::{corrupt, db_err};
use crate::store::Store;

/// Rows a statement carries at most (11 columns: well under either engine's limit on
/// bound parameters).
const CHUNK: usize = 1_000;

fn to_row(tenant: TenantId, u: &RegisteredUser, now: i64) -> registered_user::ActiveModel {
    registered_user::ActiveModel {
        tenant_id: Set(tenant.0),
        id: Set(u.id.clone()),
        name: Set(u.name.clone()),
        gender: Set(u.gender.as_str().to_owned()),
        birth_date: Set(u.birth_date),
        age: Set(u.age.map(i16::from)),
        country: Set(u.country.map(|c| c.code().to_owned())),
        state: Set(u.state.clone()),
        city: Set(u.city.clone()),
        registered_at: Set(u.registered_at.timestamp_millis()),
        updated_at: Set(now),
    }
}

pub(crate) fn to_domain(row: registered_user::Model) -> Result<RegisteredUser, RepoError> {
    let gender: Gender = row.gender.parse().map_err(|e| corrupt("gender", e))?;
    let country = match &row.country {
        Some(c) => Some(Country::parse(c).ok_or_else(|| corrupt("country", c))?),
        None => None,
    };
    let registered_at = DateTime::<Utc>::from_timestamp_millis(row.registered_at)
        .ok_or_else(|| corrupt("registration instant", row.registered_at))?;
    Ok(RegisteredUser {
        id: row.id,
        name: row.name,
        gender,
        birth_date: row.birth_date,
        age: row.age.and_then(|a| u8::try_from(a).ok()),
        country,
        state: row.state,
        city: row.city,
        registered_at,
    })
}

async fn load<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    ids: &[String],
) -> Result<Vec<RegisteredUser>, RepoError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows = registered_user::Entity::find()
            .filter(Column::TenantId.eq(tenant.0))
            .filter(Column::Id.is_in(chunk.iter().cloned()))
            .all(conn)
            .await
            .map_err(db_err)?;
        for row in rows {
            out.push(to_domain(row)?);
        }
    }
    Ok(out)
}

#[async_trait]
impl UserRepository for Store {
    async fn upsert_users(&self, tenant: TenantId, users: &[RegisteredUser]) -> Result<UpsertOutcome, RepoError> {
        crate::retry::retrying("upsertUsers", || self.write_users(tenant, users)).await
    }

    async fn find_users(&self, tenant: TenantId, ids: &[String]) -> Result<Vec<RegisteredUser>, RepoError> {
        load(&self.db, tenant, ids).await
    }

    async fn erase_user(&self, tenant: TenantId, id: &str) -> Result<bool, RepoError> {
        crate::retry::retrying("eraseUsers", || self.erase_one(tenant, id)).await
    }
}

/// What a batch of users changes, worked out against what is stored.
pub(crate) struct UserPlan {
    pub outcome: UpsertOutcome,
    /// The final state of every user to write, in id order (so concurrent writers lock
    /// rows in one order).
    pub rows: Vec<RegisteredUser>,
    /// Registration records: what the panels stop counting (`false`) and start counting.
    pub moves: Vec<(bool, RegistrationFacts)>,
    /// The users' own scopes, and registrations when any record moved.
    pub scopes: Vec<Scope>,
}

/// Walks the batch in order, so that a repeated id compares with its predecessor and the
/// last one wins; only ids whose final state differs from the stored one are written.
/// A user whose name alone changed moves nothing in the registration panels.
pub(crate) fn plan_users(users: &[RegisteredUser], stored: &HashMap<String, RegisteredUser>) -> UserPlan {
    let mut current: HashMap<&str, &RegisteredUser> = stored.iter().map(|(id, u)| (id.as_str(), u)).collect();
    let mut outcome = UpsertOutcome::default();
    let mut changed: BTreeSet<&str> = BTreeSet::new();
    for u in users {
        if current.get(u.id.as_str()).is_some_and(|c| *c == u) {
            outcome.unchanged += 1;
        } else {
            outcome.written += 1;
            current.insert(&u.id, u);
            changed.insert(&u.id);
        }
    }
    let mut moves: Vec<(bool, RegistrationFacts)> = Vec::new();
    let mut rows = Vec::with_capacity(changed.len());
    for id in &changed {
        let Some(new) = current.get(id) else { continue };
        let facts = RegistrationFacts::of(new);
        let old = stored.get(*id).map(RegistrationFacts::of);
        if old.as_ref() != Some(&facts) {
            moves.extend(old.map(|o| (false, o)));
            moves.push((true, facts));
        }
        rows.push((*new).clone());
    }
    let mut scopes: Vec<Scope> = changed.iter().map(|id| Scope::User((*id).to_owned())).collect();
    if !moves.is_empty() {
        scopes.push(Scope::Registrations);
    }
    UserPlan { outcome, rows, moves, scopes }
}

impl Store {
    async fn write_users(&self, tenant: TenantId, users: &[RegisteredUser]) -> Result<UpsertOutcome, RepoError> {
        if users.is_empty() {
            return Ok(UpsertOutcome::default());
        }
        if self.bulk(users.len()) {
            return crate::pg_bulk_users::write(self, tenant, users).await;
        }
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await?;
        let version = crate::registration_log::lock_version(&txn, tenant, &Scope::Registrations).await?;
        let mut ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
        ids.sort();
        ids.dedup();
        let stored: HashMap<String, RegisteredUser> =
            load(&txn, tenant, &ids).await?.into_iter().map(|u| (u.id.clone(), u)).collect();
        let plan = plan_users(users, &stored);
        let now = Utc::now().timestamp_millis();
        let rows: Vec<registered_user::ActiveModel> = plan.rows.iter().map(|u| to_row(tenant, u, now)).collect();
        for chunk in rows.chunks(CHUNK) {
            registered_user::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([Column::TenantId, Column::Id])
                        .update_columns([
                            Column::Name,
                            Column::Gender,
                            Column::BirthDate,
                            Column::Age,
                            Column::Country,
                            Column::State,
                            Column::City,
                            Column::RegisteredAt,
                            Column::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec(&txn)
                .await
                .map_err(db_err)?;
        }
        if !plan.moves.is_empty() {
            // The bump below produces `version + 1`: the turn taken above keeps it ours.
            crate::registration_log::record(&txn, tenant, version + 1, &plan.moves, self.change_retention).await?;
        }
        self.commit_changes(txn, tenant, plan.scopes).await?;
        Ok(plan.outcome)
    }
}
