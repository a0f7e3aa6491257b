/*
 * Intake: every channel's parser (web JSON, SMS, forms, Open311) and the sealed ComplaintFiled.
 * The privacy tests decode the event bytes as a peer would and check what is (and is not) in
 * them: identity never in clear, confidential content only in the content box, the content key
 * wrapped for the intake and the responsible node.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/intake/intake.h"
#include "node/intake/seal.h"
#include "schemas/simpul.pb-c.h"

/* ---- a small topology with real sealing keys ---- */

#define N_NODES 6
static const char *const ids[N_NODES] = {"national",      "prov-35", "kota-3577",
                                         "opd-3577-pupr", "prov-33", "kota-3375"};
static sp_key *keys[N_NODES];
static sp_topology *topo;

#define YAML_FMT                                                                                   \
    "nodes:\n"                                                                                     \
    "  - {id: national, kind: national, name: N, address: tcp://127.0.0.1:1, seal_key: %s}\n"      \
    "  - {id: prov-35, kind: province, code: \"35\", name: J, parent: national, address: "         \
    "tcp://127.0.0.1:2, seal_key: %s, sms_keywords: [JawaTimur]}\n"                                \
    "  - {id: kota-3577, kind: kota, code: \"35.77\", name: M, parent: prov-35, address: "         \
    "tcp://127.0.0.1:3, seal_key: %s, sms_keywords: [KotaMadiun]}\n"                               \
    "  - {id: opd-3577-pupr, kind: opd, name: P, parent: kota-3577, address: tcp://127.0.0.1:4, "  \
    "seal_key: %s}\n"                                                                              \
    "  - {id: prov-33, kind: province, code: \"33\", name: T, parent: national, address: "         \
    "tcp://127.0.0.1:5, seal_key: %s}\n"                                                           \
    "  - {id: kota-3375, kind: kota, code: \"33.75\", name: K, parent: prov-33, address: "         \
    "tcp://127.0.0.1:6, seal_key: %s, sms_keywords: [KotaPekalongan, PekalonganKota]}\n"           \
    "routes:\n"                                                                                    \
    "  - {category: infrastruktur/pju, region: \"35.77\", agency: opd-3577-pupr}\n"                \
    "  - {category: kesehatan, agency: prov-35}\n"

static int setup(void **state) {
    char b64[N_NODES][64], yaml[4096];
    for (int i = 0; i < N_NODES; i++) {
        uint8_t pub[SP_PUBKEY_LEN];
        if (sp_key_generate(&keys[i], SP_KEY_X25519) != SP_OK ||
            sp_key_raw_public(keys[i], pub) != SP_OK)
            return -1;
        sp_base64_encode(pub, sizeof pub, b64[i]);
    }
    snprintf(yaml, sizeof yaml, YAML_FMT, b64[0], b64[1], b64[2], b64[3], b64[4], b64[5]);
    sp_diag_list d;
    sp_diag_list_init(&d);
    sp_err rv = sp_topology_load_buffer(&topo, "test.yaml", yaml, strlen(yaml), &d);
    sp_diag_list_print(&d, stderr, 10);
    sp_diag_list_clear(&d);
    return rv == SP_OK ? 0 : -1;
}

static int teardown(void **state) {
    for (int i = 0; i < N_NODES; i++)
        sp_key_free(keys[i]);
    sp_topology_free(topo);
    return 0;
}

static const sp_key *key_of(const char *id) {
    for (int i = 0; i < N_NODES; i++)
        if (strcmp(ids[i], id) == 0) return keys[i];
    return NULL;
}

/* ---- web JSON ---- */

static sp_err parse(const char *json, sp_intake_req *r, sp_intake_error *e) {
    return sp_intake_parse_json(r, json, strlen(json), e);
}

