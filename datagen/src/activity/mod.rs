//! A deterministic generator of realistic playback activity (player events and logins)
//! of demo users, for demos, imports and benchmarks.
//!
//! [`catalogue`] gives the contents (60 VOD medias, 12 live signals); an
//! [`ActivityGenerator`] walks the users one after the other and yields each one's
//! sessions in chronological order: the login before a session (if any), then the
//! session's events in order. The same arguments always give the same activity, byte for
//! byte; a user's activity comes from its own ChaCha8 stream (the seed and the user's
//! index), so it does not depend on the other users. Nothing is kept but the session in
//! progress: memory is constant in the number of events.
//!
//! What a session looks like, as a player sends it:
//!
//! - `PLAYER_LOADED`, `PLAY` 0.4–3 s later, a first `PLAYING` when playback begins
//!   (0.15–6 s later, median 0.8 s; after a startup `BUFFERING` of 0.5–4 s in a quarter
//!   of sessions), then `PLAYING` heartbeats every 10–30 s (a nominal interval per
//!   session, ±1 s) with the measured `bandwidthKbps` (a per-session base by device,
//!   800–12,000 Kbps, lower on poor networks, drifting within ±20 %, with occasional
//!   dips) and `playedSeconds`, the playback since the previous `PLAYING` (pauses and
//!   stalls excluded), with millisecond precision. 10 % of sessions never send
//!   `playedSeconds`; 0.1 % of `PLAYING` events send an over-large glitch (500–1,200 s,
//!   clamped by the server).
//! - Mixed in: `PAUSE` … `PLAY` (2 s to 40 min later; a long pause may end the session),
//!   `SEEK` on VOD (its `position` is the one sought to; often a short `BUFFERING`
//!   after), `BUFFERING` stalls with a low bandwidth, rarely `ERROR` (mostly ending the
//!   session, else a `PLAY` retry). A `PLAY` that resumes is followed, as the first one
//!   is, by a `PLAYING` (with the playback before the pause). A VOD played to its end
//!   sends a last `PLAYING` and `ENDED`; a viewer who leaves sends nothing (sometimes a
//!   `PAUSE`).
//! - 2 % of sessions fail to start (`PLAYER_LOADED`, `ERROR`) and 10 % stop within
//!   seconds (`PLAYER_LOADED`, `PLAY`, maybe one `PLAYING` of 1–4 s): not streams.
//! - Playback lengths: VOD 5–120 min (median 28; an episode or movie may end first),
//!   LIVE 10–180 min (median 35), long-tailed.
//! - `position`, in seconds with milliseconds: on VOD the position in the media (0, or
//!   the resume point of a media left unfinished; it advances with playback and jumps on
//!   `SEEK`); on LIVE the wall-clock seconds since the session's `PLAYER_LOADED`.
//! - Every event carries `contentKind` and `contentId`; device and referrer are the
//!   session's (1.5 % of sessions without a device, 1.5 % without a referrer).
//! - Instants strictly increase within a session; RFC 3339 UTC with milliseconds.
//!
//! And the viewers: 3.5 sessions a week at intensity 1 on average, varying a lot from one
//! user to another (log-normal; 5 % never watch, 20 % stop after a few months), busiest
//! in the evening and at weekends in Chile's local time (UTC−3/−4), starting at or after
//! registration (half of those registered within the range watch within 30 minutes). A
//! preferred device or two; about 30 % of sessions LIVE (a per-user taste); Zipf-like
//! popularity; a finished episode is often followed by the next one, an unfinished media
//! resumed later from where it was left (referrer `continue-watching`). Most sessions
//! have a login 3 s–2 min before, and one login covers the user's sessions on the same
//! device for a few hours.
//!
//! Ids: sessions `s-<user>-<n>`, events `e-<user>-<n>-<seq>`, logins `l-<user>-<n>`,
//! with `n` and `seq` counted from 1 per user and per session.

mod catalogue;
mod clock;
mod random;
mod session;
#[cfg(test)]
mod tests;
mod viewer;
mod writers;

use chrono::{DateTime, Utc};
use ottstats_domain::activity_input::{ContentDraft, LoginDraft, PlayerEventDraft};

pub use catalogue::catalogue;
pub use writers::{write_contents_ndjson, write_events_ndjson, write_logins_ndjson};

use catalogue::Library;
use clock::{Rhythm, ceil_millis};
use viewer::Viewer;

/// What the generator yields, in generation order (per user, per session, chronological
/// within a session; a session's login comes before its events).
#[derive(Debug, Clone, PartialEq)]
pub enum Activity {
    Event(PlayerEventDraft),
    Login(LoginDraft),
}

/// A deterministic, streaming generator of the playback activity of given users; see the
/// [module documentation](self).
#[derive(Debug, Clone)]
pub struct ActivityGenerator {
    seed: u64,
    library: Library,
    rhythm: Rhythm,
    users: std::vec::IntoIter<(String, DateTime<Utc>)>,
    next_index: u64,
    /// `[start, end)` in Unix milliseconds (whole milliseconds within the range).
    start: i64,
    end: i64,
    intensity: f64,
    current: Option<Viewer>,
}

impl ActivityGenerator {
    /// The activity of `users` (ids with their registration instants: no activity before
    /// it) in `[start, end)`, on the contents of `catalogue` (kind `LIVE` or else VOD; an
    /// empty catalogue gives no activity). `intensity` scales the sessions per user: 1.0
    /// is a typical viewer, a few sessions a week; 0 gives none.
    pub fn new(
        seed: u64,
        catalogue: &[ContentDraft],
        users: Vec<(String, DateTime<Utc>)>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        intensity: f64,
    ) -> Self {
        ActivityGenerator {
            seed,
            library: Library::new(seed, catalogue),
            rhythm: Rhythm::new(),
            users: users.into_iter(),
            next_index: 0,
            start: ceil_millis(start),
            end: ceil_millis(end),
            intensity,
            current: None,
        }
    }
}

impl Iterator for ActivityGenerator {
    type Item = Activity;

    fn next(&mut self) -> Option<Activity> {
        loop {
            if let Some(viewer) = self.current.as_mut() {
                if let Some(activity) = viewer.next(&self.library, &self.rhythm) {
                    return Some(activity);
                }
                self.current = None;
            }
            let (user_id, registered) = self.users.next()?;
            let index = self.next_index;
            self.next_index += 1;
            self.current = Some(Viewer::new(
                self.seed,
                index,
                user_id,
                ceil_millis(registered),
                (self.start, self.end),
                self.intensity,
                &self.rhythm,
                &self.library,
            ));
        }
    }
}
