//! One player view: a small state machine that yields its events one at a time.
//!
//! Playback is simulated in milliseconds: `advance` plays (the clock, the accumulated
//! playback and, on VOD, the position move together), `wait` lets time pass without
//! playback (startup, pauses, stalls). Each step plays up to the next heartbeat or to an
//! interruption and queues the one to three events it produces.

use std::collections::VecDeque;

use ottstats_domain::activity_input::PlayerEventDraft;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::clock::{MINUTE, SECOND, rfc3339};
use super::random::{chance, log_normal_millis, log_uniform, millis, normal};

/// Sessions that fail to start (PLAYER_LOADED, ERROR) and that stop within seconds.
const SHARE_FAILED: f64 = 0.02;
const SHARE_SHORT: f64 = 0.10;
/// Sessions that never send `playedSeconds`.
const SHARE_UNREPORTED: f64 = 0.10;
/// PLAYING events with a glitched, over-large `playedSeconds`.
const SHARE_GLITCH: f64 = 0.001;
/// Sessions on a poor network: lower bandwidth, more stalls.
const SHARE_POOR_NETWORK: f64 = 0.10;

/// Per step (heartbeat interval) chances of each interruption, VOD then LIVE.
const PAUSE: [f64; 2] = [0.010, 0.004];
const SEEK: [f64; 2] = [0.008, 0.0];
const BUFFERING: [f64; 2] = [0.007, 0.009];
const ERROR: [f64; 2] = [0.0003, 0.0003];

/// What the viewer decided before the session starts.
#[derive(Debug, Clone)]
pub(super) struct Plan<'a> {
    pub(super) user_id: &'a str,
    /// 1-based, per user.
    pub(super) number: u32,
    /// PLAYER_LOADED, in Unix milliseconds.
    pub(super) start: i64,
    pub(super) media: usize,
    pub(super) content_id: &'a str,
    pub(super) live: bool,
    /// VOD running time and start (resume) position, in milliseconds.
    pub(super) length: i64,
    pub(super) position: i64,
    pub(super) device: Option<&'static str>,
    pub(super) referrer: Option<&'static str>,
}

/// How a session went, for the viewer's next choices.
#[derive(Debug, Clone, Copy)]
pub(super) struct Outcome {
    pub(super) media: usize,
    pub(super) live: bool,
    /// When the viewer left (after the last event when leaving silently).
    pub(super) end: i64,
    /// VOD position when leaving, in milliseconds.
    pub(super) position: i64,
    /// ENDED was sent.
    pub(super) ended: bool,
}

/// An event waiting to be turned into a draft.
#[derive(Debug, Clone, Copy)]
struct Pending {
    kind: &'static str,
    at: i64,
    position: i64,
    bandwidth: Option<f64>,
    played: Option<f64>,
}

#[derive(Debug, Clone)]
pub(super) struct Session {
    session_id: String,
    event_prefix: String,
    user_id: String,
    content_id: String,
    media: usize,
    live: bool,
    device: Option<&'static str>,
    referrer: Option<&'static str>,
    joined: i64,
    /// The clock: the instant of the last queued event, or later.
    t: i64,
    /// VOD: milliseconds into the content.
    position: i64,
    length: i64,
    /// Playback this session will do (unless the content ends first), and done so far.
    target: i64,
    played: i64,
    /// Playback since the last PLAYING event.
    since_report: i64,
    /// Nominal heartbeat interval (11–29 s; each one ±1 s).
    beat: i64,
    reports_played: bool,
    bandwidth_base: f64,
    drift: f64,
    /// Multiplier of the buffering chance.
    trouble: f64,
    seq: u32,
    pending: VecDeque<Pending>,
    /// The instant of the last queued event.
    last: i64,
    playing: bool,
    ended: bool,
    /// Nothing at or after this instant is sent.
    limit: i64,
}

