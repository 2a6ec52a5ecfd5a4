#!/usr/bin/env bash
# Subscriptions under attack (issue 9), against PostgreSQL: SOCKETS sockets subscribe to
# one and the same heavy liveUserActivity (bench/ws_attack.graphql) of a user with about
# HEAVY_EVENTS events in the last 30 days, then one event is written for the user: what
# that one write costs (answers computed, SQL table scans, cache misses), how soon every
# socket has it, and the server's RSS before, with and after the sockets. Then the
# floods: 40 sockets each sending a 15 MB ping before connection_init, and 1,000
# subscriptions on one socket. Bounded: a few minutes with the defaults.
#
#   bench/ws_attack.sh                                   # 100 sockets, ~20k events
#   SOCKETS=20 HEAVY_EVENTS=5000 bench/ws_attack.sh      # quicker
#   BIN=/tmp/ottstats-before bench/ws_attack.sh          # another server binary
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

SOCKETS=${SOCKETS:-100}
HEAVY_EVENTS=${HEAVY_EVENTS:-20000}
PORT=${PORT:-18082}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
BIN=${BIN:-target/release/ottstats}
LOADGEN=${LOADGEN:-target/release/loadgen}
DB_NAME=ottstats_bench_ws
OUT="$ROOT/bench/out/ws_attack"
USER_ID=u0000001
FROM=$(date -u -d '30 days ago' +%F)
TO=$(date -u -d tomorrow +%F)

log() { printf '\n==> %s\n' "$*"; }
[[ -x "$BIN" ]] || cargo build --release -p ottstats
[[ -x "$LOADGEN" ]] || cargo build --release -p ottstats-loadgen
mkdir -p "$OUT"
export OTTSTATS_DATABASE_URL="$PGURL/$DB_NAME" RUST_LOG=${RUST_LOG:-warn}

STAMP="heavy=$HEAVY_EVENTS from=$FROM v1"
if [[ "$(cat "$OUT/stamp" 2>/dev/null)" != "$STAMP" ]]; then
    log "generating one user with about $HEAVY_EVENTS events from $FROM"
    "$BIN" generate users --count 1 --seed 42 --from 2025-01-01 --to "$FROM" --output "$OUT/users.ndjson"
    intensity=40
    for _ in 1 2 3 4; do
        "$BIN" generate events --output-dir "$OUT/events" --users 1 --users-from 2025-01-01 --users-to "$FROM" \
            --from "$FROM" --to "$TO" --intensity "$intensity" --seed 11 >/dev/null
        n=$(wc -l < "$OUT/events/events.ndjson")
        intensity=$(awk -v i="$intensity" -v n="$n" -v t="$HEAVY_EVENTS" 'BEGIN { printf "%.3f", (n > 0 ? i * t / n : i * 2) }')
    done
    echo "$STAMP" > "$OUT/stamp"
fi
echo "$USER_ID: $(wc -l < "$OUT/events/events.ndjson") events, $(wc -l < "$OUT/events/logins.ndjson") logins"

log "recreating database $DB_NAME"
psql "$PGURL/postgres" -v ON_ERROR_STOP=1 -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME"
"$BIN" migrate >/dev/null
KEY=$("$BIN" tenant create --name Bench --country CL --time-zone UTC | tail -n 1)
"$BIN" import users "$OUT/users.ndjson" --api-key "$KEY" >/dev/null
"$BIN" import contents "$OUT/events/contents.ndjson" --api-key "$KEY" >/dev/null
"$BIN" import events "$OUT/events/events.ndjson" --api-key "$KEY" >/dev/null
"$BIN" import logins "$OUT/events/logins.ndjson" --api-key "$KEY" >/dev/null
psql "$PGURL/$DB_NAME" -q -c "VACUUM (ANALYZE)"

SERVER_PID=
trap '[[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null; true' EXIT
"$BIN" serve --bind "127.0.0.1:$PORT" >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 60); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break; sleep 0.5; done

# Reads of the activity tables (sequential and index scans), as PostgreSQL counts them.
PROBE="psql '$PGURL/$DB_NAME' -qAtc \"select coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) from pg_stat_user_tables
  where relname in ('player_events', 'playback_sessions', 'logins', 'contents')\""
COMMON=(--url "http://127.0.0.1:$PORT" --api-key "$KEY" --from "$FROM" --to "$TO" --time-zone UTC)

log "$SOCKETS sockets × one liveUserActivity, then one write"
"$LOADGEN" "${COMMON[@]}" same --count "$SOCKETS" --subscription-file bench/ws_attack.graphql --user "$USER_ID" \
    --server-pid "$SERVER_PID" --sql-probe "$PROBE" | tee "$OUT/same.txt" || echo "(same: some sockets failed; see above)"

log "floods: 40 pings of 15 MB before connection_init, 1,000 subscriptions on one socket"
"$LOADGEN" "${COMMON[@]}" flood --sockets 40 --ping-bytes 15000000 --subscriptions 1000 --server-pid "$SERVER_PID" \
    | tee "$OUT/flood.txt" || echo "(flood failed; see above)"
