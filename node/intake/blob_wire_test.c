#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/intake/blob_wire.h"
#include "schemas/simpul.pb-c.h"

#define ID "3577-12"

/* Keys of the asking node (OPD) and another node, and a topology publishing their keys. */
typedef struct {
    sp_key *opd_sign, *other_sign, *opd_seal, *other_seal;
    uint8_t opd_seal_pub[SP_PUBKEY_LEN], other_seal_pub[SP_PUBKEY_LEN];
    sp_seal_keyring opd_ring;
    sp_topology *topo;
    uint8_t sha[SP_HASH_LEN];
} fixture;

static void b64_pub(const sp_key *k, char out[64]) {
    uint8_t pub[SP_PUBKEY_LEN];
    assert_int_equal(sp_key_raw_public(k, pub), SP_OK);
    sp_base64_encode(pub, sizeof pub, out);
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    assert_int_equal(sp_key_generate(&f->opd_sign, SP_KEY_ED25519), SP_OK);
    assert_int_equal(sp_key_generate(&f->other_sign, SP_KEY_ED25519), SP_OK);
    assert_int_equal(sp_key_generate(&f->opd_seal, SP_KEY_X25519), SP_OK);
    assert_int_equal(sp_key_generate(&f->other_seal, SP_KEY_X25519), SP_OK);
    assert_int_equal(sp_key_raw_public(f->opd_seal, f->opd_seal_pub), SP_OK);
    assert_int_equal(sp_key_raw_public(f->other_seal, f->other_seal_pub), SP_OK);
    f->opd_ring.keys[0] = f->opd_seal;
    f->opd_ring.ids[0] = 1;
    f->opd_ring.n = 1;
    char a[64], b[64], yaml[1024];
    b64_pub(f->opd_sign, a);
    b64_pub(f->other_sign, b);
    snprintf(yaml, sizeof yaml,
             "nodes:\n"
             "  - {id: national, kind: national, name: N, address: tcp://h:1}\n"
             "  - {id: prov-35, kind: province, code: \"35\", name: P, parent: national,"
             " address: tcp://h:2}\n"
             "  - {id: kota-3577, kind: kota, code: \"35.77\", name: K, parent: prov-35,"
             " address: tcp://h:3, sign_key: %s}\n"
             "  - {id: opd-3577-pupr, kind: opd, name: O, parent: kota-3577,"
             " address: tcp://h:4, sign_key: %s}\n",
             b, a);
    assert_int_equal(sp_topology_load_buffer(&f->topo, "t.yaml", yaml, strlen(yaml), NULL), SP_OK);
    sp_sha256((const uint8_t *)"photo", 5, NULL, 0, f->sha);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    sp_key_free(f->opd_sign);
    sp_key_free(f->other_sign);
    sp_key_free(f->opd_seal);
    sp_key_free(f->other_seal);
    sp_topology_free(f->topo);
    free(f);
    return 0;
}

static void make(const fixture *f, sp_blob_request *q, const uint8_t *sha) {
    assert_int_equal(sp_blob_request_make(q, "opd-3577-pupr", "kota-3577", ID, sha, f->opd_sign),
                     SP_OK);
}

static sp_err parse_msg(const Simpul__V1__BlobRequest *m, sp_blob_request *out) {
    uint8_t buf[2048];
    size_t n = simpul__v1__blob_request__pack(m, buf);
    return sp_blob_request_parse(out, buf, n);
}

static void test_request_round_trip_verifies(void **state) {
    fixture *f = *state;
    sp_blob_request q, back;
    make(f, &q, f->sha);
    uint8_t *buf;
    size_t n;
    assert_int_equal(sp_blob_request_encode(&q, &buf, &n), SP_OK);
    assert_int_equal(sp_blob_request_parse(&back, buf, n), SP_OK);
    free(buf);
    assert_memory_equal(&q, &back, sizeof q);
    assert_int_equal(sp_blob_request_verify(&back, f->topo), SP_OK);
}

