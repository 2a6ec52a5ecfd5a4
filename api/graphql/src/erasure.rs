//! `eraseUsers(ids)`: parsed once here, erased by the domain's use case.

use async_graphql::{Context, ID, SimpleObject};
use ottstats_domain::erasure::{self, ErasureIds};

use super::{services, writing_tenant};
use crate::error::{Gql, GqlResult};

/// What an erasure did.
#[derive(SimpleObject)]
pub struct ErasureReport {
    /// Users of whom something was erased (profile, events, sessions or logins).
    erased: i64,
    /// Ids of which nothing was stored: never, or erased already. In the order given.
    not_found: Vec<ID>,
}

pub async fn erase_users(ctx: &Context<'_>, ids: Vec<ID>) -> GqlResult<ErasureReport> {
    let tenant = writing_tenant(ctx)?;
    let ids: Vec<String> = ids.into_iter().map(|id| id.0).collect();
    let ids = ErasureIds::parse(&ids, "ids").gql()?;
    let repo = services(ctx)?.users.as_ref();
    let report = erasure::erase_users(repo, tenant.id, &ids).await.gql()?;
    Ok(ErasureReport {
        erased: i64::try_from(report.erased).unwrap_or(i64::MAX),
        not_found: report.not_found.into_iter().map(ID).collect(),
    })
}
