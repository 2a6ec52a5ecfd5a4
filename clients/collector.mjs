// The player collector from a real browser (issue 12, item 3): docs/collector/ottstats-
// collector.js, the module docs/collector.md explains, loaded as it is by a page in headless
// Debian Chromium, against a real `ottstats serve --demo`.
//
// The check:
//  (a) makes its media with ffmpeg in a temporary directory: an 8 s HLS stream (H.264 +
//      AAC in MPEG-TS) and a 20 s MP4 (H.264 + AAC), and a WebM (VP8 + Opus) for both
//      players when this Chromium plays no H.264 (Debian's does);
//  (b) makes an ingest key for the demo tenant with the CLI (`key create --scopes ingest`,
//      in the server's working directory OTTSTATS_WORK, with the binary OTTSTATS_BIN), and
//      a fresh user with the demo's full key (upsertUsers);
//  (c) serves a page, the media, the module and hls.js from a Node server on another port
//      (so every POST is cross-origin: CORS), plus a relay to /collect/events on a third
//      port that answers the first fetch it forwards with 503 and `Retry-After: 1` (the
//      server has stored that batch: the retry must send the same ids, and get duplicates);
//  (d) plays, muted, two players at once: #1 hls.js over MSE straight to the server, with a
//      pause, a resume and a seek, to its end; #2 a plain <video> through the relay, which
//      the check leaves mid-play by navigating away: its last events go by sendBeacon;
//  (g) before that, plays a tab switch (visibilityState hidden, then visible) while the
//      relay answers beacons 503 without forwarding them, as a server in an outage would:
//      the beaconed events must stay queued and go again by fetch once visible;
//  (e) asserts that the user's activity holds every event the page sent, by type, within a
//      few seconds, with the playback starts and minutes the events make;
//  (f) asserts that the ingest key reads nothing: POST /graphql answers 403;
//  (h) runs the module on a page of its own with fetch and timers stubbed (no server):
//      a batch that always gets 429 with `Retry-After: 0` is tried 8 times, each wait at
//      least 1 s and the backoff, then dropped with a warning; 408 is retried; two attaches
//      with the same sessionId make different ids; a queue past maxQueue warns as it
//      drops; a 700 s gap between reports goes as reports of at most 300 s.
// A screenshot goes to target/ci-screenshots/collector.png.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { BASE, GRAPHQL, addUser, check, env, fail, finish, freshUserId, post, show, step } from './lib.mjs';

const T0 = Date.now();
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const MODULE = path.join(ROOT, 'docs/collector/ottstats-collector.js');
const HLS_JS = path.join(HERE, 'node_modules/hls.js/dist/hls.mjs');
const SCREENSHOT = path.join(ROOT, 'target/ci-screenshots/collector.png');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
// The demo's tenant, as `serve --demo` names it (datagen's DEMO_TENANT).
const TENANT = process.env.OTTSTATS_DEMO_TENANT ?? 'Demo OTT';
const elapsed = () => `${((Date.now() - T0) / 1000).toFixed(1)} s`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const ENDPOINT = `${BASE()}/collect/events`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ottstats-collector-'));
const servers = [];
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
let browser;
async function cleanUp() {
  await browser?.close().catch(() => {});
  for (const s of servers) s.closeAllConnections?.(), s.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}

// --- (a) media ---------------------------------------------------------------------------

