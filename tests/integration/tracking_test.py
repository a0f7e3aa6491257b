#!/usr/bin/env python3
"""Tracking numbers and the 1708 SMS loop on real nodes (defects 2 and 7).

A citizen reads a tracking number over the phone: each intake node numbers its complaints 1, 2,
3... with no gaps (officers' actions in between take event seqs, not numbers), a check letter
catches a misheard digit, the number resolves in any case, an OPD's intake gives a short one,
and numbering resumes after a restart. The SMS reply names the number and how to check it by SMS
(no link to the JSON API); `CEK <number>` answers the status; the help lists the keywords of the
node that answers.

    tracking_test.py path/to/simpul
"""
import re
import sys
import time

import fedlib
from fedlib import check, req, token, FAILS

NODES = "national,prov-35,kota-3577,opd-3577-pupr,prov-33,kota-3375"
ID = re.compile(r"^(\w+)-(\d+)([A-Z])$")


def file_web(node, **kw):
    body = {"title": "Lampu jalan mati", "body": "Lampu PJU di Jl. Pahlawan mati.",
            "category": "infrastruktur/pju", "region": "35.77", "privacy": "public"}
    body.update(kw)
    s, b, _ = req(node, "POST", "/api/v1/complaints", body)
    if not check("filed at %s" % node, s == 201 and "id" in b, (s, b)):
        raise SystemExit(1)
    return b["id"]


def number(cid):
    m = ID.match(cid)
    return int(m.group(2)) if m else None


def sms(node, text, sender="+6281211112222"):
    return req(node, "POST", "/api/v1/intake/sms", {"from": sender, "text": text})


def test_dense_numbers(admin):
    ids = [file_web("kota-3577")]
    s, b, _ = req("kota-3577", "POST", "/api/v1/complaints/%s/actions" % ids[0],
                  {"action": "verify", "note": "lengkap"}, token=admin)
    check("an officer's action in between", s == 200, (s, b))
    ids += [file_web("kota-3577") for _ in range(3)]
    check("tracking numbers have a tag, a number and a check letter",
          all(ID.match(i) and i.startswith("3577-") for i in ids), ids)
    nums = [number(i) for i in ids]
    check("numbers are dense: 1, 2, 3, 4 (actions take no number)", nums == [1, 2, 3, 4], ids)
    opd = file_web("opd-3577-pupr")
    check("an OPD's intake gives a short number", opd.startswith("3577PUPR-1") and ID.match(opd), opd)
    return ids


def test_lookup_any_case(cid):
    s, b, _ = req("kota-3577", "GET", "/api/v1/complaints/" + cid.lower())
    check("lower-case tracking number resolves", s == 200 and b.get("id") == cid, (s, b))
    s, b, _ = req("kota-3577", "GET", "/open311/v2/requests/%s.json" % cid.lower())
    check("lower-case Open311 request resolves", s == 200 and b and b[0]["service_request_id"] == cid, (s, b))
    m = ID.match(cid)
    digit = m.group(2)[-1]
    misheard = "%s-%s%s%s" % (m.group(1), m.group(2)[:-1], "7" if digit != "7" else "1", m.group(3))
    s, b, _ = req("kota-3577", "GET", "/api/v1/complaints/" + misheard)
    check("a misheard digit is caught by the check letter: 400 naming it",
          s == 400 and "check letter" in b.get("message", ""), (s, b))
    s, b, _ = req("kota-3577", "GET", "/api/v1/complaints/3577-999999A")
    check("a well-formed unknown number: 404", s in (400, 404), (s, b))


def test_restart_resumes(ids):
    fedlib.fed("stop", fedlib.T, "kota-3577")
    fedlib.fed("start", fedlib.T, "kota-3577")
    nxt = file_web("kota-3577")
    check("after a restart numbering resumes with no gap and no reuse",
          number(nxt) == number(ids[-1]) + 1, (ids, nxt))


