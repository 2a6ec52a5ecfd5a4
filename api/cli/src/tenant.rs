use ottstats_domain::InputError;
use ottstats_domain::country::Country;
use ottstats_domain::period::parse_time_zone;
use ottstats_domain::repository::TenantRepository;
use ottstats_store::Store;

use super::CliError;

/// Creates a tenant and prints its key as the last line of stdout.
pub async fn create(url: &str, name: &str, country: &str, time_zone: &str) -> Result<(), CliError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(InputError::new("--name", "must be 1 to 200 characters").into());
    }
    let country = Country::parse_arg(country, "--country")?;
    let tz = parse_time_zone(time_zone).map_err(|e| InputError::new("--time-zone", e.message))?;
    let store = Store::open(url).await?;
    if store.find_by_name(name).await?.is_some() {
        return Err(CliError::Usage(format!("a tenant named {name:?} exists already")));
    }
    let issued = store.create_tenant(name, country, tz).await?;
    println!(
        "tenant {} ({}) created: home {}, time zone {}",
        issued.tenant.id.0,
        issued.tenant.name,
        country.code(),
        tz.name()
    );
    println!("API key (shown once):");
    println!("{}", issued.api_key);
    store.close().await?;
    Ok(())
}

/// Sets the rate limit of each of the tenant's keys: points a minute, or `default`.
pub async fn set_rate_limit(url: &str, name: &str, per_minute: &str) -> Result<(), CliError> {
    let limit = match per_minute.trim() {
        "default" => None,
        n => Some(n.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
            InputError::new("--per-minute", "a whole number of points from 1 to 4294967295, or `default`")
        })?),
    };
    let store = Store::open(url).await?;
    let Some(tenant) = store.find_by_name(name.trim()).await? else {
        return Err(CliError::Usage(format!("no tenant is named {:?}", name.trim())));
    };
    store.set_rate_limit(tenant.id, limit).await?;
    let shown =
        limit.map_or(format!("the default ({})", ottstats_server::rate_limit::DEFAULT_PER_MINUTE), |n| n.to_string());
    println!("tenant {}: each key may spend {shown} points a minute", tenant.name);
    store.close().await?;
    Ok(())
}
