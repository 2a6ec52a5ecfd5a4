// ottstats-collector.js: sends a web player's events to ottstats' `POST /collect/events`.
//
// A dependency-free ES module, no build step: copy it next to your player and
//
//   import { attach } from './ottstats-collector.js';
//   const collector = attach(videoElement, {
//     endpoint: 'https://stats.example.com/collect/events',
//     key: 'ott_…',            // an *ingest* key: it can send events and read nothing
//     userId: 'u0000002', contentId: 'movie-42', contentKind: 'VOD', device: 'Web',
//     hls,                      // optional: an hls.js instance, for bandwidth and errors
//   });
//
// What it sends, when and how is explained in docs/collector.md; CI loads this very file in
// headless Chromium against a real server (clients/collector.mjs).

const DEFAULTS = {
  contentKind: 'VOD',
  device: 'Web',
  heartbeatSeconds: 10, // a PLAYING event with `playedSeconds` this often while playing
  flushSeconds: 5, // a batch at most this long after its first event
  maxBatch: 50, // events a request
  maxQueue: 2000, // events kept while the server cannot take them; the oldest go first
  maxRetrySeconds: 60, // the longest backoff between two attempts of one batch (Retry-After may say more)
  maxAttempts: 8, // attempts of one batch (any retryable status); then it is dropped
  seekThreshold: 1, // jumps shorter than this (seconds) are the player's own, not a SEEK
};

/** The largest body handed to `navigator.sendBeacon` (browsers allow about 64 KiB in all). */
const BEACON_BYTES = 60_000;
/** The range the server takes for `bandwidthKbps`. */
const MAX_KBPS = 1_000_000;
/** The most `playedSeconds` the server counts for one PLAYING event (it clamps the rest away). */
const MAX_PLAYED = 300;

/**
 * Starts reporting the playback of `media` (an HTMLMediaElement: a <video> or <audio>, or
 * the element under video.js, `player.tech(true).el()`). Returns the collector: `track(type,
 * fields)` sends an event of your own, `flush()` sends what is queued now, `detach()` stops
 * (and flushes), `sessionId`, and `stats` (counts of what was queued, sent and answered).
 */
