#!/usr/bin/env python3
"""The national monitoring dashboard against real simpul processes (deploy/federation.sh).

    dashboard_test.py SIMPUL_BINARY            GET /api/v1/dashboard and the page's assets
    dashboard_test.py SIMPUL_BINARY --browser  the page rendered by headless Chromium

Five nodes (national, Jawa Timur, Jawa Tengah, Kota Madiun, Dinas PUPR Madiun). Six complaints:
three in Kota Madiun (35.77) — one handled to "resolved" with a rating of 4, one followed up,
one left unverified — one at Jawa Timur's own level (35) and two in 33.74, a regency of Jawa
Tengah without a node of its own. The national node's dashboard must count exactly those, per
province, per kabupaten/kota (with the "other" row for what no child node covers) and per
agency. Then national is restarted with its clock 30 days ahead (SIMPUL_CLOCK_OFFSET_MS, as
sla_test does) so that the unverified ones are overdue: checked within the SLA timer's first
30 s, before national would escalate anything.

Then a seventh complaint, filed through the app in Kota Madiun, is dispositioned to Dinas PUPR
and left unanswered: 30 days ahead its respond deadline has passed, so "followed up within SLA"
counts it as missed (2 of 3 first responses due came in time), and a channel filter shows it
alone. Unknown parameters (and category, which the dashboard cannot filter by) are refused.

The browser mode checks the DOM after the page's JavaScript ran (ids and data-* attributes)
and that a screenshot is a real picture. It exits 77 (CTest skip) when chromium is absent.
SIMPUL_DASHBOARD_SCREENSHOT=FILE keeps a copy of the screenshot.
"""
import html.parser
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

SIMPUL = os.path.abspath(sys.argv[1])
BROWSER = "--browser" in sys.argv[2:]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fedlib  # noqa: E402
from fedlib import ENV, FAILS, FED, PORTS, check, fed, req, status_at, token, wait_for  # noqa: E402

NODES = "national,prov-35,prov-33,kota-3577,opd-3577-pupr"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
T = None
TOK = {}
DAY = 86400 * 1000


def raw_get(node, path, extra=""):
    """Status line and headers of a GET, without following redirects."""
    with socket.create_connection(("127.0.0.1", PORTS[node]), timeout=10) as c:
        c.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n" % (path, extra)).encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode()
    lines = head.split("\r\n")
    return int(lines[0].split()[1]), {k.lower(): v for k, v in (l.split(": ", 1) for l in lines[1:])}


def act(node, cid, tok, body):
    s, b, _ = req(node, "POST", "/api/v1/complaints/%s/actions" % cid, body, token=tok)
    if not check("%s %s at %s" % (body["action"], cid, node), s == 200, (s, b)):
        raise SystemExit(1)
    return b


def file(node, region, category="infrastruktur/pju"):
    s, b, _ = req(node, "POST", "/api/v1/complaints",
                  {"body": "Aduan uji dasbor", "category": category, "region": region})
    if not check("complaint filed at %s in %s" % (node, region), s == 201, (s, b)):
        raise SystemExit(1)
    return b["id"]


def dashboard(scope="national", node="national", weeks=None, channel=None):
    q = "?scope=" + scope + ("&weeks=%d" % weeks if weeks else "") + ("&channel=" + channel if channel else "")
    s, b, _ = req(node, "GET", "/api/v1/dashboard" + q)
    return b if s == 200 else {}


def rows(d, key="regions"):
    return {r["scope"] or "other": r for r in d.get(key, [])}


# ---- the federation and its complaints ----

def setup():
    global T
    T = fedlib.init(SIMPUL, "simpul-dash-")
    fedlib.up(NODES)
    TOK["madiun"] = token("kota-3577", "madiun-admin", "admin-koordinator")
    TOK["app"] = token("kota-3577", "madiun-app", "reporter")
    TOK["pupr"] = token("opd-3577-pupr", "pupr-1", "admin-penghubung")


