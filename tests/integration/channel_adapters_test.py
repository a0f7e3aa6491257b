"""Every channel a citizen uses, end to end on real nodes: WhatsApp, X, the 112 call centre and
e-mail, as their platforms deliver them (payloads from each platform's public documentation,
signed with the secrets the node is configured with).

    channel_adapters_test.py SIMPUL_BINARY

For each channel: the platform's handshake (WhatsApp's hub.challenge, X's CRC), a forged or
missing signature refused with 401, a complaint filed with the channel recorded, the answer in
the channel's own reply format carrying the tracking number, a delivery repeated by the
platform answered with the same tracking number (never filed twice), and what cannot be filed
refused with a reply that says how. Then the channel as metadata: in the complaint, in the
statistics and the dashboard's channel filter, and as the last part of the stream topics. And
privacy: no reporter's phone number, X handle or e-mail address is in any file of any node,
decoded by RocksDB or raw, nor in the stream.
"""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fedlib
from fedlib import STREAMS, check, req, token

NODE = "kota-3577"
NODES = "national,prov-35,kota-3572," + NODE
WA_SECRET, WA_VERIFY, X_SECRET, MTA = "wa-app-secret", "wa-verify-42", "x-consumer-secret", "mta-token-7"
SECRETS = {}  # marker -> what it is: must never be stored in clear
WA_TOKEN = "EAAG-graph-access-token"
PHOTO = b"\xff\xd8\xff\xe0" + os.urandom(3000)  # the photo Meta holds for media id 770001
GRAPH = {"requests": []}


class FakeGraph(BaseHTTPRequestHandler):
    """Meta's Graph API as documented: GET /v19.0/<media id> describes the media, its url
    serves the bytes; both need the access token."""

    def do_GET(self):
        GRAPH["requests"].append(self.path)
        if self.headers.get("Authorization") != "Bearer " + WA_TOKEN:
            return self.answer(401, b'{"error":{"message":"Invalid OAuth access token"}}')
        if self.path == "/v19.0/770001":
            url = "http://127.0.0.1:%d/media/770001?ext=1" % self.server.server_port
            return self.answer(200, json.dumps({"messaging_product": "whatsapp", "url": url, "mime_type": "image/jpeg",
                                                "sha256": hashlib.sha256(PHOTO).hexdigest(), "file_size": len(PHOTO),
                                                "id": "770001"}).encode())
        if self.path == "/media/770001?ext=1":
            return self.answer(200, PHOTO, "image/jpeg")
        return self.answer(404, b'{"error":{"message":"Unsupported get request"}}')

    def answer(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def start_graph():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), FakeGraph)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def restart_with_channels(graph_port):
    fedlib.fed("stop", fedlib.T, NODE)
    with open(os.path.join(fedlib.T, NODE, "node.yaml"), "a") as f:
        f.write("channels:\n  whatsapp_app_secret: %s\n  whatsapp_verify_token: %s\n"
                "  whatsapp_token: %s\n  whatsapp_graph_url: http://127.0.0.1:%d/v19.0\n"
                "  x_consumer_secret: %s\n  email_token: %s\n  email_address: lapor@madiunkota.go.id\n"
                % (WA_SECRET, WA_VERIFY, WA_TOKEN, graph_port, X_SECRET, MTA))
    fedlib.fed("start", fedlib.T, NODE)


def post(path, body, headers, ctype="application/json"):
    return req(NODE, "POST", path, body, ctype=ctype, headers=headers)


def complaint(cid):
    s, b, _ = req(NODE, "GET", "/api/v1/complaints/" + cid)
    return b if s == 200 else {}


# ---- WhatsApp ----

def wa_body(messages, name="Siti Aminah", wa_id="6281298765432"):
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{
        "value": {"messaging_product": "whatsapp",
                  "metadata": {"display_phone_number": "6281100001708", "phone_number_id": "106540352242922"},
                  "contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": messages},
        "field": "messages"}]}]})


def wa_sign(body, secret=WA_SECRET):
    return "sha256=" + hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


def wa_post(body, sig=None):
    return post("/api/v1/intake/whatsapp", body, {"X-Hub-Signature-256": sig or wa_sign(body)})


