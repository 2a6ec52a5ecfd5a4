//! `events` and `details.logins` as Relay connections, on a small hand-written dataset.
//! Period P = [2026-03-10T00:00Z, 2026-03-11T00:00Z) (UTC).
//!
//! Events of u1, oldest first (the connection's order: instant, then id):
//! a1 01:00, a2 02:00, a3 02:00 (same instant: after a2 by id), a4 03:00, a5 04:00;
//! outside P: z0 03-09 23:00 and z9 03-11 00:00 (`to` is excluded).
//! Logins of u1, newest first: l4 07:00, l3 06:00, l2 06:00 (same instant: l3 first, by
//! id descending), l1 05:00; outside P: l0 03-09 12:00.
//! u2 has neither.

use ottstats_domain::tenant::Tenant;
use ottstats_tests::{Env, first_error, on_each_backend};
use serde_json::{Value, json};

use crate::operations;

const P: &str = r#"{from: "2026-03-10T00:00:00Z", to: "2026-03-11T00:00:00Z", timeZone: "UTC"}"#;
const PAGE: &str = "totalCount pageInfo { hasPreviousPage hasNextPage startCursor endCursor } edges { cursor node { id } } nodes { id }";

async fn seeded(env: &Env) -> Tenant {
    let (t, _) = env.tenant("A", "CL", chrono_tz::UTC).await;
    let user = |id: &str| json!({"id": id, "name": id, "registeredAt": "2026-01-01T00:00:00Z"});
    let q = operations::UPSERT_USERS;
    assert_eq!(env.data(&t, q, json!({"u": [user("u1"), user("u2")]})).await["upsertUsers"]["accepted"], 2);
    let ev = |id: &str, at: &str| json!({"id": id, "sessionId": "s", "userId": "u1", "type": "PLAY", "occurredAt": at});
    let events = json!([
        ev("a4", "2026-03-10T03:00:00Z"),
        ev("z9", "2026-03-11T00:00:00Z"),
        ev("a3", "2026-03-10T02:00:00Z"),
        ev("a1", "2026-03-10T01:00:00Z"),
        ev("z0", "2026-03-09T23:00:00Z"),
        ev("a5", "2026-03-10T04:00:00Z"),
        ev("a2", "2026-03-10T02:00:00Z"),
    ]);
    let q = "mutation($e: [PlayerEventInput!]!) { recordEvents(events: $e) { accepted rejected { index } } }";
    assert_eq!(env.data(&t, q, json!({"e": events})).await["recordEvents"], json!({"accepted": 7, "rejected": []}));
    let login = |id: &str, at: &str| json!({"id": id, "userId": "u1", "occurredAt": at, "device": id});
    let logins = json!([
        login("l2", "2026-03-10T06:00:00Z"),
        login("l0", "2026-03-09T12:00:00Z"),
        login("l4", "2026-03-10T07:00:00Z"),
        login("l1", "2026-03-10T05:00:00Z"),
        login("l3", "2026-03-10T06:00:00Z"),
    ]);
    let q = "mutation($l: [LoginInput!]!) { recordLogins(logins: $l) { accepted rejected { index } } }";
    assert_eq!(env.data(&t, q, json!({"l": logins})).await["recordLogins"], json!({"accepted": 5, "rejected": []}));
    t
}

/// The whole answer for `connection` (`events` or `logins`, in `details`) of `user`,
/// with `args`.
async fn run(env: &Env, t: &Tenant, user: &str, connection: &str, args: &str, vars: Value) -> Value {
    let field = match connection {
        "events" => format!("events({args}) {{ {PAGE} }}"),
        _ => format!("details {{ logins({args}) {{ {PAGE} }} }}"),
    };
    // Only the variables used are declared: an unused one fails validation.
    let declared: String = ["after", "before"]
        .iter()
        .filter(|v| args.contains(&format!("${v}")))
        .map(|v| format!(", ${v}: String"))
        .collect();
    let q = format!("query($id: ID!{declared}) {{ user(id: $id) {{ activity(period: {P}) {{ {field} }} }} }}");
    let mut vars = vars;
    vars["id"] = json!(user);
    env.run(Some(t), &q, vars).await
}

async fn page(env: &Env, t: &Tenant, connection: &str, args: &str, vars: Value) -> Value {
    let r = run(env, t, "u1", connection, args, vars).await;
    assert!(r.get("errors").is_none(), "unexpected errors: {r:#}");
    let a = &r["data"]["user"]["activity"];
    match connection {
        "events" => a["events"].clone(),
        _ => a["details"]["logins"].clone(),
    }
}