function ffmpeg(...args) {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { encoding: 'utf8' });
  if (r.error) fail(`cannot run ffmpeg (.ci/clients installs Debian's ffmpeg): ${r.error.message}`);
  if (r.status !== 0) fail(`ffmpeg ${args.join(' ')} failed: ${r.stderr}`);
}
const source = (seconds, size) => [
  '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25:duration=${seconds}`,
  '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${seconds}`,
];
const h264 = ['-c:v', 'libx264', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', '50', '-sc_threshold', '0', '-c:a', 'aac', '-b:a', '64k'];
fs.mkdirSync(path.join(tmp, 'hls'));
// prettier-ignore
ffmpeg(...source(8, '320x180'), ...h264, '-shortest', '-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'vod',
  '-hls_segment_filename', path.join(tmp, 'hls/seg%d.ts'), path.join(tmp, 'hls/index.m3u8'));
ffmpeg(...source(20, '320x180'), ...h264, '-shortest', '-movflags', '+faststart', path.join(tmp, 'clip.mp4'));
const makeWebm = () =>
  // prettier-ignore
  ffmpeg(...source(20, '320x180'), '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '400k',
    '-c:a', 'libopus', '-b:a', '64k', '-shortest', path.join(tmp, 'clip.webm'));
const media = fs.readdirSync(path.join(tmp, 'hls'));
console.log(`collector: media made in ${elapsed()} (hls/${media.join(', hls/')}, clip.mp4)`);

// --- (b) keys and user -------------------------------------------------------------------

/** `ottstats key create` as the server sees its database: its working dir, no OTTSTATS_*. */
function createIngestKey() {
  const bin = env('OTTSTATS_BIN');
  const cwd = env('OTTSTATS_WORK');
  const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTTSTATS_')));
  const args = ['key', 'create', '--tenant', TENANT, '--scopes', 'ingest', '--name', 'collector-check'];
  const r = spawnSync(bin, args, { cwd, env: cleanEnv, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) fail(`${bin} ${args.join(' ')} failed (${r.status ?? r.error?.message}): ${r.stderr}${r.stdout}`);
  const key = r.stdout.trim().split('\n').pop().trim();
  if (!/^ott_\S+$/.test(key)) fail(`key create printed no key as its last line: ${show(r.stdout)}`);
  console.log(`collector: ${r.stdout.trim().split('\n')[0]}`);
  return key;
}
const INGEST_KEY = createIngestKey();
const USER = freshUserId('collector');
await addUser(USER, new Date(T0 - 60_000)).catch((e) => fail(e.message));

// --- (c) the page, its files, the relay --------------------------------------------------

const TYPES = { '.m3u8': 'application/vnd.apple.mpegurl', '.ts': 'video/mp2t', '.mp4': 'video/mp4', '.webm': 'video/webm' };

/** A file, with Range support (Chromium asks plain <video> sources for ranges). */
function sendFile(req, res, file, type) {
  let size;
  try {
    size = fs.statSync(file).size;
  } catch {
    res.writeHead(404).end();
    return;
  }
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  const headers = { 'content-type': type, 'accept-ranges': 'bytes', 'cache-control': 'no-store' };
  if (range && (range[1] || range[2])) {
    const start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
    const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start > end || start >= size) {
      res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      return;
    }
    res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
    fs.createReadStream(file, { start, end }).pipe(res);
  } else {
    res.writeHead(200, { ...headers, 'content-length': size });
    fs.createReadStream(file).pipe(res);
  }
}

let pageConfig; // set once the relay's address is known
const site = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://page');
  if (url.pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(pageConfig));
  } else if (url.pathname === '/unit') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(UNIT_PAGE);
  } else if (url.pathname === '/ottstats-collector.js') {
    sendFile(req, res, MODULE, 'text/javascript; charset=utf-8');
  } else if (url.pathname === '/hls.mjs') {
    sendFile(req, res, HLS_JS, 'text/javascript; charset=utf-8');
  } else if (url.pathname.startsWith('/media/') && !url.pathname.includes('..')) {
    const file = path.join(tmp, url.pathname.slice('/media/'.length));
    sendFile(req, res, file, TYPES[path.extname(file)] ?? 'application/octet-stream');
  } else if (url.pathname === '/favicon.ico') {
    res.writeHead(204).end();
  } else {
    res.writeHead(404).end();
  }
});

