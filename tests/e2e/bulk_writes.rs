//! The bulk write path (PostgreSQL's `COPY` into staging, then set-based statements) and
//! the row path (multi-row statements) store exactly the same rows from the same random
//! workload: users written again and again (last one wins), events resent, repeated
//! inside a batch, out of order and late, two users sharing a session id. One store
//! takes the bulk path for every batch, the other never; each writes its own tenant of
//! one database, in other batch sizes and another order, and the tables must agree row
//! for row. On SQLite both stores take the row path: the test then checks that batching
//! and order change nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use ottstats_domain::country::Country;
use ottstats_domain::gender::Gender;
use ottstats_domain::playback::{ContentKind, EventType, PlayerEvent};
use ottstats_domain::tenant::TenantId;
use ottstats_domain::user::RegisteredUser;
use ottstats_store::change_payload;
use ottstats_store::entities::{playback_session, player_event, registered_user};
use ottstats_store::{DatabaseSettings, Store};
use ottstats_tests::{Env, on_each_backend};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng as StdRng;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Statement};

async fn store(env: &Env, bulk_from: usize) -> Store {
    let settings = DatabaseSettings { url: env.db.url.clone(), bulk_from, ..DatabaseSettings::default() };
    Store::open_with(&settings).await.unwrap()
}

fn at(base: DateTime<Utc>, ms: i64) -> DateTime<Utc> {
    base + Duration::milliseconds(ms)
}

/// Users, each written one to four times: new facts, a new name only, or the same again.
fn users(rng: &mut StdRng) -> Vec<RegisteredUser> {
    let base = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let countries = ["CL", "AR", "US"].map(|c| Country::parse(c).unwrap());
    let mut queues: Vec<std::collections::VecDeque<RegisteredUser>> = Vec::new();
    for n in 0..400 {
        let mut u = RegisteredUser {
            id: format!("u{n:04}"),
            name: format!("User {n}\twith a tab,\na newline and\r\na CR"),
            gender: Gender::ALL[rng.random_range(0..Gender::ALL.len())],
            // Years before 1 too (chrono's 0 and -1), which COPY must write as BC.
            birth_date: rng.random_bool(0.7).then(|| {
                let (y, m, d) = [(1990, 2, 28), (2000, 2, 29), (0, 1, 1), (-1, 6, 1)][rng.random_range(0..4)];
                NaiveDate::from_ymd_opt(y, m, d).unwrap()
            }),
            age: None,
            country: rng.random_bool(0.9).then(|| countries[rng.random_range(0..3)]),
            state: rng.random_bool(0.5).then(|| "Región \\ Metropolitana".to_owned()),
            city: None,
            registered_at: at(base, rng.random_range(0..30 * 86_400_000)),
        };
        u.age = u.birth_date.map(|_| 36);
        let mut writes = vec![u.clone()];
        for _ in 0..rng.random_range(0..4) {
            match rng.random_range(0..6) {
                0 => u.gender = Gender::ALL[rng.random_range(0..Gender::ALL.len())],
                1 => u.name.push('!'),
                2 => u.state = if u.state.is_some() { None } else { Some("Valparaíso".to_owned()) },
                3 => u.registered_at = at(u.registered_at, rng.random_range(-86_400_000..86_400_000)),
                4 => (u.birth_date, u.age, u.country) = (None, None, Some(countries[rng.random_range(0..3)])),
                _ => {}
            }
            writes.push(u.clone());
        }
        queues.push(writes.into());
    }
    // Users interleave; the writes of one user keep their order.
    let mut merged = Vec::new();
    while !queues.is_empty() {
        let i = rng.random_range(0..queues.len());
        merged.extend(queues[i].pop_front());
        if queues[i].is_empty() {
            queues.swap_remove(i);
        }
    }
    merged
}

