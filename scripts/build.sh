#!/usr/bin/env bash
# Configures and builds scimsync and its tests into build/ (binary: build/scimsync).
# Warnings are errors: the code builds warning-free with GCC 12 and clang 14.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCIMSYNC_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
