//! Playback quality, its comparison, a week across a DST change and late events, on
//! each backend.
//!
//! ## Quality (tenant CL, America/Santiago: -04 in May 2026)
//! Q = 2026-05-10 local = [2026-05-10T04:00Z, 2026-05-11T04:00Z). User u1. Events (UTC):
//!
//! A (VOD, TV), 2026-05-10:
//!   a01 PLAY 10:00:00
//!   a02 BUFFERING 10:00:01            before any PLAYING: startup, no rebuffering
//!   a03 PLAYING 10:00:03.250          startup 3,250 ms; prev is BUFFERING -> 0 s
//!   a04 PLAYING 10:00:13.250          prev PLAYING -> 10 s
//!   a05 PLAYING 10:01:43.250          prev PLAYING, 90 s -> capped 60 s
//!   a06 BUFFERING 10:01:50            rebuffer #1, next event 10:03:30: 100 s -> 60 s
//!   a07 PLAYING 10:03:30 played 400   clamped 300 s
//!   a08 PLAY 10:04:00                 second PLAY (a start; no new startup)
//!   a09 PLAYING 10:04:05 played 5     5 s
//!   a10 BUFFERING 10:04:10            rebuffer #2, next 10:04:22.5: 12.5 s
//!   a11 PLAYING 10:04:22.500          prev BUFFERING -> 0 s
//!   a12 BUFFERING 10:05:00            rebuffer #3, last event: 0 s
//!   => startup 3250; rebuffer 3 / 72.5 s; playback 0+10+60+300+5+0 = 375 s; stream
//! B (LIVE, Phone): b01 LOADED 11:00:00, b02 PLAYING 11:00:02 played 2, b03 PLAY 11:00:05,
//!   b04 BUFFERING 11:00:06 (after the first PLAYING b02: a rebuffering, 4 s to b05),
//!   b05 PLAYING 11:00:10 played 20 (the first PLAYING after PLAY: startup 5,000 ms)
//!   => startup 5000; rebuffer 1 / 4 s; playback 22 s; stream
//! C (VOD, TV): c01 PLAY 12:00:00, c02 BUFFERING 12:00:02, c03 ERROR 12:00:30
//!   => exit before start; no rebuffering; 1 error in Q
//! D (no kind -> VOD, no device -> Unknown): d01 PLAY 05-10T03:59:00 (before Q),
//!   d02 PLAYING 03:59:04 played 4, d03 PLAYING 04:00:30 played 30, d04 ERROR 04:01:00
//!   => not a session of Q; its error counts in Q (VOD, Unknown); 30 s of Q's minutes.
//!      Session of 2026-05-09: startup 4000, playback 34 s, stream.
//! E (LIVE, Phone): e01 PLAY 05-11T03:59:50, e02 PLAYING 03:59:58 played 3,
//!   e03 ERROR 04:00:10 (after Q), e04 BUFFERING 04:00:20 (5 s to e05), e05 PLAYING
//!   04:00:25 played 10  => session of Q: startup 8000; rebuffer 1 / 5 s; playback 13 s;
//!   stream; 0 errors in Q (1 on 05-11); 3 s of Q's minutes.
//! F (VOD, Tablet): f01 LOADED 13:00:00, f02 PLAYING 13:00:05 (0 s)
//!   => no PLAY: neither startup nor exit; ratio null (0 / 0)
//! G (VOD, Console): g01 PLAY 14:00:00, g02 PLAYING 14:00:01.500 played 0, g03 PAUSE 14:00:10
//!   => startup 1500; playback 0
//! H: h1 PLAYING 15:00:00 (LIVE, Console, 0 s), h2 PLAY 15:00:00 (VOD, TV), h3 PLAYING
//!   15:00:02 played 6 (VOD, TV). Same instant: h1 comes first by id, so the session is
//!   LIVE/Console and h1 does not end the startup: 2,000 ms. Playback 6 s; stream.
//!
//! Q totals: sessions A B C E F G H. startup 5 (3250+5000+8000+1500+2000 = 19750, mean 3950,
//! max 8000); exits 1 (C); rebuffering 3+1+1 = 5, 72.5+4+5 = 81.5 s; playback of the same
//! sessions 375+22+0+13+0+0+6 = 416 -> ratio 81.5/497.5; errors c03 + d04 = 2.
//! Live (B E H): startup 3 (5000, 8000, 2000: mean 5000, max 8000), exits 0, rebuf 2 / 9 s,
//!   playback 41 -> 9/50, errors 0.
//! VOD (A C F G, d04): startup 2 (3250, 1500: mean 2375, max 3250), exits 1, rebuf 3 / 72.5,
//!   playback 375 -> 72.5/447.5, errors 2.
//! Devices (sessions, errors): TV (A C: 2, 1), Console (G H: 2, 0), Phone (B E: 2, 0),
//!   Tablet (F: 1, 0), Unknown (D's error: 0, 1). Order: sessions desc, errors desc, name:
//!   TV, Console, Phone, Tablet, Unknown.
//!   TV: startup 1 3250/3250, exits 1, rebuf 3 / 72.5, ratio 72.5/447.5, errors 1
//!   Console: startup 2 (1500, 2000: mean 1750, max 2000), rebuf 0, ratio 0/(0+6) = 0
//!   Phone: startup 2 (5000, 8000: mean 6500, max 8000), rebuf 2 / 9, ratio 9/(9+35)
//!   Tablet: nothing, ratio null.  Unknown: errors 1 only, ratio null.
//! Overview Q: streams A B E H = 4; starts a01 a08 b03 c01 e01 g01 h2 = 7; minutes
//!   375 + 22 + 30 (d03) + 3 (e02) + 6 = 436 s = 436/60.
//! Previous period (2026-05-09 local): D: 1 stream, 1 start, 4 s -> change 300 %, 600 %,
//!   100 × (436 − 4) / 4 = 10800 %. Previous year (2025-05-10): nothing -> null.
//! Q2 = 2026-05-11 local: no session; errors e03 (LIVE, Phone) = 1; minutes e05 = 10 s.
//!
//! ## Activity week across Santiago's spring forward (2026-09-06: 00:00 -04 -> 01:00 -03)
//! P = "2026-09-06".."2026-09-13" = [09-06T01:00-03 (04:00Z), 09-13T00:00-03 (03:00Z)), 167 h.
//! PREVIOUS_PERIOD (7 local days) = [08-30T00:00-04 (04:00Z), 09-06T01:00-03 (04:00Z)), 168 h
//! (a 167 h duration would start at 05:00Z). PREVIOUS_YEAR keeps the wall clock of the
//! instant `from` names (01:00): [2025-09-06T01:00-04 (05:00Z), 2025-09-13T00:00-03 (03:00Z)).
//!   w1 PLAY 2026-08-30T04:30Z, PLAYING +10 s played 30   previous period only
//!   w2 PLAY 2026-08-30T03:30Z, PLAYING +10 s played 60   nowhere
//!   w3 PLAY 2026-09-06T03:59Z, PLAYING 04:00:30Z played 20  stream/start in previous; 20 s in P
//!   w4 PLAY 2026-09-06T04:00Z, PLAYING 04:01Z played 120     P
//!   w5 PLAY 2026-09-13T02:59Z, PLAYING 02:59:50Z played 6     P
//!   w6 PLAY 2026-09-13T03:00Z, PLAYING 03:00:10Z played 50    nowhere (to excluded)
//!   w7 PLAY 2025-09-06T04:30Z (00:30 -04), PLAYING +10 s played 40   nowhere
//!   w8 PLAY 2025-09-06T05:30Z (01:30 -04), PLAYING +10 s played 90   previous year
//! P: streams 2 (w4, w5), starts 2, minutes (20+120+6)/60 = 146/60.
//! Previous: streams 2 (w1, w3: 20 s total), starts 2, minutes 30/60 = 0.5.
//!   change: 0 %, 0 %, 100 × (146/60 − 0.5) / 0.5.
//! Previous year: 1, 1, 1.5 -> 100 %, 100 %, 100 × (146/60 − 1.5) / 1.5.

