#!/usr/bin/env bash
# Registration dashboard benchmark against PostgreSQL (see bench/README.md).
#
#   bench/registrations.sh                              # uncached: 1M users, no Redis, unique periods
#   CACHE=redis CONNECTIONS=50 bench/registrations.sh   # cached through Redis, one repeated period
#   USERS=100000 DURATION=10s bench/registrations.sh    # quick run
#
# Steps: build the release binary if missing, recreate database ottstats_bench,
# migrate, create a tenant (home CL, America/Santiago), generate users (reused
# when USERS/SEED match), import them (timed), VACUUM ANALYZE, start the
# server, one warm-up request (must have no "errors"), wrk with
# bench/dashboard.lua, then print p50/p99, requests/s and the server's peak RSS
# and write them to bench/out/registrations-<date>.txt.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

# ---------------------------------------------------------------- parameters
USERS=${USERS:-1000000}
SEED=${SEED:-42}
DURATION=${DURATION:-30s}
CONNECTIONS=${CONNECTIONS:-10}
THREADS=${THREADS:-2}
PORT=${PORT:-18080}
PGURL=${PGURL:-postgres://127.0.0.1:5432}   # server URL, without a database name
PGUSER=${PGUSER:-postgres}                  # used when PGURL names no user
CACHE=${CACHE:-off}                         # off | redis
REDIS_BENCH_URL=${REDIS_BENCH_URL:-redis://127.0.0.1:6379/15}
TIMEOUT=${TIMEOUT:-30s}                     # wrk's per-request timeout
CHECK=${CHECK:-1}                           # 1: count non-200 / GraphQL-error responses
REGENERATE=${REGENERATE:-0}                 # 1: regenerate users even if the stamp matches
DB_NAME=ottstats_bench
PERIOD_FROM=2025-11-01
PERIOD_TO=2026-11-01
PERIOD_TZ=America/Santiago
GEN_FROM=2024-11-01
GEN_TO=2026-11-01
HOME_COUNTRY=CL

if [[ -z "${BIN:-}" ]]; then
    BIN="${CARGO_TARGET_DIR:-target}/release/ottstats"
    DEFAULT_BIN=1
else
    DEFAULT_BIN=0
fi

case "$CACHE" in
    off) UNIQUE=${UNIQUE:-1} ;;
    redis) UNIQUE=${UNIQUE:-0} ;;
    *) echo "CACHE must be 'off' or 'redis' (got '$CACHE')" >&2; exit 2 ;;
esac
if [[ "$UNIQUE" != 0 && "$UNIQUE" != 1 ]]; then
    echo "UNIQUE must be 0 or 1 (got '$UNIQUE')" >&2; exit 2
fi
if (( THREADS > CONNECTIONS )); then
    echo "THREADS ($THREADS) must not exceed CONNECTIONS ($CONNECTIONS)" >&2; exit 2
fi

OUT="$ROOT/bench/out"
USERS_FILE="$OUT/users.ndjson"
STAMP_FILE="$OUT/users.ndjson.stamp"
SERVER_LOG="$OUT/server.log"
WRK_LOG="$OUT/wrk.log"
WARMUP_BODY="$OUT/warmup.json"
mkdir -p "$OUT"

log() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }

# --------------------------------------------------------------- tool checks
command -v psql >/dev/null || die "psql not found (apt-get install -y postgresql-client)"
command -v curl >/dev/null || die "curl not found (apt-get install -y curl)"
command -v wrk >/dev/null || die "wrk not found: install it with 'apt-get update && apt-get install -y wrk'"
if [[ "$CACHE" == redis ]]; then
    command -v redis-cli >/dev/null || die "redis-cli not found (apt-get install -y redis-tools)"
fi

# Database URLs: give sqlx and psql an explicit user when PGURL has none.
PGURL=${PGURL%/}
if [[ "$PGURL" == *@* ]]; then
    PG_BASE=$PGURL
else
    PG_BASE="${PGURL/:\/\//://${PGUSER}@}"
fi
ADMIN_URL="$PG_BASE/postgres"
DB_URL="$PG_BASE/$DB_NAME"

psql "$ADMIN_URL" -qAtc 'select 1' >/dev/null \
    || die "cannot connect to PostgreSQL at $ADMIN_URL (start it: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start)"

