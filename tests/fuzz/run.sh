#!/usr/bin/env bash
# Build one fuzz target for libFuzzer (clang, ASan + UBSan) in its own build folder and run it
# with one worker on its corpus for SECONDS.
#
#   tests/fuzz/run.sh TARGET SECONDS [libFuzzer options...]
#   tests/fuzz/run.sh fuzz_http 600
#
# The seed corpus tests/fuzz/corpus/<name>/ is only read: the inputs libFuzzer finds go to
# BUILD/corpus/<name>/ and crashing inputs to BUILD/artifacts/. Minimise a crash with
# `BUILD/tests/TARGET -minimize_crash=1 -runs=10000 CRASH`, fix it, and keep the input in the
# seed corpus as a regression case. tests/fuzz/<name>.dict, when present, is the dictionary.
# BUILD defaults to build-libfuzzer/ at the root of the checkout; CC defaults to clang.
# Warnings are errors here too (clang 14, like the gcc builds).
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,13p' "$0"; exit 2; }
target=$1 secs=$2
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build-libfuzzer}
name=${target#fuzz_}

CC=${CC:-clang} cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSP_WERROR=ON -DSP_LIBFUZZER=ON -DSP_SANITIZE=address,undefined >/dev/null
cmake --build "$build" --target "$target"

work=$build/corpus/$name
mkdir -p "$work" "$build/artifacts"
opts=(-max_total_time="$secs" -artifact_prefix="$build/artifacts/" -print_final_stats=1)
[ -f "$root/tests/fuzz/$name.dict" ] && opts+=(-dict="$root/tests/fuzz/$name.dict")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec "$build/tests/$target" "${opts[@]}" "$@" "$work" "$root/tests/fuzz/corpus/$name"
