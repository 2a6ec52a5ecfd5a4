//! One user's viewing habits and the sessions and logins they produce, in order.

use ottstats_domain::activity_input::LoginDraft;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::Activity;
use super::catalogue::Library;
use super::clock::{HOUR, MINUTE, Rhythm, SECOND, WEEK, rfc3339};
use super::random::{chance, exponential, log_normal, millis, normal, pick};
use super::session::{Outcome, Plan, Session};

/// Sessions a week of a typical viewer at intensity 1.
const SESSIONS_PER_WEEK: f64 = 3.5;
/// Users who never watch, and users who stop after a while (mean active time).
const SHARE_DORMANT: f64 = 0.05;
const SHARE_CHURNING: f64 = 0.2;
const MEAN_ACTIVE_DAYS: f64 = 120.0;
/// Sessions without a device, without a referrer.
const SHARE_NO_DEVICE: f64 = 0.015;
const SHARE_NO_REFERRER: f64 = 0.015;

pub(super) const DEVICES: [(&str, f64); 6] =
    [("Smart TV", 30.0), ("Android", 26.0), ("iOS", 14.0), ("Web", 15.0), ("Chromecast", 8.0), ("Apple TV", 7.0)];

/// Referrers of a VOD session on a media not resumed.
const VOD_REFERRERS: [(&str, f64); 6] = [
    ("home", 36.0),
    ("search", 16.0),
    ("recommendations", 28.0),
    ("continue-watching", 4.0),
    ("push-notification", 9.0),
    ("deep-link", 7.0),
];

const LIVE_REFERRERS: [(&str, f64); 7] = [
    ("epg", 38.0),
    ("home", 30.0),
    ("search", 6.0),
    ("recommendations", 9.0),
    ("push-notification", 8.0),
    ("deep-link", 5.0),
    ("continue-watching", 4.0),
];

#[derive(Debug, Clone)]
pub(super) struct Viewer {
    rng: ChaCha8Rng,
    user_id: String,
    /// Activity lies in `[from, end)`; sessions start before `until` (churn).
    from: i64,
    until: i64,
    end: i64,
    /// Candidate session starts per millisecond, thinned by the weekly rhythm.
    candidate_rate: f64,
    /// The earliest next session start, and when the last session ended.
    cursor: i64,
    last_end: i64,
    /// The next session comes right after registration / right after the last one.
    onboarding: bool,
    binge: bool,
    primary: &'static str,
    secondary: &'static str,
    live_share: f64,
    sessions: u32,
    logins: u32,
    last_login: Option<(i64, Option<&'static str>)>,
    /// A VOD media left unfinished (and where), the next episode of one finished.
    resume: Option<(usize, i64)>,
    next_episode: Option<usize>,
    session: Option<Session>,
    login: Option<LoginDraft>,
}

impl Viewer {
    /// The user's habits come from ChaCha8 stream `index` of `seed`: they do not depend
    /// on the other users.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        seed: u64,
        index: u64,
        user_id: String,
        registered: i64,
        (start, end): (i64, i64),
        intensity: f64,
        rhythm: &Rhythm,
        library: &Library,
    ) -> Viewer {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(index);
        let engagement = if chance(&mut rng, SHARE_DORMANT) {
            0.0
        } else {
            // Log-normal with mean 1: most watch a little, a few a lot.
            let sigma: f64 = 0.8;
            log_normal(&mut rng, (-sigma * sigma / 2.0).exp(), sigma)
        };
        let per_week = SESSIONS_PER_WEEK * engagement * intensity;
        let per_week = if per_week.is_finite() && per_week > 0.0 { per_week } else { 0.0 };
        let mut until = end;
        if chance(&mut rng, SHARE_CHURNING) {
            let active = exponential(&mut rng, MEAN_ACTIVE_DAYS * 24.0 * HOUR as f64) as i64;
            until = until.min(registered.saturating_add(active));
        }
        let onboarding = per_week > 0.0 && registered >= start && chance(&mut rng, 0.5);
        let primary = pick(&mut rng, &DEVICES, "Smart TV");
        let mut secondary = primary;
        for _ in 0..8 {
            if secondary != primary {
                break;
            }
            secondary = pick(&mut rng, &DEVICES, "Android");
        }
        let live_share = (0.3 + 0.15 * normal(&mut rng)).clamp(0.02, 0.9);
        let from = registered.max(start);
        if !library.has_vod() && !library.has_live() {
            until = from;
        }
        Viewer {
            rng,
            user_id,
            from,
            until,
            end,
            candidate_rate: per_week * rhythm.peak_over_mean() / WEEK as f64,
            cursor: from,
            last_end: from,
            onboarding,
            binge: false,
            primary,
            secondary,
            live_share,
            sessions: 0,
            logins: 0,
            last_login: None,
            resume: None,
            next_episode: None,
            session: None,
            login: None,
        }
    }

    /// The user's next login or event; `None` when the user has no more activity.
    pub(super) fn next(&mut self, library: &Library, rhythm: &Rhythm) -> Option<Activity> {
        loop {
            if let Some(login) = self.login.take() {
                return Some(Activity::Login(login));
            }
            if let Some(session) = self.session.as_mut() {
                if let Some(event) = session.next_event(&mut self.rng) {
                    return Some(Activity::Event(event));
                }
                let outcome = session.outcome();
                self.session = None;
                self.finish(outcome, library);
            }
            let start = self.next_start(rhythm)?;
            self.begin(start, library);
        }
    }