/// Events of 30 users' sessions; "s-shared" is used by two users.
fn events(rng: &mut StdRng) -> Vec<PlayerEvent> {
    let base = Utc.with_ymd_and_hms(2026, 3, 29, 22, 0, 0).unwrap();
    let mut out = Vec::new();
    for s in 0..160 {
        let user = format!("u{:04}", s % 30);
        let session = if s % 40 == 7 { "s-shared".to_owned() } else { format!("s{s}") };
        let start = rng.random_range(0..6 * 3_600_000);
        let kind = [ContentKind::Live, ContentKind::Vod][rng.random_range(0..2)];
        for e in 0..rng.random_range(1..40) {
            let event_type = EventType::ALL[rng.random_range(0..EventType::ALL.len())];
            out.push(PlayerEvent {
                id: format!("e{s}-{e}"),
                session_id: session.clone(),
                user_id: user.clone(),
                event_type,
                occurred_at: at(base, start + e * rng.random_range(1_000..20_000)),
                position: rng.random_bool(0.8).then(|| f64::from(rng.random_range(0..7200)) / 10.0),
                content_kind: rng.random_bool(0.9).then_some(kind),
                content_id: Some(format!("c{}", s % 9)),
                device: rng.random_bool(0.8).then(|| ["web", "tv", "phone"][rng.random_range(0..3)].to_owned()),
                referrer: rng.random_bool(0.5).then(|| "https://example.com/?a=1\\b".to_owned()),
                bandwidth_kbps: rng.random_bool(0.6).then(|| rng.random_range(100.0..9000.0)),
                played_seconds: (event_type == EventType::Playing && rng.random_bool(0.5))
                    .then(|| rng.random_range(-5.0..400.0)),
            });
        }
    }
    // Resent events: the same id with the same content.
    let resent: Vec<PlayerEvent> = out.iter().filter(|_| rng.random_bool(0.15)).cloned().collect();
    out.extend(resent);
    out
}

/// Writes `items` in batches of random sizes within `sizes`.
fn batches<T: Clone>(rng: &mut StdRng, items: &[T], sizes: std::ops::RangeInclusive<usize>) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut rest = items;
    while !rest.is_empty() {
        let n = rng.random_range(sizes.clone()).min(rest.len());
        out.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    out
}

async fn write_all(
    store: &Store,
    tenant: TenantId,
    rng: &mut StdRng,
    users: &[RegisteredUser],
    events: &[PlayerEvent],
    sizes: std::ops::RangeInclusive<usize>,
) -> (usize, usize, usize, usize) {
    use ottstats_domain::activity_repository::ActivityWrites;
    use ottstats_domain::repository::UserRepository;
    let (mut written, mut unchanged, mut stored, mut duplicates) = (0, 0, 0, 0);
    for batch in batches(rng, users, sizes.clone()) {
        let o = store.upsert_users(tenant, &batch).await.unwrap();
        (written, unchanged) = (written + o.written, unchanged + o.unchanged);
    }
    let mut events = events.to_vec();
    events.shuffle(rng);
    for batch in batches(rng, &events, sizes) {
        // Some batches repeat an event of their own.
        // Some batches repeat an event of their own: one duplicate more, not counted here.
        let mut batch = batch;
        let repeated = rng.random_bool(0.3);
        if repeated {
            batch.push(batch[0].clone());
        }
        let o = store.record_events(tenant, &batch).await.unwrap();
        (stored, duplicates) = (stored + o.written, duplicates + o.duplicates - usize::from(repeated));
    }
    (written, unchanged, stored, duplicates)
}

/// The tenant's rows of the three tables, without what names the tenant or the time of
/// writing.
async fn rows(
    store: &Store,
    tenant: TenantId,
) -> (Vec<registered_user::Model>, Vec<player_event::Model>, Vec<playback_session::Model>) {
    let db = store.connection();
    let users = registered_user::Entity::find()
        .filter(registered_user::Column::TenantId.eq(tenant.0))
        .order_by_asc(registered_user::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|u| registered_user::Model { tenant_id: 0, updated_at: 0, ..u })
        .collect();
    let events = player_event::Entity::find()
        .filter(player_event::Column::TenantId.eq(tenant.0))
        .order_by_asc(player_event::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| player_event::Model { tenant_id: 0, ..e })
        .collect();
    let sessions = playback_session::Entity::find()
        .filter(playback_session::Column::TenantId.eq(tenant.0))
        .order_by_asc(playback_session::Column::UserId)
        .order_by_asc(playback_session::Column::SessionId)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| playback_session::Model { tenant_id: 0, ..s })
        .collect();
    (users, events, sessions)
}

