//! Writing player events, logins and contents. Events may arrive late, out of order and
//! more than once: every session a batch touches is re-derived from all its events.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::Utc;
use ottstats_domain::RepoError;
use ottstats_domain::activity_repository::{ActivityWrites, RecordOutcome};
use ottstats_domain::playback::session::{SessionSummary, event_order, playback_ms, summarize};
use ottstats_domain::playback::{Content, Login, PlayerEvent};
use ottstats_domain::scope::Scope;
use ottstats_domain::tenant::TenantId;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use crate::activity_rows::{content, content_row, event, event_row, login_row, session_row};
use crate::connect::Backend;
use crate::entities::{content as content_entity, login as login_entity, playback_session, player_event};
use crate::error::db_err;
use crate::store::Store;

/// (user id, session id)
type SessionKey = (String, String);
/// An event of a session, with its playback as stored (`None`: new in this batch).
type EventAndStoredPlayback = (PlayerEvent, Option<i64>);

/// Rows a statement carries at most (14 columns: under either engine's parameter limit).
const CHUNK: usize = 1_000;

/// Items of a batch whose id was seen earlier in the batch, and the first of each id.
fn first_of_each_id<T>(items: &[T], id: impl Fn(&T) -> &str) -> (Vec<&T>, usize) {
    let mut seen = HashSet::new();
    let mut fresh = Vec::with_capacity(items.len());
    for item in items {
        if seen.insert(id(item).to_owned()) {
            fresh.push(item);
        }
    }
    let repeats = items.len() - fresh.len();
    (fresh, repeats)
}

/// A stable 64-bit key for an advisory lock.
fn lock_key(text: &str) -> i64 {
    let digest = Sha256::digest(text.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Sessions one transaction locks at most. Each takes an advisory lock, and PostgreSQL's
/// shared lock table holds about 64 × max_connections of them (6,400 by default): a batch
/// of 10,000 sessions would overflow it ("out of shared memory"). A batch touching more
/// is written as several transactions of whole sessions (each item still whole).
pub(crate) const SESSIONS_PER_TRANSACTION: usize = 1_000;

/// The statement taking PostgreSQL's advisory locks of `sessions` (user id, session id)
/// until the transaction ends, in a fixed order so that two batches cannot deadlock.
pub(crate) fn session_locks(tenant: TenantId, sessions: &[(&str, &str)]) -> Option<String> {
    if sessions.is_empty() {
        return None;
    }
    let mut keys: Vec<i64> = sessions.iter().map(|(u, s)| lock_key(&format!("{}\u{0}{u}\u{0}{s}", tenant.0))).collect();
    keys.sort_unstable();
    keys.dedup();
    let values: Vec<String> = keys.iter().map(|k| format!("({k})")).collect();
    Some(format!("SELECT pg_advisory_xact_lock(k) FROM (VALUES {}) AS t(k) ORDER BY k", values.join(",")))
}

/// The batch's events in groups of at most [`SESSIONS_PER_TRANSACTION`] whole sessions
/// (first of each id only; in batch order within a group).
pub(crate) fn session_groups<'a>(fresh: &[&'a PlayerEvent]) -> Vec<Vec<&'a PlayerEvent>> {
    let mut group_of: HashMap<(&str, &str), usize> = HashMap::new();
    let mut groups: Vec<Vec<&PlayerEvent>> = Vec::new();
    let mut sessions_in_last = 0;
    for e in fresh {
        let key = (e.user_id.as_str(), e.session_id.as_str());
        let g = *group_of.entry(key).or_insert_with(|| {
            if groups.is_empty() || sessions_in_last == SESSIONS_PER_TRANSACTION {
                groups.push(Vec::new());
                sessions_in_last = 0;
            }
            sessions_in_last += 1;
            groups.len() - 1
        });
        groups[g].push(*e);
    }
    groups
}

pub(crate) type Sessions = BTreeMap<SessionKey, Vec<EventAndStoredPlayback>>;

