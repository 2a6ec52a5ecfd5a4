#!/usr/bin/env bash
# Checks that bench/seed.sh's fast path (COPY) stores what `ottstats import` stores:
# seeds USERS users both ways (databases ottstats_seedcheck_copy and
# ottstats_seedcheck_import), compares the registered_users rows, then starts a server
# on each and compares the `data` of the dashboard (bench/dashboard.graphql, 2025-11-01 ..
# 2026-11-01 America/Santiago) and of a second query (two years in UTC, every panel at
# COUNTRY and CITY level, custom age ranges). Exits non-zero on any difference.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
export USERS=${USERS:-20000} SEED=${SEED:-42}
PORT_COPY=${PORT_COPY:-18090}
PORT_IMPORT=${PORT_IMPORT:-18091}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
export BIN=${BIN:-/work/target-helper/release/ottstats}
OUT="$ROOT/bench/out"
command -v jq >/dev/null || { echo "jq not found (apt-get install -y jq)" >&2; exit 2; }

for way in copy import; do
    DB=ottstats_seedcheck_$way LOAD=$way bench/seed.sh >"$OUT/seedcheck-$way.log" 2>&1 \
        || { tail -n 20 "$OUT/seedcheck-$way.log" >&2; exit 1; }
    grep -E '^(users|time|total):' "$OUT/seedcheck-$way.log" | sed "s/^/[$way] /"
done

status=0
ROWS="SELECT tenant_id, id, name, gender, birth_date, age, country, state, city, registered_at
        FROM registered_users ORDER BY id"
for way in copy import; do
    psql "$PGURL/ottstats_seedcheck_$way" -qAtc "$ROWS" >"$OUT/seedcheck-$way.rows"
done
if cmp -s "$OUT/seedcheck-copy.rows" "$OUT/seedcheck-import.rows"; then
    echo "registered_users: identical ($(wc -l <"$OUT/seedcheck-copy.rows") rows, every column but updated_at)"
else
    echo "registered_users DIFFER:" >&2
    diff "$OUT/seedcheck-copy.rows" "$OUT/seedcheck-import.rows" | head -n 10 >&2
    status=1
fi

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
for way in copy import; do
    port=PORT_${way^^}
    OTTSTATS_DATABASE_URL="$PGURL/ottstats_seedcheck_$way" RUST_LOG=warn \
        "$BIN" serve --bind "127.0.0.1:${!port}" >"$OUT/seedcheck-$way-server.log" 2>&1 &
    PIDS+=($!)
done
for way in copy import; do
    port=PORT_${way^^}
    for _ in $(seq 1 60); do
        curl -fsS -o /dev/null "http://127.0.0.1:${!port}/healthz" 2>/dev/null && break
        sleep 0.5
    done
done

DASHBOARD=$(jq -Rs . "$ROOT/bench/dashboard.graphql")
WIDE='query Wide($period: PeriodInput!) { registrations(period: $period) { total
  timeline(granularity: WEEK) { buckets { start total byGender { gender count } } peak { start total } }
  byGender { gender count percentage }
  byAge(ranges: [{ minAge: 0, maxAge: 12 }, { minAge: 18, maxAge: 29 }, { minAge: 30, maxAge: 64 }, { minAge: 100 }])
    { label count percentage }
  countries: byGeography(level: COUNTRY) { label code count percentage isOther }
  cities: byGeography(level: CITY) { label parent count percentage isOther } } }'
BODIES=(
    "{\"query\":$DASHBOARD,\"variables\":{\"period\":{\"from\":\"2025-11-01\",\"to\":\"2026-11-01\",\"timeZone\":\"America/Santiago\"}}}"
    "{\"query\":$(jq -Rn --arg q "$WIDE" '$q'),\"variables\":{\"period\":{\"from\":\"2024-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\",\"timeZone\":\"UTC\"}}}"
)
for i in "${!BODIES[@]}"; do
    for way in copy import; do
        port=PORT_${way^^}
        curl -fsS -H 'Content-Type: application/json' -H "Authorization: Bearer $(cat "$OUT/ottstats_seedcheck_$way.key")" \
            --data-binary "${BODIES[$i]}" "http://127.0.0.1:${!port}/graphql" >"$OUT/seedcheck-$way-$i.json"
        if jq -e 'has("errors") or (has("data") | not)' "$OUT/seedcheck-$way-$i.json" >/dev/null; then
            echo "query $i on $way answered errors: $(head -c 500 "$OUT/seedcheck-$way-$i.json")" >&2
            status=1
        fi
    done
    a=$(jq -S -c .data "$OUT/seedcheck-copy-$i.json" | sha256sum | cut -c1-16)
    b=$(jq -S -c .data "$OUT/seedcheck-import-$i.json" | sha256sum | cut -c1-16)
    total=$(jq '.data.registrations.total' "$OUT/seedcheck-copy-$i.json")
    if [[ "$a" == "$b" ]]; then
        echo "query $i: data identical (total $total, $(wc -c <"$OUT/seedcheck-copy-$i.json") bytes, sha256 $a)"
    else
        echo "query $i: data DIFFER (copy $a, import $b; see $OUT/seedcheck-*-$i.json)" >&2
        status=1
    fi
done
exit "$status"
