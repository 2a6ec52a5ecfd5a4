//! Cost-based rate limits per key. Each key has a bucket of `limit` points that refills
//! evenly over a minute (GCRA, as GitHub's and Cloudflare's APIs meter); a request takes
//! its cost (see `graphql::limits`) from it, a cached answer takes 1. With Redis the
//! bucket is shared by every process (one atomic script); without it, or while Redis is
//! away, each process keeps its own.

mod failures;
mod shared;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter as Gcra};
use moka::sync::Cache;
use ottstats_cache::RedisLink;
use ottstats_domain::access::KeyId;
use ottstats_domain::tenant::{Tenant, TenantId};

pub use failures::AuthFailures;

/// Points a key may spend a minute unless its tenant has a limit of its own (or the
/// settings another default): five answers of the largest cost allowed, or some hundreds
/// of dashboard loads.
pub const DEFAULT_PER_MINUTE: u32 = 1_000_000;
/// The time a whole bucket takes to refill: limits are points a minute.
pub const WINDOW: Duration = Duration::from_secs(60);

/// The defaults of the rate limits: the `[rate_limit]` section of the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Points each key may spend a minute unless its tenant has a limit of its own
    /// (`ottstats tenant set-rate-limit`).
    pub default_per_minute: u32,
    /// Failed authentications a client address may have in a burst, then
    /// `auth_failures_per_second`; past that it is refused before any lookup.
    pub auth_failure_burst: u32,
    pub auth_failures_per_second: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            default_per_minute: DEFAULT_PER_MINUTE,
            auth_failure_burst: 100,
            auth_failures_per_second: 10,
        }
    }
}

/// What a request was charged: `extensions.rateLimit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    /// Points the bucket holds when full.
    pub limit: u64,
    /// Points this request took (or would have taken).
    pub cost: u64,
    /// Points left after it.
    pub remaining: u64,
    /// When the bucket is full again.
    pub reset_at: DateTime<Utc>,
}

/// A refusal: the bucket lacks the points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub charge: Charge,
    /// When enough points will be back; `None` when the request costs more than the
    /// whole bucket and never can pass.
    pub retry_after: Option<Duration>,
}

type Bucket = Gcra<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;

/// Every key's bucket.
#[derive(Clone)]
pub struct RateLimiter {
    /// Per key: the limit it was made with (a changed limit makes a new bucket), and the bucket.
    local: Cache<(TenantId, KeyId), Arc<(u32, Bucket)>>,
    redis: Option<RedisLink>,
    /// Names this database in Redis keys, so that installations sharing a Redis never
    /// share buckets.
    installation: Arc<str>,
    /// The limit of keys whose tenant has none of its own.
    default_per_minute: u32,
}

impl RateLimiter {
    pub fn new(redis: Option<RedisLink>, installation: &str) -> RateLimiter {
        RateLimiter::with_default(redis, installation, DEFAULT_PER_MINUTE)
    }

    /// [`RateLimiter::new`] whose keys without a limit of their tenant's have `per_minute`.
    pub fn with_default(redis: Option<RedisLink>, installation: &str, per_minute: u32) -> RateLimiter {
        // An idle key's bucket is full after a window: forgetting it then loses nothing.
        let local = Cache::builder().max_capacity(100_000).time_to_idle(WINDOW).build();
        RateLimiter { local, redis, installation: installation.into(), default_per_minute: per_minute }
    }

    /// The limit of a tenant's keys, points a minute.
    pub fn limit_of(&self, tenant: &Tenant) -> u32 {
        tenant.rate_limit.unwrap_or(self.default_per_minute).max(1)
    }

    /// Takes `cost` points from the key's bucket.
    pub async fn charge(&self, tenant: &Tenant, key: &KeyId, cost: u64) -> Result<Charge, Limited> {
        let limit = self.limit_of(tenant);
        let cost = cost.max(1);
        if cost > u64::from(limit) {
            let charge = Charge { limit: limit.into(), cost, remaining: 0, reset_at: Utc::now() };
            return Err(Limited { charge, retry_after: None });
        }
        if let Some(redis) = self.redis.as_ref().filter(|r| r.is_up()) {
            let bucket = format!("ottstats:{}:rate:{}:{}", self.installation, tenant.id.0, key);
            if let Some(outcome) = shared::charge(redis, &bucket, limit, cost).await {
                return outcome;
            }
        }
        self.charge_locally(tenant.id, key, limit, cost)
    }

