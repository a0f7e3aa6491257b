/*
 * Channel adapters: WhatsApp Cloud API and X Account Activity payloads as their public
 * documentation shows them, the 112 filing, inbound e-mail to a complaint, and the webhook
 * signatures (against the published HMAC-SHA256 test vector).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/intake/channels.h"
#include "node/intake/email.h"
#include "schemas/simpul.pb-c.h"

static const char topo_yaml[] =
    "nodes:\n"
    "  - {id: national, kind: national, name: N, address: tcp://h:1}\n"
    "  - {id: prov-35, kind: province, code: \"35\", name: J, parent: national, address: "
    "tcp://h:2, sms_keywords: [JawaTimur]}\n"
    "  - {id: kota-3577, kind: kota, code: \"35.77\", name: M, parent: prov-35, address: "
    "tcp://h:3, sms_keywords: [KotaMadiun, Madiun]}\n"
    "  - {id: kota-3572, kind: kota, code: \"35.72\", name: B, parent: prov-35, address: "
    "tcp://h:4, sms_keywords: [Blitar]}\n";

static sp_topology *topo;
static const sp_topo_node *madiun, *national;

static int setup(void **state) {
    (void)state;
    if (sp_topology_load_buffer(&topo, "t.yaml", topo_yaml, sizeof topo_yaml - 1, NULL) != SP_OK)
        return -1;
    madiun = sp_topology_find(topo, "kota-3577");
    national = sp_topology_find(topo, "national");
    return madiun && national ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    sp_topology_free(topo);
    return 0;
}

/* ---- signatures ---- */

static void test_signatures_match_the_published_vector(void **state) {
    (void)state;
    static const char msg[] = "The quick brown fox jumps over the lazy dog";
    const char *hex = "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8";
    const char *b64 = "sha256=97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=";
    assert_true(sp_channel_signature_ok(hex, "key", msg, strlen(msg), 0));
    assert_true(sp_channel_signature_ok(b64, "key", msg, strlen(msg), 1));
    assert_false(sp_channel_signature_ok(hex, "kez", msg, strlen(msg), 0));
    assert_false(sp_channel_signature_ok(hex, "key", msg, strlen(msg) - 1, 0));
    assert_false(sp_channel_signature_ok(b64, "key", msg, strlen(msg), 0)); /* wrong encoding */
    assert_false(sp_channel_signature_ok(NULL, "key", msg, strlen(msg), 0));
    assert_false(sp_channel_signature_ok(hex + 7, "key", msg, strlen(msg), 0)); /* no sha256= */
    assert_false(sp_channel_signature_ok(hex, "", msg, strlen(msg), 0));        /* no secret */
    char out[64];
    sp_channel_hmac_b64("key", msg, out);
    assert_string_equal(out, b64 + 7);
}

/* ---- WhatsApp ---- */

#define WA_HEAD                                                                                    \
    "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"102290129340398\","            \
    "\"changes\":[{\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{"                   \
    "\"display_phone_number\":\"15550783881\",\"phone_number_id\":\"106540352242922\"},"           \
    "\"contacts\":[{\"profile\":{\"name\":\"Siti Aminah\"},\"wa_id\":\"6281234567890\"}],"
#define WA_TAIL "},\"field\":\"messages\"}]}]}"

static sp_err wa(const char *json, sp_channel_batch *b, const sp_topo_node *self) {
    sp_intake_error e;
    return sp_whatsapp_parse(b, topo, self, json, strlen(json), &e);
}

