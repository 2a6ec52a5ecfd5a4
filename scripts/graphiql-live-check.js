// A manual check in a real browser, not part of CI: GraphiQL on one server subscribed to
// liveRegistrations sees a registration written through another server sharing its
// PostgreSQL and Redis, and prints how long it took.
//
//   npm install playwright-core@1        # and Debian's chromium (/usr/bin/chromium)
//   node scripts/graphiql-live-check.js http://SERVER_B http://SERVER_A API_KEY
//
// Prints the WebSocket frames GraphiQL exchanges, the answer before and after the write,
// and the delay; leaves a screenshot in /tmp/graphiql-live.png.
const { chromium } = require('playwright-core');
const [,, bUrl, aUrl, key] = process.argv;
const query = `subscription Live {
  liveRegistrations(period: { from: "2026-01-01", to: "2027-01-01" }) { total }
}`;
(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const page = await browser.newPage();
  page.on('console', (m) => console.log('console:', m.text().slice(0, 300)));
  page.on('websocket', (ws) => {
    console.log('ws open', ws.url());
    ws.on('framesent', (f) => console.log('  sent', String(f.payload).slice(0, 200)));
    ws.on('framereceived', (f) => console.log('  recv', String(f.payload).slice(0, 200)));
    ws.on('close', () => console.log('  ws closed'));
  });
  await page.addInitScript(([k, q]) => {
    localStorage.setItem('graphiql:headers', JSON.stringify({ Authorization: 'Bearer ' + k }));
    localStorage.setItem('graphiql:query', q);
  }, [key, query]);
  await page.goto(bUrl + '/graphql');
  await page.waitForSelector('.graphiql-execute-button', { timeout: 30000 });
  await page.click('.graphiql-execute-button');
  const result = () => page.locator('.result-window').innerText();
  for (let i = 0; i < 100 && !/"total": 0/.test(await result()); i++) await page.waitForTimeout(100);
  console.log('before:', (await result()).replace(/\s+/g, ' '));
  const t0 = Date.now();
  const res = await fetch(aUrl + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + key },
    body: JSON.stringify({ query: 'mutation { upsertUsers(users: [{ id: "gq1", name: "G", registeredAt: "2026-06-01T00:00:00Z" }]) { accepted } }' }),
  });
  console.log('write through A:', JSON.stringify(await res.json()));
  while (!/"total": 1/.test(await result())) {
    if (Date.now() - t0 > 10000) { console.log('NOT SEEN within 10 s'); break; }
    await page.waitForTimeout(20);
  }
  console.log('after:', (await result()).replace(/\s+/g, ' '), `seen ${Date.now() - t0} ms after the write began`);
  await page.screenshot({ path: '/tmp/graphiql-live.png' });
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
