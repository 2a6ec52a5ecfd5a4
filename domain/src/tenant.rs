use chrono_tz::Tz;

use crate::country::Country;

/// A tenant's id (an OTT operator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(pub i64);

/// An OTT operator: its data is never visible to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    /// The country whose states and cities geography breaks down.
    pub home_country: Country,
    /// The default time zone of periods.
    pub time_zone: Tz,
    /// Rate-limit points a minute for each of its keys; the server's default when `None`.
    pub rate_limit: Option<u32>,
}
