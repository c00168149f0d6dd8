#!/usr/bin/env bash
# Reproduces the server-level figures of BENCHMARKS.md on this machine:
# a release server on loopback, synthetic brands, `kairos bench` (Score,
# ScoreBatch, ScoreStream and the health-check baseline in one run), h2load
# for the same unary calls, and resident memory with many profiles.
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
    echo "-- kairos.v1.ScoringService/Score, server with --event-cache-mb 0"
    h2load -c 1 -m 64 -D "$SECONDS_PER_RPC" -H 'content-type: application/grpc' -H 'te: trailers' \
        -d "$DATA/score.bin" "http://$ADDR/kairos.v1.ScoringService/Score" \
        | grep -E "^(finished in|requests:|status codes:|traffic:|time for request:)"
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
