//! Failed authentications per client address: each costs a database lookup, so an
//! address that keeps presenting wrong keys is refused with `RATE_LIMITED` before any
//! lookup, for as long as its budget takes to refill.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use moka::sync::Cache;

#[derive(Clone)]
pub struct AuthFailures(Arc<Inner>);

struct Inner {
    budget: RateLimiter<IpAddr, HashMapStateStore<IpAddr>, DefaultClock>,
    /// Addresses out of budget, until when (so that a refused address costs no lookup).
    blocked: Cache<IpAddr, std::time::Instant>,
}

impl Default for AuthFailures {
    fn default() -> Self {
        AuthFailures::new(&super::RateLimitSettings::default())
    }
}

impl AuthFailures {
    /// Failures an address may have: `settings.auth_failure_burst`, then
    /// `settings.auth_failures_per_second`.
    pub fn new(settings: &super::RateLimitSettings) -> AuthFailures {
        let quota = Quota::per_second(NonZeroU32::new(settings.auth_failures_per_second).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(settings.auth_failure_burst).unwrap_or(NonZeroU32::MIN));
        let blocked = Cache::builder().max_capacity(100_000).time_to_live(Duration::from_secs(60)).build();
        AuthFailures(Arc::new(Inner { budget: RateLimiter::hashmap(quota), blocked }))
    }

    /// How long `ip` must wait before its keys are looked at again; `None` when they may be.
    pub fn blocked_for(&self, ip: IpAddr) -> Option<Duration> {
        let until = self.0.blocked.get(&ip)?;
        until.checked_duration_since(std::time::Instant::now())
    }

    /// Counts a failure of `ip`; once over budget it is blocked until the budget refills a little.
    pub fn failed(&self, ip: IpAddr) {
        if let Err(not_until) = self.0.budget.check_key(&ip) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            self.0.blocked.insert(ip, std::time::Instant::now() + wait.max(Duration::from_secs(1)));
        }
        // Addresses whose budget refilled cost no memory.
        if self.0.budget.len() > 10_000 {
            self.0.budget.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_blocked_after_its_burst_of_failures_and_others_are_not() {
        let failures = AuthFailures::default();
        let (bad, good): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..super::super::RateLimitSettings::default().auth_failure_burst {
            failures.failed(bad);
        }
        assert_eq!(failures.blocked_for(bad), None, "the burst itself is allowed");
        failures.failed(bad);
        assert!(failures.blocked_for(bad).is_some());
        assert_eq!(failures.blocked_for(good), None);
    }
}