/// What writing the touched sessions takes: the new events (with their playback, in id
/// order), the stored events whose playback changed, and each session's summary.
pub(crate) struct Derived {
    pub inserts: Vec<(PlayerEvent, i64)>,
    pub inserted_ms: HashMap<String, i64>,
    pub updates: Vec<(String, i64)>,
    pub summaries: Vec<SessionSummary>,
}

/// The sessions of the batch's new events, each with those events (not yet stored).
pub(crate) fn sessions_of(new: &[&PlayerEvent]) -> Sessions {
    let mut sessions: Sessions = BTreeMap::new();
    for e in new {
        sessions.entry((e.user_id.clone(), e.session_id.clone())).or_default().push(((*e).clone(), None));
    }
    sessions
}

/// Adds a stored event to its session, if the batch touches that session.
pub(crate) fn add_stored(sessions: &mut Sessions, e: PlayerEvent, ms: i64) {
    if let Some(list) = sessions.get_mut(&(e.user_id.clone(), e.session_id.clone())) {
        list.push((e, Some(ms)));
    }
}

/// The session ids a batch touches, once each (two users may use the same one).
pub(crate) fn session_ids(sessions: &Sessions) -> Vec<String> {
    sessions.keys().map(|(_, s)| s.clone()).collect::<BTreeSet<String>>().into_iter().collect()
}

/// Orders each session's events and derives playback and summaries from all of them.
pub(crate) fn derive(sessions: &Sessions) -> Derived {
    let mut d =
        Derived { inserts: Vec::new(), inserted_ms: HashMap::new(), updates: Vec::new(), summaries: Vec::new() };
    for list in sessions.values() {
        let mut list = list.clone();
        list.sort_by(|a, b| event_order(&a.0, &b.0));
        let (ordered, stored): (Vec<PlayerEvent>, Vec<Option<i64>>) = list.into_iter().unzip();
        let ms = playback_ms(&ordered);
        for ((e, stored_ms), ms) in ordered.iter().zip(&stored).zip(&ms) {
            match stored_ms {
                None => {
                    d.inserted_ms.insert(e.id.clone(), *ms);
                    d.inserts.push((e.clone(), *ms));
                }
                Some(old) if old != ms => d.updates.push((e.id.clone(), *ms)),
                Some(_) => {}
            }
        }
        if let Some(summary) = summarize(&ordered, &ms) {
            d.summaries.push(summary);
        }
    }
    // In id order: two batches inserting the same ids then wait for each other in one
    // order, instead of each holding one the other needs (a deadlock).
    d.inserts.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    d
}

/// After a concurrent batch stored some of the same ids first: sessions are derived only
/// from the events stored for them, so the events this batch did not store are dropped
/// and the touched sessions derived again.
pub(crate) fn rederive_without_lost(sessions: &mut Sessions, derived: &Derived, inserted: &HashSet<String>) -> Derived {
    for list in sessions.values_mut() {
        list.retain(|(e, stored)| stored.is_some() || inserted.contains(&e.id));
        for (e, stored) in list.iter_mut() {
            if stored.is_none() {
                *stored = derived.inserted_ms.get(&e.id).copied();
            }
        }
    }
    sessions.retain(|_, list| !list.is_empty());
    derive(sessions)
}

/// The activity scopes of the users whose events were stored.
pub(crate) fn activity_scopes<'a>(
    new: impl Iterator<Item = &'a PlayerEvent>,
    inserted: &HashSet<String>,
) -> Vec<Scope> {
    let users: BTreeSet<Scope> =
        new.filter(|e| inserted.contains(&e.id)).map(|e| Scope::Activity(e.user_id.clone())).collect();
    users.into_iter().collect()
}

impl Store {
    /// Which of `ids` the tenant has stored in `table` already.
    async fn stored_ids(
        &self,
        txn: &DatabaseTransaction,
        table: &str,
        tenant: TenantId,
        ids: &[&str],
    ) -> Result<HashSet<String>, RepoError> {
        let mut found = HashSet::new();
        for chunk in ids.chunks(CHUNK) {
            let mut sql = crate::sql::Sql::new(&format!("SELECT id FROM {table} WHERE tenant_id = "));
            sql.bind(tenant.0).push(" AND id IN (").bind_list(chunk.iter().map(|s| (*s).to_owned())).push(")");
            let rows = txn.query_all_raw(sql.statement(txn.get_database_backend())).await.map_err(db_err)?;
            for row in rows {
                found.insert(row.try_get::<String>("", "id").map_err(|e| crate::error::corrupt("id", e))?);
            }
        }
        Ok(found)
    }