def file_and_handle():
    """Six complaints; A resolved (rating 4), B in progress, the others waiting."""
    a, b, c = (file("kota-3577", "35.77") for _ in range(3))
    file("prov-35", "35", "umum")
    file("prov-33", "33.74", "umum")
    file("prov-33", "33.74", "umum")
    for cid in (a, b):
        act("kota-3577", cid, TOK["madiun"], {"action": "verify", "note": "lengkap"})
        act("kota-3577", cid, TOK["madiun"], {"action": "disposition", "by_rule": True})
    for cid in (a, b):
        wait_for(lambda: status_at("opd-3577-pupr", cid) == "dispositioned")
        act("opd-3577-pupr", cid, TOK["pupr"], {"action": "follow-up", "text": "Petugas ke lokasi"})
    act("opd-3577-pupr", a, TOK["pupr"], {"action": "complete", "summary": "Lampu diganti"})
    wait_for(lambda: status_at("kota-3577", a) == "completed")
    act("kota-3577", a, TOK["app"], {"action": "feedback", "satisfied": True, "rating": 4})
    check("national holds the final states",
          wait_for(lambda: status_at("national", a) == "resolved"
                   and status_at("national", b) == "in-progress"
                   and dashboard().get("summary", {}).get("filed") == 6))
    return a, b, c


def clock_ahead(node, days):
    """Restart node with its clock days ahead, so that deadlines have passed for it."""
    fed("stop", T, node)
    fed("start", T, node, env=dict(ENV, SIMPUL_CLOCK_OFFSET_MS=str(days * DAY)))


# ---- the JSON endpoint ----

def expect(what, row, **want):
    got = {k: row.get(k) for k in want}
    check(what, got == want, {"want": want, "got": got})


def test_national_counts():
    d = dashboard()
    s = d["summary"]
    expect("national summary counts what was filed and done", s, filed=6, in_progress=5, completed=1,
           resolved=1, overdue=0, first_response=2, first_response_in_sla=2,
           followed_up_in_sla_pct=100.0, feedback=1, satisfied=1, satisfied_pct=100.0, rating_mean=4.0)
    check("time to first response: exact mean, median to a bucket",
          0 < s["response_mean_ms"] < 3600000 and s["response_median"] == {"bucket": "le_1h", "le_ms": 3600000}, s)
    check("weekly trend over 12 weeks: 6 filed, 1 completed",
          len(d["weeks"]) == 12 and len(s["trend"]["filed"]) == 12 and sum(s["trend"]["filed"]) == 6
          and sum(s["trend"]["completed"]) == 1, (d["weeks"], s["trend"]))
    check("weeks start on Mondays, oldest first",
          all(time.strptime(w, "%Y-%m-%d").tm_wday == 0 for w in d["weeks"]) and d["weeks"] == sorted(d["weeks"]), d["weeks"])
    r = rows(d)
    check("one row per province of the federation, by code", list(r) == ["province:33", "province:35"], list(r))
    expect("Jawa Timur: 4 filed, 1 completed, satisfied, rated 4", r["province:35"], name="Jawa Timur",
           filed=4, in_progress=3, completed=1, resolved=1, overdue=0, satisfied_pct=100.0, rating_mean=4.0,
           timezone="WIB")
    expect("Jawa Tengah: 2 filed, both open", r["province:33"], name="Jawa Tengah", filed=2, in_progress=2,
           completed=0, satisfied_pct=None, response_mean_ms=None)
    check("agencies at national: the national node as a holder", [a["scope"] for a in d["agencies"]] == ["agency:national"], d["agencies"])
    check("scope and breadcrumb", d["scope"]["param"] == "national" and d["scope"]["path"][0]["scope"] == "national", d["scope"])


