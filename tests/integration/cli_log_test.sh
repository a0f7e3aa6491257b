#!/usr/bin/env bash
# The simpul CLI as a user runs it: keygen, log append/dump/verify, exit codes.
set -u
SIMPUL=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
check() { # check NAME EXPECTED_RC ACTUAL_RC
    if [ "$2" != "$3" ]; then echo "FAIL: $1: exit $3, expected $2"; fails=$((fails + 1)); else echo "ok: $1"; fi
}

"$SIMPUL" keygen --out "$T/keys" >"$T/keygen.out" 2>&1; check keygen 0 $?
grep -q '^sign_key: ' "$T/keygen.out"; check "keygen prints sign_key" 0 $?
[ "$(stat -c %a "$T/keys/node.key")" = 600 ]; check "private key mode 0600" 0 $?
[ "$(stat -c %a "$T/keys/seal.key")" = 600 ]; check "sealing key mode 0600" 0 $?
"$SIMPUL" keygen --out "$T/keys" >/dev/null 2>&1; check "keygen refuses to overwrite" 1 $?
"$SIMPUL" keygen >/dev/null 2>&1; check "keygen without --out" 2 $?

"$SIMPUL" log append --data "$T/data" --key "$T/keys" >/dev/null 2>&1
check "append to a new dir without --id" 2 $?
"$SIMPUL" log append --data "$T/data" --key "$T/keys" --id kota-3577 --count 1500 >"$T/append.out"
check "append 1500" 0 $?
grep -q 'seq 1..1500 (durable)' "$T/append.out"; check "append reports seqs" 0 $?
"$SIMPUL" log append --data "$T/data" --key "$T/keys" --count 5 --text hello >/dev/null
check "append more without --id" 0 $?
"$SIMPUL" log append --data "$T/data" --key "$T/keys" --id prov-35 >/dev/null 2>&1
check "append as another node is refused" 1 $?
"$SIMPUL" log append --data "$T/data" --key "$T/keys" --count 5x 2>"$T/count.err"
check "a count that is no whole number is a usage error" 2 $?
grep -q -- "--count must be a whole number, not '5x'" "$T/count.err"; check "... saying which" 0 $?
"$SIMPUL" log dump --data "$T/data" --from 2 extra >/dev/null 2>&1
check "a stray argument is a usage error" 2 $?

n=$("$SIMPUL" log dump --data "$T/data" | wc -l); [ "$n" = 1505 ]; check "dump lists 1505" 0 $?
"$SIMPUL" log dump --data "$T/data" --json --from 1501 >"$T/dump.json"; check "dump --json" 0 $?
python3 - "$T/dump.json" <<'PY'; check "dump --json is JSON with the events" 0 $?
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 5, len(rows)
assert rows[0]["offset"] == 1501 and rows[0]["seq"] == 1501
assert rows[-1]["event"]["commented"]["text"] == "hello"
assert all(r["origin"] == "kota-3577" and len(r["hash"]) == 64 for r in rows)
PY

"$SIMPUL" log verify --data "$T/data" >"$T/verify.out"; check "verify" 0 $?
grep -q 'verified 1 chains, 1505 envelopes: ok' "$T/verify.out"; check "verify counts" 0 $?
"$SIMPUL" keygen --out "$T/other" >/dev/null 2>&1
"$SIMPUL" log verify --data "$T/data" --pubkey "kota-3577=$T/other/node.pub" >/dev/null 2>&1
check "verify with a different key for the origin" 3 $?
"$SIMPUL" log verify >/dev/null 2>&1; check "verify without --data" 2 $?
"$SIMPUL" log frobnicate --data "$T/data" >/dev/null 2>&1; check "unknown log subcommand" 2 $?
"$SIMPUL" nonsense >/dev/null 2>&1; check "unknown command" 2 $?
"$SIMPUL" log --help >/dev/null; check "log --help" 0 $?
"$SIMPUL" version | grep -q '^simpul '; check version 0 $?

"$SIMPUL" keys rotate --keys "$T/keys" >"$T/rotate.out" 2>/dev/null; check "keys rotate" 0 $?
grep -q '^- {id: 2, key: ' "$T/rotate.out"; check "keys rotate prints the topology line" 0 $?
[ "$(stat -c %a "$T/keys/seal-2.key")" = 600 ] && [ -f "$T/keys/seal.key" ]
check "rotation keeps the old key, new key mode 0600" 0 $?
"$SIMPUL" keys rotate --keys "$T/nokeys" >/dev/null 2>&1; check "keys rotate without keys" 1 $?

echo "$((fails == 0 ? 1 : 0)) passed, $fails failed"
[ $fails = 0 ]