// The relay: forwards everything to the server as it is (preflights included), except that
// the first fetch POST it forwards is answered 503 with `Retry-After: 1` once the server
// has answered it. It keeps what it saw.
const relayed = []; // { method, auth, body, status, answer }
let faults = 1;
let refuseBeacons = false; // (g): beacons answered 503 and not forwarded
const UNAVAILABLE = '{"errors":[{"message":"relay: try again","extensions":{"code":"UNAVAILABLE"}}]}';
const DROP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);
const relay = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !DROP.has(k)));
  if (refuseBeacons && req.method === 'POST' && !req.headers.authorization) {
    relayed.push({ method: req.method, auth: 'query', body: body.toString(), status: 503, faked: 'beacon' });
    res.writeHead(503, { 'retry-after': '1', 'access-control-allow-origin': '*' }).end(UNAVAILABLE);
    return;
  }
  try {
    const upstream = await fetch(`${BASE()}${req.url}`, {
      method: req.method,
      headers,
      body: req.method === 'POST' ? body : undefined,
      signal: AbortSignal.timeout(15_000),
    });
    const text = await upstream.text();
    const out = {};
    for (const [k, v] of upstream.headers) if (!DROP.has(k) && k !== 'content-encoding') out[k] = v;
    let status = upstream.status;
    const record = { method: req.method, auth: req.headers.authorization ? 'header' : 'query', body: body.toString(), status };
    if (req.method === 'POST') {
      record.answer = text;
      if (faults > 0 && record.auth === 'header' && status === 200) {
        faults -= 1;
        status = 503;
        out['retry-after'] = '1';
        record.faked = 503;
      }
      relayed.push(record);
    }
    const sent = status === 503 && record.faked ? UNAVAILABLE : text;
    res.writeHead(status, out).end(sent);
  } catch (e) {
    relayed.push({ method: req.method, error: String(e) });
    res.writeHead(502).end();
  }
});

for (const s of [site, relay]) {
  servers.push(s);
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
}
const SITE = `http://127.0.0.1:${site.address().port}`;
const RELAY = `http://127.0.0.1:${relay.address().port}/collect/events`;

