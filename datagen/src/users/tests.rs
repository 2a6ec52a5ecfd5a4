use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Timelike, Weekday};
use ottstats_domain::user::RegisteredUser;

use super::places::{CL_REGIONS, FOREIGN_COUNTRIES};
use super::writers::CSV_HEADER;
use super::*;

const N: usize = 20_000;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn period() -> (DateTime<Utc>, DateTime<Utc>) {
    (at("2024-01-01T00:00:00Z"), at("2026-01-01T00:00:00Z"))
}

fn users(seed: u64, home: &str, n: usize) -> Vec<UserDraft> {
    let (start, end) = period();
    UserGenerator::new(seed, home, start, end).take(n).collect()
}

fn share(count: usize, total: usize) -> f64 {
    count as f64 / total as f64
}

fn assert_share(what: &str, count: usize, total: usize, expected: f64, tolerance: f64) {
    let s = share(count, total);
    assert!((s - expected).abs() <= tolerance, "{what}: {s:.4}, expected {expected} ± {tolerance}");
}

fn registered(d: &UserDraft) -> DateTime<Utc> {
    at(&d.registered_at)
}

/// Chile's local time.
fn chile_local(t: DateTime<Utc>) -> chrono::NaiveDateTime {
    t.with_timezone(&chrono_tz::America::Santiago).naive_local()
}

fn is_messy(d: &UserDraft) -> bool {
    let padded = |s: &Option<String>| s.as_deref().is_some_and(|s| s.trim() != s);
    d.gender.as_deref().is_some_and(|g| g != g.to_uppercase())
        || d.country.as_deref().is_some_and(|c| c != c.to_uppercase())
        || padded(&d.state)
        || padded(&d.city)
}

#[test]
fn same_seed_gives_the_same_users_and_bytes() {
    let a = users(7, "CL", 5_000);
    let b = users(7, "CL", 5_000);
    assert_eq!(a, b);
    let (mut csv_a, mut csv_b) = (Vec::new(), Vec::new());
    write_csv(&mut csv_a, a.into_iter()).unwrap();
    write_csv(&mut csv_b, b.into_iter()).unwrap();
    assert_eq!(csv_a, csv_b);
    let (start, end) = period();
    let (mut json_a, mut json_b) = (Vec::new(), Vec::new());
    write_ndjson(&mut json_a, UserGenerator::new(7, "CL", start, end).take(2_000)).unwrap();
    write_ndjson(&mut json_b, UserGenerator::new(7, "CL", start, end).take(2_000)).unwrap();
    assert_eq!(json_a, json_b);
}

#[test]
fn a_clone_continues_identically() {
    let (start, end) = period();
    let mut g = UserGenerator::new(3, "CL", start, end);
    g.by_ref().take(100).for_each(drop);
    let copy = g.clone();
    assert!(g.take(500).eq(copy.take(500)));
}

#[test]
fn different_seeds_or_arguments_give_different_users() {
    let a = users(1, "CL", 1_000);
    let b = users(2, "CL", 1_000);
    let differing = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    assert!(differing > 990, "only {differing} of 1000 differ");
    // Ids are sequence numbers, so they are the same whatever the seed.
    assert!(a.iter().zip(&b).all(|(x, y)| x.id == y.id));
    let (start, end) = period();
    let later: Vec<_> = UserGenerator::new(1, "CL", start + Duration::days(1), end).take(1_000).collect();
    assert_ne!(a, later);
}

#[test]
fn every_draft_is_valid_and_registered_in_range() {
    let (start, end) = period();
    let drafts = users(11, "CL", N);
    let mut ids = HashSet::new();
    for (i, d) in drafts.iter().enumerate() {
        assert_eq!(d.id, format!("u{:07}", i + 1));
        assert!(ids.insert(d.id.clone()));
        let u = RegisteredUser::from_draft(d, end).unwrap_or_else(|e| panic!("{d:?}: {e:?}"));
        assert!(u.registered_at >= start && u.registered_at < end, "{d:?}");
        // RFC 3339 in UTC with whole seconds: 2025-03-04T21:15:07Z.
        assert_eq!(d.registered_at.len(), 20, "{}", d.registered_at);
        assert!(d.registered_at.ends_with('Z'));
        assert_eq!(u.registered_at.timestamp_subsec_nanos(), 0);
        assert_eq!(u.registered_at.to_rfc3339_opts(SecondsFormat::Secs, true), d.registered_at);
        if let Some(b) = u.birth_date {
            assert!(b <= u.registered_at.date_naive(), "{d:?}");
            assert!(u.age.is_some(), "{d:?}");
        }
        assert!(u.name.split(' ').count() >= 2, "{:?}", u.name);
        assert!(u.name.chars().count() <= 80);
        assert_eq!(u.name, d.name, "names are never padded");
        if u.city.is_some() && u.country.is_some_and(|c| c.code() == "CL") {
            assert!(u.state.is_some(), "a Chilean city always comes with its region");
        }
    }
}

