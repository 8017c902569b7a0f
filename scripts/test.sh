#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs dependencies, builds, runs the
# unit tests (doctest, via ctest) and the integration tests (the real binary against
# a throwaway slapd and the scimmy-based SCIM server, all on loopback), the Debian
# package test (tests/package/package_test.sh: scripts/package.sh, lintian, contents,
# install and purge; for real only as root with CI set), then the sanitizer and fuzz
# stage (scripts/sanitize.sh: clang ASan/UBSan build, unit tests and a
# fault-injection scenario on it, each fuzzer for 30 s). SCIMSYNC_SKIP_SANITIZE=1
# skips that last stage (local runs only; CI runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

echo "== unit tests"
ctest --test-dir build -L unit --output-on-failure

echo "== integration tests"
export SCIMSYNC_BIN="$PWD/build/scimsync"
export CI="${CI:-1}"   # missing slapd or systemd tools fail instead of skipping
if compgen -G "tests/integration/*.test.js" >/dev/null; then
  node --test --test-concurrency=1 tests/integration/
else
  echo "(no integration tests in tests/integration/)"
fi

echo "== Debian package"
tests/package/package_test.sh

if [ "${SCIMSYNC_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== sanitizer and fuzz stage"
  scripts/sanitize.sh
fi