export function attach(media, options) {
  const o = { ...DEFAULTS, ...options };
  for (const name of ['endpoint', 'key', 'userId']) {
    if (!o[name]) throw new Error(`ottstats collector: the option ${name} is required`);
  }
  const sessionId = o.sessionId ?? randomId();
  // Event ids are unique in the whole tenant: a nonce of this attach, so that a sessionId
  // given again (by the caller, or another tab) never makes new events look like repeats.
  const nonce = randomHex(4);
  const beaconUrl = withKey(o.endpoint, o.key);
  const stats = {
    queued: {}, // by event type
    sent: 0, // events the server answered for (accepted + duplicates + rejected)
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    retries: 0,
    beaconed: 0, // events in beacons the browser took (no answer is seen); refused beacons are not counted
    dropped: 0, // events given up: refused whole (400, 401, 403, 404, 413, 415…), maxAttempts failed, or over maxQueue
  };

  let seq = 0;
  let loaded = false; // PLAYER_LOADED sent
  let started = false; // PLAY sent
  let rolling = false; // PLAYING sent: playback has begun (a stall before it is startup)
  let playingSince = null; // performance.now() of the last PLAYING report while playing
  let heartbeat = null;
  let lastPosition = 0;
  let lastErrorAt = -Infinity;
  let kbps = null; // the latest bandwidth measurement
  let detached = false;

  const queue = []; // events not yet sent
  let batch = null; // { events, attempt, timer, abandoned }: the batch being sent or retried
  let flushTimer = null;
  let hurry = false; // a flush was asked for while a batch was out: send the next one at once
  // Events beaconed while the page was hidden, still queued (a beacon's answer is never
  // seen): not beaconed twice, sent again by fetch once the page is visible.
  let beaconedWhileHidden = new WeakSet();

  // --- events ---------------------------------------------------------------------------

  function event(type, fields = {}) {
    const position = Number.isFinite(media.currentTime) ? round(media.currentTime) : undefined;
    const e = {
      id: `${sessionId}.${nonce}.${++seq}`, // unique per event; a resend keeps it, so the server drops repeats
      sessionId,
      userId: o.userId,
      type,
      occurredAt: new Date().toISOString(),
      position,
      contentKind: o.contentKind,
      contentId: o.contentId,
      device: o.device,
      referrer: o.referrer,
      ...fields,
    };
    stats.queued[type] = (stats.queued[type] ?? 0) + 1;
    o.onEvent?.(e);
    queue.push(e);
    while (queue.length > o.maxQueue) {
      const dropped = queue.shift();
      stats.dropped += 1;
      console.warn(`ottstats collector: more than maxQueue (${o.maxQueue}) events waiting, the oldest (${dropped.type}) dropped`);
    }
    if (queue.length >= o.maxBatch) send();
    else if (!flushTimer) flushTimer = setTimeout(send, o.flushSeconds * 1000);
    return e;
  }

  /** PLAYER_LOADED once, before anything else of the session. */
  function ensureLoaded() {
    if (!loaded) {
      loaded = true;
      event('PLAYER_LOADED');
    }
  }

  /**
   * The playback since the last report, as a PLAYING event (none when there is none). A
   * gap longer than the server counts for one event (throttled timers in a hidden tab) is
   * split into reports of at most 300 s, each at the instant its share ended.
   */
  function report(fields = {}) {
    if (playingSince === null) return;
    const now = performance.now();
    let left = (now - playingSince) / 1000;
    playingSince = now;
    if (left < 0.05) return;
    const at = Date.now();
    while (left > MAX_PLAYED) {
      left -= MAX_PLAYED;
      const occurredAt = new Date(at - left * 1000).toISOString();
      event('PLAYING', { playedSeconds: MAX_PLAYED, occurredAt, ...bandwidth() });
    }
    // The last share ends at `at` too: one clock reading for the whole report.
    event('PLAYING', { playedSeconds: round(left), occurredAt: new Date(at).toISOString(), ...bandwidth(), ...fields });
  }

  function startPlaying() {
    report();
    playingSince = performance.now();
    clearInterval(heartbeat);
    const every = Math.min(Math.max(o.heartbeatSeconds, 1), MAX_PLAYED);
    heartbeat = setInterval(() => report(), every * 1000);
  }

  function stopPlaying(fields) {
    report(fields);
    playingSince = null;
    clearInterval(heartbeat);
    heartbeat = null;
  }

  function bandwidth() {
    const measured = o.bandwidthKbps ? o.bandwidthKbps() : kbps;
    if (!Number.isFinite(measured) || measured <= 0) return {};
    return { bandwidthKbps: round(Math.min(measured, MAX_KBPS)) };
  }

  function error() {
    // hls.js and the element may both report one failure: one ERROR a second at most.
    const now = performance.now();
    if (now - lastErrorAt < 1000) return;
    lastErrorAt = now;
    ensureLoaded();
    stopPlaying();
    event('ERROR');
    send();
  }

  const on = {
    loadedmetadata: () => ensureLoaded(),
    play: () => {
      ensureLoaded();
      started = true;
      event('PLAY', bandwidth());
    },
    // Playback is under way (after PLAY, a stall or a seek): PLAYING with nothing played
    // yet marks the moment (startup time, the end of a stall); heartbeats follow.
    playing: () => {
      ensureLoaded();
      if (playingSince === null) event('PLAYING', { playedSeconds: 0, ...bandwidth() });
      rolling = true;
      startPlaying();
    },
    timeupdate: () => {
      if (!media.seeking && Number.isFinite(media.currentTime)) lastPosition = media.currentTime;
    },
    seeking: () => {
      const to = media.currentTime;
      if (!started || !Number.isFinite(to) || Math.abs(to - lastPosition) < o.seekThreshold) return;
      stopPlaying({ position: round(lastPosition) }); // the playback up to where the jump began
      event('SEEK', { position: round(to) });
      lastPosition = to;
    },
    // A seek that needed no new data may end without a `playing` event.
    seeked: () => {
      if (playingSince === null && !media.paused && media.readyState >= 3) startPlaying();
    },
    waiting: () => {
      // Waiting for a seek is the seek's; before the first frame it is startup (PLAY to
      // PLAYING): neither is a stall.
      if (media.seeking || !rolling) return;
      stopPlaying();
      event('BUFFERING', bandwidth());
    },
    pause: () => {
      if (media.ended) return; // the browser pauses at the end: that is ENDED
      stopPlaying();
      if (started) event('PAUSE');
    },
    ended: () => {
      stopPlaying();
      event('ENDED');
      send();
    },
    error: () => error(),
  };

  // --- hls.js ---------------------------------------------------------------------------

  const hls = o.hls;
  const Events = hls?.constructor?.Events;
  const onHls = {
    manifestParsed: () => ensureLoaded(),
    fragLoaded: (_, data) => {
      // Throughput of the fragment: bytes over the time from request to last byte.
      const s = data?.part?.stats ?? data?.frag?.stats;
      const ms = s ? s.loading.end - s.loading.start : 0;
      if (s?.loaded > 0 && ms >= 0) kbps = (s.loaded * 8) / Math.max(ms, 1); // bits per ms = Kbps
    },
    error: (_, data) => {
      if (data?.fatal) error(); // hls.js recovers from the others by itself
    },
  };
  const hlsEvents = Events
    ? [
        [Events.MANIFEST_PARSED, onHls.manifestParsed],
        [Events.FRAG_LOADED, onHls.fragLoaded],
        [Events.ERROR, onHls.error],
      ]
    : [];

  // --- sending --------------------------------------------------------------------------

  /** Sends the next batch with fetch, unless one is on its way or waiting to be retried. */
  function send() {
    clearTimeout(flushTimer);
    flushTimer = null;
    if (batch) {
      hurry = true;
      return;
    }
    if (queue.length === 0) return;
    batch = { events: queue.splice(0, o.maxBatch), attempt: 0, timer: null, abandoned: false };
    attempt(batch);
  }

  async function attempt(b) {
    let status = 0;
    let wait = null;
    try {
      const body = ndjson(b.events);
      const res = await fetch(o.endpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${o.key}`, 'content-type': 'application/x-ndjson' },
        body,
        keepalive: body.length < BEACON_BYTES, // may outlive the page
      });
      status = res.status;
      wait = retryAfter(res.headers.get('retry-after'));
      if (res.ok) {
        const answer = await res.json().catch(() => ({}));
        if (!b.abandoned) done(b, answer);
        return;
      }
    } catch {
      // status 0: the network failed, or CORS refused: try again later
    }
    if (b.abandoned) return;
    if (retryable(status)) {
      b.attempt += 1;
      if (b.attempt >= o.maxAttempts) {
        // A batch that never passes (one that costs more than the key's whole rate limit
        // gets 429 forever) must not hold the queue for good.
        console.warn(`ottstats collector: HTTP ${status} ${b.attempt} times, ${b.events.length} event(s) dropped`);
        stats.dropped += b.events.length;
        next();
        return;
      }
      // The same batch, the same ids, later: whatever the server stored already comes back
      // as duplicates, so nothing is counted twice. Never before Retry-After, never in a
      // tight loop (at least 1 s), and jittered so that players do not retry in step.
      stats.retries += 1;
      const backoff = Math.min(o.maxRetrySeconds, 2 ** (b.attempt - 1));
      const seconds = Math.max(1, wait ?? 0, backoff) * (1 + Math.random() / 2);
      o.onRetry?.({ status, seconds, events: b.events.length });
      b.timer = setTimeout(() => attempt(b), seconds * 1000);
      return;
    }
    // 400, 401, 403, 404, 413, 415…: sending the same again cannot help.
    console.warn(`ottstats collector: HTTP ${status}, ${b.events.length} event(s) dropped`);
    stats.dropped += b.events.length;
    next();
  }

  function done(b, answer) {
    stats.sent += b.events.length;
    stats.accepted += answer.accepted ?? 0;
    stats.duplicates += answer.duplicates ?? 0;
    stats.rejected += answer.rejected?.length ?? 0;
    for (const r of answer.rejected ?? []) {
      console.warn(`ottstats collector: event ${b.events[r.index]?.type} rejected: ${r.code} ${r.message}`);
    }
    o.onAnswer?.(answer, b.events);
    next();
  }

  function next() {
    batch = null;
    if (hurry || queue.length >= o.maxBatch) {
      hurry = false;
      send();
    } else if (queue.length > 0 && !flushTimer) flushTimer = setTimeout(send, o.flushSeconds * 1000);
  }

  /**
   * Everything not yet answered, now, with sendBeacon. A beacon cannot set headers, so the
   * key goes in `?key=` and the body is NDJSON as `text/plain` (no CORS preflight). Its
   * answer is never seen, so a beacon is only a copy:
   * - `handOver` false (the page is hidden, perhaps only a tab switch): every event stays
   *   queued and goes again by fetch, as usual (a repeat is a duplicate, never counted
   *   twice), so that none is lost if the server refused the beacon (503 during an outage);
   * - `handOver` true (pagehide: the page is going away): what the browser took is handed
   *   over and leaves the queue; the batch being sent or retried is abandoned.
   * A beacon the browser refuses (sendBeacon false: past its quota of about 64 KiB) goes
   * by a keepalive fetch instead; what neither took stays queued and is not counted.
   */
  function beacon(handOver) {
    clearTimeout(flushTimer);
    flushTimer = null;
    if (handOver && batch) {
      clearTimeout(batch.timer);
      batch.abandoned = true; // its answer, if one comes, is ignored; a resend is a duplicate
      queue.unshift(...batch.events);
      batch = null;
      hurry = false;
    }
    // Beaconed while hidden already: on pagehide, those are handed over too.
    if (handOver) forget(queue.filter((e) => beaconedWhileHidden.has(e)));
    const pending = [...(batch ? batch.events : []), ...queue].filter((e) => !beaconedWhileHidden.has(e));
    const taken = (chunk) => {
      stats.beaconed += chunk.length;
      if (handOver) forget(chunk);
      else for (const e of chunk) beaconedWhileHidden.add(e);
    };
    for (let i = 0; i < pending.length; ) {
      let body = '';
      let n = 0;
      while (i + n < pending.length) {
        const line = `${JSON.stringify(pending[i + n])}\n`;
        if (n > 0 && body.length + line.length > BEACON_BYTES) break;
        body += line;
        n += 1;
      }
      const chunk = pending.slice(i, i + n);
      i += n;
      if (navigator.sendBeacon?.(beaconUrl, new Blob([body], { type: 'text/plain' }))) {
        taken(chunk);
      } else {
        // The browser refused the beacon (too much queued): a keepalive fetch instead,
        // counted only once it is answered 2xx.
        fetch(beaconUrl, { method: 'POST', body, keepalive: true, headers: { 'content-type': 'text/plain' } }).then(
          (res) => res.ok && taken(chunk),
          () => {},
        );
      }
    }
  }

  /** Takes handed-over events out of the queue (those of a batch under way stay there). */
  function forget(events) {
    const gone = new Set(events);
    const kept = queue.filter((e) => !gone.has(e));
    queue.splice(0, queue.length, ...kept);
  }

  /** The page is hidden or going away: report the playback so far, beacon what waits. */
  function leaving(handOver) {
    if (playingSince !== null) report();
    beacon(handOver);
  }
  const onPageHide = () => leaving(true);
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') {
      leaving(false);
    } else {
      // Back: what the beacons carried goes again by fetch, to be sure it is stored.
      beaconedWhileHidden = new WeakSet();
      send();
    }
  };
  // Back from the back/forward cache: what no beacon took is still queued.
  const onPageShow = (e) => {
    if (e.persisted) send();
  };

  // --- wiring ---------------------------------------------------------------------------

  for (const [name, handler] of Object.entries(on)) media.addEventListener(name, handler);
  for (const [name, handler] of hlsEvents) hls.on(name, handler);
  addEventListener('pagehide', onPageHide);
  addEventListener('pageshow', onPageShow);
  document.addEventListener('visibilitychange', onVisibility);
  if (media.readyState >= 1) ensureLoaded(); // attached after the metadata came
  if (!media.paused && media.readyState >= 3) {
    // Attached while playing.
    on.play();
    on.playing();
  }

  return {
    sessionId,
    stats,
    /** Sends an event of your own type and fields (for example a LIVE program change). */
    track: (type, fields) => event(type, fields),
    /** Sends the queued events now (fetch; retried on 408/429/5xx like every batch). */
    flush: () => send(),
    /** Stops listening, reports the playback so far and sends everything. */
    detach() {
      if (detached) return;
      detached = true;
      stopPlaying();
      for (const [name, handler] of Object.entries(on)) media.removeEventListener(name, handler);
      for (const [name, handler] of hlsEvents) hls.off(name, handler);
      removeEventListener('pagehide', onPageHide);
      removeEventListener('pageshow', onPageShow);
      document.removeEventListener('visibilitychange', onVisibility);
      send();
    },
  };
}

/** Whether the same batch may pass later: no answer (network, CORS), 408, 429, 5xx. */
function retryable(status) {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

/** `Retry-After` in seconds (a number of seconds, or an HTTP date), or null. */
function retryAfter(value) {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, (at - Date.now()) / 1000) : null;
}

function ndjson(events) {
  return events.map((e) => JSON.stringify(e)).join('\n') + '\n';
}

function withKey(endpoint, key) {
  const url = new URL(endpoint, location.href);
  url.searchParams.set('key', key);
  return url.href;
}

/** A session id: a UUID where the page may make one (secure contexts), random hex elsewhere. */
function randomId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  return randomHex(16);
}

/** `bytes` random bytes as hex. */
function randomHex(bytes) {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}

function round(x) {
  return Math.round(x * 1000) / 1000;
}
