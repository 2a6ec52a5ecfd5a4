//! Write mutations and the report they return.

use async_graphql::{Context, ID, InputObject, SimpleObject};
use chrono::Utc;
use ottstats_domain::activity_input::{ContentDraft, LoginDraft, PlayerEventDraft};
use ottstats_domain::ingest::{self, IngestReport};
use ottstats_domain::playback::{ContentKind, EventType};
use ottstats_domain::user::UserDraft;

use super::enums::{ContentKindValue, GenderValue, PlayerEventTypeValue};
use super::scalars::{CountryCodeScalar, DateScalar, DateTimeScalar};
use super::{services, writing_tenant};
use crate::error::{Code, Gql, GqlResult};

/// A registered user as the operator knows it.
#[derive(InputObject, Debug, Clone)]
pub struct UserInput {
    /// The operator's id for the user, 1 to 128 characters.
    pub id: ID,
    /// Display name, up to 256 characters.
    pub name: String,
    /// `UNKNOWN` when omitted.
    pub gender: Option<GenderValue>,
    /// Not in the future.
    pub birth_date: Option<DateScalar>,
    /// Where the user lives.
    pub country: Option<CountryCodeScalar>,
    /// State or region, as the operator names it.
    pub state: Option<String>,
    /// City, as the operator names it.
    pub city: Option<String>,
    /// Instant of registration, at most a day in the future.
    pub registered_at: DateTimeScalar,
}

impl From<UserInput> for UserDraft {
    fn from(u: UserInput) -> Self {
        UserDraft {
            id: u.id.0,
            name: u.name,
            gender: u.gender.map(|g| ottstats_domain::gender::Gender::from(g).as_str().to_owned()),
            birth_date: u.birth_date.map(|d| d.0),
            country: u.country.map(|c| c.0),
            state: u.state,
            city: u.city,
            registered_at: u.registered_at.0,
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
                    // Every rejection is of invalid input.
                    code: Code::BadUserInput.as_str().to_owned(),
                    argument: x.argument,
                    message: x.message,
                })
                .collect(),
        }
    }
}

pub async fn upsert_users(ctx: &Context<'_>, users: Vec<UserInput>) -> GqlResult<IngestReportObject> {
    let tenant = writing_tenant(ctx)?;
    let repo = services(ctx)?.users.as_ref();
    let drafts: Vec<UserDraft> = users.into_iter().map(UserDraft::from).collect();
    let report = ingest::upsert_users(repo, tenant.id, &drafts, Utc::now()).await.gql()?;
    Ok(report.into())
}

/// One player event.
#[derive(InputObject, Debug, Clone)]
pub struct PlayerEventInput {
    /// The client's id for the event; a repeated id is a duplicate. 1 to 128 characters.
    pub id: ID,
    /// The player view (session) the event belongs to.
    pub session_id: ID,
    /// The user who watched.
    pub user_id: ID,
    /// What happened.
    #[graphql(name = "type")]
    pub event_type: PlayerEventTypeValue,
    /// When, at most a day in the future.
    pub occurred_at: DateTimeScalar,
    /// Seconds into the content, ≥ 0.
    pub position: Option<f64>,
    /// `LIVE` or `VOD`; a session's kind is its first event's.
    pub content_kind: Option<ContentKindValue>,
    /// The media or live signal played.
    pub content_id: Option<ID>,
    /// Device label (`Smart TV`, `Android`, …).
    pub device: Option<String>,
    /// Where the view came from (`home`, `search`, …).
    pub referrer: Option<String>,
    /// Bandwidth measured by the player, 0 to 1,000,000 Kbps.
    pub bandwidth_kbps: Option<f64>,
    /// On `PLAYING`: seconds played since the previous report, ≥ 0 (above 300 counts as 300).
    pub played_seconds: Option<f64>,
}

impl From<PlayerEventInput> for PlayerEventDraft {
    fn from(e: PlayerEventInput) -> Self {
        PlayerEventDraft {
            id: e.id.0,
            session_id: e.session_id.0,
            user_id: e.user_id.0,
            event_type: EventType::from(e.event_type).as_str().to_owned(),
            occurred_at: e.occurred_at.0,
            position: e.position,
            content_kind: e.content_kind.map(|k| ContentKind::from(k).as_str().to_owned()),
            content_id: e.content_id.map(|c| c.0),
            device: e.device,
            referrer: e.referrer,
            bandwidth_kbps: e.bandwidth_kbps,
            played_seconds: e.played_seconds,
        }
    }
}

/// One login of a user.
#[derive(InputObject, Debug, Clone)]
pub struct LoginInput {
    /// The client's id for the login; a repeated id is a duplicate.
    pub id: ID,
    /// The user who logged in.
    pub user_id: ID,
    /// When, at most a day in the future.
    pub occurred_at: DateTimeScalar,
    /// Device label.
    pub device: Option<String>,
}

impl From<LoginInput> for LoginDraft {
    fn from(l: LoginInput) -> Self {
        LoginDraft { id: l.id.0, user_id: l.user_id.0, occurred_at: l.occurred_at.0, device: l.device }
    }
}

/// A media (VOD) or live signal.
#[derive(InputObject, Debug, Clone)]
pub struct ContentInput {
    /// The operator's id for the content.
    pub id: ID,
    /// Live signal or video on demand.
    pub kind: ContentKindValue,
    /// Title shown in statistics, up to 512 characters.
    pub title: String,
}

impl From<ContentInput> for ContentDraft {
    fn from(c: ContentInput) -> Self {
        ContentDraft { id: c.id.0, kind: ContentKind::from(c.kind).as_str().to_owned(), title: c.title }
    }
}

pub async fn record_events(ctx: &Context<'_>, events: Vec<PlayerEventInput>) -> GqlResult<IngestReportObject> {
    let tenant = writing_tenant(ctx)?;
    let repo = services(ctx)?.activity.as_ref();
    let drafts: Vec<PlayerEventDraft> = events.into_iter().map(Into::into).collect();
    Ok(ingest::record_events(repo, tenant.id, &drafts, Utc::now()).await.gql()?.into())
}

pub async fn record_logins(ctx: &Context<'_>, logins: Vec<LoginInput>) -> GqlResult<IngestReportObject> {
    let tenant = writing_tenant(ctx)?;
    let repo = services(ctx)?.activity.as_ref();
    let drafts: Vec<LoginDraft> = logins.into_iter().map(Into::into).collect();
    Ok(ingest::record_logins(repo, tenant.id, &drafts, Utc::now()).await.gql()?.into())
}

pub async fn upsert_contents(ctx: &Context<'_>, contents: Vec<ContentInput>) -> GqlResult<IngestReportObject> {
    let tenant = writing_tenant(ctx)?;
    let repo = services(ctx)?.activity.as_ref();
    let drafts: Vec<ContentDraft> = contents.into_iter().map(Into::into).collect();
    Ok(ingest::upsert_contents(repo, tenant.id, &drafts).await.gql()?.into())
}
