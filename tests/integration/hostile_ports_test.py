#!/usr/bin/env python3
"""Hostile clients at every port of a running node (issue 13): the HTTP API, the peer port, the
integrator stream (PUB) and its replay endpoint (REP) of kota-3577, a real process on loopback,
linked to its province and national.

Each port gets: random garbage; a truncated frame; a frame claiming 2 GiB; a 10 MiB frame;
slowloris clients (a byte every 100 ms); a flood of idle connections held open while honest
clients work. The HTTP port also gets a 2 GiB Content-Length, 10 MiB bodies and 100,000-deep
JSON. Meanwhile and after: the node files complaints (201), they reach national over the peer
port, `simpul tail` replays them from the replay port, /healthz answers; RSS and open files of
the node stay bounded and come back down when the attackers leave; NNG's counters of the peer
port (simpul_listener_events_total) and the API's rejects count what was refused.

    hostile_ports_test.py SIMPUL
"""
import os
import random
import re
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fedlib  # noqa: E402
from fedlib import check, req, wait_for  # noqa: E402

NODE = "kota-3577"
COMPLAINT = {"title": "Lampu jalan mati", "body": "Lampu PJU di Jl. Pahlawan mati sejak Senin.",
             "category": "umum", "region": "35.77", "privacy": "public",
             "reporter": {"name": "Siti Aminah", "phone": "081234567890"}}
SP_REQ, SP_SUB = 0x30, 0x21  # the protocols that talk to REP and PUB sockets
FLOOD = 250                  # idle connections per port
MIB = 1024 * 1024


def sp_hello(proto):
    return b"\x00SP\x00" + struct.pack(">H", proto) + b"\x00\x00"


def ports():
    with open(os.path.join(fedlib.T, NODE, "node.yaml")) as f:
        cfg = f.read()
    get = lambda k: int(re.search(r"%s: \w+://127.0.0.1:(\d+)" % k, cfg).group(1))
    return {"http": get("http"), "peer": get("peer"), "stream": get("stream"), "replay": get("replay")}


def send_and_close(port, data, wait_close=False):
    """Send data and close; with wait_close, whether the node closed the connection within 5 s."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            return True  # the node closed it mid-send
        if not wait_close:
            return True
        try:
            while s.recv(65536):
                pass
            return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def node_usage(pid):
    with open("/proc/%d/status" % pid) as f:
        rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) // 1024
    return rss, len(os.listdir("/proc/%d/fd" % pid))


class Slowloris(threading.Thread):
    """Connections that send one byte of a valid-looking opening every 100 ms."""

    def __init__(self, port, opening, n=20, seconds=4):
        super().__init__(daemon=True)
        self.port, self.opening, self.n, self.seconds = port, opening, n, seconds

    def run(self):
        socks = []
        for _ in range(self.n):
            try:
                socks.append(socket.create_connection(("127.0.0.1", self.port), timeout=2))
            except OSError:
                pass
        end, i = time.time() + self.seconds, 0
        while time.time() < end:
            for s in socks:
                try:
                    s.send(self.opening[i % len(self.opening):i % len(self.opening) + 1])
                except OSError:
                    pass
            i += 1
            time.sleep(0.1)
        for s in socks:
            s.close()


def flood(port, n):
    out = []
    for _ in range(n):
        try:
            out.append(socket.create_connection(("127.0.0.1", port), timeout=2))
        except OSError:
            break
    return out


def honest_round(n):
    """File n complaints at the kota; their ids (None for a failure)."""
    ids = []
    for _ in range(n):
        try:
            s, b, _ = req(NODE, "POST", "/api/v1/complaints", COMPLAINT)
            ids.append(b["id"] if s == 201 else None)
        except OSError:
            ids.append(None)
    return ids


def reached_national(ids, timeout=30):
    end = time.time() + timeout
    left = list(ids)
    while left and time.time() < end:
        left = [i for i in left if req("national", "GET", "/api/v1/complaints/" + i)[0] != 200]
        time.sleep(0.3)
    return not left


def replayed(stream, replay, count):
    out = subprocess.run([fedlib.SIMPUL, "tail", "--stream", stream, "--replay", replay,
                          "--from", "1", "--count", str(count), "--idle-exit", "5000"],
                         capture_output=True, text=True, timeout=60)
    return len([l for l in out.stdout.splitlines() if l.strip()])


def attack_sp_port(name, port, proto):
    random.seed(13)
    send_and_close(port, bytes(random.getrandbits(8) for _ in range(64 * 1024)))
    send_and_close(port, sp_hello(proto) + struct.pack(">Q", 1000) + b"0123456789")  # truncated
    claim = sp_hello(proto) + struct.pack(">Q", 2 << 30) + b"x" * 1000
    if proto == SP_REQ:  # a REP socket reads requests: NNG refuses the size at once
        check("%s port: a frame claiming 2 GiB gets the connection closed" % name,
              send_and_close(port, claim, True))
    else:  # a PUB socket reads nothing from subscribers: the claim is never acted on
        send_and_close(port, claim)
    send_and_close(port, sp_hello(proto) + struct.pack(">Q", 10 * MIB) + b"\0" * (10 * MIB))


def raw_post(port, path, body, ctype):
    """POST over a raw socket; the start of the answer even when the node closed early."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as c:
        c.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
                   % (path, ctype, len(body))).encode())
        try:
            c.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered and closed before the body: read what it said
        try:
            return c.recv(4096)
        except ConnectionResetError:
            return b""


