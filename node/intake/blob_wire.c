/*
 * BlobRequest / BlobReply (node/intake/blob_wire.h): signing, sealing, and parsing what comes from
 * another node. Everything that arrives is checked for size before protobuf-c allocates it and
 * for shape before it is used.
 */
#include "node/intake/blob_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/simpul.pb-c.h"

#define SIGNING_MAX (4 + 3 + 2 * SP_MAX_ORIGIN + SP_TRACKING_ID_MAX + SP_HASH_LEN)
#define AAD_MAX (16 + SP_TRACKING_ID_MAX + 1 + SP_HASH_LEN + SP_MAX_ORIGIN)
#define REPLY_SLACK 4096 /* BlobReply bytes besides its data: the sealed key, a message */

static const char BLOB_AAD_TAG[] = "simpul-blob-v1";

static size_t put_str8(uint8_t *p, const char *s) {
    size_t n = strlen(s); /* <= 255: every field was checked against its limit */
    p[0] = (uint8_t)n;
    memcpy(p + 1, s, n);
    return 1 + n;
}

/* "SPB1" | u8 len | requester | u8 len | server | u8 len | complaint_id | sha256 */
static size_t signing_bytes(const sp_blob_request *req, uint8_t out[SIGNING_MAX]) {
    size_t n = 0;
    memcpy(out, "SPB1", 4);
    n += 4;
    n += put_str8(out + n, req->requester);
    n += put_str8(out + n, req->server);
    n += put_str8(out + n, req->complaint_id);
    memcpy(out + n, req->sha256, SP_HASH_LEN);
    return n + SP_HASH_LEN;
}

/* "simpul-blob-v1" | 0 | complaint_id | 0 | sha256 | requester */
static size_t data_aad(const sp_blob_request *req, uint8_t out[AAD_MAX]) {
    size_t n = 0, id = strlen(req->complaint_id), who = strlen(req->requester);
    memcpy(out, BLOB_AAD_TAG, sizeof BLOB_AAD_TAG); /* with its NUL */
    n += sizeof BLOB_AAD_TAG;
    memcpy(out + n, req->complaint_id, id + 1);
    n += id + 1;
    memcpy(out + n, req->sha256, SP_HASH_LEN);
    n += SP_HASH_LEN;
    memcpy(out + n, req->requester, who);
    return n + who;
}

static int id_ok(const char *complaint_id) {
    return complaint_id && strlen(complaint_id) < SP_TRACKING_ID_MAX &&
           sp_tracking_id_valid(complaint_id);
}

sp_err sp_blob_request_make(sp_blob_request *req, const char *requester, const char *server,
                            const char *complaint_id, const uint8_t sha[SP_HASH_LEN],
                            const sp_key *sign_key) {
    memset(req, 0, sizeof *req);
    if (!sp_node_id_valid(requester) || !sp_node_id_valid(server) || !id_ok(complaint_id))
        return SP_ERR_INVAL;
    snprintf(req->requester, sizeof req->requester, "%s", requester);
    snprintf(req->server, sizeof req->server, "%s", server);
    snprintf(req->complaint_id, sizeof req->complaint_id, "%s", complaint_id);
    memcpy(req->sha256, sha, SP_HASH_LEN);
    uint8_t msg[SIGNING_MAX];
    return sp_sign(sign_key, msg, signing_bytes(req, msg), req->sig);
}

sp_err sp_blob_request_encode(const sp_blob_request *req, uint8_t **out, size_t *n) {
    Simpul__V1__BlobRequest m = SIMPUL__V1__BLOB_REQUEST__INIT;
    m.requester = (char *)req->requester;
    m.server = (char *)req->server;
    m.complaint_id = (char *)req->complaint_id;
    m.sha256 = (ProtobufCBinaryData){SP_HASH_LEN, (uint8_t *)req->sha256};
    m.sig = (ProtobufCBinaryData){SP_SIG_LEN, (uint8_t *)req->sig};
    size_t len = simpul__v1__blob_request__get_packed_size(&m);
    if (!(*out = malloc(len ? len : 1))) return SP_ERR_NOMEM;
    *n = simpul__v1__blob_request__pack(&m, *out);
    return SP_OK;
}

