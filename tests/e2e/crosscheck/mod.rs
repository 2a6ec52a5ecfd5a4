//! A second check of playback quality and comparisons, written from DESIGN.md and
//! docs/definitions.md alone by someone who had not read the implementation, with its own
//! datasets and figures worked out by hand (in each file's header). Each test collects
//! every mismatch and fails once at the end with the whole list.

mod quality;
mod registrations;

use ottstats_domain::tenant::Tenant;
use ottstats_tests::Env;
use serde_json::{Value, json};

/// Compares JSON, numbers up to a relative 1e-9; returns where they differ.
fn diff(path: &str, got: &Value, want: &Value, out: &mut Vec<String>) {
    match (got, want) {
        (Value::Number(g), Value::Number(w)) => {
            let (g, w) = (g.as_f64().unwrap_or(f64::NAN), w.as_f64().unwrap_or(f64::NAN));
            if (g - w).abs() > 1e-9 * w.abs().max(1.0) {
                out.push(format!("{path}: got {g}, want {w}"));
            }
        }
        (Value::Object(g), Value::Object(w)) => {
            for (k, wv) in w {
                diff(&format!("{path}.{k}"), g.get(k).unwrap_or(&Value::Null), wv, out);
            }
        }
        (Value::Array(g), Value::Array(w)) if g.len() == w.len() => {
            for (i, (gv, wv)) in g.iter().zip(w).enumerate() {
                diff(&format!("{path}[{i}]"), gv, wv, out);
            }
        }
        _ if got == want => {}
        _ => out.push(format!("{path}: got {got}, want {want}")),
    }
}

struct Checks(Vec<String>);

impl Checks {
    fn check(&mut self, label: &str, got: &Value, want: Value) {
        let before = self.0.len();
        diff(label, got, &want, &mut self.0);
        if self.0.len() > before {
            self.0.push(format!("  ({label} whole answer: {got})"));
        }
    }
    fn finish(self) {
        assert!(self.0.is_empty(), "mismatches:\n{}", self.0.join("\n"));
    }
}

/// A player event of user `u1`; each session plays its own content.
fn ev(
    id: &str,
    session: &str,
    ty: &str,
    at: &str,
    kind: Option<&str>,
    device: Option<&str>,
    played: Option<f64>,
) -> Value {
    let mut e = json!({"id": id, "sessionId": session, "userId": "u1", "type": ty, "occurredAt": at,
                       "contentId": format!("content-{session}")});
    if let Some(k) = kind {
        e["contentKind"] = json!(k);
    }
    if let Some(d) = device {
        e["device"] = json!(d);
    }
    if let Some(p) = played {
        e["playedSeconds"] = json!(p);
    }
    e
}

async fn tenant_with_events(env: &Env, country: &str, tz: chrono_tz::Tz, events: Vec<Value>) -> Tenant {
    let (tenant, _) = env.tenant("Crosscheck", country, tz).await;
    let q = "mutation($u: [UserInput!]!) { upsertUsers(users: $u) { accepted rejected { index message } } }";
    let u = json!([{"id": "u1", "name": "Uno", "gender": "MALE", "country": country,
                    "registeredAt": "2026-01-01T00:00:00Z"}]);
    let r = env.data(&tenant, q, json!({"u": u})).await;
    assert_eq!(r["upsertUsers"], json!({"accepted": 1, "rejected": []}));
    let n = events.len();
    // Shuffled a little: odd positions first, then even ones.
    let mut sent: Vec<Value> = events.iter().skip(1).step_by(2).cloned().collect();
    sent.extend(events.iter().step_by(2).cloned());
    let q = "mutation($e: [PlayerEventInput!]!) { recordEvents(events: $e) { accepted rejected { index message } } }";
    let r = env.data(&tenant, q, json!({"e": sent})).await;
    assert_eq!(r["recordEvents"], json!({"accepted": n, "rejected": []}));
    tenant
}

async fn activity(env: &Env, tenant: &Tenant, period: Value, fields: &str) -> Value {
    let q = format!("query($p: PeriodInput!) {{ user(id: \"u1\") {{ activity(period: $p) {{ {fields} }} }} }}");
    env.data(tenant, &q, json!({"p": period})).await["user"]["activity"].clone()
}

const FIG: &str = "startup { sessions averageMs maxMs } exitsBeforeStart rebuffering { count seconds ratio } errors";

fn fig(startup: (i64, Value, Value), exits: i64, rebuf: (i64, f64, Value), errors: i64) -> Value {
    json!({"startup": {"sessions": startup.0, "averageMs": startup.1, "maxMs": startup.2},
           "exitsBeforeStart": exits,
           "rebuffering": {"count": rebuf.0, "seconds": rebuf.1, "ratio": rebuf.2}, "errors": errors})
}

fn named(name: &str, mut v: Value) -> Value {
    v["name"] = json!(name);
    v
}

fn none() -> (i64, Value, Value) {
    (0, Value::Null, Value::Null)
}

fn overview(streams: i64, starts: i64, minutes: f64) -> Value {
    json!({"streams": streams, "playbackStarts": starts, "minutesConsumed": minutes})
}
