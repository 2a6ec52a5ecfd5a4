//! Everything `ottstats serve` can be tuned by, in one typed struct: built from the
//! defaults, then an optional TOML file (`--config FILE` / `OTTSTATS_CONFIG`), then the
//! environment and flags (which the binary reads, and hands here as [`Overrides`]).
//!
//! Each section is the settings type of the crate it tunes (the store's
//! [`DatabaseSettings`], the engine's [`EngineSettings`], the schema's [`Limits`], …),
//! whose `Default` holds the defaults, each in one place; this struct only gathers them,
//! so that no crate below depends on this one. The README's settings table lists every
//! key; `docs/ottstats.example.toml` holds every one at its default (a test keeps both
//! true).

use std::net::SocketAddr;
use std::path::Path;

use ottstats_cache::RedisSettings;
use ottstats_engine::EngineSettings;
use ottstats_graphql::limits::Limits;
use ottstats_graphql::{CacheSettings, LiveSettings, ServiceSettings};
use ottstats_store::DatabaseSettings;

use crate::HttpSettings;
use crate::auth::AuthSettings;
use crate::collect::CollectSettings;
use crate::cors::CorsOrigins;
use crate::db_health::HealthSettings;
use crate::documents::DocumentSettings;
use crate::listener::ConnectionLimits;
use crate::rate_limit::RateLimitSettings;
use crate::ws_limits::SocketLimits;

/// The settings of one server process. See the README's settings table.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The database and its pool.
    pub database: DatabaseSettings,
    /// Redis (none by default) and how long it is waited for.
    pub redis: RedisSettings,
    /// Where the server listens, CORS, request bodies and timeouts.
    pub http: HttpSettings,
    /// Open connections, header and shutdown timeouts.
    pub connections: ConnectionLimits,
    /// What one request may ask for (what `limits { … }` answers).
    pub limits: Limits,
    /// The caches' sizes and Redis lifetimes.
    pub cache: CacheSettings,
    /// Persisted queries and trusted documents kept in memory and in Redis.
    pub documents: DocumentSettings,
    /// Live subscriptions.
    pub live: LiveSettings,
    /// The registrations index.
    pub index: EngineSettings,
    /// Rate limits per key and per address.
    pub rate_limit: RateLimitSettings,
    /// The bounds of `/graphql/ws`.
    pub websocket: SocketLimits,
    /// API keys: how often they are re-read, how long grants are kept.
    pub auth: AuthSettings,
    /// How the database is probed for `/readyz` and fast failures.
    pub health: HealthSettings,
    /// The player collector, `POST /collect/events`: its body, its writes at once.
    pub collect: CollectSettings,
}

/// What the environment and the flags set: each `Some` replaces the file's value (clap
/// already put a flag before its environment variable).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub database_url: Option<String>,
    pub bind: Option<SocketAddr>,
    pub redis_url: Option<String>,
    pub index_memory: Option<usize>,
    pub cors_origins: Option<CorsOrigins>,
    pub trusted_documents: Option<bool>,
}

/// Why settings could not be used: always names the file, and the key when there is one.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read the settings file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("settings file {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("setting `{key}`: {message}")]
    Value { key: &'static str, message: String },
}

impl Settings {
    /// The settings of `file` when given (else the defaults), with `overrides` on top,
    /// checked.
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Settings, SettingsError> {
        let mut settings = match file {
            Some(path) => {
                let shown = path.display().to_string();
                let text = std::fs::read_to_string(path)
                    .map_err(|source| SettingsError::Read { path: shown.clone(), source })?;
                Settings::parse(&text, &shown)?
            }
            None => Settings::default(),
        };
        settings.apply(overrides);
        settings.check()?;
        Ok(settings)
    }

    /// The settings a TOML text holds (`name` names it in errors), not checked yet.
    pub fn parse(text: &str, name: &str) -> Result<Settings, SettingsError> {
        toml::from_str(text).map_err(|e| SettingsError::Invalid { path: name.to_owned(), message: describe(&e, text) })
    }

