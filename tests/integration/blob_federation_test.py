#!/usr/bin/env python3
"""Attachments across the federation, on real simpul processes (deploy/federation.sh).

    blob_federation_test.py SIMPUL_BINARY BLOB_PROBE_BINARY

Kota Madiun takes a public and a confidential complaint with attachments and dispositions both to
Dinas PUPR (its OPD). Then:
- the OPD reads both attachments (the confidential one with its officer token), national the
  public one: the bytes are those uploaded, fetched from Madiun and kept in the reader's own blob
  store (served again with Madiun stopped);
- national cannot get the confidential one, Kota Pekalongan (not handling it) gets neither, and
  none of them stores any of its bytes;
- Open311's media_url, asked at the OPD and at national, is an absolute URL on that node that
  serves the bytes;
- on Madiun's peer socket (blob_probe): a signed request of an entitled node gets the bytes
  sealed to it (no plaintext on the wire); a node not entitled, a forged signature, an unknown
  node, a malformed request, an attachment of another complaint are refused, and the unknown and
  malformed ones are counted in /api/v1/status.
"""
import base64
import hashlib
import os
import random
import re
import subprocess
import sys
import time
import json
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fedlib  # noqa: E402
from fedlib import FAILS, PORTS, check, req, status_at, token, wait_for  # noqa: E402

SIMPUL = os.path.abspath(sys.argv[1])
PROBE = os.path.abspath(sys.argv[2])
NODES = "national,prov-35,prov-33,kota-3577,kota-3375,opd-3577-pupr"
T = fedlib.init(SIMPUL, "simpul-blobs-")
TOK = {}
SEED = int(os.environ.get("SP_TEST_SEED", time.time_ns() % 10**9))
R = random.Random(SEED)


def blob(n, marker):
    return marker.encode() + bytes(R.randrange(256) for _ in range(n))


def file_with(privacy, files):
    body = {"title": "Lampu jalan mati", "body": "Tiang lampu roboh di Jl. Pahlawan.",
            "category": "infrastruktur/pju", "region": "35.77", "privacy": privacy,
            "attachments": [{"name": name, "media_type": mt, "data": base64.b64encode(data).decode()}
                            for name, mt, data in files]}
    s, b, _ = req("kota-3577", "POST", "/api/v1/complaints", body)
    if not check("%s complaint with attachments filed" % privacy, s == 201, (s, b)):
        raise SystemExit(1)
    cid = b["id"]
    for action in ({"action": "verify"}, {"action": "disposition", "by_rule": True}):
        s, b, _ = req("kota-3577", "POST", "/api/v1/complaints/%s/actions" % cid, action, token=TOK["madiun"])
        check("%s %s" % (action["action"], cid), s == 200, (s, b))
    return cid


def path(cid, data):
    return "/api/v1/complaints/%s/attachments/%s" % (cid, hashlib.sha256(data).hexdigest())


def get(node, cid, data, tok=None):
    s, body, h = req(node, "GET", path(cid, data), token=tok, raw=True)
    return s, body, h


def stored(node, data):
    sha = hashlib.sha256(data).hexdigest()
    return os.path.exists(os.path.join(T, node, "data", "blobs", sha[:2], sha))


def in_files(node, needle):
    for d, _, files in os.walk(os.path.join(T, node)):
        for f in files:
            try:
                if needle in open(os.path.join(d, f), "rb").read():
                    return True
            except OSError:
                pass
    return False


def setup():
    fedlib.up(NODES)
    TOK["madiun"] = token("kota-3577", "madiun-admin", "admin-koordinator")
    TOK["pupr"] = token("opd-3577-pupr", "pupr-admin", "admin-penghubung")
    TOK["pusat"] = token("national", "pusat", "admin-pusat")
    TOK["pekalongan"] = token("kota-3375", "pekalongan-admin", "admin-koordinator")


