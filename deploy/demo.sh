#!/usr/bin/env bash
# Simpul demo on this machine: installs what is missing, builds, creates a node identity and a
# data directory, authors signed events on the node's feed and verifies the whole log.
#   deploy/demo.sh          run the demo (state in .demo/)
#   deploy/demo.sh --stop   remove the demo's state
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO=.demo

if [ "${1:-}" = "--stop" ]; then
  rm -rf "$DEMO"
  echo "demo state removed"
  exit 0
fi

deploy/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
SIMPUL=build/node/simpul

rm -rf "$DEMO"
mkdir -p "$DEMO"
echo "== keys for kota-3577 (Kota Madiun)"
$SIMPUL keygen --out "$DEMO/kota-3577/keys"
echo "== authoring 1000 signed events"
$SIMPUL log append --data "$DEMO/kota-3577/data" --key "$DEMO/kota-3577/keys" --id kota-3577 \
  --count 1000 --text "Lampu jalan mati di Jl. Pahlawan"
echo "== the last three events"
$SIMPUL log dump --data "$DEMO/kota-3577/data" --from 998
echo "== verifying every chain"
$SIMPUL log verify --data "$DEMO/kota-3577/data"
echo
echo "Data directory: $DEMO/kota-3577/data   (try: $SIMPUL log dump --data $DEMO/kota-3577/data --json --limit 1)"
