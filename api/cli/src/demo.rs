//! The demo tenant: seeded once from `ottstats-datagen`; its key, featured user and
//! example period are the same on every start of one database.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use ottstats_domain::access::{NewKey, Scopes};
use ottstats_domain::activity_input::{LoginDraft, PlayerEventDraft};
use ottstats_domain::activity_repository::ActivityStats;
use ottstats_domain::country::Country;
use ottstats_domain::ingest;
use ottstats_domain::period::Period;
use ottstats_domain::tenant::Tenant;
use ottstats_domain::user::UserDraft;

use ottstats_datagen::demo::{self as featured, DEMO_SEED, DEMO_TENANT, DEMO_USERS, DEMO_VIEWERS, FEATURED_USER};
use ottstats_datagen::users::generated_users;
use ottstats_datagen::{activity, users};
use ottstats_graphql::Services;

use crate::CliError;

/// The series of derived keys the demo key comes from (see `Store::derived_key`).
const DEMO_KEY_SERIES: &str = "demo";

/// What a newcomer needs to explore the demo.
pub struct Demo {
    /// The same on every start of one database (until it is revoked).
    pub api_key: String,
    /// A user with activity in the demo's period, to look up first.
    pub featured_user: Option<String>,
    /// Local dates `[from, to)` in the demo's time zone holding all of its playback.
    pub period: (NaiveDate, NaiveDate),
}

impl Demo {
    /// The variables of the README's `UserActivity` example, as JSON.
    pub fn variables(&self) -> String {
        serde_json::json!({"from": self.period.0.to_string(), "to": self.period.1.to_string()}).to_string()
    }
}

/// Creates the demo tenant with its users, contents and activity when missing, and
/// returns its key: derived from the installation's secret, so the key printed at the
/// first start still works after every restart of the same database (and is stored as a
/// hash, with the scopes `read pii write`, like any other key).
pub async fn prepare(services: &Services) -> Result<Demo, CliError> {
    let tenant = match services.tenants.find_by_name(DEMO_TENANT).await? {
        Some(tenant) => {
            tracing::info!(tenant = tenant.id.0, "demo tenant exists");
            tenant
        }
        None => {
            let tenant = create(services).await?;
            // The tenant's first key was never shown: only the derived one is.
            for key in services.keys.list_keys(tenant.id).await? {
                services.keys.revoke_key(tenant.id, &key.id).await?;
            }
            tenant
        }
    };
    let new = NewKey { name: "demo".to_owned(), scopes: Scopes::DEFAULT, expires_at: None };
    let api_key = services.store.derived_key(tenant.id, DEMO_KEY_SERIES, &new).await?;
    let created = services.store.tenant_created_at(tenant.id).await?.unwrap_or_else(Utc::now);
    let period = featured::example_period(created, tenant.time_zone);
    let featured_user = featured_user(services, &tenant, created).await?;
    Ok(Demo { api_key, featured_user, period })
}

/// Generates the demo tenant's data: the same for every creation on one day.
async fn create(services: &Services) -> Result<Tenant, CliError> {
    let now = Utc::now();
    let home = Country::parse("CL").ok_or_else(|| CliError::Usage("CL is not a country".into()))?;
    let tenant = services.tenants.create_tenant(DEMO_TENANT, home, chrono_tz::America::Santiago).await?;
    let id = tenant.tenant.id;
    // Two years of registrations up to today's midnight (UTC): the same for every start on one day.
    let to = now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    let from = to - Duration::days(730);
    let drafts: Vec<UserDraft> = users::UserGenerator::new(DEMO_SEED, "CL", from, to).take(DEMO_USERS).collect();
    for chunk in drafts.chunks(ingest::MAX_BATCH) {
        ingest::upsert_users(services.users.as_ref(), id, chunk, now).await?;
    }
    let viewers = generated_users(DEMO_SEED, "CL", from, to, DEMO_VIEWERS);
    let contents = activity::catalogue(DEMO_SEED);
    ingest::upsert_contents(services.activity.as_ref(), id, &contents).await?;
    let (mut events, mut logins): (Vec<PlayerEventDraft>, Vec<LoginDraft>) = (Vec::new(), Vec::new());
    let (start, end) = featured::activity_window(now);
    let generator = activity::ActivityGenerator::new(DEMO_SEED, &contents, viewers, start, end, 1.0);
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
    Ok(tenant.tenant)
}

/// [`FEATURED_USER`] when it has sessions in the demo's playback window (it always
/// should: see the tests of `featured`), else the first demo user who has.
async fn featured_user(
    services: &Services,
    tenant: &Tenant,
    created: DateTime<Utc>,
) -> Result<Option<String>, CliError> {
    let (start, end) = featured::activity_window(created);
    let period = Period::new(start, end + Duration::seconds(1), tenant.time_zone)?;
    // Generated ids count from u0000001.
    let others = (1..=20).map(|n| format!("u{n:07}"));
    for id in std::iter::once(FEATURED_USER.to_owned()).chain(others) {
        if !services.store.sessions_in_period(tenant.id, &id, &period).await?.is_empty() {
            if id != FEATURED_USER {
                tracing::warn!(user = %id, "the demo's usual featured user has no activity; featuring another");
            }
            return Ok(Some(id));
        }
    }
    Ok(None)
}
