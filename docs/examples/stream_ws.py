#!/usr/bin/env python3
"""Read a Simpul node's integrator stream with nothing but Python's standard library and the
stock protobuf package (Debian: python3-protobuf) — no Simpul code, no NNG binding.

    protoc --python_out=. -I schemas schemas/simpul.proto     # makes simpul_pb2.py
    python3 stream_ws.py --replay ws://node:7506/replay --stream ws://node:7505/stream \
        --prefix 35.77. --from 1 [--cursor cursor.txt] [--count N] [--idle-exit SECONDS] \
        [--cafile ca.pem]          # wss:// is checked against the system's CAs, or these

It prints one JSON line per event: offset, topic, origin, seq, the event's kind and complaint.
The node speaks NNG's scalability protocols over WebSocket (RFC 6455): a client asks for the
node's protocol as its subprotocol ("pub.sp.nanomsg.org" for the stream, "rep.sp.nanomsg.org"
for replay), and every SP message is one binary WebSocket message. Live messages are "<topic>\\0" + StreamEvent; a replay request is a 4-byte request id
(high bit set) + ReplayRequest, and its reply the same id + ReplayReply (docs/stream.md).

Like `simpul tail`, it replays from the cursor until caught up, then follows the live stream;
a live event further ahead than the next offset means some were dropped (PUB/SUB drops for
slow readers), and they are replayed first: no gap, no duplicate. With --cursor the offset to
resume from is saved after every event (written to a temporary file, then renamed).
"""
import argparse
import base64
import json
import os
import select
import socket
import ssl
import struct
import sys
import time
import urllib.parse

import simpul_pb2  # generated from schemas/simpul.proto by protoc

KINDS = ("filed", "verified", "archived", "dispositioned", "follow_up", "completed", "feedback",
         "reopened", "escalated", "rerouted", "commented", "privacy_raised")


class WebSocket:
    """A minimal RFC 6455 client: binary messages, fragments joined, pings answered."""

    def __init__(self, url, protocol, timeout=10, cafile=None):
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("ws", "wss"):
            raise ValueError("a ws:// or wss:// URL")
        self.sock = socket.create_connection((u.hostname, u.port or (443 if u.scheme == "wss" else 80)),
                                             timeout=timeout)
        if u.scheme == "wss":  # the node's HTTPS certificate (tls.http_cert), checked
            ctx = ssl.create_default_context(cafile=cafile)
            self.sock = ctx.wrap_socket(self.sock, server_hostname=u.hostname)
        key = base64.b64encode(os.urandom(16)).decode()
        path = (u.path or "/") + ("?" + u.query if u.query else "")
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                           "Sec-WebSocket-Protocol: %s\r\n\r\n" % (path, u.netloc, key, protocol)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the node closed the connection during the handshake")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError("handshake refused: " + head.split(b"\r\n")[0].decode(errors="replace"))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the node closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _frame(self):
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._read(8))[0]
        mask = self._read(4) if b1 & 0x80 else None
        data = self._read(n)
        if mask:
            data = bytes(c ^ mask[i % 4] for i, c in enumerate(data))
        return b0 & 0x80, b0 & 0x0F, data

    def send(self, payload, opcode=2):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.sock.sendall(head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload)))

    def recv(self, timeout=None):
        """The next whole message, or None when nothing came within timeout seconds."""
        pending = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()
        if timeout is not None and not self.buf and not pending:
            ready, _, _ = select.select([self.sock], [], [], timeout)
            if not ready:
                return None
        message = b""
        while True:
            fin, opcode, data = self._frame()
            if opcode == 0x9:  # ping
                self.send(data, opcode=0xA)
                continue
            if opcode == 0x8:
                raise ConnectionError("the node closed the stream")
            if opcode in (0x0, 0x1, 0x2):
                message += data
                if fin:
                    return message


