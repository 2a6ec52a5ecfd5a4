//! Reading one user's activity in a period.

use std::collections::HashMap;

use ottstats_domain::RepoError;
use ottstats_domain::activity_repository::{ActivityReads, ActivityStats, EventQuery, LoginQuery};
use ottstats_domain::granularity::Bucket;
use ottstats_domain::page::{Page, PageRequest};
use ottstats_domain::period::Period;
use ottstats_domain::playback::activity::SessionInPeriod;
use ottstats_domain::playback::bandwidth::BandwidthStats;
use ottstats_domain::playback::quality::Quality;
use ottstats_domain::playback::{Content, Login, PlayerEvent};
use ottstats_domain::tenant::TenantId;
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryResult, Select};

use crate::activity_pages::{Order, read_page};
use crate::activity_rows::{content, event, login, session};
use crate::entities::{content as content_entity, login as login_entity, playback_session, player_event};
use crate::error::{corrupt, db_err};
use crate::sql::{Sql, bucket_sql};
use crate::store::Store;

const CHUNK: usize = 1_000;

pub(crate) fn millis(p: &Period) -> (i64, i64) {
    (p.from().timestamp_millis(), p.to().timestamp_millis())
}

/// `SELECT session_id` of the user's sessions whose first event is in `[from, to)`: the
/// sessions a period counts (DESIGN.md), for the overview and for quality.
pub(crate) fn sessions_started_in<'a>(
    sql: &'a mut Sql,
    tenant: TenantId,
    user: &str,
    (from, to): (i64, i64),
) -> &'a mut Sql {
    sql.push("SELECT session_id FROM playback_sessions WHERE tenant_id = ")
        .bind(tenant.0)
        .push(" AND user_id = ")
        .bind(user)
        .push(" AND first_at >= ")
        .bind(from)
        .push(" AND first_at < ")
        .bind(to)
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, col: &str) -> Result<T, RepoError> {
    row.try_get::<T>("", col).map_err(|e| corrupt(col, e))
}

/// The user's events in the period of the query, of its types.
fn events_of(q: &EventQuery<'_>) -> Select<player_event::Entity> {
    use player_event::Column as E;
    let (from, to) = millis(q.period);
    let mut select = player_event::Entity::find()
        .filter(E::TenantId.eq(q.tenant.0))
        .filter(E::UserId.eq(q.user_id))
        .filter(E::OccurredAt.gte(from))
        .filter(E::OccurredAt.lt(to));
    if let Some(types) = q.types {
        select = select.filter(E::EventType.is_in(types.iter().map(|t| t.as_str())));
    }
    select
}

/// The user's logins in the period.
fn logins_of(q: &LoginQuery<'_>) -> Select<login_entity::Entity> {
    use login_entity::Column as L;
    let (from, to) = millis(q.period);
    login_entity::Entity::find()
        .filter(L::TenantId.eq(q.tenant.0))
        .filter(L::UserId.eq(q.user_id))
        .filter(L::OccurredAt.gte(from))
        .filter(L::OccurredAt.lt(to))
}

#[async_trait::async_trait]
impl ActivityStats for Store {
    async fn sessions_in_period(
        &self,
        tenant: TenantId,
        user: &str,
        period: &Period,
    ) -> Result<Vec<SessionInPeriod>, RepoError> {
        let (from, to) = millis(period);
        // Sessions with events in the period (their PLAY events and playback there), and
        // sessions that started in it; then what each session is about.
        let mut sql = Sql::new(
            "WITH e AS (SELECT session_id, SUM(CASE WHEN event_type = 'PLAY' THEN 1 ELSE 0 END) AS starts, \
             SUM(playback_ms) AS ms FROM player_events WHERE tenant_id = ",
        );
        sql.bind(tenant.0)
            .push(" AND user_id = ")
            .bind(user)
            .push(" AND occurred_at >= ")
            .bind(from)
            .push(" AND occurred_at < ")
            .bind(to)
            .push(" GROUP BY session_id), ids AS (SELECT session_id FROM e UNION ");
        sessions_started_in(&mut sql, tenant, user, (from, to))
            .push(
                ") SELECT s.session_id, s.user_id, s.first_at, s.content_kind, s.content_id, s.device, s.referrer, \
                 s.playback_ms, s.tenant_id, CAST(COALESCE(e.starts, 0) AS BIGINT) AS starts, CAST(COALESCE(e.ms, 0) AS BIGINT) AS ms \
                 FROM ids JOIN playback_sessions s ON s.session_id = ids.session_id LEFT JOIN e ON e.session_id = ids.session_id \
                 WHERE s.tenant_id = ",
            )
            .bind(tenant.0)
            .push(" AND s.user_id = ")
            .bind(user);
        let rows = self.statistics_rows(tenant, sql).await?;
        rows.iter()
            .map(|row| {
                let summary = session(playback_session::Model::from_query_result(row, "").map_err(db_err)?)?;
                let starts: i64 = get(row, "starts")?;
                Ok(SessionInPeriod {
                    summary,
                    starts: u64::try_from(starts).unwrap_or(0),
                    playback_ms: get(row, "ms")?,
                })
            })
            .collect()
    }

