//! Property-based fuzzing of the four mutations through the real schema: random batches
//! mixing valid items with every kind of input the domain refuses (NUL characters,
//! over-long text, bad and far-future instants, unknown countries, out-of-range numbers,
//! empty ids), repeated ids within and across batches, and unicode text. For each batch:
//! no GraphQL error; every item accepted, duplicate or rejected by its index (the counts
//! add up and match a model of what is stored); each invalid item rejected naming its bad
//! field and no valid one; a re-read shows exactly what the model stored; and the last
//! batch sent again writes nothing new.
//!
//! 24 cases a backend and mutation by default; `PROPTEST_CASES=500 cargo test -p ottstats
//! --test e2e fuzz_mutations::` runs more. A failure prints the shrunk case, one line per
//! item as sent.

#[path = "fuzz_mutations/generate.rs"]
mod generate;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::{DateTime, Utc};
use generate::{Case, ContentKept, Item, Owner, USERS, UserKept, apply};
use ottstats_domain::tenant::Tenant;
use ottstats_tests::{Env, on_each_backend};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

use crate::operations;

/// A mutation: its document, the name of its variable and of its field.
struct Mutation(&'static str, &'static str, &'static str);

const USERS_M: Mutation = Mutation(operations::UPSERT_USERS_REPORT, "users", "upsertUsers");
const EVENTS_M: Mutation = Mutation(
    "mutation($b: [PlayerEventInput!]!) { recordEvents(events: $b) { accepted duplicates rejected { index code argument message } } }",
    "b",
    "recordEvents",
);
const LOGINS_M: Mutation = Mutation(
    "mutation($b: [LoginInput!]!) { recordLogins(logins: $b) { accepted duplicates rejected { index code argument message } } }",
    "b",
    "recordLogins",
);
const CONTENTS_M: Mutation = Mutation(
    "mutation($b: [ContentInput!]!) { upsertContents(contents: $b) { accepted duplicates rejected { index code argument message } } }",
    "b",
    "upsertContents",
);
/// Wide enough for every valid instant generated (2023 to an hour from now), within the
/// 20-year limit of a period.
const PERIOD: &str = r#"{from: "2021-01-01", to: "2040-01-01", timeZone: "UTC"}"#;

fn cases() -> u32 {
    // The usual proptest knob; a fixed default keeps the file fast in a debug build.
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24)
}

