//! Player events on the bulk path (see [`crate::pg_bulk`]). The derivation is the one of
//! every path ([`crate::activity_write`]): the touched sessions are locked, all their
//! stored events read in one statement, and playback and summaries worked out again from
//! all of them. Then the new events go by `COPY` into staging and one `INSERT … SELECT …
//! ON CONFLICT`; changed playback and the session summaries (a few hundred rows) as
//! arrays, one `UPDATE … FROM unnest` and one `INSERT … SELECT … FROM unnest` each.

use std::collections::HashSet;

use ottstats_domain::RepoError;
use ottstats_domain::activity_repository::RecordOutcome;
use ottstats_domain::playback::PlayerEvent;
use ottstats_domain::tenant::TenantId;
use sea_orm::sqlx::postgres::PgRow;
use sea_orm::sqlx::{self, AssertSqlSafe};

use crate::activity_write::{
    Derived, activity_scopes, add_stored, derive, rederive_without_lost, session_ids, session_locks, sessions_of,
};
use crate::copy_text::CopyRows;
use crate::entities::player_event;
use crate::pg_bulk::{BulkTxn, get, sqlx_err};
use crate::store::Store;

const EVENT_COLUMNS: &str = "tenant_id, id, user_id, session_id, event_type, occurred_at, position, content_kind, \
                             content_id, device, referrer, bandwidth_kbps, played_seconds, playback_ms";

fn stored_event(tenant: TenantId, row: &PgRow) -> Result<(PlayerEvent, i64), RepoError> {
    crate::activity_rows::event(player_event::Model {
        tenant_id: tenant.0,
        id: get(row, "id")?,
        user_id: get(row, "user_id")?,
        session_id: get(row, "session_id")?,
        event_type: get(row, "event_type")?,
        occurred_at: get(row, "occurred_at")?,
        position: get(row, "position")?,
        content_kind: get(row, "content_kind")?,
        content_id: get(row, "content_id")?,
        device: get(row, "device")?,
        referrer: get(row, "referrer")?,
        bandwidth_kbps: get(row, "bandwidth_kbps")?,
        played_seconds: get(row, "played_seconds")?,
        playback_ms: get(row, "playback_ms")?,
    })
}

fn event_rows(tenant: TenantId, inserts: &[(PlayerEvent, i64)]) -> CopyRows {
    let mut rows = CopyRows::with_capacity(inserts.len() * 160);
    for (e, ms) in inserts {
        rows.plain(tenant.0)
            .text(&e.id)
            .text(&e.user_id)
            .text(&e.session_id)
            .text(e.event_type.as_str())
            .plain(e.occurred_at.timestamp_millis())
            .opt_float(e.position)
            .opt_text(e.content_kind.map(|k| k.as_str()))
            .opt_text(e.content_id.as_deref())
            .opt_text(e.device.as_deref())
            .opt_text(e.referrer.as_deref())
            .opt_float(e.bandwidth_kbps)
            .opt_float(e.played_seconds)
            .plain(ms)
            .end_row();
    }
    rows
}

/// Session summaries as one array a column, bound to one statement.
#[derive(Default)]
struct SessionColumns<'a> {
    user_id: Vec<&'a str>,
    session_id: Vec<&'a str>,
    first_at: Vec<i64>,
    content_kind: Vec<Option<&'a str>>,
    content_id: Vec<Option<&'a str>>,
    device: Vec<Option<&'a str>>,
    referrer: Vec<Option<&'a str>>,
    playback_ms: Vec<i64>,
}