impl Session {
    pub(super) fn new(plan: &Plan<'_>, rng: &mut ChaCha8Rng, limit: i64) -> Session {
        let reports_played = !chance(rng, SHARE_UNREPORTED);
        let (lo, hi) = match plan.device {
            Some("Smart TV") => (3_000.0, 12_000.0),
            Some("Apple TV") => (4_000.0, 12_000.0),
            Some("Chromecast") => (2_500.0, 10_000.0),
            Some("Web") => (2_000.0, 9_000.0),
            Some("iOS") => (1_000.0, 7_000.0),
            Some("Android") => (800.0, 6_000.0),
            _ => (1_500.0, 8_000.0),
        };
        let mut bandwidth_base = log_uniform(rng, lo, hi);
        let mut trouble = 1.0;
        if chance(rng, SHARE_POOR_NETWORK) {
            bandwidth_base = (bandwidth_base * rng.random_range(0.35..0.6)).max(400.0);
            trouble = 3.5;
        }
        let target = if plan.live {
            log_normal_millis(rng, 35 * MINUTE, 0.8, 10 * MINUTE, 180 * MINUTE)
        } else {
            log_normal_millis(rng, 28 * MINUTE, 0.75, 5 * MINUTE, 120 * MINUTE)
        };
        let mut session = Session {
            session_id: format!("s-{}-{}", plan.user_id, plan.number),
            event_prefix: format!("e-{}-{}-", plan.user_id, plan.number),
            user_id: plan.user_id.to_owned(),
            content_id: plan.content_id.to_owned(),
            media: plan.media,
            live: plan.live,
            device: plan.device,
            referrer: plan.referrer,
            joined: plan.start,
            t: plan.start,
            position: if plan.live { 0 } else { plan.position.clamp(0, plan.length.max(0)) },
            length: plan.length,
            target,
            played: 0,
            since_report: 0,
            beat: millis(rng, 11 * SECOND, 29 * SECOND),
            reports_played,
            bandwidth_base,
            drift: 0.0,
            trouble,
            seq: 0,
            pending: VecDeque::with_capacity(4),
            last: i64::MIN,
            playing: false,
            ended: false,
            limit,
        };
        session.open(rng);
        session
    }

    /// PLAYER_LOADED and what follows right away, by the kind of session.
    fn open(&mut self, rng: &mut ChaCha8Rng) {
        self.push("PLAYER_LOADED", None, None);
        let u = rng.random::<f64>();
        if u < SHARE_FAILED {
            self.wait(millis(rng, SECOND, 8 * SECOND));
            self.push("ERROR", None, None);
            return;
        }
        self.wait(millis(rng, 400, 3 * SECOND));
        let bandwidth = self.bandwidth(rng);
        self.push("PLAY", Some(bandwidth), None);
        if u < SHARE_FAILED + SHARE_SHORT {
            // Gone within seconds: at most one heartbeat with 1–4 s of playback.
            if chance(rng, 0.5) {
                let seconds = rng.random_range(1..=4);
                self.advance(seconds * SECOND);
                let bandwidth = self.bandwidth(rng);
                let played = self.reports_played.then_some(seconds as f64);
                self.push("PLAYING", Some(bandwidth), played);
            }
            return;
        }
        if chance(rng, 0.25) {
            // Startup stall.
            self.wait(millis(rng, 30, 300));
            let low = self.low_bandwidth(rng);
            self.push("BUFFERING", Some(low), None);
            self.wait(millis(rng, 500, 4 * SECOND));
        } else {
            self.wait(log_normal_millis(rng, 800, 0.6, 150, 6 * SECOND));
        }
        // The first frame: a player reports PLAYING when playback begins (startup time
        // ends here), then its heartbeats.
        self.heartbeat(rng);
        self.playing = true;
    }

    /// The next event, or `None` when the session is over.
    pub(super) fn next_event(&mut self, rng: &mut ChaCha8Rng) -> Option<PlayerEventDraft> {
        loop {
            if let Some(p) = self.pending.pop_front() {
                if p.at >= self.limit {
                    self.pending.clear();
                    self.playing = false;
                    return None;
                }
                self.ended |= p.kind == "ENDED";
                return Some(self.draft(p));
            }
            if !self.playing {
                return None;
            }
            self.step(rng);
        }
    }

    pub(super) fn outcome(&self) -> Outcome {
        Outcome { media: self.media, live: self.live, end: self.t, position: self.position, ended: self.ended }
    }

