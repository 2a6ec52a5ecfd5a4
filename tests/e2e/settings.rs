//! `ottstats serve`'s settings as an operator gives them: a TOML file (`--config` or
//! `OTTSTATS_CONFIG`), the environment over it, a flag over both; a file with an unknown
//! key or a bad value refused before anything opens, by the key's name.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The variables a settings test sets itself: none may come from the caller's environment.
const OWN_VARIABLES: [&str; 6] = [
    "OTTSTATS_CONFIG",
    "OTTSTATS_BIND",
    "OTTSTATS_DATABASE_URL",
    "OTTSTATS_REDIS_URL",
    "OTTSTATS_INDEX_MEMORY",
    "OTTSTATS_TRUSTED_DOCUMENTS",
];

fn serve_command(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ottstats"));
    command.arg("serve").args(args).current_dir(dir).env("RUST_LOG", "info").env("NO_COLOR", "1");
    for name in OWN_VARIABLES {
        command.env_remove(name);
    }
    command.envs(envs.iter().copied());
    command
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve ARGS` with `envs` in `dir` and reads its log up to the line saying how
/// many connections it accepts: the address it serves on and that line.
fn served(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> (String, String) {
    let mut child = serve_command(dir, args, envs)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start ottstats: {e}"));
    let stderr = child.stderr.take().unwrap_or_else(|| unreachable!());
    let _server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut logged = Vec::new();
    let mut addr = None;
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        assert!(Instant::now() < deadline, "the server did not start in time: {logged:#?}");
        if let Some(rest) = line.split("serving GraphQL at http://").nth(1) {
            addr = Some(rest.split('/').next().unwrap_or_default().to_owned());
        }
        if line.contains("accepting connections") {
            let addr = addr.unwrap_or_else(|| panic!("no address logged: {logged:#?}"));
            return (addr, line);
        }
        logged.push(line);
    }
    panic!("the server exited before serving: {logged:#?}")
}

/// The file sets the address, the connection cap and the database; the environment
/// goes over the file, and a flag over both.
#[test]
fn settings_file_then_environment_then_flag() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("ottstats.toml");
    let database = dir.path().join("from-file.db");
    let settings = format!(
        "[database]\nurl = \"sqlite://{}?mode=rwc\"\n\n[http]\nbind = \"127.0.0.2:0\"\n\n[connections]\nmax = 77\n",
        database.display()
    );
    std::fs::write(&file, settings).unwrap_or_else(|e| panic!("{e}"));
    let config = file.to_str().unwrap_or_default();

    let (addr, accepting) = served(dir.path(), &["--config", config], &[]);
    assert!(addr.starts_with("127.0.0.2:"), "the file's address: {addr}");
    assert!(accepting.contains("max_connections=77"), "the file's cap: {accepting}");
    assert!(database.exists(), "the file's database");
    assert!(!dir.path().join("ottstats.db").exists(), "not the default database");

    // Named by the environment too, which also goes over the file's address.
    let (addr, accepting) = served(dir.path(), &[], &[("OTTSTATS_CONFIG", config), ("OTTSTATS_BIND", "127.0.0.3:0")]);
    assert!(addr.starts_with("127.0.0.3:"), "the environment's address: {addr}");
    assert!(accepting.contains("max_connections=77"), "the file's cap still: {accepting}");

    let (addr, _) =
        served(dir.path(), &["--config", config, "--bind", "127.0.0.4:0"], &[("OTTSTATS_BIND", "127.0.0.3:0")]);
    assert!(addr.starts_with("127.0.0.4:"), "the flag's address: {addr}");
}

fn refused(dir: &Path, settings: &str) -> Output {
    let file = dir.join("bad.toml");
    std::fs::write(&file, settings).unwrap_or_else(|e| panic!("{e}"));
    let config = file.to_str().unwrap_or_default();
    serve_command(dir, &["--config", config, "--bind", "127.0.0.1:0"], &[])
        .output()
        .unwrap_or_else(|e| panic!("cannot run ottstats: {e}"))
}

/// An unknown key or a bad value: exit status 1, one line naming the file, the line and
/// the key, nothing on stdout, and no database opened.
#[test]
fn a_bad_settings_file_is_refused_by_its_key() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cases = [
        ("[http]\nbind = \"127.0.0.1:0\"\nrequest_timout = \"5s\"\n", "line 3: `http.request_timout`: unknown field"),
        ("[live]\nmin_interval = \"soon\"\n", "line 2: `live.min_interval`: \"soon\" is not a duration"),
        ("[index]\nrefresh_every = \"0s\"\n", "setting `index.refresh_every`: must be longer than 0"),
    ];
    for (settings, message) in cases {
        let out = refused(dir.path(), settings);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{settings}: {stderr}");
        assert_eq!(stderr.matches(message).count(), 1, "{settings}: {stderr}");
        assert!(stderr.starts_with("error: "), "{settings}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(out.stdout.is_empty(), "{settings}: nothing on stdout");
    }
    assert!(!dir.path().join("ottstats.db").exists(), "refused before the database was opened");
}
