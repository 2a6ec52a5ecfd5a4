#!/usr/bin/env bash
# The soak of issue 9: a release server over PostgreSQL and Redis serves honest load for
# DURATION while an abusive tenant attacks it the whole time, then rests. It reports the
# requests served, the errors by code, `/healthz` latency under the attacks, and the
# server's memory before, at its peak and after.
#
#   bench/soak.sh                         # 5 minutes, 20,000 users
#   DURATION=30m USERS=200000 bench/soak.sh
#
# Honest tenant A: `loadgen mixed` (READERS dashboards of unique periods, WRITE_RATE
# registrations a second, each answer checked) and `loadgen subscribers` (SUBSCRIBERS live
# dashboards, a write every second, each push checked). Abusive tenant B, in a loop:
# fragment bombs, 80,000 duplicated fields, 190 aliases of a 20-year DAY timeline, a
# 32,766-long list, 50 wrong keys, a batch with a NUL byte, and 200 statistics queries at
# once. Its refusals are expected; A's answers must all be exact and error-free.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${DURATION:-5m}
USERS=${USERS:-20000}
READERS=${READERS:-16}
WRITE_RATE=${WRITE_RATE:-50}
SUBSCRIBERS=${SUBSCRIBERS:-50}
REST=${REST:-30}
PORT=${PORT:-18233}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
REDIS=${REDIS:-redis://127.0.0.1:6379/14}
BIN=${BIN:-target/release/ottstats}
LOADGEN=${LOADGEN:-target/release/loadgen}
DB=ottstats_bench_soak
OUT=bench/out/soak
mkdir -p "$OUT"

log() { printf '\n==> %s\n' "$*"; }
seconds() { case $1 in *m) echo $((${1%m} * 60)) ;; *s) echo "${1%s}" ;; *) echo "$1" ;; esac; }
rss_mb() { awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$SERVER/status"; }
hwm_mb() { awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$SERVER/status"; }
[[ -x "$BIN" ]] || cargo build --release --locked -p ottstats
[[ -x "$LOADGEN" ]] || cargo build --release --locked -p ottstats-loadgen

log "database $DB and Redis db ${REDIS##*/}"
psql "$PGURL/postgres" -qAtc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
redis-cli -u "$REDIS" FLUSHDB >/dev/null
export OTTSTATS_DATABASE_URL="$PGURL/$DB" RUST_LOG=warn
"$BIN" migrate >/dev/null
KEY_A=$("$BIN" tenant create --name Honest --country CL --time-zone America/Santiago | tail -n1)
KEY_B=$("$BIN" tenant create --name Abusive --country CL --time-zone UTC | tail -n1)
# The honest load is a benchmark hammer (thousands of dashboards a second from one key),
# far past the default rate limit: its tenant gets a limit to match. The abuser keeps
# the default.
"$BIN" tenant set-rate-limit --name Honest --per-minute 2000000000 >/dev/null
"$BIN" generate users --count "$USERS" --seed 9 --format ndjson --home CL \
    --from 2024-11-01 --to 2026-11-01 --output "$OUT/users.ndjson"
"$BIN" import users "$OUT/users.ndjson" --api-key "$KEY_A" >/dev/null
"$BIN" import users "$OUT/users.ndjson" --api-key "$KEY_B" >/dev/null

log "server on 127.0.0.1:$PORT"
OTTSTATS_REDIS_URL="$REDIS" "$BIN" serve --bind "127.0.0.1:$PORT" >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$PORT/readyz" | grep -qx ready && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT"
curl -fs -H "Authorization: Bearer $KEY_A" -H 'Content-Type: application/json' \
    -d '{"query":"{ registrations(period: {from: \"2026-01-01\", to: \"2026-02-01\"}) { total } }"}' "$URL/graphql" >/dev/null
RSS_BEFORE=$(rss_mb)
echo "RSS before: $RSS_BEFORE MB"

SECS=$(seconds "$DURATION")
log "soaking for $DURATION"
"$LOADGEN" --url "$URL" --api-key "$KEY_A" mixed --readers "$READERS" --write-rate "$WRITE_RATE" \
    --duration "$DURATION" --unique-periods >"$OUT/mixed.txt" 2>&1 &
MIXED=$!
"$LOADGEN" --url "$URL" --api-key "$KEY_A" --id-prefix soak-sub subscribers --count "$SUBSCRIBERS" \
    --writes "$((SECS > 10 ? SECS - 10 : 1))" --write-every 1s >"$OUT/subscribers.txt" 2>&1 &
SUBS=$!
python3 - "$PORT" "$KEY_B" "$SECS" >"$OUT/abuse.txt" 2>&1 <<'PY' &
import collections, json, socket, sys, threading, time, urllib.request
port, key, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
url, deadline = f"http://127.0.0.1:{port}/graphql", time.time() + secs
seen, lock = collections.Counter(), threading.Lock()
def post(query, variables=None, k=key):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    req = urllib.request.Request(url, body, {"Authorization": f"Bearer {k}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=35) as r:
            status, out = r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        status, out = e.code, json.loads(e.read() or b"{}")
    except (socket.timeout, TimeoutError, urllib.error.URLError, ConnectionError):
        status, out = "timeout", {}
    code = (out.get("errors") or [{}])[0].get("extensions", {}).get("code", "-")
    with lock:
        seen[f"{status} {code}"] += 1
def bomb(levels):
    q = 'query { registrations(period: {from: "2026-01-01", to: "2026-02-01"}) { ...F%d } }\nfragment F0 on RegistrationStats { total }\n' % levels
    return q + "".join("fragment F%d on RegistrationStats { ...F%d ...F%d }\n" % (i, i - 1, i - 1) for i in range(1, levels + 1))
jan = 'period: {from: "2026-01-01", to: "2026-02-01"}'
attacks = [
    bomb(29),
    "{ registrations(%s) { %s } }" % (jan, "total " * 80000),
    '{ registrations(period: {from: "2006-01-01", to: "2026-01-01"}) { %s } }'
        % " ".join("t%d: timeline(granularity: DAY) { buckets { start total } }" % i for i in range(190)),
]
i = 0
while time.time() < deadline:
    for q in attacks:
        post(q)
    post('query($t: [PlayerEventType!]) { user(id: "1") { activity(%s) { events(types: $t) { totalCount } } } }' % jan,
         {"t": ["PLAY"] * 32766})
    for n in range(50):
        post("{ __typename }", k="ott_1_%048x" % (i * 50 + n))
    post("mutation($u: [UserInput!]!) { upsertUsers(users: $u) { accepted rejected { index argument } } }",
         {"u": [{"id": "nul\u0000", "name": "x", "gender": "MALE", "registeredAt": "2026-01-01T00:00:00Z"},
                {"id": f"ok{i}", "name": "x", "gender": "MALE", "registeredAt": "2026-01-01T00:00:00Z"}]})
    flood = [threading.Thread(target=post, args=(
        'query($p: PeriodInput!) { registrations(period: $p) { byGender { count } byGeography(level: STATE) { count } } }',
        {"p": {"from": "2025-%02d-%02dT%02d:%02d:00Z" % (1 + j % 12, 1 + j % 28, j % 24, i % 60), "to": "2026-06-01"}}))
        for j in range(200)]
    for t in flood: t.start()
    for t in flood: t.join()
    i += 1
print("ABUSE rounds=%d %s" % (i, " ".join(f"{k.replace(' ', ':')}={v}" for k, v in sorted(seen.items()))))
PY
ABUSE=$!

# /healthz every half second; the peak memory as it goes.
HEALTH_MAX=0
END=$((SECONDS + SECS))
while ((SECONDS < END)); do
    t=$(curl -s -o /dev/null -w '%{time_total}' --max-time 10 "$URL/healthz" || echo 10)
    HEALTH_MAX=$(python3 -c "print(max($HEALTH_MAX, $t))")
    sleep 0.5
done
wait "$MIXED" || echo "mixed reported failures (see $OUT/mixed.txt)"
wait "$SUBS" || echo "subscribers reported failures (see $OUT/subscribers.txt)"
wait "$ABUSE" || true
RSS_PEAK=$(hwm_mb)

log "resting ${REST}s"
sleep "$REST"
RSS_AFTER=$(rss_mb)
curl -fs "$URL/metrics" >"$OUT/metrics.txt"
SERVED=$(awk '/^ottstats_http_requests_total/ { n += $2 } END { printf "%d", n }' "$OUT/metrics.txt")
BY_STATUS=$(awk -F'[{}]' '/^ottstats_http_requests_total/ { match($2, /status="[0-9]+"/); s = substr($2, RSTART + 8, 3); split($3, v, " "); n[s] += v[1] } END { for (k in n) printf "%s=%d ", k, n[k] }' "$OUT/metrics.txt")
CODES=$(awk -F'[{}]' '/^ottstats_graphql_errors_total/ { match($2, /code="[A-Z_]+"/); c = substr($2, RSTART + 6, RLENGTH - 7); split($3, v, " "); printf "%s=%d ", c, v[1] }' "$OUT/metrics.txt")
OPS=$(awk '/^ottstats_ws_operations /{ print $2 }' "$OUT/metrics.txt")

echo
grep '^BENCH' "$OUT/mixed.txt" | sed 's/^/mixed: /' || tail -n 5 "$OUT/mixed.txt"
grep '^BENCH' "$OUT/subscribers.txt" | sed 's/^/subscribers: /' || tail -n 5 "$OUT/subscribers.txt"
tail -n 1 "$OUT/abuse.txt"
echo "SOAK duration=$DURATION served=$SERVED status: $BY_STATUS"
echo "SOAK errors by code: $CODES"
echo "SOAK healthz_max_s=$HEALTH_MAX rss_before_mb=$RSS_BEFORE rss_peak_mb=$RSS_PEAK rss_after_mb=$RSS_AFTER ws_operations_after=${OPS:-0}"
echo "SOAK server log: $(grep -c ERROR "$OUT/server.log" || true) ERROR lines, $(wc -l <"$OUT/server.log") lines in all"
