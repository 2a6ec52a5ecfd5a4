//! Comparison with an earlier period, against figures worked out by hand. Tenant home:
//! Spain, Europe/Madrid (clocks went forward on 2026-03-29 at 02:00 +01 to 03:00 +02).
//!
//! | user | gender | registered (UTC)     | local                  | counted in                              |
//! |------|--------|----------------------|------------------------|-----------------------------------------|
//! | p1   | FEMALE | 2026-03-15T23:30:00Z | 03-16 00:30 +01        | W's previous period (by days, not by a 167 h duration) |
//! | p2   | MALE   | 2026-03-15T22:30:00Z | 03-15 23:30 +01        | nothing                                 |
//! | p3   | MALE   | 2026-03-22T22:30:00Z | 03-22 23:30 +01        | W's previous period                     |
//! | p4   | FEMALE | 2026-03-18T10:00:00Z | 03-18 11:00 +01        | W's previous period                     |
//! | c1   | FEMALE | 2026-03-22T23:00:00Z | 03-23 00:00 +01        | W                                       |
//! | c2   | MALE   | 2026-03-29T21:30:00Z | 03-29 23:30 +02        | W; D                                    |
//! | c3   | MALE   | 2026-03-29T22:00:00Z | 03-30 00:00 +02        | nothing                                 |
//! | y1   | FEMALE | 2024-02-29T12:00:00Z | 2024-02-29 13:00 +01   | L                                       |
//! | y2   | MALE   | 2023-02-28T12:00:00Z | 2023-02-28 13:00 +01   | L's previous year                       |
//! | y3   | FEMALE | 2023-02-27T23:30:00Z | 2023-02-28 00:30 +01   | L's previous year                       |
//! | y4   | MALE   | 2023-02-28T23:30:00Z | 2023-03-01 00:30 +01   | nothing                                 |
//! | z1   | MALE   | 2025-03-29T11:30:00Z | 2025-03-29 12:30 +01   | D's previous year                       |
//! | z2   | FEMALE | 2025-03-29T10:30:00Z | 2025-03-29 11:30 +01   | nothing (a 365-day shift would count it) |
//!
//! W = the week 2026-03-23..2026-03-30 (167 hours); its previous period is 2026-03-16..23
//! (7 local days, 168 hours). L = 29 February 2024; its previous year is 28 February
//! 2023, its previous period 28 February 2024 (nobody). D = 2026-03-29T12:00..03-30; its
//! previous year keeps the wall clock: 2025-03-29T12:00 +01 (before that year's change).

use ottstats_domain::tenant::Tenant;
use ottstats_tests::{Env, first_error, on_each_backend_and_path};
use serde_json::{Value, json};

use crate::operations;

const MADRID: chrono_tz::Tz = chrono_tz::Europe::Madrid;

fn user(id: &str, gender: &str, at: &str) -> Value {
    json!({"id": id, "name": format!("User {id}"), "gender": gender, "country": "ES", "registeredAt": at})
}

async fn seeded(env: &Env) -> Tenant {
    let (tenant, _) = env.tenant("Acme", "ES", MADRID).await;
    let users = json!([
        user("p1", "FEMALE", "2026-03-15T23:30:00Z"),
        user("p2", "MALE", "2026-03-15T22:30:00Z"),
        user("p3", "MALE", "2026-03-22T22:30:00Z"),
        user("p4", "FEMALE", "2026-03-18T10:00:00Z"),
        user("c1", "FEMALE", "2026-03-22T23:00:00Z"),
        user("c2", "MALE", "2026-03-29T21:30:00Z"),
        user("c3", "MALE", "2026-03-29T22:00:00Z"),
        user("y1", "FEMALE", "2024-02-29T12:00:00Z"),
        user("y2", "MALE", "2023-02-28T12:00:00Z"),
        user("y3", "FEMALE", "2023-02-27T23:30:00Z"),
        user("y4", "MALE", "2023-02-28T23:30:00Z"),
        user("z1", "MALE", "2025-03-29T11:30:00Z"),
        user("z2", "FEMALE", "2025-03-29T10:30:00Z"),
    ]);
    let report = env.data(&tenant, operations::UPSERT_USERS_REPORT, json!({"users": users})).await;
    assert_eq!(report["upsertUsers"]["accepted"], 13);
    tenant
}

async fn stats(env: &Env, tenant: &Tenant, period: Value, filter: Value, fields: &str) -> Value {
    let query = format!(
        "query($p: PeriodInput!, $f: RegistrationFilter) {{ registrations(period: $p, filter: $f) {{ {fields} }} }}"
    );
    env.data(tenant, &query, json!({"p": period, "f": filter})).await["registrations"].clone()
}

fn week() -> Value {
    json!({"from": "2026-03-23", "to": "2026-03-30"})
}

