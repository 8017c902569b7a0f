#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs dependencies, builds, runs the
# unit tests (doctest, via ctest) and the integration tests (the real binary against
# a throwaway slapd and the scimmy-based SCIM server, all on loopback).
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
