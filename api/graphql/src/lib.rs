//! The GraphQL schema of ottstats: thin resolvers over the domain's use cases.
//!
//! - [`services`]: what the schema runs on, put together once per process;
//! - [`reader`]: the only way resolvers read, recording the scope of every read;
//! - [`context`]: the tenant of a request, its grant and its reader;
//! - the resolvers: [`registrations`], `users`, `activity` (with `events`, `logins`),
//!   `ingest` (the mutations), `live` (subscriptions);
//! - [`limits`]: what a request may ask, measured before it runs;
//! - [`error`]: the API's errors and their one mapping to GraphQL;
//! - [`response_cache`]: whole answers by request and data versions;
//! - [`null_propagation`]: answers completed as the spec says.

mod activity;
mod comparison;
mod completion;
mod connection;
pub mod context;
mod enums;
mod erasure;
pub mod error;
mod error_codes;
mod events;
mod guard;
mod index_refresh;
mod ingest;
pub mod limits;
mod live;
mod logins;
pub mod null_propagation;
mod quality;
pub mod reader;
pub mod registrations;
pub mod response_cache;
pub mod scalars;
pub mod services;
mod users;

use async_graphql::SDLExportOptions;
use async_graphql::{Context, ID, Object, Schema, SchemaBuilder};
use ottstats_domain::access::Scope;
use ottstats_domain::tenant::Tenant;

pub use context::TenantContext;
pub use enums::{ContentKindValue, GenderValue, GeoLevelValue, GranularityValue, PlayerEventTypeValue};
pub use error_codes::{ErrorCodes, add_code};
pub use live::LiveSettings;
pub use null_propagation::SpecNulls;
pub use reader::{ReadSet, Reader};
pub use services::{CacheSettings, ServiceSettings, Services};

use crate::error::{ApiError, Gql, GqlResult};
use guard::Needs;

pub use live::{LiveStamp, Stamp, Subscription};

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The schema with the default limits and its extensions, before data is attached.
pub fn schema_builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    schema_builder_with(limits::Limits::DEFAULT)
}

/// The schema held to `limits`, with its extensions, before data is attached.
pub fn schema_builder_with(limits: limits::Limits) -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query, Mutation, Subscription)
        .extension(limits::BoundedCost(limits))
        .extension(ErrorCodes)
        .extension(null_propagation::SpecNulls)
}

/// The schema on `services`, held to their limits.
pub fn build_schema(services: Services) -> AppSchema {
    schema_builder_with(services.limits).data(services).finish()
}

/// The SDL, with types, fields, arguments and enum values sorted so that it diffs well.
pub fn sdl() -> String {
    schema_builder().finish().sdl_with_options(
        SDLExportOptions::new().sorted_fields().sorted_arguments().sorted_enum_items().include_specified_by(),
    )
}

pub(crate) fn services<'a>(ctx: &Context<'a>) -> GqlResult<&'a Services> {
    ctx.data::<Services>()
}

pub(crate) fn tenant_context<'a>(ctx: &Context<'a>) -> GqlResult<&'a TenantContext> {
    ctx.data::<TenantContext>()
        .map_err(|_| ApiError::Unauthenticated("an API key is required: send `Authorization: Bearer <key>`"))
        .gql()
}

/// The tenant a mutation writes for (its answer is never cached: the server stores only
/// answers of queries).
pub(crate) fn writing_tenant<'a>(ctx: &Context<'a>) -> GqlResult<&'a Tenant> {
    Ok(&tenant_context(ctx)?.tenant)
}

pub struct Query;

