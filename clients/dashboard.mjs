// The dashboard (GET /) in headless Debian Chromium against a real `ottstats serve --demo`
// (issue 13, item 2): the page fills in the demo's key and featured user by itself; the
// check then asks the API the same questions and asserts that the page shows the same
// numbers:
//  (a) the total and the earlier period's total, the peak bucket, every timeline bucket;
//  (b) the gender pie: a click on its largest slice shows that gender's count and share;
//      the shares' table;
//  (c) age rows; geography: the State tab (chosen with the arrow key) shows the "Other" row;
//  (d) the user's name, overview tiles with the comparison, quality tiles, the bandwidth
//      average, and the event under the mouse in the events chart (its tooltip);
//  (e) a registration written during the check appears without a reload, and so does a
//      PLAY event of the featured user (liveRegistrations / liveUserActivity);
//  (f) a panel's CSV download holds the panel's rows;
//  (g) axe-core finds no serious or critical accessibility violation; on a phone-sized
//      screen nothing scrolls sideways; no script error.
// Screenshots go to target/ci-screenshots/dashboard.png and dashboard-phone.png.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { BASE, addUser, check, env, fail, finish, freshUserId, post, show, step } from './lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SHOTS = path.join(HERE, '..', 'target/ci-screenshots');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const USER = env('OTTSTATS_USER');
const near = (a, b) => Math.abs(Number(a) - Number(b)) < 1e-6 * Math.max(1, Math.abs(Number(b)));

async function api(query, variables) {
  const r = await post(query, variables);
  if (r.status !== 200 || r.body?.errors) fail(`the API refused the check's own query: HTTP ${r.status} ${show(r.text)}`);
  return r.body.data;
}

const QUALITY = 'startup { sessions averageMs maxMs } exitsBeforeStart rebuffering { count seconds ratio } errors';
const EXPECTED = `query Expected($period: PeriodInput!, $id: ID!) {
  registrations(period: $period) {
    total
    change { total previousTotal percentage }
    timeline(granularity: DAY) { buckets { start total } peak { start total } }
    byGender { gender count percentage }
    byAge { label count }
    byGeography(level: STATE) { label count isOther }
  }
  user(id: $id) {
    name
    activity(period: $period) {
      overview { streams playbackStarts minutesConsumed }
      change { streams { previous } playbackStarts { previous } minutesConsumed { previous } }
      bandwidth(granularity: DAY) { averageKbps }
      quality { ${QUALITY} }
    }
  }
}`;
const EVENTS = `query Events($period: PeriodInput!, $id: ID!, $after: String) {
  user(id: $id) { activity(period: $period) { events(first: 1000, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id type position device } } } }
}`;

