//! Registrations compared with the previous period and the previous year, on each
//! backend and each path (the index and SQL).
//!
//! ## Registrations (tenant ES, Europe/Madrid; clocks back on 2025-10-26 03:00 +02 -> 02:00 +01)
//! W = "2025-10-27".."2025-11-03" = [10-26T23:00Z, 11-02T23:00Z). Its previous 7 local days
//! [10-20T00:00+02 (10-19T22:00Z), 10-27T00:00+01) last 169 h (a 168 h shift would start
//! at 10-19T23:00Z).
//!   r1 F 2025-10-19T22:30Z (10-20 00:30+02)    previous (by days)
//!   r2 M 2025-10-19T21:30Z (10-19 23:30+02)    two weeks back
//!   r3 M 2025-10-26T01:30Z (10-26 02:30+01, the repeated hour)  previous
//!   r7 F 2025-10-22T12:00Z                     previous
//!   r4 F 2025-10-26T23:00Z (10-27 00:00+01)    W
//!   r5 O 2025-11-02T22:59:59Z                  W
//!   r6 F 2025-11-02T23:00Z (11-03 00:00)       nowhere
//!   ry1 M 2024-10-26T22:30Z (2024-10-27 00:30+02)  W's previous year [2024-10-26T22:00Z,
//!       2024-11-02T23:00Z) (a UTC one-year shift would start at 2024-10-26T23:00Z)
//!   ry2 M 2024-11-02T23:00Z (2024-11-03 00:00+01)  nowhere
//! W: 2; previous 3 -> 100 × (2 − 3) / 3; FEMALE only: 1 vs 2 (r1, r7) -> -50 %;
//! previous year 1 -> 100 %; two weeks back (10-13..10-20) 1 (r2).
//! L = "2024-02-29T06:00".."2024-03-01T06:00" (not midnights):
//!   l1 2024-02-29T05:30Z (06:30+01) L; l2 2024-03-01T05:30Z nowhere;
//!   l3 2023-02-28T05:30Z (06:30) and l4 2023-03-01T04:30Z (05:30) L's previous year
//!   [2023-02-28T06:00+01, 2023-03-01T06:00+01); l5 2023-03-01T05:30Z (06:30) nowhere.
//!   L: 1; previous year 2 -> -50 %; previous period = the 24 h before: 0 -> null.

use ottstats_tests::{Env, on_each_backend_and_path};
use serde_json::{Value, json};

use super::Checks;

