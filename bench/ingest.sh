#!/usr/bin/env bash
# Ingest at platform rate (issue 12), measured side by side in one run on this machine's
# PostgreSQL. Each step gets a fresh database (migrated, tenant "Bench" created):
#
#   copy        psql \copy of the users CSV into a plain table of text columns: the floor
#   floors      the same \copy into typed tables shaped like registered_users with what the
#               schema keeps, one more each time: no index (copy-typed), the primary key
#               (copy-pk), the covering index of the SQL path (copy-pk-ix), the tenant's
#               foreign key (copy-pk-ix-fk): what each costs before ottstats does anything
#   users       `ottstats import users` (the bulk path: COPY into staging, set-based SQL)
#   users-rows  the same file's first ROW_USERS users with --bulk-from above the batch
#               (the row path: multi-row INSERTs), for the before/after ratio
#   events      `ottstats import events` (EVENTS events of the users above), sessions derived
#   events-rows the first ROW_EVENTS events on the row path
#   graphql     recordEvents over HTTP: 4 clients, batches of 5,000 (bench/loadgen ingest)
#   collect     POST /collect/events, NDJSON, with an ingest key: for each count of
#               COLLECT_CLIENTS ("4 16 64") clients, batches of COLLECT_BATCH; 503s
#               (backpressure) are counted and the batch sent again after Retry-After
#
#   USERS=1000000 EVENTS=10000000 bench/ingest.sh
#   USERS=100000 EVENTS=500000 ROW_USERS=50000 ROW_EVENTS=100000 bench/ingest.sh   # quick
#
# Prints one line a step (seconds, rows/s) and the ratios; everything under bench/out/ingest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

USERS=${USERS:-1000000}
EVENTS=${EVENTS:-10000000}
ROW_USERS=${ROW_USERS:-200000}
ROW_EVENTS=${ROW_EVENTS:-1000000}
HTTP_EVENTS=${HTTP_EVENTS:-1000000}
COLLECT_EVENTS=${COLLECT_EVENTS:-500000}
COLLECT_CLIENTS=${COLLECT_CLIENTS:-"4 16 64"}
COLLECT_BATCH=${COLLECT_BATCH:-500}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
BIN=${BIN:-$ROOT/target/release/ottstats}
LOADGEN=${LOADGEN:-$ROOT/target/release/loadgen}
PORT=${PORT:-18090}
STEPS=${STEPS:-copy floors users users-rows events events-rows graphql collect}
OUT=$ROOT/bench/out/ingest
mkdir -p "$OUT"

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
now_ms() { date +%s%3N; }
[[ -x "$BIN" ]] || die "no binary at $BIN (cargo build --release --bin ottstats)"
[[ -x "$LOADGEN" ]] || die "no load generator at $LOADGEN (cargo build --release -p ottstats-loadgen)"
psql "$PG/postgres" -qAtc 'select 1' >/dev/null || die "cannot reach PostgreSQL at $PG"

USERS_FILE=$OUT/users-$USERS.csv
if [[ ! -s "$USERS_FILE" ]]; then
    say "generating $USERS users"
    "$BIN" generate users --count "$USERS" --seed 42 --format csv --from 2024-11-01 --to 2026-11-01 \
        --output "$USERS_FILE.tmp"
    mv "$USERS_FILE.tmp" "$USERS_FILE"
fi
# The generator writes about 1,280 events a user a month (heartbeats every 10 s): the
# activity of EVENTS / 1,200 users (the first of the users file) is enough.
EVENT_USERS=${EVENT_USERS:-$((EVENTS / 1200 + 1))}
EVENTS_DIR=$OUT/events-of-$EVENT_USERS
if [[ ! -s "$EVENTS_DIR/events.ndjson" ]]; then
    say "generating the activity of $EVENT_USERS users"
    rm -rf "$EVENTS_DIR" && mkdir -p "$EVENTS_DIR"
    "$BIN" generate events --output-dir "$EVENTS_DIR" --users "$EVENT_USERS" --user-seed 42 \
        --users-from 2024-11-01 --users-to 2026-11-01 --from 2026-10-01 --to 2026-11-01 >/dev/null