fn ids(page: &Value) -> Vec<String> {
    let ids = |list: &Value, pick: fn(&Value) -> &Value| -> Vec<String> {
        list.as_array().into_iter().flatten().map(|x| pick(x)["id"].as_str().unwrap_or("?").to_owned()).collect()
    };
    let from_edges = ids(&page["edges"], |e| &e["node"]);
    assert_eq!(from_edges, ids(&page["nodes"], |n| n), "edges and nodes differ: {page:#}");
    from_edges
}

/// (hasPreviousPage, hasNextPage), after checking the cursors are the edges' ends.
fn sides(page: &Value) -> (bool, bool) {
    let info = &page["pageInfo"];
    let edges = page["edges"].as_array().cloned().unwrap_or_default();
    let cursor = |e: Option<&Value>| e.map_or(Value::Null, |e| e["cursor"].clone());
    assert_eq!(info["startCursor"], cursor(edges.first()), "{page:#}");
    assert_eq!(info["endCursor"], cursor(edges.last()), "{page:#}");
    (info["hasPreviousPage"] == true, info["hasNextPage"] == true)
}

fn cursor(page: &Value, end: &str) -> Value {
    page["pageInfo"][end].clone()
}

async fn events_page_forward(env: Env) {
    let t = seeded(&env).await;
    let p1 = page(&env, &t, "events", "first: 2", json!({})).await;
    assert_eq!(
        (ids(&p1), sides(&p1), p1["totalCount"].clone()),
        (vec!["a1".into(), "a2".into()], (false, true), json!(5))
    );
    let p2 = page(&env, &t, "events", "first: 2, after: $after", json!({"after": cursor(&p1, "endCursor")})).await;
    assert_eq!((ids(&p2), sides(&p2)), (vec!["a3".into(), "a4".into()], (true, true)));
    let p3 = page(&env, &t, "events", "first: 2, after: $after", json!({"after": cursor(&p2, "endCursor")})).await;
    assert_eq!((ids(&p3), sides(&p3), p3["totalCount"].clone()), (vec!["a5".into()], (true, false), json!(5)));
    // Past the end: an empty page, with events before it.
    let p4 = page(&env, &t, "events", "first: 2, after: $after", json!({"after": cursor(&p3, "endCursor")})).await;
    assert_eq!((ids(&p4), sides(&p4)), (Vec::<String>::new(), (true, false)));
}

async fn events_page_backward(env: Env) {
    let t = seeded(&env).await;
    let p1 = page(&env, &t, "events", "last: 2", json!({})).await;
    assert_eq!((ids(&p1), sides(&p1)), (vec!["a4".into(), "a5".into()], (true, false)));
    let p2 = page(&env, &t, "events", "last: 2, before: $before", json!({"before": cursor(&p1, "startCursor")})).await;
    assert_eq!((ids(&p2), sides(&p2)), (vec!["a2".into(), "a3".into()], (true, true)));
    let p3 = page(&env, &t, "events", "last: 2, before: $before", json!({"before": cursor(&p2, "startCursor")})).await;
    // z0 lies before a1 but outside the period: no previous page.
    assert_eq!((ids(&p3), sides(&p3)), (vec!["a1".into()], (false, true)));
}

async fn cursors_round_trip_between_directions(env: Env) {
    let t = seeded(&env).await;
    let all = page(&env, &t, "events", "first: 5", json!({})).await;
    assert_eq!(
        (ids(&all), sides(&all)),
        (vec!["a1", "a2", "a3", "a4", "a5"].into_iter().map(String::from).collect(), (false, false))
    );
    let at = |i: usize| all["edges"][i]["cursor"].clone();
    // a3's cursor, read forward and backward: a2 has the same instant and a smaller id.
    let before = page(&env, &t, "events", "last: 1, before: $before", json!({"before": at(2)})).await;
    assert_eq!((ids(&before), sides(&before)), (vec!["a2".into()], (true, true)));
    let after = page(&env, &t, "events", "first: 1, after: $after", json!({"after": at(2)})).await;
    assert_eq!((ids(&after), sides(&after)), (vec!["a4".into()], (true, true)));
    // A window between two cursors, from either end: with `first`, hasNextPage says
    // only whether the window holds more; with `last`, hasNextPage says a5 follows.
    let window = json!({"after": at(0), "before": at(4)});
    let forward = page(&env, &t, "events", "first: 10, after: $after, before: $before", window.clone()).await;
    assert_eq!(
        (ids(&forward), sides(&forward)),
        (vec!["a2", "a3", "a4"].into_iter().map(String::from).collect(), (true, false))
    );
    let backward = page(&env, &t, "events", "last: 10, after: $after, before: $before", window).await;
    assert_eq!(
        (ids(&backward), sides(&backward)),
        (vec!["a2", "a3", "a4"].into_iter().map(String::from).collect(), (false, true))
    );
    // The edges' cursors are the ones a page gives back: a2's from the window's start.
    assert_eq!(forward["edges"][0]["cursor"], at(1));
}