def test_drill_down():
    d = dashboard("province:35")
    r = rows(d)
    expect("province 35: summary", d["summary"], filed=4, completed=1)
    expect("Kota Madiun row", r.get("region:35.77", {}), name="Kota Madiun", kind="kota", filed=3, completed=1,
           in_progress=2)
    expect("province-level complaints in the 'other' row", r.get("other", {}), kind="other", filed=1, in_progress=1)
    a = rows(d, "agencies")
    expect("Pemprov Jawa Timur holds its own complaint", a.get("agency:prov-35", {}), filed=1, in_progress=1)
    expect("Dinas PUPR holds the two it was given", a.get("agency:opd-3577-pupr", {}), filed=2, completed=1,
           in_progress=1, first_response=2)
    check("breadcrumb national > Jawa Timur", [p["scope"] for p in d["scope"]["path"]] == ["national", "province:35"], d["scope"])
    d = dashboard("province:33")
    expect("Jawa Tengah: 33.74 has no node, so its complaints are 'other'", rows(d).get("other", {}), filed=2)
    d = dashboard("region:35.77")
    a = rows(d, "agencies")
    expect("Kota Madiun summary", d["summary"], filed=3, completed=1)
    expect("Kota Madiun holds the unverified one", a.get("agency:kota-3577", {}), filed=1)
    check("no region rows below a kabupaten/kota", d["regions"] == [], d["regions"])
    d = dashboard("agency:opd-3577-pupr", weeks=4)
    expect("agency scope: Dinas PUPR", d["summary"], filed=2, completed=1, in_progress=1, satisfied=1)
    check("weeks=4 gives 4 weeks", len(d["weeks"]) == 4 and len(d["summary"]["trend"]["completed"]) == 4, d["weeks"])
    check("breadcrumb ends at the agency", [p["scope"] for p in d["scope"]["path"]]
          == ["national", "province:35", "region:35.77", "agency:opd-3577-pupr"], d["scope"]["path"])


def test_matches_stats_and_replication():
    s, st, _ = req("national", "GET", "/api/v1/stats?region=35")
    p35 = rows(dashboard())["province:35"]
    check("same figures as /api/v1/stats", st["totals"]["filed"] == p35["filed"]
          and st["totals"]["completed"] == p35["completed"] and st["overdue"] == p35["overdue"], (st, p35))
    rep = wait_for(lambda: (lambda r: r if r and all(p["connected"] and p["lag"] == 0 for p in r["peers"]) else None)(
        dashboard().get("replication")), 10)
    check("replication: national's peers connected, nothing lagging, last contact known",
          rep and sorted(p["id"] for p in rep["peers"]) == ["prov-33", "prov-35"]
          and all(p["last_contact"] and p["name"] and p["timezone"] == "WIB" for p in rep["peers"]), rep)
    check("replication: no peer address on the public page", rep and "address" not in json.dumps(rep), rep)


def test_errors():
    for q, code in (("scope=province:99", 404), ("scope=agency:nope", 404), ("scope=bogus", 400),
                    ("scope=province:35.77", 400), ("weeks=0", 400), ("weeks=53", 400), ("weeks=x", 400)):
        s, b, _ = req("national", "GET", "/api/v1/dashboard?" + q)
        check("dashboard?%s -> %d" % (q, code), s == code and "error" in b, (s, b))


def test_assets():
    s, h = raw_get("national", "/dashboard")
    check("/dashboard redirects to /dashboard/", s == 301 and h.get("location") == "dashboard/", (s, h))
    for path, ctype in (("/dashboard/", "text/html"), ("/dashboard/app.js", "text/javascript"),
                        ("/dashboard/app.css", "text/css")):
        s, body, h = req("national", "GET", path)
        check("%s served as %s with an ETag" % (path, ctype), s == 200 and h["Content-Type"].startswith(ctype)
              and h["Cache-Control"] == "no-cache" and h["ETag"] and len(body) > 1000, (s, dict(h)))
        s2, h2 = raw_get("national", path, "If-None-Match: %s\r\n" % h["ETag"])
        check("%s revalidates with 304" % path, s2 == 304 and h2.get("etag") == h["ETag"], (s2, h2))
    s, body, h = req("national", "GET", "/dashboard/", raw=True)
    check("the page loads nothing from elsewhere (CSP, no http URL)",
          "default-src 'none'" in h["Content-Security-Policy"] and b"http" not in body.replace(b"http-equiv", b""), h)
    s, b, _ = req("national", "GET", "/dashboard/secret.txt")
    check("an unknown asset is a JSON 404", s == 404 and b["error"] == "not_found", (s, b))


