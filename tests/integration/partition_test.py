#!/usr/bin/env python3
"""A real network partition (issue 13): five nodes (national; Jawa Timur with Kota Madiun; Jawa
Tengah with Kota Pekalongan), each a simpul process in its own network namespace created by the
test, joined by veth pairs on a bridge. The national <-> Jawa Timur link is cut with blackhole
routes inside both namespaces; complaints are filed and handled on both sides; the cut is
healed; every node must then hold the same state of every complaint it serves, and the
statistics of each region must be the same at every node that holds it.

Where network namespaces cannot be made (no root, no CAP_NET_ADMIN), the test says so and cuts
the link by stopping the province's process (SIGSTOP / SIGCONT) instead, on loopback.

    partition_test.py SIMPUL          (SP_PARTITION_SIGSTOP=1: the fallback, even as root)
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fedlib  # noqa: E402
from fedlib import check  # noqa: E402

NODES = ["national", "prov-35", "kota-3577", "prov-33", "kota-3375"]
SUBNET = "10.%d.%d" % (100 + os.getpid() % 100, os.getpid() // 100 % 250)
TAG = "%05d" % (os.getpid() % 100000)
HOST = {}    # node -> IP its HTTP and peer ports listen on
PROCS = {}   # node -> Popen (netns mode)
NETNS = []   # namespaces made


def sh(*cmd, check_rc=True):
    return subprocess.run(cmd, check=check_rc, capture_output=True, text=True)


def ns(node):
    return "sp%s-%d" % (TAG, NODES.index(node))


def make_network():
    """A bridge in this namespace, and a namespace per node on a veth pair: True if allowed."""
    br = "spb" + TAG
    if sh("ip", "link", "add", br, "type", "bridge", check_rc=False).returncode != 0:
        return False
    sh("ip", "addr", "add", SUBNET + ".254/24", "dev", br)
    sh("ip", "link", "set", br, "up")
    for i, node in enumerate(NODES):
        name, outer = ns(node), "spv%s%d" % (TAG, i)
        sh("ip", "netns", "add", name)
        NETNS.append(name)
        sh("ip", "link", "add", outer, "type", "veth", "peer", "name", "eth0", "netns", name)
        sh("ip", "link", "set", outer, "master", br, "up")
        sh("ip", "netns", "exec", name, "ip", "addr", "add", "%s.%d/24" % (SUBNET, i + 1), "dev", "eth0")
        sh("ip", "netns", "exec", name, "ip", "link", "set", "eth0", "up")
        sh("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
        HOST[node] = "%s.%d" % (SUBNET, i + 1)
    return True


def remove_network():
    for name in NETNS:
        sh("ip", "netns", "del", name, check_rc=False)
    sh("ip", "link", "del", "spb" + TAG, check_rc=False)


def move_configs():
    """Point the topology and every node's listen addresses at the node's namespace address."""
    topo = os.path.join(fedlib.T, "topology.yaml")
    with open(topo) as f:
        text = f.read()
    for node in NODES:
        path = os.path.join(fedlib.T, node, "node.yaml")
        with open(path) as f:
            cfg = f.read()
        peer_port = re.search(r"peer: tcp://127.0.0.1:(\d+)", cfg).group(1)
        text = text.replace("tcp://127.0.0.1:%s\n" % peer_port, "tcp://%s:%s\n" % (HOST[node], peer_port))
        cfg = cfg.replace("127.0.0.1", HOST[node]).replace("listen:\n", "listen:\n  http_plain: true\n")
        with open(path, "w") as f:
            f.write(cfg)
    with open(topo, "w") as f:
        f.write(text)


def start_in_netns(node):
    d = os.path.join(fedlib.T, node)
    log = open(os.path.join(d, "node.log"), "a")
    PROCS[node] = subprocess.Popen(["ip", "netns", "exec", ns(node), fedlib.SIMPUL, "node", "run",
                                    "--config", os.path.join(d, "node.yaml")], stdout=log, stderr=log)
    for _ in range(100):
        if sh(fedlib.SIMPUL, "status", "--data", os.path.join(d, "data"), check_rc=False).returncode == 0:
            return
        time.sleep(0.1)
    raise SystemExit("%s did not start: %s" % (node, open(os.path.join(d, "node.log")).read()[-500:]))


def stop_all():
    for p in PROCS.values():
        p.send_signal(signal.SIGTERM)
    for p in PROCS.values():
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def http(node, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request("http://%s:%d%s" % (HOST.get(node, "127.0.0.1"), fedlib.PORTS[node], path),
                               data=data, method=method,
                               headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def blackhole(a, b, on):
    for x, y in ((a, b), (b, a)):
        sh("ip", "netns", "exec", ns(x), "ip", "route", "add" if on else "del", "blackhole", HOST[y] + "/32")


def file(node, region, n):
    ids = []
    for i in range(n):
        s, b = http(node, "POST", "/api/v1/complaints",
                    {"title": "Jalan rusak %d" % i, "body": "Jalan berlubang di dekat pasar, mohon segera diperbaiki.",
                     "category": "umum", "region": region, "privacy": "public",
                     "reporter": {"name": "Budi", "phone": "081234567890"}})
        if check("filed at %s (%s)" % (node, region), s == 201, (s, b)) is False:
            break
        ids.append(b["id"])
    return ids


def verify(node, token, cid):
    req = urllib.request.Request("http://%s:%d/api/v1/complaints/%s/actions" % (HOST.get(node, "127.0.0.1"),
                                 fedlib.PORTS[node], cid), method="POST",
                                 data=json.dumps({"action": "verify"}).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def view(node, cid):
    s, b = http(node, "GET", "/api/v1/complaints/" + cid)
    if s != 200:
        return None
    return {k: b.get(k) for k in ("id", "status", "filed_at", "region", "category", "responsible", "assigned")}


def holders(cid_region):
    """The nodes that serve a complaint of this region: national and the region's own."""
    return ["national"] + (["prov-35", "kota-3577"] if cid_region.startswith("35") else ["prov-33", "kota-3375"])


