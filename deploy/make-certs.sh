#!/usr/bin/env bash
# Certificates for tls+tcp:// links between Simpul nodes.
#   deploy/make-certs.sh DIR NODE_ID...
# Creates (once) a federation CA in DIR/ca.key + DIR/ca.pem, and for each node DIR/<id>.pem
# holding its certificate (CN and DNS name = the node id, signed by the CA) and its private key.
# A node's config points tls.cert at its <id>.pem and tls.ca at ca.pem: peers must present a
# certificate from this CA, and a node dialing a peer checks the certificate names that peer.
set -euo pipefail
dir=$1; shift
mkdir -p "$dir"
umask 077
if [ ! -f "$dir/ca.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=Simpul federation CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
fi
for id in "$@"; do
  [ -f "$dir/$id.pem" ] && continue
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$id" \
    -keyout "$dir/$id.key" -out "$dir/$id.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$id" >"$dir/$id.ext"
  openssl x509 -req -in "$dir/$id.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 825 -extfile "$dir/$id.ext" -out "$dir/$id.crt" 2>/dev/null
  cat "$dir/$id.crt" "$dir/$id.key" >"$dir/$id.pem"
  rm -f "$dir/$id.csr" "$dir/$id.ext" "$dir/$id.crt" "$dir/$id.key"
done
