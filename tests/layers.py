#!/usr/bin/env python3
"""The layer check (CTest `layers`): dependencies point one way, and nothing depends on itself
in a circle.

1. Includes: a file may include files of its own folder and of folders of a lower layer,
   never of a higher layer nor of another folder of the same layer (LAYERS below, the map in
   docs/architecture.md). Tests, benchmarks and fuzz targets may include anything.
2. Circles: from the built objects (`nm`), unit A depends on unit B when A uses a symbol B
   defines. No group of units may depend on each other in a circle, within a folder or across.

    tests/layers.py SOURCE_DIR BUILD_DIR
Exits 1 naming every offending include and every circle.
"""
import collections
import os
import re
import subprocess
import sys

# Lowest first. A folder may include its own files and those of any folder of a lower rank.
LAYERS = [
    ("base", 0),            # errors, logging, string map, arena, diagnostics, YAML, files
    ("schemas", 0),         # the wire and state formats (protobuf)
    ("broker", 1),          # envelopes, crypto, clock, the RocksDB log, replication, stream
    ("topology", 1),        # the federation's YAML model and routing
    ("client", 2),          # libsimpul-stream, the integrators' C client (over broker/tail)
    ("node/lifecycle", 2),  # the fold, complaint state and statistics, calendar, SLA, actions
    ("node/intake", 3),     # channels' parsing, sealing, attachments' blobs
    ("node/app", 4),        # the parts of a running node: config, privacy views, status, ...
    ("node/http", 5),       # the HTTP API, tokens, the batcher, the dashboard
    ("node", 6),            # the daemon that wires them
    ("node/cli", 7),        # the simpul command
]
FREE = ("tests", "bench", "build")  # may include anything; their objects are not checked
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(path):
    """(folder, rank) of a source path, the deepest folder of LAYERS containing it."""
    best = None
    for folder, rank in LAYERS:
        if os.path.dirname(path) == folder or path.startswith(folder + "/"):
            if best is None or len(folder) > len(best[0]):
                best = (folder, rank)
    return best


def check_includes(src):
    problems = []
    for d, dirs, files in os.walk(src):
        rel_d = os.path.relpath(d, src)
        dirs[:] = [x for x in dirs if not x.startswith(".") and not x.startswith("build")]
        if rel_d.split(os.sep)[0] in FREE:
            continue
        for f in files:
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.normpath(os.path.join(rel_d, f))
            here = layer_of(path)
            if not here or f.endswith("_test.c") or f.endswith("_testutil.h"):
                continue
            with open(os.path.join(src, path), errors="replace") as fh:
                for n, line in enumerate(fh, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    there = layer_of(m.group(1))
                    if not there or there[0] == here[0]:
                        continue
                    if there[1] >= here[1]:
                        problems.append("%s:%d: %s (layer %d) includes %s (%s, layer %d)" % (
                            path, n, here[0], here[1], m.group(1), there[0], there[1]))
    return problems


def objects(build):
    for d, _, files in os.walk(build):
        if any(("/%s/" % f) in d + "/" for f in FREE[:2]) or "CMakeFiles" not in d:
            continue
        for f in files:
            if f.endswith(".c.o") and not f.endswith("_test.c.o"):
                yield os.path.join(d, f)


def unit_name(obj):
    m = re.search(r"CMakeFiles/[^/]+\.dir/(.*)\.c\.o$", obj)
    return m.group(1) if m else obj


def symbol_graph(build):
    defines, uses = {}, collections.defaultdict(set)
    for obj in objects(build):
        unit = unit_name(obj)
        out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDRBC":
                defines[parts[2]] = unit
            elif len(parts) == 2 and parts[0] == "U":
                uses[unit].add(parts[1])
    graph = collections.defaultdict(set)
    for unit, syms in uses.items():
        for s in syms:
            other = defines.get(s)
            if other and other != unit:
                graph[unit].add(other)
    return graph


def circles(graph):
    """Strongly connected components of more than one unit (Tarjan, iterative)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]
    for root in list(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]; counter[0] += 1
        stack.append(root); on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]; counter[0] += 1
                    stack.append(w); on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop(); on.discard(x); comp.append(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, build = sys.argv[1], sys.argv[2]
    problems = check_includes(src)
    graph = symbol_graph(build)
    if not graph:
        problems.append("no objects found under %s: build first" % build)
    for comp in circles(graph):
        edges = ["%s -> %s" % (a, ", ".join(sorted(b for b in graph[a] if b in comp))) for a in comp]
        problems.append("circle: " + "; ".join(edges))
    for p in problems:
        print(p)
    print("layers: %d problem(s), %d units checked" % (len(problems), len(graph)))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
