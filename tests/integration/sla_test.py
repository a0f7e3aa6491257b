#!/usr/bin/env python3
"""The SLA timer on real nodes: deadlines passing turn into system events, written once.

    sla_test.py SIMPUL_BINARY

Working days cannot be waited out in a test, so a node is restarted with its clock days ahead
(SIMPUL_CLOCK_OFFSET_MS), as a node living later would be. A complaint filed at Kota Madiun and
left unverified is escalated by Jawa Timur (the parent) once the verification deadline has
passed; asking again writes nothing more; the escalation replicates. A complaint followed up by
the OPD and left without a reply from the reporter is auto-completed by the OPD 10 working days
later.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fedlib  # noqa: E402
from fedlib import ENV, FAILS, check, fed, wait_for as wait  # noqa: E402

SIMPUL = os.path.abspath(sys.argv[1])
NODES = "national,prov-35,kota-3577,opd-3577-pupr"
T = fedlib.init(SIMPUL, "simpul-sla-")
DAY = 86400 * 1000


def req(node, method, path, body=None, token=None):
    """The JSON answer of one request."""
    return fedlib.req(node, method, path, body, token=token)[1]


def simpul(*args):
    return subprocess.run([SIMPUL, *args], check=True, capture_output=True, text=True).stdout.strip()


def sla_check(node):
    out = simpul("node", "sla-check", "--data", os.path.join(T, node, "data"))
    return int(re.search(r"authored (\d+)", out).group(1))


def restart_ahead(node, days):
    """Restart node with its clock `days` ahead."""
    env = dict(ENV, SIMPUL_CLOCK_OFFSET_MS=str(days * DAY))
    fed("stop", T, node, env=env)
    fed("start", T, node, env=env)


def kinds(node, cid):
    c = req(node, "GET", "/api/v1/complaints/" + cid)
    return [e.get("kind") or e.get("type") or e.get("event") for e in c.get("timeline", [])], c


def check_rebuild(node, ids):
    """simpul rebuild on a stopped node gives back exactly the state it maintained."""
    wait(lambda: all(req(node, "GET", "/api/v1/complaints/" + i) for i in ids))
    time.sleep(1)  # let replication settle
    before = [req(node, "GET", "/api/v1/complaints/" + i) for i in ids]
    fed("stop", T, node)
    out = subprocess.run([SIMPUL, "rebuild", "--config", os.path.join(T, node, "node.yaml")],
                         capture_output=True, text=True)
    check("simpul rebuild succeeds", out.returncode == 0 and "rebuilt" in out.stdout + out.stderr, out)
    fed("start", T, node)
    after = [req(node, "GET", "/api/v1/complaints/" + i) for i in ids]
    check("state after rebuild equals the incrementally maintained state", before == after,
          (before, after))


def main():
    t0 = time.time()
    try:
        fedlib.up(NODES)
        admin = simpul("token", "create", "--data", os.path.join(T, "kota-3577", "data"),
                       "--name", "a", "--role", "admin-koordinator")
        opd = simpul("token", "create", "--data", os.path.join(T, "opd-3577-pupr", "data"),
                     "--name", "o", "--role", "admin-penghubung")
        body = {"body": "Jalan berlubang", "category": "infrastruktur/pju", "region": "35.77"}
        late = req("kota-3577", "POST", "/api/v1/complaints", body)["id"]
        check("nothing is due today", sla_check("prov-35") == 0 and sla_check("kota-3577") == 0)
        restart_ahead("prov-35", 30)
        wait(lambda: req("prov-35", "GET", "/api/v1/complaints/" + late).get("status") == "filed")
        n = sla_check("prov-35")
        check("the missed verification is escalated by the parent, once", n == 1, n)
        check("asking again writes nothing more", sla_check("prov-35") == 0)
        esc = lambda node: any(x and "escalat" in x for x in kinds(node, late)[0])
        check("the timeline shows the escalation", esc("prov-35"), kinds("prov-35", late)[1])
        check("the escalation replicates to Madiun and national", wait(lambda: esc("kota-3577") and esc("national")))

        quiet = req("kota-3577", "POST", "/api/v1/complaints", body)["id"]
        act = lambda node, tok, b: req(node, "POST", "/api/v1/complaints/%s/actions" % quiet, b, tok)
        act("kota-3577", admin, {"action": "verify"})
        act("kota-3577", admin, {"action": "disposition", "by_rule": True})
        wait(lambda: req("opd-3577-pupr", "GET", "/api/v1/complaints/" + quiet).get("status") == "dispositioned")
        act("opd-3577-pupr", opd, {"action": "follow-up", "text": "Sudah ditambal"})
        check("nothing to auto-complete yet", sla_check("opd-3577-pupr") == 0)
        restart_ahead("opd-3577-pupr", 20)
        wait(lambda: req("opd-3577-pupr", "GET", "/api/v1/complaints/" + quiet).get("status") == "in-progress")
        n = sla_check("opd-3577-pupr")
        check("no reply for 10 working days: the OPD auto-completes it", n >= 1, n)
        st = req("opd-3577-pupr", "GET", "/api/v1/complaints/" + quiet).get("status")
        check("status is completed", st == "completed", st)
        check_rebuild("kota-3577", [late, quiet])
    finally:
        fedlib.cleanup()
    return fedlib.tally(t0)


if __name__ == "__main__":
    sys.exit(main())