use ottstats_tests::{Env, on_each_backend};
use serde_json::{Value, json};

use super::{Checks, FIG, activity, ev, fig, named, none, overview, tenant_with_events};

fn quality_events() -> Vec<Value> {
    let (vod, live) = (Some("VOD"), Some("LIVE"));
    let (tv, phone, tablet, console) = (Some("TV"), Some("Phone"), Some("Tablet"), Some("Console"));
    let d = "2026-05-10T";
    let t = |s: &str| format!("{d}{s}Z");
    vec![
        ev("a01", "A", "PLAY", &t("10:00:00"), vod, tv, None),
        ev("a02", "A", "BUFFERING", &t("10:00:01"), vod, tv, None),
        ev("a03", "A", "PLAYING", &t("10:00:03.250"), vod, tv, None),
        ev("a04", "A", "PLAYING", &t("10:00:13.250"), vod, tv, None),
        ev("a05", "A", "PLAYING", &t("10:01:43.250"), vod, tv, None),
        ev("a06", "A", "BUFFERING", &t("10:01:50"), vod, tv, None),
        ev("a07", "A", "PLAYING", &t("10:03:30"), vod, tv, Some(400.0)),
        ev("a08", "A", "PLAY", &t("10:04:00"), vod, tv, None),
        ev("a09", "A", "PLAYING", &t("10:04:05"), vod, tv, Some(5.0)),
        ev("a10", "A", "BUFFERING", &t("10:04:10"), vod, tv, None),
        ev("a11", "A", "PLAYING", &t("10:04:22.500"), vod, tv, None),
        ev("a12", "A", "BUFFERING", &t("10:05:00"), vod, tv, None),
        ev("b01", "B", "PLAYER_LOADED", &t("11:00:00"), live, phone, None),
        ev("b02", "B", "PLAYING", &t("11:00:02"), live, phone, Some(2.0)),
        ev("b03", "B", "PLAY", &t("11:00:05"), live, phone, None),
        ev("b04", "B", "BUFFERING", &t("11:00:06"), live, phone, None),
        ev("b05", "B", "PLAYING", &t("11:00:10"), live, phone, Some(20.0)),
        ev("c01", "C", "PLAY", &t("12:00:00"), vod, tv, None),
        ev("c02", "C", "BUFFERING", &t("12:00:02"), vod, tv, None),
        ev("c03", "C", "ERROR", &t("12:00:30"), vod, tv, None),
        ev("d01", "D", "PLAY", &t("03:59:00"), None, None, None),
        ev("d02", "D", "PLAYING", &t("03:59:04"), None, None, Some(4.0)),
        ev("d03", "D", "PLAYING", &t("04:00:30"), None, None, Some(30.0)),
        ev("d04", "D", "ERROR", &t("04:01:00"), None, None, None),
        ev("e01", "E", "PLAY", "2026-05-11T03:59:50Z", live, phone, None),
        ev("e02", "E", "PLAYING", "2026-05-11T03:59:58Z", live, phone, Some(3.0)),
        ev("e03", "E", "ERROR", "2026-05-11T04:00:10Z", live, phone, None),
        ev("e04", "E", "BUFFERING", "2026-05-11T04:00:20Z", live, phone, None),
        ev("e05", "E", "PLAYING", "2026-05-11T04:00:25Z", live, phone, Some(10.0)),
        ev("f01", "F", "PLAYER_LOADED", &t("13:00:00"), vod, tablet, None),
        ev("f02", "F", "PLAYING", &t("13:00:05"), vod, tablet, None),
        ev("g01", "G", "PLAY", &t("14:00:00"), vod, console, None),
        ev("g02", "G", "PLAYING", &t("14:00:01.500"), vod, console, Some(0.0)),
        ev("g03", "G", "PAUSE", &t("14:00:10"), vod, console, None),
        ev("h1", "H", "PLAYING", &t("15:00:00"), live, console, None),
        ev("h2", "H", "PLAY", &t("15:00:00"), vod, tv, None),
        ev("h3", "H", "PLAYING", &t("15:00:02"), vod, tv, Some(6.0)),
    ]
}