static void test_whatsapp_text_message(void **state) {
    (void)state;
    sp_channel_batch b;
    assert_int_equal(wa(WA_HEAD "\"messages\":[{\"from\":\"6281234567890\",\"id\":\"wamid."
                                "HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=\","
                                "\"timestamp\":\"1749416383\",\"type\":\"text\",\"text\":{"
                                "\"body\":\"Lampu jalan di Jl. Pahlawan mati\"}}]" WA_TAIL,
                        &b, madiun),
                     SP_OK);
    assert_int_equal(b.n, 1);
    const sp_channel_msg *m = &b.v[0];
    assert_false(m->refused);
    assert_string_equal(m->msg_id,
                        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=");
    assert_string_equal(m->reply_to, "6281234567890");
    assert_int_equal(m->req.channel, SIMPUL__V1__CHANNEL__WHATSAPP);
    assert_string_equal(m->req.region, "35.77"); /* the receiving node's */
    assert_string_equal(m->req.category, "umum");
    assert_string_equal(m->req.text, "Lampu jalan di Jl. Pahlawan mati");
    assert_string_equal(m->req.name, "Siti Aminah");
    assert_string_equal(m->req.phone, "+6281234567890");
    char *reply = sp_whatsapp_reply(m, "Terima kasih");
    assert_string_equal(reply, "{\"messaging_product\":\"whatsapp\",\"recipient_type\":"
                               "\"individual\",\"to\":\"6281234567890\",\"type\":\"text\","
                               "\"text\":{\"body\":\"Terima kasih\"}}");
    free(reply);
    sp_channel_batch_free(&b);
}

static void test_whatsapp_keyword_location_image_and_statuses(void **state) {
    (void)state;
    sp_channel_batch b;
    assert_int_equal(
        wa(WA_HEAD "\"statuses\":[{\"id\":\"wamid.X\",\"status\":\"delivered\"}],"
                   "\"messages\":["
                   "{\"from\":\"6281234567890\",\"id\":\"m1\",\"type\":\"text\",\"text\":{"
                   "\"body\":\"Blitar #rahasia pungli di kantor kelurahan\"}},"
                   "{\"from\":\"6281234567890\",\"id\":\"m2\",\"type\":\"location\",\"location\":{"
                   "\"address\":\"Jl. Pahlawan 12, Madiun\",\"latitude\":-7.6298,\"longitude\":"
                   "111.5239,\"name\":\"Alun-alun\"}},"
                   "{\"from\":\"6281234567890\",\"id\":\"m3\",\"type\":\"image\",\"image\":{"
                   "\"caption\":\"Jalan berlubang\",\"mime_type\":\"image/jpeg\",\"sha256\":"
                   "\"abc\",\"id\":\"1003383421387256\"}},"
                   "{\"from\":\"6281234567890\",\"id\":\"m4\",\"type\":\"sticker\",\"sticker\":{}}"
                   "]" WA_TAIL,
           &b, national),
        SP_OK);
    assert_int_equal(b.n, 4);
    assert_int_equal(b.ignored, 1); /* the status */
    assert_string_equal(b.v[0].req.region, "35.72");
    assert_int_equal(b.v[0].req.privacy, SIMPUL__V1__PRIVACY__CONFIDENTIAL);
    assert_string_equal(b.v[0].req.text, "pungli di kantor kelurahan");
    /* the national node has no region: a message without a keyword is refused, with help */
    assert_true(b.v[1].refused);
    assert_string_equal(b.v[1].why.code, "unknown_keyword");
    assert_true(b.v[2].refused);
    assert_true(b.v[3].refused);
    sp_channel_batch_free(&b);
    assert_int_equal(
        wa(WA_HEAD "\"messages\":["
                   "{\"from\":\"6281234567890\",\"id\":\"m2\",\"type\":\"location\",\"location\":{"
                   "\"address\":\"Jl. Pahlawan 12, Madiun\",\"latitude\":-7.6298,\"longitude\":"
                   "111.5239,\"name\":\"Alun-alun\"}},"
                   "{\"from\":\"6281234567890\",\"id\":\"m3\",\"type\":\"image\",\"image\":{"
                   "\"caption\":\"Jalan berlubang\",\"mime_type\":\"image/jpeg\",\"id\":\"77\"}}"
                   "]" WA_TAIL,
           &b, madiun),
        SP_OK);
    assert_true(b.v[0].req.has_location);
    assert_true(b.v[0].req.lat < -7.62 && b.v[0].req.lat > -7.63);
    assert_string_equal(b.v[0].req.address, "Jl. Pahlawan 12, Madiun");
    assert_string_equal(b.v[0].req.text, "Lokasi: Alun-alun, Jl. Pahlawan 12, Madiun");
    assert_string_equal(b.v[1].req.text, "Jalan berlubang");
    assert_string_equal(b.v[1].req.media_url, "whatsapp-media:77");
    sp_channel_batch_free(&b);
}

static void test_whatsapp_refuses_what_is_not_a_notification(void **state) {
    (void)state;
    sp_channel_batch b;
    assert_int_equal(wa("{\"object\":\"page\",\"entry\":[]}", &b, madiun), SP_ERR_DECODE);
    assert_int_equal(wa("not json", &b, madiun), SP_ERR_DECODE);
    assert_int_equal(wa("[]", &b, madiun), SP_ERR_DECODE);
    /* a message without its id cannot be deduplicated: refused, not filed */
    assert_int_equal(wa(WA_HEAD "\"messages\":[{\"from\":\"6281\",\"type\":\"text\",\"text\":{"
                                "\"body\":\"x\"}}]" WA_TAIL,
                        &b, madiun),
                     SP_OK);
    assert_true(b.v[0].refused);
    sp_channel_batch_free(&b);
    /* more messages than one delivery may carry */
    char big[8192] = WA_HEAD "\"messages\":[";
    for (int i = 0; i <= SP_CHANNEL_MSGS_MAX; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big),
                 "%s{\"from\":\"6281234567890\",\"id\":\"m%d\",\"type\":\"text\",\"text\":{"
                 "\"body\":\"x\"}}",
                 i ? "," : "", i);
    strcat(big, "]" WA_TAIL);
    assert_int_equal(wa(big, &b, madiun), SP_ERR_TOO_BIG);
    assert_int_equal(b.n, 0);
}