def test_overdue_after_deadlines():
    clock_ahead("national", 30)
    d = dashboard()
    r = rows(d)
    expect("30 days later: the four unverified are overdue", d["summary"], overdue=4, filed=6)
    expect("... two in Jawa Timur", r["province:35"], overdue=2)
    expect("... two in Jawa Tengah", r["province:33"], overdue=2)
    p = rows(dashboard("province:35"))
    expect("... one in Kota Madiun, one at province level", {"m": p["region:35.77"]["overdue"],
           "o": p["other"]["overdue"]}, m=1, o=1)
    s, st, _ = req("national", "GET", "/api/v1/stats?region=33")
    check("overdue agrees with /api/v1/stats", st["overdue"] == 2, st)


def file_by_app():
    """A seventh complaint, through the app in Kota Madiun, dispositioned to Dinas PUPR and left
    unanswered (national's clock is 30 days ahead by now: its respond deadline has passed)."""
    s, b, _ = req("kota-3577", "POST", "/api/v1/complaints", {"body": "Aduan uji dasbor lewat aplikasi",
                  "category": "infrastruktur/pju", "region": "35.77", "channel": "app"})
    check("an app complaint filed in Kota Madiun", s == 201, (s, b))
    act("kota-3577", b["id"], TOK["madiun"], {"action": "verify", "note": "lengkap"})
    act("kota-3577", b["id"], TOK["madiun"], {"action": "disposition", "by_rule": True})
    check("national sees it dispositioned, nobody answering",
          wait_for(lambda: status_at("national", b["id"]) == "dispositioned"))
    return b["id"]


def test_channel_filter():
    d = dashboard(channel="app")
    check("channel=app: the filter is named in the answer", d.get("channel") == "app", d.get("channel"))
    expect("channel=app: only the app complaint", d.get("summary", {}), filed=1, in_progress=1, first_response=0)
    expect("channel=app: in Jawa Timur, not in Jawa Tengah", {k: v["filed"] for k, v in rows(d).items()},
           **{"province:33": 0, "province:35": 1})
    expect("channel=app: held by Dinas PUPR", rows(dashboard("region:35.77", channel="app"), "agencies")
           .get("agency:opd-3577-pupr", {}), filed=1, in_progress=1)
    expect("channel=web: the six web complaints", dashboard(channel="web").get("summary", {}), filed=6,
           first_response=2, followed_up_in_sla_pct=100.0)
    expect("channel=sms: none", dashboard("province:35", channel="sms").get("summary", {}), filed=0,
           followed_up_in_sla_pct=None)
    s, st, _ = req("national", "GET", "/api/v1/stats?region=35.77&channel=app")
    check("/api/v1/stats?channel=app", s == 200 and st.get("channel") == "app" and st["totals"]["filed"] == 1, st)
    for q, name in (("category=kesehatan", "category"), ("scope=national&colour=red", "colour"),
                    ("channel=fax", "channel"), ("weeks=4&weeks=5", "weeks")):
        s, b, _ = req("national", "GET", "/api/v1/dashboard?" + q)
        check("dashboard?%s -> 400 naming %s" % (q, name), s == 400 and b.get("error") == "invalid_field"
              and "'%s'" % name in b.get("message", ""), (s, b))
    s, b, _ = req("national", "GET", "/api/v1/stats?category=kesehatan")
    check("stats?category -> 400 naming it", s == 400 and "'category'" in b.get("message", ""), (s, b))


