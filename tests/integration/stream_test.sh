#!/usr/bin/env bash
# The integrator stream of a real node: replay from an offset, then live, with no gap and no
# duplicate; resume from the position printed at exit; prefix filtering.
set -u
SIMPUL=$1
export SIMPUL
here=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap '"$here/deploy/federation.sh" down "$T" >/dev/null 2>&1; rm -rf "$T"' EXIT
port=$(python3 "$here/tests/integration/free_base.py")
fails=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fails=$((fails + 1)); fi; }

"$here/deploy/federation.sh" up "$T" --port "$port" --only national,prov-35,kota-3577 --sync 500 >/dev/null || exit 1
# national is node 0 of nodes.tsv: stream on port+1, replay on port+2
S="tcp://127.0.0.1:$((port + 1))"
R="tcp://127.0.0.1:$((port + 2))"
tail_national() { "$SIMPUL" tail --stream "$S" --replay "$R" "$@"; }
in_order() { # offsets strictly increasing, no duplicates
  awk '{ if (NR > 1 && $1 <= last) bad = 1; last = $1 } END { exit bad }' "$1"
}

"$SIMPUL" node append --data "$T/kota-3577/data" --count 50 >/dev/null
for _ in $(seq 50); do [ "$(tail_national --idle-exit 300 2>/dev/null | wc -l)" -ge 50 ] && break; sleep 0.1; done
tail_national --idle-exit 500 >"$T/replay.txt" 2>"$T/replay.err"
check "replay from offset 1 gives the 50 stored events" '[ "$(wc -l <"$T/replay.txt")" = 50 ]'
check "replayed events are in offset order" 'in_order "$T/replay.txt"'

# Follow live while 400 more events arrive in four bursts.
tail_national --count 450 >"$T/live.txt" 2>"$T/live.err" &
tailer=$!
for _ in 1 2 3 4; do "$SIMPUL" node append --data "$T/kota-3577/data" --count 100 >/dev/null; done
for _ in $(seq 100); do kill -0 $tailer 2>/dev/null || break; sleep 0.1; done
kill $tailer 2>/dev/null
check "replay then live delivers all 450 events" '[ "$(wc -l <"$T/live.txt")" = 450 ]'
check "no duplicate and no gap in offsets" 'in_order "$T/live.txt" && [ "$(awk "{print \$1}" "$T/live.txt" | sort -u | wc -l)" = 450 ]'

# Stop after 200, resume from the printed position: together exactly the 450.
tail_national --count 200 >"$T/a.txt" 2>"$T/a.err"
from=$(grep -o 'from [0-9]*' "$T/a.err" | cut -d' ' -f2)
tail_national --from "$from" --idle-exit 500 >"$T/b.txt" 2>/dev/null
check "resume continues exactly where it stopped" '[ "$(cat "$T/a.txt" "$T/b.txt" | awk "{print \$1}" | sort -u | wc -l)" = 450 ] && [ "$(cat "$T/a.txt" "$T/b.txt" | wc -l)" = 450 ]'

tail_national --prefix "99." --idle-exit 300 >"$T/none.txt" 2>/dev/null
check "a prefix nothing matches gives nothing" '[ ! -s "$T/none.txt" ]'
tail_national --prefix "_._._.commented" --idle-exit 300 --json --count 1 >"$T/one.json" 2>/dev/null
check "--json prints the decoded event" 'python3 -c "import json,sys; e=json.load(open(sys.argv[1])); assert e[\"event\"][\"commented\"][\"text\"]" "$T/one.json"'

echo "$((fails == 0 ? 1 : 0)) passed, $fails failed"
[ $fails = 0 ]
