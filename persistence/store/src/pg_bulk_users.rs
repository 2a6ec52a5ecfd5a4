//! Registered users on the bulk path (see [`crate::pg_bulk`]): the batch's stored users in
//! one read, the plan worked out as on every path ([`crate::user_repo::plan_users`]), new
//! users copied straight into the table, changed ones copied into staging and updated
//! from it in one statement.

use std::collections::HashMap;

use chrono::Utc;
use ottstats_domain::RepoError;
use ottstats_domain::repository::UpsertOutcome;
use ottstats_domain::scope::Scope;
use ottstats_domain::tenant::TenantId;
use ottstats_domain::user::RegisteredUser;
use sea_orm::sqlx;

use crate::copy_text::CopyRows;
use crate::entities::registered_user;
use crate::pg_bulk::{BulkTxn, get, sqlx_err};
use crate::store::Store;

const COLUMNS: &str = "tenant_id, id, name, gender, birth_date, age, country, state, city, registered_at, updated_at";

fn copy_row(rows: &mut CopyRows, tenant: TenantId, u: &RegisteredUser, now: i64) {
    rows.plain(tenant.0)
        .text(&u.id)
        .text(&u.name)
        .text(u.gender.as_str())
        .opt_date(u.birth_date)
        .opt_plain(u.age)
        .opt_text(u.country.as_ref().map(|c| c.code()))
        .opt_text(u.state.as_deref())
        .opt_text(u.city.as_deref())
        .plain(u.registered_at.timestamp_millis())
        .plain(now)
        .end_row();
}

async fn stored(
    txn: &mut BulkTxn,
    tenant: TenantId,
    users: &[RegisteredUser],
) -> Result<HashMap<String, RegisteredUser>, RepoError> {
    let mut ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows = sqlx::query(
        "SELECT id, name, gender, birth_date, age, country, state, city, registered_at, updated_at FROM \
         registered_users WHERE tenant_id = $1 AND id = ANY($2) ORDER BY id COLLATE \"C\" FOR UPDATE",
    )
    .bind(tenant.0)
    .bind(&ids)
    .fetch_all(txn.conn())
    .await
    .map_err(sqlx_err)?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in &rows {
        let model = registered_user::Model {
            tenant_id: tenant.0,
            id: get(row, "id")?,
            name: get(row, "name")?,
            gender: get(row, "gender")?,
            birth_date: get(row, "birth_date")?,
            age: get(row, "age")?,
            country: get(row, "country")?,
            state: get(row, "state")?,
            city: get(row, "city")?,
            registered_at: get(row, "registered_at")?,
            updated_at: get(row, "updated_at")?,
        };
        let user = crate::user_repo::to_domain(model)?;
        out.insert(user.id.clone(), user);
    }
    Ok(out)
}

pub(crate) async fn write(
    store: &Store,
    tenant: TenantId,
    users: &[RegisteredUser],
) -> Result<UpsertOutcome, RepoError> {
    let mut txn = BulkTxn::begin(store).await?;
    // The batch's stored users are locked as they are read (in id order, so two batches
    // cannot deadlock), so what they were is what this transaction replaces; a user new
    // here and written by another batch meanwhile makes the insert below conflict, and
    // the whole write is tried again. The tenant's registrations turn is taken only
    // after the rows are written, so that two batches write their rows at once.
    let stored = stored(&mut txn, tenant, users).await?;
    let plan = crate::user_repo::plan_users(users, &stored);
    let now = Utc::now().timestamp_millis();
    let (mut new, mut changed) = (CopyRows::with_capacity(plan.rows.len() * 96), CopyRows::with_capacity(0));
    for u in &plan.rows {
        let rows = if stored.contains_key(&u.id) { &mut changed } else { &mut new };
        copy_row(rows, tenant, u, now);
    }
    txn.copy_new("registered_users", COLUMNS, new).await?;
    if changed.rows() > 0 {
        let staging = txn.staging("registered_users").await?;
        txn.copy(&staging, COLUMNS, changed).await?;
        let sql = format!(
            "UPDATE registered_users r SET name = s.name, gender = s.gender, birth_date = s.birth_date, age = s.age, \
             country = s.country, state = s.state, city = s.city, registered_at = s.registered_at, updated_at = \
             s.updated_at FROM {staging} s WHERE r.tenant_id = $1 AND s.tenant_id = $1 AND r.id = s.id"
        );
        txn.execute(&sql, tenant).await?;
    }
    if !plan.moves.is_empty() {
        // Held until the commit: the bump below produces `version + 1`, and the records of
        // each version are those of the one transaction that made it.
        let version = txn.lock_version(tenant, &Scope::Registrations).await?;
        txn.record_registrations(tenant, version + 1, &plan.moves, store.change_retention).await?;
    }
    txn.commit_changes(store, tenant, plan.scopes).await?;
    Ok(plan.outcome)
}
