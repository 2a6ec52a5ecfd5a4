// Apollo Client 3 (`@apollo/client/core`, Node's global fetch) against a fresh
// `serve --demo` (issue 10, item 9). Every request Apollo makes goes through a
// recording fetch, so the checks see the method, the URL and the raw answer.
//
// Asserts, in order:
//  1. POST query: one request, method POST; `registrations(period: last 3 years to 2
//     days ahead, UTC) { total }` is 30,000 with no errors (the demo generates
//     30,000 users, all registered in the two years before today's UTC midnight).
//  2. GET query (`useGETForQueries: true`): one request, method GET with `query=` in
//     the URL and no body; the same total, 30,000. `user(id: OTTSTATS_USER) { id }`,
//     the user the demo prints, over GET is that user.
//  3. Mutation through the GET client: `upsertUsers` of one new user registered now
//     goes over POST (a mutation is never sent as GET), reports accepted 1, duplicates
//     0, no rejected item; the POST query then gives 30,001.
//  4. Automatic persisted queries (`createPersistedQueryLink({ sha256,
//     useGETForHashedQueries: true })`), a query no one sent before: the first run makes
//     exactly two requests — a GET carrying the hash and no query, answered with an
//     error whose extensions.code is PERSISTED_QUERY_NOT_FOUND, then a POST carrying the
//     query and the hash — and returns the data (the same total as a plain POST query
//     just before); the second run (network-only) makes
//     exactly one request, a GET with the hash and no query, and returns the same data.
//  5. `errorPolicy: 'all'`, a field error in a non-null field:
//     `registrations(period) { total byAge(ranges: [{minAge: 30, maxAge: 20}]) { label } }`.
//     `byAge: [AgeShare!]!` and `Query.registrations: RegistrationStats!` are both
//     non-null (checked in schema.graphql first), so by the spec's null propagation
//     the error nulls RegistrationStats, which nulls `registrations`, which nulls the
//     root: the answer is HTTP 200 with `"data": null` (present, null) and one error,
//     extensions.code BAD_USER_INPUT, path ["registrations", "byAge"]; Apollo returns
//     that error in `errors` and no data.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
// Apollo Client 3 has no `exports` map, so Node's ES module loader needs the files by name.
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client/core/index.js';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries/index.js';
import { buildSchema, isNonNullType } from 'graphql';
import { GRAPHQL, KEY, check, env, finish, freshUserId, show, step } from './lib.mjs';

const DEMO_USERS = 30_000;
const requests = [];

/** Node's fetch, recording each request and the text of its answer. */
async function recordingFetch(input, init = {}) {
  const entry = { method: (init.method ?? 'GET').toUpperCase(), url: String(input), body: init.body ?? null };
  requests.push(entry);
  const res = await fetch(input, { ...init, signal: init.signal ?? AbortSignal.timeout(15_000) });
  entry.status = res.status;
  entry.contentType = res.headers.get('content-type');
  entry.text = await res.clone().text();
  return res;
}

function client({ get = false, persisted = false } = {}) {
  const http = new HttpLink({
    uri: GRAPHQL(),
    fetch: recordingFetch,
    headers: { authorization: `Bearer ${KEY()}` },
    useGETForQueries: get,
  });
  const sha256 = (text) => createHash('sha256').update(text).digest('hex');
  const link = persisted ? createPersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(http) : http;
  return new ApolloClient({
    link,
    cache: new InMemoryCache(),
    defaultOptions: { query: { fetchPolicy: 'network-only', errorPolicy: 'none' } },
  });
}

/** The requests made while `body` ran. */
async function recorded(body) {
  const start = requests.length;
  const result = await body();
  return { result, made: requests.slice(start) };
}

const describe = (made) => show(made.map((r) => `${r.method} ${r.url} -> ${r.status} ${show(r.text, 200)}`).join('\n'), 2000);
const urlParams = (r) => new URL(r.url).searchParams;

const now = new Date();
const DAY = 86_400_000;
const period = {
  from: new Date(now.getTime() - 3 * 365 * DAY).toISOString(),
  to: new Date(now.getTime() + 2 * DAY).toISOString(),
  timeZone: 'UTC',
};
const TOTAL = gql`
  query Total($period: PeriodInput!) {
    registrations(period: $period) {
      total
    }
  }
`;

console.log(`Apollo Client against ${GRAPHQL()}`);
const postClient = client();
const getClient = client({ get: true });

await step('1. query over POST', async () => {
  const { result, made } = await recorded(() => postClient.query({ query: TOTAL, variables: { period } }));
  check('1. one request, method POST', made.length === 1 && made[0].method === 'POST', describe(made));
  check(`1. total is ${DEMO_USERS}`, result.data?.registrations?.total === DEMO_USERS, show(result));
  check('1. no errors', !result.errors, show(result.errors));
});

await step('2. query over GET', async () => {
  const { result, made } = await recorded(() => getClient.query({ query: TOTAL, variables: { period } }));
  const r = made[0];
  check(
    '2. one request, method GET, query in the URL, no body',
    made.length === 1 && r.method === 'GET' && urlParams(r).has('query') && !r.body,
    describe(made),
  );
  check(`2. total is ${DEMO_USERS}`, result.data?.registrations?.total === DEMO_USERS, show(result));
});

await step('2. the featured user over GET', async () => {
  const id = env('OTTSTATS_USER');
  const query = gql`
    query Featured($id: ID!) {
      user(id: $id) {
        id
      }
    }
  `;
  const { result, made } = await recorded(() => getClient.query({ query, variables: { id } }));
  check(`2. user(id: "${id}") over GET is that user`, made[0]?.method === 'GET' && result.data?.user?.id === id, show(result));
});