/// Runs `check` on each generated case, each in a fresh tenant, shrinking a failure and
/// failing the test with the minimal case. The runner is synchronous, so the async
/// checks run on this (multi-threaded) runtime from a thread allowed to block.
fn run_cases<'a, C, Fut>(env: &'a Env, what: &str, strategy: BoxedStrategy<C>, check: fn(&'a Env, Tenant, C) -> Fut)
where
    C: Clone + Debug,
    Fut: Future<Output = Result<(), TestCaseError>> + 'a,
{
    // No regression files: a failure prints its case, which belongs in a named test.
    let config = Config { cases: cases(), failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let runtime = tokio::runtime::Handle::current();
    let tenants = AtomicUsize::new(0);
    let started = Instant::now();
    let result = tokio::task::block_in_place(|| {
        runner.run(&strategy, |case| {
            runtime.block_on(async {
                let n = tenants.fetch_add(1, Ordering::Relaxed);
                let (tenant, _) = env.tenant(&format!("fuzz {n}"), "CL", chrono_tz::UTC).await;
                check(env, tenant, case).await
            })
        })
    });
    let runs = tenants.load(Ordering::Relaxed);
    eprintln!("{what}: {} cases, {runs} runs with any shrinking, {:.1?}", cases(), started.elapsed());
    let failure = result.err().map(|e| e.to_string());
    assert!(failure.is_none(), "{what}: {}", failure.unwrap_or_default());
}

/// Sends a batch; the report, or a failure when the response carries any error.
async fn send<N>(env: &Env, tenant: &Tenant, m: &Mutation, batch: &[Item<N>]) -> Result<Value, TestCaseError> {
    let items: Vec<&Value> = batch.iter().map(|i| &i.json).collect();
    let response = env.run(Some(tenant), m.0, json!({ m.1: items })).await;
    prop_assert!(response.get("errors").is_none(), "errors in the response: {response}");
    Ok(response["data"][m.2].clone())
}

async fn read(env: &Env, tenant: &Tenant, query: &str, variables: Value) -> Result<Value, TestCaseError> {
    let response = env.run(Some(tenant), query, variables).await;
    prop_assert!(response.get("errors").is_none(), "errors in a re-read: {response}");
    Ok(response["data"].clone())
}

/// The report of `batch` against the model's (accepted, duplicates).
fn check_report<N>(report: &Value, batch: &[Item<N>], expected: (usize, usize)) -> Result<(), TestCaseError> {
    let count = |field: &str| report[field].as_u64().and_then(|n| usize::try_from(n).ok());
    let (Some(accepted), Some(duplicates)) = (count("accepted"), count("duplicates")) else {
        return Err(TestCaseError::fail(format!("no counts in {report}")));
    };
    let rejected = report["rejected"].as_array().cloned().unwrap_or_default();
    prop_assert_eq!(accepted + duplicates + rejected.len(), batch.len(), "the counts do not add up: {}", report);
    let mut seen = BTreeSet::new();
    for r in &rejected {
        let index = r["index"].as_u64().and_then(|n| usize::try_from(n).ok()).unwrap_or(usize::MAX);
        prop_assert!(index < batch.len(), "index out of range: {}", r);
        prop_assert!(seen.insert(index), "index {} rejected twice: {}", index, report);
        prop_assert_eq!(&r["code"], "BAD_USER_INPUT", "{}", r);
        prop_assert!(r["message"].as_str().is_some_and(|m| !m.is_empty()), "no message: {}", r);
        let argument = r["argument"].as_str().unwrap_or_default();
        match batch[index].outcome {
            Ok(_) => prop_assert!(false, "valid item {} rejected: {}", index, r),
            Err(field) => prop_assert_eq!(argument, field, "item {} rejected for another field: {}", index, r),
        }
    }
    for (i, item) in batch.iter().enumerate() {
        prop_assert!(item.outcome.is_ok() || seen.contains(&i), "invalid item {} not rejected: {}", i, report);
    }
    prop_assert_eq!((accepted, duplicates), expected, "(accepted, duplicates) differ from the model: {}", report);
    Ok(())
}

/// Sends every batch of the case, checking each report; returns what the model stored.
async fn send_all<N: Clone + PartialEq>(
    env: &Env,
    tenant: &Tenant,
    m: &Mutation,
    case: &Case<N>,
    upsert: bool,
) -> Result<BTreeMap<String, N>, TestCaseError> {
    let mut stored = BTreeMap::new();
    for batch in &case.batches {
        let expected = apply(&mut stored, batch, upsert);
        check_report(&send(env, tenant, m, batch).await?, batch, expected)?;
    }
    Ok(stored)
}

/// Sends the last batch again. Events and logins: every valid item is now a duplicate.
/// Upserts: every item that matches what precedes it is; so nothing is accepted unless
/// the batch itself repeats an id with different values (each such change is written
/// again, and the last one still wins).
async fn resend_last<N: Clone + PartialEq>(
    env: &Env,
    tenant: &Tenant,
    m: &Mutation,
    case: &Case<N>,
    stored: &BTreeMap<String, N>,
    upsert: bool,
) -> Result<(), TestCaseError> {
    let Some(batch) = case.batches.last() else { return Ok(()) };
    let expected = apply(&mut stored.clone(), batch, upsert);
    if !upsert {
        prop_assert_eq!(expected.0, 0, "the model accepts a re-sent event or login");
    }
    check_report(&send(env, tenant, m, batch).await?, batch, expected)
}

fn millis(text: &Value) -> Result<i64, TestCaseError> {
    let t = text.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok());
    t.map(|t| t.timestamp_millis()).ok_or_else(|| TestCaseError::fail(format!("{text} is not an RFC 3339 instant")))
}

async fn check_users(env: &Env, tenant: Tenant, case: Case<UserKept>) -> Result<(), TestCaseError> {
    let stored = send_all(env, &tenant, &USERS_M, &case, true).await?;
    let ids = case.ids();
    let q = "query($ids: [ID!]!) { users(ids: $ids) { id name gender birthDate country state city registeredAt } }";
    let rows = read(env, &tenant, q, json!({ "ids": ids })).await?["users"].as_array().cloned().unwrap_or_default();
    prop_assert_eq!(rows.len(), ids.len());
    for (id, row) in ids.iter().zip(&rows) {
        let Some(k) = stored.get(id) else {
            prop_assert!(row.is_null(), "{:?} was never valid, yet it reads {}", id, row);
            continue;
        };
        let read =
            (&row["id"], &row["name"], &row["gender"], &row["birthDate"], &row["country"], &row["state"], &row["city"]);
        let sent = (
            &json!(id),
            &json!(k.name),
            &json!(k.gender),
            &json!(k.birth_date),
            &json!(k.country),
            &json!(k.state),
            &json!(k.city),
        );
        prop_assert_eq!(read, sent, "user {:?} reads otherwise than written", id);
        prop_assert_eq!(millis(&row["registeredAt"])?, k.registered_ms, "registeredAt of {:?}: {}", id, row);
    }
    let total = read(env, &tenant, &format!("{{ registrations(period: {PERIOD}) {{ total }} }}"), Value::Null).await?;
    prop_assert_eq!(&total["registrations"]["total"], &json!(stored.len()), "registrations total");
    resend_last(env, &tenant, &USERS_M, &case, &stored, true).await
}

/// Registers the users that events and logins name (`user(id)` is null otherwise).
async fn register(env: &Env, tenant: &Tenant, ids: &[&str]) -> Result<(), TestCaseError> {
    let users: Vec<Value> =
        ids.iter().map(|id| json!({"id": id, "name": id, "registeredAt": "2026-01-01T00:00:00Z"})).collect();
    let report = read(env, tenant, USERS_M.0, json!({ USERS_M.1: users })).await?;
    prop_assert_eq!(&report["upsertUsers"]["accepted"], &json!(ids.len()), "registering {:?}: {}", ids, report);
    Ok(())
}

/// Each user's (id, instant) pairs of the model, sorted.
fn owned_by(stored: &BTreeMap<String, Owner>, user: &str, ids: bool) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = stored
        .iter()
        .filter(|(_, o)| o.user == user)
        .map(|(id, o)| (if ids { id.clone() } else { String::new() }, o.at_ms))
        .collect();
    v.sort();
    v
}