/// What the registrations log says is counted: each fact's additions minus removals.
async fn logged(store: &Store, tenant: TenantId) -> BTreeMap<String, i64> {
    let db = store.connection();
    let sql = "SELECT records, payload FROM registration_changes WHERE tenant_id = $1";
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, [tenant.0.into()]))
        .await
        .unwrap();
    let mut net = BTreeMap::new();
    for r in rows {
        let records = change_payload::decode(&r.try_get::<Vec<u8>>("", "payload").unwrap()).unwrap();
        assert_eq!(records.len(), usize::try_from(r.try_get::<i32>("", "records").unwrap()).unwrap());
        for (added, f) in records {
            let key = format!(
                "{}|{}|{:?}|{:?}|{:?}|{:?}",
                f.registered_at_ms,
                f.gender.as_str(),
                f.age,
                f.country.map(|c| c.code()),
                f.state,
                f.city
            );
            *net.entry(key).or_insert(0) += if added { 1 } else { -1 };
        }
    }
    net.retain(|_, n| *n != 0);
    net
}

async fn bulk_and_row_paths_store_the_same_rows(env: Env) {
    let seed: u64 = rand::random();
    let mut rng = StdRng::seed_from_u64(seed);
    let (users, events) = (users(&mut rng), events(&mut rng));
    let (bulk_tenant, _) = env.tenant("Bulk", "CL", chrono_tz::America::Santiago).await;
    let (row_tenant, _) = env.tenant("Rows", "CL", chrono_tz::America::Santiago).await;
    let (bulk, row) = (store(&env, 1).await, store(&env, usize::MAX).await);
    let bulk_counts = write_all(&bulk, bulk_tenant.id, &mut rng, &users, &events, 150..=700).await;
    let row_counts = write_all(&row, row_tenant.id, &mut rng, &users, &events, 1..=40).await;
    assert_eq!(bulk_counts, row_counts, "seed {seed}: (written, unchanged, stored, duplicates)");
    let (bulk_rows, row_rows) = (rows(&bulk, bulk_tenant.id).await, rows(&row, row_tenant.id).await);
    assert_eq!(bulk_rows.0.len(), 400, "seed {seed}");
    assert!(bulk_rows.1.len() > 1_000 && !bulk_rows.2.is_empty(), "seed {seed}");
    assert_eq!(bulk_rows.0, row_rows.0, "seed {seed}: users");
    assert_eq!(bulk_rows.1, row_rows.1, "seed {seed}: events");
    assert_eq!(bulk_rows.2, row_rows.2, "seed {seed}: sessions");
    // The log of each counts exactly the stored users.
    let (bulk_log, row_log) = (logged(&bulk, bulk_tenant.id).await, logged(&row, row_tenant.id).await);
    assert_eq!(bulk_log, row_log, "seed {seed}: registrations log");
    assert_eq!(bulk_log.values().sum::<i64>(), 400, "seed {seed}");
}

