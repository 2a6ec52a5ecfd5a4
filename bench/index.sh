#!/usr/bin/env bash
# The registrations index against the SQL path, in one run (see bench/README.md).
#
#   DB=ottstats_bench_1m bench/index.sh                     # PostgreSQL + Redis, 1M users
#   DB=ottstats_bench_10m SQL_SUBSCRIBERS=10 bench/index.sh  # 10M users
#   BACKEND=sqlite DB=ottstats_bench_1m bench/index.sh      # SQLite file bench/out/<DB>.db
#
# The database is one bench/seed.sh built (its key is in bench/out/<DB>.key). For each
# path (index: OTTSTATS_INDEX_MEMORY=1GiB; SQL: OTTSTATS_INDEX_MEMORY=0) it starts
# `ottstats serve`, waits until /readyz says every index is warm (and times the load),
# then runs bench/loadgen:
#   fresh        one connection: write a user, read the dashboard at once (p50, p99);
#   mixed        50 readers of the dashboard with a writer at 100 registrations/s;
#   subscribers  100 liveRegistrations subscribers with distinct periods during writes
#                (push latency, server CPU).
# Every figure lands in bench/out/index-<DB>-<date>.txt.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

DB=${DB:-ottstats_bench_1m}
BACKEND=${BACKEND:-postgres}
PORT=${PORT:-18080}
PG_BASE=${PG_BASE:-postgres://postgres@127.0.0.1:5432}
REDIS_BENCH_URL=${REDIS_BENCH_URL:-redis://127.0.0.1:6379/15}
FRESH_ITERATIONS=${FRESH_ITERATIONS:-300}
MIXED_DURATION=${MIXED_DURATION:-30s}
READERS=${READERS:-50}
WRITE_RATE=${WRITE_RATE:-100}
SUBSCRIBERS=${SUBSCRIBERS:-100}
SUB_WRITES=${SUB_WRITES:-20}
# The SQL path is far slower: fewer iterations keep the run bounded.
SQL_FRESH_ITERATIONS=${SQL_FRESH_ITERATIONS:-20}
SQL_MIXED_DURATION=${SQL_MIXED_DURATION:-30s}
SQL_SUBSCRIBERS=${SQL_SUBSCRIBERS:-100}
SQL_SUB_WRITES=${SQL_SUB_WRITES:-5}
PATHS=${PATHS:-index sql}
BIN=${BIN:-target/release/ottstats}
LOADGEN=${LOADGEN:-target/release/loadgen}

OUT="$ROOT/bench/out"
mkdir -p "$OUT"
KEY_FILE="$OUT/$DB.key"
[[ "$BACKEND" == sqlite ]] && KEY_FILE="$OUT/$DB.db.key"
[[ -s "$KEY_FILE" ]] || { echo "no $KEY_FILE: seed the database first (bench/seed.sh)" >&2; exit 1; }
API_KEY=$(tr -d '[:space:]' <"$KEY_FILE")
export API_KEY
case "$BACKEND" in
    postgres) DATABASE_URL="$PG_BASE/$DB" ;;
    sqlite) DATABASE_URL="sqlite://$OUT/$DB.db?mode=rwc"; REDIS_BENCH_URL= ;;
    *) echo "BACKEND must be postgres or sqlite" >&2; exit 2 ;;
esac
if [[ ! -x "$BIN" || ! -x "$LOADGEN" ]]; then
    cargo build --release -p ottstats -p ottstats-loadgen
fi

SUMMARY="$OUT/index-$DB-$BACKEND-$(date +%Y%m%d-%H%M%S).txt"
say() { printf '%s\n' "$*" | tee -a "$SUMMARY"; }
say "ottstats registrations index benchmark: $DB on $BACKEND ($(date -Iseconds), commit $(git rev-parse --short HEAD))"
say "machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"

SERVER_PID=
stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=
}
trap stop_server EXIT

start_server() { # $1: index memory
    [[ -n "$REDIS_BENCH_URL" ]] && redis-cli -u "$REDIS_BENCH_URL" FLUSHDB >/dev/null
    local started
    started=$(date +%s%3N)
    env ${REDIS_BENCH_URL:+OTTSTATS_REDIS_URL="$REDIS_BENCH_URL"} OTTSTATS_DATABASE_URL="$DATABASE_URL" \
        OTTSTATS_INDEX_MEMORY="$1" RUST_LOG=${RUST_LOG:-info} NO_COLOR=1 \
        "$BIN" serve --bind "127.0.0.1:$PORT" >"$OUT/index-server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 1200); do
        if [[ "$(curl -fsS "http://127.0.0.1:$PORT/readyz" 2>/dev/null)" == ready ]]; then
            break
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$OUT/index-server.log" >&2; exit 1; }
        sleep 0.1
    done
    [[ "$(curl -fsS "http://127.0.0.1:$PORT/readyz")" == ready ]] || { echo "never ready" >&2; exit 1; }
    READY_MS=$(( $(date +%s%3N) - started ))
}

metric() { curl -fsS "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
rss_mb() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$SERVER_PID/status"; }

run() { # $1: label, then loadgen arguments
    local label=$1; shift
    local line
    line=$("$LOADGEN" --url "http://127.0.0.1:$PORT" "$@" | tee "$OUT/index-loadgen.log" | grep '^BENCH ' | tail -1) || true
    say "$label: ${line#BENCH } (server RSS $(rss_mb) MB)"
}

for path in $PATHS; do
    if [[ "$path" == index ]]; then
        start_server 1GiB
        rows=$(metric ottstats_index_rows)
        bytes=$(metric ottstats_index_bytes)
        loaded=$(grep -o 'registrations index loaded.*' "$OUT/index-server.log" | tail -1)
        say ""
        say "== index path (OTTSTATS_INDEX_MEMORY=1GiB)"
        say "ready after ${READY_MS} ms; $loaded"
        say "index: $rows rows, $bytes bytes, $(awk -v b="$bytes" -v r="$rows" 'BEGIN { printf "%.1f", (r > 0 ? b / r : 0) }') bytes a user; server RSS $(rss_mb) MB"
        run "fresh" fresh --iterations "$FRESH_ITERATIONS"
        run "mixed" mixed --readers "$READERS" --write-rate "$WRITE_RATE" --duration "$MIXED_DURATION"
        run "subscribers" subscribers --count "$SUBSCRIBERS" --writes "$SUB_WRITES" --server-pid "$SERVER_PID"
        say "index answers $(metric ottstats_index_answers_total), SQL answers $(metric ottstats_index_fallback_answers_total), catch-ups $(metric ottstats_index_catch_ups_total), loads $(metric ottstats_index_loads_total)"
    else
        start_server 0
        say ""
        say "== SQL path (OTTSTATS_INDEX_MEMORY=0), same database, same run"
        run "fresh" fresh --iterations "$SQL_FRESH_ITERATIONS"
        run "mixed" mixed --readers "$READERS" --write-rate "$WRITE_RATE" --duration "$SQL_MIXED_DURATION"
        run "subscribers" subscribers --count "$SQL_SUBSCRIBERS" --writes "$SQL_SUB_WRITES" --server-pid "$SERVER_PID" \
            --push-timeout 120s --initial-timeout 600s
    fi
    stop_server
done
say ""
say "summary: $SUMMARY"
