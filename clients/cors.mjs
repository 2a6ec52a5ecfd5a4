// CORS from a real browser (issue 10, items 3 and 9): headless Debian Chromium driven by
// playwright-core, a page served by this script on another origin (another port of
// 127.0.0.1), calling the API with `fetch`. `content-type: application/json` and
// `Authorization` make the browser send an OPTIONS preflight first.
//
// `node cors.mjs open` (a server with the default CORS settings) asserts:
//  1. Node fetch, OPTIONS /graphql with Origin: <page origin>, Access-Control-Request-
//     Method: POST, Access-Control-Request-Headers: authorization,content-type: a 2xx
//     answer with Access-Control-Allow-Origin `*` or the page's origin,
//     Access-Control-Allow-Headers listing `authorization` by name (a `*` does not cover
//     Authorization in the Fetch standard), Access-Control-Allow-Methods allowing POST,
//     and Access-Control-Max-Age a positive number of seconds.
//  2. Chromium, from the page: the POST fetch resolves, HTTP 200, and
//     `registrations { total }` is an integer, with no errors (the data arrived).
// `node cors.mjs restricted` (a server with OTTSTATS_CORS_ORIGINS=http://allowed.example):
//  3. Node fetch, a preflight from the page's origin: no Access-Control-Allow-Origin
//     that admits it (neither `*` nor the page's origin).
//  4. Node fetch, a preflight from http://allowed.example: Access-Control-Allow-Origin
//     is exactly http://allowed.example.
//  5. Chromium, from the page: the same fetch rejects with `TypeError: Failed to fetch`.
//  6. Node fetch (no CORS in Node), the same POST: HTTP 200 and an integer total.
import http from 'node:http';
import { chromium } from 'playwright-core';
import { GRAPHQL, KEY, check, fail, finish, post, show, step } from './lib.mjs';

const mode = process.argv[2];
if (mode !== 'open' && mode !== 'restricted') fail('usage: node cors.mjs open|restricted');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ALLOWED = 'http://allowed.example';
const QUERY = '{ registrations(period: {from: "2024-01-01", to: "2027-01-01", timeZone: "UTC"}) { total } }';

// The page: its origin is http://127.0.0.1:<its own port>, the API's another port.
const page = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end('<!doctype html><title>ottstats CORS check</title><p>another origin</p>');
});
await new Promise((resolve) => page.listen(0, '127.0.0.1', resolve));
const pageOrigin = `http://127.0.0.1:${page.address().port}`;
console.log(`CORS (${mode}) against ${GRAPHQL()}, page on ${pageOrigin}`);

async function preflight(origin) {
  const res = await fetch(GRAPHQL(), {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
    },
    signal: AbortSignal.timeout(10_000),
  });
  const h = (name) => res.headers.get(name);
  return {
    status: res.status,
    allowOrigin: h('access-control-allow-origin'),
    allowHeaders: (h('access-control-allow-headers') ?? '').toLowerCase().split(',').map((s) => s.trim()),
    allowMethods: (h('access-control-allow-methods') ?? '').toUpperCase().split(',').map((s) => s.trim()),
    maxAge: h('access-control-max-age'),
    raw: Object.fromEntries(res.headers),
  };
}

/** The page's fetch, run inside Chromium; never throws, tells what happened. */
async function browserFetch(url, key, query) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container has no user namespace for Chromium's sandbox.
    args: ['--no-sandbox'],
  });
  try {
    const tab = await browser.newPage();
    const console_ = [];
    tab.on('console', (m) => console_.push(m.text()));
    await tab.goto(`${pageOrigin}/`);
    const outcome = await tab.evaluate(
      async ({ url, key, query }) => {
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', Authorization: `Bearer ${key}` },
            body: JSON.stringify({ query }),
          });
          return { resolved: true, status: res.status, body: await res.text() };
        } catch (e) {
          return { resolved: false, error: `${e.name}: ${e.message}` };
        }
      },
      { url, key, query },
    );
    return { ...outcome, console: console_ };
  } finally {
    await browser.close();
  }
}

const parse = (text) => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

if (mode === 'open') {
  await step('1. preflight', async () => {
    const p = await preflight(pageOrigin);
    check('1. preflight answered 2xx', p.status >= 200 && p.status < 300, show(p));
    check('1. Access-Control-Allow-Origin admits the page', p.allowOrigin === '*' || p.allowOrigin === pageOrigin, show(p.raw));
    check('1. Access-Control-Allow-Headers names authorization', p.allowHeaders.includes('authorization'), show(p.raw));
    check('1. Access-Control-Allow-Methods allows POST', p.allowMethods.includes('POST') || p.allowMethods.includes('*'), show(p.raw));
    check('1. Access-Control-Max-Age is a positive number of seconds', /^[1-9][0-9]*$/.test(p.maxAge ?? ''), show(p.raw));
  });
  await step('2. browser fetch from another origin', async () => {
    const r = await browserFetch(GRAPHQL(), KEY(), QUERY);
    const body = r.resolved ? parse(r.body) : undefined;
    check('2. the fetch resolved', r.resolved, `${r.error} ${show(r.console)}`);
    check('2. HTTP 200 and an integer total, no errors', r.status === 200 && Number.isInteger(body?.data?.registrations?.total) && !body.errors, show(r));
  });
} else {
  await step('3. preflight from a page not allowed', async () => {
    const p = await preflight(pageOrigin);
    check('3. no Access-Control-Allow-Origin admitting the page', p.allowOrigin !== '*' && p.allowOrigin !== pageOrigin, show(p.raw));
  });
  await step('4. preflight from the allowed origin', async () => {
    const p = await preflight(ALLOWED);
    check(`4. Access-Control-Allow-Origin is ${ALLOWED}`, p.allowOrigin === ALLOWED, show({ status: p.status, headers: p.raw }));
  });
  await step('5. browser fetch from a page not allowed', async () => {
    const r = await browserFetch(GRAPHQL(), KEY(), QUERY);
    check('5. the fetch rejects with "TypeError: Failed to fetch"', !r.resolved && r.error === 'TypeError: Failed to fetch', show(r));
    if (!r.resolved) console.log(`        (Chromium said: ${show(r.console.join(' | '), 300)})`);
  });
  await step('6. the same request from Node (no CORS)', async () => {
    const r = await post(QUERY);
    check('6. HTTP 200 and an integer total', r.status === 200 && Number.isInteger(r.body?.data?.registrations?.total), show(r.text));
  });
}

page.close();
finish(`cors ${mode}`);