def test_whatsapp():
    s, b, _ = req(NODE, "GET", "/api/v1/intake/whatsapp?hub.mode=subscribe&hub.verify_token=%s&hub.challenge=1158201444" % WA_VERIFY)
    check("WhatsApp verification: hub.challenge echoed", s == 200 and str(b) == "1158201444", (s, b))
    s, b, _ = req(NODE, "GET", "/api/v1/intake/whatsapp?hub.mode=subscribe&hub.verify_token=salah&hub.challenge=1")
    check("WhatsApp verification with a wrong token: 403", s == 403, (s, b))
    SECRETS["6281298765432"] = "WhatsApp number"
    text = {"from": "6281298765432", "id": "wamid.HBgLNjI4MTI5ODc2NTQzMhUCABIYFDNBMDk5", "timestamp": "1764820000",
            "type": "text", "text": {"body": "Lampu jalan di Jl. Pahlawan mati sejak Senin"}}
    body = wa_body([text])
    s, b, _ = wa_post(body, sig="sha256=" + "0" * 64)
    check("WhatsApp: a forged signature is refused (401)", s == 401, (s, b))
    s, b, _ = req(NODE, "POST", "/api/v1/intake/whatsapp", body, ctype="application/json")
    check("WhatsApp: no signature: 401", s == 401, (s, b))
    s, b, _ = wa_post(body)
    ok = s == 200 and len(b["filed"]) == 1
    check("WhatsApp text message filed", ok, (s, b))
    cid = b["filed"][0]["tracking_number"] if ok else ""
    rep = b["replies"][0] if ok else {}
    check("the reply is a Cloud API message to the sender with the tracking number",
          rep.get("messaging_product") == "whatsapp" and rep.get("to") == "6281298765432"
          and cid in rep.get("text", {}).get("body", ""), rep)
    s, b2, _ = wa_post(body)
    check("WhatsApp delivers again: the same tracking number, not a second complaint",
          s == 200 and b2["filed"][0]["tracking_number"] == cid and b2["filed"][0]["replayed"], b2)
    c = complaint(cid)
    check("the complaint says channel whatsapp, region of the receiving node",
          c.get("channel") == "whatsapp" and c.get("region") == "35.77", c)
    loc = {"from": "6281298765432", "id": "wamid.loc1", "type": "location",
           "location": {"latitude": -7.6298, "longitude": 111.5239, "name": "Alun-alun Madiun",
                        "address": "Jl. Pahlawan, Madiun"}}
    blitar = {"from": "6281298765432", "id": "wamid.blt1", "type": "text",
              "text": {"body": "KotaBlitar #rahasia pungli di kelurahan"}}
    sticker = {"from": "6281298765432", "id": "wamid.stk1", "type": "sticker", "sticker": {"id": "5"}}
    body = json.loads(wa_body([loc, blitar, sticker]))
    body["entry"][0]["changes"][0]["value"]["statuses"] = [{"id": "wamid.x", "status": "read"}]
    body = json.dumps(body)
    s, b, _ = wa_post(body)
    ok = s == 200 and len(b["filed"]) == 2 and len(b["refused"]) == 1 and b["ignored"] == 1 and len(b["replies"]) == 3
    check("one delivery, three messages: location and keyword filed, sticker refused, status ignored", ok, b)
    if ok:
        where = complaint(b["filed"][0]["tracking_number"])
        check("the location message's coordinates are the complaint's location",
              "-7.6298" in json.dumps(where) and "111.5239" in json.dumps(where), where)
        check("the keyword routes it to Kota Blitar",
              b["filed"][1]["tracking_number"].startswith("3577-") and
              fedlib.wait_for(lambda: complaint(b["filed"][1]["tracking_number"]).get("region") == "35.72"), b)
        check("the refused message gets a reply saying how to write", "Format" in b["replies"][2]["text"]["body"], b["replies"][2])
    test_whatsapp_photos()
    return cid