    /// Plays up to the next heartbeat, an interruption or the end of the session.
    fn step(&mut self, rng: &mut ChaCha8Rng) {
        let interval = self.beat + millis(rng, -SECOND, SECOND);
        let remaining = (self.target - self.played).max(1);
        let to_end = if self.live { i64::MAX } else { (self.length - self.position).max(1) };
        if remaining.min(to_end) <= interval {
            self.playing = false;
            if to_end <= remaining {
                self.advance(to_end);
                self.heartbeat(rng);
                self.wait(millis(rng, 5, 200));
                self.push("ENDED", None, None);
            } else {
                // The viewer leaves; now and then pausing first.
                self.advance(remaining);
                if chance(rng, 0.2) {
                    self.push("PAUSE", None, None);
                }
            }
            return;
        }

        let k = usize::from(self.live);
        let offset = millis(rng, SECOND, interval - SECOND);
        let mut u = rng.random::<f64>();
        let mut next = |p: f64| {
            let hit = u < p;
            u -= p;
            hit
        };
        if next(PAUSE[k]) {
            self.advance(offset);
            self.push("PAUSE", None, None);
            let pause = log_normal_millis(rng, 45 * SECOND, 1.2, 2 * SECOND, 40 * MINUTE);
            self.wait(pause);
            if pause > 15 * MINUTE && chance(rng, 0.5) {
                self.playing = false; // left while paused
                return;
            }
            let bandwidth = self.bandwidth(rng);
            self.push("PLAY", Some(bandwidth), None);
            // Playing again: the report of the playback before the pause.
            self.wait(millis(rng, 100, 600));
            self.heartbeat(rng);
        } else if next(SEEK[k]) {
            self.advance(offset);
            let jump = if chance(rng, 0.65) {
                millis(rng, 10 * SECOND, 8 * MINUTE)
            } else {
                -millis(rng, 5 * SECOND, 2 * MINUTE)
            };
            self.position = (self.position + jump).clamp(0, (self.length - 5 * SECOND).max(0));
            self.push("SEEK", None, None);
            if chance(rng, 0.6) {
                self.wait(millis(rng, 30, 300));
                let low = self.low_bandwidth(rng);
                self.push("BUFFERING", Some(low), None);
                self.wait(millis(rng, 300, 2_500));
            }
        } else if next(BUFFERING[k] * self.trouble) {
            self.advance(offset);
            let low = self.low_bandwidth(rng);
            self.push("BUFFERING", Some(low), None);
            if chance(rng, 0.02) {
                // A stall the viewer does not sit through.
                self.wait(millis(rng, 20 * SECOND, 90 * SECOND));
                if chance(rng, 0.5) {
                    self.push("ERROR", None, None);
                }
                self.playing = false;
                return;
            }
            self.wait(log_normal_millis(rng, 1_800, 0.8, 300, 30 * SECOND));
        } else if next(ERROR[k]) {
            self.advance(offset);
            self.push("ERROR", None, None);
            if chance(rng, 0.7) {
                self.playing = false;
                return;
            }
            self.wait(millis(rng, 2 * SECOND, 10 * SECOND));
            let bandwidth = self.bandwidth(rng);
            self.push("PLAY", Some(bandwidth), None);
            self.wait(millis(rng, 300, 3 * SECOND));
            self.heartbeat(rng);
        } else {
            self.advance(interval);
            self.heartbeat(rng);
        }
    }

    /// A PLAYING event for the playback since the previous one.
    fn heartbeat(&mut self, rng: &mut ChaCha8Rng) {
        let played = if !self.reports_played {
            None
        } else if chance(rng, SHARE_GLITCH) {
            Some(f64::from(rng.random_range(5..=12_u32)) * 100.0)
        } else {
            Some(self.since_report as f64 / 1_000.0)
        };
        let bandwidth = self.bandwidth(rng);
        self.push("PLAYING", Some(bandwidth), played);
        self.since_report = 0;
    }

    /// Plays `ms` milliseconds.
    fn advance(&mut self, ms: i64) {
        self.t += ms;
        self.played += ms;
        self.since_report += ms;
        if !self.live {
            self.position = (self.position + ms).min(self.length.max(0));
        }
    }

    /// Lets `ms` milliseconds pass without playback.
    fn wait(&mut self, ms: i64) {
        self.t += ms.max(1);
    }

    /// Measured bandwidth in whole Kbps: the session's base, drifting within ±20 %, with
    /// an occasional dip.
    fn bandwidth(&mut self, rng: &mut ChaCha8Rng) -> f64 {
        self.drift = (0.8 * self.drift + 0.05 * normal(rng)).clamp(-0.17, 0.17);
        let jitter = (0.02 * normal(rng)).clamp(-0.03, 0.03);
        let mut kbps = self.bandwidth_base * (1.0 + self.drift + jitter);
        if chance(rng, 0.02) {
            kbps *= rng.random_range(0.2..0.5);
        }
        kbps.round().max(1.0)
    }

    /// Bandwidth during a stall.
    fn low_bandwidth(&mut self, rng: &mut ChaCha8Rng) -> f64 {
        (self.bandwidth_base * rng.random_range(0.08..0.4)).round().max(1.0)
    }

    fn push(&mut self, kind: &'static str, bandwidth: Option<f64>, played: Option<f64>) {
        // Strictly increasing instants: "previous" never needs the id to break a tie.
        let at = self.t.max(self.last.saturating_add(1));
        self.t = at;
        self.last = at;
        let position = if self.live { at - self.joined } else { self.position };
        self.pending.push_back(Pending { kind, at, position, bandwidth, played });
    }

    fn draft(&mut self, p: Pending) -> PlayerEventDraft {
        self.seq += 1;
        PlayerEventDraft {
            id: format!("{}{}", self.event_prefix, self.seq),
            session_id: self.session_id.clone(),
            user_id: self.user_id.clone(),
            event_type: p.kind.to_owned(),
            occurred_at: rfc3339(p.at),
            position: Some(p.position as f64 / 1_000.0),
            content_kind: Some(if self.live { "LIVE" } else { "VOD" }.to_owned()),
            content_id: Some(self.content_id.clone()),
            device: self.device.map(str::to_owned),
            referrer: self.referrer.map(str::to_owned),
            bandwidth_kbps: p.bandwidth,
            played_seconds: p.played,
        }
    }
}