async fn quality_and_its_comparison(env: Env) {
    let tenant = tenant_with_events(&env, "CL", chrono_tz::America::Santiago, quality_events()).await;
    let mut c = Checks(Vec::new());
    let fields = format!(
        "period {{ from to timeZone }}
         overview {{ streams playbackStarts minutesConsumed }}
         quality {{ {FIG} live {{ {FIG} }} vod {{ {FIG} }} devices {{ name {FIG} }} }}
         change {{ streams {{ value previous percentage }} playbackStarts {{ value previous percentage }}
                  minutesConsumed {{ value previous percentage }} }}
         year: change(shift: PREVIOUS_YEAR) {{ streams {{ value previous percentage }}
                  playbackStarts {{ value previous percentage }} minutesConsumed {{ value previous percentage }} }}
         previous {{ period {{ from to }} overview {{ streams playbackStarts minutesConsumed }}
                    quality {{ {FIG} devices {{ name {FIG} }} }} }}"
    );
    let r = activity(&env, &tenant, json!({"from": "2026-05-10", "to": "2026-05-11"}), &fields).await;
    c.check(
        "Q.period",
        &r["period"],
        json!({"from": "2026-05-10T00:00:00-04:00", "to": "2026-05-11T00:00:00-04:00", "timeZone": "America/Santiago"}),
    );
    c.check("Q.overview", &r["overview"], overview(4, 7, 436.0 / 60.0));
    let q = &r["quality"];
    let total = fig((5, json!(3950.0), json!(8000.0)), 1, (5, 81.5, json!(81.5 / 497.5)), 2);
    for k in ["startup", "exitsBeforeStart", "rebuffering", "errors"] {
        c.check(&format!("Q.quality.{k}"), &q[k], total[k].clone());
    }
    c.check("Q.quality.live", &q["live"], fig((3, json!(5000.0), json!(8000.0)), 0, (2, 9.0, json!(9.0 / 50.0)), 0));
    c.check("Q.quality.vod", &q["vod"], fig((2, json!(2375.0), json!(3250.0)), 1, (3, 72.5, json!(72.5 / 447.5)), 2));
    let names: Vec<Value> =
        q["devices"].as_array().cloned().unwrap_or_default().iter().map(|d| d["name"].clone()).collect();
    c.check("Q.quality.devices[names]", &json!(names), json!(["TV", "Console", "Phone", "Tablet", "Unknown"]));
    let want_devices = [
        named("TV", fig((1, json!(3250.0), json!(3250.0)), 1, (3, 72.5, json!(72.5 / 447.5)), 1)),
        named("Console", fig((2, json!(1750.0), json!(2000.0)), 0, (0, 0.0, json!(0.0)), 0)),
        named("Phone", fig((2, json!(6500.0), json!(8000.0)), 0, (2, 9.0, json!(9.0 / 44.0)), 0)),
        named("Tablet", fig(none(), 0, (0, 0.0, Value::Null), 0)),
        named("Unknown", fig(none(), 0, (0, 0.0, Value::Null), 1)),
    ];
    for want in want_devices {
        let name = want["name"].as_str().unwrap_or_default().to_owned();
        let got = q["devices"]
            .as_array()
            .and_then(|ds| ds.iter().find(|d| d["name"] == json!(name)).cloned())
            .unwrap_or(Value::Null);
        c.check(&format!("Q.quality.devices[{name}]"), &got, want);
    }
    let ch = |v: Value, p: Value, pct: Value| json!({"value": v, "previous": p, "percentage": pct});
    c.check(
        "Q.change(PREVIOUS_PERIOD)",
        &r["change"],
        json!({"streams": ch(json!(4), json!(1), json!(300.0)),
               "playbackStarts": ch(json!(7), json!(1), json!(600.0)),
               "minutesConsumed": ch(json!(436.0 / 60.0), json!(4.0 / 60.0), json!(10800.0))}),
    );
    c.check(
        "Q.change(PREVIOUS_YEAR)",
        &r["year"],
        json!({"streams": ch(json!(4), json!(0), Value::Null),
               "playbackStarts": ch(json!(7), json!(0), Value::Null),
               "minutesConsumed": ch(json!(436.0 / 60.0), json!(0.0), Value::Null)}),
    );
    let p = &r["previous"];
    c.check(
        "Q.previous.period",
        &p["period"],
        json!({"from": "2026-05-09T00:00:00-04:00", "to": "2026-05-10T00:00:00-04:00"}),
    );
    c.check("Q.previous.overview", &p["overview"], overview(1, 1, 4.0 / 60.0));
    // D alone: startup 4 s, 34 s of playback, no rebuffering (ratio 0 / 34 = 0), d04 is in Q.
    let d_fig = fig((1, json!(4000.0), json!(4000.0)), 0, (0, 0.0, json!(0.0)), 0);
    for k in ["startup", "exitsBeforeStart", "rebuffering", "errors"] {
        c.check(&format!("Q.previous.quality.{k}"), &p["quality"][k], d_fig[k].clone());
    }
    c.check("Q.previous.quality.devices", &p["quality"]["devices"], json!([named("Unknown", d_fig.clone())]));

    // Q2: no session starts; E's error after Q counts here, as LIVE / Phone.
    let fields2 = format!(
        "overview {{ streams playbackStarts minutesConsumed }}
         quality {{ {FIG} live {{ errors }} vod {{ errors }} devices {{ name {FIG} }} }}"
    );
    let r2 = activity(&env, &tenant, json!({"from": "2026-05-11", "to": "2026-05-12"}), &fields2).await;
    c.check("Q2.overview", &r2["overview"], overview(0, 0, 10.0 / 60.0));
    let empty_with_error = fig(none(), 0, (0, 0.0, Value::Null), 1);
    for k in ["startup", "exitsBeforeStart", "rebuffering", "errors"] {
        c.check(&format!("Q2.quality.{k}"), &r2["quality"][k], empty_with_error[k].clone());
    }
    c.check("Q2.quality.live.errors", &r2["quality"]["live"]["errors"], json!(1));
    c.check("Q2.quality.vod.errors", &r2["quality"]["vod"]["errors"], json!(0));
    c.check("Q2.quality.devices", &r2["quality"]["devices"], json!([named("Phone", empty_with_error)]));
    c.finish();
}