def test_whatsapp_photos():
    """A photo becomes the complaint's attachment, fetched from the Graph API with the token
    and checked against the digest the webhook announced; a photo Meta cannot give stays a
    reference, and the complaint is filed all the same."""
    b64 = base64.b64encode(hashlib.sha256(PHOTO).digest()).decode()
    photo = {"from": "6281298765432", "id": "wamid.img1", "type": "image",
             "image": {"caption": "Jalan berlubang di depan SD", "mime_type": "image/jpeg", "sha256": b64, "id": "770001"}}
    gone = {"from": "6281298765432", "id": "wamid.img2", "type": "image",
            "image": {"caption": "Saluran tersumbat", "mime_type": "image/jpeg", "sha256": b64, "id": "770404"}}
    s, b, _ = wa_post(wa_body([photo, gone]))
    ok = s == 200 and len(b["filed"]) == 2
    check("two photo messages filed", ok, (s, b))
    if not ok:
        return
    with_photo, without = (complaint(x["tracking_number"]) for x in b["filed"])
    atts = with_photo.get("content", {}).get("attachments", [])
    sha = hashlib.sha256(PHOTO).hexdigest()
    check("the photo is the complaint's attachment (fetched with the token, digest checked)",
          len(atts) == 1 and atts[0]["sha256"] == sha and atts[0]["media_type"] == "image/jpeg"
          and "/v19.0/770001" in GRAPH["requests"], (atts, GRAPH["requests"]))
    s, data, _ = req(NODE, "GET", "/api/v1/complaints/%s/attachments/%s" % (with_photo.get("id"), sha), raw=True)
    check("... and the node serves its bytes, linked from the complaint",
          s == 200 and data == PHOTO and atts and atts[0].get("url", "").endswith(sha), (s, atts))
    check("a photo Meta cannot give: filed with its media reference",
          "whatsapp-media:770404" in json.dumps(without) and not without.get("content", {}).get("attachments"), without)


# ---- X ----

def x_sign(body):
    return "sha256=" + base64.b64encode(hmac.new(X_SECRET.encode(), body.encode(), hashlib.sha256).digest()).decode()


def test_x():
    s, b, _ = req(NODE, "GET", "/api/v1/intake/x?crc_token=Y3JjX3Rva2VuX2Zyb21feA")
    want = "sha256=" + base64.b64encode(hmac.new(X_SECRET.encode(), b"Y3JjX3Rva2VuX2Zyb21feA", hashlib.sha256).digest()).decode()
    check("X CRC: response_token = base64 HMAC-SHA256 of crc_token", s == 200 and b.get("response_token") == want, (s, b, want))
    SECRETS["warga_madiun77"] = "X screen name"
    SECRETS["7719283746"] = "X user id"
    body = json.dumps({"for_user_id": "1501234567", "tweet_create_events": [
        {"created_at": "Thu Dec 03 08:00:00 +0000 2026", "id_str": "1864600000000000001",
         "text": "@LAPOR1708 Jalan di depan pasar besar berlubang, bahaya", "truncated": False,
         "user": {"id_str": "7719283746", "name": "Warga Madiun", "screen_name": "warga_madiun77"},
         "coordinates": {"type": "Point", "coordinates": [111.5239, -7.6298]}},
        {"id_str": "1864600000000000002", "text": "Terima kasih, aduan diteruskan",
         "user": {"id_str": "1501234567", "name": "LAPOR", "screen_name": "LAPOR1708"}}]})
    s, b, _ = post("/api/v1/intake/x", body, {"X-Twitter-Webhooks-Signature": "sha256=" + "A" * 43 + "="})
    check("X: a forged signature: 401", s == 401, (s, b))
    s, b, _ = post("/api/v1/intake/x", body, {"X-Twitter-Webhooks-Signature": x_sign(body)})
    ok = s == 200 and len(b["filed"]) == 1 and b["ignored"] == 1
    check("X mention filed, the account's own tweet ignored", ok, (s, b))
    cid = b["filed"][0]["tracking_number"] if ok else ""
    rep = b["replies"][0] if ok else {}
    check("the reply is a v2 reply tweet to the mention", rep.get("reply", {}).get("in_reply_to_tweet_id") == "1864600000000000001"
          and cid in rep.get("text", ""), rep)
    c = complaint(cid)
    check("the tweet's complaint: channel social, text without the @mention",
          c.get("channel") == "social" and "LAPOR1708" not in json.dumps(c), c)
    dm = json.dumps({"for_user_id": "1501234567", "direct_message_events": [
        {"type": "message_create", "id": "1864600000000009999", "created_timestamp": "1764820000000",
         "message_create": {"target": {"recipient_id": "1501234567"}, "sender_id": "7719283746",
                            "message_data": {"text": "#anonim sampah tidak diangkut seminggu", "entities": {}}}}],
        "users": {"7719283746": {"id": "7719283746", "name": "Warga Madiun", "screen_name": "warga_madiun77"}}})
    s, b, _ = post("/api/v1/intake/x", dm, {"X-Twitter-Webhooks-Signature": x_sign(dm)})
    ok = s == 200 and len(b["filed"]) == 1
    check("X direct message filed; the reply is a DM event to the sender",
          ok and b["replies"][0]["event"]["message_create"]["target"]["recipient_id"] == "7719283746", b)
    if ok:
        check("#anonim makes it anonymous", complaint(b["filed"][0]["tracking_number"]).get("privacy") == "anonymous", b)
    return cid


