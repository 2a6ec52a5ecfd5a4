//! `ottstats serve --demo` as a newcomer runs it: the real binary on an embedded SQLite
//! file, the demo key working, and a clean exit on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

/// Reads stderr until the server logs its address.
fn start(dir: &std::path::Path) -> (Server, String, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ottstats"))
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .current_dir(dir)
        .env_remove("OTTSTATS_DATABASE_URL")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start ottstats: {e}"));
    let stderr = child.stderr.take().unwrap_or_else(|| unreachable!());
    let stdout = child.stdout.take().unwrap_or_else(|| unreachable!());
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        assert!(Instant::now() < deadline, "the server did not start in time");
        let line = match lines.next() {
            Some(Ok(l)) => l,
            _ => panic!("the server exited before serving"),
        };
        if let Some(rest) = line.split("serving GraphQL at http://").nth(1) {
            break rest.split('/').next().unwrap_or_default().to_owned();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (server, addr, BufReader::new(stdout))
}

#[tokio::test]
async fn demo_server_answers_with_its_key_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (mut server, addr, stdout) = start(dir.path());
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
    let page = client.get(format!("http://{addr}/graphql")).send().await.unwrap_or_else(|e| panic!("{e}"));
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
