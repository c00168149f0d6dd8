#!/usr/bin/env bash
# Reproduces the server-level figures of BENCHMARKS.md on this machine:
# a release server on loopback, synthetic brands, `kairos bench` (Score,
# ScoreBatch, ScoreStream and the health-check baseline in one run), h2load
# for the same unary calls, resident memory with many profiles, the
# candidate index's memory, COMPACT against FULL, RankBrands against the
# number of stored brands (scripts/bench-scale.py, needs python3 with
# grpcio and grpcio-tools), and with STORE_PROFILES=N the storage migration.
# Everything targets 127.0.0.1 and every load loop is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RPC="${SECONDS_PER_RPC:-10}"
BRANDS="${BRANDS:-1000}"
MEMORY_BRANDS="${MEMORY_BRANDS:-100000}"
PORT="${PORT:-50071}"
ADDR="127.0.0.1:$PORT"

cargo build --release --locked --quiet --features loadgen
BIN=${CARGO_TARGET_DIR:-target}/release/kairos
DATA=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT

start_server() {
    "$BIN" serve --listen "$ADDR" --data-dir "$DATA" --cache-capacity 10000 "$@" 2>"$DATA/server.log" &
    SERVER=$!
    for _ in $(seq 100); do
        grep -q "kairos listening" "$DATA/server.log" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "server did not start" >&2; cat "$DATA/server.log" >&2; exit 1
}

echo "== kairos bench (client and server share the machine)"
start_server
"$BIN" bench --server "http://$ADDR" --setup --brands "$BRANDS" --rpc all \
    --concurrency 64 --connections 1 --seconds "$SECONDS_PER_RPC"
"$BIN" bench --server "http://$ADDR" --brands "$BRANDS" --rpc all \
    --concurrency 64 --connections 4 --seconds "$SECONDS_PER_RPC"
echo "-- every Score request a new event (the analysis cache never hits)"
"$BIN" bench --server "http://$ADDR" --brands "$BRANDS" --rpc score --unique-events \
    --concurrency 64 --connections 1 --seconds "$SECONDS_PER_RPC"

