#!/usr/bin/env bash
# Replication between real simpul processes on loopback: kota-3577 -> prov-35 -> national.
#   federation_test.sh SIMPUL_BINARY
# Checks: an event filed at the kota reaches national; a partition (province stopped) heals
# and both ends converge; SIGKILL of the relay mid-stream loses and duplicates nothing; an
# emptied node catches up from its peer; every data directory verifies afterwards.
set -u
SIMPUL=$1
export SIMPUL
here=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
fed() { "$here/deploy/federation.sh" "$@"; }
trap 'fed down "$T" >/dev/null 2>&1; rm -rf "$T"' EXIT
port=$(python3 "$here/tests/integration/free_base.py")
fails=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fails=$((fails + 1)); }

head_of() { # head_of NODE ORIGIN
  "$SIMPUL" status --data "$T/$1/data" --json 2>/dev/null |
    python3 -c "import json,sys; print(json.load(sys.stdin)['heads'].get('$2', 0))" 2>/dev/null || echo 0
}
wait_head() { # wait_head NODE ORIGIN SEQ
  for _ in $(seq 300); do [ "$(head_of "$1" "$2")" -ge "$3" ] && return 0; sleep 0.1; done
  echo "  $1 holds $2 up to $(head_of "$1" "$2"), wanted $3"; return 1
}
append() { "$SIMPUL" node append --data "$T/$1/data" --count "$2" >/dev/null; }

# The kota, the province and national only (the rest of the demo federation is not started).
fed up "$T" --port "$port" --only national,prov-35,kota-3577 --sync 500 || { echo "FAIL: up"; exit 1; }

append kota-3577 1
wait_head national kota-3577 1 && ok "kota event reaches national" || bad "kota event reaches national"

fed stop "$T" prov-35
append kota-3577 300
append national 40
sleep 1
[ "$(head_of national kota-3577)" = 1 ] && ok "partition holds back the kota's events" || bad "partition"
fed start "$T" prov-35
wait_head national kota-3577 301 && wait_head kota-3577 national 40 &&
  ok "partition heals: both ends converge" || bad "partition heals"

# SIGKILL the relay while the kota writes 20000 events in the background.
"$SIMPUL" node append --data "$T/kota-3577/data" --count 20000 >/dev/null &
writer=$!
sleep 0.3
kill -9 "$(cat "$T/prov-35/pid")"
wait "$writer" || bad "kota append during relay kill"
fed start "$T" prov-35
wait_head national kota-3577 20301 && ok "SIGKILL of the relay loses nothing" || bad "SIGKILL of the relay"

# national loses its disk: it comes back empty and catches up from the province.
fed stop "$T" national
rm -rf "$T/national/data"
fed start "$T" national
wait_head national kota-3577 20301 && wait_head national national 0 &&
  ok "an empty node catches up from its peer" || bad "empty node catch-up"
[ "$(head_of national national)" = 40 ] && ok "national's own feed recovered from its peers" ||
  bad "national's own feed (holds $(head_of national national), wanted 40)"

"$SIMPUL" status --data "$T/national/data"
fed down "$T"
for n in national prov-35 kota-3577; do
  out=$("$SIMPUL" log verify --data "$T/$n/data") && ok "$n verifies: $out" || bad "$n verify: $out"
done
# No duplicates: every stored envelope of the kota is one seq, and there are exactly 20301.
count=$("$SIMPUL" log dump --data "$T/national/data" --origin kota-3577 | wc -l)
[ "$count" = 20301 ] && ok "no duplicates at national ($count envelopes)" || bad "national holds $count envelopes"

echo "$((fails == 0 ? 1 : 0)) passed, $fails failed"
[ $fails = 0 ]