static void test_json_full_request_parses(void **state) {
    sp_intake_req r;
    sp_intake_error e;
    const char *json =
        "{\"title\":\"Lampu mati\",\"body\":\"  Lampu jalan mati\\n sejak Senin  \","
        "\"category\":\"infrastruktur/pju\",\"region\":\"35.77\",\"type\":\"aspirasi\","
        "\"channel\":\"app\",\"privacy\":\"confidential\",\"location\":{\"lat\":-7.6,\"lon\":111.5}"
        ","
        "\"reporter\":{\"name\":\"Siti\",\"phone\":\"+62 812-3456-7890\",\"email\":\"s@x.id\","
        "\"nik\":\"3577014101900001\"},"
        "\"attachments\":[{\"name\":\"a.jpg\",\"media_type\":\"image/"
        "jpeg\",\"data\":\"aGVsbG8=\"}]}";
    assert_int_equal(parse(json, &r, &e), SP_OK);
    assert_string_equal(r.title, "Lampu mati");
    assert_string_equal(r.text, "Lampu jalan mati\n sejak Senin");
    assert_string_equal(r.category, "infrastruktur/pju");
    assert_int_equal(r.type, 1);
    assert_int_equal(r.channel, 2);
    assert_int_equal(r.privacy, 2);
    assert_true(r.has_location);
    assert_string_equal(r.phone, "+6281234567890");
    assert_string_equal(r.nik, "3577014101900001");
    assert_int_equal(r.n_att, 1);
    assert_int_equal(r.att[0].len, 5);
    assert_memory_equal(r.att[0].data, "hello", 5);
    assert_int_equal(sp_intake_check(&r, topo, &e), SP_OK);
    sp_intake_req_free(&r);
}

static void test_json_defaults_and_title_from_text(void **state) {
    sp_intake_req r;
    sp_intake_error e;
    assert_int_equal(
        parse(
            "{\"body\":\"Jalan berlubang di depan sekolah\\nsudah sebulan\",\"category\":\"umum\","
            "\"region\":\"35\"}",
            &r, &e),
        SP_OK);
    assert_string_equal(r.title, "Jalan berlubang di depan sekolah");
    assert_int_equal(r.type, 2);    /* pengaduan */
    assert_int_equal(r.channel, 1); /* web */
    assert_int_equal(r.privacy, 0); /* public */
    assert_false(sp_intake_has_identity(&r));
    sp_intake_req_free(&r);
}

