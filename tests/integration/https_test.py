#!/usr/bin/env python3
"""The node serves its HTTP API over HTTPS itself (issue 13): listen.http https:// with
tls.http_cert. A client that trusts the certificate's CA files and reads a complaint; a plain
HTTP request to the port gets no answer; a client that does not trust the CA is refused; the
certificate presented is the configured one (its name is checked). Real processes on loopback.

    https_test.py SIMPUL
"""
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fedlib  # noqa: E402
from fedlib import check  # noqa: E402

NODE = "kota-3577"
COMPLAINT = {"title": "Lampu jalan mati", "body": "Lampu PJU di Jl. Pahlawan mati sejak Senin.",
             "category": "umum", "region": "35.77", "privacy": "public",
             "reporter": {"name": "Siti Aminah", "phone": "081234567890"}}


def switch_to_https(certs):
    """Stop the node, make its listen.http https:// with the certificate for 'localhost'."""
    subprocess.run([os.path.join(fedlib.ROOT, "deploy", "make-certs.sh"), certs, "localhost"],
                   check=True)
    fedlib.fed("stop", fedlib.T, NODE)
    path = os.path.join(fedlib.T, NODE, "node.yaml")
    with open(path) as f:
        cfg = f.read()
    cfg = cfg.replace("http: http://127.0.0.1:", "http: https://127.0.0.1:")
    cfg += "tls:\n  http_cert: %s\n" % os.path.join(certs, "localhost.pem")
    with open(path, "w") as f:
        f.write(cfg)
    fedlib.fed("start", fedlib.T, NODE)
    return int(re.search(r"https://127.0.0.1:(\d+)", cfg).group(1))


def https(port, ctx, method, path, body=None):
    conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=10)
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
    r = conn.getresponse()
    out = r.status, json.loads(r.read() or b"null")
    conn.close()
    return out


def plain_answer(port):
    """What a plain HTTP request to the TLS port gets back (b'' when the node just closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        try:
            return s.recv(100)
        except (socket.timeout, ConnectionResetError):
            return b""


def main():
    t0 = time.time()
    fedlib.init(sys.argv[1], "simpul-https-")
    try:
        fedlib.up("national,prov-35," + NODE)
        port = switch_to_https(os.path.join(fedlib.T, "certs"))
        ctx = ssl.create_default_context(cafile=os.path.join(fedlib.T, "certs", "ca.pem"))
        s, b = https(port, ctx, "GET", "/healthz")
        check("GET /healthz over HTTPS, the certificate verified against its CA", s == 200, (s, b))
        s, b = https(port, ctx, "POST", "/api/v1/complaints", COMPLAINT)
        check("a complaint filed over HTTPS", s == 201 and "id" in b, (s, b))
        if s == 201:
            s2, b2 = https(port, ctx, "GET", "/api/v1/complaints/" + b["id"])
            check("and read back over HTTPS", s2 == 200 and b2.get("id") == b["id"], (s2, b2))
        check("plain HTTP to the HTTPS port gets no HTTP answer", not plain_answer(port).startswith(b"HTTP/"))
        try:
            https(port, ssl.create_default_context(), "GET", "/healthz")
            refused = False
        except ssl.SSLCertVerificationError:
            refused = True
        check("a client that does not trust the CA refuses the certificate", refused)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                version, name = tls.version(), tls.getpeercert()["subject"]
        check("TLS 1.2 or 1.3 with the configured certificate", version in ("TLSv1.2", "TLSv1.3") and
              (("commonName", "localhost"),) in name, (version, name))
    finally:
        fedlib.cleanup()
    return fedlib.tally(t0)


if __name__ == "__main__":
    sys.exit(main())