#[test]
fn gender_mix() {
    let drafts = users(12, "CL", N);
    let count =
        |g: Option<&str>| drafts.iter().filter(|d| d.gender.as_deref().map(str::to_uppercase).as_deref() == g).count();
    assert_share("FEMALE", count(Some("FEMALE")), N, 0.48, 0.015);
    assert_share("MALE", count(Some("MALE")), N, 0.47, 0.015);
    assert_share("OTHER", count(Some("OTHER")), N, 0.02, 0.005);
    assert_share("missing", count(None), N, 0.03, 0.006);
}

#[test]
fn age_mix_is_realistic() {
    let drafts = users(13, "CL", N);
    let mut ages = BTreeMap::<u8, usize>::new();
    let (mut missing, mut leap_day) = (0, 0);
    let (_, end) = period();
    for d in &drafts {
        let u = RegisteredUser::from_draft(d, end).unwrap();
        match u.age {
            Some(a) => *ages.entry(a).or_default() += 1,
            None => missing += 1,
        }
        if u.birth_date.is_some_and(|b| b.month() == 2 && b.day() == 29) {
            leap_day += 1;
        }
    }
    let within = |lo: u8, hi: u8| ages.range(lo..=hi).map(|(_, n)| n).sum::<usize>();
    assert_share("missing", missing, N, 0.06, 0.008);
    assert_share("under 18", within(0, 17), N, 0.05, 0.008);
    assert_share("over 65", within(66, 120), N, 0.03, 0.006);
    assert_share("18-65", within(18, 65), N, 0.86, 0.015);
    assert!(within(0, 12) == 0 && within(91, 120) == 0, "{ages:?}");
    // Per year of age, 25–40 is the busiest band.
    let per_year = |lo: u8, hi: u8| within(lo, hi) as f64 / f64::from(hi - lo + 1);
    assert!(per_year(25, 40) > 1.2 * per_year(18, 24), "{ages:?}");
    assert!(per_year(25, 40) > 1.4 * per_year(41, 65), "{ages:?}");
    assert!(per_year(41, 65) > 3.0 * per_year(66, 90), "{ages:?}");
    assert!(leap_day > 0, "no 29 February birthday in {N} users");
}