/// A version of more than 10,000 change records is stored in several rows and read back
/// whole and in order, by either path; a limit below what follows makes the reader say
/// "reload", and so does a row missing from the middle of a version.
async fn a_large_version_spans_rows_and_reads_back_whole(env: Env) {
    use ottstats_domain::registration_log::{ChangesSince, RegistrationFacts, RegistrationLog};
    use ottstats_domain::repository::UserRepository;
    let base = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let users: Vec<RegisteredUser> = (0..6_000)
        .map(|n| RegisteredUser {
            id: format!("u{n:05}"),
            name: format!("User {n}"),
            gender: Gender::ALL[n % 4],
            birth_date: None,
            age: (n % 3 > 0).then_some((n % 90) as u8),
            country: (n % 5 > 0).then(|| Country::parse(["CL", "AR", "NP"][n % 3]).unwrap()),
            state: (n % 2 == 0).then(|| "Región Metropolitana".to_owned()),
            city: (n % 7 > 0).then(|| format!("Ñuñoa {}", n % 11)),
            registered_at: at(base, n as i64 * 60_000),
        })
        .collect();
    let moved: Vec<RegisteredUser> =
        users.iter().map(|u| RegisteredUser { registered_at: at(u.registered_at, 1), ..u.clone() }).collect();
    for (name, bulk_from) in [("Bulk", 1), ("Rows", usize::MAX)] {
        let (tenant, _) = env.tenant(name, "CL", chrono_tz::America::Santiago).await;
        let store = store(&env, bulk_from).await;
        store.upsert_users(tenant.id, &users).await.unwrap();
        store.upsert_users(tenant.id, &moved).await.unwrap();
        let db = store.connection();
        let sql = "SELECT version, part, records FROM registration_changes WHERE tenant_id = $1 ORDER BY version, part";
        let statement = Statement::from_sql_and_values(db.get_database_backend(), sql, [tenant.id.0.into()]);
        let parts: Vec<(i64, i32, i32)> = db
            .query_all_raw(statement)
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (r.try_get("", "version").unwrap(), r.try_get("", "part").unwrap(), r.try_get("", "records").unwrap())
            })
            .collect();
        let v = parts[0].0;
        assert_eq!(parts, [(v, 0, 6_000), (v + 1, 0, 10_000), (v + 1, 1, 2_000)], "{name}");

        let ChangesSince::Changes(changes) = store.registration_changes(tenant.id, v - 1, 18_000).await.unwrap() else {
            panic!("{name}: 18,000 records within a limit of 18,000");
        };
        let got: Vec<(i64, bool, RegistrationFacts)> =
            changes.into_iter().map(|c| (c.version, c.added, c.facts)).collect();
        let mut want: Vec<(i64, bool, RegistrationFacts)> =
            users.iter().map(|u| (v, true, RegistrationFacts::of(u))).collect();
        for (old, new) in users.iter().zip(&moved) {
            want.push((v + 1, false, RegistrationFacts::of(old)));
            want.push((v + 1, true, RegistrationFacts::of(new)));
        }
        assert!(got == want, "{name}: the records read back differ from those written");
        let behind = |since: i64, limit: usize| {
            let store = store.clone();
            async move { store.registration_changes(tenant.id, since, limit).await.unwrap() == ChangesSince::TooFarBehind }
        };
        assert!(behind(v - 1, 17_999).await && behind(v - 1, 6_000).await, "{name}: past the limit");
        assert!(!behind(v, 12_000).await && behind(v, 11_999).await, "{name}: the last version alone");
        db.execute_unprepared(&format!(
            "DELETE FROM registration_changes WHERE tenant_id = {} AND version = {} AND part = 0",
            tenant.id.0,
            v + 1
        ))
        .await
        .unwrap();
        assert!(behind(v - 1, 50_000).await && behind(v, 50_000).await, "{name}: a part missing");
    }
}

/// A batch of more sessions than one transaction may lock (20,000: one advisory lock each
/// would overflow PostgreSQL's lock table) is written as several transactions of whole
/// sessions: the same rows and counts as small batches, and sent again, duplicates.
async fn a_batch_of_many_sessions_is_stored_whole(env: Env) {
    use ottstats_domain::activity_repository::ActivityWrites;
    let mut rng = StdRng::seed_from_u64(11);
    let base = Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap();
    let events: Vec<PlayerEvent> = (0..20_000 * 2)
        .map(|i| PlayerEvent {
            id: format!("m{i}"),
            session_id: format!("s{}", i % 20_000),
            user_id: format!("u{}", i % 20_000 % 7),
            event_type: [EventType::Play, EventType::Playing][i / 20_000],
            occurred_at: at(base, (i / 20_000) as i64 * 7_000 + rng.random_range(0..500)),
            position: None,
            content_kind: Some(ContentKind::Vod),
            content_id: Some("c1".into()),
            device: None,
            referrer: None,
            bandwidth_kbps: None,
            played_seconds: None,
        })
        .collect();
    let (bulk_tenant, _) = env.tenant("Bulk", "CL", chrono_tz::UTC).await;
    let (row_tenant, _) = env.tenant("Rows", "CL", chrono_tz::UTC).await;
    let (bulk, row) = (store(&env, 1).await, store(&env, usize::MAX).await);
    let o = bulk.record_events(bulk_tenant.id, &events).await.unwrap();
    assert_eq!((o.written, o.duplicates), (40_000, 0));
    let mut written = 0;
    for chunk in events.chunks(1_000) {
        written += row.record_events(row_tenant.id, chunk).await.unwrap().written;
    }
    assert_eq!(written, 40_000);
    let (b, r) = (rows(&bulk, bulk_tenant.id).await, rows(&row, row_tenant.id).await);
    assert_eq!((b.1.len(), b.2.len()), (40_000, 20_000));
    assert_eq!(b.1, r.1, "events");
    assert_eq!(b.2, r.2, "sessions");
    let again = bulk.record_events(bulk_tenant.id, &events).await.unwrap();
    assert_eq!((again.written, again.duplicates), (0, 40_000));
}