# ---- 112 ----

def test_call(officer):
    SECRETS["081377788899"] = "caller's phone"
    call = {"call_id": "112-3577-20261204-0042", "caller": {"name": "Ibu Sri Rahayu", "phone": "0813 7778 8899"},
            "title": "Pohon tumbang", "body": "Pohon tumbang menutup Jl. Diponegoro, mobil tidak bisa lewat",
            "category": "umum", "region": "35.77", "location": {"lat": -7.63, "lon": 111.52}}
    s, b, _ = req(NODE, "POST", "/api/v1/intake/112", call)
    check("112 without an officer token: 401", s == 401, (s, b))
    s, b, _ = req(NODE, "POST", "/api/v1/intake/112", call, token=officer)
    ok = s == 201 and b.get("channel") == "call-center"
    check("112: the call-taker files for the caller (201)", ok, (s, b))
    cid = b.get("tracking_number", "")
    check("the answer has the script the call-taker reads out", cid and cid in b.get("script", ""), b)
    s, b2, _ = req(NODE, "POST", "/api/v1/intake/112", call, token=officer)
    check("the same call_id again: the same complaint (200, replayed)", s == 200 and b2.get("tracking_number") == cid, (s, b2))
    s, tl, _ = req(NODE, "GET", "/api/v1/complaints/%s" % cid, token=officer)
    filed = (tl.get("timeline") or [{}])[0] if s == 200 else {}
    check("the filing's actor is the call-taker's token, the caller is the sealed reporter",
          filed.get("actor") == "operator-112" and tl.get("reporter", {}).get("name") == "Ibu Sri Rahayu", tl)
    s, b, _ = req(NODE, "POST", "/api/v1/intake/112", dict(call, call_id="112-x", caller={"phone": "bukan nomor"}), token=officer)
    check("112: a bad caller phone: 400 naming it", s == 400 and "phone" in b.get("message", ""), (s, b))
    return cid


# ---- e-mail ----

MAIL = ("From: \"Budi Santoso\" <budi.santoso.77@example.id>\r\n"
        "To: lapor@madiunkota.go.id\r\n"
        "Subject: =?UTF-8?B?U2FtcGFoIGRpIHN1bmdhaSDigJMgbW9ob24gZGlhbmdrdXQ=?=\r\n"
        "Message-ID: <CAK7q9=mail-1@mail.example.id>\r\n"
        "Date: Thu, 3 Dec 2026 09:15:00 +0700\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"000000000000b1\"\r\n"
        "\r\n"
        "--000000000000b1\r\n"
        "Content-Type: multipart/alternative; boundary=\"000000000000a1\"\r\n"
        "\r\n"
        "--000000000000a1\r\n"
        "Content-Type: text/plain; charset=\"UTF-8\"\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "Sampah menumpuk di bantaran sungai dekat jembatan, sudah seminggu tidak diang=\r\n"
        "kut.\r\n"
        "--000000000000a1\r\n"
        "Content-Type: text/html; charset=\"UTF-8\"\r\n"
        "\r\n"
        "<div>Sampah menumpuk di bantaran sungai</div>\r\n"
        "--000000000000a1--\r\n"
        "--000000000000b1\r\n"
        "Content-Type: image/jpeg; name=\"sungai.jpg\"\r\n"
        "Content-Disposition: attachment; filename=\"sungai.jpg\"\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////\r\n"
        "--000000000000b1--\r\n")


