#!/usr/bin/env python3
"""One topic per event: what the live stream says is what replay says, on every node.

    stream_topics_test.py SIMPUL_BINARY

A complaint is filed at Kota Madiun while `simpul tail` follows its stream live, then verified,
dispositioned to the OPD and followed up. Each event's live topic must equal its replayed topic
(the filing's too, although the complaint was assigned an agency after it was published), must
be the one docs/stream.md defines, and national must give the same event the same topic.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fedlib  # noqa: E402
from fedlib import FAILS, STREAMS, check, wait_for as wait  # noqa: E402

SIMPUL = os.path.abspath(sys.argv[1])
NODES = "national,prov-35,kota-3577,opd-3577-pupr"
T = fedlib.init(SIMPUL, "simpul-topics-")
KINDS = ("filed", "verified", "dispositioned", "follow_up")
EXPECTED = {  # docs/stream.md: region of the filing, agency the event names or that acts
    "filed": "35.77._.filed.web",
    "verified": "35.77._.verified.web",
    "dispositioned": "35.77.opd-3577-pupr.dispositioned.web",
    "follow_up": "35.77.opd-3577-pupr.follow-up.web",
}


def req(node, method, path, body=None, token=None):
    return fedlib.req(node, method, path, body, token=token)[1]


def tail_args(node, *extra):
    stream, replay = STREAMS[node]
    return [SIMPUL, "tail", "--stream", stream, "--replay", replay, "--json", *extra]


def events(text):
    """Offset -> event line, for the lines of `simpul tail --json`."""
    out = {}
    for line in text.splitlines():
        e = json.loads(line)
        out[e["offset"]] = e
    return out


def kind(e):
    return next((k for k in KINDS if k in (e.get("event") or {})), None)


def replayed(node):
    out = subprocess.run(tail_args(node, "--idle-exit", "700"), capture_output=True, text=True)
    return events(out.stdout)


def main():
    t0 = time.time()
    try:
        fedlib.up(NODES)
        admin = fedlib.token("kota-3577", "a", "admin-koordinator")
        opd = fedlib.token("opd-3577-pupr", "o", "admin-penghubung")
        live = subprocess.Popen(tail_args("kota-3577", "--idle-exit", "4000"),
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        time.sleep(1.5)  # caught up (nothing stored yet): from now on it follows live
        body = {"body": "Lampu jalan mati", "category": "infrastruktur/pju", "region": "35.77"}
        cid = req("kota-3577", "POST", "/api/v1/complaints", body)["id"]
        time.sleep(0.5)  # the filing is published before the complaint has an agency
        act = lambda node, tok, b: req(node, "POST", "/api/v1/complaints/%s/actions" % cid, b, tok)
        act("kota-3577", admin, {"action": "verify"})
        act("kota-3577", admin, {"action": "disposition", "by_rule": True})
        wait(lambda: fedlib.status_at("opd-3577-pupr", cid) == "dispositioned")
        act("opd-3577-pupr", opd, {"action": "follow-up", "text": "Sudah diganti"})
        check("the follow-up reaches Madiun",
              wait(lambda: fedlib.status_at("kota-3577", cid) == "in-progress"))
        got = events(live.communicate(timeout=60)[0])
        by_kind = {kind(e): e for e in got.values()}
        check("the live tail saw the four events", sorted(k for k in by_kind if k) == sorted(KINDS),
              list(by_kind))
        check("the filing and the disposition came from the live stream",
              all(by_kind.get(k, {}).get("via") == "live" for k in ("filed", "dispositioned")),
              [(k, e.get("via")) for k, e in by_kind.items()])

        here = replayed("kota-3577")
        diff = [(o, e["topic"], here.get(o, {}).get("topic")) for o, e in got.items()
                if here.get(o, {}).get("topic") != e["topic"]]
        check("every event's live topic equals its replayed topic", not diff, diff)
        topics = {kind(e): e["topic"] for e in here.values() if kind(e)}
        check("topics follow the documented rule", topics == EXPECTED, topics)

        check("national holds the follow-up", wait(lambda: fedlib.status_at("national", cid) == "in-progress"))
        key = lambda evs: {(e["origin"], e["seq"]): e["topic"] for e in evs.values() if kind(e)}
        there, mine = key(replayed("national")), key(here)
        check("national gives each event the same topic as Madiun",
              mine and all(there.get(k) == t for k, t in mine.items()), (mine, there))
    finally:
        fedlib.cleanup()
    return fedlib.tally(t0)


if __name__ == "__main__":
    sys.exit(main())