/* ---- X ---- */

static sp_err x(const char *json, sp_channel_batch *b) {
    sp_intake_error e;
    return sp_x_parse(b, topo, madiun, json, strlen(json), &e);
}

static void test_x_mentions_and_direct_messages(void **state) {
    (void)state;
    sp_channel_batch b;
    assert_int_equal(
        x("{\"for_user_id\":\"2244994945\",\"tweet_create_events\":[{\"created_at\":\"Wed Oct "
          "10 20:19:24 +0000 2018\",\"id_str\":\"1050118621198921728\",\"text\":\"@LAPOR1708 "
          "@pemkotmadiun Lampu jalan mati\",\"user\":{\"id_str\":\"6253282\",\"name\":\"Budi\","
          "\"screen_name\":\"budi_mdn\"},\"coordinates\":{\"type\":\"Point\",\"coordinates\":["
          "111.52,-7.63]}},"
          "{\"id_str\":\"2\",\"text\":\"kami menerima\",\"user\":{\"id_str\":\"2244994945\"}},"
          "{\"id_str\":\"3\",\"text\":\"RT\",\"retweeted_status\":{},\"user\":{\"id_str\":\"9\"}}"
          "],\"favorite_events\":[{}]}",
          &b),
        SP_OK);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.ignored, 3); /* own tweet, retweet, the favorite */
    const sp_channel_msg *m = &b.v[0];
    assert_string_equal(m->req.text, "Lampu jalan mati");
    assert_string_equal(m->req.handle, "x:6253282:@budi_mdn");
    assert_string_equal(m->req.name, "Budi");
    assert_int_equal(m->req.channel, SIMPUL__V1__CHANNEL__SOCIAL);
    assert_true(m->req.has_location);
    assert_true(m->req.lon > 111.5 && m->req.lat < -7.6);
    char *reply = sp_x_reply(m, "Nomor 1");
    assert_string_equal(reply, "{\"text\":\"Nomor 1\",\"reply\":{\"in_reply_to_tweet_id\":"
                               "\"1050118621198921728\"}}");
    free(reply);
    sp_channel_batch_free(&b);
    assert_int_equal(
        x("{\"for_user_id\":\"4337869213\",\"direct_message_events\":[{\"type\":\"message_"
          "create\",\"id\":\"954491830116155396\",\"created_timestamp\":\"1516403560557\","
          "\"message_create\":{\"target\":{\"recipient_id\":\"4337869213\"},\"sender_id\":"
          "\"3001969357\",\"source_app_id\":\"13090192\",\"message_data\":{\"text\":\"Madiun "
          "#anonim sampah menumpuk\",\"entities\":{}}}}],\"users\":{\"3001969357\":{\"id\":"
          "\"3001969357\",\"name\":\"Jordan Brinks\",\"screen_name\":\"furiouscamper\"}}}",
          &b),
        SP_OK);
    assert_int_equal(b.n, 1);
    m = &b.v[0];
    assert_true(m->direct);
    assert_string_equal(m->req.text, "sampah menumpuk");
    assert_int_equal(m->req.privacy, SIMPUL__V1__PRIVACY__ANONYMOUS);
    assert_string_equal(m->req.handle, "x:3001969357:@furiouscamper");
    reply = sp_x_reply(m, "Nomor 2");
    assert_string_equal(reply, "{\"event\":{\"type\":\"message_create\",\"message_create\":{"
                               "\"target\":{\"recipient_id\":\"3001969357\"},\"message_data\":{"
                               "\"text\":\"Nomor 2\"}}}}");
    free(reply);
    sp_channel_batch_free(&b);
    assert_int_equal(x("{\"tweet_create_events\":[]}", &b), SP_ERR_DECODE); /* no for_user_id */
}

