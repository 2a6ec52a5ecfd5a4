//! The bucket in Redis: one script, so that the read, the decision and the write are one
//! atomic step for every process. Time is Redis's own (`TIME`), so processes whose clocks
//! differ still share one bucket fairly. The value is the GCRA's *theoretical arrival
//! time* in microseconds: the bucket is full when it is in the past.

use std::sync::LazyLock;
use std::time::Duration;

use ottstats_cache::RedisLink;

use super::{Charge, Limited, WINDOW};

static SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local per_point = window / limit
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + cost * per_point
if new_tat - now > window then
  local remaining = math.floor((now + window - tat) / per_point)
  return {0, remaining, math.ceil(new_tat - window - now), math.ceil(tat - now)}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return {1, math.floor((now + window - new_tat) / per_point), 0, math.ceil(new_tat - now)}
",
    )
});

/// The outcome, or `None` when Redis cannot answer (the caller charges locally then).
pub async fn charge(redis: &RedisLink, bucket: &str, limit: u32, cost: u64) -> Option<Result<Charge, Limited>> {
    let window = i64::try_from(WINDOW.as_micros()).unwrap_or(i64::MAX);
    let cost_arg = i64::try_from(cost).unwrap_or(i64::MAX);
    let reply = redis.run_script(&SCRIPT, &[bucket], &[i64::from(limit), window, cost_arg]).await?;
    let [allowed, remaining, retry_us, full_in_us] = reply[..] else {
        tracing::warn!(?reply, "the rate-limit script answered oddly; charging locally");
        return None;
    };
    let micros = |n: i64| Duration::from_micros(u64::try_from(n).unwrap_or(0));
    let charge = Charge {
        limit: limit.into(),
        cost,
        remaining: u64::try_from(remaining).unwrap_or(0).min(limit.into()),
        reset_at: super::later(micros(full_in_us)),
    };
    Some(if allowed == 1 { Ok(charge) } else { Err(Limited { charge, retry_after: Some(micros(retry_us)) }) })
}
