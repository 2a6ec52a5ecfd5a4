//! Several `ottstats serve` processes over one PostgreSQL and one Redis, as deployed
//! behind a load balancer: a subscriber on one process sees a write made through
//! another, and answers stay exact while Redis is stopped and restarted, or frozen and
//! thawed, under load. Runs when `OTTSTATS_TEST_DATABASE_URL` and
//! `OTTSTATS_TEST_REDIS_URL` are set (as `.ci/run` sets them); the stop and freeze tests
//! start a Redis of their own with `redis-server`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ottstats_domain::country::Country;
use ottstats_domain::repository::TenantRepository;
use ottstats_store::testing::{self, TestDatabase};
use ottstats_tests::ws::WsClient;
use serde_json::{Value, json};

use crate::operations;

const DASHBOARD: &str = operations::DASHBOARD;
const LIVE: &str = operations::LIVE_REGISTRATIONS;
const UPSERT: &str = operations::UPSERT_USERS;

fn january() -> Value {
    json!({ "from": "2026-01-01", "to": "2026-02-01" })
}

fn user(id: usize) -> Value {
    json!({ "id": format!("u{id}"), "name": "x", "gender": "FEMALE", "registeredAt": "2026-01-10T08:00:00Z" })
}

/// An HTTP client that gives up on a hung server instead of hanging the test.
fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap_or_else(|e| panic!("{e}"))
}

/// A fresh PostgreSQL database with one tenant, and the test Redis URL; `None` (skip)
/// when the services are not configured on this machine.
async fn world() -> Option<(TestDatabase, String, String)> {
    let redis = testing::redis_url()?;
    let db = TestDatabase::postgres().await?;
    let home = Country::parse("CL").unwrap_or_else(|| unreachable!());
    let issued = db.store.create_tenant("A", home, chrono_tz::UTC).await.unwrap_or_else(|e| panic!("{e}"));
    Some((db, redis, issued.api_key))
}