    /// Puts the environment's and the flags' values over the file's.
    pub fn apply(&mut self, overrides: Overrides) {
        let Overrides { database_url, bind, redis_url, index_memory, cors_origins, trusted_documents } = overrides;
        if let Some(url) = database_url {
            self.database.url = url;
        }
        if let Some(bind) = bind {
            self.http.bind = bind;
        }
        if let Some(url) = redis_url {
            self.redis.url = Some(url);
        }
        if let Some(bytes) = index_memory {
            self.index.memory_budget = bytes;
        }
        if let Some(origins) = cors_origins {
            self.http.cors_origins = origins;
        }
        if let Some(trusted) = trusted_documents {
            self.http.trusted_documents = trusted;
        }
    }

    /// Refuses values the server cannot run with (a zero period would spin or panic, an
    /// empty pool or turn would wait for good), naming the key.
    pub fn check(&self) -> Result<(), SettingsError> {
        let periods = [
            ("index.refresh_every", self.index.refresh_every),
            ("auth.poll_every", self.auth.poll_every),
            ("health.read_probe_every", self.health.read_probe_every),
            ("live.recheck_every", self.live.recheck_every),
            ("websocket.recheck_key_every", self.websocket.recheck_key_every),
            ("redis.notices_probe_every", self.redis.notices_probe_every),
            ("redis.resubscribe_every", self.redis.resubscribe_every),
            ("collect.body_timeout", self.collect.body_timeout),
        ];
        for (key, period) in periods {
            if period.is_zero() {
                return Err(SettingsError::Value { key, message: "must be longer than 0".into() });
            }
        }
        let at_least_one = [
            ("database.postgres_pool", self.database.postgres_pool as usize),
            ("database.sqlite_pool", self.database.sqlite_pool as usize),
            ("http.blocking_at_once", self.http.blocking_at_once),
            ("connections.max", self.connections.max),
            ("collect.writes_in_flight", self.collect.writes_in_flight),
        ];
        for (key, n) in at_least_one {
            if n == 0 {
                return Err(SettingsError::Value { key, message: "must be at least 1".into() });
            }
        }
        if self.connections.headroom >= self.connections.max {
            let message = format!(
                "{} leaves no connection below `connections.max` ({}) for anything but health checks",
                self.connections.headroom, self.connections.max
            );
            return Err(SettingsError::Value { key: "connections.headroom", message });
        }
        if self.http.bodies_in_flight_bytes < self.http.max_body_bytes {
            let message = format!(
                "{} bytes is less than one body of `http.max_body_bytes` ({}): the largest bodies would never fit",
                self.http.bodies_in_flight_bytes, self.http.max_body_bytes
            );
            return Err(SettingsError::Value { key: "http.bodies_in_flight_bytes", message });
        }
        if self.collect.bodies_in_flight_bytes < self.collect.max_body_bytes {
            let message = format!(
                "{} bytes is less than one body of `collect.max_body_bytes` ({}): the largest batches would never fit",
                self.collect.bodies_in_flight_bytes, self.collect.max_body_bytes
            );
            return Err(SettingsError::Value { key: "collect.bodies_in_flight_bytes", message });
        }
        Ok(())
    }

    /// The sections the services (`ottstats_graphql::Services::with_settings`) take.
    pub fn services(&self) -> ServiceSettings {
        ServiceSettings { index: self.index.clone(), cache: self.cache, limits: self.limits, live: self.live }
    }
}