    async fn quality(&self, tenant: TenantId, user: &str, period: &Period) -> Result<Quality, RepoError> {
        self.read_quality(tenant, user, period).await
    }

    async fn bandwidth(
        &self,
        tenant: TenantId,
        user: &str,
        buckets: &[Bucket],
    ) -> Result<Vec<BandwidthStats>, RepoError> {
        let mut out = vec![BandwidthStats::default(); buckets.len()];
        let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
            return Ok(out);
        };
        let b = bucket_sql(self.backend, buckets, "e.occurred_at");
        let mut sql = Sql::new(&format!(
            "{}SELECT {} AS idx, COUNT(*) AS n, SUM(e.bandwidth_kbps) AS total, MIN(e.bandwidth_kbps) AS lo, \
             MAX(e.bandwidth_kbps) AS hi FROM player_events e{} WHERE e.tenant_id = ",
            b.with, b.index, b.join
        ));
        sql.bind(tenant.0)
            .push(" AND e.user_id = ")
            .bind(user)
            .push(" AND e.occurred_at >= ")
            .bind(first.start.timestamp_millis())
            .push(" AND e.occurred_at < ")
            .bind(last.end.timestamp_millis())
            .push(" AND e.bandwidth_kbps IS NOT NULL GROUP BY 1");
        let rows = self.statistics_rows(tenant, sql).await?;
        for row in rows {
            let idx: i64 = get(&row, "idx")?;
            let slot =
                usize::try_from(idx).ok().and_then(|i| out.get_mut(i)).ok_or_else(|| corrupt("bucket index", idx))?;
            let n: i64 = get(&row, "n")?;
            *slot = BandwidthStats {
                samples: u64::try_from(n).unwrap_or(0),
                sum_kbps: get::<Option<f64>>(&row, "total")?.unwrap_or(0.0),
                min_kbps: get(&row, "lo")?,
                max_kbps: get(&row, "hi")?,
            };
        }
        Ok(out)
    }
}

#[async_trait::async_trait]
impl ActivityReads for Store {
    async fn events_page(&self, q: &EventQuery<'_>, request: &PageRequest) -> Result<Page<PlayerEvent>, RepoError> {
        use player_event::Column as E;
        let order = Order { instant: E::OccurredAt, id: E::Id, descending: false };
        let (rows, beyond) = read_page(&self.db, events_of(q), order, request).await?;
        let events = rows.into_iter().map(|r| event(r).map(|(e, _)| e)).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::assemble(events, beyond, request))
    }

    async fn count_events(&self, q: &EventQuery<'_>) -> Result<u64, RepoError> {
        events_of(q).count(&self.db).await.map_err(db_err)
    }

    async fn logins_page(&self, q: &LoginQuery<'_>, request: &PageRequest) -> Result<Page<Login>, RepoError> {
        use login_entity::Column as L;
        let order = Order { instant: L::OccurredAt, id: L::Id, descending: true };
        let (rows, beyond) = read_page(&self.db, logins_of(q), order, request).await?;
        let logins = rows.into_iter().map(login).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::assemble(logins, beyond, request))
    }

    async fn count_logins(&self, q: &LoginQuery<'_>) -> Result<u64, RepoError> {
        logins_of(q).count(&self.db).await.map_err(db_err)
    }

    async fn find_contents(&self, tenant: TenantId, ids: &[String]) -> Result<Vec<Content>, RepoError> {
        let mut found: HashMap<String, Content> = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let rows = content_entity::Entity::find()
                .filter(content_entity::Column::TenantId.eq(tenant.0))
                .filter(content_entity::Column::Id.is_in(chunk.iter().cloned()))
                .all(&self.db)
                .await
                .map_err(db_err)?;
            for row in rows {
                let c = content(row)?;
                found.insert(c.id.clone(), c);
            }
        }
        Ok(found.into_values().collect())
    }
}
