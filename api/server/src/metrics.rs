//! `GET /metrics`: Prometheus text format. Requests and their latency by route and
//! status, GraphQL errors by code, cache hits and misses by panel (and for whole answers),
//! the collector's events by outcome and its refusals by reason, and whether Redis
//! answers.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ottstats_cache::Panel;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

use super::AppState;
use ottstats_graphql::Services;

/// Latency buckets, in seconds: from a cached answer to a slow uncached dashboard.
const LATENCY_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// What `/metrics` reports.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    errors: IntCounterVec,
    cache_hits: IntCounterVec,
    cache_misses: IntCounterVec,
    cache_rejected: IntCounterVec,
    /// `POST /collect/events`: items by what became of them, and requests refused.
    collected: IntCounterVec,
    collect_refusals: IntCounterVec,
    redis_up: IntGauge,
    /// Serialises copying the caches' own counters into the registry.
    sync: Arc<Mutex<()>>,
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("ottstats".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status."),
            &["route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by route.")
                .buckets(LATENCY_BUCKETS.to_vec()),
            &["route"],
        )?;
        let errors =
            IntCounterVec::new(Opts::new("graphql_errors_total", "GraphQL errors by extensions.code."), &["code"])?;
        let cache_hits = IntCounterVec::new(
            Opts::new("cache_hits_total", "Answers from cache, by panel (`response`: whole answers)."),
            &["panel"],
        )?;
        let cache_misses = IntCounterVec::new(
            Opts::new(
                "cache_misses_total",
                "Answers computed from the database, by panel (`response`: whole answers).",
            ),
            &["panel"],
        )?;
        let cache_rejected = IntCounterVec::new(
            Opts::new(
                "cache_rejected_total",
                "Values read from Redis that failed their integrity tag (dropped and recomputed), by panel.",
            ),
            &["panel"],
        )?;
        let collected = IntCounterVec::new(
            Opts::new(
                "collect_events_total",
                "Events sent to /collect/events, by outcome (accepted, duplicate, rejected).",
            ),
            &["outcome"],
        )?;
        let collect_refusals = IntCounterVec::new(
            Opts::new("collect_refusals_total", "Requests to /collect/events refused whole, by reason."),
            &["reason"],
        )?;
        // Every series from the start, at 0, so that a rate over them never lacks one.
        for outcome in ["accepted", "duplicate", "rejected"] {
            collected.with_label_values(&[outcome]);
        }
        for reason in crate::collect::REASONS {
            collect_refusals.with_label_values(&[reason]);
        }
        // Not registered (reported only with Redis configured), so not prefixed by the registry.
        let redis_up =
            IntGauge::new("ottstats_redis_up", "1 while Redis answers, 0 while it is down; absent without Redis.")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        registry.register(Box::new(cache_hits.clone()))?;
        registry.register(Box::new(cache_misses.clone()))?;
        registry.register(Box::new(cache_rejected.clone()))?;
        registry.register(Box::new(collected.clone()))?;
        registry.register(Box::new(collect_refusals.clone()))?;
        let sync = Arc::default();
        Ok(Metrics {
            registry,
            requests,
            latency,
            errors,
            cache_hits,
            cache_misses,
            cache_rejected,
            collected,
            collect_refusals,
            redis_up,
            sync,
        })
    }

    /// Counts what became of a collector batch's items.
    pub fn collected(&self, accepted: usize, duplicates: usize, rejected: usize) {
        for (outcome, n) in [("accepted", accepted), ("duplicate", duplicates), ("rejected", rejected)] {
            self.collected.with_label_values(&[outcome]).inc_by(n as u64);
        }
    }

    /// Counts a collector request refused whole (`reason` is one of [`crate::collect::REASONS`]).
    pub fn collect_refused(&self, reason: &str) {
        self.collect_refusals.with_label_values(&[reason]).inc();
    }

    /// Counts the errors of a GraphQL response by their `extensions.code`.
    pub fn count_errors<'a>(&self, codes: impl IntoIterator<Item = &'a str>) {
        for code in codes {
            self.errors.with_label_values(&[code]).inc();
        }
    }

    /// The text exposition, with the caches' counters brought up to date.
    fn render(&self, state: &AppState) -> Result<String, prometheus::Error> {
        let services = &state.services;
        {
            let _one_at_a_time = self.sync.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let counters = services.cache.counters();
            for panel in Panel::ALL {
                catch_up(&self.cache_hits, panel.name(), counters.hits(panel));
                catch_up(&self.cache_misses, panel.name(), counters.misses(panel));
                catch_up(&self.cache_rejected, panel.name(), counters.rejected(panel));
            }
            let (hits, misses) = services.responses.counts();
            catch_up(&self.cache_hits, "response", hits);
            catch_up(&self.cache_misses, "response", misses);
            catch_up(&self.cache_rejected, "response", services.responses.rejected());
        }
        let mut families = self.registry.gather();
        families.extend(index_families(services)?);
        families.extend(socket_families(state)?);
        if let Some(redis) = &services.redis {
            self.redis_up.set(i64::from(redis.is_up()));
            families.extend(prometheus::core::Collector::collect(&self.redis_up));
        }
        let mut out = Vec::new();
        TextEncoder::new().encode(&families, &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(format!("metrics are not UTF-8: {e}")))
    }
}

