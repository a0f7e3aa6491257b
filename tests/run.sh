#!/usr/bin/env bash
# Install what is missing, build, and run the whole test suite with CTest: once plain (every
# label), then the unit tests, fuzz smoke runs and in-process integration tests (label
# sanitize) again under AddressSanitizer and UndefinedBehaviorSanitizer. Exits non-zero on any
# failure.
#   tests/run.sh            everything
#   tests/run.sh --quick    plain build, unit tests only
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh --browser

jobs=$(nproc)
export SIMPUL_LOG_LEVEL=${SIMPUL_LOG_LEVEL:-warn}

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSP_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
if [ "${1:-}" = "--quick" ]; then
  ctest --test-dir build -L unit --output-on-failure -j "$jobs"
  exit 0
fi
ctest --test-dir build --output-on-failure -j "$jobs"

cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSP_WERROR=ON \
      -DSP_SANITIZE=address,undefined >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -L 'unit|fuzz-smoke|sanitize' --output-on-failure -j "$jobs"