static void test_json_errors_name_the_field(void **state) {
    static const struct {
        const char *json;
        int status;
        const char *code, *mention;
    } cases[] = {
        {"{", 400, "bad_json", "JSON"},
        {"[1]", 400, "bad_json", "object"},
        {"{\"category\":\"umum\",\"region\":\"35\"}", 400, "missing_field", "body"},
        {"{\"body\":\"x\",\"region\":\"35\"}", 400, "missing_field", "category"},
        {"{\"body\":\"x\",\"category\":\"umum\"}", 400, "missing_field", "region"},
        {"{\"body\":\"x\",\"category\":\"Umum!\",\"region\":\"35\"}", 400, "invalid_field",
         "category"},
        {"{\"body\":\"x\",\"category\":\"umum\",\"region\":\"3577\"}", 400, "invalid_field",
         "region"},
        {"{\"body\":\"x\",\"category\":\"umum\",\"region\":\"35\",\"privacy\":\"secret\"}", 400,
         "invalid_field", "privacy"},
        {"{\"body\":\"x\",\"category\":\"umum\",\"region\":\"35\",\"type\":\"x\"}", 400,
         "invalid_field", "type"},
        {"{\"body\":\"x\",\"category\":\"umum\",\"region\":\"35\",\"channel\":\"sms\"}", 400,
         "invalid_field", "channel"},
        {"{\"body\":7,\"category\":\"umum\",\"region\":\"35\"}", 400, "invalid_field", "body"},
        {"{\"body\":\"x\",\"category\":\"umum\",\"region\":\"35\",\"location\":{\"lat\":95,\"lon\":"
         "1}}",
         400, "invalid_field", "lat"},
        {"{\"body\":\"x\",\"category\":\"umum\",\"region\":\"35\",\"reporter\":{\"nik\":\"12\"}}",
         400, "invalid_field", "nik"},
        {"{\"body\":\"x\",\"category\":\"umum\",\"region\":\"35\",\"reporter\":{\"email\":\"no\"}}",
         400, "invalid_field", "email"},
        {"{\"body\":\"x\",\"category\":\"umum\",\"region\":\"35\",\"reporter\":{\"phone\":\"12ab\"}"
         "}",
         400, "invalid_field", "phone"},
        {"{\"body\":\"x\",\"category\":\"umum\",\"region\":\"35\",\"attachments\":[{\"media_type\":"
         "\"image/png\",\"data\":\"!!\"}]}",
         400, "invalid_field", "base64"},
        {"{\"body\":\"x\",\"category\":\"umum\",\"region\":\"35\",\"attachments\":[{\"media_type\":"
         "\"png\",\"data\":\"\"}]}",
         400, "invalid_field", "media type"},
        {"{\"body\":\"x\",\"category\":\"umum\",\"region\":\"35\",\"attachments\":[{},{},{},{},{}]"
         "}",
         413, "too_large", "attachments"},
        {"{\"body\":\"x\",\"body\":\"y\",\"category\":\"umum\",\"region\":\"35\"}", 400, "bad_json",
         "duplicate"},
        {"{\"body\":\"a\\u0000b\",\"category\":\"umum\",\"region\":\"35\"}", 400, "bad_json",
         "JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sp_intake_req r;
        sp_intake_error e = {0};
        sp_err rv = parse(cases[i].json, &r, &e);
        if (rv == SP_OK || e.status != cases[i].status || strcmp(e.code, cases[i].code) != 0 ||
            !strstr(e.message, cases[i].mention))
            fail_msg("case %zu (%s): got %s %d %s '%s'", i, cases[i].json, sp_errname(rv), e.status,
                     e.code ? e.code : "-", e.message);
        assert_null(r.text); /* nothing kept */
    }
}

static void test_json_text_limit_is_413_or_400(void **state) {
    size_t n = SP_INTAKE_TEXT_MAX + 100;
    char *json = malloc(n + 100);
    int k = sprintf(json, "{\"category\":\"umum\",\"region\":\"35\",\"body\":\"");
    memset(json + k, 'a', n);
    strcpy(json + k + n, "\"}");
    sp_intake_req r;
    sp_intake_error e;
    assert_int_equal(parse(json, &r, &e), SP_ERR_INVAL);
    assert_string_equal(e.code, "invalid_field");
    assert_non_null(strstr(e.message, "longer"));
    free(json);
}

static void test_check_unknown_category_and_region(void **state) {
    sp_intake_req r;
    sp_intake_error e;
    assert_int_equal(
        parse("{\"body\":\"x\",\"category\":\"pendidikan\",\"region\":\"35.77\"}", &r, &e), SP_OK);
    assert_int_equal(sp_intake_check(&r, topo, &e), SP_ERR_NOT_FOUND);
    assert_int_equal(e.status, 422);
    assert_string_equal(e.code, "unknown_category");
    sp_intake_req_free(&r);
    assert_int_equal(
        parse("{\"body\":\"x\",\"category\":\"infrastruktur/pju/tiang\",\"region\":\"99\"}", &r,
              &e),
        SP_OK);
    assert_int_equal(sp_intake_check(&r, topo, &e), SP_ERR_NOT_FOUND);
    assert_string_equal(e.code, "unknown_region");
    sp_intake_req_free(&r);
    assert_true(sp_category_known(topo, "infrastruktur/pju/tiang")); /* a subcategory of a rule */
    assert_false(sp_category_known(topo, "infrastruktur")); /* not a rule's, nor under one */
}

/* ---- SMS ---- */

static void test_sms_split(void **state) {
    char kw[SP_SMS_KEYWORD_MAX + 1];
    const char *rest;
    size_t n;
    const char *t = "  PekalonganKota   Jalan rusak di depan pasar ";
    assert_int_equal(sp_sms_split(t, strlen(t), kw, &rest, &n), SP_OK);
    assert_string_equal(kw, "PekalonganKota");
    assert_memory_equal(rest, "Jalan rusak", 11);
    assert_int_equal(sp_sms_split("KotaMadiun", 10, kw, &rest, &n), SP_ERR_INVAL); /* no text */
    assert_int_equal(sp_sms_split("   ", 3, kw, &rest, &n), SP_ERR_INVAL);
}

static void test_sms_keyword_ignores_case_and_sets_region(void **state) {
    sp_intake_req r;
    sp_intake_error e;
    const char *t = "pekalongankota #RAHASIA Pungli di kantor kelurahan";
    assert_int_equal(sp_sms_parse(&r, topo, "0812 3456 7890", t, strlen(t), &e), SP_OK);
    assert_string_equal(r.region, "33.75");
    assert_string_equal(r.category, SP_CATEGORY_GENERAL);
    assert_int_equal(r.channel, 3);
    assert_int_equal(r.privacy, 2);
    assert_string_equal(r.text, "Pungli di kantor kelurahan");
    assert_string_equal(r.phone, "081234567890");
    assert_int_equal(sp_intake_check(&r, topo, &e), SP_OK);
    sp_intake_req_free(&r);
}

static void test_sms_unknown_keyword_gets_help(void **state) {
    sp_intake_req r;
    sp_intake_error e;
    const char *t = "KotaAntah aduan saya";
    assert_int_equal(sp_sms_parse(&r, topo, "0812345678", t, strlen(t), &e), SP_ERR_NOT_FOUND);
    assert_string_equal(e.code, "unknown_keyword");
    char help[400];
    size_t n = sp_sms_help(topo, sp_topology_find(topo, "kota-3375"), help, sizeof help);
    assert_true(n > 0 && n < sizeof help);
    assert_non_null(strstr(help, "KotaPekalongan"));   /* the answering node's keywords */
    assert_null(strstr(help, "KotaMadiun"));           /* not the federation's first ones */
    assert_non_null(strstr(help, "<KATA KUNCI>"));
    assert_non_null(strstr(help, "CEK <nomor aduan>"));
    n = sp_sms_help(topo, sp_topology_find(topo, "prov-35"), help, sizeof help);
    assert_non_null(strstr(help, "JawaTimur"));
    assert_int_equal(sp_sms_help(topo, NULL, help, 8), 7); /* cut to fit */
    assert_int_equal(sp_sms_parse(&r, topo, "", "KotaMadiun x", 12, &e), SP_ERR_INVAL);
    assert_string_equal(e.code, "missing_field");
    assert_int_equal(sp_sms_parse(&r, topo, "0812345678", "KotaMadiun \xff", 12, &e), SP_ERR_INVAL);
}

static void test_sms_replies_name_the_number_and_status(void **state) {
    char buf[480];
    sp_sms_filed_reply("3577-12K", buf, sizeof buf);
    assert_non_null(strstr(buf, "3577-12K"));
    assert_non_null(strstr(buf, "CEK 3577-12K"));
    assert_null(strstr(buf, "http")); /* a phone gets no link to our JSON API */
    sp_complaint_state s;
    sp_state_init(&s, "3577-12K");
    s.status = SP_ST_IN_PROGRESS;
    snprintf(s.agency, sizeof s.agency, "opd-3577-pupr");
    s.updated_at = 1764745200000ull; /* 2025-12-03 07:00 UTC = 14:00 WIB */
    sp_sms_status_reply(topo, &s, buf, sizeof buf);
    assert_string_equal(buf, "Aduan 3577-12K: sedang ditindaklanjuti oleh P (per 03-12-2025 14:00 WIB).");
    s.status = SP_ST_FILED;
    s.tz = SP_TZ_WIT;
    sp_sms_status_reply(topo, &s, buf, sizeof buf);
    assert_string_equal(buf, "Aduan 3577-12K: diterima, menunggu verifikasi (per 03-12-2025 16:00 WIT).");
    sp_state_clear(&s);
}

static void test_sms_request_json_and_form(void **state) {
    char *from, *text, *mid;
    sp_intake_error e;
    const char *j = "{\"from\":\"+62812\",\"text\":\"KotaMadiun halo\"}";
    assert_int_equal(sp_sms_request_parse(j, strlen(j), NULL, &from, &text, &mid, &e), SP_OK);
    assert_string_equal(from, "+62812");
    assert_null(mid);
    free(from);
    free(text);
    const char *f = "from=%2B62812&text=KotaMadiun+lampu+mati&message_id=gw-991";
    assert_int_equal(sp_sms_request_parse(f, strlen(f), "application/x-www-form-urlencoded", &from,
                                          &text, &mid, &e),
                     SP_OK);
    assert_string_equal(from, "+62812");
    assert_string_equal(text, "KotaMadiun lampu mati");
    assert_string_equal(mid, "gw-991");
    free(from);
    free(text);
    free(mid);
    const char *jm = "{\"from\":\"1\",\"text\":\"x\",\"message_id\":\"abc\"}";
    assert_int_equal(sp_sms_request_parse(jm, strlen(jm), NULL, &from, &text, &mid, &e), SP_OK);
    assert_string_equal(mid, "abc");
    free(from);
    free(text);
    free(mid);
    const char *bad = "{\"from\":\"1\",\"text\":\"x\",\"message_id\":7}";
    assert_int_equal(sp_sms_request_parse(bad, strlen(bad), NULL, &from, &text, &mid, &e),
                     SP_ERR_INVAL);
    assert_string_equal(e.code, "invalid_field");
    assert_int_equal(sp_sms_request_parse("{}", 2, NULL, &from, &text, &mid, &e), SP_ERR_INVAL);
    assert_string_equal(e.code, "missing_field");
}

/* ---- forms and Open311 ---- */

static void test_form_parse(void **state) {
    sp_form_pair *p;
    size_t n;
    const char *f = "a=1&b=hello+world&&c=%E2%82%AC&d";
    assert_int_equal(sp_form_parse(f, strlen(f), &p, &n), SP_OK);
    assert_int_equal(n, 4);
    assert_string_equal(sp_form_get(p, n, "b"), "hello world");
    assert_string_equal(sp_form_get(p, n, "c"), "\xe2\x82\xac");
    assert_string_equal(sp_form_get(p, n, "d"), "");
    assert_null(sp_form_get(p, n, "e"));
    sp_form_free(p, n);
    assert_int_equal(sp_form_parse("a=%zz", 5, &p, &n), SP_ERR_DECODE);
    assert_int_equal(sp_form_parse("a=%00", 5, &p, &n), SP_ERR_DECODE);
    assert_int_equal(sp_form_parse("a=%ff", 5, &p, &n), SP_ERR_DECODE);
    assert_int_equal(sp_form_parse("a=%4", 4, &p, &n), SP_ERR_DECODE);
}

static sp_err o311(const char *form, sp_intake_req *r, sp_intake_error *e) {
    sp_form_pair *p;
    size_t n;
    if (sp_form_parse(form, strlen(form), &p, &n) != SP_OK) return SP_ERR_DECODE;
    sp_err rv = sp_open311_parse(r, p, n, "35.77", e);
    sp_form_free(p, n);
    return rv;
}

static void test_open311_parse(void **state) {
    sp_intake_req r;
    sp_intake_error e;
    assert_int_equal(
        o311("service_code=infrastruktur/pju&lat=-7.6&long=111.5&description=Lampu+mati"
             "&address_string=Jl.+Pahlawan&first_name=Siti&last_name=A&email=s@x.id"
             "&attribute[privacy]=anonymous",
             &r, &e),
        SP_OK);
    assert_string_equal(r.region, "35.77");
    assert_int_equal(r.channel, 7);
    assert_int_equal(r.privacy, 1);
    assert_string_equal(r.name, "Siti A");
    assert_string_equal(r.text, "Lampu mati"); /* exactly as sent: the address apart */
    assert_string_equal(r.address, "Jl. Pahlawan");
    assert_null(r.media_url);
    sp_intake_req_free(&r);
    /* the description keeps its bytes, blanks included; media_url must be a web URL */
    assert_int_equal(o311("service_code=umum&lat=1&long=2&description=+Lampu+mati+%0A"
                          "&media_url=https://x.id/a.jpg&address_id=77",
                          &r, &e),
                     SP_OK);
    assert_string_equal(r.text, " Lampu mati \n");
    assert_string_equal(r.media_url, "https://x.id/a.jpg");
    assert_string_equal(r.address_id, "77");
    sp_intake_req_free(&r);
    assert_int_equal(o311("service_code=umum&lat=1&long=2&description=x&media_url=file:///etc",
                          &r, &e),
                     SP_ERR_INVAL);
    assert_int_equal(o311("service_code=umum&lat=1&long=2&description=x&attribute[color]=red",
                          &r, &e),
                     SP_ERR_INVAL);
    assert_non_null(strstr(e.message, "attribute[color]"));
    assert_int_equal(o311("lat=1&long=2&description=x", &r, &e), SP_ERR_INVAL);
    assert_non_null(strstr(e.message, "service_code"));
    assert_int_equal(o311("service_code=umum&description=x", &r, &e), SP_ERR_INVAL);
    assert_non_null(strstr(e.message, "location"));
    assert_int_equal(o311("service_code=umum&lat=1&description=x", &r, &e), SP_ERR_INVAL);
    assert_int_equal(o311("service_code=umum&address_id=7&jurisdiction_id=33.75", &r, &e),
                     SP_ERR_INVAL);
    assert_non_null(strstr(e.message, "description"));
    assert_int_equal(
        o311("service_code=umum&address_id=7&jurisdiction_id=33.75&description=x", &r, &e), SP_OK);
    assert_string_equal(r.region, "33.75");
    sp_intake_req_free(&r);
}

static void test_utf8(void **state) {
    assert_true(sp_utf8_valid("Pekalongan \xe2\x82\xac \xf0\x9f\x98\x80", 19));
    assert_false(sp_utf8_valid("\xc0\xaf", 2));     /* overlong */
    assert_false(sp_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    assert_false(sp_utf8_valid("\xe2\x82", 2));     /* truncated */
    assert_false(sp_utf8_valid("a\0b", 3));
}

/* ---- the sealed event ---- */

static int contains(const uint8_t *p, size_t n, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, needle, k) == 0) return 1;
    return 0;
}