impl<'a> SessionColumns<'a> {
    fn of(summaries: &'a [ottstats_domain::playback::session::SessionSummary]) -> SessionColumns<'a> {
        let mut c = SessionColumns::default();
        for x in summaries {
            c.user_id.push(&x.user_id);
            c.session_id.push(&x.session_id);
            c.first_at.push(x.first_at.timestamp_millis());
            c.content_kind.push(x.content_kind.map(|k| k.as_str()));
            c.content_id.push(x.content_id.as_deref());
            c.device.push(x.device.as_deref());
            c.referrer.push(x.referrer.as_deref());
            c.playback_ms.push(x.playback_ms);
        }
        c
    }
}

/// Stores the new events of `inserts`; returns the ids this statement stored (an id a
/// concurrent batch stored first stays stored once, with the session it came with).
async fn insert_events(
    txn: &mut BulkTxn,
    tenant: TenantId,
    inserts: &[(PlayerEvent, i64)],
) -> Result<HashSet<String>, RepoError> {
    if inserts.is_empty() {
        return Ok(HashSet::new());
    }
    let staging = txn.staging("player_events").await?;
    txn.copy(&staging, EVENT_COLUMNS, event_rows(tenant, inserts)).await?;
    let sql = format!(
        "INSERT INTO player_events ({EVENT_COLUMNS}) SELECT {EVENT_COLUMNS} FROM {staging} ORDER BY id COLLATE \"C\" \
         ON CONFLICT (tenant_id, id) DO NOTHING RETURNING id"
    );
    let ids: Vec<String> = sqlx::query_scalar(AssertSqlSafe(sql)).fetch_all(txn.conn()).await.map_err(sqlx_err)?;
    Ok(ids.into_iter().collect())
}

async fn write_derived(txn: &mut BulkTxn, tenant: TenantId, derived: Derived) -> Result<(), RepoError> {
    let Derived { updates, summaries, .. } = derived;
    if !updates.is_empty() {
        let (ids, ms): (Vec<String>, Vec<i64>) = updates.into_iter().unzip();
        sqlx::query(
            "UPDATE player_events p SET playback_ms = u.ms FROM unnest($2::text[], $3::bigint[]) AS u(id, ms) \
             WHERE p.tenant_id = $1 AND p.id = u.id",
        )
        .bind(tenant.0)
        .bind(&ids)
        .bind(&ms)
        .execute(txn.conn())
        .await
        .map_err(sqlx_err)?;
    }
    if !summaries.is_empty() {
        // A few hundred rows: bound as arrays in one statement. A COPY of so little would
        // wait on TCP for the delayed acknowledgement of its data before its end (sqlx
        // does not set TCP_NODELAY): 40 ms for nothing.
        let c = SessionColumns::of(&summaries);
        sqlx::query(
            "INSERT INTO playback_sessions (tenant_id, user_id, session_id, first_at, content_kind, content_id, \
             device, referrer, playback_ms) SELECT $1, u.* FROM unnest($2::text[], $3::text[], $4::bigint[], \
             $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[]) AS u(user_id, session_id, first_at, content_kind, \
             content_id, device, referrer, playback_ms) ORDER BY u.user_id COLLATE \"C\", u.session_id COLLATE \"C\" \
             ON CONFLICT (tenant_id, user_id, session_id) DO UPDATE SET first_at = EXCLUDED.first_at, \
             content_kind = EXCLUDED.content_kind, content_id = EXCLUDED.content_id, device = EXCLUDED.device, \
             referrer = EXCLUDED.referrer, playback_ms = EXCLUDED.playback_ms",
        )
        .bind(tenant.0)
        .bind(&c.user_id)
        .bind(&c.session_id)
        .bind(&c.first_at)
        .bind(&c.content_kind)
        .bind(&c.content_id)
        .bind(&c.device)
        .bind(&c.referrer)
        .bind(&c.playback_ms)
        .execute(txn.conn())
        .await
        .map_err(sqlx_err)?;
    }
    Ok(())
}

/// `fresh`: the batch's first event of each id; `repeats`: how many repeated an earlier one.
pub(crate) async fn write(
    store: &Store,
    tenant: TenantId,
    fresh: &[&PlayerEvent],
    repeats: usize,
) -> Result<RecordOutcome, RepoError> {
    let mut txn = BulkTxn::begin(store).await?;
    let mut keys: Vec<(&str, &str)> = fresh.iter().map(|e| (e.user_id.as_str(), e.session_id.as_str())).collect();
    keys.sort_unstable();
    keys.dedup();
    if let Some(sql) = session_locks(tenant, &keys) {
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(txn.conn()).await.map_err(sqlx_err)?;
    }
    // Every stored event of the touched sessions; an id among them is a duplicate. An id
    // stored under another session is found by the insert's conflict instead.
    let mut sessions = sessions_of(fresh);
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {EVENT_COLUMNS} FROM player_events WHERE tenant_id = $1 AND session_id = ANY($2)"
    )))
    .bind(tenant.0)
    .bind(session_ids(&sessions))
    .fetch_all(txn.conn())
    .await
    .map_err(sqlx_err)?;
    let mut stored_ids = HashSet::with_capacity(rows.len());
    let mut stored = Vec::with_capacity(rows.len());
    for row in &rows {
        let (e, ms) = stored_event(tenant, row)?;
        stored_ids.insert(e.id.clone());
        stored.push((e, ms));
    }
    let new: Vec<&PlayerEvent> = fresh.iter().copied().filter(|e| !stored_ids.contains(&e.id)).collect();
    let duplicates = repeats + (fresh.len() - new.len());
    if new.len() < fresh.len() {
        sessions = sessions_of(&new);
    }
    for (e, ms) in stored {
        add_stored(&mut sessions, e, ms);
    }

    let mut derived = derive(&sessions);
    let inserted = insert_events(&mut txn, tenant, &derived.inserts).await?;
    let written = inserted.len();
    if written < derived.inserts.len() {
        derived = rederive_without_lost(&mut sessions, &derived, &inserted);
    }
    write_derived(&mut txn, tenant, derived).await?;
    let scopes = activity_scopes(new.iter().copied(), &inserted);
    txn.commit_changes(store, tenant, scopes).await?;
    Ok(RecordOutcome { written, duplicates: duplicates + (new.len() - written) })
}
