// Shared by the client checks: where the server is, its key, and how a check reports.
// Every check reads OTTSTATS_URL (http://127.0.0.1:PORT, no trailing slash) and
// OTTSTATS_KEY (the demo API key) from the environment, as .ci/clients sets them.

/** The environment variable `name`, or a failure naming it. */
export function env(name) {
  const value = process.env[name];
  if (!value) fail(`environment variable ${name} is not set (run the checks through .ci/clients)`);
  return value;
}

export const BASE = () => env('OTTSTATS_URL');
export const GRAPHQL = () => `${BASE()}/graphql`;
export const KEY = () => env('OTTSTATS_KEY');

let failures = 0;

/** Prints the outcome of one assertion; a failed one makes the process exit non-zero. */
export function check(name, ok, detail = '') {
  if (ok) {
    console.log(`  ok    ${name}`);
  } else {
    failures += 1;
    console.log(`  FAIL  ${name}${detail ? `\n        ${String(detail).replaceAll('\n', '\n        ')}` : ''}`);
  }
  return ok;
}

/** Stops the check at once: for failures that leave nothing further to check. */
export function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

/** Ends the check: exit code 0 only when every assertion held. */
export function finish(checkName) {
  if (failures > 0) {
    console.log(`${checkName}: ${failures} check(s) FAILED`);
    process.exit(1);
  }
  console.log(`${checkName}: all checks passed`);
  process.exit(0);
}

/** Runs `body`, counting a thrown error as a failed assertion instead of a crash. */
export async function step(name, body) {
  try {
    await body();
  } catch (e) {
    check(name, false, describeError(e));
  }
}

/** An error with what a client attached to it (Apollo: GraphQL errors, the HTTP answer). */
export function describeError(e) {
  const lines = [`${e?.name ?? 'Error'}: ${e?.message ?? e}`];
  if (e?.graphQLErrors?.length) lines.push(`graphQLErrors: ${show(e.graphQLErrors)}`);
  const net = e?.networkError;
  if (net) {
    lines.push(`networkError: ${net.name}: ${net.message}${net.statusCode ? ` (HTTP ${net.statusCode})` : ''}`);
    if (net.result !== undefined) lines.push(`answer: ${show(net.result)}`);
    if (net.bodyText !== undefined) lines.push(`answer: ${show(net.bodyText)}`);
    if (net.cause) lines.push(`cause: ${net.cause?.message ?? net.cause}`);
  }
  if (!net && !e?.graphQLErrors?.length && e?.stack) lines.push(...e.stack.split('\n').slice(1, 4).map((l) => l.trim()));
  return lines.join('\n');
}

/** Rejects after `ms` with a message naming what was awaited. */
export function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A JSON value on one line, cut to `max` characters, for failure details. */
export function show(value, max = 600) {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** POSTs a GraphQL request with the key over plain Node fetch; returns status, headers and parsed body. */
export async function post(query, variables = undefined, extraHeaders = {}) {
  const res = await fetch(GRAPHQL(), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      authorization: `Bearer ${KEY()}`,
      ...extraHeaders,
    },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** A user id no run has used, so every check adds a user of its own. */
export function freshUserId(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Upserts one user registered `at` (a Date) over HTTP; fails loudly unless it is accepted. */
export async function addUser(id, at = new Date()) {
  const r = await post(
    `mutation AddUser($users: [UserInput!]!) { upsertUsers(users: $users) { accepted duplicates rejected { index code argument message } } }`,
    { users: [{ id, name: `Client check ${id}`, gender: 'FEMALE', country: 'CL', registeredAt: at.toISOString() }] },
  );
  const report = r.body?.data?.upsertUsers;
  if (r.status !== 200 || !report || report.accepted !== 1) {
    throw new Error(`upsertUsers of ${id} was not accepted: HTTP ${r.status} ${show(r.text)}`);
  }
  return report;
}
