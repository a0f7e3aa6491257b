#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/intake/seal.h"
#include "tests/unit/testutil.h"

static const char secret[] = "Siti Aminah, 0812-3456-7890, NIK 3577014101900001";

static int contains(const uint8_t *p, size_t n, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, needle, k) == 0) return 1;
    return 0;
}

static void keypair(sp_key **k, uint8_t pub[SP_PUBKEY_LEN]) {
    assert_int_equal(sp_key_generate(k, SP_KEY_X25519), SP_OK);
    assert_int_equal(sp_key_raw_public(*k, pub), SP_OK);
}

static void test_sealed_box_round_trip(void **state) {
    sp_key *k;
    uint8_t pub[SP_PUBKEY_LEN], *pt;
    size_t n;
    keypair(&k, pub);
    Simpul__V1__Sealed s;
    assert_int_equal(sp_seal_to(&s, "kota-3577", 1, pub, "3577-12", SP_FIELD_REPORTER,
                                (const uint8_t *)secret, sizeof secret), SP_OK);
    assert_false(contains(s.ciphertext.data, s.ciphertext.len, "Siti"));
    assert_int_equal(sp_seal_open(&s, k, "3577-12", SP_FIELD_REPORTER, &pt, &n), SP_OK);
    assert_int_equal(n, sizeof secret);
    assert_memory_equal(pt, secret, n);
    free(pt);
    sp_sealed_clear(&s);
    sp_key_free(k);
}

/* Any altered bit, another complaint or field, another recipient key: the box stays shut. */
static void test_sealed_box_rejects_tampering_and_moving(void **state) {
    sp_key *k, *other;
    uint8_t pub[SP_PUBKEY_LEN], opub[SP_PUBKEY_LEN], *pt = NULL;
    size_t n;
    keypair(&k, pub);
    keypair(&other, opub);
    Simpul__V1__Sealed s;
    assert_int_equal(sp_seal_to(&s, "kota-3577", 1, pub, "3577-12", SP_FIELD_REPORTER,
                                (const uint8_t *)secret, sizeof secret), SP_OK);
    assert_int_equal(sp_seal_open(&s, k, "3577-13", SP_FIELD_REPORTER, &pt, &n), SP_ERR_BAD_SIG);
    assert_int_equal(sp_seal_open(&s, k, "3577-12", SP_FIELD_CONTENT, &pt, &n), SP_ERR_BAD_SIG);
    assert_int_equal(sp_seal_open(&s, other, "3577-12", SP_FIELD_REPORTER, &pt, &n), SP_ERR_BAD_SIG);
    uint8_t *parts[] = {s.ciphertext.data, s.nonce.data, s.ephemeral_pub.data};
    size_t lens[] = {s.ciphertext.len, s.nonce.len, s.ephemeral_pub.len};
    for (int p = 0; p < 3; p++)
        for (size_t i = 0; i < lens[p]; i += 7) {
            parts[p][i] ^= 0x01;
            assert_int_equal(sp_seal_open(&s, k, "3577-12", SP_FIELD_REPORTER, &pt, &n), SP_ERR_BAD_SIG);
            parts[p][i] ^= 0x01;
        }
    s.key_id = 2;
    assert_int_equal(sp_seal_open(&s, k, "3577-12", SP_FIELD_REPORTER, &pt, &n), SP_ERR_BAD_SIG);
    s.key_id = 1;
    s.version = 9;
    assert_int_equal(sp_seal_open(&s, k, "3577-12", SP_FIELD_REPORTER, &pt, &n), SP_ERR_DECODE);
    s.version = 1;
    assert_int_equal(sp_seal_open(&s, k, "3577-12", SP_FIELD_REPORTER, &pt, &n), SP_OK);
    free(pt);
    sp_sealed_clear(&s);
    sp_key_free(k);
    sp_key_free(other);
}

static void test_content_box_round_trip_and_tamper(void **state) {
    uint8_t key[SP_CONTENT_KEY_LEN], other[SP_CONTENT_KEY_LEN], *box, *pt;
    size_t len, n;
    assert_int_equal(sp_content_key_new(key), SP_OK);
    assert_int_equal(sp_content_key_new(other), SP_OK);
    assert_int_equal(sp_content_seal(key, "3577-12", SP_FIELD_CONTENT, (const uint8_t *)secret,
                                     sizeof secret, &box, &len), SP_OK);
    assert_int_equal(sp_content_open(key, "3577-12", SP_FIELD_CONTENT, box, len, &pt, &n), SP_OK);
    assert_memory_equal(pt, secret, sizeof secret);
    free(pt);
    assert_int_equal(sp_content_open(other, "3577-12", SP_FIELD_CONTENT, box, len, &pt, &n), SP_ERR_BAD_SIG);
    assert_int_equal(sp_content_open(key, "3577-99", SP_FIELD_CONTENT, box, len, &pt, &n), SP_ERR_BAD_SIG);
    box[len - 1] ^= 0x80;
    assert_int_equal(sp_content_open(key, "3577-12", SP_FIELD_CONTENT, box, len, &pt, &n), SP_ERR_BAD_SIG);
    assert_int_equal(sp_content_open(key, "3577-12", SP_FIELD_CONTENT, box, 5, &pt, &n), SP_ERR_DECODE);
    free(box);
}

/* After rotation the old key still opens old boxes; new boxes use the new key. */
static void test_keyring_rotation_keeps_old_keys(void **state) {
    char dir[256], path[300];
    assert_non_null(sp_test_tmpdir(dir, "seal"));
    sp_key *k1, *k2;
    uint8_t pub1[SP_PUBKEY_LEN], pub2[SP_PUBKEY_LEN], *pt;
    size_t n;
    keypair(&k1, pub1);
    keypair(&k2, pub2);
    snprintf(path, sizeof path, "%s/seal.key", dir);
    assert_int_equal(sp_key_save_private_pem(k1, path), SP_OK);
    snprintf(path, sizeof path, "%s/seal-2.key", dir);
    assert_int_equal(sp_key_save_private_pem(k2, path), SP_OK);
    sp_seal_keyring ring;
    assert_int_equal(sp_seal_keyring_load(&ring, dir), SP_OK);
    uint32_t id;
    assert_non_null(sp_seal_keyring_current(&ring, &id));
    assert_int_equal(id, 2);
    Simpul__V1__Sealed old, fresh;
    assert_int_equal(sp_seal_to(&old, "x", 1, pub1, "c-1", "f", (const uint8_t *)"a", 1), SP_OK);
    assert_int_equal(sp_seal_to(&fresh, "x", 2, pub2, "c-1", "f", (const uint8_t *)"b", 1), SP_OK);
    assert_int_equal(sp_seal_open_ring(&old, &ring, "c-1", "f", &pt, &n), SP_OK);
    free(pt);
    assert_int_equal(sp_seal_open_ring(&fresh, &ring, "c-1", "f", &pt, &n), SP_OK);
    free(pt);
    fresh.key_id = 3;
    assert_int_equal(sp_seal_open_ring(&fresh, &ring, "c-1", "f", &pt, &n), SP_ERR_NOT_FOUND);
    sp_sealed_clear(&old);
    sp_sealed_clear(&fresh);
    sp_seal_keyring_clear(&ring);
    sp_key_free(k1);
    sp_key_free(k2);
    sp_test_rmrf(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sealed_box_round_trip),
        cmocka_unit_test(test_sealed_box_rejects_tampering_and_moving),
        cmocka_unit_test(test_content_box_round_trip_and_tamper),
        cmocka_unit_test(test_keyring_rotation_keeps_old_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
