//! Storage faults, on a PostgreSQL cluster of the test's own (on a port of its own, so
//! that stopping it disturbs no other test): while it is stopped requests fail at once
//! with `UNAVAILABLE` and HTTP 503, every time; when it returns the server recovers by
//! itself with every acknowledged write there; when it refuses writes, writes are
//! `UNAVAILABLE` (never `INTERNAL`) and `/readyz` says so.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use ottstats_graphql::Services;
use ottstats_server::AppState;
use ottstats_store::Store;
use ottstats_store::testing::REQUIRE_VAR;
use ottstats_tests::TestServer;
use serde_json::{Value, json};

use crate::operations;

/// A PostgreSQL cluster in a temporary folder, stopped and removed when dropped.
struct OwnCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl OwnCluster {
    /// `None` when PostgreSQL's server programs are not installed (then the test is
    /// skipped, unless CI requires every service).
    fn start() -> Option<OwnCluster> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .map(|e| e.path().join("bin"))
            .find(|b| b.join("initdb").exists());
        let Some(bin) = bin else {
            assert!(std::env::var_os(REQUIRE_VAR).is_none(), "PostgreSQL's initdb is required");
            return None;
        };
        let dir = std::env::temp_dir().join(format!("ottstats-faults-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = OwnCluster { bin, dir, port };
        if is_root() {
            assert!(Command::new("chown").arg("postgres").arg(&cluster.dir).status().unwrap().success());
        }
        let data = cluster.dir.join("data");
        cluster.run("initdb", &["-D", path(&data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
        cluster.pg_ctl("start");
        Some(cluster)
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, action: &str) {
        let data = self.dir.join("data");
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, path(&self.dir));
        let mut args = vec!["-D", path(&data), "-w", "-o", &options, "-l"];
        let log = self.dir.join("log");
        args.push(path(&log));
        if action == "stop" {
            args.extend(["-m", "immediate"]);
        }
        args.push(action);
        self.run("pg_ctl", &args);
    }

    fn sql(&self, statement: &str) {
        let psql = Command::new("psql").args([&self.url(), "-XAtqc", statement]).status().unwrap();
        assert!(psql.success(), "{statement}");
    }

    /// Runs one of PostgreSQL's programs, as `postgres` when the test runs as root.
    fn run(&self, program: &str, args: &[&str]) {
        let exe = self.bin.join(program);
        let status = if is_root() {
            Command::new("runuser").arg("-u").arg("postgres").arg("--").arg(&exe).args(args).status()
        } else {
            Command::new(&exe).args(args).status()
        };
        assert!(status.is_ok_and(|s| s.success()), "{program} {args:?} failed");
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = Command::new(self.bin.join("pg_ctl")).args(["-D", path(&data), "-m", "immediate", "stop"]).output();
        if is_root() {
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .args(["-D", path(&data), "-m", "immediate", "stop"])
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().unwrap_or_default()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"))
}

const TOTAL: &str = "{ registrations(period: {from: \"2026-01-01\", to: \"2027-01-01\"}) { total } }";

async fn upsert(server: &TestServer, key: &str, id: &str) -> (u16, Value) {
    let users = json!([{"id": id, "name": "N", "registeredAt": "2026-03-01T00:00:00Z"}]);
    server.graphql(Some(key), operations::UPSERT_USERS, json!({"u": users})).await
}

fn code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_stopped_database_fails_requests_fast_and_the_server_recovers_by_itself() {
    let Some(cluster) = OwnCluster::start() else { return };
    let store = Store::open(&cluster.url()).await.unwrap();
    let services = Services::new(store, None, Default::default());
    let issued = services
        .tenants
        .create_tenant("Acme", ottstats_domain::country::Country::parse("CL").unwrap(), chrono_tz::UTC)
        .await
        .unwrap();
    let key = issued.api_key;
    let server = TestServer::start(AppState::new(services, None)).await;
    for id in ["a", "b", "c"] {
        assert_eq!(upsert(&server, &key, id).await.1["data"]["upsertUsers"]["accepted"], 1);
    }

    cluster.pg_ctl("stop");
    // Within the probe's period the server knows; from then on every request is refused
    // at once, always with 503 and UNAVAILABLE.
    let stopped = Instant::now();
    loop {
        let (status, body) = server.graphql(Some(&key), TOTAL, Value::Null).await;
        if status == 503 {
            assert_eq!(code(&body), "UNAVAILABLE", "{body}");
            break;
        }
        assert_eq!(status, 200, "{body}");
        assert!(stopped.elapsed() < Duration::from_secs(2), "still answering 2 s after the database stopped: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..5 {
        let asked = Instant::now();
        let (status, body) = upsert(&server, &key, "d").await;
        assert_eq!((status, code(&body)), (503, "UNAVAILABLE".to_owned()), "{body}");
        assert!(asked.elapsed() < Duration::from_secs(1), "a refusal took {:?}", asked.elapsed());
    }
    let ready = reqwest::get(server.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503);

    cluster.pg_ctl("start");
    let back = Instant::now();
    loop {
        let (status, body) = server.graphql(Some(&key), TOTAL, Value::Null).await;
        if status == 200 && body.get("errors").is_none() {
            // Every acknowledged write is there; the refused one is not.
            assert_eq!(body["data"]["registrations"]["total"], 3, "{body}");
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(15), "not recovered: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Writes refused by the database (a read-only standby, a full disk): UNAVAILABLE,
    // never INTERNAL, and /readyz reports it.
    cluster.sql("ALTER SYSTEM SET default_transaction_read_only = on");
    cluster.sql("SELECT pg_reload_conf()");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body) = upsert(&server, &key, "e").await;
    assert_eq!((status, code(&body)), (503, "UNAVAILABLE".to_owned()), "{body}");
    let reported = Instant::now();
    loop {
        let ready = reqwest::get(server.url("/readyz")).await.unwrap();
        if ready.status() == 503 {
            assert!(ready.text().await.unwrap().contains("refuses writes"));
            break;
        }
        assert!(reported.elapsed() < Duration::from_secs(10), "/readyz never reported refused writes");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    cluster.sql("ALTER SYSTEM RESET default_transaction_read_only");
    cluster.sql("SELECT pg_reload_conf()");
    let healed = Instant::now();
    while reqwest::get(server.url("/readyz")).await.unwrap().status() != 200 {
        assert!(healed.elapsed() < Duration::from_secs(10), "/readyz stayed unready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(upsert(&server, &key, "e").await.1["data"]["upsertUsers"]["accepted"], 1);
}
