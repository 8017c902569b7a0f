# Sourced by the bench scripts: start and stop bench/fast_responder.js.
# Needs WORK (a scratch directory). start_responder [LATENCY_MS] sets SERVER_PID and PORT.
# Each start reads its own output file: a subshell's start (wrk runs in $( )) must not
# leave a stopped responder's port behind for the next one.
start_responder() {
  local out
  out=$(mktemp "$WORK/responder.XXXXXX")
  node bench/fast_responder.js --port 0 --latency-ms "${1:-0}" >"$out" 2>"$WORK/responder.err" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    PORT=$(awk '/^listening /{print $2; exit}' "$out" 2>/dev/null || true)
    [ -n "$PORT" ] && return
    sleep 0.1
  done
  echo "fast responder did not start" >&2
  cat "$WORK/responder.err" >&2
  exit 1
}
stop_responder() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }
