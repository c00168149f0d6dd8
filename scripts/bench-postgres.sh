#!/usr/bin/env bash
# The PostgreSQL figures of BENCHMARKS.md: Score and ScoreBatch throughput on
# the embedded SQLite store and on PostgreSQL (same release server, same
# load), then the decision log's write rate on each: every assessment of a
# ScoreBatch load is logged (--log-all-decisions) into a queue big enough to
# hold them all, and the time the writer takes to drain it is measured.
# A private PostgreSQL cluster on a free loopback port, stopped at the end;
# every load loop is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RPC="${SECONDS_PER_RPC:-8}"
LOG_SECONDS="${LOG_SECONDS:-4}"
BRANDS="${BRANDS:-1000}"
PORT="${PORT:-50081}"
METRICS_PORT="${METRICS_PORT:-50082}"
ADDR="127.0.0.1:$PORT"

cargo build --release --locked --quiet --features loadgen
BIN=${CARGO_TARGET_DIR:-target}/release/kairos
WORK=$(mktemp -d)
chmod 755 "$WORK"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGDIR="$WORK/pg"
PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
SERVER=""
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
    [ -f "$PGDIR/data/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$PGDIR"
[ "$(id -u)" = 0 ] && chown postgres "$PGDIR"
as_pg "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U kairos --locale=C -E UTF8 >/dev/null
# Default durability settings: synchronous_commit on, fsync on.
as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1" \
    -l "$PGDIR/log" -w start >/dev/null
as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U kairos kairos
PG_URL="postgres://kairos@127.0.0.1:$PGPORT/kairos"
psql_q() { as_pg psql -h 127.0.0.1 -p "$PGPORT" -U kairos -d kairos -At -c "$1"; }

start_server() {
    rm -rf "$WORK/data"
    "$BIN" serve --listen "$ADDR" --data-dir "$WORK/data" --cache-capacity 10000 \
        --metrics-listen "127.0.0.1:$METRICS_PORT" "$@" 2>"$WORK/server.log" &
    SERVER=$!
    for _ in $(seq 100); do
        grep -q "kairos listening" "$WORK/server.log" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 1
}
stop_server() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""; }
metric() { curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | awk -v n="$1" '$1 == n {print $2}'; }

throughput() {
    local label=$1; shift
    echo "== $label: Score and ScoreBatch, 1 connection, 64 in flight"
    start_server "$@"
    "$BIN" bench --server "http://$ADDR" --setup --brands "$BRANDS" --rpc score \
        --concurrency 64 --connections 1 --seconds "$SECONDS_PER_RPC"
    "$BIN" bench --server "http://$ADDR" --brands "$BRANDS" --rpc batch \
        --concurrency 64 --connections 1 --seconds "$SECONDS_PER_RPC"
    stop_server
}

decision_log() {
    local label=$1; shift
    echo "== $label: decision-log writes (every ScoreBatch assessment logged)"
    start_server --log-all-decisions --decision-log-queue 5000000 "$@"
    "$BIN" bench --server "http://$ADDR" --setup --brands "$BRANDS" --rpc health --seconds 1 >/dev/null
    local t0; t0=$(date +%s.%N)
    "$BIN" bench --server "http://$ADDR" --brands "$BRANDS" --rpc batch \
        --concurrency 16 --connections 1 --seconds "$LOG_SECONDS" | grep -E "pairs|req/s" || true
    for _ in $(seq 600); do
        [ "$(metric kairos_decision_log_queue_depth)" = 0 ] && break
        sleep 0.1
    done
    local t1; t1=$(date +%s.%N)
    local accepted dropped failed
    accepted=$(metric kairos_decision_log_accepted_total)
    dropped=$(metric kairos_decision_log_dropped_total)
    failed=$(metric kairos_decision_log_write_failed_total)
    python3 -c "
a=int(float('$accepted')); t=$t1-$t0
print(f'logged {a} assessments (dropped $dropped, failed $failed) in {t:.2f} s from the start of the load to an empty queue: {a/t:,.0f} records/s')"
    stop_server
}

throughput "SQLite (embedded)"
throughput "PostgreSQL" --store "$PG_URL"
decision_log "SQLite (embedded)"
decision_log "PostgreSQL" --store "$PG_URL"
echo "decision rows in PostgreSQL: $(psql_q 'SELECT count(*) FROM decisions'), partitions: $(psql_q "SELECT count(*) FROM pg_inherits WHERE inhparent = 'decisions'::regclass")"
