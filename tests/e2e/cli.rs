//! The real `ottstats` binary: tenant creation, schema export, generation and imports,
//! on each backend.

use std::path::Path;
use std::process::{Command, Output};

use ottstats_domain::document::DocumentHash;
use ottstats_domain::repository::{TenantRepository, TrustedDocuments, UserRepository};
use ottstats_store::testing::{TestBackend, TestDatabase};

pub(crate) fn ottstats(db: &TestDatabase, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ottstats"))
        .args(args)
        .env("OTTSTATS_DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap_or_else(|e| panic!("cannot run ottstats: {e}"))
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub(crate) async fn each_backend<F, Fut>(test: F)
where
    F: Fn(TestDatabase) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        if let Some(db) = TestDatabase::of(backend).await {
            test(db).await;
        }
    }
}

pub(crate) fn create_tenant(db: &TestDatabase, name: &str) -> String {
    let out = ottstats(db, &["tenant", "create", "--name", name, "--country", "CL", "--time-zone", "America/Santiago"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    stdout.lines().last().unwrap_or_default().trim().to_owned()
}

#[tokio::test]
async fn tenant_create_prints_a_working_key_last() {
    each_backend(|db| async move {
        let key = create_tenant(&db, "Acme");
        let tenant = db.store.find_by_api_key(&key).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tenant.map(|t| (t.name, t.home_country.code())), Some(("Acme".to_owned(), "CL")));
        // Names are unique; bad arguments are named.
        let again = ottstats(&db, &["tenant", "create", "--name", "Acme", "--country", "CL", "--time-zone", "UTC"]);
        assert!(!again.status.success());
        let bad = ottstats(&db, &["tenant", "create", "--name", "B", "--country", "XX", "--time-zone", "UTC"]);
        assert!(!bad.status.success() && text(&bad.stderr).contains("--country"), "{}", text(&bad.stderr));
        let bad = ottstats(&db, &["tenant", "create", "--name", "B", "--country", "CL", "--time-zone", "Nowhere/City"]);
        assert!(!bad.status.success() && text(&bad.stderr).contains("--time-zone"), "{}", text(&bad.stderr));
    })
    .await;
}

#[tokio::test]
async fn import_reports_bad_lines_and_stores_the_good_ones() {
    each_backend(|db| async move {
        let key = create_tenant(&db, "Acme");
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let csv = dir.path().join("users.csv");
        std::fs::write(
            &csv,
            "id,name,gender,birthDate,country,state,city,registeredAt\n\
             c1,Ana,FEMALE,1990-01-01,CL,Biobío,Concepción,2026-01-05T10:00:00Z\n\
             c2,Bad,MALE,,XX,,,2026-01-05T10:00:00Z\n\
             c3,Eva,,,,,,2026-01-06T10:00:00-03:00\n\
             c4,Late,FEMALE,,CL,,,yesterday\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let out = ottstats(&db, &["import", "users", path(&csv), "--api-key", &key]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("line 3: country:"), "{stderr}");
        assert!(stderr.contains("line 5: registeredAt:"), "{stderr}");
        assert!(text(&out.stdout).contains("2 accepted, 0 duplicates, 2 rejected"), "{}", text(&out.stdout));

        let ndjson = dir.path().join("users.ndjson");
        std::fs::write(
            &ndjson,
            "{\"id\":\"c1\",\"name\":\"Ana\",\"gender\":\"FEMALE\",\"birthDate\":\"1990-01-01\",\"country\":\"CL\",\"state\":\"Biobío\",\"city\":\"Concepción\",\"registeredAt\":\"2026-01-05T10:00:00Z\"}\n\
             \n\
             {not json\n\
             {\"id\":\"n2\",\"name\":\"Ola\",\"registered_at\":\"2026-01-07T10:00:00Z\"}\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let out = ottstats(&db, &["import", "users", path(&ndjson), "--api-key", &key]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("line 3: not a valid object"), "{stderr}");
        assert!(text(&out.stdout).contains("1 accepted, 1 duplicates, 1 rejected"), "{}", text(&out.stdout));

        let tenant = db.store.find_by_api_key(&key).await.ok().flatten().unwrap_or_else(|| panic!("tenant"));
        let ids = ["c1", "c2", "c3", "c4", "n2"].map(String::from);
        let mut found: Vec<String> = db.store.find_users(tenant.id, &ids).await.unwrap_or_default().into_iter().map(|u| u.id).collect();
        found.sort();
        assert_eq!(found, ["c1", "c3", "n2"]);

        let out = ottstats(&db, &["import", "users", path(&csv), "--api-key", "ott_1_wrong"]);
        assert!(!out.status.success() && text(&out.stderr).contains("API key"));
    })
    .await;
}

/// Small batches: the reader runs ahead of the writes, events are stored two batches at
/// a time, yet a later line of a user still wins, every bad line is reported with its
/// number and the counts are those of one big batch.
#[tokio::test]
async fn batches_read_ahead_keep_the_file_order_where_it_matters() {
    each_backend(|db| async move {
        let key = create_tenant(&db, "Acme");
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let users = dir.path().join("users.csv");
        let mut csv = String::from("id,name,gender,birthDate,country,state,city,registeredAt\n");
        for round in 0..3 {
            for i in 0..5 {
                csv.push_str(&format!("u{i},Name {i} v{round},FEMALE,,CL,,,2026-01-0{}T10:00:00Z\n", round + 1));
            }
        }
        // Line 17: bad in the last batch but one.
        csv.push_str("bad,Bad,MALE,,XX,,,2026-01-05T10:00:00Z\n");
        std::fs::write(&users, csv).unwrap_or_else(|e| panic!("{e}"));
        let out = ottstats(&db, &["import", "users", path(&users), "--api-key", &key, "--batch", "2", "--bulk-from", "2"]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("line 17: country:"), "{stderr}");
        assert!(stdout.contains("15 accepted, 0 duplicates, 1 rejected"), "{stdout}");
        let tenant = db.store.find_by_api_key(&key).await.ok().flatten().unwrap_or_else(|| panic!("tenant"));
        let ids: Vec<String> = (0..5).map(|i| format!("u{i}")).collect();
        let mut found: Vec<(String, String)> =
            db.store.find_users(tenant.id, &ids).await.unwrap_or_default().into_iter().map(|u| (u.id, u.name)).collect();
        found.sort();
        let last: Vec<(String, String)> = (0..5).map(|i| (format!("u{i}"), format!("Name {i} v2"))).collect();
        assert_eq!(found, last, "the last line of each user wins");

        let events = dir.path().join("events.ndjson");
        let mut lines = String::new();
        for i in 0..9 {
            // Every third line repeats the one before it.
            let n = if i % 3 == 2 { i - 1 } else { i };
            lines.push_str(&format!(
                "{{\"id\":\"e{n}\",\"sessionId\":\"s{}\",\"userId\":\"u{}\",\"type\":\"PLAY\",\"occurredAt\":\"2026-01-10T10:00:0{n}Z\"}}\n",
                n % 2,
                n % 2
            ));
        }
        lines.push_str("{not json\n");
        std::fs::write(&events, lines).unwrap_or_else(|e| panic!("{e}"));
        let out = ottstats(&db, &["import", "events", path(&events), "--api-key", &key, "--batch", "2", "--bulk-from", "2"]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(stderr.contains("line 10: not a valid object"), "{stderr}");
        assert!(stdout.contains("6 accepted, 3 duplicates, 1 rejected"), "{stdout}");
    })
    .await;
}

#[tokio::test]
async fn generated_users_are_deterministic_and_import_cleanly() {
    each_backend(|db| async move {
        let key = create_tenant(&db, "Acme");
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut files = Vec::new();
        for (name, format) in [("a.csv", "csv"), ("b.csv", "csv"), ("c.ndjson", "ndjson")] {
            let file = dir.path().join(name);
            let args = [
                "generate",
                "users",
                "--count",
                "300",
                "--seed",
                "7",
                "--format",
                format,
                "--from",
                "2025-01-01",
                "--to",
                "2026-01-01",
                "--output",
                path(&file),
            ];
            let out = ottstats(&db, &args);
            assert!(out.status.success(), "{}", text(&out.stderr));
            files.push(file);
        }
        let read = |p: &Path| std::fs::read(p).unwrap_or_default();
        assert_eq!(read(&files[0]), read(&files[1]));
        let out = ottstats(&db, &["import", "users", path(&files[0]), "--api-key", &key]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("300 accepted, 0 duplicates, 0 rejected"), "{}", text(&out.stdout));
        // The same users as NDJSON are all duplicates.
        let out = ottstats(&db, &["import", "users", path(&files[2]), "--api-key", &key]);
        assert!(text(&out.stdout).contains("0 accepted, 300 duplicates, 0 rejected"), "{}", text(&out.stdout));
    })
    .await;
}

#[tokio::test]
async fn migrate_is_idempotent() {
    each_backend(|db| async move {
        for _ in 0..2 {
            let out = ottstats(&db, &["migrate"]);
            assert!(out.status.success(), "{}", text(&out.stderr));
        }
    })
    .await;
}

#[test]
fn export_schema_prints_the_committed_sdl() {
    let out =
        Command::new(env!("CARGO_BIN_EXE_ottstats")).arg("export-schema").output().unwrap_or_else(|e| panic!("{e}"));
    let committed = std::fs::read_to_string(crate::repo_path("schema.graphql")).unwrap_or_default();
    assert_eq!(text(&out.stdout), committed);
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_else(|| panic!("non-UTF-8 path"))
}

/// `generate events` for generated users, then `import contents|events|logins`: every line
/// is accepted once and is a duplicate the second time.
#[tokio::test]
async fn generated_activity_imports_cleanly_and_once() {
    each_backend(|db| async move {
        let key = create_tenant(&db, "Acme");
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out_dir = dir.path().join("activity");
        let args = [
            "generate",
            "events",
            "--output-dir",
            path(&out_dir),
            "--users",
            "4",
            "--users-from",
            "2025-01-01",
            "--users-to",
            "2025-06-01",
            "--from",
            "2025-06-01",
            "--to",
            "2025-06-08",
            "--intensity",
            "2",
        ];
        let out = ottstats(&db, &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let lines = |name: &str| std::fs::read_to_string(out_dir.join(name)).unwrap_or_default().lines().count();
        let (contents, events, logins) = (lines("contents.ndjson"), lines("events.ndjson"), lines("logins.ndjson"));
        assert!(contents == 72 && events > 100 && logins > 0, "{contents} {events} {logins}");
        for (kind, file, count) in [
            ("contents", "contents.ndjson", contents),
            ("events", "events.ndjson", events),
            ("logins", "logins.ndjson", logins),
        ] {
            let file = out_dir.join(file);
            let first = ottstats(&db, &["import", kind, path(&file), "--api-key", &key]);
            assert!(first.status.success(), "{}", text(&first.stderr));
            assert!(
                text(&first.stdout).contains(&format!("{count} accepted, 0 duplicates, 0 rejected")),
                "{}",
                text(&first.stdout)
            );
            let again = ottstats(&db, &["import", kind, path(&file), "--api-key", &key]);
            assert!(
                text(&again.stdout).contains(&format!("0 accepted, {count} duplicates, 0 rejected")),
                "{}",
                text(&again.stdout)
            );
        }
        let csv = dir.path().join("events.csv");
        std::fs::write(&csv, "id\n").unwrap_or_else(|e| panic!("{e}"));
        let out = ottstats(&db, &["import", "events", path(&csv), "--api-key", &key]);
        assert!(!out.status.success() && text(&out.stderr).contains("NDJSON only"), "{}", text(&out.stderr));
    })
    .await;
}

/// A CSV whose header misnames, forgets or adds a column is refused before any row is
/// read, naming each fault: nothing is imported and the exit status is 1.
#[tokio::test]
async fn a_csv_header_that_does_not_fit_imports_nothing() {
    each_backend(|db| async move {
        let key = create_tenant(&db, "Acme");
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let row = "h1,Ana,FEMALE,1990-01-01,CL,Biobío,Concepción,2026-01-05T10:00:00Z";
        for (header, faults) in [
            (
                "id,fullname,gender,birthDate,country,state,city,registeredAt",
                &["unknown column \"fullname\"", "missing: name"][..],
            ),
            ("id,name,gender,birthDate,country,state,city,registeredAt,nickname", &["unknown column \"nickname\""][..]),
            (
                "id,name,gender,birthDate,country,state,registered_at,registeredAt",
                &["column \"registeredAt\" appears twice"][..],
            ),
        ] {
            let csv = dir.path().join("users.csv");
            let extra = if header.ends_with("nickname") { ",Annie" } else { "" };
            std::fs::write(&csv, format!("{header}\n{row}{extra}\n")).unwrap_or_else(|e| panic!("{e}"));
            let out = ottstats(&db, &["import", "users", path(&csv), "--api-key", &key]);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{header}: {stderr}");
            for fault in faults {
                assert!(stderr.contains(fault), "{header}: {stderr}");
            }
            assert!(
                stderr.contains("expected columns: id,name,gender,birthDate,country,state,city,registeredAt"),
                "{stderr}"
            );
            assert!(text(&out.stdout).is_empty(), "{}", text(&out.stdout));
        }
        let tenant = db.store.find_by_api_key(&key).await.ok().flatten().unwrap_or_else(|| panic!("tenant"));
        assert!(db.store.find_users(tenant.id, &["h1".to_owned()]).await.unwrap_or_default().is_empty());

        // Columns in another order, snake_case spellings and optional ones left out fit;
        // a row longer than the header is rejected by its line.
        let csv = dir.path().join("reordered.csv");
        std::fs::write(
            &csv,
            "registered_at, name ,id\n2026-01-05T10:00:00Z,Ana,h1\n2026-01-05T10:00:00Z,Bea,h2,surplus\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let out = ottstats(&db, &["import", "users", path(&csv), "--api-key", &key]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("line 3: has 4 fields, the header 3"), "{stderr}");
        assert!(text(&out.stdout).contains("1 accepted, 0 duplicates, 1 rejected"), "{}", text(&out.stdout));
    })
    .await;
}

/// An NDJSON field the importer does not know is the line's error, naming the field;
/// blank required text (a name of spaces) is rejected by its line in CSV and NDJSON.
#[tokio::test]
async fn unknown_fields_and_blank_names_are_rejected_by_line() {
    each_backend(|db| async move {
        let key = create_tenant(&db, "Acme");
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let ndjson = dir.path().join("users.ndjson");
        std::fs::write(
            &ndjson,
            "{\"id\":\"n1\",\"name\":\"Ana\",\"registeredAt\":\"2026-01-05T10:00:00Z\"}\n\
             {\"id\":\"n2\",\"fullname\":\"Bea\",\"registeredAt\":\"2026-01-05T10:00:00Z\"}\n\
             {\"id\":\"n3\",\"name\":\"   \",\"registeredAt\":\"2026-01-05T10:00:00Z\"}\n\
             {\"id\":\"n4\",\"registeredAt\":\"2026-01-05T10:00:00Z\"}\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let out = ottstats(&db, &["import", "users", path(&ndjson), "--api-key", &key]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("line 2: not a valid object: unknown field `fullname`, expected one of `id`"),
            "{stderr}"
        );
        assert!(stderr.contains("line 3: name: is only white space: it is required"), "{stderr}");
        assert!(stderr.contains("line 4: name: is empty: it is required"), "{stderr}");
        assert!(text(&out.stdout).contains("1 accepted, 0 duplicates, 3 rejected"), "{}", text(&out.stdout));

        let csv = dir.path().join("users.csv");
        std::fs::write(&csv, "id,name,registeredAt\nc1,,2026-01-05T10:00:00Z\nc2,Eva,2026-01-05T10:00:00Z\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let out = ottstats(&db, &["import", "users", path(&csv), "--api-key", &key]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("line 2: name: is empty: it is required"), "{stderr}");

        let contents = dir.path().join("contents.ndjson");
        std::fs::write(
            &contents,
            "{\"id\":\"m1\",\"kind\":\"VOD\",\"title\":\"\\t\"}\n{\"id\":\"m2\",\"kind\":\"VOD\",\"name\":\"x\"}\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let out = ottstats(&db, &["import", "contents", path(&contents), "--api-key", &key]);
        let stderr = text(&out.stderr);
        assert!(stderr.contains("line 1: title: is only white space"), "{stderr}");
        assert!(stderr.contains("line 2: not a valid object: unknown field `name`"), "{stderr}");

        let tenant = db.store.find_by_api_key(&key).await.ok().flatten().unwrap_or_else(|| panic!("tenant"));
        let ids = ["n1", "n2", "n3", "n4", "c1", "c2"].map(String::from);
        let mut found: Vec<String> =
            db.store.find_users(tenant.id, &ids).await.unwrap_or_default().into_iter().map(|u| u.id).collect();
        found.sort();
        assert_eq!(found, ["c2", "n1"]);
    })
    .await;
}

/// An error is said once on stderr, and with no colour codes when stderr is a pipe
/// (`Command::output` pipes it), whether the CLI or clap finds it.
#[test]
fn errors_print_once_and_plainly_into_a_pipe() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("e.db").display());
    // A port in use: `serve` logs its start (INFO lines, which would be coloured on a
    // terminal) and then fails.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let taken = listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|e| panic!("{e}"));
    for (args, message) in [
        (
            &["tenant", "create", "--name", "B", "--country", "XX", "--time-zone", "UTC"][..],
            "is not an ISO 3166-1 alpha-2 country code",
        ),
        (&["serve", "--bind", "nowhere"][..], "invalid value 'nowhere'"),
        (&["serve", "--bind", taken.as_str()][..], "cannot listen on"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ottstats"))
            .args(args)
            .env("OTTSTATS_DATABASE_URL", &url)
            .env_remove("NO_COLOR")
            .env("RUST_LOG", "info")
            .output()
            .unwrap_or_else(|e| panic!("cannot run ottstats: {e}"));
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert_eq!(stderr.matches(message).count(), 1, "{args:?}: {stderr}");
        assert!(!stderr.contains("\x1b["), "{args:?}: colour codes in a pipe: {stderr:?}");
        if args[0] == "serve" && args[2] == taken {
            assert!(stderr.contains(" INFO "), "the logs are there, plain: {stderr}");
        }
    }
}

/// `ottstats documents add`: trusted documents from `.graphql` files and Apollo persisted
/// query manifests, all or nothing.
#[tokio::test]
async fn documents_add_registers_files_and_manifests_all_or_nothing() {
    each_backend(|db| async move {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = |name: &str, body: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, body).unwrap_or_else(|e| panic!("{e}"));
            path.display().to_string()
        };
        let query = "query Total { registrations(period: {from: \"2026-01-01\", to: \"2026-02-01\"}) { total } }\n";
        let other = "query Me { __typename }";
        let graphql = file("total.graphql", query);
        let manifest = file(
            "manifest.json",
            &serde_json::json!({"format": "apollo-persisted-query-manifest", "version": 1,
                "operations": [{"id": ottstats_server::hash_of(other).to_string(), "name": "Me", "type": "query", "body": other}]})
            .to_string(),
        );
        let broken = file("broken.graphql", "query { ");
        let lying = file(
            "lying.json",
            &serde_json::json!({"format": "apollo-persisted-query-manifest", "version": 1,
                "operations": [{"id": ottstats_server::hash_of(query).to_string(), "body": other}]})
            .to_string(),
        );
        // A file that cannot be read fails the whole command before anything is stored.
        for bad in [&broken, &lying] {
            let out = ottstats(&db, &["documents", "add", &graphql, bad]);
            assert!(!out.status.success(), "{bad}");
            let err = text(&out.stderr);
            assert!(err.contains(bad.as_str()), "the error names the file: {err}");
        }
        assert_eq!(db.store.document(ottstats_server::hash_of(query)).await.unwrap_or_else(|e| panic!("{e}")), None);

        let out = ottstats(&db, &["documents", "add", &graphql, &manifest]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let printed = text(&out.stdout);
        assert!(
            printed.contains(&ottstats_server::hash_of(query).to_string()) && printed.contains(&ottstats_server::hash_of(other).to_string()),
            "{printed}"
        );
        let stored = |hash: DocumentHash| {
            let store = &db.store;
            async move { store.document(hash).await.unwrap_or_else(|e| panic!("{e}")) }
        };
        assert_eq!(stored(ottstats_server::hash_of(query)).await.as_deref(), Some(query));
        assert_eq!(stored(ottstats_server::hash_of(other)).await.as_deref(), Some(other));
        let again = ottstats(&db, &["documents", "add", &graphql]);
        assert!(text(&again.stdout).contains("(registered already)"), "{}", text(&again.stdout));
    })
    .await;
}
