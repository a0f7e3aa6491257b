#!/usr/bin/env bash
# simpul backup / restore: a backup taken while the node runs and writes is a consistent data
# directory (log verify passes), carries the attachments and tokens, restores into an empty
# directory the node then runs on (the complaint and its attachment are served); a corrupted
# SST file is reported naming the file.
set -u
SIMPUL=$1
export SIMPUL
here=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap '"$here/deploy/federation.sh" down "$T" >/dev/null 2>&1; rm -rf "$T"' EXIT
port=$(python3 "$here/tests/integration/free_base.py")
fails=0
ok() { echo "ok: $1"; }
fail() { echo "FAIL: $1"; fails=$((fails + 1)); }
check() { if eval "$2"; then ok "$1"; else fail "$1"; fi; }

"$here/deploy/federation.sh" up "$T" --port "$port" --only national,prov-35,kota-3577 >/dev/null || exit 1
K=$T/kota-3577
http=$(sed -n 's|^ *http: \(http://127.0.0.1:[0-9]*\).*|\1|p' "$K/node.yaml")
"$SIMPUL" token create --data "$K/data" --name madiun-admin --role admin-koordinator >/dev/null 2>&1
photo=$(head -c 3000 /dev/urandom | base64 -w0)
filed=$(curl -s -X POST "$http/api/v1/complaints" -H 'Content-Type: application/json' -d \
  "{\"body\":\"Lampu PJU mati\",\"category\":\"umum\",\"region\":\"35.77\",
    \"attachments\":[{\"name\":\"foto.jpg\",\"media_type\":\"image/jpeg\",\"data\":\"$photo\"}]}")
id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$filed")
sha=$(curl -s "$http/api/v1/complaints/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["content"]["attachments"][0]["sha256"])')
check "a complaint with an attachment filed" '[ -n "$id" ] && [ ${#sha} = 64 ]'

# a backup while the node is writing: 20,000 events authored meanwhile
"$SIMPUL" node append --data "$K/data" --count 20000 >/dev/null &
writer=$!
sleep 0.2
out=$("$SIMPUL" backup --data "$K/data" "$T/bk1" 2>&1); rc=$?
wait $writer
check "backup of the running node" '[ $rc = 0 ] && grep -q "^backup $T/bk1: store checkpoint" <<<"$out"'
out=$("$SIMPUL" log verify --data "$T/bk1" 2>&1); rc=$?
check "the backup verifies (every chain, every signature)" '[ $rc = 0 ] && grep -q ": ok" <<<"$out"'
check "the backup has the attachment and the tokens" '[ -f "$T/bk1/blobs/${sha:0:2}/$sha" ] && [ -f "$T/bk1/tokens.json" ]'
check "tokens stay private (0600)" '[ "$(stat -c %a "$T/bk1/tokens.json")" = 600 ]'
"$SIMPUL" node append --data "$K/data" --count 5000 >/dev/null # after bk1: bk1 lacks these
"$SIMPUL" backup --data "$K/data" "$T/bk1" >/dev/null 2>"$T/err"; rc=$?
check "backup into an existing folder is refused" '[ $rc = 1 ] && grep -q "exists" "$T/err"'
"$SIMPUL" backup "$T/bk9" >/dev/null 2>&1; rc=$?
check "backup without --data: usage" '[ $rc = 2 ]'

"$here/deploy/federation.sh" stop "$T" kota-3577
out=$("$SIMPUL" backup --data "$K/data" "$T/bk2" 2>&1); rc=$?
check "backup of a stopped node" '[ $rc = 0 ] && "$SIMPUL" log verify --data "$T/bk2" >/dev/null'
events=$("$SIMPUL" log dump --data "$T/bk2" | wc -l)
check "the stopped node's backup has every event (1 filing + 25,000)" '[ "$events" -ge 25001 ]'

"$SIMPUL" restore --data "$K/data" "$T/bk2" >/dev/null 2>"$T/err"; rc=$?
check "restore over a data directory in use is refused" '[ $rc = 1 ] && grep -q "not empty" "$T/err"'
"$SIMPUL" restore --data "$T/x" "$T" >/dev/null 2>"$T/err"; rc=$?
check "restore from a folder that is no backup is refused" '[ $rc = 1 ] && grep -q "not a backup" "$T/err"'
# restore the backup taken mid-write: its own feed is behind what prov-35 holds
behind=$("$SIMPUL" log dump --data "$T/bk1" | grep -c " kota-3577 ")
mv "$K/data" "$T/lost"
out=$("$SIMPUL" restore --data "$K/data" "$T/bk1" 2>&1); rc=$?
check "restore into the emptied data directory" '[ $rc = 0 ] && grep -q "^restored" <<<"$out"'
"$here/deploy/federation.sh" start "$T" kota-3577
head_now() { "$SIMPUL" status --data "$K/data" --json | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["heads"]["kota-3577"], s["forks"])'; }
read -r head forks <<<"$(head_now)"
echo "  (own feed: $behind events in the backup, $head after start; forks $forks)"
check "the restored node got its later events back from its peer before authoring" \
  '[ "$behind" -lt 25001 ] && [ "$head" -ge 25001 ] && [ "$forks" = 0 ]'
check "the restore mark is gone once the node started" '[ ! -e "$K/data/restored-from-backup" ]'
code=$(curl -s -o /dev/null -w '%{http_code}' "$http/api/v1/complaints/$id")
got=$(curl -s "$http/api/v1/complaints/$id/attachments/$sha" | sha256sum | cut -c1-64)
check "the restored node serves the complaint and its attachment" '[ "$code" = 200 ] && [ "$got" = "$sha" ]'
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$http/api/v1/complaints" \
  -H 'Content-Type: application/json' -d '{"body":"Jalan rusak","category":"umum","region":"35.77"}')
check "the restored node goes on filing" '[ "$code" = 201 ]'
read -r head forks <<<"$(head_now)"
check "... without forking its own chain" '[ "$forks" = 0 ]'

# a corrupted SST: the error names the file
cp -r "$T/bk2" "$T/bk3"
sst=$(ls -S "$T"/bk3/*.sst | head -1)
size=$(stat -c %s "$sst")
printf '\xde\xad\xbe\xef\xde\xad\xbe\xef' | dd of="$sst" bs=1 seek=$((size / 3)) conv=notrunc status=none
out=$("$SIMPUL" log verify --data "$T/bk3" 2>&1); rc=$?
check "a corrupted SST is an error naming the file" '[ $rc != 0 ] && grep -q "$(basename "$sst")" <<<"$out"'
[ $rc != 0 ] && echo "  ($(grep -o "Corruption[^\"]*" <<<"$out" | head -1))"

echo "$((fails == 0 ? 1 : 0)) passed, $fails failed"
[ $fails = 0 ]
