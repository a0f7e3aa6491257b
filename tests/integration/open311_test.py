"""Open311 GeoReport v2 as an integrator tries it, against the specification
(http://wiki.open311.org/GeoReport_v2), in JSON and in XML.

    open311_test.py SIMPUL_BINARY

A kota node with an api_key configured. Every endpoint is called in both formats; each answer
is checked against the shape of the spec's documented example for it (element names and their
order, list roots and item names), and the JSON and XML answers must carry the same values.
Then what an integrator relies on: the description read back byte for byte, address,
address_id and media_url as POSTed, lat/long present (empty) when absent, status lists, the
api_key refused with the spec's 403 text, errors as the spec's error list on every path
(unknown service, unknown request, unknown route, wrong method) in the requested format.
"""
import os
import sys
import time
import urllib.parse
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fedlib
from fedlib import check, req

NODE = "kota-3577"
API_KEY = "kunci-aplikasi-warga"

# The spec's example answers, as (root, item, fields in order); None: a single object root.
SERVICE = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
DEFINITION = ["service_code", "attributes"]
ATTRIBUTE = ["variable", "code", "datatype", "required", "datatype_description", "order",
             "description", "values"]
VALUE = ["key", "name"]
CREATED = ["service_request_id", "service_notice", "account_id"]
REQUEST = ["service_request_id", "status", "status_notes", "service_name", "service_code",
           "description", "agency_responsible", "service_notice", "requested_datetime",
           "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
           "long", "media_url"]
ERROR = ["code", "description"]
DISCOVERY = ["changeset", "contact", "key_service", "endpoints"]
ENDPOINT = ["specification", "url", "changeset", "type", "formats"]
EXTENSIONS = {"jurisdiction_id"}  # ours, after the spec's fields


def get(path, **kw):
    return req(NODE, "GET", path, **kw)


def get_xml(path):
    s, body, h = req(NODE, "GET", path, raw=True)
    return s, body, h


def post(fmt, form):
    return req(NODE, "POST", "/open311/v2/requests." + fmt, urllib.parse.urlencode(form),
               ctype="application/x-www-form-urlencoded", raw=(fmt == "xml"))


def tags(el):
    return [c.tag for c in el]


def fields_ok(got, spec):
    """The spec's fields first, in its order, then only our extensions."""
    return got[:len(spec)] == spec and set(got[len(spec):]) <= EXTENSIONS


def xml_of(body):
    try:
        return ET.fromstring(body)
    except ET.ParseError as e:
        return ET.Element("unparseable:" + str(e))


def xml_list(body, root, item):
    el = xml_of(body)
    return el if el.tag == root and all(c.tag == item for c in el) else None


def text(el, name):
    c = el.find(name)
    return None if c is None else (c.text or "")


def same_values(js, el, keys):
    """JSON and XML say the same: strings equal, numbers equal, null/absent as empty."""
    for k in keys:
        j, x = js.get(k), text(el, k)
        if isinstance(j, bool):
            j = "true" if j else "false"
        if j is None:
            if x not in ("", None):
                return k
        elif isinstance(j, float):
            if abs(float(x) - j) > 1e-6:
                return k
        elif str(j) != x:
            return k
    return None


def restart_with_key():
    fedlib.fed("stop", fedlib.T, NODE)
    with open(os.path.join(fedlib.T, NODE, "node.yaml"), "a") as f:
        f.write("channels:\n  open311_api_keys: \"lain,%s\"\n" % API_KEY)
    fedlib.fed("start", fedlib.T, NODE)


def test_discovery_and_services():
    s, js, _ = get("/open311/discovery.json")
    check("discovery.json: the spec's fields", s == 200 and list(js) == DISCOVERY
          and list(js["endpoints"][0]) == ENDPOINT and "text/xml" in js["endpoints"][0]["formats"], js)
    s, body, h = get_xml("/open311/discovery.xml")
    el = xml_of(body)
    ep = el.find("endpoints/endpoint")
    check("discovery.xml: the spec's example shape", s == 200 and el.tag == "discovery" and tags(el) == DISCOVERY
          and ep is not None and tags(ep) == ENDPOINT and tags(ep.find("formats")) == ["format", "format"], body[:300])
    check("XML is served as text/xml", h.get("Content-Type", "").startswith("text/xml"), h.get("Content-Type"))
    s, js, _ = get("/open311/v2/services.json")
    check("services.json: a list of services with the spec's fields",
          s == 200 and js and all(list(x) == SERVICE for x in js) and any(x["service_code"] == "infrastruktur/pju" for x in js), js)
    s, body, _ = get_xml("/open311/v2/services.xml")
    el = xml_list(body, "services", "service")
    check("services.xml: <services><service> with the spec's fields in order",
          s == 200 and el is not None and len(el) == len(js) and all(tags(c) == SERVICE for c in el), body[:300])
    if el is not None and len(el) == len(js):
        bad = [same_values(j, x, SERVICE) for j, x in zip(js, el)]
        check("services: JSON and XML carry the same values", not any(bad), bad)
    codes = [x["service_code"] for x in js] if s == 200 else []
    return codes