    /// On PostgreSQL, serialises writers of the same sessions (in a fixed order, so two
    /// batches cannot deadlock) until the transaction ends.
    async fn lock_sessions(
        &self,
        txn: &DatabaseTransaction,
        tenant: TenantId,
        sessions: &[(&str, &str)],
    ) -> Result<(), RepoError> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        if let Some(sql) = session_locks(tenant, sessions) {
            txn.execute_unprepared(&sql).await.map_err(db_err)?;
        }
        Ok(())
    }

    pub(crate) async fn write_events(
        &self,
        tenant: TenantId,
        events: &[PlayerEvent],
    ) -> Result<RecordOutcome, RepoError> {
        let (fresh, repeats) = first_of_each_id(events, |e| &e.id);
        if fresh.is_empty() {
            return Ok(RecordOutcome { written: 0, duplicates: repeats });
        }
        // Each group is retried alone when it conflicted with another writer: a group
        // committed before another failed stays stored (sending the batch again counts
        // its events as duplicates).
        let mut outcome = RecordOutcome { written: 0, duplicates: repeats };
        for group in session_groups(&fresh) {
            let o = crate::retry::retrying("recordEvents", || self.write_event_group(tenant, group.clone(), 0)).await?;
            (outcome.written, outcome.duplicates) = (outcome.written + o.written, outcome.duplicates + o.duplicates);
        }
        Ok(outcome)
    }

    /// Events of at most [`SESSIONS_PER_TRANSACTION`] sessions, in one transaction.
    async fn write_event_group(
        &self,
        tenant: TenantId,
        fresh: Vec<&PlayerEvent>,
        repeats: usize,
    ) -> Result<RecordOutcome, RepoError> {
        if self.bulk(fresh.len()) {
            return crate::pg_bulk_events::write(self, tenant, &fresh, repeats).await;
        }
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await?;
        let mut keys: Vec<(&str, &str)> = fresh.iter().map(|e| (e.user_id.as_str(), e.session_id.as_str())).collect();
        keys.sort_unstable();
        keys.dedup();
        self.lock_sessions(&txn, tenant, &keys).await?;
        let ids: Vec<&str> = fresh.iter().map(|e| e.id.as_str()).collect();
        let stored = self.stored_ids(&txn, "player_events", tenant, &ids).await?;
        let new: Vec<&PlayerEvent> = fresh.into_iter().filter(|e| !stored.contains(&e.id)).collect();
        let duplicates = repeats + (ids.len() - new.len());

        // Every event of each touched session: those stored (with their playback) and the new.
        let mut sessions = sessions_of(&new);
        for chunk in session_ids(&sessions).chunks(CHUNK) {
            let rows = player_event::Entity::find()
                .filter(player_event::Column::TenantId.eq(tenant.0))
                .filter(player_event::Column::SessionId.is_in(chunk.iter().cloned()))
                .all(&txn)
                .await
                .map_err(db_err)?;
            for row in rows {
                let (e, ms) = event(row)?;
                add_stored(&mut sessions, e, ms);
            }
        }

        let mut derived = derive(&sessions);
        let mut inserted: HashSet<String> = HashSet::new();
        let inserts: Vec<player_event::ActiveModel> =
            derived.inserts.iter().map(|(e, ms)| event_row(tenant, e, *ms)).collect();
        for chunk in inserts.chunks(CHUNK) {
            // A concurrent batch (locking other sessions) may have stored the same id since
            // it was checked: it stays stored once, with the session it came with, and
            // counts as a duplicate here.
            let keys = player_event::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([player_event::Column::TenantId, player_event::Column::Id])
                        .do_nothing()
                        .to_owned(),
                )
                .exec_with_returning_keys(&txn)
                .await;
            match keys {
                Ok(keys) => inserted.extend(keys.into_iter().map(|(_, id)| id)),
                Err(sea_orm::DbErr::RecordNotInserted) => {}
                Err(e) => return Err(db_err(e)),
            }
        }
        let written = inserted.len();
        if written < derived.inserts.len() {
            derived = rederive_without_lost(&mut sessions, &derived, &inserted);
        }
        let Derived { updates, summaries, .. } = derived;
        // One statement per chunk of changed playback, not one per event.
        for chunk in updates.chunks(CHUNK) {
            let mut sql = crate::sql::Sql::new("WITH u(id, ms) AS (VALUES ");
            for (i, (id, ms)) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.push("(").bind(id.clone()).push(", ").bind(*ms).push(")");
            }
            sql.push(
                ") UPDATE player_events SET playback_ms = (SELECT u.ms FROM u WHERE u.id = player_events.id) \
                 WHERE tenant_id = ",
            )
            .bind(tenant.0)
            .push(" AND id IN (SELECT u.id FROM u)");
            txn.execute_raw(sql.statement(txn.get_database_backend())).await.map_err(db_err)?;
        }
        use playback_session::Column as S;
        let summaries: Vec<playback_session::ActiveModel> = summaries.iter().map(|x| session_row(tenant, x)).collect();
        for chunk in summaries.chunks(CHUNK) {
            playback_session::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([S::TenantId, S::UserId, S::SessionId])
                        .update_columns([
                            S::FirstAt,
                            S::ContentKind,
                            S::ContentId,
                            S::Device,
                            S::Referrer,
                            S::PlaybackMs,
                        ])
                        .to_owned(),
                )
                .exec(&txn)
                .await
                .map_err(db_err)?;
        }
        let scopes = activity_scopes(new.iter().copied(), &inserted);
        self.commit_changes(txn, tenant, scopes).await?;
        Ok(RecordOutcome { written, duplicates: duplicates + (new.len() - written) })
    }

    pub(crate) async fn write_logins(&self, tenant: TenantId, logins: &[Login]) -> Result<RecordOutcome, RepoError> {
        let (fresh, repeats) = first_of_each_id(logins, |l| &l.id);
        if fresh.is_empty() {
            return Ok(RecordOutcome { written: 0, duplicates: repeats });
        }
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await?;
        let ids: Vec<&str> = fresh.iter().map(|l| l.id.as_str()).collect();
        let stored = self.stored_ids(&txn, "logins", tenant, &ids).await?;
        let rows: Vec<login_entity::ActiveModel> =
            fresh.iter().filter(|l| !stored.contains(&l.id)).map(|l| login_row(tenant, l)).collect();
        let users: BTreeSet<Scope> =
            fresh.iter().filter(|l| !stored.contains(&l.id)).map(|l| Scope::Activity(l.user_id.clone())).collect();
        let mut written = 0;
        for chunk in rows.chunks(CHUNK) {
            // A concurrent batch may have stored the same id meanwhile: it stays stored
            // once, and counts as a duplicate here (only rows this statement stored count).
            let stored_now = login_entity::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([login_entity::Column::TenantId, login_entity::Column::Id])
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await
                .map_err(db_err)?;
            written += usize::try_from(stored_now).unwrap_or(0);
        }
        self.commit_changes(txn, tenant, users.into_iter().collect()).await?;
        Ok(RecordOutcome { written, duplicates: repeats + ids.len() - written })
    }

    pub(crate) async fn write_contents(
        &self,
        tenant: TenantId,
        contents: &[Content],
    ) -> Result<RecordOutcome, RepoError> {
        if contents.is_empty() {
            return Ok(RecordOutcome::default());
        }
        let _turn = self.write_turn().await;
        let txn = self.begin_write().await?;
        // Concurrent upserts of one tenant's contents take turns, so each compares with
        // what the one before it stored and counts duplicates exactly.
        crate::registration_log::lock_version(&txn, tenant, &Scope::Contents).await?;
        let mut ids: Vec<String> = contents.iter().map(|c| c.id.clone()).collect();
        ids.sort();
        ids.dedup();
        let mut current: HashMap<String, Content> = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let rows = content_entity::Entity::find()
                .filter(content_entity::Column::TenantId.eq(tenant.0))
                .filter(content_entity::Column::Id.is_in(chunk.iter().cloned()))
                .all(&txn)
                .await
                .map_err(db_err)?;
            for row in rows {
                let c = content(row)?;
                current.insert(c.id.clone(), c);
            }
        }
        let mut outcome = RecordOutcome::default();
        let mut changed: Vec<String> = Vec::new();
        for c in contents {
            if current.get(&c.id) == Some(c) {
                outcome.duplicates += 1;
            } else {
                outcome.written += 1;
                current.insert(c.id.clone(), c.clone());
                changed.push(c.id.clone());
            }
        }
        changed.sort();
        changed.dedup();
        let now = Utc::now().timestamp_millis();
        let rows: Vec<content_entity::ActiveModel> =
            changed.iter().filter_map(|id| current.get(id)).map(|c| content_row(tenant, c, now)).collect();
        use content_entity::Column as C;
        for chunk in rows.chunks(CHUNK) {
            content_entity::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([C::TenantId, C::Id])
                        .update_columns([C::Kind, C::Title, C::UpdatedAt])
                        .to_owned(),
                )
                .exec(&txn)
                .await
                .map_err(db_err)?;
        }
        let scopes = if changed.is_empty() { Vec::new() } else { vec![Scope::Contents] };
        self.commit_changes(txn, tenant, scopes).await?;
        Ok(outcome)
    }
}