#[test]
fn geography_mix_for_chile() {
    let drafts = users(14, "CL", N);
    let country = |d: &UserDraft| d.country.as_deref().map(str::to_uppercase);
    let home: Vec<_> = drafts.iter().filter(|d| country(d).as_deref() == Some("CL")).collect();
    let foreign = drafts.iter().filter(|d| country(d).is_some_and(|c| c != "CL")).count();
    let none = drafts.iter().filter(|d| d.country.is_none()).count();
    assert_share("home", home.len(), N, 0.80, 0.015);
    assert_share("foreign", foreign, N, 0.15, 0.012);
    assert_share("no country", none, N, 0.05, 0.008);

    let trimmed = |s: &Option<String>| s.as_deref().map(str::trim).map(str::to_owned);
    let no_place = home.iter().filter(|d| d.state.is_none() && d.city.is_none()).count();
    let no_city = home.iter().filter(|d| d.state.is_some() && d.city.is_none()).count();
    assert_share("home without state and city", no_place, home.len(), 0.03, 0.006);
    assert_share("home without city", no_city, home.len(), 0.03, 0.006);

    let mut by_state = HashMap::<String, usize>::new();
    for d in &home {
        let Some(state) = trimmed(&d.state) else {
            continue;
        };
        let region = CL_REGIONS.iter().find(|r| r.name == state).unwrap_or_else(|| panic!("{state}"));
        if let Some(city) = trimmed(&d.city) {
            assert!(region.cities.iter().any(|c| c.0 == city), "{city} is not in {state}");
        }
        *by_state.entry(state).or_default() += 1;
    }
    assert_eq!(by_state.len(), CL_REGIONS.len(), "{by_state:?}");
    let top = by_state.iter().max_by_key(|(_, n)| **n).map(|(s, _)| s.as_str());
    assert_eq!(top, Some("Región Metropolitana de Santiago"));
    // Santiago's region holds about 40 % of Chileans.
    let rm = by_state.get("Región Metropolitana de Santiago").copied().unwrap_or(0);
    assert_share("RM", rm, by_state.values().sum(), 0.405, 0.02);

    let codes: HashSet<_> = FOREIGN_COUNTRIES.iter().map(|c| c.0).collect();
    for d in &drafts {
        if let Some(c) = country(d).filter(|c| c != "CL") {
            assert!(codes.contains(c.as_str()), "{c}");
        }
    }
    let foreign_with_place =
        drafts.iter().filter(|d| country(d).is_some_and(|c| c != "CL") && d.city.is_some()).count();
    assert_share("foreign with a city", foreign_with_place, foreign, 0.40, 0.04);
    assert!(drafts.iter().filter(|d| d.country.is_none()).all(|d| d.state.is_none() && d.city.is_none()));
}

#[test]
fn other_homes_get_the_country_only_and_chile_abroad() {
    let drafts = users(15, " ar", N);
    let country = |d: &UserDraft| d.country.as_deref().map(str::to_uppercase);
    let home: Vec<_> = drafts.iter().filter(|d| country(d).as_deref() == Some("AR")).collect();
    assert_share("home", home.len(), N, 0.80, 0.015);
    assert!(home.iter().all(|d| d.state.is_none() && d.city.is_none()));
    let chile = drafts.iter().filter(|d| country(d).as_deref() == Some("CL")).count();
    assert!(chile > 0);
    let (_, end) = period();
    assert!(drafts.iter().all(|d| RegisteredUser::from_draft(d, end).is_ok()));
}

#[test]
fn an_unknown_home_falls_back_to_chile() {
    let drafts = users(16, "XX", 2_000);
    let chilean = drafts.iter().filter(|d| d.country.as_deref() == Some("CL")).count();
    assert!(chilean > 1_500);
    assert!(drafts.iter().any(|d| d.state.is_some()));
}

#[test]
fn messy_values_are_rare_but_present() {
    let drafts = users(17, "CL", N);
    let messy = drafts.iter().filter(|d| is_messy(d)).count();
    assert!(messy > 0);
    assert!(share(messy, N) < 0.02, "{messy} messy drafts");
    assert!(drafts.iter().any(|d| d.country.as_deref() == Some("cl")));
}

#[test]
fn registrations_grow_peak_on_weekends_and_evenings_and_spike() {
    let (start, end) = period();
    let drafts = users(18, "CL", N);
    let mut per_day = BTreeMap::<chrono::NaiveDate, usize>::new();
    let mut per_hour = [0_usize; 24];
    let (mut weekend, mut weekday) = (0, 0);
    let (mut first_half, mut second_half) = (0, 0);
    let middle = start + (end - start) / 2;
    for d in &drafts {
        let t = registered(d);
        let local = chile_local(t);
        *per_day.entry(local.date()).or_default() += 1;
        per_hour[local.hour() as usize] += 1;
        match local.weekday() {
            Weekday::Sat | Weekday::Sun => weekend += 1,
            _ => weekday += 1,
        }
        if t < middle { first_half += 1 } else { second_half += 1 }
    }
    // Per day, weekends are busier (2 weekend days against 5 weekdays).
    assert!(weekend as f64 / 2.0 > 1.15 * weekday as f64 / 5.0, "{weekend} vs {weekday}");
    let evening: usize = per_hour[19..=22].iter().sum();
    let night: usize = per_hour[2..=5].iter().sum();
    assert!(evening > 5 * night, "{per_hour:?}");
    assert!(second_half as f64 > 1.3 * first_half as f64, "{first_half} vs {second_half}");
    // A few campaign days with several times the usual volume.
    let mut counts: Vec<usize> = per_day.values().copied().collect();
    counts.sort_unstable();
    let median = counts[counts.len() / 2] as f64;
    let spikes = counts.iter().filter(|c| **c as f64 >= 2.5 * median).count();
    assert!((3..=40).contains(&spikes), "{spikes} spike days, median {median}");
}

