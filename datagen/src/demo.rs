//! The demo tenant's data, and what the demo shows a newcomer first, the same on every
//! start of one database: the user with activity that the README's and GraphiQL's
//! examples look up, and the period that holds the demo's 30 days of playback.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

pub const DEMO_TENANT: &str = "Demo OTT";
pub const DEMO_USERS: usize = 30_000;
pub const DEMO_SEED: u64 = 2026;
/// Users with generated playback activity (the first ones), over the last 30 days.
pub const DEMO_VIEWERS: usize = 150;
pub const DEMO_ACTIVITY_DAYS: i64 = 30;

/// The README's `UserActivity` names this user: the second generated user, who watches
/// every month whatever the day the demo was made (tested below over three years of
/// creation days).
pub const FEATURED_USER: &str = "u0000002";

/// The demo's playback runs from 30 days before the UTC midnight of its creation to the
/// creation itself.
pub fn activity_window(created: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let midnight = created.date_naive().and_time(NaiveTime::MIN).and_utc();
    (midnight - Duration::days(DEMO_ACTIVITY_DAYS), created)
}

/// The local dates `[from, to)` in `zone` (the demo tenant's) that hold all of the
/// demo's playback: what the examples pass as `$from` and `$to`.
pub fn example_period(created: DateTime<Utc>, zone: Tz) -> (NaiveDate, NaiveDate) {
    let (start, end) = activity_window(created);
    let from = start.with_timezone(&zone).date_naive();
    let to = end.with_timezone(&zone).date_naive() + Duration::days(1);
    (from, to)
}

#[cfg(test)]
mod tests {
    use ottstats_domain::activity_input::PlayerEventDraft;

    use super::*;
    use crate::activity::{Activity, ActivityGenerator, catalogue};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn the_period_holds_the_whole_window_in_local_dates() {
        // 14:00 UTC is 11:00 in Santiago (UTC−3 in December); the window opens at
        // 2026-11-02T00:00Z, 21:00 on 1 November there.
        let santiago = chrono_tz::America::Santiago;
        let (from, to) = example_period(at("2026-12-02T14:00:00Z"), santiago);
        assert_eq!((from.to_string(), to.to_string()), ("2026-11-01".into(), "2026-12-03".into()));
        // At 01:30 UTC it is still the previous day in Santiago: 2 June, 21:30 (UTC−4).
        let (from, to) = example_period(at("2026-06-03T01:30:00Z"), santiago);
        assert_eq!((from.to_string(), to.to_string()), ("2026-05-03".into(), "2026-06-03".into()));
    }

    /// What `prepare` generates for a demo made at `created`, for the first viewers only
    /// (a viewer's activity does not depend on those after it).
    fn featured_events(created: DateTime<Utc>) -> Vec<PlayerEventDraft> {
        let to = created.date_naive().and_time(NaiveTime::MIN).and_utc();
        let users = crate::users::generated_users(DEMO_SEED, "CL", to - Duration::days(730), to, 2);
        assert_eq!(users.get(1).map(|u| u.0.as_str()), Some(FEATURED_USER));
        let (start, end) = activity_window(created);
        ActivityGenerator::new(DEMO_SEED, &catalogue(DEMO_SEED), users, start, end, 1.0)
            .filter_map(|a| match a {
                Activity::Event(e) if e.user_id == FEATURED_USER => Some(e),
                _ => None,
            })
            .collect()
    }

    /// A demo made on any day of three years: the featured user has streams (sessions
    /// of at least 5 s of playback) in its period, so the README's example always shows
    /// figures.
    #[test]
    fn the_featured_user_watches_whatever_the_day_of_the_demo() {
        // The featured user is the second viewer.
        const { assert!(DEMO_VIEWERS >= 2) };
        let first = at("2026-01-01T15:00:00Z");
        for week in 0..156 {
            let created = first + Duration::days(7 * week) + Duration::hours(week % 24);
            let events = featured_events(created);
            let mut played: std::collections::HashMap<&str, f64> = std::collections::HashMap::new();
            for e in events.iter().filter(|e| e.event_type == "PLAYING") {
                *played.entry(e.session_id.as_str()).or_default() += e.played_seconds.unwrap_or(10.0);
            }
            let streams = played.values().filter(|s| **s >= 5.0).count();
            assert!(streams >= 1, "a demo made at {created}: {streams} streams of {FEATURED_USER}");
        }
    }
}