async fn registrations_comparison(env: Env) {
    let (tenant, _) = env.tenant("Crosscheck", "ES", chrono_tz::Europe::Madrid).await;
    let u = |id: &str, g: &str, at: &str| json!({"id": id, "name": format!("N {id}"), "gender": g, "country": "ES", "registeredAt": at});
    let users = json!([
        u("r1", "FEMALE", "2025-10-19T22:30:00Z"),
        u("r2", "MALE", "2025-10-19T21:30:00Z"),
        u("r3", "MALE", "2025-10-26T01:30:00Z"),
        u("r4", "FEMALE", "2025-10-26T23:00:00Z"),
        u("r5", "OTHER", "2025-11-02T22:59:59Z"),
        u("r6", "FEMALE", "2025-11-02T23:00:00Z"),
        u("r7", "FEMALE", "2025-10-22T12:00:00Z"),
        u("ry1", "MALE", "2024-10-26T22:30:00Z"),
        u("ry2", "MALE", "2024-11-02T23:00:00Z"),
        u("l1", "FEMALE", "2024-02-29T05:30:00Z"),
        u("l2", "FEMALE", "2024-03-01T05:30:00Z"),
        u("l3", "MALE", "2023-02-28T05:30:00Z"),
        u("l4", "MALE", "2023-03-01T04:30:00Z"),
        u("l5", "MALE", "2023-03-01T05:30:00Z"),
    ]);
    let q = "mutation($u: [UserInput!]!) { upsertUsers(users: $u) { accepted rejected { index message } } }";
    let r = env.data(&tenant, q, json!({"u": users})).await;
    assert_eq!(r["upsertUsers"], json!({"accepted": 14, "rejected": []}));
    let stats = |period: Value, filter: Value, fields: &'static str| {
        let env = &env;
        let tenant = &tenant;
        async move {
            let q = format!(
                "query($p: PeriodInput!, $f: RegistrationFilter) {{ registrations(period: $p, filter: $f) {{ {fields} }} }}"
            );
            env.data(tenant, &q, json!({"p": period, "f": filter})).await["registrations"].clone()
        }
    };
    let mut c = Checks(Vec::new());
    let week = json!({"from": "2025-10-27", "to": "2025-11-03"});
    let r = stats(
        week.clone(),
        Value::Null,
        "period { from to timeZone } total change { total previousTotal percentage }
         year: change(shift: PREVIOUS_YEAR) { total previousTotal percentage }
         py: previous(shift: PREVIOUS_YEAR) { period { from to } total }
         previous { period { from to timeZone } total timeline(granularity: DAY) { buckets { start end total } }
                    previous { period { from to } total } }",
    )
    .await;
    c.check(
        "W.period",
        &r["period"],
        json!({"from": "2025-10-27T00:00:00+01:00", "to": "2025-11-03T00:00:00+01:00", "timeZone": "Europe/Madrid"}),
    );
    c.check("W.total", &r["total"], json!(2));
    c.check("W.change", &r["change"], json!({"total": 2, "previousTotal": 3, "percentage": 100.0 * (2.0 - 3.0) / 3.0}));
    c.check(
        "W.previous.period",
        &r["previous"]["period"],
        json!({"from": "2025-10-20T00:00:00+02:00", "to": "2025-10-27T00:00:00+01:00", "timeZone": "Europe/Madrid"}),
    );
    c.check("W.previous.total", &r["previous"]["total"], json!(3));
    let b = |d: u32, total: i64| {
        json!({"start": format!("2025-10-{d}T00:00:00+02:00"), "end": format!("2025-10-{}T00:00:00+02:00", d + 1),
               "total": total})
    };
    c.check(
        "W.previous.timeline",
        &r["previous"]["timeline"]["buckets"],
        json!([b(20, 1), b(21, 0), b(22, 1), b(23, 0), b(24, 0), b(25, 0),
               {"start": "2025-10-26T00:00:00+02:00", "end": "2025-10-27T00:00:00+01:00", "total": 1}]),
    );
    c.check(
        "W.previous.previous",
        &r["previous"]["previous"],
        json!({"period": {"from": "2025-10-13T00:00:00+02:00", "to": "2025-10-20T00:00:00+02:00"}, "total": 1}),
    );
    c.check(
        "W.previous(PREVIOUS_YEAR)",
        &r["py"],
        json!({"period": {"from": "2024-10-27T00:00:00+02:00", "to": "2024-11-03T00:00:00+01:00"}, "total": 1}),
    );
    c.check("W.change(PREVIOUS_YEAR)", &r["year"], json!({"total": 2, "previousTotal": 1, "percentage": 100.0}));
    let r = stats(week, json!({"genders": ["FEMALE"]}), "change { total previousTotal percentage }").await;
    c.check("W[FEMALE].change", &r["change"], json!({"total": 1, "previousTotal": 2, "percentage": -50.0}));

    let leap = json!({"from": "2024-02-29T06:00", "to": "2024-03-01T06:00"});
    let r = stats(
        leap,
        Value::Null,
        "period { from to } total change { total previousTotal percentage } previous { period { from to } total }
         year: change(shift: PREVIOUS_YEAR) { total previousTotal percentage }
         py: previous(shift: PREVIOUS_YEAR) { period { from to } total }",
    )
    .await;
    c.check("L.period", &r["period"], json!({"from": "2024-02-29T06:00:00+01:00", "to": "2024-03-01T06:00:00+01:00"}));
    c.check("L.total", &r["total"], json!(1));
    c.check("L.change", &r["change"], json!({"total": 1, "previousTotal": 0, "percentage": null}));
    c.check(
        "L.previous",
        &r["previous"],
        json!({"period": {"from": "2024-02-28T06:00:00+01:00", "to": "2024-02-29T06:00:00+01:00"}, "total": 0}),
    );
    c.check("L.change(PREVIOUS_YEAR)", &r["year"], json!({"total": 1, "previousTotal": 2, "percentage": -50.0}));
    c.check(
        "L.previous(PREVIOUS_YEAR)",
        &r["py"],
        json!({"period": {"from": "2023-02-28T06:00:00+01:00", "to": "2023-03-01T06:00:00+01:00"}, "total": 2}),
    );
    c.finish();
}

on_each_backend_and_path!(registrations_comparison);
