#!/usr/bin/env bash
# Demo: installs what is missing, builds, starts the bundled SCIM server on loopback,
# syncs examples/demo (40 people, 10 groups) into it, shows what the server holds,
# then syncs again to show that an unchanged directory sends nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

DEMO=build/demo
rm -rf "$DEMO"
mkdir -p "$DEMO"
cp examples/demo/* "$DEMO/"

OUT="$DEMO/server.out"
node tests/scim_server/server.js --port 0 --token demo-token >"$OUT" 2>"$DEMO/server.err" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q '^listening ' "$OUT" 2>/dev/null && break; sleep 0.1; done
PORT=$(awk '/^listening /{print $2; exit}' "$OUT")
[ -n "$PORT" ] || { echo "the SCIM test server did not start:"; cat "$DEMO/server.err"; exit 1; }
# Point the copied config at this server (whatever port examples/demo names).
sed -i -E "s|^url *= *\"http://127\.0\.0\.1:[0-9]+/scim/v2\"|url = \"http://127.0.0.1:$PORT/scim/v2\"|" "$DEMO/scimsync.toml"
grep -q "127.0.0.1:$PORT/" "$DEMO/scimsync.toml" || { echo "could not set the target url in $DEMO/scimsync.toml"; exit 1; }
export SCIMSYNC_TOKEN=demo-token
SCIMSYNC="build/scimsync --config $DEMO/scimsync.toml"

echo; echo "== scimsync plan (what a sync would do)"
$SCIMSYNC plan 2>/dev/null
echo; echo "== scimsync sync"
$SCIMSYNC sync 2>&1 | grep -E 'event=(cycle_start|source_read|cycle_end)'
echo; echo "== what the SCIM server holds now"
node -e '
const http = require("http");
const get = (p) => new Promise((ok) => http.get({host: "127.0.0.1", port: process.argv[1], path: p},
  (r) => { let s = ""; r.on("data", (d) => s += d); r.on("end", () => ok(JSON.parse(s))); }));
(async () => {
  const users = await get("/admin/users"), groups = await get("/admin/groups");
  const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
  console.log(`${users.length} users:`);
  for (const u of users.sort((a, b) => a.userName.localeCompare(b.userName)))
    console.log(`  ${u.userName.padEnd(36)} ${(u[ent]?.department ?? "").padEnd(14)} ${u.active === false ? "inactive" : "active"}`);
  console.log(`${groups.length} groups:`);
  for (const g of groups.sort((a, b) => a.displayName.localeCompare(b.displayName)))
    console.log(`  ${g.displayName.padEnd(24)} ${g.members.length} members`);
})();' "$PORT"
echo; echo "== scimsync sync again (nothing changed: no write request)"
$SCIMSYNC sync 2>&1 | grep -E 'event=cycle_end'
echo; echo "== scimsync status"
$SCIMSYNC status