if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then
    die "something already answers on 127.0.0.1:$PORT; stop it or set PORT"
fi

# --------------------------------------------------------------------- build
if [[ ! -x "$BIN" ]]; then
    if [[ "$DEFAULT_BIN" == 1 ]]; then
        log "building the release binary (cargo build --release -p ottstats)"
        cargo build --release -p ottstats
        [[ -x "$BIN" ]] || die "build finished but $BIN is missing"
    else
        die "BIN=$BIN is not an executable"
    fi
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

# Only the server is meant to see these.
unset OTTSTATS_REDIS_URL OTTSTATS_API_KEY OTTSTATS_BIND
export OTTSTATS_DATABASE_URL="$DB_URL"
export RUST_LOG=${RUST_LOG:-warn}

# ------------------------------------------------------------------ database
log "recreating database $DB_NAME"
psql "$ADMIN_URL" -v ON_ERROR_STOP=1 -q \
    -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" \
    -c "CREATE DATABASE $DB_NAME"

log "migrating"
"$BIN" migrate

log "creating tenant (home $HOME_COUNTRY, $PERIOD_TZ)"
API_KEY=$("$BIN" tenant create --name "Bench" --country "$HOME_COUNTRY" --time-zone "$PERIOD_TZ" | tail -n 1)
API_KEY=${API_KEY//[[:space:]]/}
[[ -n "$API_KEY" ]] || die "tenant create printed no API key"

# ------------------------------------------------------------- generate data
STAMP="users=$USERS seed=$SEED format=ndjson home=$HOME_COUNTRY from=$GEN_FROM to=$GEN_TO"
if [[ "$REGENERATE" != 1 && -s "$USERS_FILE" && -f "$STAMP_FILE" && "$(cat "$STAMP_FILE")" == "$STAMP" ]]; then
    log "reusing $USERS_FILE ($STAMP)"
else
    log "generating $USERS users (seed $SEED) into $USERS_FILE"
    rm -f "$STAMP_FILE"
    "$BIN" generate users --count "$USERS" --seed "$SEED" --format ndjson \
        --home "$HOME_COUNTRY" --from "$GEN_FROM" --to "$GEN_TO" --output "$USERS_FILE.tmp"
    mv "$USERS_FILE.tmp" "$USERS_FILE"
    printf '%s\n' "$STAMP" > "$STAMP_FILE"
fi

# -------------------------------------------------------------------- import
log "importing users"
IMPORT_TIME_FILE="$OUT/import.time"
start=$(now_ms)
if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -v -o "$IMPORT_TIME_FILE" "$BIN" import users "$USERS_FILE" --api-key "$API_KEY"
else
    "$BIN" import users "$USERS_FILE" --api-key "$API_KEY"
fi
IMPORT_MS=$(( $(now_ms) - start ))
IMPORT_S=$(awk -v ms="$IMPORT_MS" 'BEGIN { printf "%.1f", ms / 1000 }')
IMPORT_RATE=$(awk -v n="$USERS" -v ms="$IMPORT_MS" 'BEGIN { printf "%.0f", (ms > 0 ? n * 1000 / ms : 0) }')
IMPORT_RSS_MB=n/a
if [[ -f "$IMPORT_TIME_FILE" ]]; then
    IMPORT_RSS_MB=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$IMPORT_TIME_FILE")
fi
echo "imported $USERS users in ${IMPORT_S}s: $IMPORT_RATE users/s (importer peak RSS ${IMPORT_RSS_MB} MB)"

log "VACUUM ANALYZE"
psql "$DB_URL" -v ON_ERROR_STOP=1 -q -c "VACUUM (ANALYZE)"
DB_SIZE=$(psql "$DB_URL" -qAtc "select pg_size_pretty(pg_database_size(current_database()))")
echo "database size: $DB_SIZE"

# -------------------------------------------------------------------- server
SERVER_PID=
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ "$CACHE" == redis ]]; then
    log "flushing Redis DB $REDIS_BENCH_URL"
    redis-cli -u "$REDIS_BENCH_URL" FLUSHDB >/dev/null || die "cannot FLUSHDB $REDIS_BENCH_URL"
    export OTTSTATS_REDIS_URL="$REDIS_BENCH_URL"
fi

