#!/usr/bin/env python3
"""Privacy end to end, on a federation of real simpul processes.

    privacy_test.py SIMPUL_BINARY

Files public, anonymous and confidential complaints (and an SMS) at Kota Madiun with unique
marker strings in the reporter's name, phone and NIK and in the confidential text, walks them
through their lifecycle (verify, disposition to the OPD, follow-up, a "bukan wewenang" reroute to
Kota Blitar, completion, feedback), then:
- checks what each reader gets over HTTP: the handling agency reads the confidential text, a
  non-assigned agency and national do not; the reroute gave the new agency access; no reader
  ever sees an anonymous reporter's identity;
- stops every node and scans every file of every node — raw bytes, every key and value of every
  RocksDB column family decoded with RocksDB's own `ldb` (blocks are compressed, so a plain grep
  can miss), the WAL, the logs — and the integrator stream: the identity markers and the
  confidential text must appear nowhere; the public text must appear (the scan works).
"""
import json
import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fedlib  # noqa: E402
from fedlib import FAILS, STREAMS as STREAM, check, status_at, token, wait_for  # noqa: E402

SIMPUL = os.path.abspath(sys.argv[1])
NODES = "national,prov-35,prov-33,kota-3577,kota-3572,opd-3577-pupr"
T = fedlib.init(SIMPUL, "simpul-privacy-")
TOK = {}
R = random.Random()
SEED = int(os.environ.get("SP_TEST_SEED", time.time_ns() % 10**9))
R.seed(SEED)


def req(node, method, path, body=None, token=None):
    """(status, JSON) of one request."""
    s, b, _ = fedlib.req(node, method, path, body, token=token)
    return s, b


def act(node, cid, tok, body, expect=200):
    s, b = req(node, "POST", "/api/v1/complaints/%s/actions" % cid, body, token=tok)
    check("%s %s at %s" % (body["action"], cid, node), s == expect, (s, b))
    return b


def marker(kind):
    return "%s%08d" % (kind, R.randrange(10**8))


def digits(n):
    return "".join(R.choice("0123456789") for _ in range(n))


def setup():
    fedlib.up(NODES)
    TOK["madiun"] = token("kota-3577", "madiun-admin", "admin-koordinator")
    TOK["app"] = token("kota-3577", "madiun-app", "reporter")
    TOK["pupr"] = token("opd-3577-pupr", "pupr-admin", "admin-penghubung")
    TOK["blitar"] = token("kota-3572", "blitar-admin", "admin-koordinator")
    TOK["pusat"] = token("national", "pusat", "admin-pusat")


def file_all():
    """Three web complaints and one SMS, each with its own markers."""
    secret = {}  # marker -> what it is; none of these may be stored anywhere in clear
    public = {}
    cases = {}
    for privacy in ("public", "anonymous", "confidential"):
        name, phone, nik = marker("NAMA"), "0812" + digits(8), "3577" + digits(12)
        text = marker("TEKS")
        body = {"title": "Lampu jalan " + privacy, "body": "Lampu PJU mati " + text,
                "category": "infrastruktur/pju", "region": "35.77", "privacy": privacy,
                "reporter": {"name": name, "phone": phone, "nik": nik}}
        s, b = req("kota-3577", "POST", "/api/v1/complaints", body)
        if not check("filed %s complaint" % privacy, s == 201, (s, b)):
            raise SystemExit(1)
        for m in (name, phone, nik):
            secret[m] = privacy + " identity"
        (secret if privacy == "confidential" else public)[text] = privacy + " text"
        cases[privacy] = {"id": b["id"], "name": name, "phone": phone, "nik": nik, "text": text}
    sms_from = "0857" + digits(8)
    s, b = req("kota-3577", "POST", "/api/v1/intake/sms",
               {"from": sms_from, "text": "KotaMadiun Jalan rusak di Jl. Cokroaminoto"})
    check("filed SMS complaint", s == 201, (s, b))
    secret[sms_from] = "SMS sender"
    return cases, secret, public