/* Every field out of shape is refused before it is used; a huge request before unpacking. */
static void test_parse_refuses_malformed_requests(void **state) {
    fixture *f = *state;
    sp_blob_request q, out;
    make(f, &q, f->sha);
    uint8_t sha31[31] = {0}, sig[SP_SIG_LEN] = {0};
    char long_id[80];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    Simpul__V1__BlobRequest good = SIMPUL__V1__BLOB_REQUEST__INIT;
    good.requester = q.requester;
    good.server = q.server;
    good.complaint_id = q.complaint_id;
    good.sha256 = (ProtobufCBinaryData){SP_HASH_LEN, q.sha256};
    good.sig = (ProtobufCBinaryData){SP_SIG_LEN, q.sig};
    assert_int_equal(parse_msg(&good, &out), SP_OK);
    Simpul__V1__BlobRequest m = good;
    m.sha256.len = 31;
    m.sha256.data = sha31;
    assert_int_equal(parse_msg(&m, &out), SP_ERR_DECODE);
    m = good;
    m.sig.len = 0;
    assert_int_equal(parse_msg(&m, &out), SP_ERR_DECODE);
    m = good;
    m.sig = (ProtobufCBinaryData){SP_SIG_LEN - 1, sig};
    assert_int_equal(parse_msg(&m, &out), SP_ERR_DECODE);
    const char *bad_nodes[] = {"", "Kota 3577", long_id, "kota/3577"};
    for (size_t i = 0; i < sizeof bad_nodes / sizeof *bad_nodes; i++) {
        m = good;
        m.requester = (char *)bad_nodes[i];
        assert_int_equal(parse_msg(&m, &out), SP_ERR_DECODE);
        m = good;
        m.server = (char *)bad_nodes[i];
        assert_int_equal(parse_msg(&m, &out), SP_ERR_DECODE);
    }
    const char *bad_ids[] = {"", "3577", "3577-0", "../etc/passwd", long_id};
    for (size_t i = 0; i < sizeof bad_ids / sizeof *bad_ids; i++) {
        m = good;
        m.complaint_id = (char *)bad_ids[i];
        assert_int_equal(parse_msg(&m, &out), SP_ERR_DECODE);
        assert_string_equal(out.requester, ""); /* nothing half-filled */
    }
    uint8_t junk[SP_BLOB_REQUEST_MAX + 1];
    memset(junk, 0xff, sizeof junk);
    assert_int_equal(sp_blob_request_parse(&out, junk, sizeof junk), SP_ERR_TOO_BIG);
    assert_int_equal(sp_blob_request_parse(&out, junk, 16), SP_ERR_DECODE);
    assert_int_equal(sp_blob_request_parse(&out, junk, 0), SP_ERR_DECODE); /* no fields */
}

/* A request signed by another key, altered after signing, or from a node the topology does
 * not know does not verify. */
static void test_verify_refuses_unknown_and_forged(void **state) {
    fixture *f = *state;
    sp_blob_request q, t;
    make(f, &q, f->sha);
    t = q;
    t.sha256[0] ^= 1;
    assert_int_equal(sp_blob_request_verify(&t, f->topo), SP_ERR_BAD_SIG);
    t = q;
    snprintf(t.server, sizeof t.server, "prov-35");
    assert_int_equal(sp_blob_request_verify(&t, f->topo), SP_ERR_BAD_SIG);
    t = q;
    snprintf(t.complaint_id, sizeof t.complaint_id, "3577-13");
    assert_int_equal(sp_blob_request_verify(&t, f->topo), SP_ERR_BAD_SIG);
    /* kota-3577's key signing a request that claims to come from the OPD */
    assert_int_equal(
        sp_blob_request_make(&t, "opd-3577-pupr", "kota-3577", ID, f->sha, f->other_sign), SP_OK);
    assert_int_equal(sp_blob_request_verify(&t, f->topo), SP_ERR_BAD_SIG);
    assert_int_equal(sp_blob_request_make(&t, "kota-9999", "kota-3577", ID, f->sha, f->opd_sign),
                     SP_OK);
    assert_int_equal(sp_blob_request_verify(&t, f->topo), SP_ERR_UNKNOWN_ORIGIN);
    assert_int_equal(sp_blob_request_make(&t, "prov-35", "kota-3577", ID, f->sha, f->opd_sign),
                     SP_OK); /* in the topology, but without a signing key */
    assert_int_equal(sp_blob_request_verify(&t, f->topo), SP_ERR_UNKNOWN_ORIGIN);
    assert_int_equal(sp_blob_request_make(&t, "Bad Id", "kota-3577", ID, f->sha, f->opd_sign),
                     SP_ERR_INVAL);
}

static uint8_t *random_blob(size_t n, uint8_t sha[SP_HASH_LEN]) {
    uint8_t *b = malloc(n);
    assert_int_equal(sp_random(b, n), SP_OK);
    sp_sha256(b, n, NULL, 0, sha);
    return b;
}

static int contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t k) {
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0) return 1;
    return 0;
}

