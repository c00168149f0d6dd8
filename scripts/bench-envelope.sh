#!/usr/bin/env bash
# The cost of the production envelope on Score throughput, as ratios from
# one run (BENCHMARKS.md, "Production envelope"): the same release server
# and the same h2load load (one connection, 64 streams, Score reusing one
# event's analysis) without keys, with an API key, and with an API key over
# TLS; the three alternate ROUNDS times so drift on this noisy machine hits
# all three alike. Loopback only; every load is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN="${SECONDS_PER_RUN:-10}"
ROUNDS="${ROUNDS:-2}"
BRANDS="${BRANDS:-1000}"
PORT="${PORT:-50072}"
ADDR="127.0.0.1:$PORT"
command -v h2load >/dev/null || { echo "h2load missing: apt-get install nghttp2-client" >&2; exit 1; }
command -v openssl >/dev/null || { echo "openssl missing" >&2; exit 1; }

cargo build --release --locked --quiet --features loadgen
BIN=${CARGO_TARGET_DIR:-target}/release/kairos
DATA=$(mktemp -d)
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT

ADMIN_KEY=bench-admin-key; SCORE_KEY=bench-score-key
h() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
cat >"$DATA/keys.yaml" <<YAML
keys:
  - name: bench-admin
    sha256: $(h $ADMIN_KEY)
    scopes: [admin]
  - name: bench-score
    sha256: $(h $SCORE_KEY)
    scopes: [score]
YAML
(
    cd "$DATA"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj /CN=bench-ca -keyout ca.key -out ca.pem 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
        -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > san.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile san.ext -out server.pem 2>/dev/null
)

start_server() {
    "$BIN" serve --listen "$ADDR" --data-dir "$DATA/store" "$@" 2>"$DATA/server.log" &
    SERVER=$!
    for _ in $(seq 100); do
        grep -q "kairos listening" "$DATA/server.log" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "server did not start" >&2; cat "$DATA/server.log" >&2; exit 1
}
stop_server() { kill $SERVER; wait $SERVER 2>/dev/null || true; }

start_server
"$BIN" bench --server "http://$ADDR" --setup --brands "$BRANDS" --rpc health --seconds 1 >/dev/null
stop_server
"$BIN" bench --write-score-body "$DATA/score.bin" >/dev/null

run() { # NAME URL [h2load args...]
    local name=$1 url=$2; shift 2
    local rps
    rps=$(h2load -c 1 -m 64 -D "$SECONDS_PER_RUN" -H 'content-type: application/grpc' -H 'te: trailers' \
        "$@" -d "$DATA/score.bin" "$url/kairos.v1.ScoringService/Score" \
        | awk '/^finished in/ {print $4}')
    echo "$name $rps"
}
for round in $(seq "$ROUNDS"); do
    echo "== round $round (Score req/s, h2load -c 1 -m 64 -D $SECONDS_PER_RUN)"
    start_server
    run open "http://$ADDR"
    stop_server
    start_server --api-keys "$DATA/keys.yaml"
    run api-key "http://$ADDR" -H "authorization: Bearer $SCORE_KEY"
    stop_server
    start_server --api-keys "$DATA/keys.yaml" --tls-cert "$DATA/server.pem" --tls-key "$DATA/server.key"
    run api-key+tls "https://localhost:$PORT" -H "authorization: Bearer $SCORE_KEY"
    stop_server
done
