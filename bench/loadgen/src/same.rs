//! `same`: many sockets subscribe to one and the same (heavy) `liveUserActivity`; once
//! every socket has its first push, one event is recorded for the user, and every socket
//! must get a push that includes it. Reports what that one write cost the server: the
//! answers it computed for sockets (`ottstats_ws_answers_total`, absent before that
//! metric existed), its statistics cache misses, the SQL it ran (`--sql-probe`, a shell
//! command printing a running count, run before and after), the push latency, and the
//! server's resident memory before the sockets, with them, and after they closed.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::client::Api;
use crate::stats::Summary;
use crate::{Common, Outcome};

const RECORD: &str = "mutation($e: [PlayerEventInput!]!) { recordEvents(events: $e) { accepted } }";

pub struct Options {
    pub count: usize,
    pub query: String,
    pub user: String,
    pub server_pid: Option<u32>,
    pub sql_probe: Option<String>,
    pub timeout: Duration,
}

enum Event {
    Push { sub: usize, at: Instant, events: i64 },
    Failed { sub: usize, why: String },
}

pub async fn run(common: &Common, prefix: &str, o: Options) -> Result<Outcome, String> {
    let api = Api::new(common, 2)?;
    let period = json!({ "from": api.from, "to": api.to, "timeZone": api.time_zone });
    let variables = json!({ "id": o.user, "period": period });
    let rss_idle = rss_mb(o.server_pid);
    let before = api.metrics().await?;
    println!("same: {} sockets × one liveUserActivity of {} ({} .. {})", o.count, o.user, api.from, api.to);

    let (events, mut rx) = mpsc::unbounded_channel();
    let (stop, stopped) = watch::channel(false);
    let started = Instant::now();
    for sub in 0..o.count {
        let (url, key) = (api.ws_url.clone(), api.key.clone());
        let payload = json!({ "query": o.query, "variables": variables });
        let (events, stopped) = (events.clone(), stopped.clone());
        tokio::spawn(async move {
            if let Err(why) = socket(sub, &url, &key, payload, &events, stopped).await {
                let _ = events.send(Event::Failed { sub, why });
            }
        });
    }
    drop(events);

    let mut first: Vec<Option<i64>> = vec![None; o.count];
    let mut failures = 0u64;
    let deadline = tokio::time::Instant::now() + o.timeout;
    while first.iter().filter(|f| f.is_some()).count() + (failures as usize) < o.count {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(Event::Push { sub, events, .. })) if first[sub].is_none() => first[sub] = Some(events),
            Ok(Some(Event::Push { .. })) => {}
            Ok(Some(Event::Failed { sub, why })) => {
                failures += 1;
                eprintln!("socket {sub}: {why}");
            }
            Ok(None) | Err(_) => return Err("not every socket got its first push in time".into()),
        }
    }
    let setup = started.elapsed();
    println!("first pushes: {} of {} in {setup:?}", o.count - failures as usize, o.count);
    // Past the one-second window of the first pushes, so the write's push is not held back.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rss_subscribed = rss_mb(o.server_pid);
    let sql_before = probe(o.sql_probe.as_deref());
    let mid = api.metrics().await?;

    let at = instant(crate::users::now_ms() - 60_000);
    let event = json!([{ "id": format!("{prefix}-e"), "sessionId": format!("{prefix}-s"), "userId": o.user,
                         "type": "PLAY", "occurredAt": at }]);
    api.graphql(RECORD, json!({ "e": event })).await?;
    let wrote = Instant::now();
    let mut latencies = Vec::new();
    let mut seen = vec![false; o.count];
    let deadline = tokio::time::Instant::now() + o.timeout;
    while latencies.len() + (failures as usize) < o.count {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(Event::Push { sub, at, events })) if !seen[sub] && Some(events) > first[sub] => {
                seen[sub] = true;
                latencies.push(at.saturating_duration_since(wrote).as_secs_f64() * 1000.0);
            }
            Ok(Some(Event::Push { .. })) => {}
            Ok(Some(Event::Failed { sub, why })) => {
                failures += 1;
                eprintln!("socket {sub}: {why}");
            }
            Ok(None) | Err(_) => {
                eprintln!("{} sockets did not get the write's push in time", o.count - latencies.len());
                failures += (o.count - latencies.len()) as u64;
                break;
            }
        }
    }
    let pushes = Summary::of(latencies);
    // PostgreSQL publishes its statistics up to a second late.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sql_after = probe(o.sql_probe.as_deref());
    let after = api.metrics().await?;
    let rss_peak = hwm_mb(o.server_pid);
    let _ = stop.send(true);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_closed = rss_mb(o.server_pid);
    let ops_left = sample(&api.metrics().await?, "ottstats_ws_operations");

    let delta = |series: &str, a: &str, b: &str| match (sample(a, series), sample(b, series)) {
        (Some(x), Some(y)) => format!("{}", y - x),
        _ => "n/a".into(),
    };
    let sql = match (sql_before, sql_after) {
        (Some(a), Some(b)) => format!("{}", b - a),
        _ => "n/a".into(),
    };
    let answers_setup = delta("ottstats_ws_answers_total", &before, &mid);
    let answers_write = delta("ottstats_ws_answers_total", &mid, &after);
    let sessions = delta(r#"ottstats_cache_misses_total{panel="sessions"}"#, &mid, &after);
    let bandwidth = delta(r#"ottstats_cache_misses_total{panel="bandwidth"}"#, &mid, &after);
    println!(
        "the write: {answers_write} answers computed, {sql} SQL table scans, cache misses sessions {sessions} bandwidth {bandwidth}"
    );
    println!("pushes after the write: {}", pushes.human());
    println!(
        "server RSS: {} MB idle, {} MB subscribed, {} MB peak, {} MB 5 s after the sockets closed; operations left {}",
        opt(rss_idle),
        opt(rss_subscribed),
        opt(rss_peak),
        opt(rss_closed),
        ops_left.map_or("n/a".into(), |v| v.to_string())
    );
    let bench = format!(
        "mode=same sockets={} setup_ms={} answers_setup={answers_setup} answers_write={answers_write} sql_scans_write={sql} \
         sessions_misses={sessions} bandwidth_misses={bandwidth} {} rss_idle_mb={} rss_subscribed_mb={} rss_peak_mb={} \
         rss_closed_mb={}",
        o.count,
        setup.as_millis(),
        pushes.bench("push_"),
        opt(rss_idle),
        opt(rss_subscribed),
        opt(rss_peak),
        opt(rss_closed)
    );
    Ok(Outcome { errors: failures, bench })
}

/// One socket: `connection_init`, the subscription, then every push's `events.totalCount`.
async fn socket(
    sub: usize,
    url: &str,
    key: &str,
    payload: Value,
    events: &mpsc::UnboundedSender<Event>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), String> {
    let mut request = url.into_client_request().map_err(|e| format!("bad URL {url}: {e}"))?;
    request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.map_err(|e| format!("connect: {e}"))?;
    let text = |v: Value| Message::text(v.to_string());
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {key}") } });
    ws.send(text(init)).await.map_err(|e| format!("send: {e}"))?;
    loop {
        let message = tokio::select! {
            m = ws.next() => m,
            _ = stop.changed() => {
                let _ = ws.close(None).await;
                return Ok(());
            }
        };
        let body = match message {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(f))) => return Err(format!("closed: {f:?}")),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(format!("socket: {e}")),
            None => return Err("the socket ended".into()),
        };
        let at = Instant::now();
        let m: Value = serde_json::from_str(body.as_str()).map_err(|e| format!("not JSON: {e}"))?;
        match m["type"].as_str().unwrap_or("") {
            "connection_ack" => {
                ws.send(text(json!({ "id": "1", "type": "subscribe", "payload": payload })))
                    .await
                    .map_err(|e| format!("send: {e}"))?;
            }
            "ping" => ws.send(text(json!({ "type": "pong" }))).await.map_err(|e| format!("send: {e}"))?,
            "next" => {
                if let Some(errors) = m["payload"].get("errors") {
                    let codes: std::collections::BTreeSet<_> = errors
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|e| e["extensions"]["code"].as_str())
                        .collect();
                    return Err(format!("{} errors in a push, codes {codes:?}", errors.as_array().map_or(0, Vec::len)));
                }
                let n = m["payload"]["data"]["liveUserActivity"]["events"]["totalCount"]
                    .as_i64()
                    .ok_or_else(|| "a push without liveUserActivity.events.totalCount".to_owned())?;
                let _ = events.send(Event::Push { sub, at, events: n });
            }
            other => {
                return Err(format!("unexpected {other}: {}", m.to_string().chars().take(300).collect::<String>()));
            }
        }
    }
}

/// The running count a shell command prints (its last line).
fn probe(command: Option<&str>) -> Option<i64> {
    let output = std::process::Command::new("sh").arg("-c").arg(command?).output().ok()?;
    String::from_utf8_lossy(&output.stdout).lines().last()?.trim().parse().ok()
}

/// A sample of the metrics text, when present.
fn sample(metrics: &str, series: &str) -> Option<i64> {
    metrics.lines().find_map(|l| l.strip_prefix(series)?.trim().parse::<f64>().ok()).map(|v| v as i64)
}

fn status_mb(pid: Option<u32>, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

pub fn rss_mb(pid: Option<u32>) -> Option<u64> {
    status_mb(pid, "VmRSS:")
}

pub fn hwm_mb(pid: Option<u32>) -> Option<u64> {
    status_mb(pid, "VmHWM:")
}

pub fn opt(v: Option<u64>) -> String {
    v.map_or("n/a".into(), |v| v.to_string())
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix instant in milliseconds.
fn instant(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (day, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    format!("{}T{:02}:{:02}:{:02}Z", crate::users::format_day(day), rem / 3600, rem % 3600 / 60, rem % 60)
}
