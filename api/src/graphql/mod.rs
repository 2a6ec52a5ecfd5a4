//! The GraphQL schema: thin resolvers over the domain's use cases.

mod activity;
mod completion;
mod connection;
mod enums;
mod error_codes;
mod events;
mod guard;
mod ingest;
pub mod limits;
mod live;
mod loaders;
mod logins;
pub(crate) mod null_propagation;
mod registrations;
pub mod scalars;
mod users;

use std::sync::Arc;

use async_graphql::SDLExportOptions;
use async_graphql::{Context, ErrorExtensions, ID, Object, Schema, SchemaBuilder};
use ottstats_domain::access::Scope;
use ottstats_domain::activity_repository::ActivityRepository;
use ottstats_domain::repository::{HealthCheck, KeyRepository, RegistrationViews, TenantRepository, UserRepository};
use ottstats_domain::tenant::Tenant;
use ottstats_engine::{Engine, EngineSettings};
use ottstats_persistence::{CachedStore, ChangeFeed, RedisLink, ResponseCache, Store};

pub use enums::{ContentKindValue, GenderValue, GeoLevelValue, GranularityValue, PlayerEventTypeValue};
pub use error_codes::{ErrorCodes, add_code};
pub use loaders::TenantContext;
pub use null_propagation::SpecNulls;

use crate::error::{ApiError, GqlResult};
use guard::Needs;

/// What the in-process cache of statistics may hold.
pub const CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// What the in-process cache of rendered answers may hold.
pub const RESPONSE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// The repositories the resolvers call.
#[derive(Clone)]
pub struct Services {
    pub tenants: Arc<dyn TenantRepository>,
    pub keys: Arc<dyn KeyRepository>,
    pub users: Arc<dyn UserRepository>,
    /// Registration panels: one view of the data per question (the index, or SQL).
    pub registrations: Arc<dyn RegistrationViews>,
    pub activity: Arc<dyn ActivityRepository>,
    pub health: Arc<dyn HealthCheck>,
    /// Announces committed writes to live subscriptions.
    pub changes: ChangeFeed,
    /// Current data versions, which subscriptions compare before pushing.
    pub store: Store,
    /// Rendered answers by request and data versions.
    pub responses: ResponseCache,
    /// The statistics cache, for its counters.
    pub cache: Arc<CachedStore>,
    /// The shared cache and change fan-out, when configured.
    pub redis: Option<RedisLink>,
    /// The registrations index, which answers `registrations` (SQL while it loads).
    pub engine: Engine,
}

impl Services {
    /// All repositories backed by one store, statistics through an in-process cache.
    pub fn from_store(store: Store) -> Services {
        Services::new(store, None, EngineSettings::default())
    }

    /// All repositories backed by one store; caches and change notices shared through
    /// `redis` when given, in process otherwise. Must run inside a Tokio runtime.
    pub fn new(store: Store, redis: Option<RedisLink>, index: EngineSettings) -> Services {
        let store = match &redis {
            Some(link) => {
                let feed = ChangeFeed::over_redis(link.clone(), store.installation());
                store.with_change_feed(feed)
            }
            None => store,
        };
        let cached = Arc::new(CachedStore::new(store.clone(), CACHE_BYTES, redis.clone()));
        let responses = ResponseCache::new(store.clone(), RESPONSE_CACHE_BYTES, redis.clone(), &sdl());
        let shared = Arc::new(store.clone());
        let engine = Engine::new(shared.clone(), cached.clone(), index);
        crate::index_refresh::spawn(&engine, store.change_feed());
        Services {
            tenants: shared.clone(),
            keys: shared.clone(),
            users: shared.clone(),
            registrations: Arc::new(engine.clone()),
            activity: cached.clone(),
            health: shared,
            changes: store.change_feed().clone(),
            store,
            responses,
            cache: cached,
            redis,
            engine,
        }
    }
}

pub use live::{LiveStamp, Stamp, Subscription};

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The schema with its limits and extensions, before data is attached.
pub fn schema_builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query, Mutation, Subscription)
        .extension(limits::BoundedCost(limits::Limits::DEFAULT))
        .extension(ErrorCodes)
        .extension(null_propagation::SpecNulls)
}

pub fn build_schema(services: Services) -> AppSchema {
    schema_builder().data(services).finish()
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
        .map_err(|_| ApiError::Unauthenticated("an API key is required: send `Authorization: Bearer <key>`").extend())
}

/// The tenant of a request that writes: its answer is never cached.
pub(crate) fn writing_tenant<'a>(ctx: &Context<'a>) -> GqlResult<&'a Tenant> {
    let tc = tenant_context(ctx)?;
    tc.reads.record_write();
    Ok(&tc.tenant)
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

    /// The limits every request is held to.
    async fn limits(&self) -> limits::LimitsObject {
        limits::LimitsObject(limits::Limits::DEFAULT)
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
