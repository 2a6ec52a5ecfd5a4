//! Reading what the quality panel needs: every event of the user's sessions that started
//! in the period or have an ERROR event in it. The figures are the domain's.

use std::collections::BTreeMap;

use ottstats_domain::RepoError;
use ottstats_domain::period::Period;
use ottstats_domain::playback::PlayerEvent;
use ottstats_domain::playback::quality::{Quality, SessionEvents, quality};
use ottstats_domain::playback::session::{event_order, summarize};
use ottstats_domain::tenant::TenantId;
use sea_orm::FromQueryResult;

use crate::activity_read::{millis, sessions_started_in};
use crate::activity_rows::event;
use crate::entities::player_event;
use crate::error::db_err;
use crate::sql::Sql;
use crate::store::Store;

impl Store {
    pub(crate) async fn read_quality(
        &self,
        tenant: TenantId,
        user: &str,
        period: &Period,
    ) -> Result<Quality, RepoError> {
        let (from, to) = millis(period);
        // The sessions as an `IN` list, not a joined CTE: SQLite 3.51 ran the join with the
        // user's events outside and the CTE, computed again, inside (seconds for a user
        // with thousands of events); `IN` is computed once and probes the session index.
        let mut sql = Sql::new("SELECT e.* FROM player_events e WHERE e.tenant_id = ");
        sql.bind(tenant.0).push(" AND e.user_id = ").bind(user).push(" AND e.session_id IN (");
        sessions_started_in(&mut sql, tenant, user, (from, to))
            .push(" UNION SELECT session_id FROM player_events WHERE tenant_id = ")
            .bind(tenant.0)
            .push(" AND user_id = ")
            .bind(user)
            .push(" AND event_type = 'ERROR' AND occurred_at >= ")
            .bind(from)
            .push(" AND occurred_at < ")
            .bind(to)
            .push(")");
        let rows = self.statistics_rows(tenant, sql).await?;
        let mut sessions: BTreeMap<String, Vec<(PlayerEvent, i64)>> = BTreeMap::new();
        for row in &rows {
            let (e, ms) = event(player_event::Model::from_query_result(row, "").map_err(db_err)?)?;
            sessions.entry(e.session_id.clone()).or_default().push((e, ms));
        }
        let sessions: Vec<SessionEvents> = sessions
            .into_values()
            .filter_map(|mut events| {
                events.sort_by(|a, b| event_order(&a.0, &b.0));
                let (events, playback): (Vec<PlayerEvent>, Vec<i64>) = events.into_iter().unzip();
                let summary = summarize(&events, &playback)?;
                Some(SessionEvents { summary, events })
            })
            .collect();
        Ok(quality(&sessions, period))
    }
}