fi
EVENTS_FILE=$OUT/events-$EVENTS.ndjson
[[ -s "$EVENTS_FILE" ]] || head -n "$EVENTS" "$EVENTS_DIR/events.ndjson" >"$EVENTS_FILE"
(( $(wc -l <"$EVENTS_FILE") >= EVENTS )) || die "the generator wrote fewer than $EVENTS events: raise EVENT_USERS"

# fresh NAME: a new migrated database with tenant Bench; sets URL and KEY.
fresh() {
    psql "$PG/postgres" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
    URL=$PG/$1
    OTTSTATS_DATABASE_URL=$URL "$BIN" migrate >/dev/null
    KEY=$(OTTSTATS_DATABASE_URL=$URL "$BIN" tenant create --name Bench --country CL --time-zone America/Santiago | tail -n1)
    KEY=${KEY//[[:space:]]/}
}

declare -A SECONDS_OF ROWS_OF
# timed STEP ROWS COMMAND...: runs it, records seconds and rows/s.
timed() {
    local step=$1 rows=$2
    shift 2
    local t0
    t0=$(now_ms)
    "$@" >"$OUT/$step.log" 2>&1 || { tail -n 20 "$OUT/$step.log" >&2; die "$step failed"; }
    local ms=$(( $(now_ms) - t0 ))
    SECONDS_OF[$step]=$(awk -v ms="$ms" 'BEGIN { printf "%.1f", ms / 1000 }')
    ROWS_OF[$step]=$rows
    printf '%-12s %10d rows %8s s %10s rows/s\n' "$step" "$rows" "${SECONDS_OF[$step]}" \
        "$(awk -v r="$rows" -v ms="$ms" 'BEGIN { printf "%.0f", r * 1000 / ms }')"
}
has() { [[ " $STEPS " == *" $1 "* ]]; }

import() { OTTSTATS_DATABASE_URL=$URL "$BIN" import "$@" --api-key "$KEY"; }

if has copy; then
    fresh ottstats_ingest_copy
    psql "$URL" -qX -c "CREATE TABLE plain_users (id text, name text, gender text, birth_date text, country text,
                                                  state text, city text, registered_at text)"
    timed copy "$USERS" psql "$URL" -qX -v ON_ERROR_STOP=1 -c "\\copy plain_users FROM '$USERS_FILE' WITH (FORMAT csv, HEADER true)"
fi
if has floors; then
    fresh ottstats_ingest_floors
    TENANT_ID=$(psql "$URL" -qAtX -c "SELECT id FROM tenants WHERE name = 'Bench'")
    columns="(id, name, gender, birth_date, country, state, city, registered_at)"
    # typed NAME EXTRA: a table of the users' columns, typed as stored, plus EXTRA.
    typed() {
        psql "$URL" -qX -v ON_ERROR_STOP=1 -c "CREATE TABLE $1 (tenant_id bigint NOT NULL DEFAULT $TENANT_ID,
            id varchar(128) NOT NULL, name varchar(256) NOT NULL, gender varchar(8), birth_date date, country char(2),
            state varchar(128), city varchar(128), registered_at timestamptz NOT NULL $2)"
    }
    typed f_typed ""
    typed f_pk ", PRIMARY KEY (tenant_id, id)"
    typed f_pk_ix ", PRIMARY KEY (tenant_id, id)"
    typed f_pk_ix_fk ", PRIMARY KEY (tenant_id, id), FOREIGN KEY (tenant_id) REFERENCES tenants (id)"
    for t in f_pk_ix f_pk_ix_fk; do
        psql "$URL" -qX -c "CREATE INDEX ${t}_ix ON $t (tenant_id, registered_at, gender, country)"
    done
    for t in typed pk pk-ix pk-ix-fk; do
        timed "copy-$t" "$USERS" psql "$URL" -qX -v ON_ERROR_STOP=1 \
            -c "\\copy f_${t//-/_} $columns FROM '$USERS_FILE' WITH (FORMAT csv, HEADER true)"
    done