fn week_events() -> Vec<Value> {
    let vod = Some("VOD");
    let pair = |s: &str, play: &str, playing: &str, secs: f64| {
        vec![
            ev(&format!("{s}-1"), s, "PLAY", play, vod, None, None),
            ev(&format!("{s}-2"), s, "PLAYING", playing, vod, None, Some(secs)),
        ]
    };
    [
        pair("w1", "2026-08-30T04:30:00Z", "2026-08-30T04:30:10Z", 30.0),
        pair("w2", "2026-08-30T03:30:00Z", "2026-08-30T03:30:10Z", 60.0),
        pair("w3", "2026-09-06T03:59:00Z", "2026-09-06T04:00:30Z", 20.0),
        pair("w4", "2026-09-06T04:00:00Z", "2026-09-06T04:01:00Z", 120.0),
        pair("w5", "2026-09-13T02:59:00Z", "2026-09-13T02:59:50Z", 6.0),
        pair("w6", "2026-09-13T03:00:00Z", "2026-09-13T03:00:10Z", 50.0),
        pair("w7", "2025-09-06T04:30:00Z", "2025-09-06T04:30:10Z", 40.0),
        pair("w8", "2025-09-06T05:30:00Z", "2025-09-06T05:30:10Z", 90.0),
    ]
    .concat()
}

