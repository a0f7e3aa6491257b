#include "node/intake/seal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SEAL_INFO[] = "simpul-seal-v1";
static const char CONTENT_TAG[] = "simpul-content-v1";

/* aad = tag | 0 | recipient | 0 | key_id (BE32) | complaint_id | 0 | field */
static size_t make_aad(uint8_t *out, size_t cap, const char *tag, const char *recipient,
                       uint32_t key_id, const char *complaint_id, const char *field) {
    int n = snprintf((char *)out, cap, "%s%c%s%c%c%c%c%c%s%c%s", tag, 0, recipient ? recipient : "",
                     0, (int)(key_id >> 24) & 0xff, (int)(key_id >> 16) & 0xff,
                     (int)(key_id >> 8) & 0xff, (int)key_id & 0xff, complaint_id, 0, field);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static sp_err box_key(const uint8_t shared[32], const uint8_t eph_pub[32], const uint8_t pub[32],
                      uint8_t key[SP_AEAD_KEY_LEN]) {
    uint8_t salt[64];
    memcpy(salt, eph_pub, 32);
    memcpy(salt + 32, pub, 32);
    return sp_hkdf_sha256(shared, 32, salt, sizeof salt, (const uint8_t *)SEAL_INFO,
                          strlen(SEAL_INFO), key, SP_AEAD_KEY_LEN);
}

sp_err sp_sealer_init(sp_sealer *s) {
    memset(s, 0, sizeof *s);
    sp_err rv = sp_key_generate(&s->eph, SP_KEY_X25519);
    if (rv == SP_OK) rv = sp_key_raw_public(s->eph, s->eph_pub);
    if (rv != SP_OK) sp_sealer_clear(s);
    return rv;
}

void sp_sealer_clear(sp_sealer *s) {
    sp_key_free(s->eph);
    memset(s, 0, sizeof *s);
}

sp_err sp_sealer_prepare(sp_sealer *s, const uint8_t pub[SP_PUBKEY_LEN]) {
    for (size_t i = 0; i < s->n; i++)
        if (memcmp(s->pubs[i], pub, SP_PUBKEY_LEN) == 0) return SP_OK;
    if (s->n == SP_SEALER_RECIPIENTS) return SP_ERR_TOO_BIG;
    uint8_t shared[32];
    sp_err rv = sp_x25519(s->eph, pub, shared);
    if (rv == SP_OK) rv = box_key(shared, s->eph_pub, pub, s->keys[s->n]);
    memset(shared, 0, sizeof shared);
    if (rv == SP_OK) memcpy(s->pubs[s->n++], pub, SP_PUBKEY_LEN);
    return rv;
}

/* The AEAD key for boxes to pub: one key agreement per recipient per event. */
static sp_err sealer_key(sp_sealer *s, const uint8_t pub[SP_PUBKEY_LEN], uint8_t key[SP_AEAD_KEY_LEN]) {
    sp_err rv = sp_sealer_prepare(s, pub);
    for (size_t i = 0; rv == SP_OK && i < s->n; i++)
        if (memcmp(s->pubs[i], pub, SP_PUBKEY_LEN) == 0) memcpy(key, s->keys[i], SP_AEAD_KEY_LEN);
    return rv;
}

sp_err sp_sealer_seal(sp_sealer *s, Simpul__V1__Sealed *out, const char *recipient,
                      uint32_t key_id, const uint8_t pub[SP_PUBKEY_LEN], const char *complaint_id,
                      const char *field, const uint8_t *pt, size_t n) {
    uint8_t key[SP_AEAD_KEY_LEN], aad[512];
    size_t aad_len = make_aad(aad, sizeof aad, SEAL_INFO, recipient, key_id, complaint_id, field);
    if (n > SP_MAX_SEALED || aad_len == 0) return SP_ERR_TOO_BIG;
    simpul__v1__sealed__init(out);
    out->version = SP_SEAL_VERSION;
    out->key_id = key_id;
    out->recipient = strdup(recipient);
    out->ephemeral_pub.data = malloc(SP_PUBKEY_LEN);
    out->nonce.data = malloc(SP_AEAD_NONCE_LEN);
    out->ciphertext.data = malloc(n + SP_AEAD_TAG_LEN);
    sp_err rv = out->recipient && out->ephemeral_pub.data && out->nonce.data && out->ciphertext.data
                    ? SP_OK : SP_ERR_NOMEM;
    if (rv == SP_OK) rv = sealer_key(s, pub, key);
    if (rv == SP_OK) rv = sp_random(out->nonce.data, SP_AEAD_NONCE_LEN);
    if (rv == SP_OK) rv = sp_aead_seal(key, out->nonce.data, aad, aad_len, pt, n, out->ciphertext.data);
    memset(key, 0, sizeof key);
    if (rv == SP_OK) memcpy(out->ephemeral_pub.data, s->eph_pub, SP_PUBKEY_LEN);
    out->ephemeral_pub.len = SP_PUBKEY_LEN;
    out->nonce.len = SP_AEAD_NONCE_LEN;
    out->ciphertext.len = n + SP_AEAD_TAG_LEN;
    if (rv != SP_OK) sp_sealed_clear(out);
    return rv;
}

sp_err sp_seal_to(Simpul__V1__Sealed *out, const char *recipient, uint32_t key_id,
                  const uint8_t pub[SP_PUBKEY_LEN], const char *complaint_id, const char *field,
                  const uint8_t *pt, size_t n) {
    sp_sealer s;
    sp_err rv = sp_sealer_init(&s);
    if (rv == SP_OK) rv = sp_sealer_seal(&s, out, recipient, key_id, pub, complaint_id, field, pt, n);
    sp_sealer_clear(&s);
    return rv;
}

void sp_sealed_clear(Simpul__V1__Sealed *s) {
    if (!s) return;
    /* A freshly initialised message points at protobuf-c's static empty string. */
    if (s->recipient != protobuf_c_empty_string) free(s->recipient);
    free(s->ephemeral_pub.data);
    free(s->nonce.data);
    free(s->ciphertext.data);
    simpul__v1__sealed__init(s);
}

sp_err sp_seal_open(const Simpul__V1__Sealed *s, const sp_key *priv, const char *complaint_id,
                    const char *field, uint8_t **pt, size_t *n) {
    if (s->version != SP_SEAL_VERSION || s->ephemeral_pub.len != SP_PUBKEY_LEN ||
        s->nonce.len != SP_AEAD_NONCE_LEN || s->ciphertext.len < SP_AEAD_TAG_LEN ||
        s->ciphertext.len > SP_MAX_SEALED + SP_AEAD_TAG_LEN || !s->recipient)
        return SP_ERR_DECODE;
    uint8_t pub[SP_PUBKEY_LEN], shared[32], key[SP_AEAD_KEY_LEN], aad[512];
    size_t aad_len = make_aad(aad, sizeof aad, SEAL_INFO, s->recipient, s->key_id, complaint_id, field);
    sp_err rv = aad_len ? sp_key_raw_public(priv, pub) : SP_ERR_TOO_BIG;
    if (rv == SP_OK) rv = sp_x25519(priv, s->ephemeral_pub.data, shared);
    if (rv == SP_OK) rv = box_key(shared, s->ephemeral_pub.data, pub, key);
    size_t len = s->ciphertext.len - SP_AEAD_TAG_LEN;
    uint8_t *out = rv == SP_OK ? malloc(len ? len : 1) : NULL;
    if (rv == SP_OK && !out) rv = SP_ERR_NOMEM;
    if (rv == SP_OK)
        rv = sp_aead_open(key, s->nonce.data, aad, aad_len, s->ciphertext.data, s->ciphertext.len, out);
    if (rv == SP_ERR_CRYPTO) rv = SP_ERR_BAD_SIG; /* e.g. a degenerate ephemeral key */
    memset(key, 0, sizeof key);
    memset(shared, 0, sizeof shared);
    if (rv != SP_OK) {
        free(out);
        return rv;
    }
    *pt = out;
    *n = len;
    return SP_OK;
}

sp_err sp_content_key_new(uint8_t key[SP_CONTENT_KEY_LEN]) {
    return sp_random(key, SP_CONTENT_KEY_LEN);
}

sp_err sp_content_seal(const uint8_t key[SP_CONTENT_KEY_LEN], const char *complaint_id,
                       const char *field, const uint8_t *pt, size_t n, uint8_t **out,
                       size_t *out_len) {
    uint8_t aad[512];
    size_t aad_len = make_aad(aad, sizeof aad, CONTENT_TAG, NULL, 0, complaint_id, field);
    if (n > SP_MAX_SEALED || !aad_len) return SP_ERR_TOO_BIG;
    uint8_t *buf = malloc(1 + SP_AEAD_NONCE_LEN + n + SP_AEAD_TAG_LEN);
    if (!buf) return SP_ERR_NOMEM;
    buf[0] = SP_SEAL_VERSION;
    sp_err rv = sp_random(buf + 1, SP_AEAD_NONCE_LEN);
    if (rv == SP_OK) rv = sp_aead_seal(key, buf + 1, aad, aad_len, pt, n, buf + 1 + SP_AEAD_NONCE_LEN);
    if (rv != SP_OK) {
        free(buf);
        return rv;
    }
    *out = buf;
    *out_len = 1 + SP_AEAD_NONCE_LEN + n + SP_AEAD_TAG_LEN;
    return SP_OK;
}

sp_err sp_content_open(const uint8_t key[SP_CONTENT_KEY_LEN], const char *complaint_id,
                       const char *field, const uint8_t *in, size_t n, uint8_t **pt, size_t *len) {
    uint8_t aad[512];
    size_t aad_len = make_aad(aad, sizeof aad, CONTENT_TAG, NULL, 0, complaint_id, field);
    if (n < 1 + SP_AEAD_NONCE_LEN + SP_AEAD_TAG_LEN || in[0] != SP_SEAL_VERSION || !aad_len)
        return SP_ERR_DECODE;
    size_t body = n - 1 - SP_AEAD_NONCE_LEN;
    uint8_t *out = malloc(body - SP_AEAD_TAG_LEN + 1);
    if (!out) return SP_ERR_NOMEM;
    sp_err rv = sp_aead_open(key, in + 1, aad, aad_len, in + 1 + SP_AEAD_NONCE_LEN, body, out);
    if (rv != SP_OK) {
        free(out);
        return rv;
    }
    *pt = out;
    *len = body - SP_AEAD_TAG_LEN;
    return SP_OK;
}

/* ---- keyring ---- */

static sp_err ring_add(sp_seal_keyring *ring, const char *path, uint32_t id) {
    if (ring->n == sizeof ring->keys / sizeof *ring->keys) return SP_ERR_TOO_BIG;
    sp_err rv = sp_key_load_pem(&ring->keys[ring->n], path, SP_KEY_X25519);
    if (rv == SP_OK && !sp_key_has_private(ring->keys[ring->n])) {
        sp_key_free(ring->keys[ring->n]);
        rv = SP_ERR_CRYPTO;
    }
    if (rv == SP_OK) ring->ids[ring->n++] = id;
    return rv;
}

sp_err sp_seal_keyring_load(sp_seal_keyring *ring, const char *dir) {
    memset(ring, 0, sizeof *ring);
    DIR *d = opendir(dir);
    if (!d) return SP_ERR_IO;
    struct dirent *e;
    sp_err rv = SP_OK;
    while (rv == SP_OK && (e = readdir(d))) {
        unsigned id = 0;
        char tail[8], path[4200];
        if (strcmp(e->d_name, "seal.key") == 0)
            id = 1;
        else if (sscanf(e->d_name, "seal-%u.ke%1[y]", &id, tail) != 2 || id < 2)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        rv = ring_add(ring, path, id);
    }
    closedir(d);
    if (rv == SP_OK && ring->n == 0) rv = SP_ERR_NOT_FOUND;
    if (rv != SP_OK) sp_seal_keyring_clear(ring);
    return rv;
}

const sp_key *sp_seal_keyring_get(const sp_seal_keyring *ring, uint32_t key_id) {
    for (size_t i = 0; i < ring->n; i++)
        if (ring->ids[i] == key_id) return ring->keys[i];
    return NULL;
}

const sp_key *sp_seal_keyring_current(const sp_seal_keyring *ring, uint32_t *key_id) {
    size_t best = ring->n;
    for (size_t i = 0; i < ring->n; i++)
        if (best == ring->n || ring->ids[i] > ring->ids[best]) best = i;
    if (best == ring->n) return NULL;
    if (key_id) *key_id = ring->ids[best];
    return ring->keys[best];
}

void sp_seal_keyring_clear(sp_seal_keyring *ring) {
    for (size_t i = 0; i < ring->n; i++) sp_key_free(ring->keys[i]);
    memset(ring, 0, sizeof *ring);
}

sp_err sp_seal_open_ring(const Simpul__V1__Sealed *s, const sp_seal_keyring *ring,
                         const char *complaint_id, const char *field, uint8_t **pt, size_t *n) {
    const sp_key *k = sp_seal_keyring_get(ring, s->key_id);
    if (!k) return SP_ERR_NOT_FOUND;
    return sp_seal_open(s, k, complaint_id, field, pt, n);
}
