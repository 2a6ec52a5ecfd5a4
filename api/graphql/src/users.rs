//! `user(id)` and `users(ids)`: a user's profile, and the way to their activity.

use async_graphql::{Context, ID, Object};
use ottstats_domain::InputError;
use ottstats_domain::user::{RegisteredUser, validate_id};
use ottstats_domain::user_search::{IdPrefix, MatchLimit};

use super::activity::UserActivity;
use super::enums::GenderValue;
use super::guard::personal;
use super::registrations::PeriodInput;
use super::scalars::{CountryCodeScalar, DateScalar, DateTimeScalar};
use super::tenant_context;
use crate::error::{ApiError, Gql, GqlResult};

/// The most ids `users(ids)` takes.
pub const MAX_USERS: usize = 100;

pub async fn users_by_id_prefix(ctx: &Context<'_>, prefix: String, first: Option<i32>) -> GqlResult<Vec<User>> {
    let prefix = IdPrefix::parse(&prefix, "idPrefix").gql()?;
    let limit = MatchLimit::parse(first.unwrap_or(10), "first").gql()?;
    let tc = tenant_context(ctx)?;
    let found = tc.reader.users_with_prefix(&prefix, limit).await.gql()?;
    Ok(found.into_iter().map(User).collect())
}

/// A registered user of the tenant.
pub struct User(RegisteredUser);

/// An id argument as stored ids are: trimmed, 1..=128 characters, no NUL.
pub fn id_argument(id: &ID, argument: &str) -> GqlResult<String> {
    validate_id(&id.0, argument).gql()
}

pub async fn user(ctx: &Context<'_>, id: ID) -> GqlResult<Option<User>> {
    let tc = tenant_context(ctx)?;
    let id = id_argument(&id, "id")?;
    let found = tc.reader.user(id).await.gql()?;
    Ok(found.map(User))
}

pub async fn users(ctx: &Context<'_>, ids: Vec<ID>) -> GqlResult<Vec<Option<User>>> {
    if ids.len() > MAX_USERS {
        let e = InputError::new("ids", format!("at most {MAX_USERS} ids, got {}", ids.len()));
        return Err(ApiError::Input(e).into());
    }
    let tc = tenant_context(ctx)?;
    let keys: Vec<String> =
        ids.iter().enumerate().map(|(i, id)| id_argument(id, &format!("ids[{i}]"))).collect::<GqlResult<_>>()?;
    let found = tc.reader.users(&keys).await.gql()?;
    Ok(keys.iter().map(|k| found.get(k).cloned().map(User)).collect())
}

/// A registered user of the tenant, and what they did.
#[Object]
impl User {
    /// The operator's id for the user.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// Display name; needs the `pii` scope (null with a `FORBIDDEN` error without it).
    async fn name(&self, ctx: &Context<'_>) -> Option<&str> {
        personal(ctx, self.0.name.as_str())
    }

    /// `UNKNOWN` when not given.
    async fn gender(&self) -> GenderValue {
        self.0.gender.into()
    }

    /// When known; needs the `pii` scope (null with a `FORBIDDEN` error without it).
    async fn birth_date(&self, ctx: &Context<'_>) -> Option<DateScalar> {
        personal(ctx, self.0.birth_date)?.map(|d| d.format("%Y-%m-%d").to_string().into())
    }

    /// Whole years at registration (UTC date); null when unknown or outside 0..=120.
    async fn age(&self) -> Option<i32> {
        self.0.age.map(i32::from)
    }

    /// Where the user lives, when known.
    async fn country(&self) -> Option<CountryCodeScalar> {
        self.0.country.map(|c| c.code().into())
    }

    /// State or region, as the operator names it.
    async fn state(&self) -> Option<&str> {
        self.0.state.as_deref()
    }

    /// City, as the operator names it.
    async fn city(&self) -> Option<&str> {
        self.0.city.as_deref()
    }

    /// Instant of registration, in UTC.
    async fn registered_at(&self) -> DateTimeScalar {
        self.0.registered_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true).into()
    }

    /// What the user did in a period: overview, every player event, bandwidth and
    /// consumption details.
    async fn activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period `[from, to)`; the tenant's time zone when none is given.")] period: PeriodInput,
    ) -> GqlResult<UserActivity> {
        UserActivity::resolve(ctx, &self.0.id, period)
    }
}