def test_handling_nodes_fetch(pub, conf, photo, doc, secret):
    check("the OPD has the complaints", wait_for(lambda: status_at("opd-3577-pupr", pub) == "dispositioned"
                                                 and status_at("opd-3577-pupr", conf) == "dispositioned"))
    check("national has the public complaint", wait_for(lambda: status_at("national", pub) == "dispositioned"))
    check("the OPD stores no attachment before a read", not stored("opd-3577-pupr", photo))
    s, data, h = get("opd-3577-pupr", pub, photo)
    check("the OPD serves the public attachment, fetched from the intake node",
          s == 200 and data == photo and h["Content-Type"] == "image/jpeg", (s, data[:200]))
    check("... and keeps it in its own blob store", stored("opd-3577-pupr", photo))
    s, data, _ = get("opd-3577-pupr", pub, doc)
    check("the OPD serves the second attachment", s == 200 and data == doc, (s, data[:200]))
    s, data, _ = get("opd-3577-pupr", conf, secret)
    check("confidential attachment at the OPD without a token: 401", s == 401, (s, data[:200]))
    s, data, _ = get("opd-3577-pupr", conf, secret, TOK["pupr"])
    check("the OPD's officer gets the confidential attachment (the OPD holds its key)",
          s == 200 and data == secret, (s, data[:200]))
    s, data, _ = get("national", pub, photo)
    check("national (not a peer of the intake node) gets the public attachment", s == 200 and data == photo,
          (s, data[:200]))
    check("... and keeps it", stored("national", photo))
    s, b, _ = req("opd-3577-pupr", "GET", "/api/v1/complaints/" + pub)
    urls = [a.get("url", "") for a in b.get("content", {}).get("attachments", [])] if s == 200 else []
    check("the complaint read at the OPD links its attachments there",
          len(urls) == 2 and all(u.startswith("http://127.0.0.1:%d/" % PORTS["opd-3577-pupr"]) for u in urls), b)
    if urls:
        with urllib.request.urlopen(urls[0], timeout=20) as r:
            check("... and the link serves the bytes", r.read() in (photo, doc))
    wait_for(lambda: status_at("kota-3375", pub))  # Jawa Tengah's kota gets it by replication
    s, b, _ = req("kota-3375", "GET", "/api/v1/complaints/" + pub)
    check("a node that cannot hand them out gives no link",
          s == 200 and all("url" not in a for a in b.get("content", {}).get("attachments", [])), b)


def test_others_refused(pub, conf, photo, secret):
    check("national has the confidential complaint", wait_for(lambda: status_at("national", conf) is not None))
    s, data, _ = get("national", conf, secret, TOK["pusat"])
    check("national's admin cannot get the confidential attachment (no key): 403", s == 403, (s, data[:200]))
    check("kota-3375 has the complaints", wait_for(lambda: status_at("kota-3375", pub) and status_at("kota-3375", conf)))
    s, data, _ = get("kota-3375", pub, photo)
    check("a node not handling the complaint does not fetch its attachment: 404", s == 404, (s, data[:200]))
    s, data, _ = get("kota-3375", conf, secret, TOK["pekalongan"])
    check("... nor a confidential one: 403", s == 403, (s, data[:200]))
    s, data, _ = get("opd-3577-pupr", pub, b"not an attachment of it")
    check("an attachment the complaint does not name: 404", s == 404, (s, data[:200]))
    for node in ("national", "prov-35", "prov-33", "kota-3375"):
        check("%s stores no byte of the confidential attachment" % node,
              not stored(node, secret) and not in_files(node, secret[:24]))
    check("%s stores no copy of the public attachment" % "kota-3375", not stored("kota-3375", photo))


def test_open311_media_url(pub, photo):
    for node in ("opd-3577-pupr", "national"):
        s, b, _ = req(node, "GET", "/open311/v2/requests/%s.json" % pub)
        url = b[0].get("media_url", "") if s == 200 else ""
        check("Open311 media_url at %s is an absolute URL on that node" % node,
              url.startswith("http://127.0.0.1:%d/" % PORTS[node]), b)
        if url:
            with urllib.request.urlopen(url, timeout=20) as r:
                check("... and serves the bytes", r.status == 200 and r.read() == photo)
    s, b, _ = req("kota-3375", "GET", "/open311/v2/requests/%s.json" % pub)
    check("no media_url where the attachment cannot be had (present and empty, as the spec has it)",
          s == 200 and "media_url" in b[0] and b[0]["media_url"] is None, b)


def peer_address(node):
    with open(os.path.join(T, node, "node.yaml")) as f:
        return re.search(r"peer: (\S+)", f.read()).group(1)


