/*
 * Fuzz target for the attachment fetch's wire format (node/intake/blob_wire.h): a BlobRequest as an
 * intake node receives it from any node of the federation, and a BlobReply as the asking node
 * receives it. Any bytes must give a request, a reply or an error: never a crash, a leak or
 * undefined behaviour, and never bytes that do not hash to the name asked for.
 *
 * The first input byte picks what the rest is: 0 a request (parsed, then verified against a
 * topology that publishes a key), 1 a reply (opened with our keyring), 2 edits (position, xor)
 * applied to a genuine sealed reply, so that mutations reach past the outer checks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/intake/blob_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BLOB 4096

typedef struct {
    sp_topology *topo;
    sp_key *sign, *seal;
    sp_seal_keyring ring;
    sp_blob_request req;
    uint8_t *reply;
    size_t reply_len;
} world;

static int make_topology(world *w) {
    uint8_t pub[SP_PUBKEY_LEN];
    char b64[64], yaml[512];
    if (sp_key_raw_public(w->sign, pub) != SP_OK) return -1;
    sp_base64_encode(pub, sizeof pub, b64);
    snprintf(yaml, sizeof yaml,
             "nodes:\n"
             "  - {id: national, kind: national, name: N, address: tcp://h:1}\n"
             "  - {id: prov-35, kind: province, code: \"35\", name: P, parent: national, address: "
             "tcp://h:2}\n"
             "  - {id: kota-3577, kind: kota, code: \"35.77\", name: K, parent: prov-35, address: "
             "tcp://h:3, sign_key: %s}\n",
             b64);
    sp_err rv = sp_topology_load_buffer(&w->topo, "fuzz.yaml", yaml, strlen(yaml), NULL);
    return rv == SP_OK ? 0 : -1;
}

/* Keys, a topology, and one genuine reply to mutate; made once. */
static world *get_world(void) {
    static world w;
    static int ready;
    if (ready) return ready > 0 ? &w : NULL;
    ready = -1;
    uint8_t blob[100] = "photo bytes", sha[SP_HASH_LEN], pub[SP_PUBKEY_LEN];
    sp_sha256(blob, sizeof blob, NULL, 0, sha);
    if (sp_key_generate(&w.sign, SP_KEY_ED25519) != SP_OK ||
        sp_key_generate(&w.seal, SP_KEY_X25519) != SP_OK ||
        sp_key_raw_public(w.seal, pub) != SP_OK || make_topology(&w) != 0 ||
        sp_blob_request_make(&w.req, "kota-3577", "national", "3577-12", sha, w.sign) != SP_OK ||
        sp_blob_reply_seal(&w.req, 1, pub, blob, sizeof blob, &w.reply, &w.reply_len) != SP_OK)
        return NULL;
    w.ring.keys[0] = w.seal;
    w.ring.ids[0] = 1;
    w.ring.n = 1;
    ready = 1;
    return &w;
}

static void open_reply(const world *w, const uint8_t *p, size_t n) {
    uint8_t *blob = NULL;
    size_t len = 0;
    char why[64];
    sp_err rv = sp_blob_reply_open(&w->req, &w->ring, p, n, MAX_BLOB, &blob, &len, why, sizeof why);
    if (rv == SP_OK) {
        uint8_t sha[SP_HASH_LEN];
        sp_sha256(blob, len, NULL, 0, sha);
        if (memcmp(sha, w->req.sha256, SP_HASH_LEN) != 0) abort(); /* must never happen */
    }
    free(blob);
}

/* (u16 position, u8 xor) triples applied to a copy of the genuine reply. */
static void mutate_reply(const world *w, const uint8_t *p, size_t n) {
    uint8_t *copy = malloc(w->reply_len);
    if (!copy) return;
    memcpy(copy, w->reply, w->reply_len);
    for (size_t i = 0; i + 3 <= n; i += 3)
        copy[(((size_t)p[i] << 8) | p[i + 1]) % w->reply_len] ^= p[i + 2];
    size_t len = n % 3 == 1 ? w->reply_len - (p[n - 1] % w->reply_len) : w->reply_len; /* cut */
    open_reply(w, copy, len);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    world *w = get_world();
    if (!w || size == 0) return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if (data[0] % 3 == 0) {
        sp_blob_request q;
        if (sp_blob_request_parse(&q, p, n) == SP_OK) sp_blob_request_verify(&q, w->topo);
    } else if (data[0] % 3 == 1) {
        open_reply(w, p, n);
    } else {
        mutate_reply(w, p, n);
    }
    return 0;
}