/// The facts of the stored users, counted as the log counts them.
fn counted(users: &[registered_user::Model]) -> BTreeMap<String, i64> {
    let mut net = BTreeMap::new();
    for u in users {
        let key = format!(
            "{}|{}|{:?}|{:?}|{:?}|{:?}",
            u.registered_at,
            u.gender,
            u.age,
            u.country.as_deref(),
            u.state,
            u.city
        );
        *net.entry(key).or_insert(0) += 1;
    }
    net
}

/// Bulk batches writing the same users at once, on the bulk path and on the row path
/// together: each user ends as one of the versions written of it, and the registrations
/// log counts exactly the stored users (no version of a user counted twice or lost).
async fn concurrent_batches_of_the_same_users_keep_the_log_exact(env: Env) {
    use ottstats_domain::repository::UserRepository;
    let (tenant, _) = env.tenant("Race", "CL", chrono_tz::UTC).await;
    let (bulk, row) = (store(&env, 1).await, store(&env, usize::MAX).await);
    let base = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let writer = |w: usize| -> Vec<RegisteredUser> {
        (0..300)
            .map(|i| RegisteredUser {
                id: format!("u{}", (i * 7 + w * 50) % 400),
                name: format!("w{w}"),
                gender: Gender::ALL[(i + w) % 4],
                birth_date: None,
                age: None,
                country: Country::parse(["CL", "AR"][(i + w) % 2]),
                state: None,
                city: None,
                registered_at: at(base, ((i + w) % 30) as i64 * 86_400_000),
            })
            .collect()
    };
    // Two batches of the same new users at once: one inserts them, the other conflicts,
    // is tried again and updates them.
    let race = (0..2).map(|w| {
        let (bulk, users) = (
            &bulk,
            writer(w)
                .into_iter()
                .take(100)
                .enumerate()
                .map(|(n, mut u)| {
                    u.id = format!("new{n}");
                    u
                })
                .collect::<Vec<_>>(),
        );
        async move { bulk.upsert_users(tenant.id, &users).await.unwrap() }
    });
    futures_util::future::join_all(race).await;
    // Every user stored once, then four writers (three bulk, one row path) at once, again
    // and again, each changing the facts of users the others change too.
    row.upsert_users(tenant.id, &(0..4).flat_map(writer).collect::<Vec<_>>()).await.unwrap();
    for round in 0..3 {
        let writes = (0..4).map(|w| {
            let (bulk, row, users) = (&bulk, &row, writer(w + round));
            async move {
                // Three bulk writers and one on the row path.
                let store = if w == 3 { row } else { bulk };
                store.upsert_users(tenant.id, &users).await.unwrap()
            }
        });
        futures_util::future::join_all(writes).await;
    }
    let (users, _, _) = rows(&bulk, tenant.id).await;
    assert_eq!(users.len(), 500);
    assert_eq!(logged(&bulk, tenant.id).await, counted(&users), "the log counts the stored users");
}

on_each_backend!(
    concurrent_batches_of_the_same_users_keep_the_log_exact,
    bulk_and_row_paths_store_the_same_rows,
    a_large_version_spans_rows_and_reads_back_whole,
    a_batch_of_many_sessions_is_stored_whole
);
