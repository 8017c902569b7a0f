#!/usr/bin/env bash
# Benchmarks of DESIGN §12, each printed as a figure and a ratio:
#   1. first sync of USERS users and NGROUPS groups into the local SCIM test server,
#      against bench/http_load (a plain libcurl load generator) sending the same request
#      mix over the same number of connections to a fresh server;
#   2. the same first sync with LATENCY ms added per request, against the ideal
#      connections / latency, once per count in LATENCY_CONNECTIONS;
#   3. a no-change cycle over NOCHANGE CSV users (time and peak memory);
#   4. bench/client_bound.sh: a first sync of 20,000 users into a trivial responder
#      against wrk on the same responder (skipped without wrk).
# bench/README.md lists every figure, what it compares and its target.
# Usage: bench/sync_bench.sh [USERS] [NGROUPS]   (defaults 100000 1000)
# Environment: BUILD (build dir, default build), CONNECTIONS (4), LATENCY (50),
#   LATENCY_USERS (2000), LATENCY_CONNECTIONS ("4 32"), NOCHANGE (1000000).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
USERS=${1:-100000}
NGROUPS=${2:-1000}
CONNECTIONS=${CONNECTIONS:-4}
LATENCY=${LATENCY:-50}
LATENCY_USERS=${LATENCY_USERS:-2000}
LATENCY_CONNECTIONS=${LATENCY_CONNECTIONS:-4 32}
NOCHANGE=${NOCHANGE:-1000000}
BIN="$BUILD/scimsync"
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

start_server() {  # $1: JSON switches
  local fifo="$WORK/server.out"
  rm -f "$fifo"
  node tests/scim_server/server.js --port 0 --token benchtoken --config "$1" >"$fifo" 2>"$WORK/server.err" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    if grep -q '^listening ' "$fifo" 2>/dev/null; then
      PORT=$(awk '/^listening /{print $2; exit}' "$fifo")
      return
    fi
    sleep 0.1
  done
  echo "SCIM test server did not start" >&2
  cat "$WORK/server.err" >&2
  exit 1
}
stop_server() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }

write_csv() {  # $1 path, $2 users, $3 groups
  awk -v n="$2" -v g="$3" 'BEGIN {
    print "externalId,userName,givenName,familyName,email,department,title,active,groups";
    for (i = 0; i < n; i++)
      printf "K%d,user%d@example.com,Given%d,Family%d,user%d@example.com,Dept %d,Engineer,true,Group %d\n",
             i, i, i, i, i, i % 50, (g > 0 ? i % g : 0);
  }' > "$1"
}

write_config() {  # $1 dir, $2 csv
  printf 'benchtoken\n' > "$1/token"; chmod 600 "$1/token"
  cat > "$1/scimsync.toml" <<TOML
state = "$1/state.db"
[source]
type = "csv"
users = "$2"
[target]
url = "http://127.0.0.1:$PORT/scim/v2"
token_file = "$1/token"
max_connections = $CONNECTIONS
[log]
level = "warn"
TOML
}

now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }

echo "== 1. first sync: $USERS users, $NGROUPS groups, $CONNECTIONS connections"
write_csv "$WORK/people.csv" "$USERS" "$NGROUPS"
start_server '{}'
mkdir -p "$WORK/s1"; write_config "$WORK/s1" "$WORK/people.csv"
t0=$(now); "$BIN" --config "$WORK/s1/scimsync.toml" sync; t1=$(now)
REQ=$(curl -s "http://127.0.0.1:$PORT/admin/stats" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).requests))')
SYNC_S=$(calc "$t1 - $t0")
SYNC_RPS=$(calc "$REQ / $SYNC_S")
stop_server
start_server '{}'
LOAD=$("$BUILD/bench/http_load" "http://127.0.0.1:$PORT/scim/v2" benchtoken "$USERS" "$NGROUPS" "$CONNECTIONS")
stop_server
LOAD_RPS=$(echo "$LOAD" | sed -n 's/.*rps=\([0-9.]*\).*/\1/p')
printf 'scimsync  requests=%d seconds=%.2f rps=%.0f\n' "$REQ" "$SYNC_S" "$SYNC_RPS"
printf 'http_load %s\n' "$LOAD"
printf 'ratio scimsync/http_load = %.2f (target >= 0.80)\n' "$(calc "$SYNC_RPS / $LOAD_RPS")"

write_csv "$WORK/lat.csv" "$LATENCY_USERS" 0
SYNC_CONNECTIONS=$CONNECTIONS
for CONNECTIONS in $LATENCY_CONNECTIONS; do
  echo "== 2. first sync with ${LATENCY} ms latency: $LATENCY_USERS users, $CONNECTIONS connections"
  start_server "{\"latencyMs\": $LATENCY}"
  rm -rf "$WORK/s2"; mkdir -p "$WORK/s2"; write_config "$WORK/s2" "$WORK/lat.csv"
  t0=$(now); "$BIN" --config "$WORK/s2/scimsync.toml" sync; t1=$(now)
  REQ=$(curl -s "http://127.0.0.1:$PORT/admin/stats" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).requests))')
  stop_server
  LAT_S=$(calc "$t1 - $t0")
  IDEAL=$(calc "$CONNECTIONS * 1000 / $LATENCY")
  printf 'scimsync  requests=%d seconds=%.2f rps=%.1f ideal=%.1f ratio=%.2f (target >= 0.90)\n' \
    "$REQ" "$LAT_S" "$(calc "$REQ / $LAT_S")" "$IDEAL" "$(calc "$REQ / $LAT_S / $IDEAL")"
done
CONNECTIONS=$SYNC_CONNECTIONS

echo "== 3. no-change cycle over $NOCHANGE CSV users"
"$BUILD/bench/nochange_bench" prepare "$WORK/nc" "$NOCHANGE" >/dev/null
"$BUILD/bench/nochange_bench" run "$WORK/nc"
echo "(targets: under 5 s and 512 MiB peak)"

echo "== 4. client-bound"
if command -v wrk >/dev/null; then
  BUILD="$BUILD" CONNECTIONS="$CONNECTIONS" bench/client_bound.sh
else
  echo "skipped: needs wrk (apt-get install wrk)"
fi
