#!/usr/bin/env python3
"""Per-client rate limits of the HTTP API (issue 13), on a real node: an officer token, a client
named by a trusted proxy's X-Forwarded-For, and the bucket the other clients share each get
their limit; the one over it gets 429 with Retry-After and a JSON error, the others go on being
served; /healthz is never limited; after Retry-After the client is served again; every 429 is
counted in /metrics by bucket.

    ratelimit_test.py SIMPUL
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fedlib  # noqa: E402
from fedlib import check, req, token  # noqa: E402

NODE = "kota-3577"
LIMITS = """limits:
  rate_per_second: 2
  burst: 3
  anonymous_per_second: 1
  anonymous_burst: 5
  client_header: X-Forwarded-For
"""


def restart_with_limits():
    fedlib.fed("stop", fedlib.T, NODE)
    with open(os.path.join(fedlib.T, NODE, "node.yaml"), "a") as f:
        f.write(LIMITS)
    fedlib.fed("start", fedlib.T, NODE)


def get(path="/api/v1/status", **kw):
    return req(NODE, "GET", path, **kw)


def statuses(n, **kw):
    return [get(**kw)[0] for _ in range(n)]


def metric(name):
    _, text, _ = req(NODE, "GET", "/metrics")
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else None


def main():
    t0 = time.time()
    fedlib.init(sys.argv[1], "simpul-ratelimit-")
    try:
        fedlib.up("national,prov-35," + NODE)
        officer = token(NODE, "madiun-admin", "admin-koordinator")
        other = token(NODE, "madiun-app", "reporter")
        restart_with_limits()
        got = statuses(6)
        check("unidentified clients share 5 requests at once: the 6th gets 429", got == [200] * 5 + [429], got)
        s, b, h = get()
        check("429 carries Retry-After and a JSON error", s == 429 and b.get("error") == "rate_limited" and
              h.get("Retry-After", "").isdigit() and int(h["Retry-After"]) >= 1, (s, b, dict(h)))
        s, b, _ = get("/open311/v2/services.json")
        check("on Open311 routes the 429 is the spec's error list", s == 429 and isinstance(b, list) and
              b and b[0].get("code") == 429, (s, b))
        check("/healthz is not limited", all(req(NODE, "GET", "/healthz")[0] == 200 for _ in range(20)))
        got = statuses(4, token=officer)
        check("an officer token has its own bucket (3 at once), not the exhausted shared one",
              got == [200] * 3 + [429], got)
        check("another token is served meanwhile", get(token=other)[0] == 200)
        xff = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}
        got = statuses(4, headers=xff)
        check("a client named by the proxy (the last X-Forwarded-For hop) has its own bucket",
              got == [200] * 3 + [429], got)
        check("and another proxied client is served",
              get(headers={"X-Forwarded-For": "198.51.100.8"})[0] == 200)
        s, b, _ = req(NODE, "POST", "/api/v1/complaints", {"body": "x" * 200}, token=officer)
        check("a POST over the limit is refused before its body is read", s == 429, (s, b))
        time.sleep(1.6)
        check("after Retry-After the officer is served again", get(token=officer)[0] == 200)
        counts = [metric('simpul_http_rate_limited_total{bucket="%s"}' % k) for k in ("token", "client", "anonymous")]
        check("every 429 counted by bucket in /metrics", counts[0] >= 2 and counts[1] >= 1 and counts[2] >= 2, counts)
    finally:
        fedlib.cleanup()
    return fedlib.tally(t0)


if __name__ == "__main__":
    sys.exit(main())
