//! Write mutations and the report they return.

use async_graphql::{Context, InputObject, SimpleObject};
use chrono::Utc;
use ottstats_domain::ingest::{self, IngestReport};
use ottstats_domain::user::UserDraft;

use super::enums::GenderValue;
use super::{services, tenant};
use crate::error::{GqlResult, domain};

/// A registered user as the operator knows it.
#[derive(InputObject, Debug, Clone)]
pub struct UserInput {
    /// The operator's id for the user, 1 to 128 characters.
    pub id: String,
    /// Display name, up to 256 characters.
    pub name: String,
    /// `UNKNOWN` when omitted.
    pub gender: Option<GenderValue>,
    /// `YYYY-MM-DD`, not in the future.
    pub birth_date: Option<String>,
    /// ISO 3166-1 alpha-2 code.
    pub country: Option<String>,
    /// State or region, as the operator names it.
    pub state: Option<String>,
    pub city: Option<String>,
    /// RFC 3339 instant of registration, at most a day in the future.
    pub registered_at: String,
}

impl From<UserInput> for UserDraft {
    fn from(u: UserInput) -> Self {
        UserDraft {
            id: u.id,
            name: u.name,
            gender: u.gender.map(|g| ottstats_domain::gender::Gender::from(g).as_str().to_owned()),
            birth_date: u.birth_date,
            country: u.country,
            state: u.state,
            city: u.city,
            registered_at: u.registered_at,
        }
    }
}

/// What became of a batch: every item is accepted, a duplicate, or rejected.
#[derive(SimpleObject)]
#[graphql(name = "IngestReport")]
pub struct IngestReportObject {
    /// Items stored: new, or changing what was stored.
    accepted: i32,
    /// Items already stored exactly as sent.
    duplicates: i32,
    /// Items refused, each with its index in the batch and the reason.
    rejected: Vec<IngestRejection>,
}

/// An item of a batch that was not stored.
#[derive(SimpleObject)]
pub struct IngestRejection {
    /// Position of the item in the batch, from 0.
    index: i32,
    /// `BAD_USER_INPUT`.
    code: String,
    /// The field of the item that was wrong (`country`, `birthDate`, …).
    argument: String,
    /// Why.
    message: String,
}

fn small(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl From<IngestReport> for IngestReportObject {
    fn from(r: IngestReport) -> Self {
        IngestReportObject {
            accepted: small(r.accepted),
            duplicates: small(r.duplicates),
            rejected: r
                .rejected
                .into_iter()
                .map(|x| IngestRejection {
                    index: small(x.index),
                    code: x.code.to_owned(),
                    argument: x.argument,
                    message: x.message,
                })
                .collect(),
        }
    }
}

pub async fn upsert_users(ctx: &Context<'_>, users: Vec<UserInput>) -> GqlResult<IngestReportObject> {
    let tenant = tenant(ctx)?;
    let repo = services(ctx)?.users.as_ref();
    let drafts: Vec<UserDraft> = users.into_iter().map(UserDraft::from).collect();
    let report = domain(ingest::upsert_users(repo, tenant.id, &drafts, Utc::now()).await)?;
    Ok(report.into())
}