if command -v h2load >/dev/null; then
    echo "== h2load (unary, one connection, 64 streams)"
    printf '\x00\x00\x00\x00\x00' > "$DATA/health.bin"
    "$BIN" bench --write-score-body "$DATA/score.bin" >/dev/null
    for target in grpc.health.v1.Health/Check:health.bin kairos.v1.ScoringService/Score:score.bin; do
        path=${target%%:*}; body=${target##*:}
        echo "-- $path"
        h2load -c 1 -m 64 -D "$SECONDS_PER_RPC" -H 'content-type: application/grpc' -H 'te: trailers' \
            -d "$DATA/$body" "http://$ADDR/$path" | grep -E "^(finished in|requests:|status codes:|traffic:|time for request:)"
    done
    # h2load repeats one body, so every Score above reused the event's
    # analysis; without the cache every request analyses it.
    kill $SERVER; wait $SERVER 2>/dev/null || true
    start_server --event-cache-mb 0
    # The new-event ratio as ../shared/acceptance/scale measures it: its
    # cookie brand and its moment (a 250-character trending event, two
    # hashtags, one sample post, the same as benches/analyse_calls.rs),
    # health Check and Score alternated three times (A B A B A B), medians.
    echo "-- new-event ratio: Score / health Check, server with --event-cache-mb 0"
    grpcurl -plaintext -d @ "$ADDR" kairos.v1.BrandProfileService/UpsertBrandProfile >/dev/null <<'JSON'
{"profile": {"brand_id": "crumbco", "display_name": "CrumbCo Cookies", "aliases": ["CrumbCo", "@crumbco"],
 "category": "Food & Drink",
 "themes": [{"term": "dunk", "weight": 1.0}, {"term": "milk", "weight": 0.8}, {"term": "cookie", "weight": 0.9},
            {"term": "dark", "weight": 0.5}, {"term": "twist", "weight": 0.6}],
 "competitors": ["Biscuitly"], "risk_appetite": "RISK_APPETITE_BALANCED", "audience_time_zone": "America/New_York",
 "active_windows": [{"start_minute": 900, "end_minute": 1380}], "quiet_hours": [{"start_minute": 0, "end_minute": 360}],
 "approval_latency": [{"mode": "ENGAGEMENT_MODE_NEWSJACK", "latency": "600s"},
                      {"mode": "ENGAGEMENT_MODE_CUSTOMER_CARE", "latency": "300s"}],
 "frequency_caps": {"per_author_per_day": 2, "per_conversation_per_day": 3, "per_brand_per_hour": 20}}}
JSON
    protoc --encode=kairos.v1.ScoreRequest -I proto -I /usr/include $(find proto -name '*.proto') \
        >"$DATA/moment.pb" <<'TXT'
request_id: "bench"
brand_id: "crumbco"
now { seconds: 1773172920 }
event {
  id: "ev-bench"
  kind: EVENT_KIND_TRENDING_TOPIC
  text: "The lights just went out at the stadium in the middle of the final and everyone is sitting in the dark waiting, somebody grab the milk and cookies while we wait for power to come back, this is the best ad break ever"
  hashtags: "#DunkInTheDark"
  hashtags: "#GameDay"
  sample_posts: "you can still dunk in the dark, classic"
  occurred_at { seconds: 1773172800 }
  audience_time_zone: "America/New_York"
  velocity { mentions_per_minute: 900 history_per_minute: 100 history_per_minute: 400 }
}
TXT
    python3 -c 'import struct, sys
b = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(b"\0" + struct.pack(">I", len(b)) + b)' "$DATA/moment.pb" "$DATA/moment.bin"
    rps() {
        h2load -c 1 -m 64 -t 1 -D 5 --warm-up-time 1 -H 'content-type: application/grpc' \
            -H 'te: trailers' -d "$DATA/$2" "http://$ADDR/$1" 2>&1 \
            | sed -n 's/.*finished in [0-9.]*s, \([0-9.]*\) req\/s.*/\1/p'
    }
    runs=()
    for _ in 1 2 3; do
        runs+=("$(rps grpc.health.v1.Health/Check health.bin)")
        runs+=("$(rps kairos.v1.ScoringService/Score moment.bin)")
    done
    python3 -c 'import statistics, sys
v = list(map(float, sys.argv[1:])); h = statistics.median(v[0::2]); s = statistics.median(v[1::2])
print(f"health {h:.0f} req/s, Score {s:.0f} req/s, ratio {s / h:.2f} (runs: {v})")' "${runs[@]}"
    # What each call costs the server, read from its CPU time in /proc
    # (noise from other load shows up less here than in req/s).
    echo "-- server CPU per call, --event-cache-mb 0, 200,000 calls each"
    for target in grpc.health.v1.Health/Check:health.bin kairos.v1.ScoringService/Score:moment.bin; do
        path=${target%%:*}; body=${target##*:}
        before=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
        h2load -c 1 -m 64 -n 200000 -H 'content-type: application/grpc' -H 'te: trailers' \
            -d "$DATA/$body" "http://$ADDR/$path" >/dev/null
        after=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
        awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v p="$path" \
            'BEGIN { printf "%s: %.2f us\n", p, t / hz * 1e6 / 200000 }'
    done
else
    echo "== h2load not installed (apt-get install nghttp2-client); skipped"
fi
kill $SERVER; wait $SERVER 2>/dev/null || true

echo "== memory: $MEMORY_BRANDS profiles stored, 10,000 compiled and cached"
rm -rf "$DATA"/kairos.db*
start_server
"$BIN" bench --server "http://$ADDR" --setup --brands "$MEMORY_BRANDS" --rpc health --seconds 1 >/dev/null
rss() { awk '/VmRSS/ {print $2 " kB"}' /proc/$SERVER/status; }
echo "rss after storing: $(rss)"
python3 - "$DATA/rank.json" <<'PY'
import json, sys
ids = [f"brand-{i:06d}" for i in range(10000)]
ev = {"id": "m", "kind": "EVENT_KIND_TRENDING_TOPIC", "text": "game day snacks", "occurred_at": "2026-02-03T20:00:00Z"}
json.dump({"event": ev, "brand_ids": ids, "k": 10, "now": "2026-02-03T20:05:00Z"}, open(sys.argv[1], "w"))
PY
grpcurl -plaintext -max-msg-sz 67108864 -d @ "$ADDR" kairos.v1.ScoringService/RankBrands < "$DATA/rank.json" >/dev/null
echo "rss with 10,000 compiled profiles cached: $(rss)"
du -sh "$DATA" | awk '{print "store on disk: " $1}'
kill $SERVER; wait $SERVER 2>/dev/null || true

echo "== candidate index: the same $MEMORY_BRANDS profiles, indexed from the store at start"
start_server
for _ in $(seq 300); do grep -q "candidate index ready" "$DATA/server.log" && break; sleep 0.2; done
grep "candidate index ready" "$DATA/server.log" | sed 's/.*INFO kairos::app: //'
echo "rss with the index built (nothing cached): $(rss)"
kill $SERVER; wait $SERVER 2>/dev/null || true

echo "== COMPACT against FULL (1,000 brands; ScoreBatch 10 events x 100 brands)"
rm -rf "$DATA"/kairos.db*
start_server
"$BIN" bench --server "http://$ADDR" --setup --brands "$BRANDS" --rpc health --seconds 1 >/dev/null
for view in "" --compact; do
    for rpc in batch stream; do
        echo "-- $rpc ${view:-(full)}"
        "$BIN" bench --server "http://$ADDR" --brands "$BRANDS" --rpc "$rpc" $view \
            --concurrency 64 --connections 1 --seconds "$SECONDS_PER_RPC" | tail -1
    done
done
kill $SERVER; wait $SERVER 2>/dev/null || true

echo "== RankBrands against stored brands (1,000 / 10,000 / 50,000), answer bytes per pair"
rm -rf "$DATA"/kairos.db*
start_server
python3 scripts/bench-scale.py "$ADDR"
kill $SERVER; wait $SERVER 2>/dev/null || true

# STORE_PROFILES=1000000 also times the migration of a schema-1 store of
# that many 20-theme profiles and compares its size with its bodies' (about
# 5 GB of disk and two minutes at a million).
if [ "${STORE_PROFILES:-0}" -gt 0 ]; then
    echo "== storage: a schema-1 store of $STORE_PROFILES profiles, migrated at start"
    rm -rf "$DATA"/kairos.db*
    python3 scripts/make-v1-store.py "$DATA" "$STORE_PROFILES"
    du -sb "$DATA" | awk '{print "schema 1 on disk: " $1 " bytes"}'
    "$BIN" serve --listen "$ADDR" --data-dir "$DATA" 2>"$DATA/server.log" &
    SERVER=$!
    for _ in $(seq 1200); do grep -q "kairos listening" "$DATA/server.log" && break; sleep 0.5; done
    grep "store migrated" "$DATA/server.log" | sed 's/.*INFO kairos::store::sqlite: //'
    kill $SERVER; wait $SERVER 2>/dev/null || true
    du -sb "$DATA" | awk '{print "schema 2 on disk: " $1 " bytes"}'
    python3 -c "import sqlite3,sys; n,s=sqlite3.connect(sys.argv[1]).execute('select count(*), sum(length(body)) from brand_profiles').fetchone(); print(f'{n} profiles, {s} bytes of bodies ({s/n:.0f} a profile)')" "$DATA/kairos.db"
fi

# Instructions per analysis of the new-event benchmark's moment, repeatable
# whatever the load (benches/analyse_calls.rs).
if command -v valgrind >/dev/null; then
    echo "== analyse: instructions per call (callgrind, 200 calls)"
    cargo bench --bench analyse_calls --no-run 2>/dev/null
    CALLS=$(ls -t target/release/deps/analyse_calls-* | grep -v '\.d$' | head -1)
    valgrind --tool=callgrind --callgrind-out-file="$DATA/callgrind.out" \
        --toggle-collect='analyse_calls::run_many' "$CALLS" 200 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p' \
        | awk '{printf "%d instructions per analyse\n", $1 / 200}'
else
    echo "== valgrind not installed; analyse instruction count skipped"
fi
