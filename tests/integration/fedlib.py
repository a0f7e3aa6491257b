"""What the Python integration tests share: a local federation of real simpul processes
(deploy/federation.sh), requests to their HTTP APIs, tokens, and the ok/FAIL report.

Each test is its own process, so the state is module-level:

    import fedlib
    from fedlib import check, req, token, wait_for, status_at, PORTS, FAILS
    T = fedlib.init(sys.argv[1], "simpul-x-")     # the federation's folder
    fedlib.up("national,prov-35,kota-3577")         # fills PORTS (HTTP) and STREAMS
    ...
    fedlib.down()
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
FED = os.path.join(ROOT, "deploy", "federation.sh")
SIMPUL = None
T = None
ENV = dict(os.environ)
PORTS, STREAMS, FAILS = {}, {}, []


def init(simpul, prefix):
    """Remember the binary, make the federation's folder, return it."""
    global SIMPUL, T
    SIMPUL = os.path.abspath(simpul)
    ENV["SIMPUL"] = SIMPUL
    T = tempfile.mkdtemp(prefix=prefix)
    return T


def fed(*args, env=None):
    subprocess.run([FED, *args], check=True, env=env or ENV, stdout=subprocess.DEVNULL)


def up(nodes, sync=300):
    """Start these nodes on 100 free ports; learn their HTTP ports and stream endpoints."""
    sys.path.insert(0, HERE)
    import free_base
    fed("up", T, "--port", str(free_base.free_base()), "--only", nodes, "--sync", str(sync))
    for n in nodes.split(","):
        with open(os.path.join(T, n, "node.yaml")) as f:
            cfg = f.read()
        PORTS[n] = int(re.search(r"http: http://127.0.0.1:(\d+)", cfg).group(1))
        STREAMS[n] = (re.search(r"stream: (\S+)", cfg).group(1), re.search(r"replay: (\S+)", cfg).group(1))


def down():
    subprocess.run([FED, "down", T], env=ENV, stdout=subprocess.DEVNULL)


def cleanup():
    """For a test's `finally:`: stop the federation; remove its folder when every check passed,
    else keep it (logs, data) and say where."""
    down()
    if not FAILS and not os.environ.get("SIMPUL_KEEP_DATA"):  # set it to read the logs after
        shutil.rmtree(T, ignore_errors=True)
    else:
        print("data kept in", T)


def tally(t0):
    """Print how many checks failed and how long the test took; the process exit code."""
    print("%s, %d failed (%.1f s)" % ("FAILED" if FAILS else "passed", len(FAILS), time.time() - t0))
    return 1 if FAILS else 0


def check(name, cond, detail=""):
    print(("ok: " if cond else "FAIL: ") + name + ("" if cond else "  " + str(detail)[:800]))
    if not cond:
        FAILS.append(name)
    return cond


def req(node, method, path, body=None, token=None, ctype=None, headers=None, raw=False):
    """(status, body, headers) of one request to node's HTTP port. A dict or list body is sent as
    JSON, a str or bytes as it is. The answer is parsed JSON, else text (bytes with raw)."""
    h = dict(headers or {})
    data = None
    if body is not None:
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        else:
            data = body if isinstance(body, bytes) else body.encode()
    if ctype:
        h["Content-Type"] = ctype
    if token:
        h["Authorization"] = "Bearer " + token
    r = urllib.request.Request("http://127.0.0.1:%d%s" % (PORTS[node], path), data=data,
                               method=method, headers=h)
    try:
        with urllib.request.urlopen(r, timeout=20) as resp:
            status, text, hdrs = resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as e:
        status, text, hdrs = e.code, e.read(), e.headers
    if raw:
        return status, text, hdrs
    try:
        return status, json.loads(text), hdrs
    except ValueError:
        return status, text.decode(errors="replace"), hdrs


def token(node, name, role):
    out = subprocess.run([SIMPUL, "token", "create", "--data", os.path.join(T, node, "data"),
                          "--name", name, "--role", role], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def wait_for(fn, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    return fn()


def status_at(node, cid):
    s, b, _ = req(node, "GET", "/api/v1/complaints/" + cid)
    return b.get("status") if s == 200 else None


def ldb_dump(db):
    """Every key and value of every column family, decoded by RocksDB itself, as bytes."""
    out = b""
    cfs = subprocess.run(["ldb", "--db=" + db, "list_column_families"], capture_output=True, text=True)
    names = re.findall(r"[\w-]+", cfs.stdout.split(":", 1)[-1]) or ["default"]
    for cf in names:
        r = subprocess.run(["ldb", "--db=" + db, "--column_family=" + cf, "--hex", "scan"],
                           capture_output=True, text=True)
        for line in r.stdout.splitlines():
            for h in re.findall(r"0x([0-9A-Fa-f]+)", line):
                out += bytes.fromhex(h) + b"\n"
    return out, names


def scan_files(root):
    """Raw bytes of every file under root (WAL, SST, logs, tokens, blobs, keys...)."""
    blob = b""
    for d, _, files in os.walk(root):
        for f in files:
            try:
                blob += open(os.path.join(d, f), "rb").read()
            except OSError:
                pass
    return blob
