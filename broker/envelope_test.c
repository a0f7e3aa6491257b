#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/envelope.h"
#include "broker/hlc.h"

static const uint8_t zero[SP_HASH_LEN];

/* A valid chain of n envelopes of origin "kota-3577" signed by key. */
static sp_envelope *make_chain(const sp_key *key, size_t n) {
    sp_envelope *envs = calloc(n, sizeof *envs);
    uint8_t prev[SP_HASH_LEN] = {0};
    for (size_t i = 0; i < n; i++) {
        char body[32];
        int len = snprintf(body, sizeof body, "event %zu", i);
        assert_int_equal(sp_envelope_init(&envs[i], "kota-3577", (uint8_t *)body, (size_t)len), SP_OK);
        envs[i].seq = i + 1;
        envs[i].hlc = sp_hlc_make(1700000000000ULL + i, 0);
        memcpy(envs[i].prev_hash, prev, SP_HASH_LEN);
        assert_int_equal(sp_envelope_sign(&envs[i], key), SP_OK);
        assert_int_equal(sp_envelope_hash(&envs[i], prev), SP_OK);
    }
    return envs;
}

static void test_sign_verify_round_trip(void **state) {
    sp_key *k;
    assert_int_equal(sp_key_generate(&k, SP_KEY_ED25519), SP_OK);
    sp_envelope *e = make_chain(k, 1);
    assert_int_equal(sp_envelope_verify(e, k), SP_OK);
    sp_envelopes_free(e, 1);
    sp_key_free(k);
}

static void test_tampered_body_sig_and_wrong_key_fail(void **state) {
    sp_key *k, *other;
    assert_int_equal(sp_key_generate(&k, SP_KEY_ED25519), SP_OK);
    assert_int_equal(sp_key_generate(&other, SP_KEY_ED25519), SP_OK);
    sp_envelope *e = make_chain(k, 1);
    assert_int_equal(sp_envelope_verify(e, other), SP_ERR_BAD_SIG);
    e->body[0] ^= 1;
    assert_int_equal(sp_envelope_verify(e, k), SP_ERR_BAD_SIG);
    e->body[0] ^= 1;
    e->sig[10] ^= 0x40;
    assert_int_equal(sp_envelope_verify(e, k), SP_ERR_BAD_SIG);
    e->sig[10] ^= 0x40;
    e->hlc++;
    assert_int_equal(sp_envelope_verify(e, k), SP_ERR_BAD_SIG);
    sp_envelopes_free(e, 1);
    sp_key_free(k);
    sp_key_free(other);
}

static void test_encode_decode_round_trip(void **state) {
    sp_key *k;
    assert_int_equal(sp_key_generate(&k, SP_KEY_ED25519), SP_OK);
    sp_envelope *e = make_chain(k, 1), back;
    uint8_t *buf;
    size_t n;
    assert_int_equal(sp_envelope_encode(e, &buf, &n), SP_OK);
    assert_int_equal(sp_envelope_decode(&back, buf, n), SP_OK);
    assert_string_equal(back.origin, e->origin);
    assert_int_equal(back.seq, e->seq);
    assert_int_equal(back.hlc, e->hlc);
    assert_memory_equal(back.sig, e->sig, SP_SIG_LEN);
    assert_int_equal(back.body_len, e->body_len);
    assert_int_equal(sp_envelope_verify(&back, k), SP_OK);
    sp_envelope_clear(&back);
    assert_int_equal(sp_envelope_decode(&back, buf, n / 2), SP_ERR_DECODE);
    assert_int_equal(sp_envelope_decode(&back, (const uint8_t *)"\xff\xff\xff", 3), SP_ERR_DECODE);
    free(buf);
    sp_envelopes_free(e, 1);
    sp_key_free(k);
}

static void test_oversized_rejected_before_decoding(void **state) {
    size_t n = SP_MAX_ENVELOPE + 1;
    uint8_t *big = calloc(1, n);
    sp_envelope e;
    assert_int_equal(sp_envelope_decode(&e, big, n), SP_ERR_TOO_BIG);
    uint8_t body[16] = {0};
    assert_int_equal(sp_envelope_init(&e, "x", body, SP_MAX_BODY + 1), SP_ERR_TOO_BIG);
    assert_int_equal(sp_envelope_init(&e, "", body, 1), SP_ERR_INVAL);
    free(big);
}

