#!/usr/bin/env bash
# Builds a benchmark database a server can serve, fast: migrate, create a tenant (home
# CL, America/Santiago; its API key saved to bench/out/<db>.key, or <db>.db.key for
# SQLite), generate USERS users as CSV (reused when the stamp matches), and load them.
#
#   BACKEND=postgres LOAD=copy (default): psql \copy into an UNLOGGED staging table, then one
#     INSERT ... SELECT computing exactly what the server stores (see load_copy below),
#     the secondary indexes dropped during the load and rebuilt after; VACUUM ANALYZE.
#   BACKEND=postgres LOAD=import: `ottstats import users` (the reference path, ~10k/s).
#   BACKEND=sqlite: `ottstats import users` into bench/out/<db>.db.
#
#   USERS=1000000 SEED=42 DB=ottstats_bench_1m bench/seed.sh
#   USERS=20000 DB=ottstats_seedcheck_import LOAD=import bench/seed.sh
#   USERS=1000000 BACKEND=sqlite DB=ottstats_bench_1m bench/seed.sh
#
# The PostgreSQL database DB is dropped and recreated (so is the SQLite file).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

USERS=${USERS:-1000000}
SEED=${SEED:-42}
BACKEND=${BACKEND:-postgres}              # postgres | sqlite
LOAD=${LOAD:-copy}                        # copy | import (PostgreSQL only)
PGURL=${PGURL:-postgres://127.0.0.1:5432} # without a database name
PGUSER=${PGUSER:-postgres}                # used when PGURL names no user
REGENERATE=${REGENERATE:-0}               # 1: generate the users again even if the stamp matches
GEN_FROM=2024-11-01
GEN_TO=2026-11-01
HOME_COUNTRY=CL
TIME_ZONE=America/Santiago
TENANT_NAME=Bench

human() { awk -v n="$1" 'BEGIN { if (n % 1000000 == 0) printf "%dm", n / 1000000;
    else if (n % 1000 == 0) printf "%dk", n / 1000; else printf "%d", n }'; }
DB=${DB:-ottstats_bench_$(human "$USERS")}
[[ "$DB" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "DB must be a plain lower-case name (got '$DB')" >&2; exit 2; }
[[ "$USERS" =~ ^[1-9][0-9]*$ ]] || { echo "USERS must be a positive integer (got '$USERS')" >&2; exit 2; }
case "$BACKEND/$LOAD" in
    postgres/copy | postgres/import | sqlite/*) ;;
    *) echo "BACKEND must be postgres|sqlite and LOAD copy|import (got $BACKEND/$LOAD)" >&2; exit 2 ;;
esac
[[ "$BACKEND" == sqlite ]] && LOAD=import

OUT="$ROOT/bench/out"
USERS_FILE="$OUT/users-$USERS-seed$SEED.csv"
STAMP_FILE="$USERS_FILE.stamp"
# The SQLite database is a file, bench/out/<db>.db: its key is <db>.db.key, apart from
# the key of a PostgreSQL database of the same name.
if [[ "$BACKEND" == sqlite ]]; then KEY_FILE="$OUT/$DB.db.key"; else KEY_FILE="$OUT/$DB.key"; fi
mkdir -p "$OUT"

log() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }
T0=$(now_ms)
TIMINGS=()
step() { TIMINGS+=("$(printf '%-10s %8s s' "$1" "$(secs $(( $(now_ms) - $2 )))")"); }

# --------------------------------------------------------------------- binary
if [[ -z "${BIN:-}" ]]; then
    BIN=/work/target-helper/release/ottstats
    if [[ ! -x "$BIN" ]]; then
        log "building the release binary (cargo build --release -p ottstats --target-dir /work/target-helper)"
        cargo build --release -p ottstats --target-dir /work/target-helper
    fi
fi
[[ -x "$BIN" ]] || die "BIN=$BIN is not an executable"
unset OTTSTATS_REDIS_URL OTTSTATS_API_KEY OTTSTATS_BIND
export RUST_LOG=${RUST_LOG:-warn}
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

# ------------------------------------------------------------------- database
if [[ "$BACKEND" == postgres ]]; then
    command -v psql >/dev/null || die "psql not found (apt-get install -y postgresql-client)"
    PGURL=${PGURL%/}
    if [[ "$PGURL" == *@* ]]; then PG_BASE=$PGURL; else PG_BASE="${PGURL/:\/\//://${PGUSER}@}"; fi
    DB_URL="$PG_BASE/$DB"
    psql "$PG_BASE/postgres" -qAtc 'select 1' >/dev/null || die "cannot connect to PostgreSQL at $PG_BASE/postgres"
    log "recreating database $DB"
    psql "$PG_BASE/postgres" -v ON_ERROR_STOP=1 -q \
        -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
else
    DB_FILE="$OUT/$DB.db"
    DB_URL="sqlite://$DB_FILE?mode=rwc"
    log "recreating $DB_FILE"
    rm -f "$DB_FILE" "$DB_FILE-wal" "$DB_FILE-shm"
fi
export OTTSTATS_DATABASE_URL="$DB_URL"

t=$(now_ms)
"$BIN" migrate
API_KEY=$("$BIN" tenant create --name "$TENANT_NAME" --country "$HOME_COUNTRY" --time-zone "$TIME_ZONE" | tail -n 1)
API_KEY=${API_KEY//[[:space:]]/}
[[ -n "$API_KEY" ]] || die "tenant create printed no API key"
(umask 077 && printf '%s\n' "$API_KEY" > "$KEY_FILE")
step "migrate+tenant" "$t"

# ------------------------------------------------------------------- generate
STAMP="users=$USERS seed=$SEED format=csv home=$HOME_COUNTRY from=$GEN_FROM to=$GEN_TO"
t=$(now_ms)
if [[ "$REGENERATE" != 1 && -s "$USERS_FILE" && -f "$STAMP_FILE" && "$(cat "$STAMP_FILE")" == "$STAMP" ]]; then
    log "reusing $USERS_FILE ($STAMP)"
else
    log "generating $USERS users (seed $SEED) into $USERS_FILE"
    rm -f "$STAMP_FILE"
    "$BIN" generate users --count "$USERS" --seed "$SEED" --format csv \
        --home "$HOME_COUNTRY" --from "$GEN_FROM" --to "$GEN_TO" --output "$USERS_FILE.tmp"
    mv "$USERS_FILE.tmp" "$USERS_FILE"
    printf '%s\n' "$STAMP" > "$STAMP_FILE"
fi
step generate "$t"
HEADER=$(head -n 1 "$USERS_FILE" | tr -d '\r')
[[ "$HEADER" == "id,name,gender,birthDate,country,state,city,registeredAt" ]] \
    || die "unexpected CSV header in $USERS_FILE: $HEADER"

# ----------------------------------------------------------------------- load
# What the server stores for a CSV line (domain/src/user.rs, persistence/src/user_repo.rs):
# id and name trimmed; gender upper-cased, blank -> UNKNOWN; birth_date a date or NULL;
# age = whole years from birth_date to the UTC date of registration (a 29 February
# birthday counts from 1 March, as PostgreSQL's age() does), NULL without a birth date,
# for a birth after registration or above 120; country upper-cased, state and city
# trimmed, blank -> NULL; registered_at epoch milliseconds (truncated); updated_at now.
# Every new user also gets its profile version (`user:<id>` = 1) and the tenant's
# registrations version is bumped, as an import does. Rows go in in id order (a heap
# scan of the staging table is not quite file order), so that the primary keys fill
# their pages as an import's sorted batches do. Values the server would refuse stop the
# load (an import would report and skip them).
load_copy() {
    local tenant
    tenant=$(psql "$DB_URL" -qAtc "SELECT id FROM tenants WHERE name = '$TENANT_NAME'")
    [[ "$tenant" =~ ^[0-9]+$ ]] || die "cannot find tenant $TENANT_NAME (got '$tenant')"
    # \copy takes its line verbatim (no psql variables): the path goes in here.
    psql "$DB_URL" -X -q -v ON_ERROR_STOP=1 \
        -c "DROP TABLE IF EXISTS seed_staging" \
        -c "CREATE UNLOGGED TABLE seed_staging (id text, name text, gender text, birth_date text, country text,
                                                state text, city text, registered_at text)" \
        -c "\\copy seed_staging FROM '$USERS_FILE' WITH (FORMAT csv, HEADER true)"
    psql "$DB_URL" -X -q -v ON_ERROR_STOP=1 -v tenant="$tenant" <<'SQL'
SET TIME ZONE 'UTC';
SET maintenance_work_mem = '1GB';
SET work_mem = '256MB';
SET synchronous_commit = off;
-- Rust's str::trim: every White_Space character (PostgreSQL's btrim takes a set).
CREATE FUNCTION pg_temp.trim_ws(t text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT btrim(t, E' \t\n\x0b\f\r\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000') $$;
SELECT count(*) > 0 AS refused, count(*) AS refused_lines FROM seed_staging
 WHERE coalesce(upper(pg_temp.trim_ws(gender)), '') NOT IN ('', 'FEMALE', 'MALE', 'OTHER', 'UNKNOWN')
    OR coalesce(pg_temp.trim_ws(country), '') !~ '^([A-Za-z]{2})?$'
    OR coalesce(pg_temp.trim_ws(birth_date), '') !~ '^([0-9]{4}-[0-9]{2}-[0-9]{2})?$'
    OR pg_temp.trim_ws(registered_at) !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$'
    OR pg_temp.trim_ws(id) = '' OR length(pg_temp.trim_ws(id)) > 128
    OR length(pg_temp.trim_ws(coalesce(name, ''))) > 256
    OR length(pg_temp.trim_ws(state)) > 128 OR length(pg_temp.trim_ws(city)) > 128 \gset
\if :refused
  \echo :refused_lines 'lines hold values the server would refuse: use LOAD=import to see which'
  DO $$ BEGIN RAISE EXCEPTION 'refused lines'; END $$;
\endif
BEGIN;
CREATE TEMP TABLE dropped_indexes AS
  SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS def
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
   WHERE x.indrelid = 'registered_users'::regclass AND NOT x.indisprimary;
SELECT coalesce(string_agg(format('DROP INDEX %I', name), '; '), 'SELECT 1') AS drops FROM dropped_indexes \gset
:drops;
INSERT INTO registered_users (tenant_id, id, name, gender, birth_date, age, country, state, city,
                              registered_at, updated_at)
SELECT :tenant, pg_temp.trim_ws(id), pg_temp.trim_ws(coalesce(name, '')),
       coalesce(nullif(upper(pg_temp.trim_ws(gender)), ''), 'UNKNOWN'),
       birth,
       CASE WHEN birth IS NULL OR birth > reg_day THEN NULL
            ELSE nullif(least(extract(year FROM age(reg_day, birth)), 121), 121)::smallint END,
       upper(nullif(pg_temp.trim_ws(country), '')),
       nullif(pg_temp.trim_ws(state), ''), nullif(pg_temp.trim_ws(city), ''),
       (extract(epoch FROM reg) * 1000)::bigint,
       floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint
  FROM (SELECT s.*, nullif(pg_temp.trim_ws(birth_date), '')::date AS birth, r.reg,
               (r.reg AT TIME ZONE 'UTC')::date AS reg_day
          FROM seed_staging s,
               LATERAL (SELECT date_trunc('milliseconds', pg_temp.trim_ws(s.registered_at)::timestamptz) AS reg) r) x
 ORDER BY 2;
SELECT coalesce(string_agg(def, '; '), 'SELECT 1') AS creates FROM dropped_indexes \gset
:creates;
INSERT INTO data_versions (tenant_id, scope, version)
SELECT :tenant, 'user:' || id, 1 FROM registered_users WHERE tenant_id = :tenant ORDER BY id
ON CONFLICT (tenant_id, scope) DO UPDATE SET version = data_versions.version + 1;
INSERT INTO data_versions (tenant_id, scope, version) VALUES (:tenant, 'registrations', 1)
ON CONFLICT (tenant_id, scope) DO UPDATE SET version = data_versions.version + 1;
COMMIT;
DROP TABLE seed_staging;
SQL
}

log "loading $USERS users ($BACKEND, $LOAD)"
t=$(now_ms)
if [[ "$LOAD" == copy ]]; then
    load_copy
else
    "$BIN" import users "$USERS_FILE" --api-key "$API_KEY"
fi
step load "$t"

t=$(now_ms)
if [[ "$BACKEND" == postgres ]]; then
    log "VACUUM ANALYZE"
    psql "$DB_URL" -v ON_ERROR_STOP=1 -q -c "VACUUM (ANALYZE)"
    STORED=$(psql "$DB_URL" -qAtc "SELECT count(*) FROM registered_users")
    SIZE=$(psql "$DB_URL" -qAtc "SELECT pg_size_pretty(pg_database_size(current_database()))")
else
    command -v sqlite3 >/dev/null && sqlite3 "$DB_FILE" 'PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;' >/dev/null
    STORED=$(command -v sqlite3 >/dev/null && sqlite3 "$DB_FILE" 'SELECT count(*) FROM registered_users' || echo '?')
    SIZE=$(du -h "$DB_FILE" | cut -f1)
fi
step analyze "$t"
[[ "$STORED" == "?" || "$STORED" == "$USERS" ]] || die "$STORED users stored, $USERS expected"

SUMMARY="$OUT/seed-$DB.txt"
[[ "$BACKEND" == sqlite ]] && SUMMARY="$OUT/seed-$DB.db.txt"
{
    echo "database:  $DB ($BACKEND, load: $LOAD) $DB_URL"
    echo "date:      $(date -Iseconds)  (repository HEAD $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown))"
    echo "users:     $STORED stored (USERS=$USERS SEED=$SEED, $GEN_FROM .. $GEN_TO, home $HOME_COUNTRY), size $SIZE"
    echo "key:       $KEY_FILE"
    echo "binary:    $BIN"
    printf 'time:      %s\n' "${TIMINGS[@]}"
    echo "total:     $(secs $(( $(now_ms) - T0 ))) s"
} | tee "$SUMMARY"