fi
if has users || has events || has graphql || has collect; then
    fresh ottstats_ingest_bulk
    BULK_URL=$URL BULK_KEY=$KEY
    has users && timed users "$USERS" import users "$USERS_FILE"
    has events && timed events "$EVENTS" import events "$EVENTS_FILE"
fi
if has users-rows || has events-rows; then
    fresh ottstats_ingest_rows
    head -n $((ROW_USERS + 1)) "$USERS_FILE" >"$OUT/users-rows.csv"
    head -n "$ROW_EVENTS" "$EVENTS_FILE" >"$OUT/events-rows.ndjson"
    has users-rows && timed users-rows "$ROW_USERS" import users "$OUT/users-rows.csv" --bulk-from 1000000000
    has events-rows && timed events-rows "$ROW_EVENTS" import events "$OUT/events-rows.ndjson" --bulk-from 1000000000
fi

SERVER=
stop() { [[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null; SERVER=; }
trap stop EXIT
if has graphql || has collect; then
    URL=$BULK_URL KEY=$BULK_KEY
    OTTSTATS_DATABASE_URL=$URL "$BIN" tenant set-rate-limit --name Bench --per-minute 4000000000 >/dev/null
    INGEST_KEY=$(OTTSTATS_DATABASE_URL=$URL "$BIN" key create --tenant Bench --name collector --scopes ingest | tail -n1)
    INGEST_KEY=${INGEST_KEY//[[:space:]]/}
    OTTSTATS_DATABASE_URL=$URL NO_COLOR=1 RUST_LOG=warn "$BIN" serve --bind "127.0.0.1:$PORT" >"$OUT/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break; sleep 0.2; done
    has graphql && timed graphql "$HTTP_EVENTS" "$LOADGEN" --url "http://127.0.0.1:$PORT" --api-key "$KEY" \
        ingest --clients 4 --batch 5000 --events "$HTTP_EVENTS" --target graphql
    if has collect; then
        # One run per client count: where 503s (backpressure) start is the sustained maximum.
        for clients in $COLLECT_CLIENTS; do
            timed "collect-$clients" "$COLLECT_EVENTS" "$LOADGEN" --url "http://127.0.0.1:$PORT" --api-key "$INGEST_KEY" \
                --id-prefix "c$clients-$$" ingest --clients "$clients" --batch "$COLLECT_BATCH" --events "$COLLECT_EVENTS" \
                --target collect
        done
    fi
    stop
    for log in "$OUT"/graphql.log "$OUT"/collect-*.log; do [[ -f "$log" ]] && grep -h '^BENCH' "$log" >&2; done
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
if [[ -n "${SECONDS_OF[copy]:-}" && -n "${SECONDS_OF[users]:-}" ]]; then
    echo "import users / raw COPY of the same CSV: $(ratio "${SECONDS_OF[users]}" "${SECONDS_OF[copy]}")x the time"
fi
for t in typed pk pk-ix pk-ix-fk; do
    if [[ -n "${SECONDS_OF[copy]:-}" && -n "${SECONDS_OF[copy-$t]:-}" ]]; then
        echo "COPY into a table with $t / raw COPY: $(ratio "${SECONDS_OF[copy-$t]}" "${SECONDS_OF[copy]}")x the time"
    fi
done
rate() { awk -v r="${ROWS_OF[$1]}" -v s="${SECONDS_OF[$1]}" 'BEGIN { printf "%.0f", r / s }'; }
if [[ -n "${SECONDS_OF[users-rows]:-}" && -n "${SECONDS_OF[users]:-}" ]]; then
    echo "users: bulk path $(rate users)/s vs row path $(rate users-rows)/s: $(ratio "$(rate users)" "$(rate users-rows)")x"
fi
if [[ -n "${SECONDS_OF[events-rows]:-}" && -n "${SECONDS_OF[events]:-}" ]]; then
    echo "events: bulk path $(rate events)/s vs row path $(rate events-rows)/s: $(ratio "$(rate events)" "$(rate events-rows)")x"
fi