static Simpul__V1__Event *build(const char *json, const char *intake, uint64_t number, uint8_t **body,
                                size_t *len, char id[SP_TRACKING_ID_MAX]) {
    sp_intake_req r;
    sp_intake_error e;
    assert_int_equal(parse(json, &r, &e), SP_OK);
    assert_int_equal(sp_intake_build(&r, topo, sp_topology_find(topo, intake), number, body, len, id),
                     SP_OK);
    sp_intake_req_free(&r);
    Simpul__V1__Event *ev = simpul__v1__event__unpack(NULL, *len, *body);
    assert_non_null(ev);
    assert_int_equal(ev->body_case, SIMPUL__V1__EVENT__BODY_FILED);
    return ev;
}

/* The content key from the wrap addressed to node `who`. */
static void unwrap(const Simpul__V1__ComplaintFiled *f, const char *who, const char *id,
                   uint8_t ck[32]) {
    for (size_t i = 0; i < f->n_content_keys; i++) {
        if (strcmp(f->content_keys[i]->recipient, who) != 0) continue;
        uint8_t *pt;
        size_t n;
        assert_int_equal(
            sp_seal_open(f->content_keys[i], key_of(who), id, SP_FIELD_CONTENT_KEY, &pt, &n),
            SP_OK);
        assert_int_equal(n, 32);
        memcpy(ck, pt, 32);
        free(pt);
        return;
    }
    fail_msg("no content key for %s", who);
}

