#!/usr/bin/env bash
# Simpul demo on this machine: a local federation of real nodes, complaints through every
# channel, and a walk through the lifecycle, all over the HTTP API.
#
#   deploy/demo.sh          install what is missing, build, start the federation in .demo/,
#                           file and handle complaints, print where to look (about 30 s)
#   deploy/demo.sh --stop   stop the federation and remove .demo/
#
# Nodes (deploy/federation/nodes.tsv): national (Kementerian PANRB), Kementerian Kesehatan,
# Jawa Timur, Jawa Tengah, Sumatera Barat, Kota Madiun, Kota Blitar, Kota Pekalongan, Kota Solok
# and Dinas PUPR Kota Madiun. SIMPUL_DEMO_PORT (default 7500) moves every port.
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO=.demo
BASE=${SIMPUL_DEMO_PORT:-7500}
export SIMPUL=$PWD/build/node/simpul

if [ "${1:-}" = "--stop" ]; then
  [ -d "$DEMO" ] && [ -x "$SIMPUL" ] && deploy/federation.sh down "$DEMO" || true
  rm -rf "$DEMO"
  echo "demo stopped, state removed"
  exit 0
fi

deploy/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null

[ -d "$DEMO" ] && deploy/federation.sh down "$DEMO" >/dev/null 2>&1 || true
rm -rf "$DEMO"
echo "== starting 10 nodes in $DEMO (ports from $BASE)"
deploy/federation.sh up "$DEMO" --port "$BASE" --sync 500

http_of() { sed -n 's/^  http: //p' "$DEMO/$1/node.yaml"; }
NATIONAL=$(http_of national) MADIUN=$(http_of kota-3577) PUPR=$(http_of opd-3577-pupr)
PEKALONGAN=$(http_of kota-3375) SOLOK=$(http_of kota-1372)