async fn activity_week_across_spring_forward(env: Env) {
    let tenant = tenant_with_events(&env, "CL", chrono_tz::America::Santiago, week_events()).await;
    let mut c = Checks(Vec::new());
    let ov = "overview { streams playbackStarts minutesConsumed }";
    let chf = "streams { value previous percentage } playbackStarts { value previous percentage }
               minutesConsumed { value previous percentage }";
    let fields = format!(
        "period {{ from to timeZone }} {ov} change {{ {chf} }} year: change(shift: PREVIOUS_YEAR) {{ {chf} }}
         previous {{ period {{ from to }} {ov} }} py: previous(shift: PREVIOUS_YEAR) {{ period {{ from to }} {ov} }}"
    );
    let r = activity(&env, &tenant, json!({"from": "2026-09-06", "to": "2026-09-13"}), &fields).await;
    c.check(
        "P.period",
        &r["period"],
        json!({"from": "2026-09-06T01:00:00-03:00", "to": "2026-09-13T00:00:00-03:00", "timeZone": "America/Santiago"}),
    );
    c.check("P.overview", &r["overview"], overview(2, 2, 146.0 / 60.0));
    c.check(
        "P.previous.period",
        &r["previous"]["period"],
        json!({"from": "2026-08-30T00:00:00-04:00", "to": "2026-09-06T01:00:00-03:00"}),
    );
    c.check("P.previous.overview", &r["previous"]["overview"], overview(2, 2, 0.5));
    let ch = |v: Value, p: Value, pct: f64| json!({"value": v, "previous": p, "percentage": pct});
    c.check(
        "P.change(PREVIOUS_PERIOD)",
        &r["change"],
        json!({"streams": ch(json!(2), json!(2), 0.0), "playbackStarts": ch(json!(2), json!(2), 0.0),
               "minutesConsumed": ch(json!(146.0 / 60.0), json!(0.5), 100.0 * (146.0 / 60.0 - 0.5) / 0.5)}),
    );
    c.check(
        "P.previous(PREVIOUS_YEAR).period",
        &r["py"]["period"],
        json!({"from": "2025-09-06T01:00:00-04:00", "to": "2025-09-13T00:00:00-03:00"}),
    );
    c.check("P.previous(PREVIOUS_YEAR).overview", &r["py"]["overview"], overview(1, 1, 1.5));
    c.check(
        "P.change(PREVIOUS_YEAR)",
        &r["year"],
        json!({"streams": ch(json!(2), json!(1), 100.0), "playbackStarts": ch(json!(2), json!(1), 100.0),
               "minutesConsumed": ch(json!(146.0 / 60.0), json!(1.5), 100.0 * (146.0 / 60.0 - 1.5) / 1.5)}),
    );
    c.finish();
}

