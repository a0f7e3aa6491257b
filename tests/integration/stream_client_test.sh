#!/usr/bin/env bash
# libsimpul-stream as an integrator gets it (issue 15): installed from the build (header,
# shared library, pkg-config file), the header compiled alone as C and C++, the example built
# against the installed copy with pkg-config, then run against a real node: every event once,
# in order, and resumed exactly where it stopped.
#   stream_client_test.sh SIMPUL BUILD_DIR
set -u
SIMPUL=$1 BUILD=$2
export SIMPUL
here=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap '"$here/deploy/federation.sh" down "$T/fed" >/dev/null 2>&1; rm -rf "$T"' EXIT
fails=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fails=$((fails + 1)); fi; }

cmake --install "$BUILD" --prefix "$T/usr" --component client >/dev/null
pc=$(find "$T/usr" -name simpul-stream.pc | head -1)
check "the install has the header, the library and a pkg-config file" \
  '[ -f "$T/usr/include/simpul/stream.h" ] && [ -n "$pc" ] && ls "$(dirname "$(dirname "$pc")")"/libsimpul-stream.so.1 >/dev/null'
libdir=$(dirname "$(dirname "$pc")")
check "the library exports its API and nothing else" \
  '[ "$(nm -D --defined-only "$libdir/libsimpul-stream.so.1" | awk "{print \$3}" | grep -v "^simpul_stream_" | grep -c .)" = 0 ]'
printf '#include <simpul/stream.h>\nint main(void) { return simpul_stream_position(0) != 0; }\n' >"$T/alone.c"
check "the header stands alone (C99, -Wall -Werror)" \
  'cc -std=c99 -Wall -Wextra -Werror -I"$T/usr/include" -c "$T/alone.c" -o "$T/alone.o"'
if command -v g++ >/dev/null; then
  check "and compiles as C++" 'g++ -Wall -Werror -I"$T/usr/include" -x c++ -c "$T/alone.c" -o "$T/alone_cc.o"'
fi
export PKG_CONFIG_PATH=$(dirname "$pc")
check "the example builds against the installed copy with pkg-config" \
  'cc -Wall -Werror "$here/docs/examples/stream_client.c" $(pkg-config --cflags --libs simpul-stream) -Wl,-rpath,"$libdir" -o "$T/stream_client"'

port=$(python3 "$here/tests/integration/free_base.py")
"$here/deploy/federation.sh" up "$T/fed" --port "$port" --only national,prov-35,kota-3577 --sync 500 >/dev/null || exit 1
S="tcp://127.0.0.1:$((port + 1))" R="tcp://127.0.0.1:$((port + 2))" # national: node 0
"$SIMPUL" node append --data "$T/fed/kota-3577/data" --count 120 >/dev/null
for _ in $(seq 100); do
  [ "$("$T/stream_client" "$S" "$R" "" 1 120 2>/dev/null | wc -l)" -ge 120 ] && break; sleep 0.1
done
"$T/stream_client" "$S" "$R" "" 1 70 >"$T/a.txt" 2>"$T/a.err"
from=$(grep -o 'from [0-9]*' "$T/a.err" | cut -d' ' -f2)
"$T/stream_client" "$S" "$R" "" "$from" 50 >"$T/b.txt" 2>/dev/null
check "the installed example reads 70 events, then resumes for the other 50" \
  '[ "$(wc -l <"$T/a.txt")" = 70 ] && [ "$(cat "$T/a.txt" "$T/b.txt" | awk "{print \$1}" | tr "\n" " ")" = "$(seq -s " " 1 120) " ]'
check "each line names the topic, origin and seq" '[ -s "$T/a.txt" ] && awk "NF != 5 || \$3 != \"kota-3577\" { bad = 1 } END { exit bad }" "$T/a.txt"'
"$T/stream_client" "$S" "$R" "" "$((from + 50))" 30 >"$T/live.txt" 2>/dev/null &
reader=$!
sleep 0.5
"$SIMPUL" node append --data "$T/fed/kota-3577/data" --count 30 >/dev/null
wait $reader
check "and follows new events live" '[ "$(wc -l <"$T/live.txt")" = 30 ] && grep -q " live$" "$T/live.txt"'
echo "$((fails == 0 ? 1 : 0)) passed, $fails failed"
[ $fails = 0 ]
