//! The generators' first items, as `ottstats generate` writes them (NDJSON, one JSON value
//! a line), compared with snapshots: a change to what a seed gives shows in review (the
//! demo, the benchmarks and every import example depend on it).

use chrono::{DateTime, TimeZone, Utc};
use insta::assert_json_snapshot;
use ottstats_datagen::activity::{
    Activity, ActivityGenerator, catalogue, write_contents_ndjson, write_events_ndjson, write_logins_ndjson,
};
use ottstats_datagen::users::{UserGenerator, generated_users, write_ndjson};
use serde_json::Value;

const SEED: u64 = 7;

fn instant(year: i32, month: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, 0, 0, 0).single().unwrap_or_else(|| unreachable!())
}

/// The lines `write` writes, each parsed as JSON.
fn ndjson(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> Vec<Value> {
    let mut out = Vec::new();
    write(&mut out).unwrap_or_else(|e| panic!("write: {e}"));
    let text = String::from_utf8(out).unwrap_or_else(|e| panic!("not UTF-8: {e}"));
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {e}: {l}"))).collect()
}

#[test]
fn the_first_generated_users() {
    let users = UserGenerator::new(SEED, "CL", instant(2025, 1, 1), instant(2026, 1, 1)).take(5);
    assert_json_snapshot!("first_users", ndjson(|out| write_ndjson(out, users)));
}

#[test]
fn the_first_generated_contents_and_activity() {
    let contents = catalogue(SEED);
    assert_json_snapshot!("first_contents", ndjson(|out| write_contents_ndjson(out, contents.iter().take(3).cloned())));
    let users = generated_users(SEED, "CL", instant(2025, 1, 1), instant(2025, 6, 1), 3);
    let activity = ActivityGenerator::new(SEED, &contents, users, instant(2025, 6, 1), instant(2025, 6, 8), 2.0);
    // The first items in generation order, each as its writer writes it.
    let first: Vec<Value> = activity
        .take(12)
        .flat_map(|item| match item {
            Activity::Event(e) => ndjson(|out| write_events_ndjson(out, std::iter::once(e))),
            Activity::Login(l) => ndjson(|out| write_logins_ndjson(out, std::iter::once(l))),
        })
        .collect();
    assert_eq!(first.len(), 12);
    assert_json_snapshot!("first_activity", first);
}