function page(config) {
  return `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>ottstats collector check</title>
<style>
  body { font: 13px system-ui, sans-serif; margin: 16px; }
  .players { display: flex; gap: 16px; }
  figure { margin: 0; } video { width: 320px; height: 180px; background: #000; }
  figcaption { font-weight: 600; margin: 4px 0; } pre { font-size: 11px; line-height: 1.3; }
</style>
<h1>ottstats collector: <code>POST /collect/events</code> from another origin</h1>
<div class="players">
  <figure><figcaption id="c1">player 1</figcaption><video id="v1" muted playsinline></video><pre id="l1"></pre></figure>
  <figure><figcaption id="c2">player 2</figcaption><video id="v2" muted playsinline></video><pre id="l2"></pre></figure>
</div>
<script type="application/json" id="config">${JSON.stringify(config)}</script>
<script type="module">
  import Hls from '/hls.mjs';
  import { attach } from '/ottstats-collector.js';

  const cfg = JSON.parse(document.getElementById('config').textContent);
  const state = (window.check = { paths: {}, errors: [], retries: [], ended: false });
  addEventListener('error', (e) => state.errors.push(String(e.message)));
  const show = (n, e) => {
    const extra = e.playedSeconds !== undefined ? ' played ' + e.playedSeconds + ' s' : '';
    document.getElementById('l' + n).textContent += e.type + ' @' + (e.position ?? '-') + extra + '\\n';
  };
  const common = { key: cfg.key, userId: cfg.userId, contentKind: 'VOD', device: 'Headless Chromium', referrer: 'ci',
                   heartbeatSeconds: 2 };

  // Player 1: hls.js over MSE (native HLS or the WebM file when MSE cannot play H.264).
  const v1 = document.getElementById('v1');
  const avc = 'video/mp4; codecs="avc1.42E01E, mp4a.40.2"';
  let hls = null;
  if (Hls.isSupported() && MediaSource.isTypeSupported(avc)) {
    hls = new Hls();
    state.paths.player1 = 'hls.js ' + Hls.version + ' over MSE';
  } else if (v1.canPlayType(avc) === 'probably' && v1.canPlayType('application/vnd.apple.mpegurl')) {
    state.paths.player1 = 'native HLS';
  } else {
    state.paths.player1 = 'WebM (no H.264 here)';
  }
  window.c1 = attach(v1, { ...common, endpoint: cfg.endpoint, contentId: 'collector-check-hls', hls, flushSeconds: 2,
                           onEvent: (e) => show(1, e) });
  if (hls) {
    hls.on(Hls.Events.MANIFEST_PARSED, () => v1.play().catch((e) => state.errors.push('play 1: ' + e)));
    hls.loadSource('/media/hls/index.m3u8');
    hls.attachMedia(v1);
  } else {
    v1.src = state.paths.player1 === 'native HLS' ? '/media/hls/index.m3u8' : '/media/clip.webm';
    v1.play().catch((e) => state.errors.push('play 1: ' + e));
  }
  // A viewer: pauses at 1.5 s for 0.6 s, then jumps from 3 s to 5 s, then watches to the end.
  let paused = false, jumped = false;
  v1.addEventListener('timeupdate', () => {
    if (!paused && v1.currentTime >= 1.5) {
      paused = true;
      v1.pause();
      setTimeout(() => v1.play().catch((e) => state.errors.push('resume 1: ' + e)), 600);
    } else if (paused && !jumped && !v1.paused && v1.currentTime >= 3) {
      jumped = true;
      v1.currentTime = 5;
    }
  });
  v1.addEventListener('ended', () => (state.ended = true));
  v1.addEventListener('error', () => state.errors.push('video 1: ' + (v1.error && v1.error.message)));
  document.getElementById('c1').textContent = '1: ' + state.paths.player1 + ', straight to the server';

  // Player 2: a plain <video>, through the relay (a 503 to retry), left mid-play (a beacon).
  const v2 = document.getElementById('v2');
  state.paths.player2 = v2.canPlayType(avc) === 'probably' ? 'MP4 (H.264)' : 'WebM (VP8)';
  v2.src = state.paths.player2.startsWith('MP4') ? '/media/clip.mp4' : '/media/clip.webm';
  window.c2 = attach(v2, { ...common, endpoint: cfg.relay, contentId: 'collector-check-file', flushSeconds: 1,
                           onEvent: (e) => show(2, e), onRetry: (r) => state.retries.push(r) });
  v2.play().catch((e) => state.errors.push('play 2: ' + e));
  v2.addEventListener('error', () => state.errors.push('video 2: ' + (v2.error && v2.error.message)));
  document.getElementById('c2').textContent = '2: plain <video>, ' + state.paths.player2 + ', through the relay';
</script>
</html>`;
}

