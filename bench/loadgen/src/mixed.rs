//! `mixed`: a live dashboard under writes. Readers ask for the dashboard in a loop (the
//! same period, or with `--unique-periods` a `from` shifted by a distinct number of
//! minutes on every request) while one writer registers users at a steady rate, each
//! somewhere in the period (so most land in old buckets).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::time::MissedTickBehavior;

use crate::client::{Api, Backdating};
use crate::fresh::report;
use crate::stats::Summary;
use crate::users::{self, UserFactory};
use crate::{Common, Outcome};

/// Distinct `from` shifts before they repeat: 150 days of minutes, so that from the
/// default 2025-11-01 no shifted `from` reaches a DST change of America/Santiago.
const SPAN_MINUTES: u64 = 150 * 1440;

pub struct Options {
    pub readers: usize,
    pub write_rate: f64,
    pub duration: Duration,
    pub unique_periods: bool,
}

struct Shared {
    api: Api,
    deadline: Instant,
    unique_from: Option<i64>,
    next_shift: AtomicU64,
    read_errors: AtomicU64,
}

impl Shared {
    fn next_from(&self) -> String {
        match self.unique_from {
            Some(day) => {
                let n = self.next_shift.fetch_add(1, Ordering::Relaxed) % SPAN_MINUTES;
                users::format_local_minutes(day, n as i64)
            }
            None => self.api.from.clone(),
        }
    }
}

pub async fn run(common: &Common, prefix: &str, o: Options) -> Result<Outcome, String> {
    if !(0.0..=10_000.0).contains(&o.write_rate) {
        return Err("--write-rate must be between 0 and 10000".into());
    }
    let api = Api::new(common, o.readers + 2)?;
    let backdating = Backdating::new(&api)?;
    let unique_from = match o.unique_periods {
        true if api.from.len() != 10 => return Err("--unique-periods needs --from as a date (YYYY-MM-DD)".into()),
        true => Some(users::parse_day(&api.from)?),
        false => None,
    };
    api.dashboard(&api.from).await.map_err(|e| format!("the warm-up dashboard failed: {e}"))?;
    println!(
        "mixed: {} readers, {} writes/s, {:?}, period {} .. {} {} ({}), ids {prefix}-N",
        o.readers,
        o.write_rate,
        o.duration,
        api.from,
        api.to,
        api.time_zone,
        if o.unique_periods { "every request a distinct `from`" } else { "one repeated period" }
    );

    let start = Instant::now();
    let first_shift = 1 + users::now_ms() as u64 % (SPAN_MINUTES - 1);
    let shared = Arc::new(Shared {
        api,
        deadline: start + o.duration,
        unique_from,
        next_shift: AtomicU64::new(first_shift),
        read_errors: AtomicU64::new(0),
    });
    let readers: Vec<_> = (0..o.readers).map(|_| tokio::spawn(reader(shared.clone()))).collect();
    let writer = tokio::spawn(writer(shared.clone(), backdating, UserFactory::new(prefix, first_shift), o.write_rate));

    let mut latencies = Vec::new();
    let (mut requests, mut bytes) = (0u64, 0u64);
    for r in readers {
        let (lat, n, b) = r.await.map_err(|e| format!("a reader panicked: {e}"))?;
        latencies.extend(lat);
        requests += n;
        bytes += b;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (write_lat, write_errors) = writer.await.map_err(|e| format!("the writer panicked: {e}"))?;

    let read_errors = shared.read_errors.load(Ordering::Relaxed);
    let reads = Summary::of(latencies);
    let writes = Summary::of(write_lat);
    let rps = requests as f64 / elapsed;
    let write_rate = writes.count as f64 / o.duration.as_secs_f64().max(0.001);
    let avg_kb = if reads.count > 0 { bytes as f64 / reads.count as f64 / 1024.0 } else { 0.0 };
    println!("dashboards: {requests} in {elapsed:.1} s = {rps:.1}/s ({avg_kb:.1} KB each); {}", reads.human());
    println!("errors: {read_errors} dashboards (transport, non-200 or \"errors\"), {write_errors} writes");
    println!(
        "writes: {} accepted = {write_rate:.1}/s (asked {}/s); latency p50 {} ms, p99 {} ms, max {} ms",
        writes.count,
        o.write_rate,
        crate::stats::ms(writes.p50),
        crate::stats::ms(writes.p99),
        crate::stats::ms(writes.max)
    );
    Ok(Outcome {
        errors: read_errors + write_errors,
        bench: format!(
            "mode=mixed readers={} unique_periods={} duration_s={:.1} requests={requests} rps={rps:.1} {} \
             read_errors={read_errors} write_rate={write_rate:.1} write_target={} writes={} write_errors={write_errors} \
             write_p50_ms={} write_p99_ms={} write_max_ms={}",
            o.readers,
            u8::from(o.unique_periods),
            elapsed,
            reads.bench(""),
            o.write_rate,
            writes.count,
            crate::stats::ms(writes.p50),
            crate::stats::ms(writes.p99),
            crate::stats::ms(writes.max)
        ),
    })
}

/// Asks for the dashboard until the deadline: (latencies of good answers, answers, bytes).
async fn reader(shared: Arc<Shared>) -> (Vec<f64>, u64, u64) {
    let (mut latencies, mut answers, mut bytes) = (Vec::new(), 0u64, 0u64);
    while Instant::now() < shared.deadline {
        let from = shared.next_from();
        let asked = Instant::now();
        let result = shared.api.dashboard(&from).await;
        answers += 1;
        match result {
            Ok(n) => {
                latencies.push(asked.elapsed().as_secs_f64() * 1000.0);
                bytes += n as u64;
            }
            Err(e) => {
                let n = shared.read_errors.fetch_add(1, Ordering::Relaxed) + 1;
                report(n, &format!("dashboard (from {from}): {e}"));
            }
        }
    }
    (latencies, answers, bytes)
}

/// Writes one user per tick until the deadline, each tick's write on its own task (a
/// slow write does not hold back the next tick, so the rate is kept): (latencies of
/// accepted writes, errors).
async fn writer(shared: Arc<Shared>, backdating: Backdating, mut users: UserFactory, rate: f64) -> (Vec<f64>, u64) {
    let (mut latencies, mut errors) = (Vec::new(), 0u64);
    if rate <= 0.0 {
        return (latencies, errors);
    }
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut writes = tokio::task::JoinSet::new();
    let mut record = |done: Result<Result<f64, String>, tokio::task::JoinError>| match done {
        Ok(Ok(ms)) => latencies.push(ms),
        Ok(Err(e)) => {
            errors += 1;
            report(errors, &format!("write: {e}"));
        }
        Err(e) => {
            errors += 1;
            report(errors, &format!("write task: {e}"));
        }
    };
    loop {
        ticks.tick().await;
        if Instant::now() >= shared.deadline {
            break;
        }
        // At most 64 writes in flight: past that the server is not keeping up, and the
        // achieved rate (reported) says so.
        while writes.len() >= 64 {
            if let Some(done) = writes.join_next().await {
                record(done);
            }
        }
        let (shared, user) = (shared.clone(), backdating.user(&mut users));
        writes.spawn(async move {
            let asked = Instant::now();
            shared
                .api
                .upsert_user(user)
                .await
                .map(|()| asked.elapsed().as_secs_f64() * 1000.0)
                .map_err(|e| e.to_string())
        });
        while let Some(done) = writes.try_join_next() {
            record(done);
        }
    }
    while let Some(done) = writes.join_next().await {
        record(done);
    }
    (latencies, errors)
}
