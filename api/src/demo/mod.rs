//! The demo tenant: generated once, with a fresh key on every start.

pub mod activity;
pub mod users;
mod weighted;

use chrono::{DateTime, Duration, Utc};
use ottstats_domain::activity_input::{LoginDraft, PlayerEventDraft};
use ottstats_domain::country::Country;
use ottstats_domain::ingest;
use ottstats_domain::period::Period;
use ottstats_domain::tenant::TenantId;
use ottstats_domain::user::UserDraft;

use crate::cli::CliError;
use crate::graphql::Services;

pub const DEMO_TENANT: &str = "Demo OTT";
pub const DEMO_USERS: usize = 30_000;
pub const DEMO_SEED: u64 = 2026;
/// Users with generated playback activity (the first ones), over the last 30 days.
pub const DEMO_VIEWERS: usize = 150;
pub const DEMO_ACTIVITY_DAYS: i64 = 30;

/// What a newcomer needs to explore the demo.
pub struct Demo {
    pub api_key: String,
    /// A user with activity in the last 30 days, to look up first.
    pub featured_user: Option<String>,
}

/// Creates the demo tenant with its users, contents and activity when missing, and
/// returns a fresh API key for it (the old ones are revoked: only hashes are stored, so
/// they cannot be shown again).
pub async fn prepare(services: &Services) -> Result<Demo, CliError> {
    let now = Utc::now();
    let tenant = match services.tenants.find_by_name(DEMO_TENANT).await? {
        Some(tenant) => {
            tracing::info!(tenant = tenant.id.0, "demo tenant exists; issuing a fresh key");
            let api_key = services.tenants.rotate_api_key(tenant.id).await?;
            return Ok(Demo { api_key, featured_user: featured_user(services, tenant.id, now).await? });
        }
        None => {
            let home = Country::parse("CL").ok_or_else(|| CliError::Usage("CL is not a country".into()))?;
            services.tenants.create_tenant(DEMO_TENANT, home, chrono_tz::America::Santiago).await?
        }
    };
    let id = tenant.tenant.id;
    // Two years of registrations up to today's midnight (UTC): the same for every start on one day.
    let to = now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    let from = to - Duration::days(730);
    let drafts: Vec<UserDraft> = users::UserGenerator::new(DEMO_SEED, "CL", from, to).take(DEMO_USERS).collect();
    for chunk in drafts.chunks(ingest::MAX_BATCH) {
        ingest::upsert_users(services.users.as_ref(), id, chunk, now).await?;
    }
    let viewers = crate::cli::generate::generated_users(DEMO_SEED, "CL", from, to, DEMO_VIEWERS);
    let contents = activity::catalogue(DEMO_SEED);
    ingest::upsert_contents(services.activity.as_ref(), id, &contents).await?;
    let (mut events, mut logins): (Vec<PlayerEventDraft>, Vec<LoginDraft>) = (Vec::new(), Vec::new());
    let generator = activity::ActivityGenerator::new(
        DEMO_SEED,
        &contents,
        viewers,
        to - Duration::days(DEMO_ACTIVITY_DAYS),
        now,
        1.0,
    );
    for item in generator {
        match item {
            activity::Activity::Event(e) => events.push(e),
            activity::Activity::Login(l) => logins.push(l),
        }
        if events.len() == ingest::MAX_BATCH {
            ingest::record_events(services.activity.as_ref(), id, &events, now).await?;
            events.clear();
        }
    }
    ingest::record_events(services.activity.as_ref(), id, &events, now).await?;
    for chunk in logins.chunks(ingest::MAX_BATCH) {
        ingest::record_logins(services.activity.as_ref(), id, chunk, now).await?;
    }
    tracing::info!(tenant = id.0, users = DEMO_USERS, viewers = DEMO_VIEWERS, "demo tenant created");
    Ok(Demo { api_key: tenant.api_key, featured_user: featured_user(services, id, now).await? })
}

/// The first demo user with sessions in the last 30 days.
async fn featured_user(services: &Services, tenant: TenantId, now: DateTime<Utc>) -> Result<Option<String>, CliError> {
    let period = Period::new(now - Duration::days(DEMO_ACTIVITY_DAYS), now, chrono_tz::America::Santiago)?;
    for (id, _) in crate::cli::generate::generated_users(DEMO_SEED, "CL", now - Duration::days(730), now, 20) {
        if !services.activity.sessions_in_period(tenant, &id, &period).await?.is_empty() {
            return Ok(Some(id));
        }
    }
    Ok(None)
}
