//! `details.logins`: a cursor connection over a user's logins, newest first.

use async_graphql::{Context, ID, Object, SimpleObject};
use ottstats_domain::activity_repository::LoginQuery;
use ottstats_domain::period::Period;
use ottstats_domain::playback::Login;
use ottstats_domain::playback::activity::UNKNOWN;

use super::connection::{CursorKind, PageArgs, PageInfo, page_info};
use super::scalars::DateTimeScalar;
use crate::error::{Gql, GqlResult};
use crate::reader::Reader;

/// A page of a user's logins, newest first.
pub struct LoginConnection {
    total_count: i64,
    page_info: PageInfo,
    edges: Vec<LoginEdge>,
}

/// A page of a user's logins, newest first (a Relay connection).
#[Object]
impl LoginConnection {
    /// Logins of the user in the period, over all pages.
    async fn total_count(&self) -> i64 {
        self.total_count
    }

    /// Where this page stands: whether pages come before and after it, and its cursors.
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }

    /// This page's logins with their cursors, newest first.
    async fn edges(&self) -> &[LoginEdge] {
        &self.edges
    }

    /// This page's logins, newest first: `edges` without the cursors.
    async fn nodes(&self) -> Vec<&LoginEntry> {
        self.edges.iter().map(|e| &e.node).collect()
    }
}

/// A login and its cursor.
#[derive(SimpleObject)]
pub struct LoginEdge {
    /// Where this login stands: pass it as `after` or `before`.
    cursor: String,
    /// The login.
    node: LoginEntry,
}

/// A login.
#[derive(SimpleObject)]
pub struct LoginEntry {
    /// The client's id for the login.
    id: ID,
    /// When, with the offset of the period's time zone.
    occurred_at: DateTimeScalar,
    /// Device label; "Unknown" when missing.
    device: String,
}

pub async fn logins_page(
    ctx: &Context<'_>,
    reader: &Reader,
    user_id: &str,
    period: &Period,
    args: PageArgs,
) -> GqlResult<LoginConnection> {
    let request = args.parse(CursorKind::Login)?;
    let q = LoginQuery { tenant: reader.tenant(), user_id, period };
    let repo = reader;
    let wants_total = ctx.look_ahead().field("totalCount").exists();
    let count = async {
        match wants_total {
            true => repo.count_logins(&q).await.map(Some),
            false => Ok(None),
        }
    };
    let (page, total) = tokio::try_join!(repo.logins_page(&q, &request), count).gql()?;
    let edges: Vec<LoginEdge> = page.items.into_iter().map(|l| edge(period, l)).collect();
    let cursors: Vec<String> = edges.iter().map(|e| e.cursor.clone()).collect();
    Ok(LoginConnection {
        total_count: total.map_or(0, |t| i64::try_from(t).unwrap_or(i64::MAX)),
        page_info: page_info(&cursors, page.has_previous, page.has_next),
        edges,
    })
}

fn edge(period: &Period, l: Login) -> LoginEdge {
    LoginEdge {
        cursor: CursorKind::Login.encode(l.occurred_at, &l.id),
        node: LoginEntry {
            occurred_at: period.format(l.occurred_at).into(),
            device: l.device.unwrap_or_else(|| UNKNOWN.to_owned()),
            id: ID(l.id),
        },
    }
}