/* A 2 MiB attachment travels sealed and comes out whole, to the requester only. */
static void test_reply_round_trip_only_for_the_requester(void **state) {
    fixture *f = *state;
    size_t n = 2u << 20;
    uint8_t sha[SP_HASH_LEN], *blob = random_blob(n, sha), *wire, *got;
    size_t wn, gn;
    sp_blob_request q;
    make(f, &q, sha);
    assert_int_equal(sp_blob_reply_seal(&q, 1, f->opd_seal_pub, blob, n, &wire, &wn), SP_OK);
    assert_false(contains(wire, wn, blob + 1000, 64)); /* no plaintext on the wire */
    assert_int_equal(sp_blob_reply_open(&q, &f->opd_ring, wire, wn, n, &got, &gn, NULL, 0), SP_OK);
    assert_int_equal(gn, n);
    assert_memory_equal(got, blob, n);
    free(got);
    assert_int_equal(sp_blob_reply_open(&q, &f->opd_ring, wire, wn, n - 1, &got, &gn, NULL, 0),
                     SP_ERR_TOO_BIG);
    sp_seal_keyring other = {{f->other_seal}, {1}, 1}, wrong_id = {{f->opd_seal}, {2}, 1};
    assert_int_equal(sp_blob_reply_open(&q, &other, wire, wn, n, &got, &gn, NULL, 0),
                     SP_ERR_BAD_SIG);
    assert_int_equal(sp_blob_reply_open(&q, &wrong_id, wire, wn, n, &got, &gn, NULL, 0),
                     SP_ERR_BAD_SIG);
    sp_blob_request t = q;
    snprintf(t.complaint_id, sizeof t.complaint_id, "3577-13"); /* moved to another complaint */
    assert_int_equal(sp_blob_reply_open(&t, &f->opd_ring, wire, wn, n, &got, &gn, NULL, 0),
                     SP_ERR_BAD_SIG);
    wire[wn - 5] ^= 0x40; /* a bit of the data's tag */
    assert_int_equal(sp_blob_reply_open(&q, &f->opd_ring, wire, wn, n, &got, &gn, NULL, 0),
                     SP_ERR_BAD_SIG);
    assert_null(got);
    free(wire);
    free(blob);
}

/* A server that answers with other bytes than those named is caught by the hash. */
static void test_reply_with_other_bytes_is_corrupt(void **state) {
    fixture *f = *state;
    uint8_t sha[SP_HASH_LEN], *blob = random_blob(1000, sha), *wire, *got;
    size_t wn, gn;
    sp_blob_request q;
    make(f, &q, f->sha); /* asks for "photo", gets random bytes */
    assert_int_equal(sp_blob_reply_seal(&q, 1, f->opd_seal_pub, blob, 1000, &wire, &wn), SP_OK);
    assert_int_equal(sp_blob_reply_open(&q, &f->opd_ring, wire, wn, 4096, &got, &gn, NULL, 0),
                     SP_ERR_CORRUPT);
    assert_null(got);
    free(wire);
    free(blob);
}

static void test_refusals_carry_their_code_and_message(void **state) {
    fixture *f = *state;
    static const struct {
        const char *code;
        sp_err rv;
    } cases[] = {{SP_BLOB_FORBIDDEN, SP_ERR_FORBIDDEN},    {SP_BLOB_NOT_FOUND, SP_ERR_NOT_FOUND},
                 {SP_BLOB_MALFORMED, SP_ERR_REJECTED},     {SP_BLOB_UNKNOWN_NODE, SP_ERR_REJECTED},
                 {SP_BLOB_BAD_SIGNATURE, SP_ERR_REJECTED}, {"something new", SP_ERR_REJECTED}};
    sp_blob_request q;
    make(f, &q, f->sha);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t *wire, *got;
        size_t wn, gn;
        char why[64];
        assert_int_equal(sp_blob_reply_refuse(cases[i].code, "because", &wire, &wn), SP_OK);
        assert_int_equal(
            sp_blob_reply_open(&q, &f->opd_ring, wire, wn, 10, &got, &gn, why, sizeof why),
            cases[i].rv);
        assert_string_equal(why, "because");
        free(wire);
    }
    uint8_t junk[] = {0xff, 0xff, 0xff}, *got;
    size_t gn;
    assert_int_equal(
        sp_blob_reply_open(&q, &f->opd_ring, junk, sizeof junk, 10, &got, &gn, NULL, 0),
        SP_ERR_DECODE);
    Simpul__V1__BlobReply empty = SIMPUL__V1__BLOB_REPLY__INIT; /* no error, no key */
    uint8_t buf[16];
    size_t n = simpul__v1__blob_reply__pack(&empty, buf);
    assert_int_equal(sp_blob_reply_open(&q, &f->opd_ring, buf, n, 10, &got, &gn, NULL, 0),
                     SP_ERR_DECODE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_request_round_trip_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_refuses_malformed_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_refuses_unknown_and_forged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_round_trip_only_for_the_requester, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reply_with_other_bytes_is_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_carry_their_code_and_message, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
