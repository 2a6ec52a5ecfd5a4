// A `graphql-ws` client subscription (issue 10, item 9), the reference client of the
// graphql-transport-ws protocol, with the `ws` package as its WebSocket.
//
// Asserts:
//  1. The socket at ws://127.0.0.1:PORT/graphql/ws opens and is acknowledged with
//     `connectionParams: { Authorization: 'Bearer KEY' }`.
//  2. `liveRegistrations(period: [now - 1 day, now + 1 day), UTC) { total }` pushes a
//     first answer (an integer total N, no errors) within 15 s.
//  3. After an `upsertUsers` over HTTP of one new user registered now, a later push
//     has total N + 1 (within 15 s; the server pushes at most once a second), with no
//     errors.
//  4. From connecting to unsubscribing: no error message for the operation and no
//     socket closed with an error code.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { BASE, KEY, addUser, check, fail, finish, freshUserId, show, within } from './lib.mjs';

const url = `${BASE().replace(/^http/, 'ws')}/graphql/ws`;
const now = Date.now();
const DAY = 86_400_000;
const period = { from: new Date(now - DAY).toISOString(), to: new Date(now + DAY).toISOString(), timeZone: 'UTC' };
console.log(`graphql-ws against ${url}`);

let acknowledged = false;
let socketError;
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${KEY()}` },
  retryAttempts: 0,
  on: {
    connected: () => {
      acknowledged = true;
    },
    closed: (event) => {
      if (event?.code && event.code !== 1000) socketError ??= `socket closed with ${event.code} ${event.reason ?? ''}`;
    },
    error: (e) => {
      socketError ??= `socket error: ${e?.message ?? e}`;
    },
  },
});

// Pushes arrive on a queue; each waiter takes the next push that passes its test.
const pushes = [];
const waiters = [];
let ended;
function deliver(item) {
  pushes.push(item);
  for (const w of [...waiters]) w();
}
function nextPush(test, what) {
  return within(15_000, what, new Promise((resolve, reject) => {
    const look = () => {
      const found = pushes.find(test);
      if (found) {
        waiters.splice(waiters.indexOf(look), 1);
        resolve(found);
      } else if (ended) {
        waiters.splice(waiters.indexOf(look), 1);
        reject(new Error(`the subscription ended (${ended}) before ${what}; pushes so far: ${show(pushes)}`));
      }
    };
    waiters.push(look);
    look();
  }));
}

const unsubscribe = client.subscribe(
  {
    query: 'subscription Live($period: PeriodInput!) { liveRegistrations(period: $period) { total } }',
    variables: { period },
  },
  {
    next: (value) => deliver(value),
    error: (e) => {
      ended = `error: ${show(Array.isArray(e) ? e : e?.message ?? e?.reason ?? e?.code ?? e)}`;
      deliver(null);
    },
    complete: () => {
      ended ??= 'complete';
      deliver(null);
    },
  },
);

try {
  const first = await nextPush((p) => p !== null, 'the first push');
  check('1. connection acknowledged with the key in connectionParams', acknowledged);
  const n = first.data?.liveRegistrations?.total;
  check('2. first push: an integer total, no errors', Number.isInteger(n) && !first.errors, show(first));
  if (!Number.isInteger(n)) fail(`no total in the first push: ${show(first)}`);
  console.log(`  (first push: total ${n}; adding a user registered now over HTTP)`);
  await addUser(freshUserId('ws'));
  const next = await nextPush((p) => p?.data?.liveRegistrations?.total === n + 1, `a push with total ${n + 1}`);
  check(`3. a push with total ${n + 1} after the write`, !next.errors, show(next));
} catch (e) {
  check('subscription', false, e?.message ?? e);
} finally {
  unsubscribe();
  await client.dispose();
}
check('4. no socket error', !socketError && !(ended ?? '').startsWith('error'), socketError ?? ended);
finish('ws');
