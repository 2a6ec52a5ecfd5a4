// The GraphQL-over-HTTP audit (issue 10, items 1 and 9).
//
// Asserts: every audit of `serverAudits` from the `graphql-http` package, run against
// OTTSTATS_URL/graphql with `Authorization: Bearer OTTSTATS_KEY` added to each request,
// ends with status `ok` (or `notice`, which the package reports for optional behaviour);
// a single `warn` or `error` fails the check (the target: 0 errors, 0 warnings).
// Every audit's result is printed, with the reason and the start of the response for
// those that did not pass.
import { serverAudits } from 'graphql-http';
import { GRAPHQL, KEY, show } from './lib.mjs';

const key = KEY();

/** Node's fetch, plus the API key and a time limit on every request the audits make. */
async function fetchWithKey(input, init = {}) {
  const request = new Request(input, init);
  const headers = new Headers(request.headers);
  headers.set('authorization', `Bearer ${key}`);
  return fetch(new Request(request, { headers, signal: init.signal ?? AbortSignal.timeout(15_000) }));
}

const audits = serverAudits({ url: GRAPHQL(), fetchFn: fetchWithKey });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
console.log(`graphql-http serverAudits against ${GRAPHQL()} (${audits.length} audits)`);
for (const audit of audits) {
  let result;
  try {
    result = await audit.fn();
  } catch (e) {
    // The package throws only on a fatal fault (the server could not be reached).
    result = { id: audit.id, name: audit.name, status: 'error', reason: `audit threw: ${e?.message ?? e}` };
  }
  counts[result.status] = (counts[result.status] ?? 0) + 1;
  const tag = { ok: 'ok    ', notice: 'notice', warn: 'WARN  ', error: 'ERROR ' }[result.status] ?? result.status;
  console.log(`  ${tag} ${result.id} ${result.name}`);
  if (result.status !== 'ok') {
    console.log(`         reason: ${result.reason}`);
    if (result.response) {
      let body = '';
      try {
        body = await result.response.clone().text();
      } catch {
        body = '(body already read)';
      }
      const type = result.response.headers.get('content-type');
      console.log(`         response: HTTP ${result.response.status} ${type ?? '(no content type)'} ${show(body, 300)}`);
    }
  }
}
console.log(
  `audit: ${counts.ok} ok, ${counts.notice} notices, ${counts.warn} warnings, ${counts.error} errors (target: 0 warnings, 0 errors)`,
);
if (counts.warn > 0 || counts.error > 0) {
  console.log('audit: FAILED');
  process.exit(1);
}
console.log('audit: all checks passed');