/// Late events (tenant CL, Santiago). Batch 1, session K (VOD, TV), 2026-05-10 UTC:
///   k01 PLAY 12:00:00, k02 PLAYING 12:00:05 played 10, k03 ERROR 12:00:15,
///   k04 BUFFERING 12:00:20 (last: 0 s).
///   Q (05-10 local): 1 session: startup 5000, rebuf 1 / 0 s, ratio 0/(0+10) = 0, 1 error;
///   overview 1 stream, 1 start, 10/60 min.
/// Batch 2: k00 PLAYER_LOADED 05-10T03:00Z (LIVE, Phone; 05-09 23:00 local, now K's first
///   event), k05 PLAYING 12:00:50 played 7, and k01 again as a PLAYING at 12:00:01 (a
///   duplicate: ignored, or the startup would become 1000 ms). Report: 2 accepted, 1 duplicate.
///   Q: no session; k03 counts as LIVE / Phone: errors 1; overview 0 streams, 1 start (k01),
///   (10+7)/60 min.
///   05-09 local: K is LIVE / Phone: startup 5000; k04 now lasts until k05: 30 s; playback
///   17 s -> ratio 30/47; 0 errors; overview 1 stream, 0 starts, 0 min.
async fn late_events_move_a_session(env: Env) {
    let (vod, live, tv, phone) = (Some("VOD"), Some("LIVE"), Some("TV"), Some("Phone"));
    let batch1 = vec![
        ev("k01", "K", "PLAY", "2026-05-10T12:00:00Z", vod, tv, None),
        ev("k02", "K", "PLAYING", "2026-05-10T12:00:05Z", vod, tv, Some(10.0)),
        ev("k03", "K", "ERROR", "2026-05-10T12:00:15Z", vod, tv, None),
        ev("k04", "K", "BUFFERING", "2026-05-10T12:00:20Z", vod, tv, None),
    ];
    let tenant = tenant_with_events(&env, "CL", chrono_tz::America::Santiago, batch1).await;
    let mut c = Checks(Vec::new());
    let fields = format!(
        "overview {{ streams playbackStarts minutesConsumed }}
         quality {{ {FIG} live {{ {FIG} }} vod {{ {FIG} }} devices {{ name {FIG} }} }}"
    );
    let q = json!({"from": "2026-05-10", "to": "2026-05-11"});
    let day_before = json!({"from": "2026-05-09", "to": "2026-05-10"});
    let r = activity(&env, &tenant, q.clone(), &fields).await;
    c.check("K1.Q.overview", &r["overview"], overview(1, 1, 10.0 / 60.0));
    let k1 = fig((1, json!(5000.0), json!(5000.0)), 0, (1, 0.0, json!(0.0)), 1);
    for k in ["startup", "exitsBeforeStart", "rebuffering", "errors"] {
        c.check(&format!("K1.Q.quality.{k}"), &r["quality"][k], k1[k].clone());
    }
    c.check("K1.Q.quality.vod", &r["quality"]["vod"], k1.clone());
    c.check("K1.Q.quality.devices", &r["quality"]["devices"], json!([named("TV", k1)]));

    let batch2 = json!([
        ev("k05", "K", "PLAYING", "2026-05-10T12:00:50Z", vod, tv, Some(7.0)),
        ev("k01", "K", "PLAYING", "2026-05-10T12:00:01Z", vod, tv, Some(50.0)),
        ev("k00", "K", "PLAYER_LOADED", "2026-05-10T03:00:00Z", live, phone, None),
    ]);
    let m =
        "mutation($e: [PlayerEventInput!]!) { recordEvents(events: $e) { accepted duplicates rejected { index } } }";
    let rep = env.data(&tenant, m, json!({"e": batch2})).await;
    c.check("K2.report", &rep["recordEvents"], json!({"accepted": 2, "duplicates": 1, "rejected": []}));

    let r = activity(&env, &tenant, q, &fields).await;
    c.check("K2.Q.overview", &r["overview"], overview(0, 1, 17.0 / 60.0));
    let only_error = fig(none(), 0, (0, 0.0, Value::Null), 1);
    for k in ["startup", "exitsBeforeStart", "rebuffering", "errors"] {
        c.check(&format!("K2.Q.quality.{k}"), &r["quality"][k], only_error[k].clone());
    }
    c.check("K2.Q.quality.live", &r["quality"]["live"], only_error.clone());
    c.check("K2.Q.quality.vod.errors", &r["quality"]["vod"]["errors"], json!(0));
    c.check("K2.Q.quality.devices", &r["quality"]["devices"], json!([named("Phone", only_error)]));

    let r = activity(&env, &tenant, day_before, &fields).await;
    c.check("K2.05-09.overview", &r["overview"], overview(1, 0, 0.0));
    let k2 = fig((1, json!(5000.0), json!(5000.0)), 0, (1, 30.0, json!(30.0 / 47.0)), 0);
    for k in ["startup", "exitsBeforeStart", "rebuffering", "errors"] {
        c.check(&format!("K2.05-09.quality.{k}"), &r["quality"][k], k2[k].clone());
    }
    c.check("K2.05-09.quality.live", &r["quality"]["live"], k2.clone());
    c.check("K2.05-09.quality.devices", &r["quality"]["devices"], json!([named("Phone", k2)]));
    c.finish();
}

on_each_backend!(quality_and_its_comparison, activity_week_across_spring_forward, late_events_move_a_session);
