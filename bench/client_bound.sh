#!/usr/bin/env bash
# Client-bound figure of issue 13: how close scimsync's first sync comes to a plain
# load generator when the target costs (almost) nothing.
#   1. wrk (4.x, Debian package `wrk`), one thread, CONNECTIONS connections, POST /Users
#      against bench/fast_responder.js for WRK_SECONDS (before and after the sync);
#   2. scimsync's first sync of USERS CSV users (no groups) into a responder
#      with max_connections = CONNECTIONS, SYNC_RUNS times (the median counts);
# and prints both request rates and the ratio scimsync / wrk (target >= 0.6).
# Usage: bench/client_bound.sh [USERS]   (default 20000)
# Environment: BUILD (build dir, default build), CONNECTIONS (4), WRK_SECONDS (5),
# WARM_SECONDS (2: wrk traffic that, with a first sync, warms each responder first;
# not counted), SYNC_RUNS (5: measured syncs, the median is the figure).
# Needs: node, wrk (`apt-get install wrk`).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
USERS=${1:-20000}
CONNECTIONS=${CONNECTIONS:-4}
WRK_SECONDS=${WRK_SECONDS:-5}
WARM_SECONDS=${WARM_SECONDS:-2}
SYNC_RUNS=${SYNC_RUNS:-5}
BIN="$BUILD/scimsync"
command -v wrk >/dev/null || { echo "client_bound.sh needs wrk (apt-get install wrk)" >&2; exit 2; }
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

. bench/responder.sh
requests() { curl -s "http://127.0.0.1:$PORT/stats" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p'; }
now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }

# node compiles its hot paths while it serves, and compiles them again when the
# traffic changes shape (other headers, other bodies): a fresh responder answers
# wrk's first second about a quarter slower than its next five, and a sync into a
# responder warmed by wrk alone runs about a sixth slower than a second sync into
# it. A 20,000-user sync lasts about a second and wrk five, so on fresh responders
# the sync would pay most of the warm-up and wrk little of it. So every responder
# measured (wrk's two and the sync's) is first warmed the same way, not counted:
# WARM_SECONDS of wrk, then a first sync of the same users into a state file of its own.
start_warm_responder() {
  start_responder
  wrk -t1 -c"$CONNECTIONS" -d"${WARM_SECONDS}s" -s bench/wrk_post_user.lua \
    "http://127.0.0.1:$PORT/scim/v2/Users" >/dev/null
  rm -f "$WORK"/warm.db*
  write_config "$WORK/warm.db"
  "$BIN" --config "$WORK/scimsync.toml" sync --progress=never
  WARM_REQUESTS=$(requests)
}

# $WORK/scimsync.toml: the USERS CSV users into the responder on $PORT, state file $1.
write_config() {
  cat > "$WORK/scimsync.toml" <<TOML
state = "$1"
[source]
type = "csv"
users = "$WORK/people.csv"
[target]
url = "http://127.0.0.1:$PORT/scim/v2"
token_file = "$WORK/token"
max_connections = $CONNECTIONS
[log]
level = "warn"
TOML
}

# One wrk run: "rps cpu_us_per_request" on stdout. bench/wrk_post_user.lua sends the
# same body as a create of one CSV user, so both sides parse alike.
run_wrk() {
  start_warm_responder
  /usr/bin/time -f '%U %S' -o "$WORK/wrk.time" \
    wrk -t1 -c"$CONNECTIONS" -d"${WRK_SECONDS}s" -s bench/wrk_post_user.lua \
    "http://127.0.0.1:$PORT/scim/v2/Users" >"$WORK/wrk.out"
  local req; req=$(( $(requests) - WARM_REQUESTS ))
  stop_responder
  awk -v req="$req" 'NR == FNR { if ($1 == "Requests/sec:") rps = $2; next }
                     { printf "%s %.1f\n", rps, ($1 + $2) * 1e6 / req }' "$WORK/wrk.out" "$WORK/wrk.time"
}

echo "== client-bound: wrk vs first sync of $USERS users, $CONNECTIONS connections"
# wrk runs before and after the sync, and the two are averaged: on a shared machine
# the load of other processes moves every figure; CPU per request moves less.
awk -v n="$USERS" 'BEGIN {
  print "externalId,userName,givenName,familyName,email,title,active";
  for (i = 0; i < n; i++)
    printf "K%d,user%d@example.com,Given%d,Family%d,user%d@example.com,Engineer,true\n", i, i, i, i, i;
}' > "$WORK/people.csv"
printf 'benchtoken\n' > "$WORK/token"; chmod 600 "$WORK/token"
read -r WRK1_RPS WRK1_CPU < <(run_wrk)

# SYNC_RUNS first syncs (each into a state file of its own) into one warmed responder;
# the median run is the figure. A sync lasts about a second, so a burst of other work
# on a shared machine can halve one run: the median of five is not moved by two.
start_warm_responder
: > "$WORK/syncs"
for run in $(seq 1 "$SYNC_RUNS"); do
  write_config "$WORK/state$run.db"
  before=$(requests)
  t0=$(now)
  /usr/bin/time -f '%U %S %M' -o "$WORK/sync.time" "$BIN" --config "$WORK/scimsync.toml" sync --progress=never
  t1=$(now)
  req=$(( $(requests) - before ))
  read -r su ss srss < "$WORK/sync.time"
  # rps seconds requests cpu_us_per_request peak_rss_mib
  awk -v req="$req" -v s="$(calc "$t1 - $t0")" -v cpu="$(calc "$su + $ss")" -v rss="$srss" \
    'BEGIN { printf "%.0f %.2f %d %.1f %.0f\n", req / s, s, req, cpu * 1e6 / req, rss / 1024 }' >> "$WORK/syncs"
done
stop_responder
read -r WRK2_RPS WRK2_CPU < <(run_wrk)
read -r SYNC_RPS SYNC_S REQ SYNC_CPU SYNC_RSS < <(sort -n "$WORK/syncs" | sed -n "$(( (SYNC_RUNS + 1) / 2 ))p")
WRK_RPS=$(calc "($WRK1_RPS + $WRK2_RPS) / 2")
printf 'wrk       rps=%.0f (runs %.0f, %.0f) cpu_us_per_request=%s, %s (POST /Users, 1 thread, %d connections, %d s)\n' \
  "$WRK_RPS" "$WRK1_RPS" "$WRK2_RPS" "$WRK1_CPU" "$WRK2_CPU" "$CONNECTIONS" "$WRK_SECONDS"
printf 'scimsync  runs rps=%s\n' "$(cut -d' ' -f1 "$WORK/syncs" | paste -sd, -)"
printf 'scimsync  median run: requests=%d seconds=%.2f rps=%.0f cpu_us_per_request=%.1f peak_rss_mib=%.0f\n' \
  "$REQ" "$SYNC_S" "$SYNC_RPS" "$SYNC_CPU" "$SYNC_RSS"
printf 'ratio scimsync/wrk = %.2f (median of %d syncs; target >= 0.60)\n' "$(calc "$SYNC_RPS / $WRK_RPS")" "$SYNC_RUNS"