def attack_http(port):
    send_and_close(port, b"\x16\x03\x01\x02\x00" + os.urandom(4096))  # a TLS hello, then noise
    send_and_close(port, b"POST /api/v1/complaints HTTP/1.1\r\nHost: x\r\nContent-Type: "
                   b"application/json\r\nContent-Length: 1000\r\n\r\n{\"tit")  # truncated body
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(b"POST /api/v1/complaints HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 2147483648\r\n\r\n")
        answer = c.recv(200)
    check("HTTP: a 2 GiB Content-Length is refused before any body (413)", answer.startswith(b"HTTP/1.1 413"), answer)
    answer = raw_post(port, "/api/v1/intake/sms", b"x" * (10 * MIB), "text/plain")
    check("HTTP: a 10 MiB body on a 16 KiB route: 413 (before the body is read)",
          answer.startswith(b"HTTP/1.1 413"), answer[:100])
    s, b, _ = req(NODE, "POST", "/api/v1/complaints", body=b"{" + b" " * (10 * MIB) + b"!",
                  ctype="application/json")
    check("HTTP: a 10 MiB body that is not JSON: 400 bad_json", s == 400 and b.get("error") == "bad_json", (s, b))
    s, b, _ = req(NODE, "POST", "/api/v1/complaints", body=b"[" * 100000 + b"]" * 100000,
                  ctype="application/json")
    check("HTTP: 100,000-deep JSON: 400, no stack overflow", s == 400, (s, str(b)[:200]))


def metric(text, pattern):
    m = re.search(pattern, text, re.M)
    return int(m.group(1)) if m else 0


def main():
    t0 = time.time()
    fedlib.init(sys.argv[1], "simpul-hostile-")
    try:
        fedlib.up("national,prov-35," + NODE)
        p = ports()
        pid = int(open(os.path.join(fedlib.T, NODE, "pid")).read())
        stream, replay = fedlib.STREAMS[NODE]
        ids = honest_round(5)
        check("honest filing before the attack", all(ids), ids)
        base_rss, base_fds = node_usage(pid)
        _, text, _ = req(NODE, "GET", "/metrics")
        proto0 = metric(text, r'^simpul_listener_events_total\{url="tcp://127.0.0.1:%d",event="proto"\} (\d+)' % p["peer"])

        held = []
        for name in ("http", "peer", "stream", "replay"):
            held += flood(p[name], FLOOD)
        loris = [Slowloris(p["http"], b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nX-a: b\r\n"),
                 Slowloris(p["peer"], sp_hello(SP_REQ)), Slowloris(p["replay"], sp_hello(SP_REQ)),
                 Slowloris(p["stream"], sp_hello(SP_SUB))]
        for t in loris:
            t.start()
        attack_sp_port("peer", p["peer"], SP_REQ)
        attack_sp_port("replay", p["replay"], SP_REQ)
        attack_sp_port("stream", p["stream"], SP_SUB)
        attack_http(p["http"])
        during = honest_round(20)
        check("during the attack, honest filings are answered 201 (%d idle connections held)" % len(held),
              all(during), during)
        check("and they reach national over the peer port", reached_national([i for i in during if i]))
        check("and `simpul tail` replays them from the replay port", replayed(stream, replay, 25) == 25)
        check("/healthz answers during the attack", req(NODE, "GET", "/healthz")[0] == 200)
        rss, fds = node_usage(pid)
        check("RSS stays bounded during the attack (%d MiB, was %d)" % (rss, base_rss), rss < base_rss + 256)
        attackers = len(held) + sum(t.n for t in loris)  # idle and slowloris connections
        check("open files: one per attacking connection and a few more (%d, was %d, %d attackers)"
              % (fds, base_fds, attackers), fds <= base_fds + attackers + 64)
        for t in loris:
            t.join()
        for s in held:
            s.close()
        time.sleep(2)
        rss, fds = node_usage(pid)
        check("after the attackers leave, open files come back down (%d, was %d)" % (fds, base_fds),
              fds <= base_fds + 16)
        def peer_proto():  # NNG counts a failed negotiation when it closes the pipe: later under load
            t = req(NODE, "GET", "/metrics")[1]
            return metric(t, r'^simpul_listener_events_total\{url="tcp://127.0.0.1:%d",event="proto"\} (\d+)' % p["peer"])
        wait_for(lambda: peer_proto() - proto0 >= 1, timeout=15)
        proto = peer_proto()
        _, text, _ = req(NODE, "GET", "/metrics")
        check("the peer port's protocol errors are counted (%d)" % (proto - proto0), proto - proto0 >= 1)
        rejects = sum(metric(text, r'^simpul_http_rejects_total\{reason="%s"\} (\d+)' % r)
                      for r in ("too_large", "bad_json"))
        check("the API's refusals are counted (%d)" % rejects, rejects >= 3)
        check("the node is the same process", os.path.exists("/proc/%d" % pid))
    finally:
        fedlib.cleanup()
    return fedlib.tally(t0)


if __name__ == "__main__":
    sys.exit(main())