async fn check_events(env: &Env, tenant: Tenant, case: Case<Owner>) -> Result<(), TestCaseError> {
    register(env, &tenant, &USERS).await?;
    let stored = send_all(env, &tenant, &EVENTS_M, &case, false).await?;
    for user in USERS {
        let q = format!(
            "query($id: ID!) {{ user(id: $id) {{ activity(period: {PERIOD}) {{ events(first: 100) {{ totalCount nodes {{ id occurredAt }} }} }} }} }}"
        );
        let events = read(env, &tenant, &q, json!({ "id": user })).await?["user"]["activity"]["events"].clone();
        let expected = owned_by(&stored, user, true);
        prop_assert_eq!(&events["totalCount"], &json!(expected.len()), "events of {:?}: {}", user, events);
        let mut got = Vec::new();
        for n in events["nodes"].as_array().cloned().unwrap_or_default() {
            got.push((n["id"].as_str().unwrap_or_default().to_owned(), millis(&n["occurredAt"])?));
        }
        got.sort();
        prop_assert_eq!(got, expected, "events of {:?}", user);
    }
    resend_last(env, &tenant, &EVENTS_M, &case, &stored, false).await
}

async fn check_logins(env: &Env, tenant: Tenant, case: Case<Owner>) -> Result<(), TestCaseError> {
    register(env, &tenant, &USERS).await?;
    let stored = send_all(env, &tenant, &LOGINS_M, &case, false).await?;
    for user in USERS {
        let q = format!(
            "query($id: ID!) {{ user(id: $id) {{ activity(period: {PERIOD}) {{ details {{ logins(first: 1000) {{ nodes {{ occurredAt }} }} }} }} }} }}"
        );
        let data = read(env, &tenant, &q, json!({ "id": user })).await?;
        let mut got = Vec::new();
        for l in data["user"]["activity"]["details"]["logins"]["nodes"].as_array().cloned().unwrap_or_default() {
            got.push((String::new(), millis(&l["occurredAt"])?));
        }
        got.sort();
        prop_assert_eq!(got, owned_by(&stored, user, false), "logins of {:?}", user);
    }
    resend_last(env, &tenant, &LOGINS_M, &case, &stored, false).await
}

