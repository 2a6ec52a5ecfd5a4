//! Registration statistics against a small dataset whose every figure was worked out by
//! hand. Tenant home: Chile, America/Santiago. Period: 2026-04-03 to 2026-04-07 local,
//! across the end of Chilean DST (2026-04-05 00:00 -03 became 2026-04-04 23:00 -04, so
//! 4 April lasts 25 hours).
//!
//! | user | gender  | birth      | age | place                          | registered (UTC)      | local day |
//! |------|---------|------------|-----|--------------------------------|-----------------------|-----------|
//! | u1   | FEMALE  | 2000-02-29 | 26  | CL Metropolitana / Santiago    | 2026-04-03T12:00:00Z  | Apr 3     |
//! | u2   | MALE    | 1990-05-10 | 35  | CL Metropolitana / Santiago    | 2026-04-04T02:59:59Z  | Apr 3     |
//! | u3   | FEMALE  | 2010-01-01 | 16  | CL " Valparaíso " / Viña del Mar | 2026-04-05T03:30:00Z | Apr 4 (2nd 23:30) |
//! | u4   | OTHER   | —          | ?   | CL, no state, no city          | 2026-04-05T04:00:00Z  | Apr 5     |
//! | u5   | missing | 1950-01-01 | 76  | AR                             | 2026-04-06T10:00:00Z  | Apr 6     |
//! | u6   | MALE    | 1980-04-05 | 46  | ES                             | 2026-04-05T12:00:00Z  | Apr 5     |
//! | u7   | FEMALE  | 1900-01-01 | ?   | no country                     | 2026-04-06T23:00:00Z  | Apr 6     |
//! | u8   | MALE    | 1995-12-31 | 30  | CL Metropolitana / Puente Alto | 2026-04-07T03:59:59Z  | Apr 6     |
//! | u9   | FEMALE  | 1960-06-15 | 65  | CL Valparaíso                  | 2026-04-07T04:00:00Z  | after `to`|
//! | u10  | FEMALE  | —          | ?   | CL                             | 2026-04-03T02:59:59Z  | before    |
//!
//! u7's age (126) is outside 0..=120, so it is unknown.

use ottstats_tests::{Env, first_error, on_each_backend_and_path};
use serde_json::{Value, json};

use crate::operations;

const SANTIAGO: chrono_tz::Tz = chrono_tz::America::Santiago;

const UPSERT: &str = operations::UPSERT_USERS_REPORT;

fn dataset() -> Value {
    json!([
        {"id": "u1", "name": "Ana", "gender": "FEMALE", "birthDate": "2000-02-29", "country": "CL", "state": "Metropolitana", "city": "Santiago", "registeredAt": "2026-04-03T12:00:00Z"},
        {"id": "u2", "name": "Bruno", "gender": "MALE", "birthDate": "1990-05-10", "country": "CL", "state": "Metropolitana", "city": "Santiago", "registeredAt": "2026-04-04T02:59:59Z"},
        {"id": "u3", "name": "Carla", "gender": "FEMALE", "birthDate": "2010-01-01", "country": "cl", "state": " Valparaíso ", "city": "Viña del Mar", "registeredAt": "2026-04-05T03:30:00Z"},
        {"id": "u4", "name": "Dani", "gender": "OTHER", "country": "CL", "registeredAt": "2026-04-05T04:00:00Z"},
        {"id": "u5", "name": "Elena", "birthDate": "1950-01-01", "country": "AR", "state": "Buenos Aires", "registeredAt": "2026-04-06T10:00:00Z"},
        {"id": "u6", "name": "Felipe", "gender": "MALE", "birthDate": "1980-04-05", "country": "ES", "registeredAt": "2026-04-05T12:00:00Z"},
        {"id": "u7", "name": "Gloria", "gender": "FEMALE", "birthDate": "1900-01-01", "registeredAt": "2026-04-06T23:00:00Z"},
        {"id": "u8", "name": "Hugo", "gender": "MALE", "birthDate": "1995-12-31", "country": "CL", "state": "Metropolitana", "city": "Puente Alto", "registeredAt": "2026-04-07T03:59:59Z"},
        {"id": "u9", "name": "Inés", "gender": "FEMALE", "birthDate": "1960-06-15", "country": "CL", "state": "Valparaíso", "registeredAt": "2026-04-07T04:00:00Z"},
        {"id": "u10", "name": "Julia", "gender": "FEMALE", "country": "CL", "registeredAt": "2026-04-03T02:59:59-00:00"}
    ])
}