def test_service_definition():
    s, js, _ = get("/open311/v2/services/infrastruktur/pju.json")
    attrs = js.get("attributes", []) if isinstance(js, dict) else []
    check("services/{code}.json: the spec's definition", s == 200 and list(js) == DEFINITION
          and js["service_code"] == "infrastruktur/pju" and attrs and all(list(a) == ATTRIBUTE for a in attrs), js)
    s2, js2, _ = get("/open311/v2/services/infrastruktur%2Fpju.json")
    check("a service code with its slash escaped is the same service", s2 == 200 and js2 == js, (s2, js2))
    lists = [a for a in attrs if a["datatype"] == "singlevaluelist"]
    check("singlevaluelist attributes list their values {key, name}",
          lists and all(a["values"] and all(list(v) == VALUE for v in a["values"]) for a in lists), lists)
    s, body, _ = get_xml("/open311/v2/services/infrastruktur/pju.xml")
    el = xml_of(body)
    xa = el.findall("attributes/attribute")
    check("services/{code}.xml: <service_definition><attributes><attribute>... as the example",
          s == 200 and el.tag == "service_definition" and tags(el) == DEFINITION and len(xa) == len(attrs)
          and all(tags(a) == ATTRIBUTE for a in xa)
          and all(tags(v) == VALUE for a in xa for v in a.find("values")), body[:400])
    for fmt in ("json", "xml"):
        s, body, h = req(NODE, "GET", "/open311/v2/services/tidak-ada." + fmt, raw=True)
        ok = s == 404 and (body.startswith(b"[{\"code\":404") if fmt == "json" else
                           xml_list(body, "errors", "error") is not None and text(xml_of(body)[0], "code") == "404")
        check("unknown services/{code}.%s: 404 as the spec's error list" % fmt, ok, (s, body[:200]))


def test_post_and_read_back(codes):
    desc = "  Lampu PJU mati sejak Senin,\nmalam gelap & rawan <bahaya>.  "
    form = {"api_key": API_KEY, "service_code": "infrastruktur/pju", "description": desc,
            "address_string": "Jl. Pahlawan No. 12, Madiun", "address_id": "3577-PHL-12",
            "media_url": "https://warga.example.id/foto/pju-12.jpg", "first_name": "Siti",
            "last_name": "Aminah", "email": "siti@example.id", "attribute[privacy]": "public",
            "attribute[title]": "PJU mati"}
    s, js, _ = post("json", form)
    check("POST requests.json: [{service_request_id, service_notice, account_id}]",
          s == 200 and isinstance(js, list) and list(js[0]) == CREATED and js[0]["service_request_id"].startswith("3577-"), js)
    rid = js[0]["service_request_id"] if s == 200 else ""
    s, body, _ = post("xml", dict(form, description="Kedua, tanpa lokasi"))
    el = xml_list(body, "service_requests", "request")
    check("POST requests.xml: <service_requests><request> with the spec's fields",
          s == 200 and el is not None and tags(el[0]) == CREATED and text(el[0], "account_id") == "", body[:300])
    rid2 = text(el[0], "service_request_id") if el is not None else ""
    s, js, _ = get("/open311/v2/requests/%s.json" % rid)
    one = js[0] if s == 200 and js else {}
    check("GET requests/{id}.json: every field of the spec, in its order", fields_ok(list(one), REQUEST), list(one))
    check("the description reads back byte for byte", one.get("description") == desc, repr(one.get("description")))
    check("address, address_id and media_url read back as POSTed",
          (one.get("address"), one.get("address_id"), one.get("media_url")) ==
          (form["address_string"], form["address_id"], form["media_url"]), one)
    check("lat and long present and empty when none was sent", "lat" in one and one["lat"] is None and one["long"] is None, one)
    check("datetimes in W3C format with the region's offset",
          one.get("requested_datetime", "").endswith("+07:00") and one.get("status") == "open", one)
    s, body, _ = get_xml("/open311/v2/requests/%s.xml" % rid)
    el = xml_list(body, "service_requests", "request")
    check("GET requests/{id}.xml: the spec's example shape", s == 200 and el is not None and fields_ok(tags(el[0]), REQUEST), body[:300])
    if el is not None and one:
        check("GET requests: JSON and XML carry the same values", same_values(one, el[0], REQUEST) is None,
              same_values(one, el[0], REQUEST))
        check("lat/long absent: empty elements in XML", text(el[0], "lat") == "" and text(el[0], "long") == "", body[:600])
    return rid, rid2