def lifecycle(cases):
    fu = marker("TINDAK")  # the follow-up text of the confidential complaint is sealed too
    for privacy, c in cases.items():
        cid = c["id"]
        act("kota-3577", cid, TOK["madiun"], {"action": "verify"})
        act("kota-3577", cid, TOK["madiun"], {"action": "disposition", "by_rule": True})
        wait_for(lambda: status_at("opd-3577-pupr", cid) == "dispositioned")
        text = ("Petugas menuju lokasi " + fu) if privacy == "confidential" else "Petugas menuju lokasi"
        act("opd-3577-pupr", cid, TOK["pupr"], {"action": "follow-up", "text": text})
    conf = cases["confidential"]["id"]
    # "Bukan wewenang": the OPD hands the confidential one back; Madiun sends it to Kota Blitar.
    act("opd-3577-pupr", conf, TOK["pupr"], {"action": "reroute", "reason": "bukan wewenang"})
    wait_for(lambda: status_at("kota-3577", conf) == "rerouted")
    act("kota-3577", conf, TOK["madiun"], {"action": "disposition", "agency": "kota-3572"})
    wait_for(lambda: status_at("kota-3572", conf) == "dispositioned")
    act("kota-3572", conf, TOK["blitar"], {"action": "complete", "summary": "Sudah ditangani"})
    for privacy in ("public", "anonymous"):
        act("opd-3577-pupr", cases[privacy]["id"], TOK["pupr"], {"action": "complete", "summary": "Lampu diganti"})
    for c in cases.values():
        wait_for(lambda: status_at("kota-3577", c["id"]) == "completed")
        act("kota-3577", c["id"], TOK["app"], {"action": "feedback", "satisfied": True, "rating": 5})
    for c in cases.values():
        check("%s resolved, visible at national" % c["id"],
              wait_for(lambda: status_at("national", c["id"]) == "resolved", 30))
    return fu


def shows(node, cid, needle, tok=None):
    s, b = req(node, "GET", "/api/v1/complaints/" + cid, token=tok)
    return s == 200 and needle in json.dumps(b)


def check_reads(cases):
    pub, anon, conf = cases["public"], cases["anonymous"], cases["confidential"]
    check("public text is public, at national", shows("national", pub["id"], pub["text"]))
    check("confidential text is hidden from the public at national", not shows("national", conf["id"], conf["text"]))
    check("confidential text is hidden from national's admin", not shows("national", conf["id"], conf["text"], TOK["pusat"]))
    check("the handling agency (after reroute) reads the confidential text", shows("kota-3572", conf["id"], conf["text"], TOK["blitar"]))
    check("the first handling agency read it too", shows("opd-3577-pupr", conf["id"], conf["text"], TOK["pupr"]))
    check("a non-assigned agency cannot read the confidential text", not shows("kota-3572", pub["id"], conf["text"], TOK["blitar"]))
    check("the handling agency sees a public complaint's reporter", shows("opd-3577-pupr", pub["id"], pub["name"], TOK["pupr"]))
    check("the handling agency never sees an anonymous reporter", not shows("opd-3577-pupr", anon["id"], anon["name"], TOK["pupr"]))
    check("the intake node sees the anonymous reporter (it must reply)", shows("kota-3577", anon["id"], anon["name"], TOK["madiun"]))
    for node in ("national", "prov-35", "kota-3572", "opd-3577-pupr"):
        check("no identity for the public at " + node,
              not any(shows(node, c["id"], c["name"]) or shows(node, c["id"], c["nik"]) for c in cases.values()))


def stream_dump():
    """Everything national's integrator stream carries, as JSON lines."""
    s, r = STREAM["national"]
    out = subprocess.run([SIMPUL, "tail", "--stream", s, "--replay", r, "--json", "--idle-exit", "1500"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout


def check_storage(secret, public, stream):
    for m, what in secret.items():
        check("%s marker not in the stream" % what, m not in stream)
    everywhere = b""
    for node in NODES.split(","):
        decoded, cfs = fedlib.ldb_dump(os.path.join(T, node, "data"))
        raw = fedlib.scan_files(os.path.join(T, node))
        leaked = [what for m, what in secret.items() if m.encode() in decoded or m.encode() in raw]
        check("%s: no identity or confidential marker in any file or decoded record (%d column families)"
              % (node, len(cfs)), not leaked, leaked)
        everywhere += decoded
    found = [what for m, what in public.items() if m.encode() in everywhere]
    check("the scan sees public texts in decoded records (it would see a leak)", len(found) == len(public), found)


def main():
    t0 = time.time()
    print("seed", SEED)
    try:
        setup()
        cases, secret, public = file_all()
        secret[lifecycle(cases)] = "confidential follow-up"
        check_reads(cases)
        stream = stream_dump()
        check("the stream carried the complaints", cases["public"]["text"] in stream, stream[:300])
        fedlib.down()
        check_storage(secret, public, stream)
    finally:
        fedlib.cleanup()
    return fedlib.tally(t0)


if __name__ == "__main__":
    sys.exit(main())
