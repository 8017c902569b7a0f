#!/usr/bin/env bash
# LDAP read benchmark (DESIGN §12: reading 100,000 entries within 1.5x the time of
# `ldapsearch` with paged results).
#
# Starts a throwaway slapd (tests/integration/lib/slapd.js) loaded with N generated
# people (default 100000) plus the fixture's groups, then times, on the same server,
# the same search base, filter and attributes, with page size 500:
#   1. ldapsearch -E pr=500/noprompt ... > /dev/null
#   2. bench/ldap_read (LdapSource: connect, bind, paged search, mapping to the model)
# Each is run RUNS times (default 3); the best run of each is reported, with the ratio.
# A final line times a full read (users and groups) through ldap_read for reference.
#
#   bench/ldap_bench.sh [users]        env: LDAP_READ (path of ldap_read), RUNS
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
users="${1:-100000}"
runs="${RUNS:-3}"
ldap_read="${LDAP_READ:-$repo/build/bench/ldap_read}"
[[ -x "$ldap_read" ]] || { echo "ldap_bench: $ldap_read not built (cmake --build <dir> --target ldap_read)" >&2; exit 2; }
command -v ldapsearch >/dev/null || { echo "ldap_bench: ldapsearch missing (Debian: ldap-utils)" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/scimsync-ldap-bench.XXXXXX")"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "generating $users people ..." >&2
node "$repo/tests/fixtures/ldap/gen_fixture.js" --users "$users" > "$work/fixture.ldif"
echo "loading slapd (slapadd) ..." >&2
mkfifo "$work/info"
node "$repo/tests/integration/lib/slapd.js" --ldif "$work/fixture.ldif" --size-limit 500 \
  --dir "$work/slapd" > "$work/info" &
server_pid=$!
read -r info < "$work/info"
url="$(node -e 'console.log(JSON.parse(process.argv[1]).url)' "$info")"
bind_dn="$(node -e 'console.log(JSON.parse(process.argv[1]).readerDn)' "$info")"
export LDAP_BENCH_PW="$(node -e 'console.log(JSON.parse(process.argv[1]).readerPw)' "$info")"
base="ou=people,dc=example,dc=org"
filter="(objectClass=inetOrgPerson)"
# The attributes LdapSource asks for with the default mapping.
attrs=(entryUUID mail givenName sn cn telephoneNumber departmentNumber title uid)

now() { date +%s.%N; }
best() { sort -g | head -1; }

echo "server $url; $runs runs each" >&2
ls_times=() lr_times=()
for ((i = 1; i <= runs; i++)); do
  t0=$(now)
  n=$(ldapsearch -x -LLL -H "$url" -D "$bind_dn" -w "$LDAP_BENCH_PW" -E pr=500/noprompt \
        -b "$base" "$filter" "${attrs[@]}" | grep -c '^dn:')
  t1=$(now)
  ls_times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
  [[ "$n" == "$users" ]] || { echo "ldap_bench: ldapsearch read $n entries, expected $users" >&2; exit 1; }

  t0=$(now)
  out=$("$ldap_read" --url "$url" --base "$base" --user-filter "$filter" --bind-dn "$bind_dn" \
          --password-env LDAP_BENCH_PW --page-size 500)
  t1=$(now)
  lr_times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
  [[ "$out" == users=$users\ * ]] || { echo "ldap_bench: ldap_read said: $out" >&2; exit 1; }
done
ls_best=$(printf '%s\n' "${ls_times[@]}" | best)
lr_best=$(printf '%s\n' "${lr_times[@]}" | best)
ratio=$(awk -v a="$lr_best" -v b="$ls_best" 'BEGIN { printf "%.2f", a / b }')
full=$("$ldap_read" --url "$url" --base "$base" --group-base "ou=groups,dc=example,dc=org" \
         --bind-dn "$bind_dn" --password-env LDAP_BENCH_PW --page-size 500)

printf 'entries:               %d\n' "$users"
printf 'ldapsearch pr=500:     %.3f s (runs: %s)\n' "$ls_best" "${ls_times[*]}"
printf 'ldap_read (LdapSource): %.3f s (runs: %s)\n' "$lr_best" "${lr_times[*]}"
printf 'ratio:                 %.2fx (target <= 1.5x)\n' "$ratio"
printf 'full read with groups: %s\n' "$full"
