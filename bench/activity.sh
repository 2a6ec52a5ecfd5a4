#!/usr/bin/env bash
# User-activity benchmark against PostgreSQL (see bench/README.md): one user with about
# HEAVY_EVENTS events in a 30-day period amid about OTHER_EVENTS events of other users.
# Measures the full activity query (overview, first 100 events, DAY bandwidth, details)
# and an events page, uncached (every request asks for a different period).
#
#   bench/activity.sh                                   # 10M other events, 50k for the user
#   OTHER_USERS=300 bench/activity.sh                   # a quick run (~0.7M other events)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

OTHER_USERS=${OTHER_USERS:-4200}       # ≈ 40 events a user a day over 60 days: ≈ 10M events
HEAVY_EVENTS=${HEAVY_EVENTS:-50000}
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-1}
PORT=${PORT:-18081}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
BIN=${BIN:-target/release/ottstats}
DB_NAME=ottstats_bench_activity
OUT="$ROOT/bench/out/activity"
HEAVY=u0000001
USERS_FROM=2024-11-01
USERS_TO=2026-09-01
OTHERS_FROM=2026-09-01             # 60 days of everybody's activity
HEAVY_FROM=2026-10-01              # the heavy user's 30 days
TO=2026-10-31

log() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk not found: apt-get update && apt-get install -y wrk"
[[ -x "$BIN" ]] || cargo build --release -p ottstats
mkdir -p "$OUT"
export OTTSTATS_DATABASE_URL="$PGURL/$DB_NAME" RUST_LOG=${RUST_LOG:-warn}

log "generating data into $OUT"
STAMP="others=$OTHER_USERS heavy=$HEAVY_EVENTS v1"
if [[ "$(cat "$OUT/stamp" 2>/dev/null)" != "$STAMP" ]]; then
    "$BIN" generate users --count "$OTHER_USERS" --seed 42 --from "$USERS_FROM" --to "$USERS_TO" --output "$OUT/users.ndjson"
    "$BIN" generate events --output-dir "$OUT/others" --users "$OTHER_USERS" --users-from "$USERS_FROM" --users-to "$USERS_TO" \
        --from "$OTHERS_FROM" --to "$TO" --exclude-user "$HEAVY"
    # The heavy user: raise the intensity until its 30 days hold about HEAVY_EVENTS events.
    intensity=40
    for _ in 1 2 3 4; do
        "$BIN" generate events --output-dir "$OUT/heavy" --users 1 --users-from "$USERS_FROM" --users-to "$USERS_TO" \
            --from "$HEAVY_FROM" --to "$TO" --intensity "$intensity" --seed 11 >/dev/null
        n=$(wc -l < "$OUT/heavy/events.ndjson")
        intensity=$(awk -v i="$intensity" -v n="$n" -v t="$HEAVY_EVENTS" 'BEGIN { printf "%.3f", (n > 0 ? i * t / n : i * 2) }')
        echo "heavy user: $n events"
    done
    echo "$STAMP" > "$OUT/stamp"
fi
OTHER_EVENTS=$(wc -l < "$OUT/others/events.ndjson")
HEAVY_N=$(wc -l < "$OUT/heavy/events.ndjson")
echo "other users' events: $OTHER_EVENTS; $HEAVY's events: $HEAVY_N"

log "recreating database $DB_NAME"
psql "$PGURL/postgres" -v ON_ERROR_STOP=1 -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME"
"$BIN" migrate >/dev/null
KEY=$("$BIN" tenant create --name Bench --country CL --time-zone America/Santiago | tail -n 1)

log "importing"
"$BIN" import users "$OUT/users.ndjson" --api-key "$KEY"
"$BIN" import contents "$OUT/others/contents.ndjson" --api-key "$KEY"
start=$(date +%s)
"$BIN" import events "$OUT/others/events.ndjson" --api-key "$KEY"
secs=$(( $(date +%s) - start ))
echo "imported $OTHER_EVENTS events in ${secs}s: $(( OTHER_EVENTS / (secs > 0 ? secs : 1) )) events/s"
"$BIN" import events "$OUT/heavy/events.ndjson" --api-key "$KEY"
"$BIN" import logins "$OUT/others/logins.ndjson" --api-key "$KEY"
"$BIN" import logins "$OUT/heavy/logins.ndjson" --api-key "$KEY"
psql "$PGURL/$DB_NAME" -q -c "VACUUM (ANALYZE)"
echo "database size: $(psql "$PGURL/$DB_NAME" -qAtc "select pg_size_pretty(pg_database_size(current_database()))")"

SERVER_PID=
trap '[[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null; true' EXIT
"$BIN" serve --bind "127.0.0.1:$PORT" >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 60); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break; sleep 0.5; done

run() { # name, document, operation
    log "$1: wrk -c$CONNECTIONS -d$DURATION, uncached"
    API_KEY=$KEY QUERY="$ROOT/bench/$2" OPERATION=$3 USER_ID=$HEAVY FROM=$HEAVY_FROM TO=$TO TIME_ZONE=UTC UNIQUE=1 THREADS=1 \
        wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency --timeout 30s -s "$ROOT/bench/dashboard.lua" "http://127.0.0.1:$PORT/graphql" \
        | tee "$OUT/$1.wrk" | grep -E "^BENCH|Requests/sec"
}
run activity activity.graphql Activity
run events-page events_page.graphql EventsPage
echo "server peak RSS: $(awk '/VmHWM/ { printf "%.0f MB", $2 / 1024 }' "/proc/$SERVER_PID/status")"