    fn charge_locally(&self, tenant: TenantId, key: &KeyId, limit: u32, cost: u64) -> Result<Charge, Limited> {
        let entry = (tenant, key.clone());
        let bucket = match self.local.get(&entry) {
            Some(b) if b.0 == limit => b,
            _ => {
                let quota = Quota::with_period(WINDOW / limit)
                    .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
                    .allow_burst(NonZeroU32::new(limit).unwrap_or(NonZeroU32::MIN));
                let made = Arc::new((limit, Gcra::direct(quota).with_middleware::<StateInformationMiddleware>()));
                self.local.insert(entry, made.clone());
                made
            }
        };
        let per_point = WINDOW / limit;
        let n = NonZeroU32::new(u32::try_from(cost).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MIN);
        let full_in =
            |remaining: u64| per_point.saturating_mul(u32::try_from(u64::from(limit) - remaining).unwrap_or(u32::MAX));
        match bucket.1.check_n(n) {
            Ok(Ok(snapshot)) => {
                let remaining = u64::from(snapshot.remaining_burst_capacity()).min(limit.into());
                Ok(Charge { limit: limit.into(), cost, remaining, reset_at: later(full_in(remaining)) })
            }
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                // The points the bucket holds now: the cost less those it waits for (as
                // the Redis script says it).
                let missing = u64::try_from(wait.as_nanos().div_ceil(per_point.as_nanos().max(1))).unwrap_or(u64::MAX);
                let remaining = cost.saturating_sub(missing);
                let charge = Charge { limit: limit.into(), cost, remaining, reset_at: later(full_in(remaining)) };
                Err(Limited { charge, retry_after: Some(wait) })
            }
            Err(_) => {
                let charge = Charge { limit: limit.into(), cost, remaining: 0, reset_at: Utc::now() };
                Err(Limited { charge, retry_after: None })
            }
        }
    }
}

/// Now plus `d`, to the second (what `resetAt` says).
fn later(d: Duration) -> DateTime<Utc> {
    let at = Utc::now() + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::zero());
    DateTime::from_timestamp(at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0), 0).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Tz;
    use ottstats_domain::country::Country;

    fn tenant(limit: Option<u32>) -> Tenant {
        let home_country = Country::parse("CL").unwrap();
        Tenant { id: TenantId(1), name: "t".into(), home_country, time_zone: Tz::UTC, rate_limit: limit }
    }

    #[tokio::test]
    async fn a_bucket_gives_its_limit_then_refuses_until_it_refills() {
        let limiter = RateLimiter::new(None, "test");
        let (t, key) = (tenant(Some(600)), KeyId::of_hash("0123456789abcdef"));
        let first = limiter.charge(&t, &key, 500).await.unwrap();
        assert_eq!((first.limit, first.cost, first.remaining), (600, 500, 100));
        assert!(first.reset_at > Utc::now());
        let refused = limiter.charge(&t, &key, 200).await.unwrap_err();
        // What the bucket holds is said, though it is not enough.
        assert!((99..=101).contains(&refused.charge.remaining), "{refused:?}");
        // 100 points short at 10 points a second: about 10 s.
        let wait = refused.retry_after.unwrap();
        assert!(wait > Duration::from_secs(9) && wait <= Duration::from_secs(10), "{wait:?}");
        assert_eq!(limiter.charge(&t, &key, 100).await.unwrap().remaining, 0);
    }

    #[tokio::test]
    async fn keys_and_limits_have_buckets_of_their_own() {
        let limiter = RateLimiter::new(None, "test");
        let t = tenant(Some(10));
        let (a, b) = (KeyId::of_hash("aaaaaaaaaaaaaaaa"), KeyId::of_hash("bbbbbbbbbbbbbbbb"));
        limiter.charge(&t, &a, 10).await.unwrap();
        assert!(limiter.charge(&t, &a, 1).await.is_err());
        assert_eq!(limiter.charge(&t, &b, 1).await.unwrap().remaining, 9);
        // The tenant's limit raised: a new, full bucket.
        assert_eq!(limiter.charge(&tenant(Some(20)), &a, 1).await.unwrap().remaining, 19);
    }

    #[tokio::test]
    async fn a_request_dearer_than_the_whole_bucket_never_passes() {
        let limiter = RateLimiter::new(None, "test");
        let refused = limiter.charge(&tenant(Some(10)), &KeyId::of_hash("cccccccccccccccc"), 11).await.unwrap_err();
        assert_eq!(refused.retry_after, None);
        assert_eq!(limiter.limit_of(&tenant(None)), DEFAULT_PER_MINUTE);
        assert_eq!(RateLimiter::with_default(None, "test", 7).limit_of(&tenant(None)), 7);
    }
}
