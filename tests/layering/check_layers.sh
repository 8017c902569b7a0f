#!/usr/bin/env bash
# The layering of DESIGN §2 as a checked allow-list: which project headers and which
# third-party libraries each folder may include. A forbidden include fails this test
# (ctest `layering`), so a module cannot quietly start depending on another.
#
#   check_layers.sh [ROOT]     check the tree at ROOT (default: the repository)
#   check_layers.sh --self-test  plant a forbidden include in a copy and expect a failure
#
# Standard and POSIX headers are allowed everywhere; everything else must be listed.
set -euo pipefail

# folder | project include prefixes it may use | third-party headers it may use
# (prefixes are matched at the start of the include path; a trailing / means a folder)
RULES='
core|core/ scimsync_version.h|
config|core/ config/|toml++/
state|core/ state/|SQLiteCpp/ sqlite3.h
connectors/csv|core/ connectors/source.h connectors/source_watch.h connectors/csv/|
connectors/ldap|core/ connectors/source.h connectors/source_watch.h connectors/ldap/|ldap.h lber.h
connectors/scim|core/ connectors/target.h connectors/scim/|curl/ rapidjson/
connectors/keepnet|core/ connectors/keepnet/ connectors/scim/http_client.h connectors/scim/scim_json.h|rapidjson/
connectors|core/ connectors/source.h connectors/source_watch.h connectors/target.h|
daemon|core/ config/ state/ connectors/ daemon/ scimsync_version.h|systemd/ CLI/ rapidjson/
'
# Every third-party header prefix the project uses; an angle include matching none of
# these is taken as a standard or system header.
THIRD_PARTY='toml++/ SQLiteCpp/ sqlite3.h ldap.h lber.h curl/ rapidjson/ systemd/ CLI/ doctest/'

check_tree() {
  local root=$1 bad=0
  while IFS='|' read -r folder projects thirds; do
    [ -n "$folder" ] || continue
    [ -d "$root/$folder" ] || continue
    # Files of this folder only: a deeper folder with its own rule is checked by it.
    local depth=1
    [ "$folder" = connectors ] || depth=99
    while IFS= read -r file; do
      while IFS= read -r line; do
        local inc=${line#*include } path ok=0
        path=${inc:1:${#inc}-2}
        if [ "${inc:0:1}" = '"' ]; then
          for p in $projects; do [[ $path == "$p"* ]] && ok=1; done
        else
          ok=1
          for t in $THIRD_PARTY; do
            if [[ $path == "$t"* ]]; then
              ok=0
              for a in $thirds; do [[ $path == "$a"* ]] && ok=1; done
            fi
          done
        fi
        if [ $ok -eq 0 ]; then
          echo "${file#"$root"/}: includes $inc, which $folder/ may not (DESIGN §2; rules in ${0##*/})"
          bad=1
        fi
      done < <(grep -hoE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"][^>"]+[>"]' "$file" |
               sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*/include /')
    done < <(find "$root/$folder" -maxdepth $depth -type f \( -name '*.h' -o -name '*.cc' \) | sort)
  done <<<"$RULES"
  return $bad
}

if [ "${1:-}" = --self-test ]; then
  src=$(cd "$(dirname "$0")/../.." && pwd)
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  for d in core config state connectors daemon; do cp -r "$src/$d" "$tmp/"; done
  check_tree "$tmp" >/dev/null || { echo "self-test: the clean tree already fails"; exit 1; }
  fails=0
  for plant in 'core/model.h:#include <ldap.h>' 'core/plan.cc:#include "daemon/executor.h"' \
               'state/state_store.cc:#include "connectors/target.h"' \
               'connectors/csv/csv_reader.cc:#include "connectors/scim/scim_json.h"' \
               'config/config.h:#include <curl/curl.h>'; do
    file=${plant%%:*} inc=${plant#*:}
    cp "$tmp/$file" "$tmp/$file.orig"
    printf '%s\n' "$inc" >>"$tmp/$file"
    if out=$(check_tree "$tmp"); then
      echo "self-test: planting '$inc' in $file was not caught"
      fails=1
    else
      echo "caught: $out"
    fi
    mv "$tmp/$file.orig" "$tmp/$file"
  done
  exit $fails
fi

root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
check_tree "$root" && echo "layering: every include is allowed"