static sp_err request_fields(sp_blob_request *out, const Simpul__V1__BlobRequest *m) {
    if (!sp_node_id_valid(m->requester) || !sp_node_id_valid(m->server) ||
        !id_ok(m->complaint_id) || m->sha256.len != SP_HASH_LEN || m->sig.len != SP_SIG_LEN)
        return SP_ERR_DECODE;
    snprintf(out->requester, sizeof out->requester, "%s", m->requester);
    snprintf(out->server, sizeof out->server, "%s", m->server);
    snprintf(out->complaint_id, sizeof out->complaint_id, "%s", m->complaint_id);
    memcpy(out->sha256, m->sha256.data, SP_HASH_LEN);
    memcpy(out->sig, m->sig.data, SP_SIG_LEN);
    return SP_OK;
}

sp_err sp_blob_request_parse(sp_blob_request *out, const uint8_t *p, size_t n) {
    memset(out, 0, sizeof *out);
    if (n > SP_BLOB_REQUEST_MAX) return SP_ERR_TOO_BIG;
    Simpul__V1__BlobRequest *m = simpul__v1__blob_request__unpack(NULL, n, p);
    if (!m) return SP_ERR_DECODE;
    sp_err rv = request_fields(out, m);
    simpul__v1__blob_request__free_unpacked(m, NULL);
    if (rv != SP_OK) memset(out, 0, sizeof *out);
    return rv;
}

sp_err sp_blob_request_verify(const sp_blob_request *req, const sp_topology *topo) {
    const sp_topo_node *node = sp_topology_find(topo, req->requester);
    if (!node || !node->has_sign_pub) return SP_ERR_UNKNOWN_ORIGIN;
    sp_key *k = NULL;
    sp_err rv = sp_key_from_raw_public(&k, SP_KEY_ED25519, node->sign_pub);
    uint8_t msg[SIGNING_MAX];
    if (rv == SP_OK) rv = sp_verify(k, msg, signing_bytes(req, msg), req->sig);
    sp_key_free(k);
    return rv == SP_ERR_CRYPTO ? SP_ERR_BAD_SIG : rv;
}

/* ---- replies ---- */

static sp_err pack_reply(const Simpul__V1__BlobReply *m, uint8_t **out, size_t *n) {
    size_t len = simpul__v1__blob_reply__get_packed_size(m);
    if (!(*out = malloc(len ? len : 1))) return SP_ERR_NOMEM;
    *n = simpul__v1__blob_reply__pack(m, *out);
    return SP_OK;
}

sp_err sp_blob_reply_refuse(const char *code, const char *message, uint8_t **out, size_t *n) {
    Simpul__V1__BlobReply m = SIMPUL__V1__BLOB_REPLY__INIT;
    m.error = (char *)code;
    m.message = (char *)(message ? message : "");
    return pack_reply(&m, out, n);
}

/* data = 0x01 | nonce | AES-256-GCM(key, aad, blob) | tag, malloc'ed into *out. */
static sp_err seal_data(const sp_blob_request *req, const uint8_t key[SP_AEAD_KEY_LEN],
                        const uint8_t *blob, size_t n, uint8_t **out, size_t *out_len) {
    uint8_t aad[AAD_MAX], *buf = malloc(SP_BLOB_DATA_OVERHEAD + n);
    if (!buf) return SP_ERR_NOMEM;
    buf[0] = SP_SEAL_VERSION;
    sp_err rv = sp_random(buf + 1, SP_AEAD_NONCE_LEN);
    if (rv == SP_OK)
        rv = sp_aead_seal(key, buf + 1, aad, data_aad(req, aad), blob, n,
                          buf + 1 + SP_AEAD_NONCE_LEN);
    if (rv != SP_OK) {
        free(buf);
        return rv;
    }
    *out = buf;
    *out_len = SP_BLOB_DATA_OVERHEAD + n;
    return SP_OK;
}

sp_err sp_blob_reply_seal(const sp_blob_request *req, uint32_t key_id,
                          const uint8_t pub[SP_PUBKEY_LEN], const uint8_t *blob, size_t n,
                          uint8_t **out, size_t *out_len) {
    uint8_t key[SP_AEAD_KEY_LEN];
    Simpul__V1__Sealed box = SIMPUL__V1__SEALED__INIT;
    Simpul__V1__BlobReply m = SIMPUL__V1__BLOB_REPLY__INIT;
    sp_err rv = sp_random(key, sizeof key);
    if (rv == SP_OK)
        rv = sp_seal_to(&box, req->requester, key_id, pub, req->complaint_id, SP_BLOB_FIELD_KEY,
                        key, sizeof key);
    if (rv == SP_OK) rv = seal_data(req, key, blob, n, &m.data.data, &m.data.len);
    memset(key, 0, sizeof key);
    m.key = &box;
    if (rv == SP_OK) rv = pack_reply(&m, out, out_len);
    free(m.data.data);
    sp_sealed_clear(&box);
    return rv;
}