await step('3. mutation goes over POST', async () => {
  const id = freshUserId('apollo');
  const mutation = gql`
    mutation AddUser($users: [UserInput!]!) {
      upsertUsers(users: $users) {
        accepted
        duplicates
        rejected {
          index
          code
          argument
          message
        }
      }
    }
  `;
  const users = [{ id, name: 'Apollo Check', gender: 'MALE', country: 'CL', registeredAt: new Date().toISOString() }];
  const { result, made } = await recorded(() => getClient.mutate({ mutation, variables: { users } }));
  check('3. one request, method POST (useGETForQueries leaves mutations on POST)', made.length === 1 && made[0].method === 'POST', describe(made));
  const report = result.data?.upsertUsers;
  check('3. accepted 1, duplicates 0, rejected none', report?.accepted === 1 && report?.duplicates === 0 && report?.rejected?.length === 0, show(result));
  const after = await postClient.query({ query: TOTAL, variables: { period } });
  check(`3. total is now ${DEMO_USERS + 1}`, after.data?.registrations?.total === DEMO_USERS + 1, show(after));
});

await step('4. automatic persisted queries', async () => {
  const apq = client({ persisted: true });
  // The expected total, read without APQ (it follows check 3's write, if that landed).
  const expected = (await postClient.query({ query: TOTAL, variables: { period } })).data?.registrations?.total;
  // An alias nobody sent before makes the document (and so its hash) new to the server.
  const alias = `apq_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const query = gql(`query Persisted($period: PeriodInput!) { ${alias}: registrations(period: $period) { total byGender { gender count } } }`);
  const first = await recorded(() => apq.query({ query, variables: { period } }));
  const [miss, register] = first.made;
  const missExt = miss && JSON.parse(urlParams(miss).get('extensions') ?? 'null');
  let missCode;
  try {
    missCode = JSON.parse(miss.text).errors?.[0]?.extensions?.code;
  } catch {
    missCode = undefined;
  }
  check('4. first run: exactly two requests', first.made.length === 2, describe(first.made));
  check(
    '4. first request: GET with the sha256 hash and no query',
    miss?.method === 'GET' && !urlParams(miss).has('query') && /^[0-9a-f]{64}$/.test(missExt?.persistedQuery?.sha256Hash ?? ''),
    describe(first.made.slice(0, 1)),
  );
  check('4. first answer: PERSISTED_QUERY_NOT_FOUND', missCode === 'PERSISTED_QUERY_NOT_FOUND', describe(first.made.slice(0, 1)));
  const registerBody = register?.body ? JSON.parse(register.body) : {};
  check(
    '4. retry: POST with the query and the same hash',
    register?.method === 'POST' && typeof registerBody.query === 'string' && registerBody.extensions?.persistedQuery?.sha256Hash === missExt?.persistedQuery?.sha256Hash,
    describe(first.made.slice(1)),
  );
  const total = first.result.data?.[alias]?.total;
  check(`4. first run's data: the total over POST (${expected})`, Number.isInteger(total) && total === expected, show(first.result));
  const second = await recorded(() => apq.query({ query, variables: { period } }));
  const hit = second.made[0];
  check(
    '4. second run: one request, GET with the hash and no query',
    second.made.length === 1 && hit.method === 'GET' && !urlParams(hit).has('query') && urlParams(hit).has('extensions'),
    describe(second.made),
  );
  check('4. second run served by hash: same data, no errors', second.result.data?.[alias]?.total === total && !second.result.errors, show(second.result));
});

await step("5. errorPolicy 'all' and null propagation", async () => {
  // The premise of the expected answer: both fields on the path are non-null in the SDL.
  const schema = buildSchema(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));
  const registrations = schema.getQueryType().getFields().registrations;
  const byAge = schema.getType('RegistrationStats').getFields().byAge;
  const premise = isNonNullType(registrations.type) && isNonNullType(byAge.type);
  check('5. schema: Query.registrations and RegistrationStats.byAge are non-null', premise, `${registrations.type} / ${byAge.type}: update the expected answer below`);
  const query = gql`
    query BadRanges($period: PeriodInput!) {
      registrations(period: $period) {
        total
        byAge(ranges: [{ minAge: 30, maxAge: 20 }]) {
          label
        }
      }
    }
  `;
  const { result, made } = await recorded(() => postClient.query({ query, variables: { period }, errorPolicy: 'all' }));
  const raw = made[0];
  let body;
  try {
    body = JSON.parse(raw?.text ?? '');
  } catch {
    body = undefined;
  }
  const error = body?.errors?.[0];
  check('5. HTTP 200 (a field error is a partial response, not a request error)', raw?.status === 200, describe(made));
  check('5. raw answer: "data" present and null (no nullable ancestor of byAge)', !!body && 'data' in body && body.data === null, show(raw?.text));
  check(
    '5. raw answer: one error, BAD_USER_INPUT at ["registrations","byAge"]',
    body?.errors?.length === 1 && error?.extensions?.code === 'BAD_USER_INPUT' && show(error?.path) === '["registrations","byAge"]',
    show(body?.errors),
  );
  check('5. Apollo: the error in result.errors', result.errors?.[0]?.extensions?.code === 'BAD_USER_INPUT', show(result));
  check('5. Apollo: no data', result.data === null || result.data === undefined, show(result.data));
});

finish('apollo');