#define WHO_JSON                                                                                   \
    "{\"title\":\"Pungli\",\"body\":\"Pungutan liar di kelurahan\",\"category\":\"umum\","         \
    "\"region\":\"35\",\"privacy\":\"%s\",\"reporter\":{\"name\":\"Siti Aminah\","                 \
    "\"phone\":\"081299998888\",\"nik\":\"3577014101900001\"}}"

static void test_build_public_seals_identity_only(void **state) {
    char json[512], id[SP_TRACKING_ID_MAX];
    uint8_t *body, ck[32], *pt;
    size_t len, n;
    snprintf(json, sizeof json, WHO_JSON, "public");
    Simpul__V1__Event *ev = build(json, "kota-3577", 42, &body, &len, id);
    char want[SP_TRACKING_ID_MAX];
    assert_int_equal(sp_tracking_number(want, "kota-3577", 42), SP_OK);
    assert_string_equal(id, want);
    assert_string_equal(ev->complaint_id, want);
    assert_int_equal(ev->filed->number, 42);
    assert_false(contains(body, len, "Siti") || contains(body, len, "08129999") ||
                 contains(body, len, "3577014101"));
    assert_true(contains(body, len, "Pungutan liar")); /* public: text in clear */
    const Simpul__V1__ComplaintFiled *f = ev->filed;
    assert_non_null(f->content);
    assert_int_equal(f->sealed_content.len, 0);
    assert_int_equal(f->n_content_keys, 2); /* intake kota-3577, responsible prov-35 */
    assert_int_equal(sp_seal_open(f->reporter, key_of("kota-3577"), id, SP_FIELD_REPORTER, &pt, &n),
                     SP_OK);
    Simpul__V1__ReporterIdentity *w = simpul__v1__reporter_identity__unpack(NULL, n, pt);
    assert_string_equal(w->name, "Siti Aminah");
    simpul__v1__reporter_identity__free_unpacked(w, NULL);
    free(pt);
    unwrap(f, "prov-35", id, ck); /* the responsible node reaches the reporter through the key */
    assert_int_equal(sp_content_open(ck, id, SP_FIELD_REPORTER_CK, f->sealed_reporter.data,
                                     f->sealed_reporter.len, &pt, &n),
                     SP_OK);
    free(pt);
    assert_int_equal(sp_seal_open(f->reporter, key_of("prov-35"), id, SP_FIELD_REPORTER, &pt, &n),
                     SP_ERR_BAD_SIG);
    simpul__v1__event__free_unpacked(ev, NULL);
    free(body);
}

