#!/usr/bin/env bash
# Install the Debian 12 packages Simpul needs to build, test and run. Idempotent and quiet when
# everything is already there. Needs root (or sudo) only when something is missing.
#   deploy/install-deps.sh [--browser]   (--browser adds Chromium for the dashboard tests)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config python3 curl ca-certificates
  libnng-dev librocksdb-dev rocksdb-tools libprotobuf-c-dev protobuf-c-compiler
  libyaml-dev libssl-dev libjansson-dev libcmocka-dev libjemalloc-dev
  nats-server libnats-dev nng-utils python3-protobuf protobuf-compiler
)
if [ "${1:-}" = "--browser" ]; then packages+=(chromium); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "need root to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