/// One `ottstats serve` process; its log lines are kept for the test to read.
struct Server {
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(database_url: &str, redis_url: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ottstats"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("OTTSTATS_DATABASE_URL", database_url)
            .env("OTTSTATS_REDIS_URL", redis_url)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start ottstats: {e}"));
        let stderr = child.stderr.take().unwrap_or_else(|| unreachable!());
        let log = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("serving GraphQL at http://").nth(1) {
                    let _ = addr_tx.send(rest.split('/').next().unwrap_or_default().to_owned());
                }
                kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(line);
            }
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("the server did not start"));
        Server { child, base: format!("http://{addr}"), log }
    }

    /// Log lines containing `text`.
    fn logged(&self, text: &str) -> usize {
        self.log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter().filter(|l| l.contains(text)).count()
    }

    async fn post(&self, key: &str, query: &str, variables: Value) -> Value {
        let body = json!({ "query": query, "variables": variables });
        let response = client()
            .post(format!("{}/graphql", self.base))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("request failed: {e}"));
        let json: Value = response.json().await.unwrap_or_else(|e| panic!("not JSON: {e}"));
        assert!(json.get("errors").is_none(), "a query failed: {json:#}");
        json
    }

    async fn total(&self, key: &str) -> i64 {
        let json = self.post(key, DASHBOARD, json!({ "p": january() })).await;
        json["data"]["registrations"]["total"].as_i64().unwrap_or_else(|| panic!("no total: {json:#}"))
    }

    async fn add_user(&self, key: &str, id: usize) {
        let json = self.post(key, UPSERT, json!({ "u": [user(id)] })).await;
        assert_eq!(json["data"]["upsertUsers"]["accepted"], 1, "{json:#}");
    }

    async fn metrics(&self) -> String {
        let response = client().get(format!("{}/metrics", self.base)).send().await.unwrap_or_else(|e| panic!("{e}"));
        response.text().await.unwrap_or_default()
    }

    fn ws_url(&self) -> String {
        format!("{}/graphql/ws", self.base.replacen("http://", "ws://", 1))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Redis of the test's own, on a free port, that it can stop, restart, freeze and thaw.
struct OwnRedis {
    port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    fn start() -> OwnRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port: {e}"));
        let mut redis = OwnRedis { port, child: None };
        redis.restart();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run redis-server (needed with OTTSTATS_TEST_REDIS_URL set): {e}"));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().map(|c| c.id().to_string()).unwrap_or_else(|| panic!("redis is not running"));
        let status = Command::new("kill").args([signal, &pid]).status().unwrap_or_else(|e| panic!("kill: {e}"));
        assert!(status.success(), "kill {signal} {pid} failed");
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill").args(["-CONT", &child.id().to_string()]).status();
        }
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_on_one_server_sees_a_registration_made_through_another() {
    let Some((db, redis, key)) = world().await else {
        eprintln!("skipped: PostgreSQL and Redis are not configured");
        return;
    };
    let (a, b) = (Server::start(&db.url, &redis), Server::start(&db.url, &redis));
    let mut live = WsClient::connect_with_key(&b.ws_url(), &key).await;
    live.subscribe("1", LIVE, json!({ "p": january() })).await;
    assert_eq!(live.next_data(Duration::from_secs(10)).await["liveRegistrations"]["total"], 0);
    for _ in 0..3 {
        assert_eq!(b.total(&key).await, 0);
    }

    let wrote = Instant::now();
    a.add_user(&key, 1).await;
    let pushed = live.next_data(Duration::from_secs(2)).await;
    assert_eq!(pushed["liveRegistrations"]["total"], 1, "pushed after {:?}", wrote.elapsed());
    assert_eq!(b.total(&key).await, 1);
    b.add_user(&key, 2).await;
    assert_eq!(a.total(&key).await, 2);
    assert_eq!(live.next_data(Duration::from_secs(3)).await["liveRegistrations"]["total"], 2);
}

/// Each server logged `text` for this one outage: once, or twice when a call that was
/// already under way when Redis went away succeeded just after another had failed.
fn assert_once_per_outage(a: &Server, b: &Server, text: &str) {
    for server in [a, b] {
        let n = server.logged(text);
        assert!((1..=2).contains(&n), "{text:?} logged {n} times for one outage");
    }
}

/// Readers that keep asking both servers for the dashboard until dropped: every answer
/// must succeed and no total may go backwards.
struct Load {
    stop: Arc<std::sync::atomic::AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<u64>>,
}

impl Load {
    fn start(servers: &[&Server], key: &str, readers: usize) -> Load {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let tasks = (0..readers)
            .map(|i| {
                let base = servers[i % servers.len()].base.clone();
                let (key, stop) = (key.to_owned(), stop.clone());
                tokio::spawn(async move {
                    let client = client();
                    let body = json!({ "query": DASHBOARD, "variables": { "p": january() } });
                    let (mut seen, mut asked) = (0, 0);
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let response = client.post(format!("{base}/graphql")).bearer_auth(&key).json(&body).send();
                        let json: Value = match response.await {
                            Ok(r) => r.json().await.unwrap_or_else(|e| panic!("not JSON: {e}")),
                            Err(e) => panic!("a query failed under load: {e}"),
                        };
                        assert!(json.get("errors").is_none(), "a query failed under load: {json:#}");
                        let total = json["data"]["registrations"]["total"].as_i64().unwrap_or(-1);
                        assert!(total >= seen, "the total went back from {seen} to {total}");
                        (seen, asked) = (total, asked + 1);
                    }
                    asked
                })
            })
            .collect();
        Load { stop, tasks }
    }

    /// Stops the readers; how many answers they checked.
    async fn finish(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut asked = 0;
        for task in self.tasks {
            asked += task.await.unwrap_or_else(|e| panic!("a reader failed: {e}"));
        }
        asked
    }
}