static void test_batch_round_trip(void **state) {
    sp_key *k;
    assert_int_equal(sp_key_generate(&k, SP_KEY_ED25519), SP_OK);
    sp_envelope *e = make_chain(k, 50), *back;
    uint8_t *buf;
    size_t n, count;
    assert_int_equal(sp_batch_encode(e, 50, &buf, &n), SP_OK);
    assert_int_equal(sp_batch_decode(&back, &count, buf, n), SP_OK);
    assert_int_equal(count, 50);
    assert_int_equal(sp_envelope_verify_run(back, count, k, zero, NULL, NULL), SP_OK);
    sp_envelopes_free(back, count);
    assert_int_equal(sp_batch_decode(&back, &count, buf, n - 3), SP_ERR_DECODE);
    free(buf);
    sp_envelopes_free(e, 50);
    sp_key_free(k);
}

static void test_run_verification_accepts_valid_run(void **state) {
    sp_key *k;
    assert_int_equal(sp_key_generate(&k, SP_KEY_ED25519), SP_OK);
    sp_envelope *e = make_chain(k, 100);
    uint8_t hashes[100][SP_HASH_LEN];
    assert_int_equal(sp_envelope_verify_run(e, 100, k, zero, NULL, hashes), SP_OK);
    /* A run from the middle verifies against its predecessor's hash. */
    assert_int_equal(sp_envelope_verify_run(e + 40, 60, k, hashes[39], NULL, NULL), SP_OK);
    assert_int_equal(sp_envelope_verify_run(e + 40, 60, k, hashes[38], NULL, NULL), SP_ERR_BAD_CHAIN);
    sp_envelopes_free(e, 100);
    sp_key_free(k);
}

/* Whatever single field of whichever envelope is tampered with, the run is rejected. */
static void test_run_verification_rejects_any_single_tamper(void **state) {
    sp_key *k;
    assert_int_equal(sp_key_generate(&k, SP_KEY_ED25519), SP_OK);
    const size_t n = 20;
    sp_envelope *e = make_chain(k, n);
    for (size_t i = 0; i < n; i++) {
        for (int field = 0; field < 4; field++) {
            uint8_t *p = field == 0 ? &e[i].body[0]
                         : field == 1 ? &e[i].sig[0]
                         : field == 2 ? &e[i].prev_hash[5]
                                      : (uint8_t *)&e[i].hlc;
            *p ^= 0x20;
            size_t bad = 999;
            sp_err rv = sp_envelope_verify_run(e, n, k, zero, &bad, NULL);
            assert_true(rv == SP_ERR_BAD_SIG || rv == SP_ERR_BAD_CHAIN);
            assert_true(bad == i || bad == i + 1);
            *p ^= 0x20;
        }
    }
    assert_int_equal(sp_envelope_verify_run(e, n, k, zero, NULL, NULL), SP_OK);
    sp_envelopes_free(e, n);
    sp_key_free(k);
}

static void test_hlc_is_monotonic_and_bounded(void **state) {
    sp_hlc c = {0};
    uint64_t a = sp_hlc_now(&c, 1000), b = sp_hlc_now(&c, 1000), d = sp_hlc_now(&c, 999);
    assert_true(a < b && b < d);
    assert_int_equal(sp_hlc_observe(&c, sp_hlc_make(5000, 7), 4000), 0);
    assert_true(sp_hlc_now(&c, 4000) > sp_hlc_make(5000, 7));
    assert_int_equal(sp_hlc_observe(&c, sp_hlc_make(4000 + SP_HLC_MAX_DRIFT_MS + 1, 0), 4000), -1);
    assert_true(sp_hlc_ms(c.last) < 4000 + SP_HLC_MAX_DRIFT_MS);
}

static void test_base64_round_trip_and_errors(void **state) {
    uint8_t raw[32], back[32];
    char b64[64];
    size_t n;
    for (int i = 0; i < 32; i++) raw[i] = (uint8_t)(i * 7);
    sp_base64_encode(raw, 32, b64);
    assert_int_equal(sp_base64_decode(b64, back, sizeof back, &n), SP_OK);
    assert_int_equal(n, 32);
    assert_memory_equal(raw, back, 32);
    assert_int_equal(sp_base64_decode("abc", back, sizeof back, &n), SP_ERR_DECODE);
    assert_int_equal(sp_base64_decode("!!!!", back, sizeof back, &n), SP_ERR_DECODE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_verify_round_trip),
        cmocka_unit_test(test_tampered_body_sig_and_wrong_key_fail),
        cmocka_unit_test(test_encode_decode_round_trip),
        cmocka_unit_test(test_oversized_rejected_before_decoding),
        cmocka_unit_test(test_batch_round_trip),
        cmocka_unit_test(test_run_verification_accepts_valid_run),
        cmocka_unit_test(test_run_verification_rejects_any_single_tamper),
        cmocka_unit_test(test_hlc_is_monotonic_and_bounded),
        cmocka_unit_test(test_base64_round_trip_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
