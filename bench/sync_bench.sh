#!/usr/bin/env bash
# Benchmarks of DESIGN §12, each printed as a figure and a ratio:
#   1. first sync of USERS users and NGROUPS groups into the local SCIM test server,
#      against bench/http_load (a plain libcurl load generator) sending the same request
#      mix over the same number of connections to a fresh server;
#   2. latency-bound: once per count N in LATENCY_CONNECTIONS, a first sync of
#      N * LATENCY_USERS_PER_CONNECTION CSV users (no groups) into bench/fast_responder.js
#      answering each request LATENCY ms late, against wrk (1 thread, N connections,
#      the same POST body) on the same responder, run before and after the sync;
#      also prints the ideal N / latency (skipped without wrk);
#   3. a no-change cycle over NOCHANGE CSV users (time and peak memory);
#   4. bench/client_bound.sh: a first sync of 20,000 users into a trivial responder
#      against wrk on the same responder (skipped without wrk).
# bench/README.md lists every figure, what it compares and its target.
# Usage: bench/sync_bench.sh [USERS] [NGROUPS]   (defaults 100000 1000)
# Environment: BUILD (build dir, default build), CONNECTIONS (4), LATENCY (50),
#   LATENCY_CONNECTIONS ("4 32"), LATENCY_USERS_PER_CONNECTION (150: about 7.5 s of
#   requests at 50 ms, so start-up is a small share), LATENCY_WRK_SECONDS (5),
#   NOCHANGE (1000000), SECTIONS (the sections to run, default "1 2 3 4").
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
USERS=${1:-100000}
NGROUPS=${2:-1000}
CONNECTIONS=${CONNECTIONS:-4}
LATENCY=${LATENCY:-50}
LATENCY_CONNECTIONS=${LATENCY_CONNECTIONS:-4 32}
LATENCY_USERS_PER_CONNECTION=${LATENCY_USERS_PER_CONNECTION:-150}
LATENCY_WRK_SECONDS=${LATENCY_WRK_SECONDS:-5}
NOCHANGE=${NOCHANGE:-1000000}
SECTIONS=${SECTIONS:-1 2 3 4}
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
. bench/responder.sh
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

section() { [[ " $SECTIONS " == *" $1 "* ]]; }
now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }

if section 1; then
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
fi

# One wrk run against a fresh responder answering $LATENCY ms late: its requests/s.
run_latency_wrk() {
  start_responder "$LATENCY"
  wrk -t1 -c"$CONNECTIONS" -d"${LATENCY_WRK_SECONDS}s" -s bench/wrk_post_user.lua \
    "http://127.0.0.1:$PORT/scim/v2/Users" >"$WORK/wrk.out"
  stop_server
  awk '$1 == "Requests/sec:" { print $2 }' "$WORK/wrk.out"
}

if section 2; then
  SYNC_CONNECTIONS=$CONNECTIONS
  for CONNECTIONS in $LATENCY_CONNECTIONS; do
    LAT_USERS=$((CONNECTIONS * LATENCY_USERS_PER_CONNECTION))
    echo "== 2. latency-bound, ${LATENCY} ms per request: $LAT_USERS users, $CONNECTIONS connections"
    if ! command -v wrk >/dev/null; then
      echo "skipped: needs wrk (apt-get install wrk)"
      continue
    fi
    # Users only: wrk sends creates, and one group's member PATCHes go one after the
    # other, which no connection count speeds up.
    awk -v n="$LAT_USERS" 'BEGIN {
      print "externalId,userName,givenName,familyName,email,title,active";
      for (i = 0; i < n; i++)
        printf "K%d,user%d@example.com,Given%d,Family%d,user%d@example.com,Engineer,true\n", i, i, i, i, i;
    }' > "$WORK/lat.csv"
    WRK1=$(run_latency_wrk)
    start_responder "$LATENCY"
    rm -rf "$WORK/s2"; mkdir -p "$WORK/s2"; write_config "$WORK/s2" "$WORK/lat.csv"
    t0=$(now); "$BIN" --config "$WORK/s2/scimsync.toml" sync --progress=never; t1=$(now)
    REQ=$(curl -s "http://127.0.0.1:$PORT/stats" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p')
    stop_server
    WRK2=$(run_latency_wrk)
    LAT_S=$(calc "$t1 - $t0")
    LAT_RPS=$(calc "$REQ / $LAT_S")
    WRK_RPS=$(calc "($WRK1 + $WRK2) / 2")
    IDEAL=$(calc "$CONNECTIONS * 1000 / $LATENCY")
    printf 'wrk       rps=%.1f (runs %.1f, %.1f; POST /Users, 1 thread, %d connections, %d s)\n' \
      "$WRK_RPS" "$WRK1" "$WRK2" "$CONNECTIONS" "$LATENCY_WRK_SECONDS"
    printf 'scimsync  requests=%d seconds=%.2f rps=%.1f (whole run: start, CSV read, reconciling read, creates)\n' \
      "$REQ" "$LAT_S" "$LAT_RPS"
    printf 'ideal     rps=%.1f (connections / latency); scimsync/ideal = %.2f, wrk/ideal = %.2f\n' \
      "$IDEAL" "$(calc "$LAT_RPS / $IDEAL")" "$(calc "$WRK_RPS / $IDEAL")"
    printf 'ratio scimsync/wrk = %.2f (target >= 0.90)\n' "$(calc "$LAT_RPS / $WRK_RPS")"
  done
  CONNECTIONS=$SYNC_CONNECTIONS
fi

if section 3; then
  echo "== 3. no-change cycle over $NOCHANGE CSV users"
  "$BUILD/bench/nochange_bench" prepare "$WORK/nc" "$NOCHANGE" >/dev/null
  "$BUILD/bench/nochange_bench" run "$WORK/nc"
  echo "(targets: under 5 s and 512 MiB peak)"
fi

if section 4; then
  echo "== 4. client-bound"
  if command -v wrk >/dev/null; then
    BUILD="$BUILD" CONNECTIONS="$CONNECTIONS" bench/client_bound.sh
  else
    echo "skipped: needs wrk (apt-get install wrk)"
  fi
fi