static void test_build_anonymous_keeps_identity_at_intake(void **state) {
    char json[512], id[SP_TRACKING_ID_MAX];
    uint8_t *body;
    size_t len;
    snprintf(json, sizeof json, WHO_JSON, "anonymous");
    Simpul__V1__Event *ev = build(json, "kota-3577", 7, &body, &len, id);
    assert_non_null(ev->filed->reporter);
    assert_int_equal(ev->filed->sealed_reporter.len, 0); /* no copy under the content key */
    assert_false(contains(body, len, "Siti"));
    simpul__v1__event__free_unpacked(ev, NULL);
    free(body);
}

static void test_build_confidential_seals_content(void **state) {
    char json[512], id[SP_TRACKING_ID_MAX];
    uint8_t *body, ck[32], *pt;
    size_t len, n;
    snprintf(json, sizeof json, WHO_JSON, "confidential");
    Simpul__V1__Event *ev = build(json, "kota-3577", 9, &body, &len, id);
    const Simpul__V1__ComplaintFiled *f = ev->filed;
    assert_null(f->content);
    assert_false(contains(body, len, "Pungutan") || contains(body, len, "Pungli"));
    assert_true(contains(body, len, "umum")); /* metadata stays readable */
    unwrap(f, "kota-3577", id, ck);
    assert_int_equal(sp_content_open(ck, id, SP_FIELD_CONTENT, f->sealed_content.data,
                                     f->sealed_content.len, &pt, &n),
                     SP_OK);
    Simpul__V1__ComplaintContent *c = simpul__v1__complaint_content__unpack(NULL, n, pt);
    assert_string_equal(c->text, "Pungutan liar di kelurahan");
    simpul__v1__complaint_content__free_unpacked(c, NULL);
    free(pt);
    /* bound to its id: the same box under another complaint's id does not open */
    assert_int_not_equal(sp_content_open(ck, "3577-10", SP_FIELD_CONTENT, f->sealed_content.data,
                                         f->sealed_content.len, &pt, &n),
                         SP_OK);
    simpul__v1__event__free_unpacked(ev, NULL);
    free(body);
}