def test_lists(rid, rid2):
    s, js, _ = get("/open311/v2/requests.json?service_request_id=%s,%s" % (rid, rid2))
    check("service_request_id=a,b: both", s == 200 and sorted(x["service_request_id"] for x in js) == sorted([rid, rid2]), js)
    s, js, _ = get("/open311/v2/requests.json?status=open,closed&service_code=infrastruktur/pju,umum")
    got = {x["service_request_id"] for x in js} if s == 200 else set()
    check("status=open,closed and a service_code list are taken", {rid, rid2} <= got, (s, js))
    s, js, _ = get("/open311/v2/requests.json?status=closed")
    check("status=closed leaves out the open ones", s == 200 and not ({rid, rid2} & {x["service_request_id"] for x in js}), js)
    s, js, _ = get("/open311/v2/requests.json?start_date=2010-01-01T00:00:00-08:00&end_date=2010-02-01T00:00:00Z")
    check("a date window in the past: nothing", s == 200 and js == [], js)
    s, js, _ = get("/open311/v2/requests.json?jurisdiction_id=35.77&start_date=2026-01-01T00:00:00%2B07:00")
    check("jurisdiction_id and a start_date with an offset", s == 200 and rid in {x["service_request_id"] for x in js}, (s, js))
    s, body, _ = get_xml("/open311/v2/requests.xml?status=open")
    el = xml_list(body, "service_requests", "request")
    check("GET requests.xml: a list of <request>", s == 200 and el is not None and len(el) >= 2
          and all(fields_ok(tags(r), REQUEST) for r in el), body[:300])


def error_list(fmt, s, body, status):
    if fmt == "json":
        import json
        try:
            js = json.loads(body)
        except ValueError:
            return False
        return s == status and isinstance(js, list) and list(js[0]) == ERROR and js[0]["code"] == status
    el = xml_list(body, "errors", "error")
    return s == status and el is not None and tags(el[0]) == ERROR and text(el[0], "code") == str(status)


def test_errors():
    base = {"service_code": "umum", "lat": "-7.6", "long": "111.5", "description": "x"}
    for fmt in ("json", "xml"):
        s, body, _ = req(NODE, "POST", "/open311/v2/requests." + fmt, urllib.parse.urlencode(base),
                         ctype="application/x-www-form-urlencoded", raw=True)
        check("%s: POST without api_key: 403 with the spec's text" % fmt, error_list(fmt, s, body, 403)
              and b"Invalid api_key received -- can't proceed with create_request." in body, body[:300])
        s, body, _ = req(NODE, "POST", "/open311/v2/requests." + fmt,
                         urllib.parse.urlencode(dict(base, api_key="salah")),
                         ctype="application/x-www-form-urlencoded", raw=True)
        check("%s: a wrong api_key: 403" % fmt, error_list(fmt, s, body, 403), body[:200])
        s, body, _ = req(NODE, "POST", "/open311/v2/requests." + fmt,
                         urllib.parse.urlencode(dict(base, api_key=API_KEY, service_code="")),
                         ctype="application/x-www-form-urlencoded", raw=True)
        check("%s: missing service_code: 400 naming it" % fmt, error_list(fmt, s, body, 400) and b"service_code" in body, body[:200])
        s, body, _ = req(NODE, "POST", "/open311/v2/requests." + fmt,
                         urllib.parse.urlencode(dict(base, api_key=API_KEY, **{"attribute[warna]": "merah"})),
                         ctype="application/x-www-form-urlencoded", raw=True)
        check("%s: an attribute the service does not define: 400" % fmt, error_list(fmt, s, body, 400), body[:200])
        s, body, _ = req(NODE, "GET", "/open311/v2/requests/3577-999999." + fmt, raw=True)
        check("%s: unknown request: 404 error list" % fmt, error_list(fmt, s, body, 404), body[:200])
        s, body, _ = req(NODE, "GET", "/open311/v2/tidak-ada." + fmt, raw=True)
        check("%s: unknown route under /open311/: 404 error list" % fmt, error_list(fmt, s, body, 404), body[:200])
        s, body, _ = req(NODE, "DELETE", "/open311/v2/services." + fmt, raw=True)
        check("%s: wrong method: 405 error list" % fmt, error_list(fmt, s, body, 405), body[:200])
        s, body, _ = req(NODE, "GET", "/open311/v2/requests.%s?status=pending" % fmt, raw=True)
        check("%s: a bad status: 400 error list" % fmt, error_list(fmt, s, body, 400) and b"status" in body, body[:200])


def main():
    t0 = time.time()
    fedlib.init(sys.argv[1], "simpul-open311-")
    try:
        fedlib.up("national,prov-35,opd-3577-pupr," + NODE)
        restart_with_key()
        codes = test_discovery_and_services()
        test_service_definition()
        rid, rid2 = test_post_and_read_back(codes)
        test_lists(rid, rid2)
        test_errors()
    finally:
        fedlib.cleanup()
    return fedlib.tally(t0)


if __name__ == "__main__":
    sys.exit(main())
