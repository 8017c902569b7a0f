#!/usr/bin/env bash
# The reconciling-read figure of DESIGN §12: Target::ReadSnapshot (bench/reconcile_read,
# the real CurlHttpClient + ScimTarget + TargetReader) reading USERS users and NGROUPS
# groups with their members from the SCIM test server, against a plain paged read of
# the same server by curl (one curl process, one keep-alive connection, the same
# pages, bodies thrown away) in the same run. Target: scimsync within 1.5x of curl.
# Each read runs ROUNDS times, alternating; the best of each is compared.
# Usage: bench/reconcile_read_bench.sh [USERS] [NGROUPS]   (defaults 100000 1000)
# Environment: BUILD (build dir, default build), PAGE_SIZE (100), ROUNDS (2),
#   MODE ("inline" members, or "members_per_group").
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
USERS=${1:-100000}
NGROUPS=${2:-1000}
PAGE_SIZE=${PAGE_SIZE:-100}
ROUNDS=${ROUNDS:-2}
MODE=${MODE:-inline}
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

node tests/scim_server/server.js --port 0 --token benchtoken >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 1 100); do
  if grep -q '^listening ' "$WORK/server.out" 2>/dev/null; then break; fi
  sleep 0.1
done
PORT=$(awk '/^listening /{print $2; exit}' "$WORK/server.out")
[ -n "$PORT" ] || { echo "SCIM test server did not start" >&2; cat "$WORK/server.err" >&2; exit 1; }
ADMIN="http://127.0.0.1:$PORT/admin"
BASE="http://127.0.0.1:$PORT/scim/v2"

echo "== seeding $USERS users and $NGROUPS groups (each user in one group)"
# Users in chunks of 10,000 (one /admin/seed each), shaped like the users a sync creates;
# then the groups, members given by externalId.
node - "$ADMIN" "$USERS" "$NGROUPS" <<'JS'
const [admin, nUsers, nGroups] = [process.argv[2], +process.argv[3], +process.argv[4]];
async function seed(body) {
  const r = await fetch(`${admin}/seed`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`seed: HTTP ${r.status} ${await r.text()}`);
}
(async () => {
  for (let from = 0; from < nUsers; from += 10000) {
    const users = [];
    for (let i = from; i < Math.min(nUsers, from + 10000); i++) {
      users.push({ userName: `user${i}@example.com`, externalId: `K${i}`,
        name: { givenName: `Given${i}`, familyName: `Family${i}` }, displayName: `Given${i} Family${i}`,
        emails: [{ value: `user${i}@example.com`, type: 'work', primary: true }], title: 'Engineer',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: `Dept ${i % 50}` } });
    }
    await seed({ users });
  }
  const groups = [];
  for (let g = 0; g < nGroups; g++) {
    const members = [];
    for (let i = g; i < nUsers; i += nGroups) members.push(`K${i}`);
    groups.push({ displayName: `Group ${g}`, externalId: `G${g}`, members });
  }
  for (let from = 0; from < groups.length; from += 100) await seed({ users: [], groups: groups.slice(from, from + 100) });
})().catch((e) => { console.error(e.message); process.exit(1); });
JS

now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }
min() { if [ -z "$1" ]; then echo "$2"; else calc "($2 < $1) ? $2 : $1"; fi; }
total_of() {  # $1: Users or Groups
  curl -sf -H "Authorization: Bearer benchtoken" "$BASE/$1?startIndex=1&count=1" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).totalResults))'
}
NU=$(total_of Users)
NG=$(total_of Groups)

# The plain paged read: every page of /Users and /Groups (members inline, or the list
# without members plus one GET per group), one curl process, one connection.
{
  echo 'header = "Authorization: Bearer benchtoken"'
  echo 'header = "Accept: application/scim+json"'
  for ((s = 1; s <= NU; s += PAGE_SIZE)); do
    printf 'url = "%s/Users?startIndex=%d&count=%d"\noutput = "/dev/null"\n' "$BASE" "$s" "$PAGE_SIZE"
  done
  GROUPS_PATH="Groups?"
  [ "$MODE" = members_per_group ] && GROUPS_PATH="Groups?excludedAttributes=members&"
  for ((s = 1; s <= NG; s += PAGE_SIZE)); do
    printf 'url = "%s/%sstartIndex=%d&count=%d"\noutput = "/dev/null"\n' "$BASE" "$GROUPS_PATH" "$s" "$PAGE_SIZE"
  done
} > "$WORK/curl.cfg"
if [ "$MODE" = members_per_group ]; then
  curl -sf -H "Authorization: Bearer benchtoken" "$ADMIN/groups" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const g of JSON.parse(s))console.log(g.id)})' |
    while read -r id; do printf 'url = "%s/Groups/%s"\noutput = "/dev/null"\n' "$BASE" "$id"; done >> "$WORK/curl.cfg"
fi
CURL_REQ=$(grep -c '^url' "$WORK/curl.cfg")

ARGS=("$BASE" benchtoken "$PAGE_SIZE")
[ "$MODE" = members_per_group ] && ARGS+=(members_per_group)
best_curl=""; best_ours=""; line=""
for ((r = 1; r <= ROUNDS; r++)); do
  t0=$(now); curl -sf --config "$WORK/curl.cfg"; t1=$(now)
  c=$(calc "$t1 - $t0")
  line=$("$BUILD/bench/reconcile_read" "${ARGS[@]}")
  o=$(echo "$line" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')
  printf 'round %d: curl %.2f s, ReadSnapshot %.2f s\n' "$r" "$c" "$o"
  best_curl=$(min "$best_curl" "$c")
  best_ours=$(min "$best_ours" "$o")
done

echo "== reconciling read: $NU users, $NG groups, page size $PAGE_SIZE, members $MODE"
printf 'curl           requests=%d seconds=%.2f\n' "$CURL_REQ" "$best_curl"
printf 'ReadSnapshot   %s\n' "$line"
printf 'ratio ReadSnapshot/curl = %.2f (target <= 1.50)\n' "$(calc "$best_ours / $best_curl")"