/// Contents are read through events that name them: one event per content id sent.
async fn check_contents(env: &Env, tenant: Tenant, case: Case<ContentKept>) -> Result<(), TestCaseError> {
    let stored = send_all(env, &tenant, &CONTENTS_M, &case, true).await?;
    let ids = case.ids();
    if !ids.is_empty() {
        register(env, &tenant, &["viewer"]).await?;
        let events: Vec<Value> = (0..ids.len())
            .map(|i| {
                json!({"id": format!("v{i}"), "sessionId": format!("v{i}"), "userId": "viewer", "type": "PLAY",
                            "occurredAt": "2026-01-05T10:00:00Z", "contentId": ids[i]})
            })
            .collect();
        let report = read(env, &tenant, EVENTS_M.0, json!({ "b": events })).await?;
        prop_assert_eq!(&report["recordEvents"]["accepted"], &json!(ids.len()), "{}", report);
        let q = format!(
            "{{ user(id: \"viewer\") {{ activity(period: {PERIOD}) {{ events(first: 100) {{ nodes {{ content {{ id kind title }} }} }} }} }} }}"
        );
        let data = read(env, &tenant, &q, Value::Null).await?;
        let nodes = data["user"]["activity"]["events"]["nodes"].as_array().cloned().unwrap_or_default();
        let got: BTreeMap<String, Value> = nodes
            .iter()
            .map(|n| (n["content"]["id"].as_str().unwrap_or_default().to_owned(), n["content"].clone()))
            .collect();
        prop_assert_eq!(got.len(), ids.len(), "one event a content: {}", data);
        for id in &ids {
            let expected = match stored.get(id) {
                Some((kind, title)) => json!({"id": id, "kind": kind, "title": title}),
                None => json!({"id": id, "kind": null, "title": null}),
            };
            prop_assert_eq!(got.get(id), Some(&expected), "content {:?}", id);
        }
    }
    resend_last(env, &tenant, &CONTENTS_M, &case, &stored, true).await
}

async fn upsert_users(env: Env) {
    run_cases(&env, "upsertUsers", generate::users(Utc::now()), check_users);
}

async fn record_events(env: Env) {
    run_cases(&env, "recordEvents", generate::events(Utc::now()), check_events);
}

async fn record_logins(env: Env) {
    run_cases(&env, "recordLogins", generate::logins(Utc::now()), check_logins);
}

async fn upsert_contents(env: Env) {
    run_cases(&env, "upsertContents", generate::contents(), check_contents);
}

on_each_backend!(upsert_users, record_events, record_logins, upsert_contents);