/// What can be read: statistics of the tenant whose API key the request carries.
#[Object]
impl Query {
    /// Registration statistics of the authenticated tenant's users for a period.
    #[graphql(guard = "Needs(Scope::Read)")]
    async fn registrations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period `[from, to)` and the time zone its buckets follow.")]
        period: registrations::PeriodInput,
        #[graphql(desc = "Counts only registrations that pass this filter.")] filter: Option<
            registrations::RegistrationFilterInput,
        >,
    ) -> GqlResult<registrations::RegistrationStats> {
        registrations::RegistrationStats::resolve(ctx, period, filter)
    }

    /// One user of the tenant by id; null when the tenant has no such user.
    #[graphql(guard = "Needs(Scope::Read)")]
    async fn user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operator's id for the user.")] id: ID,
    ) -> GqlResult<Option<users::User>> {
        users::user(ctx, id).await
    }

    /// Several users by id, in the order asked, null where the tenant has no such user;
    /// at most 100 ids.
    #[graphql(guard = "Needs(Scope::Read)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Up to 100 ids.")] ids: Vec<ID>,
    ) -> GqlResult<Vec<Option<users::User>>> {
        users::users(ctx, ids).await
    }

    /// The users whose id starts with `idPrefix`, in id order (a search box's
    /// suggestions); at most `first`, 1 to 50.
    #[graphql(guard = "Needs(Scope::Read)")]
    async fn users_by_id_prefix(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The beginning of the ids, 1 to 128 characters (trimmed).")] id_prefix: String,
        #[graphql(desc = "How many users at most, 1 to 50; 10 when not given.", default = 10)] first: Option<i32>,
    ) -> GqlResult<Vec<users::User>> {
        users::users_by_id_prefix(ctx, id_prefix, first).await
    }

    /// The limits every request is held to.
    async fn limits(&self, ctx: &Context<'_>) -> limits::LimitsObject {
        limits::LimitsObject(ctx.data_opt::<Services>().map_or(limits::Limits::DEFAULT, |s| s.limits))
    }
}

pub struct Mutation;

/// What can be written: the tenant's users, contents, player events and logins.
#[Object]
impl Mutation {
    /// Creates or updates registered users by id. Every valid item is stored, every
    /// invalid one reported by index; at most 10,000 items.
    #[graphql(guard = "Needs(Scope::Write)")]
    async fn upsert_users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The users: a new id creates one, a known id updates it.")] users: Vec<ingest::UserInput>,
    ) -> GqlResult<ingest::IngestReportObject> {
        ingest::upsert_users(ctx, users).await
    }

    /// Records player events. A repeated event id is a duplicate, stored once; events may
    /// arrive late and out of order. At most 10,000 items.
    #[graphql(guard = "Needs(Scope::Write)")]
    async fn record_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The events, in any order.")] events: Vec<ingest::PlayerEventInput>,
    ) -> GqlResult<ingest::IngestReportObject> {
        ingest::record_events(ctx, events).await
    }

    /// Records logins. A repeated login id is a duplicate, stored once. At most 10,000 items.
    #[graphql(guard = "Needs(Scope::Write)")]
    async fn record_logins(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The logins.")] logins: Vec<ingest::LoginInput>,
    ) -> GqlResult<ingest::IngestReportObject> {
        ingest::record_logins(ctx, logins).await
    }

    /// Erases users: each one's profile, player events, sessions and logins, one
    /// transaction per user; every figure, cache and index forgets them at once. Erasing
    /// again reports the id in `notFound`. At most 1,000 ids.
    #[graphql(guard = "Needs(Scope::Write)")]
    async fn erase_users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The users' ids; a repeated id counts once.")] ids: Vec<ID>,
    ) -> GqlResult<erasure::ErasureReport> {
        erasure::erase_users(ctx, ids).await
    }

    /// Creates or updates medias and live signals (their kind and title). At most 10,000 items.
    #[graphql(guard = "Needs(Scope::Write)")]
    async fn upsert_contents(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The contents; a later item with the same id wins.")] contents: Vec<ingest::ContentInput>,
    ) -> GqlResult<ingest::IngestReportObject> {
        ingest::upsert_contents(ctx, contents).await
    }
}