/// Writes one user at a time and checks every answer is exact; returns how many users
/// were written.
async fn exact_under_load(servers: &[&Server], key: &str, from: usize, until: Instant) -> usize {
    let mut written = from;
    while Instant::now() < until {
        let writer = servers[written % servers.len()];
        writer.add_user(key, written).await;
        written += 1;
        for reader in servers {
            assert_eq!(reader.total(key).await, written as i64, "a stale answer after {written} users");
        }
    }
    written
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_stay_exact_while_redis_stops_and_restarts() {
    let Some((db, _, key)) = world().await else {
        eprintln!("skipped: PostgreSQL and Redis are not configured");
        return;
    };
    let mut redis = OwnRedis::start();
    let (a, b) = (Server::start(&db.url, &redis.url()), Server::start(&db.url, &redis.url()));
    let load = Load::start(&[&a, &b], &key, 4);
    let n = exact_under_load(&[&a, &b], &key, 0, Instant::now() + Duration::from_secs(1)).await;

    redis.stop();
    let n = exact_under_load(&[&a, &b], &key, n, Instant::now() + Duration::from_secs(2)).await;
    assert_once_per_outage(&a, &b, "Redis is unavailable");
    assert!(a.metrics().await.contains("ottstats_redis_up 0"));

    redis.restart();
    let n = exact_under_load(&[&a, &b], &key, n, Instant::now() + Duration::from_secs(3)).await;
    assert_once_per_outage(&a, &b, "Redis is available again");
    assert_once_per_outage(&a, &b, "Redis is unavailable");
    assert!(a.metrics().await.contains("ottstats_redis_up 1"));
    assert!(n > 3, "only {n} writes were made");
    assert!(load.finish().await > 20, "the readers hardly ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_never_serves_what_it_held_as_current() {
    let Some((db, _, key)) = world().await else {
        eprintln!("skipped: PostgreSQL and Redis are not configured");
        return;
    };
    let redis = OwnRedis::start();
    let (a, b) = (Server::start(&db.url, &redis.url()), Server::start(&db.url, &redis.url()));
    let load = Load::start(&[&a, &b], &key, 4);
    // Both processes and Redis hold the answer for one user.
    let n = exact_under_load(&[&a, &b], &key, 0, Instant::now() + Duration::from_millis(500)).await;

    redis.signal("-STOP");
    let frozen = Instant::now();
    let n = exact_under_load(&[&a, &b], &key, n, Instant::now() + Duration::from_secs(2)).await;
    assert!(frozen.elapsed() < Duration::from_secs(15), "requests hung on the frozen Redis");
    assert_once_per_outage(&a, &b, "Redis is unavailable");

    // Thawed, Redis answers again with the entries it held before the writes: none of
    // them may be served.
    redis.signal("-CONT");
    let n = exact_under_load(&[&a, &b], &key, n, Instant::now() + Duration::from_secs(3)).await;
    assert_once_per_outage(&a, &b, "Redis is available again");
    assert!(n > 3, "only {n} writes were made");
    assert!(load.finish().await > 20, "the readers hardly ran");
}

const TIMELINE: &str =
    "query($p: PeriodInput!) { registrations(period: $p) { total timeline(granularity: DAY) { buckets { total } } } }";

/// Waits until the server reports its registrations index loaded for every tenant.
async fn index_warm(server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let m = server.metrics().await;
        if m.contains("ottstats_index_tenants 1") && m.contains("ottstats_index_loading 0") {
            return;
        }
        assert!(Instant::now() < deadline, "the index did not load:\n{m}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sample(metrics: &str, series: &str) -> f64 {
    metrics.lines().find_map(|l| l.strip_prefix(series).and_then(|r| r.trim().parse().ok())).unwrap_or(0.0)
}

/// Read-your-writes across processes, from their indexes: a registration written through
/// one server is in the very next answer of the other while a third writer keeps
/// registering users (backdated into random days), and every answer's timeline adds up
/// to its total.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_server_is_in_the_next_answer_of_the_other_while_a_writer_runs() {
    let Some((db, redis, key)) = world().await else {
        eprintln!("skipped: PostgreSQL and Redis are not configured");
        return;
    };
    let (a, b) = (Server::start(&db.url, &redis), Server::start(&db.url, &redis));
    index_warm(&a).await;
    index_warm(&b).await;
    let acked = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let sent = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (base, key) = (a.base.clone(), key.clone());
        let (acked, sent, stop) = (acked.clone(), sent.clone(), stop.clone());
        tokio::spawn(async move {
            let client = client();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let day = 1 + n % 31;
                let u = json!({ "id": format!("w{n}"), "name": "w", "registeredAt": format!("2026-01-{day:02}T12:00:00Z") });
                sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let body = json!({ "query": UPSERT, "variables": { "u": [u] } });
                let r = client.post(format!("{base}/graphql")).bearer_auth(&key).json(&body).send().await;
                let json: Value = r.unwrap_or_else(|e| panic!("{e}")).json().await.unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(json["data"]["upsertUsers"]["accepted"], 1, "{json:#}");
                acked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                n += 1;
            }
            n
        })
    };
    let mine = 30;
    for i in 0..mine {
        let (writer_server, reader) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        writer_server.add_user(&key, i).await;
        let at_least = acked.load(std::sync::atomic::Ordering::SeqCst) + i as i64 + 1;
        let json = reader.post(&key, TIMELINE, json!({ "p": january() })).await;
        let at_most = sent.load(std::sync::atomic::Ordering::SeqCst) + i as i64 + 1;
        let r = &json["data"]["registrations"];
        let total = r["total"].as_i64().unwrap_or(-1);
        assert!((at_least..=at_most).contains(&total), "total {total} outside {at_least}..={at_most}");
        let summed: i64 =
            r["timeline"]["buckets"].as_array().map_or(0, |b| b.iter().filter_map(|x| x["total"].as_i64()).sum());
        assert_eq!(summed, total, "the timeline does not add up to the total");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.await.unwrap_or_else(|e| panic!("{e}"));
    assert!(written > 10, "the writer hardly ran: {written}");
    for server in [&a, &b] {
        assert_eq!(server.total(&key).await, written as i64 + mine as i64);
        let m = server.metrics().await;
        assert!(sample(&m, "ottstats_index_answers_total") >= mine as f64 / 2.0, "{m}");
        assert_eq!(sample(&m, "ottstats_index_fallback_answers_total"), 0.0, "{m}");
        assert_eq!(sample(&m, "ottstats_index_loads_total"), 1.0, "the index reloaded:\n{m}");
    }
}
