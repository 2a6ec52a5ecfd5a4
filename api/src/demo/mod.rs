//! The demo tenant: generated once, with a fresh key on every start.

pub mod users;

use chrono::{Duration, Utc};
use ottstats_domain::country::Country;
use ottstats_domain::ingest;
use ottstats_domain::user::UserDraft;

use crate::cli::CliError;
use crate::graphql::Services;

pub const DEMO_TENANT: &str = "Demo OTT";
pub const DEMO_USERS: usize = 30_000;
pub const DEMO_SEED: u64 = 2026;

/// Creates the demo tenant with its users when missing, and returns a fresh API key for
/// it (the old ones are revoked: only hashes are stored, so they cannot be shown again).
pub async fn prepare(services: &Services) -> Result<String, CliError> {
    if let Some(tenant) = services.tenants.find_by_name(DEMO_TENANT).await? {
        tracing::info!(tenant = tenant.id.0, "demo tenant exists; issuing a fresh key");
        return Ok(services.tenants.rotate_api_key(tenant.id).await?);
    }
    let home = Country::parse("CL").ok_or_else(|| CliError::Usage("CL is not a country".into()))?;
    let issued = services.tenants.create_tenant(DEMO_TENANT, home, chrono_tz::America::Santiago).await?;
    // Two years up to today's midnight (UTC): the same data for every start on one day.
    let now = Utc::now();
    let to = now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    let from = to - Duration::days(730);
    let generator = users::UserGenerator::new(DEMO_SEED, home.code(), from, to);
    let drafts: Vec<UserDraft> = generator.take(DEMO_USERS).collect();
    let mut stored = 0;
    for chunk in drafts.chunks(ingest::MAX_BATCH) {
        let report = ingest::upsert_users(services.users.as_ref(), issued.tenant.id, chunk, now).await?;
        stored += report.accepted;
    }
    tracing::info!(tenant = issued.tenant.id.0, users = stored, "demo tenant created");
    Ok(issued.api_key)
}