/* ---- 112 ---- */

static void test_call_centre_filing(void **state) {
    (void)state;
    sp_channel_msg m;
    sp_intake_error e;
    const char *ok = "{\"call_id\":\"112-3577-20261204-0042\",\"caller\":{\"name\":\"Ibu Sri\","
                     "\"phone\":\"0812 3456 7890\"},\"body\":\"Pohon tumbang menutup jalan\","
                     "\"category\":\"umum\",\"region\":\"35.77\",\"location\":{\"lat\":-7.63,"
                     "\"lon\":111.52}}";
    assert_int_equal(sp_call_parse(&m, ok, strlen(ok), &e), SP_OK);
    assert_string_equal(m.msg_id, "112-3577-20261204-0042");
    assert_int_equal(m.req.channel, SIMPUL__V1__CHANNEL__CALL_CENTER);
    assert_string_equal(m.req.name, "Ibu Sri");
    assert_string_equal(m.req.phone, "081234567890");
    assert_true(m.req.has_location);
    sp_intake_req_free(&m.req);
    const char *no_call = "{\"body\":\"x\",\"category\":\"umum\",\"region\":\"35.77\"}";
    assert_int_equal(sp_call_parse(&m, no_call, strlen(no_call), &e), SP_ERR_INVAL);
    assert_non_null(strstr(e.message, "call_id"));
    const char *spoof = "{\"call_id\":\"1\",\"channel\":\"web\",\"body\":\"x\",\"category\":"
                        "\"umum\",\"region\":\"35.77\"}";
    assert_int_equal(sp_call_parse(&m, spoof, strlen(spoof), &e), SP_ERR_INVAL);
    const char *bad =
        "{\"call_id\":\"1\",\"body\":\"x\",\"category\":\"umum\",\"region\":\"35.77\","
        "\"caller\":{\"phone\":\"abc\"}}";
    assert_int_equal(sp_call_parse(&m, bad, strlen(bad), &e), SP_ERR_INVAL);
    assert_non_null(strstr(e.message, "phone"));
}

/* ---- e-mail ---- */

static sp_err mail(const char *msg, sp_channel_msg *m, const sp_topo_node *self, sp_email *e) {
    sp_intake_error err;
    sp_err rv = sp_email_parse(msg, strlen(msg), e, &err);
    return rv == SP_OK ? sp_email_complaint(m, topo, self, e, &err) : rv;
}

