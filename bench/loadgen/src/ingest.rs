//! Ingest at platform rate: `clients` connections each send batches of `batch` new player
//! events, as fast as they are answered, until `events` have been sent in all. Through
//! `recordEvents` (GraphQL) or the collector (`POST /collect/events`, NDJSON, with an
//! ingest key). Every event is new (ids `<prefix>-<client>-<n>`), so each answer must
//! accept its whole batch; a 429 or 503 is counted and the same batch is sent again after
//! its `Retry-After`, as a player would. Sessions are heartbeats: 10 s apart, ten users
//! per client, 20 events a session.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use serde_json::{Value, json};

use crate::client::loopback_url;
use crate::stats::Summary;
use crate::{Common, Outcome};

const RECORD: &str = "mutation($events: [PlayerEventInput!]!) { recordEvents(events: $events) \
                      { accepted duplicates rejected { index code message } } }";

#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Target {
    /// `recordEvents` over `POST /graphql`.
    Graphql,
    /// `POST /collect/events` with NDJSON.
    Collect,
}

pub struct Options {
    pub clients: usize,
    pub batch: usize,
    pub events: u64,
    pub target: Target,
}

#[derive(Default)]
struct Tally {
    accepted: AtomicU64,
    refused: AtomicU64,
    errors: AtomicU64,
}

fn event(prefix: &str, client: usize, n: u64, now_ms: i64) -> Value {
    let session = n / 20;
    let user = format!("{prefix}-u{client}-{}", session % 10);
    let kind = if session.is_multiple_of(3) { "LIVE" } else { "VOD" };
    let event_type = match n % 20 {
        0 => "PLAYER_LOADED",
        1 => "PLAY",
        19 => "PAUSE",
        _ => "PLAYING",
    };
    // Each session's events 10 s apart, ending before now (the server refuses the future).
    let at = now_ms - 3_600_000 + ((session % 300) as i64) * 1_000 + ((n % 20) as i64) * 10_000;
    let instant = crate::users::rfc3339_ms(at);
    json!({
        "id": format!("{prefix}-{client}-{n}"),
        "sessionId": format!("{prefix}-s{client}-{session}"),
        "userId": user,
        "type": event_type,
        "occurredAt": instant,
        "position": ((n % 20) * 10) as f64,
        "contentKind": kind,
        "contentId": format!("c{}", session % 50),
        "device": "web",
        "referrer": "https://example.com/",
        "bandwidthKbps": 2_500.0 + (n % 7) as f64 * 100.0,
    })
}

struct Sender {
    http: reqwest::Client,
    url: reqwest::Url,
    auth: String,
    target: Target,
}

enum Answer {
    Accepted(u64),
    /// 429 or 503: try again after this long.
    Later(Duration),
}

impl Sender {
    async fn send(&self, events: &[Value]) -> Result<Answer, String> {
        let request = self.http.post(self.url.clone()).header(AUTHORIZATION, &self.auth);
        let request = match self.target {
            Target::Graphql => request.header(CONTENT_TYPE, "application/json").body(
                serde_json::to_vec(&json!({"query": RECORD, "variables": {"events": events}})).unwrap_or_default(),
            ),
            Target::Collect => {
                let mut body = Vec::with_capacity(events.len() * 300);
                for e in events {
                    body.extend(serde_json::to_vec(e).unwrap_or_default());
                    body.push(b'\n');
                }
                request.header(CONTENT_TYPE, "application/x-ndjson").body(body)
            }
        };
        let response = request.send().await.map_err(|e| format!("transport: {e}"))?;
        let status = response.status().as_u16();
        if status == 429 || status == 503 {
            let wait =
                response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()?.parse::<u64>().ok()).unwrap_or(1);
            return Ok(Answer::Later(Duration::from_secs(wait)));
        }
        let text = response.text().await.map_err(|e| format!("transport: {e}"))?;
        if status != 200 {
            return Err(format!("HTTP {status}: {}", &text[..text.len().min(300)]));
        }
        let value: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
        let report = match self.target {
            Target::Graphql => &value["data"]["recordEvents"],
            Target::Collect => &value,
        };
        let accepted =
            report["accepted"].as_u64().ok_or_else(|| format!("no report: {}", &text[..text.len().min(300)]))?;
        if accepted != events.len() as u64 {
            return Err(format!("accepted {accepted} of {}: {}", events.len(), &text[..text.len().min(300)]));
        }
        Ok(Answer::Accepted(accepted))
    }
}

pub async fn run(common: &Common, prefix: &str, o: Options) -> Result<Outcome, String> {
    let base = loopback_url(&common.url)?;
    let key = common.api_key.clone().filter(|k| !k.trim().is_empty()).ok_or("--api-key (or API_KEY) is required")?;
    let path = match o.target {
        Target::Graphql => "/graphql",
        Target::Collect => "/collect/events",
    };
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(o.clients)
        .tcp_nodelay(true)
        .timeout(common.timeout)
        .build()
        .map_err(|e| e.to_string())?;
    let sender = Arc::new(Sender {
        http,
        url: base.join(path).map_err(|e| e.to_string())?,
        auth: format!("Bearer {}", key.trim()),
        target: o.target,
    });
    let tally = Arc::new(Tally::default());
    let per_client = o.events.div_ceil(o.clients as u64);
    let now_ms = crate::users::now_ms();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..o.clients {
        let (sender, tally, prefix, batch) = (sender.clone(), tally.clone(), prefix.to_owned(), o.batch as u64);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0;
            while n < per_client {
                let end = (n + batch).min(per_client);
                let events: Vec<Value> = (n..end).map(|i| event(&prefix, client, i, now_ms)).collect();
                loop {
                    let t = Instant::now();
                    match sender.send(&events).await {
                        Ok(Answer::Accepted(k)) => {
                            latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                            tally.accepted.fetch_add(k, Ordering::Relaxed);
                            break;
                        }
                        Ok(Answer::Later(wait)) => {
                            tally.refused.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(wait).await;
                        }
                        Err(e) => {
                            eprintln!("client {client}: {e}");
                            tally.errors.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                    }
                }
                n = end;
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.map_err(|e| e.to_string())?);
    }
    let seconds = started.elapsed().as_secs_f64();
    let accepted = tally.accepted.load(Ordering::Relaxed);
    let (refused, errors) = (tally.refused.load(Ordering::Relaxed), tally.errors.load(Ordering::Relaxed));
    let rate = accepted as f64 / seconds;
    let summary = Summary::of(latencies);
    println!(
        "{:?}: {accepted} events in {seconds:.1} s = {rate:.0} events/s from {} clients in batches of {}; \
         {refused} answers 429/503 (sent again); {errors} errors; per batch {}",
        o.target,
        o.clients,
        o.batch,
        summary.human()
    );
    Ok(Outcome {
        errors,
        bench: format!(
            "mode=ingest target={:?} clients={} batch={} events={accepted} seconds={seconds:.1} events_per_s={rate:.0} \
             refused={refused} {}",
            o.target,
            o.clients,
            o.batch,
            summary.bench("batch_")
        ),
    })
}