# jq-like field access with python3 (a dependency already): field PATH < json
field() { python3 -c 'import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v[int(k)] if isinstance(v,list) else v[k]
print(v)' "$1"; }
token() { "$SIMPUL" token create --data "$DEMO/$1/data" --name "$2" --role "$3" 2>/dev/null; }
post() { curl -sS -X POST "$@"; }
act() { # act URL ID TOKEN JSON: prints the new status
  post "$1/api/v1/complaints/$2/actions" -H "Authorization: Bearer $3" \
    -H 'Content-Type: application/json' -d "$4" | field status
}
wait_status() { # wait_status URL ID STATUS
  for _ in $(seq 100); do
    [ "$(curl -s "$1/api/v1/complaints/$2" | field status 2>/dev/null)" = "$3" ] && return 0
    sleep 0.1
  done
  echo "   ($2 did not reach $3 at $1)"; return 1
}

echo "== officer tokens (the secret is printed once; only its SHA-256 is stored)"
ADMIN=$(token kota-3577 madiun-admin admin-koordinator)
APP=$(token kota-3577 lapor-app reporter)
OPD=$(token opd-3577-pupr pupr-madiun admin-penghubung)
PUSAT=$(token national pusat admin-pusat)
echo "   madiun-admin (admin-koordinator @ kota-3577), lapor-app (reporter @ kota-3577),"
echo "   pupr-madiun (admin-penghubung @ opd-3577-pupr), pusat (admin-pusat @ national)"

echo "== filing complaints"
web() { # web PRIVACY TITLE BODY CATEGORY
  post "$MADIUN/api/v1/complaints" -H 'Content-Type: application/json' -d "{\"title\":\"$2\",
    \"body\":\"$3\",\"category\":\"$4\",\"region\":\"35.77\",\"privacy\":\"$1\",
    \"location\":{\"lat\":-7.6298,\"lon\":111.5239},
    \"reporter\":{\"name\":\"Siti Aminah\",\"phone\":\"081234567890\",\"nik\":\"3577014101900001\"}}" | field id
}
PJU=$(web public "Lampu jalan mati" "Lampu PJU di Jl. Pahlawan mati sejak Senin." infrastruktur/pju)
echo "   web, public:        $PJU  (Kota Madiun, infrastruktur/pju)"
ANON=$(web anonymous "Jalan berlubang" "Lubang besar di Jl. Diponegoro depan sekolah." infrastruktur)
echo "   web, anonymous:     $ANON"
CONF=$(web confidential "Pungutan liar" "Ada pungutan liar di loket perizinan." infrastruktur/pju)
echo "   web, confidential:  $CONF"
SMS=$(post "$PEKALONGAN/api/v1/intake/sms" -H 'Content-Type: application/json' \
  -d '{"from":"+6281299998888","text":"PekalonganKota Sampah menumpuk di Pasar Banjarsari"}')
echo "   SMS 1708:           $(field id <<<"$SMS")  reply: \"$(field reply <<<"$SMS")\""
CEK=$(post "$PEKALONGAN/api/v1/intake/sms" -H 'Content-Type: application/json' \
  -d "{\"from\":\"+6281299998888\",\"text\":\"cek $(field id <<<"$SMS")\"}")
echo "   SMS CEK <number>:   reply: \"$(field reply <<<"$CEK")\""
SMS2=$(post "$SOLOK/api/v1/intake/sms" -d 'from=081277776666&text=KOTASOLOKAduan+%23rahasia+Pegawai+meminta+uang+rokok' \
  -H 'Content-Type: application/x-www-form-urlencoded')
echo "   SMS, #rahasia:      $(field id <<<"$SMS2")  (Kota Solok, confidential)"
BAD=$(post "$SOLOK/api/v1/intake/sms" -H 'Content-Type: application/json' -d '{"from":"0812","text":"Solok aduan"}')
echo "   SMS, bad keyword:   reply: \"$(field reply <<<"$BAD")\""
O311=$(post "$MADIUN/open311/v2/requests.json" -H 'Content-Type: application/x-www-form-urlencoded' \
  -d 'service_code=infrastruktur%2Fpju&lat=-7.63&long=111.52&description=Tiang+lampu+miring&first_name=Budi&attribute%5Bprivacy%5D=anonymous')
REROUTE=$(field 0.service_request_id <<<"$O311")
echo "   Open311, anonymous: $REROUTE"

echo "== $PJU: verify -> disposition by routing rule -> follow-up -> complete -> feedback"
echo "   verify:       $(act "$MADIUN" "$PJU" "$ADMIN" '{"action":"verify","note":"lengkap"}')"
echo "   disposition:  $(act "$MADIUN" "$PJU" "$ADMIN" '{"action":"disposition","by_rule":true}') (rule infrastruktur/pju@35.77 -> opd-3577-pupr)"
wait_status "$PUPR" "$PJU" dispositioned
echo "   follow-up:    $(act "$PUPR" "$PJU" "$OPD" '{"action":"follow-up","text":"Petugas meninjau lokasi"}')"
echo "   complete:     $(act "$PUPR" "$PJU" "$OPD" '{"action":"complete","summary":"Lampu sudah diganti"}')"
wait_status "$MADIUN" "$PJU" completed
echo "   feedback:     $(act "$MADIUN" "$PJU" "$APP" '{"action":"feedback","satisfied":true,"rating":5}')  (tuntas)"

echo "== $CONF (confidential) goes to the OPD with its content key"
act "$MADIUN" "$CONF" "$ADMIN" '{"action":"verify"}' >/dev/null
echo "   disposition:  $(act "$MADIUN" "$CONF" "$ADMIN" '{"action":"disposition","by_rule":true}')"

echo "== $REROUTE: the OPD answers \"bukan wewenang\""
act "$MADIUN" "$REROUTE" "$ADMIN" '{"action":"verify"}' >/dev/null
act "$MADIUN" "$REROUTE" "$ADMIN" '{"action":"disposition","agency":"opd-3577-pupr"}' >/dev/null
wait_status "$PUPR" "$REROUTE" dispositioned
echo "   reroute:      $(act "$PUPR" "$REROUTE" "$OPD" '{"action":"reroute","reason":"bukan wewenang","suggested_agency":"prov-35"}')"

echo "== at national ($NATIONAL), replicated"
wait_status "$NATIONAL" "$PJU" resolved
for id in "$PJU" "$ANON" "$CONF" "$REROUTE" "$(field id <<<"$SMS")"; do
  wait_status "$NATIONAL" "$id" "$(curl -s "$MADIUN/api/v1/complaints/$id" | field status 2>/dev/null || echo filed)" >/dev/null 2>&1 || true
  curl -s "$NATIONAL/api/v1/complaints/$id" | python3 -c 'import json,sys
d=json.load(sys.stdin)
c=d.get("content",{}).get("title","(sealed: metadata only)") if "status" in d else "(not yet replicated)"
print("   %-10s %-14s %-13s %-20s %s" % (d.get("id",""), d.get("status",""), d.get("privacy",""), d.get("holder",""), c))'
done
curl -s "$NATIONAL/api/v1/stats" | python3 -c 'import json,sys
d=json.load(sys.stdin); t=d["totals"]
print("   national stats: filed %d, verified %d, completed %d, resolved %d, rerouted %d, overdue now %d" %
      (t["filed"], t["verified"], t["completed"], t["resolved"], t["rerouted"], d["overdue"]))'

cat <<EOF

== where to look
  complaint at national:   curl $NATIONAL/api/v1/complaints/$PJU
  confidential, as Madiun: curl -H 'Authorization: Bearer $ADMIN' $MADIUN/api/v1/complaints/$CONF
  work list of the OPD:    curl '$PUPR/api/v1/complaints?agency=opd-3577-pupr'
  Open311:                 curl $MADIUN/open311/v2/services.json
  statistics:              curl $NATIONAL/api/v1/stats
  dashboard (a browser):   $NATIONAL/dashboard/
  metrics:                 curl $MADIUN/metrics
  health:                  curl $NATIONAL/healthz
  node logs:               $DEMO/<node>/node.log      tokens above are also valid until --stop
Stop with: deploy/demo.sh --stop
EOF