log "starting the server on 127.0.0.1:$PORT (cache: $CACHE)"
"$BIN" serve --bind "127.0.0.1:$PORT" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
unset OTTSTATS_REDIS_URL

for _ in $(seq 1 120); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        tail -n 30 "$SERVER_LOG" >&2
        die "the server exited during start-up (log: $SERVER_LOG)"
    fi
    sleep 0.5
done
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" \
    || { tail -n 30 "$SERVER_LOG" >&2; die "/healthz did not answer within 60 s"; }

# ------------------------------------------------------------------- warm-up
# The same body as bench/dashboard.lua sends (with the base `from`).
QUERY_JSON=$(awk 'BEGIN { ORS = "" }
    { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/\r/, "");
      if (NR > 1) print "\\n"; print }' "$ROOT/bench/dashboard.graphql")
BODY="{\"operationName\":\"Dashboard\",\"query\":\"$QUERY_JSON\",\"variables\":{\"period\":{\"from\":\"$PERIOD_FROM\",\"to\":\"$PERIOD_TO\",\"timeZone\":\"$PERIOD_TZ\"}}}"

log "warm-up request"
WARMUP=$(curl -sS -o "$WARMUP_BODY" -w '%{http_code} %{time_total}' \
    -H 'Content-Type: application/json' -H "Authorization: Bearer $API_KEY" \
    --data-binary "$BODY" "http://127.0.0.1:$PORT/graphql") || die "warm-up request failed"
