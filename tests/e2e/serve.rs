//! `ottstats serve --demo` as a newcomer runs it: the real binary on an embedded SQLite
//! file, the demo key working, and a clean exit on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::operations;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

/// Reads stderr until the server logs its address.
fn start(dir: &std::path::Path) -> (Server, String, BufReader<std::process::ChildStdout>) {
    let (server, addr, stdout, _) = start_with(dir, &["--demo"], &[]);
    (server, addr, stdout)
}

/// `serve ARGS` in `dir` with `envs`, on the embedded SQLite file there: the server, its
/// address, its stdout, and the lines it logged before serving.
fn start_with(
    dir: &std::path::Path,
    args: &[&str],
    envs: &[(&str, &str)],
) -> (Server, String, BufReader<std::process::ChildStdout>, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ottstats"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(args)
        .current_dir(dir)
        .env_remove("OTTSTATS_DATABASE_URL")
        .env_remove("OTTSTATS_REDIS_URL")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start ottstats: {e}"));
    let stderr = child.stderr.take().unwrap_or_else(|| unreachable!());
    let stdout = child.stdout.take().unwrap_or_else(|| unreachable!());
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut lines = BufReader::new(stderr).lines();
    let mut logged = Vec::new();
    let addr = loop {
        assert!(Instant::now() < deadline, "the server did not start in time");
        let line = match lines.next() {
            Some(Ok(l)) => l,
            _ => panic!("the server exited before serving: {logged:#?}"),
        };
        logged.push(line.clone());
        if let Some(rest) = line.split("serving GraphQL at http://").nth(1) {
            break rest.split('/').next().unwrap_or_default().to_owned();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (server, addr, BufReader::new(stdout), logged)
}

/// Waits until `/healthz` answers: the server then listens for SIGTERM too.
async fn healthy(addr: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !reqwest::get(format!("http://{addr}/healthz")).await.is_ok_and(|r| r.status().is_success()) {
        assert!(Instant::now() < deadline, "/healthz never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends SIGTERM and waits for a clean exit.
fn stop(mut server: Server) {
    let pid = server.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap_or_else(|e| panic!("{e}"));
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Ok(Some(status)) = server.0.try_wait() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
}

/// What the demo prints on stdout up to its key (the last line it prints at start).
fn demo_lines(stdout: BufReader<std::process::ChildStdout>) -> Vec<String> {
    let mut printed = Vec::new();
    for line in stdout.lines().map_while(Result::ok) {
        let done = line.starts_with("ott_");
        printed.push(line);
        if done {
            break;
        }
    }
    printed
}

async fn graphql(addr: &str, key: &str, body: serde_json::Value) -> serde_json::Value {
    let response =
        reqwest::Client::new().post(format!("http://{addr}/graphql")).bearer_auth(key).json(&body).send().await;
    match response {
        Ok(r) => r.json().await.unwrap_or_default(),
        Err(e) => panic!("{e}"),
    }
}

/// The README's `query UserActivity` code block, as written.
fn readme_user_activity() -> String {
    let readme = std::fs::read_to_string(crate::repo_path("README.md")).unwrap_or_default();
    let start = readme.find("query UserActivity").unwrap_or_else(|| panic!("no UserActivity example in the README"));
    let block = &readme[start..];
    block[..block.find("```").unwrap_or(block.len())].to_owned()
}

#[tokio::test]
async fn demo_server_answers_with_its_key_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (server, addr, stdout) = start(dir.path());
    let mut printed = Vec::new();
    for line in stdout.lines().map_while(Result::ok) {
        let done = line.starts_with("ott_");
        printed.push(line);
        if done {
            break;
        }
    }
    let key = printed.last().cloned().unwrap_or_default();
    assert!(key.starts_with("ott_"), "{printed:?}");
    let featured = printed
        .iter()
        .find_map(|l| l.strip_prefix("a demo user with playback activity: "))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no featured user: {printed:?}"));
    assert!(dir.path().join("ottstats.db").exists());

    let client = reqwest::Client::new();
    // GraphiQL is for browsers: requests that accept HTML.
    let page = client.get(format!("http://{addr}/graphql")).header("accept", "text/html").send().await;
    let page = page.unwrap_or_else(|e| panic!("{e}"));
    let page = page.text().await.unwrap_or_default();
    assert!(page.contains(&format!("\"{key}\"")), "the demo key is not filled in");

    let body = serde_json::json!({"query": "{ registrations(period: {from: \"2000-01-01\", to: \"2019-12-31\"}) { total } all: registrations(period: {from: \"2010-01-01\", to: \"2030-01-01\"}) { total } }"});
    let response = client.post(format!("http://{addr}/graphql")).bearer_auth(&key).json(&body).send().await;
    let json: serde_json::Value = match response {
        Ok(r) => r.json().await.unwrap_or_default(),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(json["data"]["registrations"]["total"], 0, "{json}");
    assert_eq!(json["data"]["all"]["total"], 30_000, "{json}");

    let today = chrono::Utc::now().date_naive();
    let query = format!(
        "{{ user(id: \"{featured}\") {{ activity(period: {{from: \"{}\", to: \"{}\"}}) {{ overview {{ streams }} events {{ totalCount }} }} }} }}",
        today - chrono::Duration::days(31),
        today + chrono::Duration::days(1)
    );
    let body = serde_json::json!({ "query": query });
    let response = client.post(format!("http://{addr}/graphql")).bearer_auth(&key).json(&body).send().await;
    let json: serde_json::Value = match response {
        Ok(r) => r.json().await.unwrap_or_default(),
        Err(e) => panic!("{e}"),
    };
    let activity = &json["data"]["user"]["activity"];
    assert!(activity["events"]["totalCount"].as_i64().unwrap_or(0) > 0, "{json}");
    assert!(activity["overview"]["streams"].as_i64().unwrap_or(0) > 0, "{json}");

    stop(server);
}

/// The demo's key, featured user and period are printed, pre-filled in GraphiQL and the
/// same after a restart of the same database, where the first key still works; the
/// README's UserActivity example, as written, with the variables the demo prints, shows
/// the featured user's playback.
#[tokio::test]
async fn the_demo_key_user_and_period_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (server, addr, stdout) = start(dir.path());
    let first = demo_lines(stdout);
    healthy(&addr).await;
    stop(server);
    let (server, addr_again, stdout) = start(dir.path());
    let again = demo_lines(stdout);
    let line = |printed: &[String], prefix: &str| {
        printed
            .iter()
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no {prefix:?}: {printed:?}"))
    };
    let key = first.last().cloned().unwrap_or_default();
    assert!(key.starts_with("ott_"), "{first:?}");
    assert_eq!(again.last(), Some(&key), "a restart printed another key");
    assert_eq!(line(&first, "a demo user with playback activity: "), "u0000002");
    assert_eq!(line(&again, "a demo user with playback activity: "), "u0000002");
    let variables = line(&first, "variables of the README's UserActivity example: ");
    assert_eq!(line(&again, "variables of the README's UserActivity example: "), variables);
    let variables: serde_json::Value = serde_json::from_str(&variables).unwrap_or_else(|e| panic!("{e}"));
    // The demo was made today (UTC): its period is the local dates (Santiago) from the
    // evening before the UTC midnight 30 days ago to the day after today.
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (variables["from"].as_str().unwrap_or(""), variables["to"].as_str().unwrap_or(""));
    assert_eq!(from, (today - chrono::Duration::days(31)).to_string(), "{variables}");
    assert!([today, today + chrono::Duration::days(1)].iter().any(|d| d.to_string() == to), "{variables}");
    assert_eq!(
        line(&first, "the demo's period (its 30 days of playback, local dates): "),
        format!("from {from} to {to}")
    );
    let page = reqwest::Client::new()
        .get(format!("http://{addr_again}/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let page = page.text().await.unwrap_or_default();
    for filled in [&key, "u0000002", from, to] {
        assert!(page.contains(&format!("\"{filled}\"")), "{filled} is not filled in GraphiQL");
    }

    let body = serde_json::json!({"query": readme_user_activity(), "variables": variables});
    let json = graphql(&addr_again, &key, body).await;
    assert!(json.get("errors").is_none(), "{json}");
    let user = &json["data"]["user"];
    assert!(user["activity"]["overview"]["streams"].as_i64().unwrap_or(0) > 0, "{json}");
    assert!(user["activity"]["events"]["totalCount"].as_i64().unwrap_or(0) > 0, "{json}");
    stop(server);
    drop(addr);
}

/// A Redis that cannot be reached at start-up is a warning, and the server still
/// starts and answers from the database.
#[tokio::test]
async fn an_unreachable_redis_is_a_warning_at_start_up() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_ottstats"))
        .args(["tenant", "create", "--name", "Acme", "--country", "CL", "--time-zone", "America/Santiago"])
        .current_dir(dir.path())
        .env_remove("OTTSTATS_DATABASE_URL")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let key = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_owned();
    // Nothing listens on port 1; the password must not reach the log.
    let (server, addr, _stdout, logged) =
        start_with(dir.path(), &[], &[("OTTSTATS_REDIS_URL", "redis://:hunter2@127.0.0.1:1")]);
    let warning = logged.iter().find(|l| l.contains("WARN") && l.contains("Redis cannot be reached"));
    let warning = warning.unwrap_or_else(|| panic!("no warning: {logged:#?}"));
    assert!(warning.contains("redis=redis://***@127.0.0.1:1") && !warning.contains("hunter2"), "{warning}");
    assert!(warning.contains("reason="), "{warning}");
    let body = serde_json::json!({ "query": operations::JANUARY_TOTAL });
    let json = graphql(&addr, &key, body).await;
    assert_eq!(json["data"]["registrations"]["total"], 0, "{json}");
    healthy(&addr).await;
    stop(server);
}

/// A Redis of the test's own serving TLS only, with a certificate of a CA made here.
struct TlsRedis {
    child: Child,
    port: u16,
    ca: std::path::PathBuf,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `None` (the test is skipped) without `redis-server` or `openssl`, unless services
/// are required.
fn tls_redis(dir: &std::path::Path) -> Option<TlsRedis> {
    let have = |tool: &str| Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    let have =
        have("redis-server") && Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success());
    if !have {
        assert!(std::env::var_os("OTTSTATS_TEST_REQUIRE_SERVICES").is_none(), "redis-server or openssl is missing");
        eprintln!("skipped: no redis-server or openssl");
        return None;
    }
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().unwrap_or_else(|e| panic!("{e}"));
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=ottstats test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "redis.key",
        "-out",
        "redis.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(dir.join("san.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        .unwrap_or_else(|e| panic!("{e}"));
    openssl(&[
        "x509",
        "-req",
        "-in",
        "redis.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "redis.pem",
        "-days",
        "2",
        "-extfile",
        "san.cnf",
    ]);
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port());
    let port = port.unwrap_or_else(|e| panic!("{e}"));
    let child = Command::new("redis-server")
        .args(["--port", "0", "--tls-port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--tls-cert-file", "redis.pem", "--tls-key-file", "redis.key", "--tls-ca-cert-file", "ca.pem"])
        .args(["--tls-auth-clients", "no", "--save", "", "--appendonly", "no"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start redis-server: {e}"));
    let redis = TlsRedis { child, port, ca: dir.join("ca.pem") };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(redis)
}

/// `rediss://` works: verified against `SSL_CERT_FILE`'s CA the server uses Redis (its
/// cache entries land there); without that CA the handshake fails certificate
/// verification and start-up warns; `#insecure` skips verification.
#[tokio::test]
async fn rediss_urls_speak_tls_and_verify_the_certificate() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let Some(redis) = tls_redis(dir.path()) else { return };
    let out = Command::new(env!("CARGO_BIN_EXE_ottstats"))
        .args(["tenant", "create", "--name", "Acme", "--country", "CL", "--time-zone", "America/Santiago"])
        .current_dir(dir.path())
        .env_remove("OTTSTATS_DATABASE_URL")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let key = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_owned();
    let port = redis.port;
    let ca = redis.ca.to_str().unwrap_or_default().to_owned();
    let verified = format!("rediss://localhost:{port}");
    let (server, addr, _stdout, logged) =
        start_with(dir.path(), &[], &[("OTTSTATS_REDIS_URL", &verified), ("SSL_CERT_FILE", &ca)]);
    assert!(logged.iter().any(|l| l.contains("shared through Redis")), "{logged:#?}");
    assert!(!logged.iter().any(|l| l.contains("WARN")), "{logged:#?}");
    let body = serde_json::json!({"query": "{ registrations(period: {from: \"2026-01-01\", to: \"2026-02-01\"}) { total byGender { count } } }"});
    for _ in 0..2 {
        let json = graphql(&addr, &key, body.clone()).await;
        assert_eq!(json["data"]["registrations"]["total"], 0, "{json}");
    }
    stop(server);
    // The test's own client skips verification; what it reads was written over TLS.
    let client = redis::Client::open(format!("rediss://127.0.0.1:{port}/#insecure")).unwrap_or_else(|e| panic!("{e}"));
    let mut conn = client.get_multiplexed_async_connection().await.unwrap_or_else(|e| panic!("{e}"));
    let entries: i64 = redis::cmd("DBSIZE").query_async(&mut conn).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(entries > 0, "the server wrote nothing to Redis");

    // The system's roots do not hold the test's CA.
    let (server, addr, _stdout, logged) = start_with(dir.path(), &[], &[("OTTSTATS_REDIS_URL", &verified)]);
    let warning = logged.iter().find(|l| l.contains("WARN") && l.contains("Redis cannot be reached"));
    let warning = warning.unwrap_or_else(|| panic!("no warning: {logged:#?}"));
    assert!(warning.contains("certificate"), "{warning}");
    healthy(&addr).await;
    stop(server);

    let insecure = format!("rediss://127.0.0.1:{port}/#insecure");
    let (server, addr, _stdout, logged) = start_with(dir.path(), &[], &[("OTTSTATS_REDIS_URL", &insecure)]);
    assert!(logged.iter().any(|l| l.contains("shared through Redis")), "{logged:#?}");
    healthy(&addr).await;
    stop(server);
}
