//! `ottstats users erase`: ids from arguments and a file, the report, idempotence, bad
//! ids named by their place, and a log that names nobody.

use chrono::Utc;
use ottstats_domain::activity_input::PlayerEventDraft;
use ottstats_domain::activity_repository::{ActivityReads, EventQuery};
use ottstats_domain::ingest;
use ottstats_domain::period::Period;
use ottstats_domain::repository::{TenantRepository, UserRepository};
use ottstats_domain::user::UserDraft;
use ottstats_store::testing::TestDatabase;

use crate::cli::{create_tenant, each_backend, ottstats, text};

const PEOPLE: [&str; 3] = ["person-anna", "person-bruno", "person-carla"];

fn erase(db: &TestDatabase, args: &[&str]) -> std::process::Output {
    let mut all = vec!["users", "erase", "--tenant", "Acme"];
    all.extend_from_slice(args);
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ottstats"));
    command.args(&all).env("OTTSTATS_DATABASE_URL", &db.url).env("RUST_LOG", "info");
    command.output().unwrap_or_else(|e| panic!("cannot run ottstats: {e}"))
}

async fn seed(db: &TestDatabase) -> ottstats_domain::tenant::TenantId {
    let key = create_tenant(db, "Acme");
    let tenant =
        db.store.find_by_api_key(&key).await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|| panic!("no tenant"));
    let users: Vec<UserDraft> = PEOPLE
        .iter()
        .map(|id| UserDraft {
            id: (*id).into(),
            name: format!("Secret name of {id}"),
            registered_at: "2026-03-01T10:00:00Z".into(),
            ..Default::default()
        })
        .collect();
    ingest::upsert_users(&db.store, tenant.id, &users, Utc::now()).await.unwrap_or_else(|e| panic!("{e}"));
    let event = PlayerEventDraft {
        id: "e1".into(),
        session_id: "s1".into(),
        user_id: PEOPLE[0].into(),
        event_type: "PLAY".into(),
        occurred_at: "2026-03-02T10:00:00Z".into(),
        ..Default::default()
    };
    ingest::record_events(&db.store, tenant.id, &[event], Utc::now()).await.unwrap_or_else(|e| panic!("{e}"));
    tenant.id
}

#[tokio::test]
async fn users_erase_takes_ids_and_a_file_and_reports_each() {
    each_backend(|db| async move {
        let tenant = seed(&db).await;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("ids.txt");
        std::fs::write(&file, format!("{}\n\n  {}  \nnobody\n", PEOPLE[1], PEOPLE[2]))
            .unwrap_or_else(|e| panic!("{e}"));
        let file = file.to_string_lossy().into_owned();

        let out = erase(&db, &[PEOPLE[0], "--file", &file]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{stderr}");
        assert_eq!(stdout, "erased 3 users of tenant Acme; 1 not found\nnot found: nobody\n");
        // The log records each erasure, and nothing of the person.
        assert_eq!(stderr.matches("erased a user").count(), 4, "{stderr}");
        for id in PEOPLE {
            assert!(!stderr.contains(id), "{stderr}");
        }
        assert!(!stderr.contains("Secret"), "{stderr}");

        let ids: Vec<String> = PEOPLE.iter().map(|s| (*s).to_owned()).collect();
        assert!(db.store.find_users(tenant, &ids).await.unwrap_or_else(|e| panic!("{e}")).is_empty());
        let period = Period::parse("2026-01-01", "2027-01-01", None, chrono_tz::UTC).unwrap_or_else(|e| panic!("{e}"));
        let q = EventQuery { tenant, user_id: PEOPLE[0], period: &period, types: None };
        assert_eq!(db.store.count_events(&q).await.unwrap_or_else(|e| panic!("{e}")), 0);

        // A repeat past the first 1,000 ids (a call's worth) still counts once.
        let many: Vec<String> = std::iter::once(PEOPLE[1].to_owned())
            .chain((0..1000).map(|i| format!("absent-{i}")))
            .chain(std::iter::once(PEOPLE[1].to_owned()))
            .collect();
        let list = dir.path().join("many.txt");
        std::fs::write(&list, many.join("\n")).unwrap_or_else(|e| panic!("{e}"));
        let out = erase(&db, &["--file", &list.to_string_lossy()]);
        let stdout = text(&out.stdout);
        assert!(stdout.starts_with("erased 0 users of tenant Acme; 1001 not found\n"), "{}", text(&out.stderr));
        assert_eq!(stdout.matches(PEOPLE[1]).count(), 1);

        let again = erase(&db, &[PEOPLE[0]]);
        assert!(again.status.success());
        assert_eq!(
            text(&again.stdout),
            format!("erased 0 users of tenant Acme; 1 not found\nnot found: {}\n", PEOPLE[0])
        );
    })
    .await;
}

#[tokio::test]
async fn users_erase_refuses_bad_ids_and_an_empty_list() {
    each_backend(|db| async move {
        seed(&db).await;
        let out = erase(&db, &[]);
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains("give the ids"), "{}", text(&out.stderr));
        let long = "x".repeat(200);
        let out = erase(&db, &[PEOPLE[1], &long]);
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains("id 2:"), "{}", text(&out.stderr));
        // Nothing was erased: the ids are all checked before the first erasure.
        let out = erase(&db, &[PEOPLE[1]]);
        assert_eq!(text(&out.stdout), "erased 1 users of tenant Acme; 0 not found\n");
        let out = ottstats(&db, &["users", "erase", "--tenant", "Nobody Inc", "x"]);
        assert!(!out.status.success() && text(&out.stderr).contains("no tenant"), "{}", text(&out.stderr));
    })
    .await;
}