async fn the_previous_week_is_seven_local_days_across_the_clock_change(env: Env) {
    let tenant = seeded(&env).await;
    let fields = "period { from to timeZone } total change { total previousTotal percentage }
        previous { period { from to timeZone } total timeline { buckets { start total } } }";
    let r = stats(&env, &tenant, week(), Value::Null, fields).await;
    assert_eq!(
        r["period"],
        json!({"from": "2026-03-23T00:00:00+01:00", "to": "2026-03-30T00:00:00+02:00", "timeZone": "Europe/Madrid"})
    );
    assert_eq!(r["total"], 2);
    assert_eq!(r["change"], json!({"total": 2, "previousTotal": 3, "percentage": 100.0 * (2.0 - 3.0) / 3.0}));
    let previous = &r["previous"];
    assert_eq!(
        previous["period"],
        json!({"from": "2026-03-16T00:00:00+01:00", "to": "2026-03-23T00:00:00+01:00", "timeZone": "Europe/Madrid"})
    );
    assert_eq!(previous["total"], 3);
    let day = |d: u32, total: i64| json!({"start": format!("2026-03-{d}T00:00:00+01:00"), "total": total});
    // The earlier period's buckets are its own: its seven days, empty ones included.
    assert_eq!(
        previous["timeline"]["buckets"],
        json!([day(16, 1), day(17, 0), day(18, 1), day(19, 0), day(20, 0), day(21, 0), day(22, 1)])
    );
}

async fn the_earlier_period_keeps_the_filter(env: Env) {
    let tenant = seeded(&env).await;
    let r =
        stats(&env, &tenant, week(), json!({"genders": ["FEMALE"]}), "change { total previousTotal percentage }").await;
    // c1 now; p1 and p4 before.
    assert_eq!(r["change"], json!({"total": 1, "previousTotal": 2, "percentage": -50.0}));
}

async fn a_year_back_from_the_29th_of_february(env: Env) {
    let tenant = seeded(&env).await;
    let leap = json!({"from": "2024-02-29", "to": "2024-03-01"});
    let fields = "total year: change(shift: PREVIOUS_YEAR) { total previousTotal percentage }
        before: change { total previousTotal percentage }
        previous(shift: PREVIOUS_YEAR) { period { from to } total }";
    let r = stats(&env, &tenant, leap, Value::Null, fields).await;
    assert_eq!(r["total"], 1);
    assert_eq!(r["year"], json!({"total": 1, "previousTotal": 2, "percentage": -50.0}));
    assert_eq!(
        r["previous"],
        json!({"period": {"from": "2023-02-28T00:00:00+01:00", "to": "2023-03-01T00:00:00+01:00"}, "total": 2})
    );
    // Nobody on 28 February 2024: no percentage.
    assert_eq!(r["before"], json!({"total": 1, "previousTotal": 0, "percentage": null}));
}

async fn a_year_back_keeps_the_wall_clock_across_offsets(env: Env) {
    let tenant = seeded(&env).await;
    let afternoon = json!({"from": "2026-03-29T12:00", "to": "2026-03-30"});
    let fields = "period { from } total change(shift: PREVIOUS_YEAR) { total previousTotal percentage }
        previous(shift: PREVIOUS_YEAR) { period { from to } }";
    let r = stats(&env, &tenant, afternoon, Value::Null, fields).await;
    assert_eq!(r["period"]["from"], "2026-03-29T12:00:00+02:00");
    assert_eq!(r["change"], json!({"total": 1, "previousTotal": 1, "percentage": 0.0}));
    assert_eq!(
        r["previous"]["period"],
        json!({"from": "2025-03-29T12:00:00+01:00", "to": "2025-03-30T00:00:00+01:00"})
    );
}

async fn previous_periods_nest(env: Env) {
    let tenant = seeded(&env).await;
    let fields = "previous { previous { period { from to } total } }";
    let r = stats(&env, &tenant, week(), Value::Null, fields).await;
    // Two weeks back: 2026-03-09..16, where only p2 (03-15 23:30) registered.
    assert_eq!(
        r["previous"]["previous"],
        json!({"period": {"from": "2026-03-09T00:00:00+01:00", "to": "2026-03-16T00:00:00+01:00"}, "total": 1})
    );
}

async fn an_earlier_period_that_cannot_be_had_names_the_shift(env: Env) {
    let tenant = seeded(&env).await;
    // Across the end of 29 February: a year back both bounds fall on 28 February.
    let q = "query { registrations(period: {from: \"2024-02-28T18:00\", to: \"2024-02-29T06:00\"}) {
        change(shift: PREVIOUS_YEAR) { total } } }";
    let response = env.run(Some(&tenant), q, Value::Null).await;
    let (code, argument, _) = first_error(&response);
    assert_eq!((code.as_str(), argument.as_str()), ("BAD_USER_INPUT", "shift"));
    // At the calendar's edge a local time may not exist: refused by name, never a panic.
    let q = "query { registrations(period: {from: \"-262143-01-01T02:00\", to: \"-262143-01-01T06:00\",
        timeZone: \"America/Los_Angeles\"}) { change { percentage } timeline { peak { start } } } }";
    let (code, argument, _) = first_error(&env.run(Some(&tenant), q, Value::Null).await);
    assert_eq!((code.as_str(), argument.as_str()), ("BAD_USER_INPUT", "period.from"));
    let q = "query { registrations(period: {from: \"2024-02-28\", to: \"2024-03-01\"}) { change(shift: SIDEWAYS) { total } } }";
    let (code, _, _) = first_error(&env.run(Some(&tenant), q, Value::Null).await);
    assert_eq!(code, "BAD_USER_INPUT");
}

on_each_backend_and_path!(
    the_previous_week_is_seven_local_days_across_the_clock_change,
    the_earlier_period_keeps_the_filter,
    a_year_back_from_the_29th_of_february,
    a_year_back_keeps_the_wall_clock_across_offsets,
    previous_periods_nest,
    an_earlier_period_that_cannot_be_had_names_the_shift,
);