fn period() -> Value {
    json!({"from": "2026-04-03", "to": "2026-04-07"})
}

/// The dataset's tenant, plus a second tenant whose in-period users must never show.
async fn seeded(env: &Env) -> ottstats_domain::tenant::Tenant {
    let (tenant, _) = env.tenant("Acme", "CL", SANTIAGO).await;
    let report = env.data(&tenant, UPSERT, json!({"users": dataset()})).await;
    assert_eq!(report["upsertUsers"], json!({"accepted": 10, "duplicates": 0, "rejected": []}));
    let (other, _) = env.tenant("Other OTT", "CL", SANTIAGO).await;
    let intruder = json!([{"id": "u1", "name": "Not Ana", "gender": "MALE", "country": "CL", "state": "Metropolitana",
                           "registeredAt": "2026-04-04T12:00:00Z"}]);
    env.data(&other, UPSERT, json!({"users": intruder})).await;
    tenant
}

async fn stats(env: &Env, tenant: &ottstats_domain::tenant::Tenant, fields: &str, filter: Value) -> Value {
    let query = format!(
        "query($period: PeriodInput!, $filter: RegistrationFilter) {{ registrations(period: $period, filter: $filter) {{ {fields} }} }}"
    );
    env.data(tenant, &query, json!({"period": period(), "filter": filter})).await["registrations"].clone()
}

fn counts(rows: &Value, key: &str) -> Vec<(String, i64)> {
    rows.as_array()
        .unwrap_or_else(|| panic!("not a list: {rows}"))
        .iter()
        .map(|r| (r[key].as_str().unwrap_or("").to_owned(), r["count"].as_i64().unwrap_or(-1)))
        .collect()
}

fn pairs(expected: &[(&str, i64)]) -> Vec<(String, i64)> {
    expected.iter().map(|(l, c)| ((*l).to_owned(), *c)).collect()
}

async fn totals_and_gender_shares(env: Env) {
    let tenant = seeded(&env).await;
    let r = stats(&env, &tenant, "total byGender { gender count percentage }", Value::Null).await;
    assert_eq!(r["total"], 8);
    assert_eq!(
        r["byGender"],
        json!([
            {"gender": "FEMALE", "count": 3, "percentage": 37.5},
            {"gender": "MALE", "count": 3, "percentage": 37.5},
            {"gender": "OTHER", "count": 1, "percentage": 12.5},
            {"gender": "UNKNOWN", "count": 1, "percentage": 12.5}
        ])
    );
}

async fn daily_timeline_across_dst(env: Env) {
    let tenant = seeded(&env).await;
    let r = stats(
        &env,
        &tenant,
        "timeline { buckets { start end total byGender { gender count } } peak { start total } }",
        Value::Null,
    )
    .await;
    let g = |f: i64, m: i64, o: i64, u: i64| json!([{"gender": "FEMALE", "count": f}, {"gender": "MALE", "count": m}, {"gender": "OTHER", "count": o}, {"gender": "UNKNOWN", "count": u}]);
    assert_eq!(
        r["timeline"]["buckets"],
        json!([
            {"start": "2026-04-03T00:00:00-03:00", "end": "2026-04-04T00:00:00-03:00", "total": 2, "byGender": g(1, 1, 0, 0)},
            {"start": "2026-04-04T00:00:00-03:00", "end": "2026-04-05T00:00:00-04:00", "total": 1, "byGender": g(1, 0, 0, 0)},
            {"start": "2026-04-05T00:00:00-04:00", "end": "2026-04-06T00:00:00-04:00", "total": 2, "byGender": g(0, 1, 1, 0)},
            {"start": "2026-04-06T00:00:00-04:00", "end": "2026-04-07T00:00:00-04:00", "total": 3, "byGender": g(1, 1, 0, 1)}
        ])
    );
    assert_eq!(r["timeline"]["peak"], json!({"start": "2026-04-06T00:00:00-04:00", "total": 3}));
}

async fn peak_ties_go_to_the_earliest_bucket(env: Env) {
    let tenant = seeded(&env).await;
    // FEMALE and MALE only: Apr 3 has 2 (u1, u2), Apr 6 has 2 (u7, u8).
    let r = stats(
        &env,
        &tenant,
        "timeline { buckets { total } peak { start total } }",
        json!({"genders": ["MALE", "FEMALE"]}),
    )
    .await;
    assert_eq!(r["timeline"]["buckets"], json!([{"total": 2}, {"total": 1}, {"total": 1}, {"total": 2}]));
    assert_eq!(r["timeline"]["peak"], json!({"start": "2026-04-03T00:00:00-03:00", "total": 2}));
}