def test_upgrade_recomputes_derived_state(ids):
    """A data directory of the previous version (derived state without a format record) is
    recomputed at start: everything still reads, numbering goes on."""
    import os
    import subprocess
    before = req("kota-3577", "GET", "/api/v1/stats?region=35.77")[1]
    fedlib.fed("stop", fedlib.T, "kota-3577")
    db = os.path.join(fedlib.T, "kota-3577", "data")
    r = subprocess.run(["ldb", "--db=" + db, "--column_family=complaints", "delete", "format"],
                       capture_output=True, text=True)
    check("the old format is simulated (ldb delete)", r.returncode == 0, r.stderr)
    fedlib.fed("start", fedlib.T, "kota-3577")
    with open(os.path.join(fedlib.T, "kota-3577", "node.log")) as f:
        log = f.read()
    check("the node says it recomputes state in an older format", "msg=daemon.rebuild" in log
          and "format=1 now=4" in log and "msg=daemon.rebuilt" in log, log[-1500:])
    after = req("kota-3577", "GET", "/api/v1/stats?region=35.77")[1]
    check("statistics are the same after the rebuild", before.get("totals") == after.get("totals"), (before, after))
    s, b, _ = req("kota-3577", "GET", "/api/v1/complaints/" + ids[0])
    check("complaints read after the rebuild", s == 200 and b.get("id") == ids[0], b)
    nxt = file_web("kota-3577")
    check("numbering resumes after the rebuild", number(nxt) == number(ids[-1]) + 2, (ids, nxt))


def test_sms_loop():
    s, b, _ = sms("kota-3375", "PekalonganKota Jalan rusak depan pasar")
    cid = b.get("id", "")
    check("SMS filed with a tracking number", s == 201 and ID.match(cid) and cid.startswith("3375-"), b)
    reply = b.get("reply", "")
    check("SMS reply names the number and how to check it by SMS",
          cid in reply and ("CEK " + cid) in reply, reply)
    check("SMS reply has no link to the node's JSON API", "http" not in reply and "/api/" not in reply, reply)
    s, b, _ = sms("kota-3375", "CEK " + cid)
    check("CEK <number> answers the status", s == 200 and b.get("status") == "filed"
          and cid in b.get("reply", "") and "diterima" in b["reply"], (s, b))
    s, b, _ = sms("kota-3375", "cek  " + cid.lower() + " ")
    check("cek in any case, number in any case", s == 200 and b.get("tracking_number") == cid, (s, b))
    m = ID.match(cid)
    wrong = "%s-%s%s" % (m.group(1), m.group(2), "B" if m.group(3) != "B" else "C")
    s, b, _ = sms("kota-3375", "CEK " + wrong)
    check("CEK with a wrong check letter: told to check the number",
          s == 422 and "periksa kembali" in b.get("reply", ""), (s, b))
    s, b, _ = sms("kota-3375", "CEK 3375-999999")
    check("CEK of an unknown number: not found, said so", s == 404 and "tidak ditemukan" in b.get("reply", ""), (s, b))
    s, b, _ = sms("kota-3375", "CEK")
    check("CEK alone: the help", s == 200 and "CEK <nomor aduan>" in b.get("reply", ""), (s, b))
    s, b, _ = sms("kota-3375", "INFO")
    help_text = b.get("reply", "")
    check("help lists the answering node's keywords", s == 200 and "KotaPekalongan" in help_text
          and "PekalonganKota" in help_text, help_text)
    check("help does not list the federation's first keywords", "JawaTimur" not in help_text
          and "KotaMadiun" not in help_text, help_text)
    s, b, _ = sms("kota-3577", "KotaAntah aduan saya")
    check("unknown keyword at Madiun: Madiun's keywords in the help", s == 422
          and "KotaMadiun" in b.get("reply", "") and "KotaPekalongan" not in b["reply"], b)


def main():
    t0 = time.time()
    fedlib.init(sys.argv[1], "simpul-tracking-")
    try:
        fedlib.up(NODES)
        admin = token("kota-3577", "madiun-admin", "admin-koordinator")
        ids = test_dense_numbers(admin)
        test_lookup_any_case(ids[1])
        test_restart_resumes(ids)
        test_upgrade_recomputes_derived_state(ids)
        test_sms_loop()
    finally:
        fedlib.cleanup()
    sys.exit(fedlib.tally(t0))


if __name__ == "__main__":
    main()