#[test]
fn registrations_stay_within_odd_and_tiny_ranges() {
    let start = at("2025-05-05T10:30:00.250Z");
    let end = at("2025-05-05T10:30:03.250Z");
    let drafts: Vec<_> = UserGenerator::new(1, "CL", start, end).take(200).collect();
    assert_eq!(drafts.len(), 200);
    let seen: HashSet<_> = drafts.iter().map(|d| d.registered_at.as_str()).collect();
    let expected = HashSet::from(["2025-05-05T10:30:01Z", "2025-05-05T10:30:02Z", "2025-05-05T10:30:03Z"]);
    assert_eq!(seen, expected);

    let start = at("2025-12-31T23:00:00Z");
    let end = at("2026-01-02T01:00:00Z");
    for d in UserGenerator::new(2, "ES", start, end).take(2_000) {
        let t = registered(&d);
        assert!(t >= start && t < end, "{d:?}");
        assert!(RegisteredUser::from_draft(&d, end).is_ok());
    }
}

#[test]
fn an_empty_range_gives_no_users() {
    let t = at("2025-01-01T00:00:00Z");
    assert_eq!(UserGenerator::new(1, "CL", t, t).next(), None);
    assert_eq!(UserGenerator::new(1, "CL", t, t - Duration::days(1)).next(), None);
    let g = UserGenerator::new(1, "CL", t + Duration::milliseconds(1), t + Duration::milliseconds(900));
    assert_eq!(g.size_hint(), (0, Some(0)));
    assert_eq!(g.count(), 0);
}

#[test]
fn csv_round_trips_with_its_header() {
    let drafts = users(19, "CL", 3_000);
    let mut bytes = Vec::new();
    write_csv(&mut bytes, drafts.iter().cloned()).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with("id,name,gender,birthDate,country,state,city,registeredAt\n"));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(reader.headers().unwrap(), &csv::StringRecord::from(CSV_HEADER.to_vec()));
    let cell = |r: &csv::StringRecord, i: usize| Some(r[i].to_owned()).filter(|s| !s.is_empty());
    let read: Vec<UserDraft> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            assert_eq!(r.len(), 8);
            UserDraft {
                id: r[0].to_owned(),
                name: r[1].to_owned(),
                gender: cell(&r, 2),
                birth_date: cell(&r, 3),
                country: cell(&r, 4),
                state: cell(&r, 5),
                city: cell(&r, 6),
                registered_at: r[7].to_owned(),
            }
        })
        .collect();
    assert_eq!(read, drafts);
    // Padded places survive the round trip (the server trims them, not the file).
    assert!(read.iter().any(is_messy));
}

#[test]
fn ndjson_round_trips_with_camel_case_keys() {
    let drafts = users(20, "CL", 3_000);
    let mut bytes = Vec::new();
    write_ndjson(&mut bytes, drafts.iter().cloned()).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.ends_with('\n'));
    let allowed: HashSet<&str> = CSV_HEADER.into_iter().collect();
    let mut keys_seen = HashSet::new();
    let mut read = Vec::new();
    for line in text.lines() {
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).unwrap();
        for (k, v) in &object {
            assert!(allowed.contains(k.as_str()), "unexpected key {k}");
            assert!(v.is_string(), "{k} is {v}, not a string");
            keys_seen.insert(k.clone());
        }
        let get = |k: &str| object.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        read.push(UserDraft {
            id: get("id").unwrap(),
            name: get("name").unwrap(),
            gender: get("gender"),
            birth_date: get("birthDate"),
            country: get("country"),
            state: get("state"),
            city: get("city"),
            registered_at: get("registeredAt").unwrap(),
        });
    }
    assert_eq!(read, drafts);
    assert_eq!(keys_seen.len(), 8, "{keys_seen:?}");
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("{\"id\":\"u0000001\",\"name\":"), "{first}");
}
