#!/usr/bin/env bash
# Configures and builds scimsync and its tests into build/ (binary: build/scimsync).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