async fn logins_page_newest_first(env: Env) {
    let t = seeded(&env).await;
    let p1 = page(&env, &t, "logins", "first: 3", json!({})).await;
    assert_eq!(
        (ids(&p1), sides(&p1), p1["totalCount"].clone()),
        (vec!["l4".into(), "l3".into(), "l2".into()], (false, true), json!(4))
    );
    let p2 = page(&env, &t, "logins", "first: 3, after: $after", json!({"after": cursor(&p1, "endCursor")})).await;
    assert_eq!((ids(&p2), sides(&p2)), (vec!["l1".into()], (true, false)));
    let oldest = page(&env, &t, "logins", "last: 1", json!({})).await;
    assert_eq!((ids(&oldest), sides(&oldest)), (vec!["l1".into()], (true, false)));
    let back =
        page(&env, &t, "logins", "last: 2, before: $before", json!({"before": cursor(&oldest, "startCursor")})).await;
    assert_eq!((ids(&back), sides(&back)), (vec!["l3".into(), "l2".into()], (true, true)));
    // The default page: every login of the period, as before it was a connection.
    let q = format!(
        "{{ user(id: \"u1\") {{ activity(period: {P}) {{ details {{ logins {{ nodes {{ id occurredAt device }} }} }} }} }} }}"
    );
    let nodes = env.data(&t, &q, Value::Null).await["user"]["activity"]["details"]["logins"]["nodes"].clone();
    assert_eq!(nodes[0], json!({"id": "l4", "occurredAt": "2026-03-10T07:00:00+00:00", "device": "l4"}));
    assert_eq!(nodes.as_array().map(Vec::len), Some(4));
}

async fn empty_connections_have_null_cursors(env: Env) {
    let t = seeded(&env).await;
    let empty = json!({"totalCount": 0, "edges": [], "nodes": [],
        "pageInfo": {"hasPreviousPage": false, "hasNextPage": false, "startCursor": null, "endCursor": null}});
    for connection in ["events", "logins"] {
        for args in ["first: 10", "last: 10"] {
            let r = run(&env, &t, "u2", connection, args, json!({})).await;
            let a = &r["data"]["user"]["activity"];
            let got = if connection == "events" { &a["events"] } else { &a["details"]["logins"] };
            assert_eq!(got, &empty, "{connection}({args})");
        }
    }
    // No edges asked of a full connection: nothing on the page, more after it.
    let none = page(&env, &t, "events", "first: 0", json!({})).await;
    assert_eq!((ids(&none), sides(&none)), (Vec::<String>::new(), (false, true)));
}

async fn bad_arguments_are_refused_by_name(env: Env) {
    let t = seeded(&env).await;
    let events = page(&env, &t, "events", "first: 1", json!({})).await;
    let logins = page(&env, &t, "logins", "first: 1", json!({})).await;
    let cases = [
        ("events", "first: 1, last: 1", json!({}), "last"),
        ("logins", "first: 1, last: 1", json!({}), "last"),
        ("events", "first: 1001", json!({}), "first"),
        ("events", "last: 1001", json!({}), "last"),
        ("logins", "last: -1", json!({}), "last"),
        ("events", "first: 1, after: $after", json!({"after": "zz"}), "after"),
        ("events", "last: 1, before: $before", json!({"before": "not a cursor"}), "before"),
        // A cursor of one connection is no cursor of the other.
        ("events", "first: 1, after: $after", json!({"after": cursor(&logins, "endCursor")}), "after"),
        ("logins", "last: 1, before: $before", json!({"before": cursor(&events, "endCursor")}), "before"),
    ];
    for (connection, args, vars, argument) in cases {
        let r = run(&env, &t, "u1", connection, args, vars).await;
        let (code, got, message) = first_error(&r);
        assert_eq!((code.as_str(), got.as_str()), ("BAD_USER_INPUT", argument), "{connection}({args}): {message}");
    }
}

on_each_backend!(
    events_page_forward,
    events_page_backward,
    cursors_round_trip_between_directions,
    logins_page_newest_first,
    empty_connections_have_null_cursors,
    bad_arguments_are_refused_by_name,
);