def test_missed_first_responses():
    d = dashboard()
    expect("30 days later the unanswered one is a missed first response, not left out", d["summary"],
           filed=7, first_response=2, first_response_in_sla=2, unanswered_overdue=1, followed_up_in_sla_pct=66.7)
    check("... and it is overdue too", d["summary"]["overdue"] >= 1, d["summary"])
    expect("... in Jawa Timur's row", rows(d)["province:35"], unanswered_overdue=1, followed_up_in_sla_pct=66.7)
    expect("... at Dinas PUPR, which holds it", rows(dashboard("region:35.77"), "agencies")["agency:opd-3577-pupr"],
           first_response=2, unanswered_overdue=1, followed_up_in_sla_pct=66.7)
    expect("... and in the app channel, its only complaint", dashboard(channel="app").get("summary", {}),
           unanswered_overdue=1, followed_up_in_sla_pct=0.0)
    expect("Kota Madiun today: nothing is due yet, so 100 %", dashboard("region:35.77", node="kota-3577")["summary"],
           unanswered_overdue=0, followed_up_in_sla_pct=100.0)
    s, st, _ = req("national", "GET", "/api/v1/stats?region=35.77")
    check("/api/v1/stats counts the unanswered one too", s == 200 and st.get("unanswered_overdue") == 1, st)


# ---- the page in a browser ----

