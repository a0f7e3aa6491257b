#!/usr/bin/env bash
# simpul node run refuses to start, with a clear message, on: a broken configuration, an
# invalid topology, an unknown node id, a signing key that is not the topology's, a data
# directory another process holds. And it stops cleanly on SIGTERM.
set -u
SIMPUL=$1
export SIMPUL
here=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap '"$here/deploy/federation.sh" down "$T" >/dev/null 2>&1; rm -rf "$T"' EXIT
port=$(python3 "$here/tests/integration/free_base.py")
fails=0
expect() { # expect NAME PATTERN CONFIG: the node must refuse to start and say PATTERN
  out=$(timeout 20 "$SIMPUL" node run --config "$3" 2>&1); rc=$?
  if [ $rc = 1 ] && grep -q -- "$2" <<<"$out"; then echo "ok: $1"
  else echo "FAIL: $1 (exit $rc)"; echo "$out" | tail -5; fails=$((fails + 1)); fi
}

"$here/deploy/federation.sh" up "$T" --port "$port" --only national,prov-35 >/dev/null || exit 1
"$here/deploy/federation.sh" stop "$T" prov-35
cfg=$T/prov-35/node.yaml

sed 's/^log_level: info/log_levl: info/' "$cfg" >"$T/prov-35/typo.yaml"
expect "unknown config key, with its position" "typo.yaml:$(grep -n log_levl "$T/prov-35/typo.yaml" | cut -d: -f1):1: unknown key .log_levl." "$T/prov-35/typo.yaml"
grep -v '^data:' "$cfg" >"$T/prov-35/nodata.yaml"
expect "missing config key" "missing required key 'data'" "$T/prov-35/nodata.yaml"
printf 'node: [oops\n' >"$T/prov-35/broken.yaml"
expect "broken YAML" "broken.yaml:" "$T/prov-35/broken.yaml"

sed 's|^  http: http://127.0.0.1:|  http: https://127.0.0.1:|' "$cfg" >"$T/prov-35/nocert.yaml"
expect "https without its certificate" "serves HTTPS: 'tls.http_cert'" "$T/prov-35/nocert.yaml"
sed 's|^  http: http://127.0.0.1:|  http: http://0.0.0.0:|' "$cfg" >"$T/prov-35/plain.yaml"
expect "plain HTTP beyond loopback without listen.http_plain" "set 'listen.http_plain: true'" "$T/prov-35/plain.yaml"
{ sed 's|^  http: http://127.0.0.1:|  http: https://127.0.0.1:|' "$cfg"; printf 'tls:\n  http_cert: nowhere.pem\n'; } >"$T/prov-35/badcert.yaml"
expect "an https certificate file that cannot be read" "msg=http.tls cert=.*nowhere.pem" "$T/prov-35/badcert.yaml"

cp "$T/topology.yaml" "$T/topology.good"
sed -i 's/^    parent: national$/    parent: nobody/' "$T/topology.yaml"
expect "invalid topology, with its position" "topology.yaml:.*unknown parent" "$cfg"
cp "$T/topology.good" "$T/topology.yaml"

sed 's/^node: prov-35/node: prov-99/' "$cfg" >"$T/prov-35/unknown.yaml"
expect "node id not in the topology" "node 'prov-99' is not in topology" "$T/prov-35/unknown.yaml"

sed "s|^keys: keys|keys: $T/national/keys|" "$cfg" >"$T/prov-35/wrongkey.yaml"
expect "signing key of another node" "not the signing key the topology lists for prov-35" "$T/prov-35/wrongkey.yaml"

sed "s|^data: data|data: $T/national/data|" "$cfg" >"$T/prov-35/locked.yaml"
expect "data directory locked by a running node" "locked" "$T/prov-35/locked.yaml"

# A node whose calendar differs from its peers' is shown on both sides, and logged.
printf 'version: 1\nholidays:\n  - {date: 2026-11-10, kind: libur, name: "Libur daerah (uji)"}\n' >"$T/prov-35/extra.yaml"
cp "$cfg" "$T/prov-35/node.yaml.good"
printf 'calendar: extra.yaml\n' >>"$cfg"
"$here/deploy/federation.sh" start "$T" prov-35
agree() { "$SIMPUL" status --data "$T/$1/data" --json | python3 -c "import json,sys; print([p['agreement'] for p in json.load(sys.stdin)['peers'] if p['id'] == '$2'][0])"; }
for _ in $(seq 100); do [ "$(agree national prov-35)" = "differs: calendar" ] && break; sleep 0.1; done
if [ "$(agree national prov-35)" = "differs: calendar" ] && [ "$(agree prov-35 national)" = "differs: calendar" ] &&
   grep -q 'msg=replica.disagreement peer=national differs=calendar' "$T/prov-35/node.log" &&
   "$SIMPUL" status --data "$T/national/data" | grep -q 'differs: calendar'; then
  echo "ok: a different calendar is shown on both ends of the link, in simpul status and the log"
else
  echo "FAIL: calendar disagreement: $(agree national prov-35) / $(agree prov-35 national)"; fails=$((fails + 1))
fi
"$here/deploy/federation.sh" stop "$T" prov-35
cp "$T/prov-35/node.yaml.good" "$cfg"
"$here/deploy/federation.sh" start "$T" prov-35
for _ in $(seq 100); do [ "$(agree national prov-35)" = "agrees" ] && break; sleep 0.1; done
[ "$(agree national prov-35)" = "agrees" ] && echo "ok: and agreement once it has the federation's calendar again" ||
  { echo "FAIL: agreement after the fix: $(agree national prov-35)"; fails=$((fails + 1)); }
pid=$(cat "$T/prov-35/pid")
kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if ! kill -0 "$pid" 2>/dev/null && grep -q 'msg=daemon.stopped node=prov-35' "$T/prov-35/node.log"; then
  echo "ok: SIGTERM stops the node cleanly"
else
  echo "FAIL: SIGTERM"; fails=$((fails + 1))
fi
"$SIMPUL" log verify --data "$T/prov-35/data" >/dev/null && echo "ok: data verifies after stop" ||
  { echo "FAIL: verify after stop"; fails=$((fails + 1)); }

echo "$((fails == 0 ? 1 : 0)) passed, $fails failed"
[ $fails = 0 ]