async fn hourly_buckets_repeat_the_hour_clocks_went_back(env: Env) {
    let tenant = seeded(&env).await;
    let q = "query($p: PeriodInput!) { registrations(period: $p) { timeline(granularity: HOUR) { buckets { start end total } } } }";
    let p = json!({"p": {"from": "2026-04-04T22:00", "to": "2026-04-05T01:00"}});
    let r = env.data(&tenant, q, p).await;
    assert_eq!(
        r["registrations"]["timeline"]["buckets"],
        json!([
            {"start": "2026-04-04T22:00:00-03:00", "end": "2026-04-04T23:00:00-03:00", "total": 0},
            {"start": "2026-04-04T23:00:00-03:00", "end": "2026-04-04T23:00:00-04:00", "total": 0},
            {"start": "2026-04-04T23:00:00-04:00", "end": "2026-04-05T00:00:00-04:00", "total": 1},
            {"start": "2026-04-05T00:00:00-04:00", "end": "2026-04-05T01:00:00-04:00", "total": 1}
        ])
    );
}

async fn clipped_weeks_in_another_time_zone(env: Env) {
    let tenant = seeded(&env).await;
    // In UTC, u10 (02:59:59Z on Apr 3) is inside and u9 (04:00Z on Apr 7) too.
    let q = "query($p: PeriodInput!) { registrations(period: $p) { total timeline(granularity: WEEK) { buckets { start end total } } } }";
    let p = json!({"p": {"from": "2026-04-03", "to": "2026-04-08", "timeZone": "UTC"}});
    let r = env.data(&tenant, q, p).await;
    assert_eq!(r["registrations"]["total"], 10);
    assert_eq!(
        r["registrations"]["timeline"]["buckets"],
        json!([
            {"start": "2026-04-03T00:00:00+00:00", "end": "2026-04-06T00:00:00+00:00", "total": 6},
            {"start": "2026-04-06T00:00:00+00:00", "end": "2026-04-08T00:00:00+00:00", "total": 4}
        ])
    );
}

async fn default_age_ranges(env: Env) {
    let tenant = seeded(&env).await;
    let r = stats(&env, &tenant, "byAge { label minAge maxAge count percentage }", Value::Null).await;
    assert_eq!(
        r["byAge"],
        json!([
            {"label": "0-17", "minAge": 0, "maxAge": 17, "count": 1, "percentage": 12.5},
            {"label": "18-24", "minAge": 18, "maxAge": 24, "count": 0, "percentage": 0.0},
            {"label": "25-34", "minAge": 25, "maxAge": 34, "count": 2, "percentage": 25.0},
            {"label": "35-44", "minAge": 35, "maxAge": 44, "count": 1, "percentage": 12.5},
            {"label": "45-54", "minAge": 45, "maxAge": 54, "count": 1, "percentage": 12.5},
            {"label": "55-64", "minAge": 55, "maxAge": 64, "count": 0, "percentage": 0.0},
            {"label": "65+", "minAge": 65, "maxAge": null, "count": 1, "percentage": 12.5},
            {"label": "Unknown", "minAge": null, "maxAge": null, "count": 2, "percentage": 25.0}
        ])
    );
}

async fn caller_age_ranges_with_gaps(env: Env) {
    let tenant = seeded(&env).await;
    let r = stats(
        &env,
        &tenant,
        "byAge(ranges: [{minAge: 30, maxAge: 49}, {minAge: 18, maxAge: 29}]) { label count }",
        Value::Null,
    )
    .await;
    assert_eq!(counts(&r["byAge"], "label"), pairs(&[("18-29", 1), ("30-49", 3), ("Other", 2), ("Unknown", 2)]));
}

async fn geography_by_country(env: Env) {
    let tenant = seeded(&env).await;
    let r =
        stats(&env, &tenant, "byGeography(level: COUNTRY) { label code parent count percentage isOther }", Value::Null)
            .await;
    assert_eq!(
        r["byGeography"],
        json!([
            {"label": "Chile", "code": "CL", "parent": null, "count": 5, "percentage": 62.5, "isOther": false},
            {"label": "Argentina", "code": "AR", "parent": null, "count": 1, "percentage": 12.5, "isOther": false},
            {"label": "Spain", "code": "ES", "parent": null, "count": 1, "percentage": 12.5, "isOther": false},
            {"label": "Unknown", "code": null, "parent": null, "count": 1, "percentage": 12.5, "isOther": false}
        ])
    );
}