/// The registrations indexes: bytes, tenants, loads, evictions and how panels were
/// answered. Read fresh on every scrape from the engine's own counters.
fn index_families(services: &Services) -> Result<Vec<prometheus::proto::MetricFamily>, prometheus::Error> {
    use std::sync::atomic::Ordering::Relaxed;
    let engine = &services.engine;
    let status = engine.status();
    let c = engine.counters();
    let gauges = [
        ("ottstats_index_bytes", "Bytes held by the registrations indexes.", status.bytes as u64),
        ("ottstats_index_budget_bytes", "OTTSTATS_INDEX_MEMORY: what the indexes may hold.", status.budget as u64),
        ("ottstats_index_tenants", "Tenants whose registrations index is loaded.", status.tenants as u64),
        ("ottstats_index_loading", "Tenants whose registrations index is loading.", status.loading as u64),
        ("ottstats_index_rows", "Registrations held by the indexes.", status.rows as u64),
    ];
    let counters = [
        ("ottstats_index_loads_total", "Registrations indexes loaded.", c.loads.load(Relaxed)),
        (
            "ottstats_index_load_failures_total",
            "Loads that failed or did not fit the budget.",
            c.load_failures.load(Relaxed),
        ),
        ("ottstats_index_evictions_total", "Indexes evicted to fit the budget.", c.evictions.load(Relaxed)),
        ("ottstats_index_catch_ups_total", "Catch-ups that read change records.", c.catch_ups.load(Relaxed)),
        ("ottstats_index_answers_total", "Registration panels answered from an index.", c.index_answers.load(Relaxed)),
        (
            "ottstats_index_fallback_answers_total",
            "Registration panels answered by SQL.",
            c.fallback_answers.load(Relaxed),
        ),
    ];
    families(&gauges, &counters)
}

/// `/graphql/ws`: operations, shared executions, answers computed and refusals by a cap.
fn socket_families(state: &AppState) -> Result<Vec<prometheus::proto::MetricFamily>, prometheus::Error> {
    let gauges = [
        ("ottstats_ws_operations", "Operations active over /graphql/ws.", state.operations.total() as u64),
        (
            "ottstats_ws_shared_subscriptions",
            "Subscriptions whose execution sockets share now.",
            state.fanout.shared() as u64,
        ),
    ];
    let counters = [
        (
            "ottstats_ws_answers_total",
            "Answers computed for /graphql/ws (one per shared push, whatever the sockets).",
            state.fanout.renders(),
        ),
        (
            "ottstats_ws_refused_operations_total",
            "Operations refused (RATE_LIMITED) by a cap per socket or per tenant.",
            state.operations.refusals(),
        ),
    ];
    families(&gauges, &counters)
}

/// Families of one sample each, read from counts kept elsewhere: `(name, help, value)`.
fn families(
    gauges: &[(&str, &str, u64)],
    counters: &[(&str, &str, u64)],
) -> Result<Vec<prometheus::proto::MetricFamily>, prometheus::Error> {
    let mut out = Vec::new();
    for (name, help, value) in gauges {
        let g = IntGauge::new(*name, *help)?;
        g.set(i64::try_from(*value).unwrap_or(i64::MAX));
        out.extend(prometheus::core::Collector::collect(&g));
    }
    for (name, help, value) in counters {
        let c = prometheus::IntCounter::new(*name, *help)?;
        c.inc_by(*value);
        out.extend(prometheus::core::Collector::collect(&c));
    }
    Ok(out)
}

/// Raises a registry counter to a cache's own running count.
fn catch_up(counters: &IntCounterVec, panel: &str, value: u64) {
    let counter = counters.with_label_values(&[panel]);
    counter.inc_by(value.saturating_sub(counter.get()));
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    match state.metrics.render(&state) {
        Ok(text) => ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], text).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot render metrics");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// Counts each request and its latency. It wraps every other layer, so that refusals
/// (too large, too slow) and panics are counted too.
pub async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let route = route(request.uri().path());
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.requests.with_label_values(&[route, response.status().as_str()]).inc();
    metrics.latency.with_label_values(&[route]).observe(started.elapsed().as_secs_f64());
    response
}

/// The route a path belongs to: a fixed set of labels, whatever paths clients make up.
fn route(path: &str) -> &'static str {
    match path {
        "/graphql" => "/graphql",
        "/graphql/ws" => "/graphql/ws",
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        "/metrics" => "/metrics",
        crate::collect::PATH => crate::collect::PATH,
        p if p.starts_with("/graphql/assets/") => "/graphql/assets/{file}",
        _ => "other",
    }
}