static sp_err refusal(const Simpul__V1__BlobReply *m, char *why, size_t cap) {
    if (why && cap) snprintf(why, cap, "%s", m->message ? m->message : "");
    if (strcmp(m->error, SP_BLOB_FORBIDDEN) == 0) return SP_ERR_FORBIDDEN;
    if (strcmp(m->error, SP_BLOB_NOT_FOUND) == 0) return SP_ERR_NOT_FOUND;
    return SP_ERR_REJECTED;
}

/* The transfer key from the box sealed to us. */
static sp_err open_key(const sp_blob_request *req, const sp_seal_keyring *ring,
                       const Simpul__V1__Sealed *box, uint8_t key[SP_AEAD_KEY_LEN]) {
    if (!box || !box->recipient) return SP_ERR_DECODE;
    if (strcmp(box->recipient, req->requester) != 0) return SP_ERR_BAD_SIG;
    uint8_t *pt = NULL;
    size_t n = 0;
    sp_err rv = sp_seal_open_ring(box, ring, req->complaint_id, SP_BLOB_FIELD_KEY, &pt, &n);
    if (rv == SP_ERR_NOT_FOUND) rv = SP_ERR_BAD_SIG; /* sealed to a key id we do not have */
    if (rv == SP_OK && n != SP_AEAD_KEY_LEN) rv = SP_ERR_DECODE;
    if (rv == SP_OK) memcpy(key, pt, SP_AEAD_KEY_LEN);
    if (pt) memset(pt, 0, n);
    free(pt);
    return rv;
}

static sp_err open_data(const sp_blob_request *req, const uint8_t key[SP_AEAD_KEY_LEN],
                        const ProtobufCBinaryData *d, size_t max, uint8_t **blob, size_t *len) {
    if (d->len < SP_BLOB_DATA_OVERHEAD || d->data[0] != SP_SEAL_VERSION) return SP_ERR_DECODE;
    size_t n = d->len - SP_BLOB_DATA_OVERHEAD;
    if (n > max) return SP_ERR_TOO_BIG;
    uint8_t aad[AAD_MAX], check[SP_HASH_LEN], *buf = malloc(n ? n : 1);
    if (!buf) return SP_ERR_NOMEM;
    sp_err rv = sp_aead_open(key, d->data + 1, aad, data_aad(req, aad),
                             d->data + 1 + SP_AEAD_NONCE_LEN, n + SP_AEAD_TAG_LEN, buf);
    if (rv == SP_OK) {
        sp_sha256(buf, n, NULL, 0, check);
        if (memcmp(check, req->sha256, SP_HASH_LEN) != 0) rv = SP_ERR_CORRUPT;
    }
    if (rv != SP_OK) {
        free(buf);
        return rv == SP_ERR_CRYPTO ? SP_ERR_BAD_SIG : rv;
    }
    *blob = buf;
    *len = n;
    return SP_OK;
}

sp_err sp_blob_reply_open(const sp_blob_request *req, const sp_seal_keyring *ring, const uint8_t *p,
                          size_t n, size_t max, uint8_t **blob, size_t *blob_len, char *why,
                          size_t cap) {
    *blob = NULL;
    *blob_len = 0;
    if (why && cap) why[0] = '\0';
    if (n > max + SP_BLOB_DATA_OVERHEAD + REPLY_SLACK) return SP_ERR_TOO_BIG;
    Simpul__V1__BlobReply *m = simpul__v1__blob_reply__unpack(NULL, n, p);
    if (!m) return SP_ERR_DECODE;
    uint8_t key[SP_AEAD_KEY_LEN];
    sp_err rv;
    if (m->error && m->error[0])
        rv = refusal(m, why, cap);
    else if ((rv = open_key(req, ring, m->key, key)) == SP_OK)
        rv = open_data(req, key, &m->data, max, blob, blob_len);
    memset(key, 0, sizeof key);
    simpul__v1__blob_reply__free_unpacked(m, NULL);
    return rv;
}