async fn geography_by_state_and_city(env: Env) {
    let tenant = seeded(&env).await;
    let r = stats(&env, &tenant, "byGeography(level: STATE) { label parent count isOther }", Value::Null).await;
    assert_eq!(
        r["byGeography"],
        json!([
            {"label": "Metropolitana", "parent": null, "count": 3, "isOther": false},
            {"label": "Other", "parent": null, "count": 2, "isOther": true},
            {"label": "Unknown", "parent": null, "count": 2, "isOther": false},
            {"label": "Valparaíso", "parent": null, "count": 1, "isOther": false}
        ])
    );
    let r =
        stats(&env, &tenant, "byGeography(level: CITY) { label parent count percentage isOther }", Value::Null).await;
    assert_eq!(
        r["byGeography"],
        json!([
            {"label": "Other", "parent": null, "count": 2, "percentage": 25.0, "isOther": true},
            {"label": "Santiago", "parent": "Metropolitana", "count": 2, "percentage": 25.0, "isOther": false},
            {"label": "Puente Alto", "parent": "Metropolitana", "count": 1, "percentage": 12.5, "isOther": false},
            {"label": "Unknown", "parent": null, "count": 1, "percentage": 12.5, "isOther": false},
            {"label": "Unknown", "parent": "Unknown", "count": 1, "percentage": 12.5, "isOther": false},
            {"label": "Viña del Mar", "parent": "Valparaíso", "count": 1, "percentage": 12.5, "isOther": false}
        ])
    );
}

async fn filters_narrow_every_panel(env: Env) {
    let tenant = seeded(&env).await;
    let fields = "total byGender { gender count } byAge { label count } byGeography(level: COUNTRY) { label count } timeline { buckets { total } }";
    // Chile only: u1, u2, u3, u4, u8.
    let r = stats(&env, &tenant, fields, json!({"countries": ["cl"]})).await;
    assert_eq!(r["total"], 5);
    assert_eq!(counts(&r["byGeography"], "label"), pairs(&[("Chile", 5)]));
    assert_eq!(r["timeline"]["buckets"], json!([{"total": 2}, {"total": 1}, {"total": 1}, {"total": 1}]));
    // 18 and over leaves out unknown ages and u3 (16): u1, u2, u5, u6, u8.
    let r = stats(&env, &tenant, fields, json!({"minAge": 18})).await;
    assert_eq!(r["total"], 5);
    assert_eq!(
        counts(&r["byAge"], "label"),
        pairs(&[
            ("0-17", 0),
            ("18-24", 0),
            ("25-34", 2),
            ("35-44", 1),
            ("45-54", 1),
            ("55-64", 0),
            ("65+", 1),
            ("Unknown", 0)
        ])
    );
    // Women of 30 or less: u1 (26) and u3 (16); u7's age is unknown.
    let r = stats(&env, &tenant, fields, json!({"genders": ["FEMALE"], "maxAge": 30})).await;
    assert_eq!(r["total"], 2);
    assert_eq!(counts(&r["byGender"], "gender"), pairs(&[("FEMALE", 2), ("MALE", 0), ("OTHER", 0), ("UNKNOWN", 0)]));
}

async fn an_empty_period_has_zeros_everywhere(env: Env) {
    let tenant = seeded(&env).await;
    let q = "query($p: PeriodInput!) { registrations(period: $p) { total byGender { count percentage } byAge { label count percentage }
             byGeography(level: CITY) { label } timeline(granularity: MONTH) { buckets { start end total } peak { start } } } }";
    let r =
        env.data(&tenant, q, json!({"p": {"from": "2025-01-15", "to": "2025-03-01"}})).await["registrations"].clone();
    assert_eq!(r["total"], 0);
    assert!(
        r["byGender"]
            .as_array()
            .is_some_and(|a| a.len() == 4 && a.iter().all(|g| g["count"] == 0 && g["percentage"] == 0.0))
    );
    assert_eq!(r["byAge"].as_array().map(Vec::len), Some(8));
    assert_eq!(r["byAge"][7], json!({"label": "Unknown", "count": 0, "percentage": 0.0}));
    assert_eq!(r["byGeography"], json!([]));
    assert_eq!(
        r["timeline"],
        json!({"buckets": [
            {"start": "2025-01-15T00:00:00-03:00", "end": "2025-02-01T00:00:00-03:00", "total": 0},
            {"start": "2025-02-01T00:00:00-03:00", "end": "2025-03-01T00:00:00-03:00", "total": 0}
        ], "peak": null})
    );
}