class Dom(html.parser.HTMLParser):
    """Elements with an id (their attributes), and the data-field cells of each row."""

    def __init__(self):
        super().__init__()
        self.ids, self.cells, self.row, self.text, self.body = {}, {}, None, [], {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        if "id" in a:
            self.ids[a["id"]] = a
        if tag == "tr" and "id" in a:
            self.row = a["id"]
            self.cells[self.row] = {}
        if tag == "td" and self.row and "data-field" in a:
            self.cells[self.row][a["data-field"]] = a

    def handle_data(self, data):
        self.text.append(data)


CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", "--virtual-time-budget=8000"]


def chromium(url, *extra):
    profile = tempfile.mkdtemp(dir=T)
    out = subprocess.run([CHROMIUM, *CHROME_FLAGS, "--user-data-dir=" + profile, *extra, url],
                         capture_output=True, text=True, timeout=90)
    return out.stdout


def render(fragment=""):
    dom = Dom()
    dom.feed(chromium("http://127.0.0.1:%d/dashboard/%s" % (PORTS["national"], fragment), "--dump-dom"))
    return dom


def val(dom, row, field, attr="data-value"):
    return dom.cells.get(row, {}).get(field, {}).get(attr)


def test_browser_national():
    dom = render()
    text = " ".join(dom.text)
    check("the script ran and drew the data", dom.body.get("data-state") == "ready"
          and dom.body.get("data-scope") == "national", dom.body)
    check("province names on the page", "Jawa Timur" in text and "Jawa Tengah" in text, text[:500])
    check("Jawa Timur row: 4 filed, 1 completed, 2 overdue",
          (val(dom, "row-province-35", "filed"), val(dom, "row-province-35", "completed"),
           val(dom, "row-province-35", "overdue")) == ("4", "1", "2"), dom.cells.get("row-province-35"))
    check("overdue cells highlighted", "overdue" in (dom.cells["row-province-35"]["overdue"].get("class") or "")
          and "overdue" not in (dom.cells["row-province-35"]["filed"].get("class") or ""), dom.cells["row-province-35"])
    check("Jawa Tengah row: 2 filed, 2 in progress",
          (val(dom, "row-province-33", "filed"), val(dom, "row-province-33", "in_progress")) == ("2", "2"),
          dom.cells.get("row-province-33"))
    check("satisfaction shown: 100 %, rating 4",
          val(dom, "row-province-35", "satisfaction") == "100" and val(dom, "row-province-35", "satisfaction", "data-rating") == "4"
          and "★ 4" in text, dom.cells.get("row-province-35"))
    check("summary cards: 6 filed, 4 overdue (highlighted), 1 completed",
          dom.ids.get("sum-filed", {}).get("data-value") == "6" and dom.ids.get("sum-completed", {}).get("data-value") == "1"
          and dom.ids.get("sum-overdue", {}).get("data-value") == "4" and "overdue" in dom.ids["sum-overdue"].get("class", ""),
          {k: v for k, v in dom.ids.items() if k.startswith("sum-")})
    check("weekly trend drawn as SVG", "trend-svg" in dom.ids
          and sum(int(x) for x in val(dom, "row-province-35", "trend", "data-filed").split(",")) == 4)
    check("replication rows: both peers connected", dom.ids.get("peer-prov-35", {}).get("data-connected") == "true"
          and dom.ids.get("peer-prov-33", {}).get("data-connected") == "true", [k for k in dom.ids if k.startswith("peer")])
    check("times in WIB", re.search(r"Diperbarui \d+ \w+ \d{4} \d\d:\d\d:\d\d WIB", text), text[:300])


def test_browser_drill_down():
    dom = render("#province:35")
    text = " ".join(dom.text)
    check("drill-down: Kota Madiun row with 3 filed", "Kota Madiun" in text
          and val(dom, "row-region-35-77", "filed") == "3", dom.cells.get("row-region-35-77"))
    check("drill-down: the 'other' row and Dinas PUPR", val(dom, "row-other", "filed") == "1"
          and val(dom, "row-agency-opd-3577-pupr", "completed") == "1", list(dom.cells))


def test_browser_channel():
    dom = render("#province:35&channel=sms")
    text = " ".join(dom.text)
    check("channel filter from the address: SMS only, none filed", dom.body.get("data-channel") == "sms"
          and dom.ids.get("sum-filed", {}).get("data-value") == "0" and "hanya kanal SMS 1708" in text,
          (dom.body, dom.ids.get("sum-filed")))
    dom = render("#national&channel=web")
    check("channel=web: the six web complaints", dom.ids.get("sum-filed", {}).get("data-value") == "6"
          and "channel" in dom.ids, dom.ids.get("sum-filed"))


def test_screenshot():
    png = os.path.join(T, "dashboard.png")
    chromium("http://127.0.0.1:%d/dashboard/" % PORTS["national"], "--screenshot=" + png, "--window-size=1280,900")
    data = open(png, "rb").read() if os.path.exists(png) else b""
    w, h = struct.unpack(">II", data[16:24]) if data[:8] == b"\x89PNG\r\n\x1a\n" else (0, 0)
    check("screenshot: a 1280x900 PNG with real content", (w, h) == (1280, 900) and len(data) > 40000, (w, h, len(data)))
    if os.environ.get("SIMPUL_DASHBOARD_SCREENSHOT") and data:
        shutil.copy(png, os.environ["SIMPUL_DASHBOARD_SCREENSHOT"])


def main():
    if BROWSER and not CHROMIUM:
        print("chromium is not installed (deploy/install-deps.sh --browser): skipped")
        return 77
    t0 = time.time()
    try:
        setup()
        file_and_handle()
        if BROWSER:
            clock_ahead("national", 30)
            test_browser_national()
            test_browser_drill_down()
            test_browser_channel()
            test_screenshot()
        else:
            test_national_counts()
            test_drill_down()
            test_matches_stats_and_replication()
            test_errors()
            test_assets()
            test_overdue_after_deadlines()
            file_by_app()
            test_channel_filter()
            test_missed_first_responses()
    finally:
        if T:
            subprocess.run([FED, "down", T], env=ENV, stdout=subprocess.DEVNULL)
            if not FAILS:
                shutil.rmtree(T, ignore_errors=True)
            else:
                print("logs kept in", T)
    print("%d failed (%.1f s)" % (len(FAILS), time.time() - t0))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