def test_email():
    SECRETS["budi.santoso.77@example.id"] = "e-mail address"
    hdr = {"Authorization": "Bearer " + MTA}
    s, b, _ = post("/api/v1/intake/email", MAIL, {"Authorization": "Bearer salah"}, ctype="message/rfc822")
    check("e-mail with a wrong MTA token: 401", s == 401, (s, b))
    s, b, _ = post("/api/v1/intake/email", MAIL, hdr, ctype="message/rfc822")
    ok = s == 201 and b.get("tracking_number", "").startswith("3577-")
    check("an e-mail with an attachment is filed (201)", ok, (s, b))
    cid = b.get("tracking_number", "")
    reply = b.get("reply", "")
    check("the reply is an RFC 5322 message to the sender, in reply to the message",
          "To: budi.santoso.77@example.id" in reply and "In-Reply-To: <CAK7q9=mail-1@mail.example.id>" in reply
          and "From: lapor@madiunkota.go.id" in reply and cid in reply, reply)
    s, raw, h = req(NODE, "POST", "/api/v1/intake/email", MAIL, ctype="message/rfc822",
                    headers=dict(hdr, Accept="message/rfc822"), raw=True)
    check("the MTA delivers again (Accept: message/rfc822): the same complaint, the reply message itself",
          s == 200 and h.get("Content-Type", "").startswith("message/rfc822") and cid.encode() in raw, (s, raw[:200]))
    c = complaint(cid)
    content = json.dumps(c)
    check("the e-mail's complaint: channel email, subject as title, quoted-printable decoded, the photo attached",
          c.get("channel") == "email" and "Sampah di sungai" in content and "tidak diangkut." in content
          and "sungai.jpg" in content, c)
    s, b, _ = post("/api/v1/intake/email", "no header separator", hdr, ctype="message/rfc822")
    check("a message that is not RFC 5322: 400", s == 400, (s, b))
    return cid


# ---- the channel as metadata ----

def test_metadata(ids):
    for ch, cid in ids.items():
        if not cid:
            continue
        s, b, _ = req(NODE, "GET", "/api/v1/stats?region=35.77&channel=" + ch)
        check("stats by channel %s count its complaint" % ch,
              s == 200 and b["totals"].get("filed", 0) >= 1, (s, b))
    s, b, _ = req(NODE, "GET", "/api/v1/stats?region=35.77&channel=email")
    check("stats for the email channel: exactly the one e-mail", s == 200 and b["totals"].get("filed") == 1, b)
    s, b, _ = req(NODE, "GET", "/api/v1/complaints?channel=whatsapp,email&region=35.77")
    got = {x["id"] for x in b.get("complaints", b.get("items", []))} if s == 200 else set()
    check("the list filters by channel", ids["whatsapp"] in got and ids["email"] in got and ids["call-center"] not in got, b)
    stream, replay = STREAMS[NODE]
    out = subprocess.run([fedlib.SIMPUL, "tail", "--stream", stream, "--replay", replay, "--json", "--idle-exit", "1500"],
                         capture_output=True, text=True, timeout=60).stdout
    topics = [json.loads(line)["topic"] for line in out.splitlines() if line.strip()]
    filed = [t for t in topics if ".filed." in t]
    for ch in ("whatsapp", "social", "call-center", "email"):
        check("the stream's filing topics end with the channel: %s" % ch,
              any(t.startswith("35.") and t.endswith(".filed." + ch) for t in filed), filed)
    for m, what in SECRETS.items():
        check("the %s is not in the stream" % what, m not in out)
    return out


def test_privacy():
    for node in NODES.split(","):
        decoded, cfs = fedlib.ldb_dump(os.path.join(fedlib.T, node, "data"))
        raw = fedlib.scan_files(os.path.join(fedlib.T, node))
        leaked = [what for m, what in SECRETS.items() if m.encode() in decoded or m.encode() in raw]
        check("%s: no channel identity in any file or decoded record (%d column families)" % (node, len(cfs)),
              not leaked, leaked)


def main():
    t0 = time.time()
    fedlib.init(sys.argv[1], "simpul-channels-")
    try:
        fedlib.up(NODES)
        officer = token(NODE, "operator-112", "admin-koordinator")
        graph = start_graph()
        restart_with_channels(graph.server_port)
        ids = {"whatsapp": test_whatsapp(), "social": test_x(), "call-center": test_call(officer),
               "email": test_email()}
        test_metadata(ids)
        fedlib.down()
        test_privacy()
    finally:
        fedlib.cleanup()
    return fedlib.tally(t0)


if __name__ == "__main__":
    sys.exit(main())
