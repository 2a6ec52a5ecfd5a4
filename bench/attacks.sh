#!/usr/bin/env bash
# The attacks of issue 9 against a running server, each timed beside a trivial query of
# the same run (and /healthz under the attack). Bounded: every request has a 30 s cap.
#   BIN=target/release/ottstats bench/attacks.sh
#   BIN=/tmp/ottstats-before SKIP="fragment_bomb_29 timeline_aliases_190 healthz" bench/attacks.sh
# prints one `ATTACK name status code seconds` line per attack (`timeout` past 30 s);
# SKIP names attacks to leave out (an older binary takes minutes over some).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/ottstats}
PORT=${PORT:-18231}
DIR=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$DIR"' EXIT
export OTTSTATS_DATABASE_URL="sqlite://$DIR/attacks.db?mode=rwc" OTTSTATS_REDIS_URL= RUST_LOG=warn
KEY=$("$BIN" tenant create --name Attacks --country CL --time-zone UTC | tail -n1)
"$BIN" serve --bind "127.0.0.1:$PORT" >"$DIR/log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

python3 - "$PORT" "$KEY" "${SKIP:-}" <<'PY'
import json, socket, sys, time, threading, urllib.request
port, key, skip = sys.argv[1], sys.argv[2], sys.argv[3].split()
url = f"http://127.0.0.1:{port}/graphql"
def post(query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    req = urllib.request.Request(url, body, {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, out = r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        status, out = e.code, json.loads(e.read() or b"{}")
    except (socket.timeout, TimeoutError, urllib.error.URLError):
        return "timeout", "-", time.perf_counter() - t
    code = (out.get("errors") or [{}])[0].get("extensions", {}).get("code", "-")
    return status, code, time.perf_counter() - t
def bomb(levels):
    q = "query { registrations(period: {from: \"2026-01-01\", to: \"2026-02-01\"}) { ...F%d } }\nfragment F0 on RegistrationStats { total }\n" % levels
    return q + "".join("fragment F%d on RegistrationStats { ...F%d ...F%d }\n" % (i, i - 1, i - 1) for i in range(1, levels + 1))
period = 'period: {from: "2026-01-01", to: "2026-02-01"}'
long = 'period: {from: "2006-01-01", to: "2026-01-01"}'
attacks = {
    "trivial": "{ registrations(%s) { total } }" % period,
    "fragment_bomb_22": bomb(22),
    "fragment_bomb_29": bomb(29),
    "total_x80000": "{ registrations(%s) { %s } }" % (period, "total " * 80000),
    "city_x20000": "{ registrations(%s) { %s } }" % (period, "byGeography(level: CITY) { label } " * 20000),
    "timeline_aliases_190": "{ registrations(%s) { %s } }" % (long, " ".join("t%d: timeline(granularity: DAY) { buckets { start total } }" % i for i in range(190))),
    "timeline_aliases_90": "{ registrations(%s) { %s } }" % (long, " ".join("t%d: timeline(granularity: DAY) { buckets { start total } }" % i for i in range(90))),
}
for name, q in attacks.items():
    if name in skip:
        continue
    status, code, secs = post(q)
    print(f"ATTACK {name} {status} {code} {secs:.4f}")
types = ["PLAY"] * 32766
if "types_x32766" not in skip:
  status, code, secs = post('query($t: [PlayerEventType!]) { user(id: "1") { activity(%s) { events(types: $t) { totalCount } } } }' % period, {"t": types})
  print(f"ATTACK types_x32766 {status} {code} {secs:.4f}")
if "healthz" in skip:
    sys.exit(0)
# /healthz while two bombs run at once.
done = []
def hammer():
    for _ in range(5):
        post(bomb(29))
    done.append(1)
threads = [threading.Thread(target=hammer) for _ in range(2)]
for t in threads: t.start()
worst = 0.0
while len(done) < 2:
    t = time.perf_counter()
    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30).read()
    worst = max(worst, time.perf_counter() - t)
for t in threads: t.join()
print(f"ATTACK healthz_worst_under_bombs 200 - {worst:.4f}")
PY
