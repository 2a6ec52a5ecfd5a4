//! `subscribers`: live dashboards over `graphql-transport-ws`. Each subscriber watches its
//! own period (from `--from` minus i days to tomorrow, so every one holds "now"); once
//! each has its first push, users are written at the current instant, one per
//! `--write-every`, and each push's arrival is measured against the response of the
//! write it is the first to include.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio::time::MissedTickBehavior;

use crate::client::Api;
use crate::fresh::report;
use crate::stats::{Summary, ms};
use crate::users::{self, UserFactory};
use crate::ws::{Event, subscriber};
use crate::{Common, Outcome};

/// The pause between the last first push and the first write: the server pushes at most
/// once a second, so a write right after the first pushes would wait for that window.
const SETTLE: Duration = Duration::from_millis(1500);

/// Linux's USER_HZ (`sysconf(_SC_CLK_TCK)`), the unit of /proc/PID/stat times: 100 on
/// every mainstream architecture, hardcoded rather than calling libc.
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

pub struct Options {
    pub count: usize,
    pub writes: usize,
    pub write_every: Duration,
    pub server_pid: Option<u32>,
    pub initial_timeout: Duration,
    pub push_timeout: Duration,
}

pub async fn run(common: &Common, prefix: &str, o: Options) -> Result<Outcome, String> {
    let api = Api::new(common, 2)?;
    let base = users::parse_day(&api.from)?;
    let to = users::format_day(users::now_ms().div_euclid(86_400_000) + 2);
    let (events, mut rx) = mpsc::unbounded_channel();
    let (stop, stopped) = watch::channel(false);
    println!(
        "subscribers: {} sockets to {}, periods {} .. {to} down to {} .. {to} ({}), then {} writes every {:?}",
        o.count,
        api.ws_url,
        api.from,
        users::format_day(base - o.count as i64 + 1),
        api.time_zone,
        o.writes,
        o.write_every
    );
    let started = Instant::now();
    let tasks: Vec<_> = (0..o.count)
        .map(|i| {
            let period = json!({ "from": users::format_day(base - i as i64), "to": to, "timeZone": api.time_zone });
            let socket = (api.ws_url.clone(), api.key.clone());
            tokio::spawn(subscriber(i, socket, period, events.clone(), stopped.clone()))
        })
        .collect();
    drop(events);

    // Every subscriber's first push.
    let mut initial: Vec<Option<i64>> = vec![None; o.count];
    let mut alive = vec![true; o.count];
    let mut first_push = Vec::new();
    let (mut setup_failures, mut sub_errors) = (0u64, 0u64);
    let setup_deadline = tokio::time::Instant::now() + o.initial_timeout;
    while first_push.len() + (setup_failures as usize) < o.count {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(Event::Total { sub, at, total }) if initial[sub].is_none() => {
                    initial[sub] = Some(total);
                    first_push.push(at.duration_since(started).as_secs_f64() * 1000.0);
                }
                Some(Event::Total { .. }) => {}
                Some(Event::Failed { sub, why }) => {
                    alive[sub] = false;
                    if initial[sub].is_none() { setup_failures += 1 } else { sub_errors += 1 }
                    report(setup_failures + sub_errors, &format!("subscriber {sub}: {why}"));
                }
                None => break,
            },
            _ = tokio::time::sleep_until(setup_deadline) => break,
        }
    }
    let ready = first_push.len();
    let setup = Summary::of(first_push);
    println!("{ready} of {} subscribed; first push after {}; writing in {SETTLE:?}", o.count, setup.human());
    if ready == 0 {
        let _ = stop.send(true);
        return Err("no subscriber received its first push".into());
    }
    // Subscribers neither ready nor failed: their first push did not come in time.
    let timed_out = (o.count - ready) as u64 - setup_failures;
    for (sub, init) in initial.iter().enumerate() {
        alive[sub] &= init.is_some();
    }

    // The write phase, once the first pushes' once-a-second window has passed.
    tokio::time::sleep(SETTLE).await;
    let cpu_before = o.server_pid.map(cpu_seconds).transpose()?;
    let phase_start = Instant::now();
    let factory = UserFactory::new(prefix, users::now_ms() as u64);
    let mut writer = tokio::spawn(write_now(api, factory, o.writes, o.write_every));
    let mut seen: Vec<Vec<Option<Instant>>> = vec![vec![None; o.writes]; o.count];
    let mut reached = vec![0usize; o.count];
    let (mut pushes, mut written): (u64, Option<Vec<Option<Instant>>>) = (0, None);
    let mut deadline = tokio::time::Instant::now() + Duration::from_secs(86_400);
    loop {
        let waiting = (0..o.count).any(|s| alive[s] && reached[s] < o.writes);
        if written.is_some() && !waiting {
            break;
        }
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(Event::Total { sub, at, total }) => {
                    let Some(init) = initial[sub] else { continue };
                    pushes += 1;
                    let upto = (total - init).clamp(0, o.writes as i64) as usize;
                    for slot in seen[sub].iter_mut().take(upto).skip(reached[sub]) {
                        *slot = Some(at);
                    }
                    reached[sub] = reached[sub].max(upto);
                }
                Some(Event::Failed { sub, why }) => {
                    if std::mem::take(&mut alive[sub]) {
                        sub_errors += 1;
                        report(setup_failures + sub_errors, &format!("subscriber {sub}: {why}"));
                    }
                }
                None => break,
            },
            result = &mut writer, if written.is_none() => {
                let times = result.map_err(|e| format!("the writer panicked: {e}"))?;
                deadline = tokio::time::Instant::now() + o.push_timeout;
                written = Some(times);
            }
            _ = tokio::time::sleep_until(deadline) => break,
        }
    }
    let phase = phase_start.elapsed().as_secs_f64();
    let cpu_after = o.server_pid.map(cpu_seconds).transpose()?;
    let _ = stop.send(true);
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }

    let written = written.unwrap_or_default();
    let write_errors = written.iter().filter(|w| w.is_none()).count() as u64;
    let (mut latencies, mut missing) = (Vec::new(), 0u64);
    for sub in (0..o.count).filter(|s| initial[*s].is_some()) {
        for (k, wrote) in written.iter().enumerate() {
            let Some(wrote) = wrote else { continue };
            match seen[sub][k].map(|at| at.saturating_duration_since(*wrote)) {
                Some(lag) if lag <= o.push_timeout => latencies.push(lag.as_secs_f64() * 1000.0),
                _ => missing += 1,
            }
        }
    }
    let s = Summary::of(latencies);
    println!("push latency over {} (subscriber, write) pairs: {}", s.count, s.human());
    println!("pushes received during the writes: {pushes}; missing pushes: {missing}");
    println!(
        "errors: {write_errors} writes, {} subscriber failures, {timed_out} first pushes later than {:?}",
        setup_failures + sub_errors,
        o.initial_timeout
    );
    let mut cpu = String::new();
    if let (Some(a), Some(b), Some(pid)) = (cpu_before, cpu_after, o.server_pid) {
        let used = b - a;
        // The name shows a wrong pid (a shell wrapping the server uses no CPU).
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        println!(
            "server (pid {pid}, {}) CPU over the {phase:.1} s write phase: {used:.2} s = {:.1}%",
            name.trim(),
            100.0 * used / phase
        );
        cpu = format!(" server_cpu_s={used:.2} server_cpu_pct={:.1}", 100.0 * used / phase);
    }
    Ok(Outcome {
        errors: write_errors + setup_failures + sub_errors + timed_out + missing,
        bench: format!(
            "mode=subscribers subscribers={} ready={ready} writes={} write_every_ms={} pairs={} pushes={pushes} \
             missing={missing} {} first_push_p50_ms={} first_push_max_ms={} write_errors={write_errors} \
             subscriber_errors={} setup_timeouts={timed_out} phase_s={phase:.1}{cpu}",
            o.count,
            o.writes,
            o.write_every.as_millis(),
            s.count,
            s.bench(""),
            ms(setup.p50),
            ms(setup.max),
            setup_failures + sub_errors,
        ),
    })
}