fs.mkdirSync(SHOTS, { recursive: true });
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
const errors = [];
const watch = (page) => {
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
};

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  watch(page);
  await page.goto(`${BASE()}/`);
  await page.waitForSelector('#status[data-state="live"]', { timeout: 30_000 }).catch(async () => {
    fail(`the page never went live; its status says ${show(await page.textContent('#status'))}`);
  });
  await page.waitForSelector('#overview-streams', { timeout: 30_000 });
  await page.evaluate(() => (window.__notReloaded = true));

  // The period the page asked for, as the server resolved it.
  const [from, to, timeZone] = await page.$$eval('#registrations-total-table tbody td', (tds) => tds.slice(0, 3).map((td) => td.textContent));
  const period = { from, to, timeZone };
  check('the page asked for a period', Boolean(from && to && timeZone), show(period));
  check('the demo pre-filled the key and the user', (await page.inputValue('#key')).startsWith('ott_') && (await page.inputValue('#user-id')) === USER);
  const expected = await api(EXPECTED, { period, id: USER });
  const reg = expected.registrations;

  await step('(a) totals, comparison, peak and timeline', async () => {
    const total = await page.getAttribute('#total-registrations .value', 'data-value');
    check('the total is the API total', Number(total) === reg.total, `${total} vs ${reg.total}`);
    const previous = await page.getAttribute('#total-registrations', 'data-previous');
    check("the earlier period's total is the API's", Number(previous) === reg.change.previousTotal, `${previous} vs ${show(reg.change)}`);
    const peakTotal = await page.getAttribute('#timeline-note', 'data-peak-total');
    const peakStart = await page.getAttribute('#timeline-note', 'data-peak-start');
    check('the peak is the API peak', Number(peakTotal) === reg.timeline.peak.total && peakStart === reg.timeline.peak.start, `${peakStart} ${peakTotal} vs ${show(reg.timeline.peak)}`);
    const rows = await page.$$eval('#timeline-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].slice(0, 3).map((c) => c.textContent)));
    const want = reg.timeline.buckets.map((b) => [b.start, b.total]);
    check('every bucket is the API bucket', rows.length === want.length && rows.every((r, i) => r[0] === want[i][0] && Number(r[2]) === want[i][1]), `${rows.length} rows vs ${want.length}`);
  });

  await step('(b) the gender pie', async () => {
    const shares = reg.byGender;
    const largest = shares.reduce((a, b) => (b.count > a.count ? b : a));
    const before = shares.slice(0, shares.indexOf(largest)).reduce((s, x) => s + x.count, 0);
    // ECharts draws slices clockwise from 12 o'clock, in the data's order.
    const angle = (2 * Math.PI * (before + largest.count / 2)) / reg.total;
    // The mouse acts inside the viewport only: bring the chart into it first.
    await page.locator('#gender-chart').scrollIntoViewIfNeeded();
    const box = await page.locator('#gender-chart').boundingBox();
    const radius = (0.7 * Math.min(box.width, box.height)) / 2;
    const x = box.x + box.width * 0.5 + 0.5 * radius * Math.sin(angle);
    const y = box.y + box.height * 0.45 - 0.5 * radius * Math.cos(angle);
    await page.mouse.click(x, y);
    const note = page.locator('#gender-note');
    await note.waitFor();
    const [gender, count, percentage] = await Promise.all(['data-gender', 'data-count', 'data-percentage'].map((a) => note.getAttribute(a)));
    check('a click on the largest slice shows its total', gender === largest.gender && Number(count) === largest.count && near(percentage, largest.percentage), `${gender} ${count} ${percentage} vs ${show(largest)}`);
    const rows = await page.$$eval('#gender-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    check("the shares' table is the API's", rows.length === shares.length && rows.every((r, i) => r[0] === shares[i].gender && Number(r[1]) === shares[i].count && near(r[2], shares[i].percentage)), show(rows));
  });

  await step('(c) age and geography', async () => {
    const ages = await page.$$eval('#age-table tbody tr', (trs) => trs.map((tr) => [tr.cells[0].textContent, Number(tr.cells[3].textContent)]));
    check('age rows are the API rows', show(ages) === show(reg.byAge.map((a) => [a.label, a.count])), show(ages));
    await page.focus('#geo-tab-country');
    await page.keyboard.press('ArrowRight');
    const selected = await page.getAttribute('#geo-tab-state', 'aria-selected');
    check('the arrow key moves to the State tab', selected === 'true');
    const other = reg.byGeography.find((g) => g.isOther);
    const shown = await page.getAttribute('#geography-note', 'data-other');
    check('"Other" is the API\'s Other row', other && Number(shown) === other.count, `${shown} vs ${show(other)}`);
    const rows = await page.$$eval('#geography-table tbody tr', (trs) => trs.map((tr) => [tr.cells[0].textContent, Number(tr.cells[3].textContent)]));
    check('state rows are the API rows', show(rows) === show(reg.byGeography.map((g) => [g.label, g.count])), show(rows));
  });

  await step("(d) the user's panels", async () => {
    const user = expected.user;
    check("the user's name shows under the filters", (await page.textContent('#user-name')) === user.name, await page.textContent('#user-name'));
    check("the profile shows the user's name", (await page.textContent('#profile-name')) === user.name);
    const o = user.activity.overview;
    for (const [id, key] of [['streams', 'streams'], ['starts', 'playbackStarts'], ['minutes', 'minutesConsumed']]) {
      const value = await page.getAttribute(`#overview-${id} .value`, 'data-value');
      const previous = await page.getAttribute(`#overview-${id}`, 'data-previous');
      check(`overview ${key} is the API's`, near(value, o[key]), `${value} vs ${o[key]}`);
      check(`overview ${key} of the earlier period is the API's`, near(previous, user.activity.change[key].previous), `${previous} vs ${show(user.activity.change[key])}`);
    }
    const q = user.activity.quality;
    const tiles = { startup: q.startup.averageMs, exits: q.exitsBeforeStart, rebuffering: q.rebuffering.seconds, errors: q.errors };
    for (const [id, want] of Object.entries(tiles)) {
      const value = await page.getAttribute(`#quality-${id} .value`, 'data-value');
      check(`quality ${id} is the API's`, want === null ? value === null : near(value, want), `${value} vs ${want}`);
    }
    const average = await page.getAttribute('#bandwidth-note', 'data-average');
    const wantAverage = user.activity.bandwidth.averageKbps;
    check('the bandwidth average is the API average', wantAverage === null ? average === '' : near(average, wantAverage), `${average} vs ${wantAverage}`);

    const events = [];
    for (let after = null; ; ) {
      const page_ = (await api(EVENTS, { period, id: USER, after })).user.activity.events;
      events.push(...page_.nodes);
      if (!page_.pageInfo.hasNextPage || events.length >= 5000) break;
      after = page_.pageInfo.endCursor;
    }
    check('the events chart counts the API events', Number(await page.getAttribute('#events-note', 'data-total')) > 0);
    // A point of the events chart: a 7 px symbol inside the plot (in the viewport).
    await page.locator('#events-chart').scrollIntoViewIfNeeded();
    const chart = await page.locator('#events-chart').boundingBox();
    const points = await page.$$eval('#events-chart svg path', (paths) =>
      paths.map((p) => p.getBoundingClientRect()).filter((r) => r.width > 4 && r.width < 12 && r.height > 4 && r.height < 12).map((r) => [r.x + r.width / 2, r.y + r.height / 2]),
    );
    const inside = points.filter(([x, y]) => y > chart.y + 45 && y < chart.y + chart.height - 45 && x > chart.x + 60);
    check('the events chart draws points', inside.length > 0, `${points.length} symbols`);
    const [x, y] = inside[Math.floor(inside.length / 2)];
    await page.mouse.move(x, y);
    const tooltip = page.locator('#events-chart div', { hasText: 'session' }).last();
    await tooltip.waitFor({ timeout: 5000 });
    const text = await tooltip.innerText();
    const id = /event (\S+)/.exec(text)?.[1];
    const event = events.find((e) => e.id === id);
    check('hovering a point shows an event of the API', Boolean(event), `tooltip ${show(text)}`);
    if (event) check('the tooltip shows its type and device', text.includes(event.type) && text.includes(event.device ?? '—'), `${show(text)} vs ${show(event)}`);
    await page.screenshot({ path: path.join(SHOTS, 'dashboard.png'), fullPage: true });
  });

  await step('(e) live: a new registration and a new play, without a reload', async () => {
    const before = Number(await page.getAttribute('#total-registrations .value', 'data-value'));
    await addUser(freshUserId('dashboard'), new Date());
    await page.waitForFunction((n) => Number(document.querySelector('#total-registrations .value')?.dataset.value) === n, before + 1, { timeout: 15_000 })
      .then(() => check('the total grew by one live', true))
      .catch(async () => check('the total grew by one live', false, `still ${await page.getAttribute('#total-registrations .value', 'data-value')}, expected ${before + 1}`));
    const starts = Number(await page.getAttribute('#overview-starts .value', 'data-value'));
    const sessionId = freshUserId('dashboard-session');
    const r = await post(`mutation Play($e: [PlayerEventInput!]!) { recordEvents(events: $e) { accepted } }`, {
      e: [{ id: `${sessionId}-play`, sessionId, userId: USER, type: 'PLAY', occurredAt: new Date().toISOString(), position: 0, contentKind: 'VOD' }],
    });
    check('the PLAY event was accepted', r.body?.data?.recordEvents?.accepted === 1, show(r.text));
    await page.waitForFunction((n) => Number(document.querySelector('#overview-starts .value')?.dataset.value) === n, starts + 1, { timeout: 15_000 })
      .then(() => check('the playback starts grew by one live', true))
      .catch(async () => check('the playback starts grew by one live', false, `still ${await page.getAttribute('#overview-starts .value', 'data-value')}`));
    check('the page was not reloaded', await page.evaluate(() => window.__notReloaded === true));
  });

  await step("(f) a panel's CSV", async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#gender button.csv')]);
    const text = fs.readFileSync(await download.path(), 'utf8');
    const lines = text.trim().split('\r\n');
    check('the CSV is named after its panel', download.suggestedFilename() === 'gender.csv', download.suggestedFilename());
    const genders = (await api(EXPECTED, { period, id: USER })).registrations.byGender;
    check('the CSV holds the header and the rows', lines[0] === 'gender,count,percentage' && lines.length === genders.length + 1 && lines.slice(1).every((l, i) => l.startsWith(`${genders[i].gender},${genders[i].count},`)), show(text));
  });

  await step('(g) accessibility, phone, errors', async () => {
    // Evaluated by the browser's debugger, as the page's CSP (script-src 'self') refuses
    // an injected <script>: the page is checked as it is served.
    await page.evaluate(fs.readFileSync(AXE, 'utf8'));
    const violations = await page.evaluate(async () => {
      const result = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa'] });
      return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help} (${v.nodes.length}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')})`);
    });
    check('axe-core finds no serious or critical violation', violations.length === 0, violations.join('\n'));
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    watch(phone);
    await phone.goto(`${BASE()}/`);
    await phone.waitForSelector('#overview-streams', { timeout: 30_000 });
    const width = await phone.evaluate(() => document.documentElement.scrollWidth);
    check('nothing scrolls sideways on a phone', width <= 390, `${width} px wide`);
    await phone.screenshot({ path: path.join(SHOTS, 'dashboard-phone.png'), fullPage: true });
    check('no script error', errors.length === 0, errors.join('\n'));
  });
} finally {
  await browser.close();
}
finish('dashboard');
