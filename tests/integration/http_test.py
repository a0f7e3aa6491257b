#!/usr/bin/env python3
"""HTTP API against real simpul processes on loopback (deploy/federation.sh).

    http_test.py SIMPUL_BINARY

Six nodes (national, Jawa Timur, Jawa Tengah, Kota Madiun, Kota Pekalongan, Dinas PUPR Madiun).
Checks every route, every intake channel (web JSON, SMS, Open311) with each privacy level, the
privacy rules of reads, every error (bad JSON, missing field, unknown category/region, oversized
body, wrong token/role/agency, wrong state), tokens created and revoked while nodes run, a
complaint filed in Madiun and handled through to "resolved" (tuntas) with the state visible at
national, a "bukan wewenang" reroute, and that a restart keeps everything.
"""
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fedlib  # noqa: E402
from fedlib import FAILS, FED, ENV, PORTS, check, fed, req, status_at, token, wait_for  # noqa: E402

SIMPUL = os.path.abspath(sys.argv[1])
NODES = "national,prov-35,prov-33,kota-3577,kota-3375,opd-3577-pupr"
T = fedlib.init(SIMPUL, "simpul-http-")
TOK = {}


def oversized(node, path, length):
    """Announce a body over the limit, send only its first bytes: the answer comes first."""
    with socket.create_connection(("127.0.0.1", PORTS[node]), timeout=20) as c:
        c.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Content-Length: %d\r\n\r\n{" % (path, length)).encode())
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def expect_continue(node):
    """curl's Expect: 100-continue: the node says 100 before the body is sent, then answers."""
    body = json.dumps({"body": "Lampu mati", "category": "umum", "region": "35.77"}).encode()
    with socket.create_connection(("127.0.0.1", PORTS[node]), timeout=20) as c:
        c.sendall(("POST /api/v1/complaints HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body)).encode())
        first = c.recv(4096)
        c.sendall(body)
        rest = b""
        while b'"}' not in rest:
            chunk = c.recv(65536)
            if not chunk:
                break
            rest += chunk
    return first, rest


def act(node, cid, tok, body):
    return req(node, "POST", "/api/v1/complaints/%s/actions" % cid, body, token=tok)


def file_web(node="kota-3577", **kw):
    body = {"title": "Lampu jalan mati", "body": "Lampu PJU di Jl. Pahlawan mati sejak Senin.",
            "category": "infrastruktur/pju", "region": "35.77", "privacy": "public",
            "reporter": {"name": "Siti Aminah", "phone": "081234567890", "nik": "3577014101900001"}}
    body.update(kw)
    s, b, _ = req(node, "POST", "/api/v1/complaints", body)
    if not check("web complaint filed (%s)" % body["privacy"], s == 201 and "id" in b, (s, b)):
        raise SystemExit(1)
    return b


def setup():
    fedlib.up(NODES)
    TOK["madiun"] = token("kota-3577", "madiun-admin", "admin-koordinator")
    TOK["madiun-app"] = token("kota-3577", "madiun-app", "reporter")
    TOK["pupr"] = token("opd-3577-pupr", "pupr-1", "admin-penghubung")
    TOK["pusat"] = token("national", "pusat", "admin-pusat")
    TOK["pekalongan"] = token("kota-3375", "pekalongan-admin", "admin-koordinator")


def test_health_status_metrics():
    s, b, _ = req("kota-3577", "GET", "/healthz")
    check("healthz 200", s == 200 and b["status"] == "ok", b)
    s, b, _ = req("national", "GET", "/api/v1/status")
    check("status shows the node and its peers", s == 200 and b["node"] == "national" and b["peers"], b)
    s, b, _ = req("kota-3577", "GET", "/metrics")
    check("metrics in Prometheus text", s == 200 and "# TYPE simpul_http_requests_total counter" in b
          and 'simpul_peer_up{peer="prov-35"}' in b, b[:300])


def test_web_public_and_attachment():
    photo = bytes(range(256)) * 40
    b = file_web(attachments=[{"name": "lampu.jpg", "media_type": "image/jpeg",
                               "data": base64.b64encode(photo).decode()}])
    cid = b["id"]
    check("201 carries a tracking number and a URL", re.match(r"^3577-\d+[A-Z]$", cid) and b["url"].endswith(cid), b)
    s, pub, _ = req("kota-3577", "GET", "/api/v1/complaints/" + cid)
    check("public read shows the text", s == 200 and pub["content"]["body"].startswith("Lampu PJU"), pub)
    check("public read never shows the identity", "reporter" not in pub and "Siti" not in json.dumps(pub), pub)
    s, off, _ = req("kota-3577", "GET", "/api/v1/complaints/" + cid, token=TOK["madiun"])
    check("intake officer sees the identity", off.get("reporter", {}).get("name") == "Siti Aminah", off)
    att = pub["content"]["attachments"][0]
    s, data, h = req("kota-3577", "GET", att["url"].split(str(PORTS["kota-3577"]), 1)[1], raw=True)
    check("attachment served from its blob", s == 200 and data == photo and h["Content-Type"] == "image/jpeg", s)
    s, _, _ = req("kota-3577", "GET", "/api/v1/complaints/%s/attachments/%s" % (cid, "0" * 64))
    check("unknown attachment 404", s == 404)
    blob = os.path.join(T, "kota-3577", "data", "blobs", att["sha256"][:2], att["sha256"])
    check("blob stored content-addressed", os.path.exists(blob))
    return cid


def test_anonymous_and_confidential():
    anon = file_web(privacy="anonymous")["id"]
    conf = file_web(privacy="confidential", title="Pungli", body="Pungutan liar di kantor kelurahan.",
                    category="umum", region="35")["id"]
    s, b, _ = req("kota-3577", "GET", "/api/v1/complaints/" + anon, token=TOK["madiun"])
    check("anonymous: the intake node still reaches the reporter", b.get("reporter", {}).get("phone") == "081234567890", b)
    s, b, _ = req("kota-3577", "GET", "/api/v1/complaints/" + conf)
    check("confidential: public sees metadata only",
          s == 200 and b["content_visible"] is False and "content" not in b and b["category"] == "umum"
          and "Pungutan" not in json.dumps(b), b)
    s, b, _ = req("kota-3577", "GET", "/api/v1/complaints/" + conf, token=TOK["madiun"])
    check("confidential: intake officer opens it", b.get("content", {}).get("title") == "Pungli"
          and b.get("reporter", {}).get("name") == "Siti Aminah", b)
    wait_for(lambda: status_at("national", conf))
    s, b, _ = req("national", "GET", "/api/v1/complaints/" + conf, token=TOK["pusat"])
    check("confidential at national: no key, metadata only", s == 200 and "content" not in b
          and "reporter" not in b and b["status"] == "filed", b)
    wait_for(lambda: status_at("national", anon))
    s, b, _ = req("national", "GET", "/api/v1/complaints/" + anon, token=TOK["pusat"])
    check("anonymous at national: text yes, identity never", "content" in b and "reporter" not in b, b)
    raw = subprocess.run([SIMPUL, "log", "dump", "--data", os.path.join(T, "kota-3577", "data")],
                         capture_output=True)
    check("no identity in clear anywhere in the log", b"Siti Aminah" not in raw.stdout
          and b"3577014101900001" not in raw.stdout and b"081234567890" not in raw.stdout)
    return conf


def test_lifecycle_to_resolved():
    cid = file_web(privacy="confidential")["id"]
    s, b, _ = act("kota-3577", cid, TOK["madiun"], {"action": "verify", "note": "lengkap"})
    check("verify 200", s == 200 and b["status"] == "verified", b)
    s, b, _ = act("kota-3577", cid, TOK["madiun"], {"action": "verify"})
    check("verify twice: 409 with the fold's verdict", s == 409 and b["verdict"] == "WRONG_STATUS"
          and b["error"] == "conflict", b)
    s, b, _ = act("kota-3577", cid, TOK["madiun"], {"action": "disposition", "by_rule": True})
    check("disposition by routing rule to the OPD", s == 200 and b["agency"] == "opd-3577-pupr"
          and b["rule"] == "infrastruktur/pju@35.77" and b["content_key_shared"], b)
    s, b, _ = act("kota-3577", cid, TOK["madiun"], {"action": "follow-up", "text": "x"})
    check("follow-up by another agency: 403", s == 403 and b["verdict"] == "NOT_ASSIGNED", b)
    wait_for(lambda: status_at("opd-3577-pupr", cid) == "dispositioned")
    s, b, _ = req("opd-3577-pupr", "GET", "/api/v1/complaints/" + cid, token=TOK["pupr"])
    check("the OPD opens the confidential complaint with the wrapped key",
          b.get("content", {}).get("title") == "Lampu jalan mati" and b.get("reporter", {}).get("name") == "Siti Aminah", b)
    s, b, _ = act("opd-3577-pupr", cid, TOK["pupr"], {"action": "follow-up", "text": "Tim meninjau lokasi"})
    check("follow-up at the OPD", s == 200 and b["status"] == "in-progress", b)
    s, b, _ = act("opd-3577-pupr", cid, TOK["pupr"], {"action": "complete", "summary": "Lampu diganti"})
    check("complete at the OPD", s == 200 and b["status"] == "completed", b)
    wait_for(lambda: status_at("kota-3577", cid) == "completed")
    s, b, _ = act("kota-3577", cid, TOK["madiun"], {"action": "feedback", "satisfied": True})
    check("feedback with an admin token: 403 (role)", s == 403 and b["error"] == "forbidden", b)
    s, b, _ = act("kota-3577", cid, TOK["madiun-app"], {"action": "feedback", "satisfied": True, "rating": 5})
    check("feedback satisfied => resolved (tuntas)", s == 200 and b["status"] == "resolved", b)
    check("resolved visible at national", wait_for(lambda: status_at("national", cid) == "resolved"))
    s, b, _ = req("national", "GET", "/api/v1/complaints/" + cid)
    kinds = [e["event"] for e in b["timeline"]]
    check("national has the whole timeline", kinds[0] == "filed" and kinds[-1] == "feedback" and "follow-up" in kinds, kinds)
    check("confidential timeline texts hidden from the public", "Tim meninjau" not in json.dumps(b), b)
    s, b, _ = req("opd-3577-pupr", "GET", "/api/v1/complaints/" + cid, token=TOK["pupr"])
    texts = [e.get("text") for e in b["timeline"] if e["event"] == "follow-up"]
    check("the agency reads its sealed follow-up", texts == ["Tim meninjau lokasi"], b["timeline"])
    return cid


def test_reroute_bukan_wewenang():
    cid = file_web()["id"]
    act("kota-3577", cid, TOK["madiun"], {"action": "verify"})
    act("kota-3577", cid, TOK["madiun"], {"action": "disposition", "agency": "opd-3577-pupr"})
    wait_for(lambda: status_at("opd-3577-pupr", cid) == "dispositioned")
    s, b, _ = act("opd-3577-pupr", cid, TOK["pupr"], {"action": "reroute", "suggested_agency": "prov-35"})
    check("reroute 'bukan wewenang'", s == 200 and b["status"] == "rerouted", b)
    wait_for(lambda: status_at("kota-3577", cid) == "rerouted")
    s, b, _ = req("kota-3577", "GET", "/api/v1/complaints/" + cid)
    ev = [e for e in b["timeline"] if e["event"] == "rerouted"]
    check("reroute reason recorded", ev and ev[0]["reason"] == "bukan wewenang", b["timeline"])
    s, b, _ = act("kota-3577", cid, TOK["madiun"], {"action": "disposition", "agency": "nowhere"})
    check("disposition to an unknown agency: 422", s == 422, b)
    s, b, _ = act("kota-3577", cid, TOK["madiun"], {"action": "raise-privacy", "privacy": "confidential"})
    check("raise privacy to confidential", s == 200, b)
    s, b, _ = req("kota-3577", "GET", "/api/v1/complaints/" + cid)
    check("after the raise the public sees metadata only", "content" not in b and b["privacy"] == "confidential", b)
    s, b, _ = act("kota-3577", cid, TOK["madiun"], {"action": "raise-privacy", "privacy": "anonymous"})
    check("privacy never goes down: 409", s == 409 and b["verdict"] == "NOT_A_RAISE", b)


def test_sms():
    s, b, _ = req("kota-3375", "POST", "/api/v1/intake/sms", {"from": "+6281211112222", "text": "pekalongankota Jalan rusak depan pasar"})
    check("SMS (JSON, keyword any case) 201 with a reply", s == 201 and b["id"].startswith("3375-")
          and b["id"] in b["reply"], b)
    s2, b2, _ = req("kota-3375", "GET", "/api/v1/complaints/" + b["id"], token=TOK["pekalongan"])
    check("SMS sender number sealed, readable by the intake officer", b2.get("reporter", {}).get("phone") == "+6281211112222"
          and b2["channel"] == "sms" and b2["region"] == "33.75", b2)
    s, b, _ = req("kota-3375", "GET", "/api/v1/complaints/" + b["id"])
    check("SMS sender hidden from the public", "6281211112222" not in json.dumps(b), b)
    s, b, _ = req("kota-3577", "POST", "/api/v1/intake/sms", "from=081233334444&text=KOTASOLOKADUAN+x",
                  ctype="application/x-www-form-urlencoded")
    check("SMS unknown keyword: 422 with a helpful reply", s == 422 and b["error"] == "unknown_keyword"
          and "KATA KUNCI" in b["reply"], b)
    s, b, _ = req("kota-3577", "POST", "/api/v1/intake/sms", "from=081233334444&text=KotaPekalongan+%23anonim+Sampah+menumpuk",
                  ctype="application/x-www-form-urlencoded")
    check("SMS form with #anonim", s == 201 and b["privacy"] == "anonymous", b)
    s, b, _ = req("kota-3577", "POST", "/api/v1/intake/sms", {"text": "KotaMadiun x"})
    check("SMS without sender: 400 missing_field", s == 400 and b["error"] == "missing_field", b)
    s, b, _ = req("kota-3577", "POST", "/api/v1/intake/sms", {"from": "1", "text": "K " + "a" * 20000})
    check("SMS body over the route's limit: 413", s == 413 and b["error"] == "too_large", b)


def test_open311():
    s, b, _ = req("kota-3577", "GET", "/open311/v2/services.json")
    codes = [x["service_code"] for x in b] if s == 200 else []
    check("Open311 services = the routing rules' categories", "infrastruktur/pju" in codes and "umum" in codes
          and all(x["type"] == "realtime" for x in b), b)
    form = "service_code=infrastruktur%2Fpju&lat=-7.63&long=111.52&description=Lampu+mati&first_name=Budi&email=budi%40example.id"
    s, b, _ = req("kota-3577", "POST", "/open311/v2/requests.json", form, ctype="application/x-www-form-urlencoded")
    check("Open311 POST answers [{service_request_id}]", s == 200 and isinstance(b, list) and b[0]["service_request_id"].startswith("3577-"), b)
    rid = b[0]["service_request_id"]
    s, b, _ = req("kota-3577", "GET", "/open311/v2/requests/%s.json" % rid)
    check("Open311 GET one request", s == 200 and b[0]["service_request_id"] == rid and b[0]["status"] == "open"
          and b[0]["description"] == "Lampu mati" and abs(b[0]["lat"] + 7.63) < 1e-6, b)
    s, b, _ = req("kota-3577", "GET", "/open311/v2/requests.json?service_request_id=%s" % rid)
    check("Open311 GET by ids", s == 200 and len(b) == 1, b)
    s, b, _ = req("kota-3577", "GET", "/open311/v2/requests.json?service_code=infrastruktur/pju&status=open")
    check("Open311 GET list with filters", s == 200 and any(x["service_request_id"] == rid for x in b), b)
    s, b, _ = req("kota-3577", "POST", "/open311/v2/requests.json", "lat=1&long=2&description=x", ctype="application/x-www-form-urlencoded")
    check("Open311 error format: [{code, description}]", s == 400 and b[0]["code"] == 400 and "service_code" in b[0]["description"], b)
    s, b, _ = req("kota-3577", "POST", "/open311/v2/requests.json", "service_code=nope&lat=1&long=2&description=x",
                  ctype="application/x-www-form-urlencoded")
    check("Open311 unknown service: 400", s == 400 and b[0]["code"] == 400, b)
    s, b, _ = req("kota-3577", "GET", "/open311/v2/requests/3577-999999.json")
    check("Open311 unknown request: 404 in its format", s == 404 and b[0]["code"] == 404, b)


COMPLAINT = {"title": "Jalan berlubang", "body": "Lubang besar di Jl. Diponegoro.",
             "category": "infrastruktur/pju", "region": "35.77", "privacy": "public"}


def file_keyed(key, path="/api/v1/complaints", body=None, ctype=None):
    return req("kota-3577", "POST", path, body if body is not None else COMPLAINT, ctype=ctype,
               headers={"Idempotency-Key": key})


def test_idempotent_retries():
    """A retried filing with the same Idempotency-Key returns the first answer, files nothing."""
    key = "retry-%d" % os.getpid()
    s1, b1, h1 = file_keyed(key)
    check("keyed filing: 201, not marked as a replay", s1 == 201 and h1.get("Idempotent-Replayed") is None, (s1, b1))
    s2, b2, h2 = file_keyed(key)
    check("the retry: the first answer again, marked Idempotent-Replayed",
          s2 == 201 and b2["id"] == b1["id"] and b2["filed_at"] == b1["filed_at"]
          and h2.get("Idempotent-Replayed") == "true", (s2, b2))
    s3, b3, _ = file_keyed(key + "-other")
    check("another key files another complaint", s3 == 201 and b3["id"] != b1["id"], b3)
    sms = "from=081255556666&text=KotaMadiun+Sampah+di+Jl.+Kartini"
    s4, b4, _ = file_keyed(key, "/api/v1/intake/sms", sms, "application/x-www-form-urlencoded")
    s5, b5, _ = file_keyed(key, "/api/v1/intake/sms", sms, "application/x-www-form-urlencoded")
    check("keys are per route: the SMS route files its own, once", s4 == 201 and b4["id"] not in (b1["id"], b3["id"])
          and s5 == 201 and b5["id"] == b4["id"], (b4, b5))
    gw = "from=081277778888&text=KotaMadiun+Air+PDAM+keruh&message_id=gw-%d" % os.getpid()
    s6, b6, _ = req("kota-3577", "POST", "/api/v1/intake/sms", gw, ctype="application/x-www-form-urlencoded")
    s7, b7, h7 = req("kota-3577", "POST", "/api/v1/intake/sms", gw, ctype="application/x-www-form-urlencoded")
    check("the SMS gateway's message id: a redelivered text files once",
          s6 == 201 and s7 == 201 and b7["id"] == b6["id"] and h7.get("Idempotent-Replayed") == "true"
          and b7["reply"] == b6["reply"], (b6, b7))
    s, b, _ = file_keyed("x" * 256)
    check("a key over 255 characters: 400", s == 400 and b["error"] == "invalid_field" and "Idempotency-Key" in b["message"], b)
    s, b, _ = file_keyed("")
    check("an empty key: 400", s == 400 and b["error"] == "invalid_field", b)
    # the same new key from 8 clients at once: one complaint; the others get it or a 409 to retry
    import threading
    key2, answers = key + "-race", []
    def one():
        answers.append(file_keyed(key2))
    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = {b["id"] for s, b, _ in answers if s == 201}
    busy = [h.get("Retry-After") for s, b, h in answers if s == 409]
    check("8 racing retries file one complaint (the rest: the same id or 409 + Retry-After)",
          len(ids) == 1 and len(busy) + sum(1 for s, _, _ in answers if s == 201) == 8
          and all(r == "1" for r in busy), answers)
    s, b, _ = req("kota-3577", "GET", "/metrics")
    m = re.search(r"^simpul_intake_replayed_total (\d+)$", b, re.M)
    check("replays counted in /metrics", m and int(m.group(1)) >= 2, b[:200])
    return key, b1["id"]


def test_errors():
    s, b, _ = req("kota-3577", "POST", "/api/v1/complaints", "{not json", ctype="application/json")
    check("bad JSON: 400 bad_json", s == 400 and b["error"] == "bad_json" and b["message"], b)
    s, b, _ = req("kota-3577", "POST", "/api/v1/complaints", {"body": "x", "region": "35.77"})
    check("missing field: 400 names it", s == 400 and b["error"] == "missing_field" and "category" in b["message"], b)
    s, b, _ = req("kota-3577", "POST", "/api/v1/complaints", {"body": "x", "category": "pendidikan", "region": "35.77"})
    check("unknown category: 422", s == 422 and b["error"] == "unknown_category", b)
    s, b, _ = req("kota-3577", "POST", "/api/v1/complaints", {"body": "x", "category": "umum", "region": "99"})
    check("unknown region: 422", s == 422 and b["error"] == "unknown_region", b)
    first, rest = expect_continue("kota-3577")
    check("Expect: 100-continue answered before the body", first.startswith(b"HTTP/1.1 100")
          and b"201 Created" in first + rest, (first, rest))
    s, b = oversized("kota-3577", "/api/v1/complaints", 12 * 1024 * 1024 + 1)
    check("oversized body: 413 before it is read", s == 413 and b["error"] == "too_large", b)
    s, b, _ = req("kota-3577", "POST", "/api/v1/complaints", "a=b", ctype="text/plain")
    check("wrong content type: 415", s == 415, b)
    s, b, h = req("kota-3577", "DELETE", "/api/v1/complaints")
    check("wrong method: 405 with Allow", s == 405 and b["error"] == "method_not_allowed" and "POST" in h.get("Allow", ""), b)
    s, b, _ = req("kota-3577", "GET", "/api/v2/nothing")
    check("unknown route: 404 JSON", s == 404 and b["error"] == "not_found", b)
    s, b, _ = req("kota-3577", "GET", "/api/v1/complaints/3577-999999")
    check("unknown complaint: 404", s == 404, b)
    cid = file_web()["id"]
    s, b, h = act("kota-3577", cid, None, {"action": "verify"})
    check("action without token: 401", s == 401 and b["error"] == "unauthorized" and "Bearer" in h.get("WWW-Authenticate", ""), b)
    s, b, _ = act("kota-3577", cid, "spt_" + "0" * 64, {"action": "verify"})
    check("action with an unknown token: 401", s == 401, b)
    s, b, _ = act("kota-3577", cid, TOK["madiun-app"], {"action": "verify"})
    check("action with the wrong role: 403", s == 403 and b["error"] == "forbidden", b)
    s, b, _ = act("kota-3577", cid, TOK["madiun"], {"action": "fly"})
    check("unknown action: 400", s == 400, b)
    wait_for(lambda: status_at("national", cid))
    s, b, _ = act("national", cid, TOK["pusat"], {"action": "follow-up", "text": "x"})
    check("national may not follow up (wrong status/agency): 4xx, nothing written", s in (403, 409), b)
    s, st, _ = req("kota-3577", "GET", "/api/v1/complaints/" + cid)
    check("refused actions changed nothing", st["status"] == "filed" and len(st["timeline"]) == 1, st)


def test_lists_and_stats():
    s, b, _ = req("kota-3577", "GET", "/api/v1/complaints?status=filed&limit=2")
    check("list with a status filter and paging", s == 200 and b["count"] == 2 and b["next_cursor"], b)
    s, b2, _ = req("kota-3577", "GET", "/api/v1/complaints?status=filed&limit=2&cursor=" + urllib.request.quote(b["next_cursor"]))
    check("the cursor gives the next page", s == 200 and b2["items"] and b2["items"][0]["id"] not in [x["id"] for x in b["items"]], b2)
    s, b, _ = req("kota-3577", "GET", "/api/v1/complaints?agency=opd-3577-pupr")
    check("list by agency", s == 200 and all(x["holder"] == "opd-3577-pupr" for x in b["items"]) and b["items"], b)
    s, b, _ = req("kota-3577", "GET", "/api/v1/complaints?region=35&overdue=true")
    check("list overdue in a region", s == 200 and isinstance(b["items"], list), b)
    s, b, _ = req("kota-3577", "GET", "/api/v1/complaints?status=sleeping")
    check("list with a bad status: 400", s == 400, b)
    s, b, _ = req("national", "GET", "/api/v1/stats")
    check("stats at national", s == 200 and b["totals"]["filed"] >= 5 and b["status"]["resolved"] >= 1, b)
    s, b, _ = req("kota-3577", "GET", "/api/v1/stats?agency=opd-3577-pupr")
    check("stats by agency", s == 200 and b["scope"] == "agency", b)
    s, m, _ = req("kota-3577", "GET", "/metrics")
    check("metrics count intake, routes and rejects",
          re.search(r'simpul_intake_total\{channel="web"\} [1-9]', m)
          and 'simpul_http_requests_total{route="complaints_create",code="201"}' in m
          and re.search(r'simpul_http_rejects_total\{reason="bad_json"\} [1-9]', m), m[:2000])


# ---- query parameters: every route that takes some filters by each one or refuses it ----

def ids_of(node, path):
    s, b, _ = req(node, "GET", path)
    items = b.get("items", []) if isinstance(b, dict) else b if isinstance(b, list) else []
    return s, {x.get("id") or x.get("service_request_id") for x in items}, b


def refused(node, path, name, open311=False):
    s, b, _ = req(node, "GET", path)
    text = (b[0].get("description", "") if open311 and isinstance(b, list) and b else
            b.get("message", "") if isinstance(b, dict) else "")
    ok = s == 400 and "'%s'" % name in text and (open311 or b.get("error") == "invalid_field")
    check("%s -> 400 naming %s" % (path, name), ok, (s, b))


def test_query_parameters():
    general = file_web(category="umum")["id"]
    pju = file_web(channel="app")["id"]
    s, got, b = ids_of("kota-3577", "/api/v1/complaints?category=umum&limit=200")
    check("list ?category=umum: only umum", s == 200 and general in got and pju not in got
          and all(x["category"] == "umum" for x in b["items"]), b)
    s, got, b = ids_of("kota-3577", "/api/v1/complaints?category=infrastruktur&limit=200")
    check("list ?category=infrastruktur covers infrastruktur/pju", s == 200 and pju in got and general not in got, b)
    s, got, b = ids_of("kota-3577", "/api/v1/complaints?category=infra&limit=200")
    check("list ?category matches whole segments only", s == 200 and not got, b)
    s, got, b = ids_of("kota-3577", "/api/v1/complaints?channel=app&limit=200")
    check("list ?channel=app", s == 200 and pju in got and general not in got, b)
    s, got, b = ids_of("kota-3577", "/api/v1/complaints?channel=sms,app&region=35.77&limit=200")
    check("list ?channel=sms,app with a region", s == 200 and pju in got and general not in got, b)
    for q, name in (("category=Umum", "category"), ("channel=fax", "channel"), ("colour=red", "colour"),
                    ("status=filed&status=verified", "status"), ("overdue=yes", "overdue"), ("limit=5x", "limit")):
        refused("kota-3577", "/api/v1/complaints?" + q, name)
    s, b, _ = req("kota-3577", "GET", "/api/v1/stats?region=35.77&channel=app")
    s2, all_, _ = req("kota-3577", "GET", "/api/v1/stats?region=35.77")
    check("stats ?channel=app: a slice of the region's counters", s == 200 and b.get("channel") == "app"
          and 1 <= b["totals"]["filed"] < all_["totals"]["filed"], (b, all_))
    refused("kota-3577", "/api/v1/stats?category=kesehatan", "category")
    refused("kota-3577", "/api/v1/stats?channel=fax", "channel")
    s, b, _ = req("kota-3577", "GET", "/api/v1/dashboard?scope=region:35.77&channel=app")
    check("dashboard ?channel=app", s == 200 and b.get("channel") == "app" and b["summary"]["filed"] >= 1, b)
    refused("kota-3577", "/api/v1/dashboard?category=kesehatan", "category")
    s, got, b = ids_of("kota-3577", "/open311/v2/requests.json?service_code=umum&jurisdiction_id=35.77")
    check("Open311 list ?service_code=umum (jurisdiction_id accepted)", s == 200 and general in got and pju not in got, b)
    s, got, b = ids_of("kota-3577", "/open311/v2/requests.json?jurisdiction_id=33")
    check("Open311 list ?jurisdiction_id=33: none of Madiun's", s == 200 and general not in got and pju not in got, b)
    refused("kota-3577", "/open311/v2/requests.json?service_code=umum&category=x", "category", open311=True)
    refused("kota-3577", "/open311/v2/requests.json?status=pending", "status", open311=True)
    # routes without filters take no parameter (Open311's only jurisdiction_id): never ignored
    refused("kota-3577", "/api/v1/complaints/%s?fields=all" % general, "fields")
    refused("kota-3577", "/healthz?verbose=1", "verbose")
    refused("kota-3577", "/open311/v2/requests/%s.json?extensions=true" % general, "extensions", open311=True)
    s, b, _ = req("kota-3577", "GET", "/open311/v2/services.json?jurisdiction_id=35.77")
    check("Open311 services.json takes jurisdiction_id", s == 200 and isinstance(b, list), (s, b))


def test_token_revocation():
    tok = token("kota-3577", "temp-admin", "admin-koordinator")
    cid = file_web()["id"]
    s, _, _ = req("kota-3577", "GET", "/api/v1/complaints/" + cid, token=tok)
    check("a token created while the node runs works at once", s == 200)
    subprocess.run([SIMPUL, "token", "revoke", "--data", os.path.join(T, "kota-3577", "data"), "--name", "temp-admin"],
                   check=True, capture_output=True)
    s, b, _ = act("kota-3577", cid, tok, {"action": "verify"})
    check("a revoked token: 401", s == 401, b)
    out = subprocess.run([SIMPUL, "token", "list", "--data", os.path.join(T, "kota-3577", "data")],
                         capture_output=True, text=True).stdout
    check("token list shows it revoked", re.search(r"temp-admin\s+admin-koordinator\s+\S+\s+revoked", out), out)


def test_restart_keeps_everything(resolved, confidential, keyed):
    for n in ("kota-3577", "national"):
        fed("stop", T, n)
    for n in ("kota-3577", "national"):
        fed("start", T, n)
    check("after restart: resolved complaint intact at national", status_at("national", resolved) == "resolved")
    s, b, _ = req("kota-3577", "GET", "/api/v1/complaints/" + confidential, token=TOK["madiun"])
    check("after restart: tokens and sealed content still work", s == 200 and b.get("content", {}).get("title") == "Pungli", b)
    b = file_web()
    num = lambda cid: int(re.match(r"^\d+-(\d+)[A-Z]$", cid).group(1))
    check("after restart: filing numbers continue", num(b["id"]) > num(resolved), b)
    s, b, h = file_keyed(keyed[0])
    check("after restart: a retried key still answers with its first filing",
          s == 201 and b["id"] == keyed[1] and h.get("Idempotent-Replayed") == "true", (s, b))
    with open(os.path.join(T, "kota-3577", "node.log")) as f:
        log = f.read()
    check("SIGTERM stopped the node cleanly", "msg=daemon.stopped node=kota-3577" in log)


def main():
    t0 = time.time()
    try:
        setup()
        test_health_status_metrics()
        test_web_public_and_attachment()
        confidential = test_anonymous_and_confidential()
        resolved = test_lifecycle_to_resolved()
        test_reroute_bukan_wewenang()
        test_sms()
        test_open311()
        keyed = test_idempotent_retries()
        test_errors()
        test_lists_and_stats()
        test_query_parameters()
        test_token_revocation()
        test_restart_keeps_everything(resolved, confidential, keyed)
    finally:
        subprocess.run([FED, "down", T], env=ENV, stdout=subprocess.DEVNULL)
        if not FAILS:
            shutil.rmtree(T, ignore_errors=True)
        else:
            print("logs kept in", T)
    print("%d failed (%.1f s)" % (len(FAILS), time.time() - t0))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