def converged(filed, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if all(view(n, cid) is not None for cid, region in filed for n in holders(region)):
            return True
        time.sleep(0.5)
    return False


def main():
    t0 = time.time()
    fedlib.init(sys.argv[1], "simpul-partition-")
    netns = False
    try:
        fedlib.up(",".join(NODES))
        tokens = {n: fedlib.token(n, "admin-" + n, "admin-koordinator") for n in ("kota-3577", "kota-3375")}
        netns = os.geteuid() == 0 and not os.environ.get("SP_PARTITION_SIGSTOP") and make_network()
        if netns:
            print("partition by network namespaces (%s.0/24, blackhole routes)" % SUBNET)
            fedlib.down()
            move_configs()
            for node in NODES:
                start_in_netns(node)
        else:
            print("network namespaces not permitted here: partition by SIGSTOP / SIGCONT of prov-35")
        filed = [(c, "35.77") for c in file("kota-3577", "35.77", 3)] + \
                [(c, "33.75") for c in file("kota-3375", "33.75", 3)]
        check("before the cut, every node holds what it serves", converged(filed))

        if netns:
            blackhole("national", "prov-35", True)
        else:
            os.kill(int(open(os.path.join(fedlib.T, "prov-35", "pid")).read()), signal.SIGSTOP)
        cut = [(c, "35.77") for c in file("kota-3577", "35.77", 10)] + \
              [(c, "33.75") for c in file("kota-3375", "33.75", 10)] + \
              [(c, "35.77") for c in file("national", "35.77", 3)]
        for cid, region in filed:  # officers act on both sides too
            node = "kota-3577" if region == "35.77" else "kota-3375"
            check("verified at %s during the cut" % node, verify(node, tokens[node], cid) == 200)
        time.sleep(3)
        madiun_new = [c for c, r in cut[:10]]
        check("during the cut, Jawa Timur's new complaints do not reach national",
              all(view("national", c) is None for c in madiun_new))
        check("and national's filings for Madiun do not reach Madiun",
              all(view("kota-3577", c) is None for c, _ in cut[20:]))

        if netns:
            blackhole("national", "prov-35", False)
        else:
            os.kill(int(open(os.path.join(fedlib.T, "prov-35", "pid")).read()), signal.SIGCONT)
        every = filed + cut
        check("after healing, every node holds every complaint it serves (%d complaints)" % len(every),
              converged(every))
        differ = []
        for cid, region in every:
            views = {n: view(n, cid) for n in holders(region)}
            if len({json.dumps(v, sort_keys=True) for v in views.values()}) != 1:
                differ.append((cid, views))
        check("and the same state of each at every node that holds it", not differ, differ[:2])
        for region, nodes in (("35.77", ["national", "prov-35", "kota-3577"]),
                              ("33.75", ["national", "prov-33", "kota-3375"])):
            stats = {n: http(n, "GET", "/api/v1/stats?region=" + region)[1] for n in nodes}
            seen = {json.dumps({k: s.get(k) for k in ("status", "totals")}, sort_keys=True) for s in stats.values()}
            check("statistics of %s equal at %s" % (region, ", ".join(nodes)), len(seen) == 1,
                  {n: s.get("status") for n, s in stats.items()})
        filed_3577 = http("national", "GET", "/api/v1/stats?region=35.77")[1]["totals"].get("filed")
        check("national counts every complaint filed about Madiun (%s)" % filed_3577,
              filed_3577 == sum(1 for _, r in every if r == "35.77"))
    finally:
        if netns:
            stop_all()
            remove_network()
        fedlib.cleanup()
    return fedlib.tally(t0)


if __name__ == "__main__":
    sys.exit(main())