static void test_email_to_complaint(void **state) {
    (void)state;
    sp_channel_msg m;
    sp_email e;
    assert_int_equal(mail("From: Siti Aminah <siti@example.id>\r\n"
                          "To: lapor-blitar@jatimprov.go.id\r\n"
                          "Subject: Jalan rusak di Jl. Merdeka\r\n"
                          "Message-ID: <CAF=abc123@mail.gmail.com>\r\n"
                          "Content-Type: text/plain; charset=utf-8\r\n"
                          "\r\n"
                          "Sudah dua minggu berlubang.\r\n",
                          &m, madiun, &e),
                     SP_OK);
    assert_string_equal(m.req.region, "35.72"); /* the mailbox names Blitar */
    assert_string_equal(m.req.title, "Jalan rusak di Jl. Merdeka");
    assert_string_equal(m.req.text, "Sudah dua minggu berlubang.");
    assert_string_equal(m.req.email, "siti@example.id");
    assert_string_equal(m.req.name, "Siti Aminah");
    assert_string_equal(m.msg_id, "CAF=abc123@mail.gmail.com");
    assert_int_equal(m.req.channel, SIMPUL__V1__CHANNEL__EMAIL);
    sp_intake_req_free(&m.req);
    sp_email_free(&e);
    /* no mailbox keyword: the subject's, else the receiving node's */
    assert_int_equal(mail("From: warga@example.id\nTo: pengaduan@x.id\nSubject: Blitar sampah\n\n"
                          "Tolong diangkut.\n",
                          &m, madiun, &e),
                     SP_OK);
    assert_string_equal(m.req.region, "35.72");
    assert_string_equal(m.req.title, "sampah");
    sp_intake_req_free(&m.req);
    sp_email_free(&e);
    assert_int_equal(mail("From: warga@example.id\nSubject: Sampah\n\n\n", &m, madiun, &e), SP_OK);
    assert_string_equal(m.req.region, "35.77");
    assert_string_equal(m.req.text, "Sampah"); /* an empty body: the subject */
    sp_intake_req_free(&m.req);
    sp_email_free(&e);
    assert_int_equal(mail("From: warga@example.id\nSubject: Sampah\n\nx\n", &m, national, &e),
                     SP_ERR_NOT_FOUND);
    sp_email_free(&e);
}

static void test_email_attachments_move_into_the_request(void **state) {
    (void)state;
    sp_channel_msg m;
    sp_email e;
    assert_int_equal(mail("From: warga@example.id\r\nSubject: Foto\r\nMIME-Version: 1.0\r\n"
                          "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                          "--b1\r\nContent-Type: text/plain\r\n\r\nLihat foto.\r\n"
                          "--b1\r\nContent-Type: image/jpeg; name=\"jalan.jpg\"\r\n"
                          "Content-Disposition: attachment; filename=\"jalan.jpg\"\r\n"
                          "Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n--b1--\r\n",
                          &m, madiun, &e),
                     SP_OK);
    assert_int_equal(m.req.n_att, 1);
    assert_int_equal(e.n_att, 0);
    assert_string_equal(m.req.att[0].name, "jalan.jpg");
    assert_string_equal(m.req.att[0].media_type, "image/jpeg");
    assert_int_equal(m.req.att[0].len, 6);
    assert_memory_equal(m.req.att[0].data, "\xff\xd8\xff\xe0\x00\x10", 6);
    sp_intake_req_free(&m.req);
    sp_email_free(&e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signatures_match_the_published_vector),
        cmocka_unit_test(test_whatsapp_text_message),
        cmocka_unit_test(test_whatsapp_keyword_location_image_and_statuses),
        cmocka_unit_test(test_whatsapp_refuses_what_is_not_a_notification),
        cmocka_unit_test(test_x_mentions_and_direct_messages),
        cmocka_unit_test(test_call_centre_filing),
        cmocka_unit_test(test_email_to_complaint),
        cmocka_unit_test(test_email_attachments_move_into_the_request),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
