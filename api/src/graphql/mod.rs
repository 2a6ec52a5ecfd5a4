//! The GraphQL schema: thin resolvers over the domain's use cases.

mod enums;
mod error_codes;
mod ingest;
mod registrations;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, ErrorExtensions, Object, Schema, SchemaBuilder};
use async_graphql::{SDLExportOptions, extensions::Tracing};
use ottstats_domain::repository::{HealthCheck, RegistrationStatsRepository, TenantRepository, UserRepository};
use ottstats_domain::tenant::Tenant;

pub use enums::{GenderValue, GeoLevelValue, GranularityValue};
pub use error_codes::ErrorCodes;

use crate::error::{ApiError, GqlResult};

/// The deepest a query may nest.
pub const MAX_DEPTH: usize = 12;
/// The most fields (with list multipliers) one query may cost.
pub const MAX_COMPLEXITY: usize = 2_000;

/// The repositories the resolvers call.
#[derive(Clone)]
pub struct Services {
    pub tenants: Arc<dyn TenantRepository>,
    pub users: Arc<dyn UserRepository>,
    pub registrations: Arc<dyn RegistrationStatsRepository>,
    pub health: Arc<dyn HealthCheck>,
}

impl Services {
    /// All repositories backed by one store.
    pub fn from_store(store: ottstats_persistence::Store) -> Services {
        let store = Arc::new(store);
        Services { tenants: store.clone(), users: store.clone(), registrations: store.clone(), health: store }
    }
}

/// The tenant whose API key authenticated the request.
#[derive(Debug, Clone)]
pub struct TenantContext(pub Tenant);

pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema with its limits and extensions, before data is attached.
pub fn schema_builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query, Mutation, EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .extension(Tracing)
        .extension(ErrorCodes)
}

pub fn build_schema(services: Services) -> AppSchema {
    schema_builder().data(services).finish()
}

/// The SDL, with types, fields, arguments and enum values sorted so that it diffs well.
pub fn sdl() -> String {
    schema_builder()
        .finish()
        .sdl_with_options(SDLExportOptions::new().sorted_fields().sorted_arguments().sorted_enum_items())
}

pub(crate) fn services<'a>(ctx: &Context<'a>) -> GqlResult<&'a Services> {
    ctx.data::<Services>()
}

pub(crate) fn tenant<'a>(ctx: &Context<'a>) -> GqlResult<&'a Tenant> {
    ctx.data::<TenantContext>()
        .map(|t| &t.0)
        .map_err(|_| ApiError::Unauthenticated("an API key is required: send `Authorization: Bearer <key>`").extend())
}

pub struct Query;

/// What can be read: statistics of the tenant whose API key the request carries.
#[Object]
impl Query {
    /// Registration statistics of the authenticated tenant's users for a period.
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
}

pub struct Mutation;

/// What can be written: the tenant's users (more kinds of data follow).
#[Object]
impl Mutation {
    /// Creates or updates registered users by id. Every valid item is stored, every
    /// invalid one reported by index; at most 10,000 items.
    async fn upsert_users(
        &self,
        ctx: &Context<'_>,
        users: Vec<ingest::UserInput>,
    ) -> GqlResult<ingest::IngestReportObject> {
        ingest::upsert_users(ctx, users).await
    }
}
