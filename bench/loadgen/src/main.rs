//! Load generator for the ottstats benchmarks. It talks only to the public API of a
//! running `ottstats serve` on a loopback address: `POST /graphql` and subscriptions over
//! `graphql-transport-ws` at `/graphql/ws`. Every mode stops by itself, prints a summary
//! and a last `BENCH key=value …` line, and exits non-zero when anything failed.

mod client;
mod flood;
mod fresh;
mod ingest;
mod mixed;
mod same;
mod stats;
mod subscribers;
mod users;
mod ws;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "loadgen", about = "Drives a running `ottstats serve` through its public API")]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    mode: Mode,
}

/// Flags every mode takes (before or after the mode's name).
#[derive(Args, Clone)]
pub struct Common {
    /// The server (loopback only).
    #[arg(long, global = true, default_value = "http://127.0.0.1:18080")]
    pub url: String,
    /// The tenant's API key.
    #[arg(long, global = true, env = "API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// The dashboard query (operation `Dashboard($period: PeriodInput!)`).
    #[arg(long, global = true, default_value = "bench/dashboard.graphql")]
    pub query_file: PathBuf,
    /// The dashboard period's start (a date or local form, read in --time-zone).
    #[arg(long, global = true, default_value = "2025-11-01")]
    pub from: String,
    /// The dashboard period's end, excluded.
    #[arg(long, global = true, default_value = "2026-11-01")]
    pub to: String,
    #[arg(long, global = true, default_value = "America/Santiago")]
    pub time_zone: String,
    /// Prefix of the ids of the users written (`<prefix>-<n>`); `lg-<run id>` by default.
    #[arg(long, global = true)]
    pub id_prefix: Option<String>,
    /// Per-request timeout (a request slower than this counts as an error).
    #[arg(long, global = true, default_value = "60s", value_parser = parse_duration)]
    pub timeout: Duration,
}

#[derive(Subcommand)]
enum Mode {
    /// One connection: write a user, then read the dashboard at once; checks the total
    /// grew by exactly one every time and measures the dashboard only.
    Fresh {
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        iterations: u32,
    },
    /// Readers asking for the dashboard in a loop while one writer registers users at a
    /// steady rate.
    Mixed {
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1_000))]
        readers: u32,
        /// Registrations per second (one user per mutation); 0 for no writer.
        #[arg(long, default_value_t = 100.0)]
        write_rate: f64,
        #[arg(long, default_value = "30s", value_parser = parse_duration)]
        duration: Duration,
        /// Shift each request's `from` by a distinct number of minutes: no cache can answer.
        #[arg(long)]
        unique_periods: bool,
    },
    /// Live subscribers with distinct periods, then writes at the current instant;
    /// measures from each write's response to the push that includes it.
    Subscribers {
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=5_000))]
        count: u32,
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        writes: u32,
        #[arg(long, default_value = "1s", value_parser = parse_duration)]
        write_every: Duration,
        /// The server's process id: report its CPU time over the write phase.
        #[arg(long)]
        server_pid: Option<u32>,
        /// How long to wait for every subscriber's first push.
        #[arg(long, default_value = "120s", value_parser = parse_duration)]
        initial_timeout: Duration,
        /// A write not seen by a subscriber within this long counts as a missing push.
        #[arg(long, default_value = "10s", value_parser = parse_duration)]
        push_timeout: Duration,
    },
    /// Many sockets, one and the same `liveUserActivity`, then one event for the user:
    /// what the write costs the server (answers, SQL, memory) and how soon each socket has it.
    Same {
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=2_000))]
        count: u32,
        /// The subscription (variables `$id: ID!` and `$period: PeriodInput!`).
        #[arg(long, default_value = "bench/ws_attack.graphql")]
        subscription_file: PathBuf,
        /// The user watched (registered, with events in the period).
        #[arg(long, default_value = "u0000001")]
        user: String,
        /// The server's process id: report its resident memory.
        #[arg(long)]
        server_pid: Option<u32>,
        /// A shell command printing a running count of SQL reads (its last line), run
        /// before and after the write.
        #[arg(long)]
        sql_probe: Option<String>,
        /// How long to wait for every socket's first push, and then for the write's.
        #[arg(long, default_value = "120s", value_parser = parse_duration)]
        wait: Duration,
    },
    /// Clients sending batches of new player events as fast as they are answered, through
    /// `recordEvents` or the collector; counts 429/503 answers and sends those batches again.
    Ingest {
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
        clients: u32,
        #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        batch: u32,
        /// Events sent in all.
        #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
        events: u64,
        #[arg(long, value_enum, default_value = "graphql")]
        target: ingest::Target,
    },
    /// Floods: large pings before `connection_init` on many sockets, then many
    /// subscriptions on one socket.
    Flood {
        #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=1_000))]
        sockets: u32,
        #[arg(long, default_value_t = 15_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
        ping_bytes: u64,
        #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(0..=10_000))]
        subscriptions: u32,
        #[arg(long)]
        server_pid: Option<u32>,
    },
}

/// `250ms`, `30s`, `2m`, or a bare number of seconds; at most an hour.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration (250ms, 30s, 2m)"))?;
    let seconds = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("{text:?}: the unit must be ms, s or m")),
    };
    if !(0.0..=3600.0).contains(&seconds) {
        return Err(format!("{text:?}: must be between 0 and 1 hour"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// What a mode measured: whether anything failed, and its `BENCH` line (without `BENCH `).
pub struct Outcome {
    pub errors: u64,
    pub bench: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let prefix = cli.common.id_prefix.clone().unwrap_or_else(|| format!("lg-{}", users::run_id()));
    let result = match cli.mode {
        Mode::Fresh { iterations } => fresh::run(&cli.common, &prefix, iterations).await,
        Mode::Mixed { readers, write_rate, duration, unique_periods } => {
            let options = mixed::Options { readers: readers as usize, write_rate, duration, unique_periods };
            mixed::run(&cli.common, &prefix, options).await
        }
        Mode::Subscribers { count, writes, write_every, server_pid, initial_timeout, push_timeout } => {
            let options = subscribers::Options {
                count: count as usize,
                writes: writes as usize,
                write_every,
                server_pid,
                initial_timeout,
                push_timeout,
            };
            subscribers::run(&cli.common, &prefix, options).await
        }
        Mode::Same { count, subscription_file, user, server_pid, sql_probe, wait } => {
            match std::fs::read_to_string(&subscription_file) {
                Ok(query) => {
                    let options =
                        same::Options { count: count as usize, query, user, server_pid, sql_probe, timeout: wait };
                    same::run(&cli.common, &prefix, options).await
                }
                Err(e) => Err(format!("cannot read --subscription-file {}: {e}", subscription_file.display())),
            }
        }
        Mode::Ingest { clients, batch, events, target } => {
            let options = ingest::Options { clients: clients as usize, batch: batch as usize, events, target };
            ingest::run(&cli.common, &prefix, options).await
        }
        Mode::Flood { sockets, ping_bytes, subscriptions, server_pid } => {
            let options = flood::Options {
                sockets: sockets as usize,
                ping_bytes: ping_bytes as usize,
                subscriptions: subscriptions as usize,
                server_pid,
            };
            flood::run(&cli.common, options).await
        }
    };
    match result {
        Ok(outcome) => {
            println!("BENCH {} errors={}", outcome.bench, outcome.errors);
            if outcome.errors > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
        }
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("2h").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
