//! Writes that lost a race with another writer (a PostgreSQL deadlock or serialization
//! failure) were rolled back whole: they are tried again here, a few times with a short
//! random pause, before the caller hears of it (as `UNAVAILABLE`, never `INTERNAL`).

use std::future::Future;
use std::time::Duration;

use ottstats_domain::RepoError;

/// Tries of one write in all.
pub const ATTEMPTS: u32 = 5;

pub(crate) async fn retrying<T, F, Fut>(what: &str, mut write: F) -> Result<T, RepoError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RepoError>>,
{
    let mut attempt = 1;
    loop {
        match write().await {
            Err(RepoError::Conflict(e)) if attempt < ATTEMPTS => {
                tracing::debug!(what, attempt, error = %e, "write conflicted; trying again");
                // 5, 10, 20, 40 ms, plus up to as much again at random, so that the
                // writers that collided do not collide again.
                let base = 5u64 << (attempt - 1);
                tokio::time::sleep(Duration::from_millis(base + rand::random_range(0..=base))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn conflicts_are_retried_and_other_errors_are_not() {
        let calls = AtomicU32::new(0);
        let r = retrying("t", || async {
            let n = calls.fetch_add(1, Ordering::Relaxed);
            if n < 2 { Err(RepoError::Conflict("deadlock".into())) } else { Ok(n) }
        })
        .await;
        assert_eq!(r.ok(), Some(2));
        calls.store(0, Ordering::Relaxed);
        let r: Result<(), RepoError> = retrying("t", || async {
            calls.fetch_add(1, Ordering::Relaxed);
            Err(RepoError::Conflict("deadlock".into()))
        })
        .await;
        assert!(matches!(r, Err(RepoError::Conflict(_))));
        assert_eq!(calls.load(Ordering::Relaxed), ATTEMPTS);
        calls.store(0, Ordering::Relaxed);
        let r: Result<(), RepoError> = retrying("t", || async {
            calls.fetch_add(1, Ordering::Relaxed);
            Err(RepoError::Internal("bug".into()))
        })
        .await;
        assert!(matches!(r, Err(RepoError::Internal(_))));
        assert_eq!(calls.load(Ordering::Relaxed), 1);
    }
}
