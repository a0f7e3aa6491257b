#!/usr/bin/env python3
"""Print a base port for a local federation: BASE..BASE+99 all free right now.

Chosen at random below Linux's ephemeral range (32768+), so that the source ports of the
federation's own outgoing connections, and other tests running in parallel that pick theirs the
same way, are unlikely to take a port of the range between this check and the nodes' start.
"""
import random
import socket
import sys


def all_free(base):
    socks = []
    try:
        for p in range(base, base + 100):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", p))
            socks.append(s)
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def free_base():
    rng = random.SystemRandom()
    for _ in range(200):
        base = rng.randrange(20000, 32000, 100)
        if all_free(base):
            return base
    sys.exit("no free range of 100 ports below 32000")


if __name__ == "__main__":
    print(free_base())