class Replay:
    """REQ over WebSocket: each request carries a 32-bit id with its high bit set."""

    def __init__(self, url, cafile=None):
        self.ws = WebSocket(url, "rep.sp.nanomsg.org", cafile=cafile)
        self.id = 0x80000000 | int.from_bytes(os.urandom(3), "big")

    def fetch(self, start, prefix, max_events=1000):
        self.id = 0x80000000 | ((self.id + 1) & 0x7FFFFFFF)
        req = simpul_pb2.ReplayRequest(**{"from": start, "max": max_events, "prefix": prefix})
        self.ws.send(struct.pack(">I", self.id) + req.SerializeToString())
        while True:
            msg = self.ws.recv(timeout=10)
            if msg is None:
                raise TimeoutError("no replay reply")
            if struct.unpack(">I", msg[:4])[0] == self.id:  # an older reply is dropped
                reply = simpul_pb2.ReplayReply()
                reply.ParseFromString(msg[4:])
                if reply.error:
                    raise RuntimeError("replay refused: " + reply.error)
                return reply


def describe(ev):
    env = simpul_pb2.Envelope()
    env.ParseFromString(ev.envelope)
    body = simpul_pb2.Event()
    kind = "other"
    try:
        body.ParseFromString(env.body)
        kind = body.WhichOneof("body") or "unknown"
    except Exception:  # noqa: BLE001 - an envelope that is no Event is still an event
        pass
    return {"offset": ev.offset, "topic": ev.topic, "origin": env.origin, "seq": env.seq,
            "kind": kind, "complaint_id": body.complaint_id}


def save_cursor(path, offset):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % offset)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stream", required=True, help="ws://host:port/path of the live stream")
    ap.add_argument("--replay", required=True, help="ws://host:port/path of the replay endpoint")
    ap.add_argument("--prefix", default="")
    ap.add_argument("--from", dest="start", type=int, default=1)
    ap.add_argument("--cursor", help="file with the offset to resume from, kept up to date")
    ap.add_argument("--count", type=int, default=0, help="stop after this many events")
    ap.add_argument("--idle-exit", type=float, default=0, help="stop after this many seconds without events")
    ap.add_argument("--cafile", help="CA certificates to check a wss:// node against (default: the system's)")
    a = ap.parse_args()
    nxt = a.start
    if a.cursor and os.path.exists(a.cursor):
        nxt = int(open(a.cursor).read().strip() or a.start)
    live = WebSocket(a.stream, "pub.sp.nanomsg.org", cafile=a.cafile)  # before replay: no gap
    replay = Replay(a.replay, cafile=a.cafile)
    seen, idle_since = 0, time.time()

    def emit(ev):
        nonlocal nxt, seen, idle_since
        print(json.dumps(describe(ev)), flush=True)
        nxt, seen, idle_since = ev.offset + 1, seen + 1, time.time()
        if a.cursor:
            save_cursor(a.cursor, nxt)

    def done():
        return a.count and seen >= a.count

    def catch_up(until=None):
        """Replay from nxt: everything, or up to offset `until`."""
        nonlocal nxt
        while not done():
            reply = replay.fetch(nxt, a.prefix)
            for ev in reply.events:
                if until is not None and ev.offset > until:
                    break
                emit(ev)
                if done():
                    return
            if reply.next <= nxt:  # caught up: the node has nothing newer
                return
            nxt = max(nxt, reply.next)  # offsets the prefix does not match are skipped
            if until is not None and nxt > until:
                nxt = until + 1
                return

    catch_up()
    while not done():
        msg = live.recv(timeout=0.2)
        if msg is None:
            if a.idle_exit and time.time() - idle_since >= a.idle_exit:
                break
            continue
        topic, _, data = msg.partition(b"\0")
        ev = simpul_pb2.StreamEvent()
        ev.ParseFromString(data)
        if ev.offset < nxt or not ev.topic.startswith(a.prefix):
            continue
        if ev.offset > nxt:  # something was dropped or filtered: the replay says which
            catch_up(until=ev.offset - 1)
        if ev.offset == nxt:
            emit(ev)
    return 0


if __name__ == "__main__":
    sys.exit(main())