async fn tenants_never_see_each_other(env: Env) {
    let tenant = seeded(&env).await;
    let (lonely, _) = env.tenant("Lonely", "ES", chrono_tz::Europe::Madrid).await;
    let q = "query($p: PeriodInput!) { registrations(period: $p) { total byGeography(level: COUNTRY) { label } } }";
    let r = env.data(&lonely, q, json!({"p": {"from": "2026-01-01", "to": "2027-01-01"}})).await;
    assert_eq!(r["registrations"], json!({"total": 0, "byGeography": []}));
    // The other tenant's "u1" did not overwrite ours.
    let r = stats(&env, &tenant, "byGender { gender count }", json!({"genders": ["MALE"]})).await;
    assert_eq!(counts(&r["byGender"], "gender")[1], ("MALE".to_owned(), 3));
}

async fn bad_input_names_the_argument(env: Env) {
    let (tenant, _) = env.tenant("Acme", "CL", SANTIAGO).await;
    let cases: &[(&str, Value, &str)] = &[
        ("total", json!({"from": "yesterday", "to": "2026-01-02"}), "period.from"),
        ("total", json!({"from": "2026-01-02", "to": "2026-01-01"}), "period.to"),
        ("total", json!({"from": "2026-01-01", "to": "2026-01-01"}), "period.to"),
        ("total", json!({"from": "2026-01-01", "to": "2026-13-01"}), "period.to"),
        ("total", json!({"from": "2026-01-01", "to": "2026-01-02", "timeZone": "Mars/Olympus"}), "period.timeZone"),
        ("total", json!({"from": "2000-01-01", "to": "2026-01-01"}), "period.to"),
        (
            "timeline(granularity: HOUR) { buckets { total } }",
            json!({"from": "2024-01-01", "to": "2026-01-01"}),
            "granularity",
        ),
        (
            "byAge(ranges: [{minAge: 18, maxAge: 30}, {minAge: 30}]) { label }",
            json!({"from": "2026-01-01", "to": "2026-01-02"}),
            "ranges[1]",
        ),
        (
            "byAge(ranges: [{minAge: 40, maxAge: 30}]) { label }",
            json!({"from": "2026-01-01", "to": "2026-01-02"}),
            "ranges[0]",
        ),
        (
            "byAge(ranges: [{minAge: -1}]) { label }",
            json!({"from": "2026-01-01", "to": "2026-01-02"}),
            "ranges[0].minAge",
        ),
    ];
    for (fields, period, argument) in cases {
        let q = format!("query($p: PeriodInput!) {{ registrations(period: $p) {{ {fields} }} }}");
        let response = env.run(Some(&tenant), &q, json!({"p": period})).await;
        let (code, arg, message) = first_error(&response);
        assert_eq!((code.as_str(), arg.as_str()), ("BAD_USER_INPUT", *argument), "{fields} {period}: {message}");
    }
    let filters: &[(Value, &str)] = &[
        (json!({"countries": ["CL", "XX"]}), "filter.countries[1]"),
        (json!({"genders": []}), "filter.genders"),
        (json!({"minAge": 40, "maxAge": 30}), "filter.maxAge"),
        (json!({"minAge": 121}), "filter.minAge"),
    ];
    for (filter, argument) in filters {
        let q = "query($f: RegistrationFilter) { registrations(period: {from: \"2026-01-01\", to: \"2026-02-01\"}, filter: $f) { total } }";
        let (code, arg, _) = first_error(&env.run(Some(&tenant), q, json!({"f": filter})).await);
        assert_eq!((code.as_str(), arg.as_str()), ("BAD_USER_INPUT", *argument), "{filter}");
    }
}

async fn unauthenticated_requests_are_refused(env: Env) {
    let response = env.run(None, operations::JANUARY_TOTAL, Value::Null).await;
    assert_eq!(first_error(&response).0, "UNAUTHENTICATED");
    assert!(response["data"].is_null());
}

on_each_backend_and_path!(
    totals_and_gender_shares,
    daily_timeline_across_dst,
    peak_ties_go_to_the_earliest_bucket,
    hourly_buckets_repeat_the_hour_clocks_went_back,
    clipped_weeks_in_another_time_zone,
    default_age_ranges,
    caller_age_ranges_with_gaps,
    geography_by_country,
    geography_by_state_and_city,
    filters_narrow_every_panel,
    an_empty_period_has_zeros_everywhere,
    tenants_never_see_each_other,
    bad_input_names_the_argument,
    unauthenticated_requests_are_refused,
);