// (h): the module with fetch, setTimeout and performance.now stubbed; `window.unit` holds
// what each case saw, `window.unitDone` is set at the end.
const UNIT_PAGE = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>ottstats collector: stubbed</title>
<script type="module">
  import { attach } from '/ottstats-collector.js';
  const realTimeout = setTimeout.bind(window);
  const tick = () => new Promise((r) => realTimeout(r, 0));
  const until = async (ok) => { for (let i = 0; i < 2000 && !ok(); i++) await tick(); return ok(); };
  window.setTimeout = (f, ms, ...args) => realTimeout(f, 0, ...args); // every wait at once
  let answers = []; // what the stubbed fetch answers next: [status, retryAfter]
  const posted = [];
  window.fetch = async (url, init) => {
    posted.push(String(init.body));
    const [status, retryAfter] = answers.shift() ?? [200];
    const headers = retryAfter === undefined ? {} : { 'retry-after': retryAfter };
    const lines = String(init.body).split('\\n').filter((l) => l.trim()).length;
    const body = status === 200 ? { accepted: lines, duplicates: 0, rejected: [] } : { errors: [] };
    return new Response(JSON.stringify(body), { status, headers });
  };
  const warnings = [];
  console.warn = (m) => warnings.push(String(m));
  let now = 1000;
  performance.now = () => now;
  const common = { endpoint: 'http://127.0.0.1:9/collect/events', key: 'ott_x', userId: 'u1' };
  const unit = (window.unit = {});
  try {
    // A batch refused for ever (as one costing more than the key's whole limit).
    answers = Array.from({ length: 20 }, () => [429, '0']);
    const retries = [];
    const a = attach(document.createElement('video'), { ...common, onRetry: (r) => retries.push(r.seconds) });
    a.track('PLAY');
    a.flush();
    await until(() => a.stats.dropped > 0 || posted.length > 12);
    unit.bounded = { posts: posted.length, retries, stats: { ...a.stats }, warnings: [...warnings] };
    a.detach();
    // 408 is retried like 503.
    answers = [[408], [200]];
    posted.length = 0;
    const b = attach(document.createElement('video'), { ...common });
    b.track('PLAY');
    b.flush();
    await until(() => b.stats.sent > 0 || b.stats.dropped > 0);
    unit.timeout = { posts: posted.length, stats: { ...b.stats } };
    b.detach();
    // The same sessionId twice: different ids.
    const ids = [];
    for (const _ of [1, 2]) {
      const c = attach(document.createElement('video'), { ...common, sessionId: 'same', onEvent: (e) => ids.push(e.id) });
      c.track('PLAY');
      c.detach();
    }
    unit.ids = ids;
    await until(() => answers.length === 0 && posted.length >= 4);
    // Past maxQueue: the oldest dropped, with a warning.
    warnings.length = 0;
    const d = attach(document.createElement('video'), { ...common, maxQueue: 2, flushSeconds: 3600 });
    window.setTimeout = () => 0; // no flush: the queue only grows
    for (const t of ['PLAY', 'PAUSE', 'PLAY']) d.track(t);
    unit.overflow = { stats: { ...d.stats }, warnings: [...warnings] };
    // 700 s of playback between two reports (throttled timers): 300 + 300 + 100.
    const v = document.createElement('video');
    const played = [];
    const e = attach(v, { ...common, onEvent: (ev) => ev.type === 'PLAYING' && played.push([ev.playedSeconds, ev.occurredAt]) });
    v.dispatchEvent(new Event('playing'));
    now += 700_000;
    v.dispatchEvent(new Event('pause'));
    unit.split = played;
    e.detach();
  } catch (err) {
    unit.error = String(err && err.stack || err);
  }
  window.unitDone = true;