/// A TOML or value error with its line and the dotted key it is about.
fn describe(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim_end();
    let Some(span) = e.span() else { return message.to_owned() };
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = &text[line_start..line_end];
    let number = text[..line_start].matches('\n').count() + 1;
    // The key: what stands before `=` on the line (a value's error), else what the span
    // covers (an unknown key's, or an unknown table's in its header).
    let header = line.trim_start().starts_with('[');
    let key = match line.split_once('=') {
        Some((key, _)) if !header && line_start + key.len() <= start => key,
        _ => &text[start..span.end.clamp(start, line_end)],
    };
    let key = key.trim().trim_matches(['[', ']', '"']).trim();
    let table = text[..line_start].lines().rev().find_map(|l| {
        let l = l.trim();
        (l.starts_with('[') && !l.starts_with("[[")).then(|| l.trim_matches(['[', ']']).trim())
    });
    let dotted = match table {
        _ if key.is_empty() => String::new(),
        Some(table) if !header => format!(" `{table}.{key}`:"),
        _ => format!(" `{key}`:"),
    };
    format!("line {number}:{dotted} {message}")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const EXAMPLE: &str = include_str!("../../../docs/ottstats.example.toml");
    const README: &str = include_str!("../../../README.md");

    fn parse(text: &str) -> Result<Settings, String> {
        Settings::parse(text, "test.toml").and_then(|s| s.check().map(|()| s)).map_err(|e| e.to_string())
    }

    /// The defaults are the values the constants they replaced had.
    #[test]
    fn defaults_are_the_former_constants() {
        let s = Settings::default();
        let secs = Duration::from_secs;
        let millis = Duration::from_millis;
        const MIB: u64 = 1 << 20;
        assert_eq!(s.database.url, "sqlite://ottstats.db?mode=rwc");
        assert_eq!((s.database.postgres_pool, s.database.sqlite_pool), (16, 4));
        assert_eq!((s.database.acquire_timeout, s.database.connect_timeout), (secs(5), secs(5)));
        assert_eq!(s.database.sqlite_busy_timeout, secs(10));
        assert_eq!(s.database.sql_queue_per_tenant, 64);
        assert_eq!(s.database.change_retention, secs(3600));
        assert_eq!(s.database.probe_connect_timeout, millis(500));
        assert_eq!(s.redis.url, None);
        assert_eq!((s.redis.op_timeout, s.redis.probe_every), (millis(200), secs(1)));
        assert_eq!((s.redis.tls_connect_timeout, s.redis.start_check), (secs(2), secs(2)));
        assert_eq!((s.redis.notices_probe_every, s.redis.resubscribe_every), (secs(10), secs(1)));
        assert_eq!(s.http.bind, "127.0.0.1:8080".parse().unwrap());
        assert_eq!((s.http.cors_origins.clone(), s.http.cors_max_age), (CorsOrigins::Any, secs(86_400)));
        assert!(!s.http.trusted_documents);
        assert_eq!((s.http.request_timeout, s.http.body_timeout, s.http.body_room_wait), (secs(60), secs(30), secs(5)));
        assert_eq!((s.http.max_body_bytes, s.http.bodies_in_flight_bytes), (32 << 20, 256 << 20));
        assert_eq!((s.http.blocking_body_bytes, s.http.blocking_at_once), (256 << 10, 4));
        assert_eq!(s.http.compress_above_bytes, 1024);
        assert_eq!(s.connections.max, crate::listener::default_max());
        assert_eq!((s.connections.headroom, s.connections.http2_max_streams), (32, 64));
        assert_eq!((s.connections.header_timeout, s.connections.drain), (secs(15), secs(10)));
        assert_eq!(s.limits, Limits::DEFAULT);
        let l = s.limits;
        assert_eq!((l.max_fields, l.max_depth, l.max_aliases, l.max_list), (2_000, 20, 100, 10_000));
        assert_eq!((l.max_cost, l.max_answer_bytes, l.timeout), (200_000, 16 << 20, secs(30)));
        assert_eq!(
            (s.cache.statistics_bytes, s.cache.answer_bytes, s.cache.manifest_bytes),
            (64 * MIB, 64 * MIB, 16 * MIB)
        );
        assert_eq!((s.cache.statistics_redis_ttl, s.cache.answer_redis_ttl), (secs(3600), secs(3600)));
        let d = s.documents;
        assert_eq!((d.persisted_cache_bytes, d.persisted_redis_ttl), (32 * MIB, secs(30 * 24 * 3600)));
        assert_eq!((d.persisted_max_text_bytes, d.trusted_cache_bytes), (128 << 10, 16 * MIB));
        assert_eq!((s.live.min_interval, s.live.recheck_every), (secs(1), secs(5)));
        assert_eq!((s.index.memory_budget, s.index.catch_up_limit, s.index.blocking_rows), (1 << 30, 50_000, 200_000));
        assert_eq!((s.index.retry_after, s.index.refresh_every, s.index.blocking_changes), (secs(5), secs(10), 1_000));
        let r = s.rate_limit;
        assert_eq!((r.default_per_minute, r.auth_failure_burst, r.auth_failures_per_second), (1_000_000, 100, 10));
        assert_eq!(r.default_per_minute, crate::rate_limit::DEFAULT_PER_MINUTE);
        let w = s.websocket;
        assert_eq!((w.max_message_before_ack, w.max_message), (16 << 10, 1 << 20));
        assert_eq!((w.operations_per_socket, w.operations_per_tenant), (20, 200));
        assert_eq!((w.write_timeout, w.ping_burst, w.pings_per_second), (secs(10), 5, 2));
        assert_eq!((w.init_timeout, w.recheck_key_every), (secs(10), secs(30)));
        assert_eq!((s.auth.poll_every, s.auth.grant_ttl, s.auth.touch_every), (millis(250), secs(60), secs(60)));
        let h = s.health;
        assert_eq!((h.read_probe_every, h.write_probe_every, h.probe_timeout), (millis(250), secs(5), secs(1)));
        let c = s.collect;
        assert_eq!(
            (c.max_body_bytes, c.writes_in_flight, c.write_wait, c.retry_after),
            (MIB as usize, 4, millis(500), secs(1))
        );
        assert_eq!((c.bodies_in_flight_bytes, c.body_timeout), (16 * MIB as usize, secs(5)));
        assert!(s.check().is_ok());
        // What the services take is what they had without settings.
        assert_eq!(s.services(), ServiceSettings::default());
    }

    /// The example file holds every key at its default (so it stays valid and true), and
    /// the README's table names every one of its keys.
    #[test]
    fn the_example_file_is_the_defaults_and_the_readme_lists_its_keys() {
        let example = parse(EXAMPLE).unwrap_or_else(|e| panic!("docs/ottstats.example.toml: {e}"));
        assert_eq!(example, Settings::default());
        let mut table = "";
        let mut keys = 0;
        for line in EXAMPLE.lines().map(str::trim) {
            let line = line.trim_start_matches("# ");
            if line.starts_with('[') && line.ends_with(']') {
                table = line.trim_matches(['[', ']']);
            } else if let Some((key, _)) = line.split_once(" = ")
                && !key.contains(' ')
            {
                let dotted = format!("`{table}.{key}`");
                assert!(README.contains(&dotted), "the README's settings table lacks {dotted}");
                keys += 1;
            }
        }
        assert!(keys > 60, "only {keys} keys found in the example");
    }

    /// A file's values, then the environment's and the flags' over them.
    #[test]
    fn overrides_go_over_the_file_which_goes_over_the_defaults() {
        let file = "[http]\nbind = \"127.0.0.2:9000\"\ntrusted_documents = true\n\n[index]\nmemory = \"512MiB\"\n\
                    refresh_every = \"3s\"\n[database]\nurl = \"sqlite://file.db\"\n";
        let mut s = parse(file).unwrap();
        assert_eq!(s.http.bind, "127.0.0.2:9000".parse().unwrap());
        assert_eq!((s.index.memory_budget, s.index.refresh_every), (512 << 20, Duration::from_secs(3)));
        // What the file leaves out keeps its default.
        assert_eq!(s.index.catch_up_limit, 50_000);
        assert_eq!(s.http.request_timeout, Duration::from_secs(60));
        s.apply(Overrides {
            bind: Some("127.0.0.3:9001".parse().unwrap()),
            trusted_documents: Some(false),
            database_url: Some("sqlite://env.db".into()),
            ..Overrides::default()
        });
        assert_eq!(s.http.bind, "127.0.0.3:9001".parse().unwrap());
        assert!(!s.http.trusted_documents);
        assert_eq!(s.database.url, "sqlite://env.db");
        // Not overridden: the file's.
        assert_eq!(s.index.memory_budget, 512 << 20);
    }

    #[test]
    fn sizes_take_units_or_bytes_and_origins_a_list() {
        let s = parse(
            "[cache]\nstatistics_bytes = 1048576\nanswer_bytes = \"2GiB\"\n[http]\n\
             cors_origins = [\"https://a.example\", \"http://localhost:3000\"]\n",
        )
        .unwrap();
        assert_eq!((s.cache.statistics_bytes, s.cache.answer_bytes), (1 << 20, 2 << 30));
        assert_eq!(s.http.cors_origins, CorsOrigins::parse("https://a.example,http://localhost:3000").unwrap());
        let s = parse("[http]\ncors_origins = \"https://a.example\"\n").unwrap();
        assert_eq!(s.http.cors_origins, CorsOrigins::parse("https://a.example").unwrap());
    }

    #[test]
    fn an_unknown_key_is_refused_by_its_name() {
        let e = parse("[http]\nbind = \"127.0.0.1:1\"\nrequest_timout = \"5s\"\n").unwrap_err();
        assert!(e.contains("`http.request_timout`") && e.contains("unknown field"), "{e}");
        assert!(e.starts_with("settings file test.toml: line 3:"), "{e}");
        let e = parse("[htp]\nbind = \"127.0.0.1:1\"\n").unwrap_err();
        assert!(e.contains("`htp`") && e.contains("unknown field"), "{e}");
        let e = parse("verbose = true\n").unwrap_err();
        assert!(e.contains("`verbose`") && e.contains("unknown field"), "{e}");
    }

    #[test]
    fn a_bad_value_is_refused_by_its_key() {
        let e = parse("[live]\nmin_interval = \"soon\"\n").unwrap_err();
        assert!(e.contains("`live.min_interval`") && e.contains("not a duration"), "{e}");
        let e = parse("[live]\nmin_interval = 5\n").unwrap_err();
        assert!(e.contains("`live.min_interval`") && e.contains("a duration"), "{e}");
        let e = parse("[redis]\nop_timeout = \"20000years\"\n").unwrap_err();
        assert!(e.contains("`redis.op_timeout`") && e.contains("longer than"), "{e}");
        let e = parse("[cache]\nanswer_bytes = \"5 parsecs\"\n").unwrap_err();
        assert!(e.contains("`cache.answer_bytes`") && e.contains("unknown unit"), "{e}");
        let e = parse("[http]\nbind = \"nowhere\"\n").unwrap_err();
        assert!(e.contains("`http.bind`"), "{e}");
        let e = parse("[http]\ncompress_above_bytes = \"1MiB\"\n").unwrap_err();
        assert!(e.contains("`http.compress_above_bytes`") && e.contains("too large"), "{e}");
        let e = parse("[database]\npostgres_pool = -1\n").unwrap_err();
        assert!(e.contains("`database.postgres_pool`"), "{e}");
        let e = parse("[http]\ncors_origins = \"https://a.example/path\"\n").unwrap_err();
        assert!(e.contains("`http.cors_origins`") && e.contains("is not an origin"), "{e}");
    }

    #[test]
    fn values_the_server_cannot_run_with_are_refused_by_their_key() {
        let e = parse("[index]\nrefresh_every = \"0s\"\n").unwrap_err();
        assert_eq!(e, "setting `index.refresh_every`: must be longer than 0");
        let e = parse("[database]\nsqlite_pool = 0\n").unwrap_err();
        assert_eq!(e, "setting `database.sqlite_pool`: must be at least 1");
        let e = parse("[connections]\nmax = 10\nheadroom = 10\n").unwrap_err();
        assert!(e.starts_with("setting `connections.headroom`:"), "{e}");
        let e = parse("[http]\nmax_body_bytes = \"1GiB\"\n").unwrap_err();
        assert!(e.starts_with("setting `http.bodies_in_flight_bytes`:"), "{e}");
        let e = parse("[collect]\nwrites_in_flight = 0\n").unwrap_err();
        assert_eq!(e, "setting `collect.writes_in_flight`: must be at least 1");
        let e = parse("[collect]\nmax_body_bytes = \"1GiB\"\n").unwrap_err();
        assert!(e.starts_with("setting `collect.bodies_in_flight_bytes`:"), "{e}");
        assert!(e.contains("`collect.max_body_bytes`"), "{e}");
        // The collector's room is its own: not bounded by, nor bounding, `/graphql`'s.
        assert!(parse("[collect]\nbodies_in_flight_bytes = \"1MiB\"\n").is_ok());
        let e = parse("[collect]\nbody_timeout = \"0s\"\n").unwrap_err();
        assert_eq!(e, "setting `collect.body_timeout`: must be longer than 0");
    }

    #[test]
    fn a_missing_file_is_said_with_its_path() {
        let e = Settings::load(Some(Path::new("/nonexistent/ottstats.toml")), Overrides::default()).unwrap_err();
        assert!(e.to_string().starts_with("cannot read the settings file /nonexistent/ottstats.toml:"), "{e}");
    }
}