WARMUP_STATUS=${WARMUP%% *}
WARMUP_SECS=${WARMUP#* }
if [[ "$WARMUP_STATUS" != 200 ]] || grep -q '"errors"' "$WARMUP_BODY" || ! grep -q '"data"' "$WARMUP_BODY"; then
    echo "warm-up answered HTTP $WARMUP_STATUS:" >&2
    head -c 4000 "$WARMUP_BODY" >&2; echo >&2
    die "the dashboard query failed"
fi
PERIOD_TOTAL=$(grep -o '"total": *[0-9]*' "$WARMUP_BODY" | awk 'NR == 1' | tr -dc '0-9')  # awk reads all: no SIGPIPE under pipefail
WARMUP_MS=$(awk -v s="$WARMUP_SECS" 'BEGIN { printf "%.1f", s * 1000 }')
echo "warm-up: HTTP 200 in ${WARMUP_MS} ms, $(wc -c <"$WARMUP_BODY") bytes, registrations.total = ${PERIOD_TOTAL:-?}"
if [[ "$UNIQUE" == 0 ]]; then
    # A whole answer is stored from the second time a request is seen (the first run
    # learns which data it reads): a repeated dashboard is measured warm.
    SECOND=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' \
        -H 'Content-Type: application/json' -H "Authorization: Bearer $API_KEY" \
        --data-binary "$BODY" "http://127.0.0.1:$PORT/graphql") || die "second warm-up request failed"
    echo "second warm-up (stores the whole answer): HTTP ${SECOND%% *} in $(awk -v s="${SECOND#* }" 'BEGIN { printf "%.1f", s * 1000 }') ms"
fi
if [[ "${PERIOD_TOTAL:-0}" == 0 ]]; then
    echo "warning: no registrations in the period: the benchmark measures an empty dashboard" >&2
fi

# ----------------------------------------------------------------------- wrk
log "wrk: $THREADS threads, $CONNECTIONS connections, $DURATION (unique periods: $UNIQUE)"
env API_KEY="$API_KEY" UNIQUE="$UNIQUE" THREADS="$THREADS" CHECK="$CHECK" \
    QUERY="$ROOT/bench/dashboard.graphql" FROM="$PERIOD_FROM" TO="$PERIOD_TO" TIME_ZONE="$PERIOD_TZ" \
    wrk --threads "$THREADS" --connections "$CONNECTIONS" --duration "$DURATION" \
        --timeout "$TIMEOUT" --latency --script "$ROOT/bench/dashboard.lua" \
        "http://127.0.0.1:$PORT/graphql" | tee "$WRK_LOG"

kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 30 "$SERVER_LOG" >&2; die "the server died during the run"; }
PEAK_RSS_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")
RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status")
if (( RSS_KB > PEAK_RSS_KB )); then PEAK_RSS_KB=$RSS_KB; fi   # VmHWM can lag VmRSS a little
PEAK_RSS_MB=$(awk -v kb="$PEAK_RSS_KB" 'BEGIN { printf "%.1f", kb / 1024 }')
RSS_MB=$(awk -v kb="$RSS_KB" 'BEGIN { printf "%.1f", kb / 1024 }')

BENCH_LINE=$(grep '^BENCH ' "$WRK_LOG" | tail -n 1) || die "wrk printed no BENCH line (see $WRK_LOG)"
field() { tr ' ' '\n' <<<"$BENCH_LINE" | awk -F= -v k="$1" '$1 == k { print $2 }'; }
REQUESTS=$(field requests)
RPS=$(field rps)
P50=$(field p50_ms)
P90=$(field p90_ms)
P99=$(field p99_ms)
MAX=$(field max_ms)
SOCKET_ERRORS=$(( $(field connect_errors) + $(field read_errors) + $(field write_errors) + $(field timeouts) ))
BAD_STATUS=$(field bad_status)
GQL_ERRORS=$(field graphql_errors)

# -------------------------------------------------------------------- report
if [[ "$CACHE" == off && "$UNIQUE" == 1 ]]; then
    MODE="uncached (no Redis, every period distinct)"
    VERDICT=$(awk -v p50="$P50" -v rss="$PEAK_RSS_MB" 'BEGIN {
        printf "target p50 <= 500 ms: %s; target peak RSS <= 300 MB: %s",
            (p50 <= 500 ? "met" : "MISSED"), (rss <= 300 ? "met" : "MISSED") }')
elif [[ "$CACHE" == redis && "$UNIQUE" == 0 ]]; then
    MODE="cached (Redis, one repeated period)"
    VERDICT=$(awk -v rps="$RPS" -v p99="$P99" -v c="$CONNECTIONS" 'BEGIN {
        printf "target >= 5000 req/s: %s; target p99 <= 20 ms: %s%s",
            (rps >= 5000 ? "met" : "MISSED"), (p99 <= 20 ? "met" : "MISSED"),
            (c == 50 ? "" : " (targets are set at 50 connections; this run used " c ")") }')
else
    MODE="cache=$CACHE unique=$UNIQUE"
    VERDICT="no target is set for this mode"
fi

SUMMARY="$OUT/registrations-$(date +%Y%m%d-%H%M%S).txt"
{
    echo "ottstats registration dashboard benchmark"
    echo "date:          $(date -Iseconds)"
    echo "commit:        $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "machine:       $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "postgres:      $(psql "$ADMIN_URL" -qAtc 'show server_version')"
    echo "mode:          $MODE"
    echo "parameters:    USERS=$USERS SEED=$SEED DURATION=$DURATION CONNECTIONS=$CONNECTIONS THREADS=$THREADS CACHE=$CACHE UNIQUE=$UNIQUE TIMEOUT=$TIMEOUT"
    echo "query:         bench/dashboard.graphql, period $PERIOD_FROM .. $PERIOD_TO $PERIOD_TZ, DAY buckets"
    echo "period total:  ${PERIOD_TOTAL:-?} registrations"
    echo "import:        ${IMPORT_S} s, $IMPORT_RATE users/s, importer peak RSS $IMPORT_RSS_MB MB, database $DB_SIZE"
    echo "warm-up:       ${WARMUP_MS} ms (first request after start)"
    echo "requests:      $REQUESTS in $DURATION"
    echo "throughput:    $RPS req/s"
    echo "latency:       p50 $P50 ms, p90 $P90 ms, p99 $P99 ms, max $MAX ms"
    echo "errors:        socket/timeout $SOCKET_ERRORS, non-200 $BAD_STATUS, GraphQL errors $GQL_ERRORS (checked: $CHECK)"
    echo "server RSS:    peak (VmHWM) $PEAK_RSS_MB MB, after the run $RSS_MB MB"
    echo "verdict:       $VERDICT"
} > "$SUMMARY"

log "summary ($SUMMARY)"
cat "$SUMMARY"

if (( SOCKET_ERRORS > 0 || BAD_STATUS > 0 || GQL_ERRORS > 0 )); then
    echo "error: some requests failed (see above): non-200 and GraphQL-error responses are included in the latency figures, socket errors and timeouts are not" >&2
    exit 1
fi