</script>
</html>`;

// --- (d) the browser ---------------------------------------------------------------------

const sent = new Map(); // event id -> event, every event in a body Chromium sent
const requests = []; // { url, method, kind }
const consoleLines = [];
function ledger(body) {
  for (const line of String(body ?? '').split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line);
      sent.set(e.id, e);
    } catch {
      consoleLines.push(`unparsable line in a body: ${show(line, 200)}`);
    }
  }
}

let pageState;
let stats1;
let tabSwitch;
await step('d. the page plays and sends its events', async () => {
  pageConfig = { endpoint: ENDPOINT, relay: RELAY, key: INGEST_KEY, userId: USER };
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container has no user namespace for Chromium's sandbox; muted autoplay.
    args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'],
  });
  const probe = await browser.newPage();
  const h264 = await probe.evaluate(() => document.createElement('video').canPlayType('video/mp4; codecs="avc1.42E01E, mp4a.40.2"'));
  await probe.close();
  if (h264 !== 'probably') makeWebm();

  const context = await browser.newContext({ viewport: { width: 760, height: 560 } });
  const tab = await context.newPage();
  tab.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  tab.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  context.on('request', (r) => {
    if (!r.url().includes('/collect/events')) return;
    requests.push({ method: r.method(), type: r.url().includes('key=') ? 'beacon' : r.resourceType() });
    if (r.method() === 'POST') ledger(r.postData());
  });
  await tab.goto(`${SITE}/`);

  // Player 1 at its end with every event answered; player 2 retried its first batch.
  const deadline = Date.now() + 35_000;
  for (;;) {
    pageState = await tab.evaluate(() => ({
      ...window.check,
      s1: window.c1?.stats,
      s2: window.c2?.stats,
      t1: document.getElementById('v1').currentTime,
      t2: document.getElementById('v2').currentTime,
    }));
    const total1 = Object.values(pageState.s1?.queued ?? {}).reduce((a, b) => a + b, 0);
    const done1 = pageState.ended && total1 > 0 && pageState.s1.sent === total1;
    const done2 = pageState.s2?.retries >= 1 && pageState.s2.duplicates >= 1 && pageState.t2 >= 3;
    if (done1 && done2) break;
    if (Date.now() > deadline) {
      throw new Error(`the players did not get there in 35 s: ${show(pageState, 1500)}\nconsole: ${show(consoleLines, 1500)}`);
    }
    await sleep(250);
  }
  console.log(`collector: player 1 ${pageState.paths.player1}, player 2 ${pageState.paths.player2}; played in ${elapsed()}`);
  fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await tab.screenshot({ path: SCREENSHOT });
  stats1 = pageState.s1;

  // (g) A tab switch while beacons fail (503, not stored): player 2 reports its playback
  // and beacons what waits, which must stay queued and go again by fetch once visible.
  const setVisibility = (state) =>
    tab.evaluate((state) => {
      if (state === 'real') delete document.visibilityState;
      else Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
      if (state !== 'real') document.dispatchEvent(new Event('visibilitychange'));
    }, state);
  refuseBeacons = true;
  const hiddenAt = relayed.length;
  await setVisibility('hidden');
  for (let i = 0; i < 40 && !relayed.slice(hiddenAt).some((r) => r.faked === 'beacon'); i++) await sleep(50);
  refuseBeacons = false;
  await setVisibility('visible');
  const refusedIds = relayed
    .filter((r) => r.faked === 'beacon')
    .flatMap((r) => r.body.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l).id));
  const fetched = () =>
    new Set(relayed.filter((r) => r.auth === 'header' && r.status === 200 && !r.faked).flatMap((r) => r.body.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l).id)));
  for (let i = 0; i < 60 && !refusedIds.every((id) => fetched().has(id)); i++) await sleep(100);
  tabSwitch = { refusedIds, resent: refusedIds.filter((id) => fetched().has(id)), stats: await tab.evaluate(() => ({ ...window.c2.stats })) };
  await setVisibility('real');

  // Leaving the page: pagehide; player 2's last PLAYING and what it queued go by sendBeacon.
  const before = relayed.length;
  await tab.goto('about:blank');
  for (let i = 0; i < 40 && !relayed.slice(before).some((r) => r.auth === 'query'); i++) await sleep(100);
});

check('d. no script errors on the page', (pageState?.errors ?? []).length === 0, show(pageState?.errors));
check('d. player 1 sent its events straight to the server, all answered', stats1 && stats1.sent > 0 && stats1.rejected === 0 && stats1.retries === 0, show(stats1));
check('d. player 1: every event accepted once, no duplicates', stats1 && stats1.accepted === stats1.sent && stats1.duplicates === 0, show(stats1));
const faked = relayed.find((r) => r.faked);
const retried = faked && relayed.find((r) => !r.faked && r.method === 'POST' && r.body === faked.body);
check('c. the relay answered a stored batch 503 with Retry-After: 1', Boolean(faked) && JSON.parse(faked.answer).accepted > 0, show(relayed.map(({ answer, ...r }) => ({ ...r, body: show(r.body, 80), answer }))));
const retryWait = pageState?.retries?.[0];
check('c. the page waited what Retry-After said (1 s, jittered up to ×1.5), then sent the same ids again', retryWait?.status === 503 && retryWait.seconds >= 1 && retryWait.seconds <= 1.5 && Boolean(retried), show({ retries: pageState?.retries, relayed: relayed.length }));
if (retried) {
  const again = JSON.parse(retried.answer);
  const n = faked.body.trim().split('\n').length;
  check('c. the resent batch came back as duplicates only', again.accepted === 0 && again.duplicates === n, show(again));
}
check('g. a tab switch beaconed player 2\'s events; the relay refused the beacon (503)', tabSwitch?.refusedIds.length > 0, show(tabSwitch));
check('g. the refused beacon\'s events stayed queued and went again by fetch once visible, answered 200', tabSwitch && tabSwitch.resent.length === tabSwitch.refusedIds.length && tabSwitch.stats.dropped === 0, show(tabSwitch));
const beacons = relayed.filter((r) => r.auth === 'query' && r.method === 'POST' && !r.faked);
check('d. leaving the page sent a beacon (text/plain, ?key=) that the server took', beacons.length >= 1 && beacons.every((b) => b.status === 200 && JSON.parse(b.answer).rejected.length === 0), show(beacons));
for (const b of beacons) ledger(b.body); // in case Chromium's request event missed it

// --- (h) the module alone, fetch and timers stubbed ------------------------------------------

let unit;
await step('h. the module runs with fetch and timers stubbed', async () => {
  const tab = await browser.newPage();
  tab.on('pageerror', (e) => consoleLines.push(`pageerror (h): ${e.message}`));
  await tab.goto(`${SITE}/unit`);
  await tab.waitForFunction(() => window.unitDone === true, null, { timeout: 15_000 });
  unit = await tab.evaluate(() => window.unit);
  await tab.close();
});
check('h. no error in the stubbed cases', unit && !unit.error, show(unit?.error));
const bounded = unit?.bounded;
check('h. a batch refused 429 for ever: 8 attempts, then dropped with a warning', bounded?.posts === 8 && bounded.stats.dropped === 1 && bounded.stats.retries === 7 && bounded.warnings.some((w) => w.includes('dropped')), show(bounded));
const floors = (bounded?.retries ?? []).map((s, i) => s >= Math.max(1, Math.min(60, 2 ** i)) && s <= 1.5 * Math.max(1, Math.min(60, 2 ** i)));
check('h. Retry-After: 0 waits at least 1 s; waits are the backoff (1, 2, 4… s) times a jitter of 1 to 1.5', floors.length === 7 && floors.every(Boolean) && new Set(bounded.retries).size > 1, show(bounded?.retries));
check('h. 408 is retried: the same batch again, then answered', unit?.timeout?.posts === 2 && unit.timeout.stats.sent === 1 && unit.timeout.stats.retries === 1, show(unit?.timeout));
const [id1, id2] = unit?.ids ?? [];
check('h. the same sessionId twice makes different event ids', Boolean(id1 && id2) && id1 !== id2 && id1.startsWith('same.') && /^same\.[0-9a-f]{8}\.1$/.test(id2), show(unit?.ids));
check('h. past maxQueue the oldest is dropped with a console warning', unit?.overflow?.stats.dropped === 1 && unit.overflow.warnings.some((w) => w.includes('maxQueue')), show(unit?.overflow));
const split = (unit?.split ?? []).map(([s]) => s);
// The shares are dated when each ended (the clock of the first report is not stubbed).
const splitAt = (unit?.split ?? []).slice(1).map(([, at]) => Date.parse(at));
const dated = splitAt.length === 3 && splitAt[1] - splitAt[0] === 300_000 && splitAt[2] - splitAt[1] === 100_000;
check('h. 700 s between two reports goes as PLAYING 0, 300, 300, 100, each dated when its share ended', show(split) === show([0, 300, 300, 100]) && dated, show(unit?.split));

// --- (e) the user's activity -------------------------------------------------------------

const byType = (events) => {
  const counts = {};
  for (const e of events) counts[e.type] = (counts[e.type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort());
};
const sentEvents = [...sent.values()];
const expected = byType(sentEvents);
const session1 = sentEvents.filter((e) => e.contentId === 'collector-check-hls');
const sequence = (events) =>
  events
    .sort((a, b) => a.occurredAt.localeCompare(b.occurredAt) || Number(a.id.split('.').pop()) - Number(b.id.split('.').pop()))
    .map((e) => `${e.type}${e.playedSeconds !== undefined ? `(${e.playedSeconds})` : ''}@${e.position ?? '-'}`)
    .join(' ');
console.log(`collector: player 1 sent ${sequence(session1)}`);
console.log(`collector: player 2 sent ${sequence(sentEvents.filter((e) => e.contentId !== 'collector-check-hls'))}`);
console.log(`collector: the page sent ${sentEvents.length} events: ${show(expected)}`);
check('e. player 1 sent PLAYER_LOADED, PLAY, PLAYING, PAUSE, SEEK and ENDED', ['PLAYER_LOADED', 'PLAY', 'PLAYING', 'PAUSE', 'SEEK', 'ENDED'].every((t) => byType(session1)[t] > 0), show(byType(session1)));
check('e. the page reports it sent what Chromium sent for player 1', show(Object.fromEntries(Object.entries(stats1?.queued ?? {}).sort())) === show(byType(session1)), show({ page: stats1?.queued, network: byType(session1) }));
const bandwidthSent = session1.some((e) => e.bandwidthKbps > 0);
check('e. hls.js FRAG_LOADED gave bandwidth samples', !pageState?.paths?.player1?.startsWith('hls.js') || bandwidthSent, show(session1.filter((e) => e.type === 'PLAYING')));

const QUERY = `query Collected($id: ID!, $from: String!, $to: String!) {
  user(id: $id) { activity(period: { from: $from, to: $to, timeZone: "UTC" }) {
    overview { playbackStarts minutesConsumed streams }
    events(first: 100) { totalCount nodes { id type sessionId contentKind device bandwidthKbps } } } } }`;
const variables = { id: USER, from: new Date(T0 - 10 * 60_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() };
await step('e. the events are in the user activity', async () => {
  let activity;
  let r;
  const deadline = Date.now() + 5_000;
  do {
    r = await post(QUERY, variables);
    activity = r.body?.data?.user?.activity;
    if (activity && activity.events.totalCount === sentEvents.length) break;
    await sleep(250);
  } while (Date.now() < deadline);
  check('e. the query answered', r.status === 200 && Boolean(activity) && !r.body.errors, show(r.text));
  if (!activity) return;
  const nodes = activity.events.nodes;
  check(`e. every event sent is there, once (${sentEvents.length})`, activity.events.totalCount === sentEvents.length && nodes.every((n) => sent.has(n.id)), show({ totalCount: activity.events.totalCount, sent: sentEvents.length }));
  check('e. by type, as sent', show(byType(nodes)) === show(expected), show({ server: byType(nodes), sent: expected }));
  check('e. two sessions, as the two players', new Set(nodes.map((n) => n.sessionId)).size === 2, show([...new Set(nodes.map((n) => n.sessionId))]));
  check('e. playbackStarts is the number of PLAY events', activity.overview.playbackStarts === (expected.PLAY ?? 0), show(activity.overview));
  const played = sentEvents.reduce((sum, e) => sum + (e.type === 'PLAYING' ? Math.min(300, e.playedSeconds ?? 0) : 0), 0);
  check(`e. minutesConsumed is the played seconds sent / 60 (${played.toFixed(1)} s)`, Math.abs(activity.overview.minutesConsumed - played / 60) < 1e-3, show(activity.overview));
});

// --- (f) an ingest key reads nothing -----------------------------------------------------

await step('f. the ingest key is refused at /graphql', async () => {
  const r = await fetch(GRAPHQL(), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${INGEST_KEY}` },
    body: JSON.stringify({ query: `{ user(id: "${USER}") { id } }` }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await r.text();
  check('f. POST /graphql with the ingest key: HTTP 403', r.status === 403, `HTTP ${r.status} ${show(text)}`);
  check('f. nothing of the user in the answer', !text.includes(`"id":"${USER}"`), show(text));
});

// The relay's 503 is logged by Chromium as a failed resource: expected, not shown.
const unexpected = consoleLines.filter((l) => /^(error|pageerror)/.test(l) && !l.includes('status of 503'));
if (unexpected.length) console.log(`collector: the page's console: ${show(consoleLines, 1500)}`);
console.log(`collector: ${requests.length} requests to /collect/events (${show(byType(requests.map((r) => ({ type: `${r.method} ${r.type}` }))))}), ${elapsed()}`);
await cleanUp();
finish('collector');
