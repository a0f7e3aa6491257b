#!/usr/bin/env python3
"""A node killed with SIGKILL at random moments while citizens file complaints at it and at its
province, and while it replicates both ways (issue 13): after every restart each complaint that
got 201 is readable; at the end every chain verifies and every node holds every complaint.

Federation: national, prov-35 (Jawa Timur), kota-3577 (Kota Madiun), real processes on loopback.
Each round: 4 clients file at kota-3577 and 2 at prov-35 (region 35.77, so the province's
filings replicate to the kota) without pause; after 0.3-2.0 s the kota is killed with SIGKILL
mid-stream, the clients stop, the kota is started again and must serve every complaint it
acknowledged before the kill (and every one it acknowledged in earlier rounds).

    crash_node_test.py SIMPUL [--rounds N] [--seed S]     (CTest: 5 rounds; the report: 100)
"""
import argparse
import os
import random
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fedlib  # noqa: E402
from fedlib import check, req  # noqa: E402

NODES = "national,prov-35,kota-3577"
KOTA, PROV = "kota-3577", "prov-35"
COMPLAINT = {"title": "Lampu jalan mati", "body": "Lampu PJU di Jl. Pahlawan mati sejak Senin.",
             "category": "umum", "region": "35.77", "privacy": "public",
             "reporter": {"name": "Siti Aminah", "phone": "081234567890"}}


class Filer(threading.Thread):
    """Files complaints at node until stopped; keeps the ids answered 201."""

    def __init__(self, node, stop):
        super().__init__(daemon=True)
        self.node, self.stop, self.acked, self.failed = node, stop, [], 0

    def run(self):
        while not self.stop.is_set():
            try:
                s, b, _ = req(self.node, "POST", "/api/v1/complaints", COMPLAINT)
            except OSError:  # refused, reset, timed out: the node is down; not acknowledged
                self.failed += 1
                time.sleep(0.02)
                continue
            if s == 201:
                self.acked.append(b["id"])
            else:
                self.failed += 1


def get_status(node, cid):
    """GET a complaint; a 429 (the node's shared limit for unidentified clients: thousands of
    reads in a row exceed it) waits as told and asks again."""
    for _ in range(100):
        try:
            s, _, h = req(node, "GET", "/api/v1/complaints/" + cid)
        except OSError:
            return None
        if s != 429:
            return s
        time.sleep(int(h.get("Retry-After", "1")))
    return 429


def readable(node, ids):
    """The ids node does not serve (GET answers something else than 200)."""
    return [cid for cid in ids if get_status(node, cid) != 200]


def converge(node, ids, timeout=180):
    """Wait until node serves every id; what it still lacks at the end."""
    left, end = list(ids), time.time() + timeout
    while left and time.time() < end:
        left = readable(node, left)
        if left:
            time.sleep(0.5)
    return left


def pid_of(node):
    with open(os.path.join(fedlib.T, node, "pid")) as f:
        return int(f.read())


def crash_round(rng, n, acked):
    stop = threading.Event()
    filers = [Filer(KOTA, stop) for _ in range(4)] + [Filer(PROV, stop) for _ in range(2)]
    for f in filers:
        f.start()
    time.sleep(rng.uniform(0.3, 2.0))
    os.kill(pid_of(KOTA), signal.SIGKILL)
    time.sleep(0.2)  # the kota's clients see the refusal; the province's keep filing meanwhile
    stop.set()
    for f in filers:
        f.join()
    this_round = [cid for f in filers[:4] for cid in f.acked]
    for f in filers:
        acked[f.node].extend(f.acked)
    fedlib.fed("start", fedlib.T, KOTA)
    # this round's are the ones the kill could have lost; the end of the test reads them all
    missing = readable(KOTA, this_round)
    check("round %d: all %d complaints the kota acknowledged before SIGKILL are served after "
          "restart (%d in all rounds)" % (n, len(this_round), len(acked[KOTA])), not missing,
          missing[:5])
    return not missing


def verify_logs():
    """Stop the federation and re-verify every node's stored chains with simpul log verify."""
    fedlib.down()
    for node in NODES.split(","):
        out = subprocess.run([fedlib.SIMPUL, "log", "verify", "--data",
                              os.path.join(fedlib.T, node, "data")], capture_output=True, text=True)
        check("%s: simpul log verify passes" % node, out.returncode == 0,
              (out.returncode, out.stdout[-300:], out.stderr[-300:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("simpul")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    a = ap.parse_args()
    t0 = time.time()
    rng = random.Random(a.seed)
    print("seed %d (replay with --seed %d), %d rounds" % (a.seed, a.seed, a.rounds))
    fedlib.init(a.simpul, "simpul-crash-node-")
    acked = {KOTA: [], PROV: []}
    try:
        fedlib.up(NODES)
        for n in range(1, a.rounds + 1):
            if not crash_round(rng, n, acked):
                break
        every = acked[KOTA] + acked[PROV]
        print("acknowledged: %d at the kota, %d at the province" % (len(acked[KOTA]), len(acked[PROV])))
        check("the clients were acknowledged at both nodes", acked[KOTA] and acked[PROV])
        for node in NODES.split(","):
            left = converge(node, every)
            check("%s holds all %d acknowledged complaints (peers converged)" % (node, len(every)),
                  not left, left[:5])
        verify_logs()
    finally:
        fedlib.cleanup()
    return fedlib.tally(t0)


if __name__ == "__main__":
    sys.exit(main())