/// Writes `writes` users registered at the current instant, one per `every`; when each
/// response arrived (`None` for a write that failed).
async fn write_now(api: Api, mut users: UserFactory, writes: usize, every: Duration) -> Vec<Option<Instant>> {
    let mut ticks = tokio::time::interval(every.max(Duration::from_millis(1)));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let (mut out, mut errors) = (Vec::with_capacity(writes), 0u64);
    for k in 1..=writes {
        ticks.tick().await;
        match api.upsert_user(users.user(users::now_ms())).await {
            Ok(()) => out.push(Some(Instant::now())),
            Err(e) => {
                errors += 1;
                report(errors, &format!("write {k}: {e}"));
                out.push(None);
            }
        }
    }
    out
}

/// utime + stime of a process, in seconds (fields 14 and 15 of /proc/PID/stat).
fn cpu_seconds(pid: u32) -> Result<f64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| format!("/proc/{pid}/stat: {e}"))?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let rest = stat.rfind(')').map(|i| &stat[i + 1..]).ok_or("unexpected /proc/PID/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).ok_or("unexpected /proc/PID/stat");
    Ok((tick(11)? + tick(12)?) as f64 / CLOCK_TICKS_PER_SECOND)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_its_own_cpu_time() {
        let t = super::cpu_seconds(std::process::id()).unwrap();
        assert!(t >= 0.0);
    }
}