static void test_build_one_wrap_when_intake_is_responsible(void **state) {
    char id[SP_TRACKING_ID_MAX];
    uint8_t *body;
    size_t len;
    Simpul__V1__Event *ev = build("{\"body\":\"x\",\"category\":\"umum\",\"region\":\"35.77\"}",
                                  "kota-3577", 1, &body, &len, id);
    assert_int_equal(ev->filed->n_content_keys, 1);
    assert_null(ev->filed->reporter); /* no identity given: no box */
    simpul__v1__event__free_unpacked(ev, NULL);
    free(body);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_full_request_parses),
        cmocka_unit_test(test_json_defaults_and_title_from_text),
        cmocka_unit_test(test_json_errors_name_the_field),
        cmocka_unit_test(test_json_text_limit_is_413_or_400),
        cmocka_unit_test(test_check_unknown_category_and_region),
        cmocka_unit_test(test_sms_split),
        cmocka_unit_test(test_sms_keyword_ignores_case_and_sets_region),
        cmocka_unit_test(test_sms_unknown_keyword_gets_help),
        cmocka_unit_test(test_sms_request_json_and_form),
        cmocka_unit_test(test_sms_replies_name_the_number_and_status),
        cmocka_unit_test(test_form_parse),
        cmocka_unit_test(test_open311_parse),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_build_public_seals_identity_only),
        cmocka_unit_test(test_build_anonymous_keeps_identity_at_intake),
        cmocka_unit_test(test_build_confidential_seals_content),
        cmocka_unit_test(test_build_one_wrap_when_intake_is_responsible),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