def probe(mode, frm, cid, data, keys_of=None):
    sha = data if isinstance(data, str) else hashlib.sha256(data).hexdigest()
    out = subprocess.run([PROBE, mode, peer_address("kota-3577"), "kota-3577", frm,
                          os.path.join(T, keys_of or frm, "keys"), cid, sha],
                         capture_output=True, text=True, timeout=60)
    try:
        return json.loads(out.stdout)
    except ValueError:
        return {"error": "probe failed", "stderr": out.stderr}


def server_counts():
    s, b, _ = req("kota-3577", "GET", "/api/v1/status")
    return b.get("server", {}) if s == 200 else {}


def test_serving_side(pub, conf, photo, secret):
    before = server_counts()
    r = probe("signed", "opd-3577-pupr", conf, secret)
    check("a signed request of the handling OPD gets the bytes, sealed to it",
          r.get("error") == "" and r.get("sha256") == hashlib.sha256(secret).hexdigest()
          and r.get("plaintext_on_wire") is False, r)
    r = probe("signed", "kota-3375", pub, photo)
    check("a node not handling the complaint: forbidden", r.get("error") == "forbidden", r)
    r = probe("signed", "national", conf, secret)
    check("national, for a confidential attachment: forbidden", r.get("error") == "forbidden", r)
    r = probe("signed", "opd-3577-pupr", pub, secret)
    check("an attachment of another complaint: not_found", r.get("error") == "not_found", r)
    r = probe("signed", "national", pub, photo, keys_of="kota-3375")
    check("signed with another node's key: bad_signature", r.get("error") == "bad_signature", r)
    r = probe("forged", "opd-3577-pupr", pub, photo)
    check("a forged signature: bad_signature", r.get("error") == "bad_signature", r)
    r = probe("signed", "kota-9999", pub, photo, keys_of="kota-3375")
    check("a node the federation does not know: unknown_node", r.get("error") == "unknown_node", r)
    r = probe("garbage", "kota-3375", pub, photo)
    check("a malformed request: malformed", r.get("error") == "malformed", r)
    after = server_counts()
    check("unknown requesters are counted (3)", after.get("unknown_peer", 0) - before.get("unknown_peer", 0) == 3,
          (before, after))
    check("malformed requests are counted (1)", after.get("malformed", 0) - before.get("malformed", 0) == 1,
          (before, after))
    s, b, _ = req("kota-3577", "GET", "/healthz")
    check("the intake node is fine after all that", s == 200, b)


def test_cache_survives_the_intake_node(pub, photo, doc):
    fedlib.fed("stop", T, "kota-3577")
    s, data, _ = get("opd-3577-pupr", pub, photo)
    check("with the intake node down, the OPD still serves its copy", s == 200 and data == photo, (s, data[:200]))
    s, data, _ = get("national", pub, doc)
    check("... and a copy national never fetched: 503", s == 503, (s, data[:200]))


def test_outcomes_counted():
    s, m, _ = req("kota-3577", "GET", "/metrics")
    def count(outcome):
        found = re.search(r'simpul_blob_requests_total\{outcome="%s"\} (\d+)' % outcome, m or "")
        return int(found.group(1)) if found else -1
    check("the intake node counts what it served and each refusal in /metrics",
          s == 200 and count("served") >= 3 and count("forbidden") >= 1 and count("bad_signature") >= 1,
          [l for l in m.splitlines() if "blob_requests" in l])


def main():
    t0 = time.time()
    print("seed", SEED)
    try:
        setup()
        photo, doc = blob(300000, "FOTO%08d" % R.randrange(10**8)), blob(5000, "DOK")
        secret = blob(20000, "RAHASIA%08d" % R.randrange(10**8))
        pub = file_with("public", [("lampu.jpg", "image/jpeg", photo), ("catatan.txt", "text/plain", doc)])
        conf = file_with("confidential", [("bukti.pdf", "application/pdf", secret)])
        test_handling_nodes_fetch(pub, conf, photo, doc, secret)
        test_others_refused(pub, conf, photo, secret)
        test_open311_media_url(pub, photo)
        test_serving_side(pub, conf, photo, secret)
        test_outcomes_counted()
        test_cache_survives_the_intake_node(pub, photo, doc)
    finally:
        fedlib.cleanup()
    return fedlib.tally(t0)


if __name__ == "__main__":
    sys.exit(main())