/// Each write is retried when concurrent writers conflicted (see `retry`).
#[async_trait::async_trait]
impl ActivityWrites for Store {
    async fn record_events(&self, tenant: TenantId, events: &[PlayerEvent]) -> Result<RecordOutcome, RepoError> {
        self.write_events(tenant, events).await
    }

    async fn record_logins(&self, tenant: TenantId, logins: &[Login]) -> Result<RecordOutcome, RepoError> {
        crate::retry::retrying("recordLogins", || self.write_logins(tenant, logins)).await
    }

    async fn upsert_contents(&self, tenant: TenantId, contents: &[Content]) -> Result<RecordOutcome, RepoError> {
        crate::retry::retrying("upsertContents", || self.write_contents(tenant, contents)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_ids_keep_the_first() {
        let items = ["a", "b", "a", "c", "b"];
        let (fresh, repeats) = first_of_each_id(&items, |s| s);
        assert_eq!(fresh, [&"a", &"b", &"c"]);
        assert_eq!(repeats, 2);
    }

    #[test]
    fn lock_keys_are_the_first_bytes_of_sha256() {
        // SHA-256("abc") starts ba7816bf8f01cfea.
        assert_eq!(lock_key("abc"), i64::from_be_bytes([0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea]));
        assert_ne!(lock_key("1\u{0}u\u{0}s"), lock_key("2\u{0}u\u{0}s"));
    }

    #[test]
    fn many_sessions_are_written_in_groups_of_whole_sessions() {
        let event = |i: usize| PlayerEvent {
            id: format!("e{i}"),
            session_id: format!("s{}", i % 2_500),
            user_id: "u".into(),
            event_type: ottstats_domain::playback::EventType::Play,
            occurred_at: chrono::DateTime::from_timestamp_millis(0).unwrap(),
            position: None,
            content_kind: None,
            content_id: None,
            device: None,
            referrer: None,
            bandwidth_kbps: None,
            played_seconds: None,
        };
        let events: Vec<PlayerEvent> = (0..5_000).map(event).collect();
        let refs: Vec<&PlayerEvent> = events.iter().collect();
        let groups = session_groups(&refs);
        let sessions = |g: &Vec<&PlayerEvent>| g.iter().map(|e| &e.session_id).collect::<HashSet<_>>().len();
        assert_eq!(groups.iter().map(sessions).collect::<Vec<_>>(), [1_000, 1_000, 500]);
        assert_eq!(groups.iter().map(Vec::len).sum::<usize>(), 5_000);
        // A session is never split: its two events are in one group.
        assert!(groups[0].iter().any(|e| e.id == "e2500") && groups[0].iter().any(|e| e.id == "e0"));
        assert_eq!(session_groups(&refs[..10]).len(), 1);
    }
}