    /// When the next session starts: right after registration or the last session, or
    /// else by a Poisson process thinned by the hour of the week.
    fn next_start(&mut self, rhythm: &Rhythm) -> Option<i64> {
        let start = if std::mem::take(&mut self.onboarding) {
            self.cursor + millis(&mut self.rng, MINUTE, 30 * MINUTE)
        } else if std::mem::take(&mut self.binge) {
            self.cursor + millis(&mut self.rng, 5 * SECOND, 3 * MINUTE)
        } else {
            if self.candidate_rate <= 0.0 {
                return None;
            }
            let mean_gap = 1.0 / self.candidate_rate;
            let mut t = self.cursor;
            loop {
                let gap = exponential(&mut self.rng, mean_gap).ceil();
                t = t.saturating_add(if gap < 9.0e18 { (gap as i64).max(1) } else { i64::MAX });
                if t >= self.until {
                    return None;
                }
                if chance(&mut self.rng, rhythm.acceptance(t)) {
                    break t;
                }
            }
        };
        (start < self.until && start < self.end).then_some(start)
    }

    /// Chooses the session's content, device and referrer, and a login before it.
    fn begin(&mut self, start: i64, library: &Library) {
        let live = if !library.has_vod() {
            true
        } else if !library.has_live() {
            false
        } else {
            chance(&mut self.rng, self.live_share)
        };
        let (media, position, referrer) = if live {
            (library.pick_live(&mut self.rng), 0, pick(&mut self.rng, &LIVE_REFERRERS, "epg"))
        } else {
            self.choose_vod(library)
        };
        let u = self.rng.random::<f64>();
        let device = if u < 0.65 {
            self.primary
        } else if u < 0.93 {
            self.secondary
        } else {
            pick(&mut self.rng, &DEVICES, "Web")
        };
        let device = (!chance(&mut self.rng, SHARE_NO_DEVICE)).then_some(device);
        let referrer = (!chance(&mut self.rng, SHARE_NO_REFERRER)).then_some(referrer);
        self.log_in(start, device);

        self.sessions += 1;
        let (content_id, length) = library.get(media).map_or(("", 0), |m| (m.id.as_str(), m.length));
        let plan = Plan {
            user_id: &self.user_id,
            number: self.sessions,
            start,
            media,
            content_id,
            live,
            length,
            position,
            device,
            referrer,
        };
        self.session = Some(Session::new(&plan, &mut self.rng, self.end));
    }

    /// The next episode of a series just finished, a media left unfinished, or a media by
    /// popularity (often the first episode of a series).
    fn choose_vod(&mut self, library: &Library) -> (usize, i64, &'static str) {
        if let Some(next) = self.next_episode.take()
            && chance(&mut self.rng, 0.6)
        {
            let referrer = if chance(&mut self.rng, 0.75) { "continue-watching" } else { "recommendations" };
            return (next, 0, referrer);
        }
        if let Some((media, position)) = self.resume
            && chance(&mut self.rng, 0.45)
        {
            self.resume = None;
            let referrer = if chance(&mut self.rng, 0.85) { "continue-watching" } else { "home" };
            return (media, position, referrer);
        }
        let mut media = library.pick_vod(&mut self.rng);
        if chance(&mut self.rng, 0.5) {
            media = library.get(media).map_or(media, |m| m.first);
        }
        (media, 0, pick(&mut self.rng, &VOD_REFERRERS, "home"))
    }

    /// Most sessions have a login shortly before; one login covers the sessions on the
    /// same device within a few hours.
    fn log_in(&mut self, start: i64, device: Option<&'static str>) {
        let covered =
            self.last_login.is_some_and(|(at, d)| d == device && start - at < 6 * HOUR) && chance(&mut self.rng, 0.85);
        if covered || !chance(&mut self.rng, 0.92) {
            return;
        }
        let at = (start - millis(&mut self.rng, 3 * SECOND, 2 * MINUTE)).max(self.last_end.max(self.from));
        if at >= start {
            return;
        }
        self.logins += 1;
        self.last_login = Some((at, device));
        self.login = Some(LoginDraft {
            id: format!("l-{}-{}", self.user_id, self.logins),
            user_id: self.user_id.clone(),
            occurred_at: rfc3339(at),
            device: device.map(str::to_owned),
        });
    }

    /// Remembers where a VOD media was left and what comes next.
    fn finish(&mut self, outcome: Outcome, library: &Library) {
        if !outcome.live {
            let length = library.get(outcome.media).map_or(0, |m| m.length);
            if outcome.ended {
                self.resume = None;
                self.next_episode = library.get(outcome.media).and_then(|m| m.next);
                self.binge = self.next_episode.is_some() && chance(&mut self.rng, 0.5);
            } else if outcome.position > MINUTE && outcome.position < length - 2 * MINUTE {
                self.resume = Some((outcome.media, outcome.position));
            }
        }
        // Zapping, or another title straight away.
        self.binge |= chance(&mut self.rng, 0.05);
        self.last_end = outcome.end;
        self.cursor = outcome.end + if self.binge { 1 } else { 2 * MINUTE };
    }
}
