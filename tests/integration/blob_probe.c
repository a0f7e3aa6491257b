/*
 * blob_probe: sends one attachment request (PeerRequest.blob) to a node's peer address, the
 * way a node would or the way a stranger might, and prints the answer as one JSON line. Used
 * by blob_federation_test.py to check the serving side on a real node.
 *
 *   blob_probe MODE ADDRESS SERVER FROM KEYS_DIR COMPLAINT SHA256_HEX
 *
 * MODE: signed (a request signed with KEYS_DIR/node.key, the reply opened with its seal keys),
 * garbage (bytes that are no BlobRequest), forged (FROM's name, a random signature).
 * Prints {"peer_error", "error", "message", "sha256", "bytes", "plaintext_on_wire"}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "node/intake/blob_wire.h"
#include "node/intake/intake.h"
#include "schemas/simpul.pb-c.h"

typedef struct {
    const char *mode, *address, *server, *from, *keys, *complaint;
    uint8_t sha[SP_HASH_LEN];
} args;

static int parse_args(args *a, int argc, char **argv) {
    if (argc != 8 || strlen(argv[7]) != 2 * SP_HASH_LEN) return -1;
    *a = (args){argv[1], argv[2], argv[3], argv[4], argv[5], argv[6], {0}};
    for (size_t i = 0; i < SP_HASH_LEN; i++) {
        unsigned v;
        if (sscanf(argv[7] + 2 * i, "%2x", &v) != 1) return -1;
        a->sha[i] = (uint8_t)v;
    }
    return 0;
}

/* The BlobRequest bytes for the mode; q is the request as sent (for opening the reply). */
static sp_err request_bytes(const args *a, sp_blob_request *q, uint8_t **out, size_t *n) {
    if (strcmp(a->mode, "garbage") == 0) {
        static const uint8_t junk[] = {0xff, 0xfe, 0x01, 0x02, 0x03, 0x04};
        *out = malloc(sizeof junk);
        memcpy(*out, junk, sizeof junk);
        *n = sizeof junk;
        return SP_OK;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/node.key", a->keys);
    sp_key *k = NULL;
    sp_err rv = sp_key_load_pem(&k, path, SP_KEY_ED25519);
    if (rv == SP_OK) rv = sp_blob_request_make(q, a->from, a->server, a->complaint, a->sha, k);
    sp_key_free(k);
    if (rv == SP_OK && strcmp(a->mode, "forged") == 0) rv = sp_random(q->sig, SP_SIG_LEN);
    return rv == SP_OK ? sp_blob_request_encode(q, out, n) : rv;
}

/* Send PeerRequest{from, blob} and return the PeerReply (caller frees). */
static Simpul__V1__PeerReply *exchange(const args *a, const uint8_t *blob, size_t n) {
    nng_socket s;
    if (nng_req0_open(&s) != 0) return NULL;
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 10000);
    nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 10000);
    nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 16u << 20);
    Simpul__V1__PeerRequest req;
    simpul__v1__peer_request__init(&req); /* its INIT macro trips -Wmissing-braces */
    req.from = (char *)a->from;
    req.kind_case = SIMPUL__V1__PEER_REQUEST__KIND_BLOB;
    req.blob = (ProtobufCBinaryData){n, (uint8_t *)blob};
    size_t len = simpul__v1__peer_request__get_packed_size(&req);
    uint8_t *buf = malloc(len), *in = NULL;
    size_t in_len = 0;
    simpul__v1__peer_request__pack(&req, buf);
    Simpul__V1__PeerReply *rep = NULL;
    if (nng_dial(s, a->address, NULL, 0) == 0 && nng_send(s, buf, len, 0) == 0 &&
        nng_recv(s, &in, &in_len, NNG_FLAG_ALLOC) == 0) {
        rep = simpul__v1__peer_reply__unpack(NULL, in_len, in);
        nng_free(in, in_len);
    }
    free(buf);
    nng_close(s);
    return rep;
}

static int contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t k) {
    for (size_t i = 0; k && i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0) return 1;
    return 0;
}

/* What the blob bytes of the reply say, opened with our keys when they carry data. */
static json_t *describe(const args *a, const sp_blob_request *q, const ProtobufCBinaryData *b) {
    json_t *o = json_object();
    Simpul__V1__BlobReply *m = simpul__v1__blob_reply__unpack(NULL, b->len, b->data);
    if (!m) {
        json_object_set_new(o, "error", json_string("undecodable reply"));
        return o;
    }
    json_object_set_new(o, "error", json_string(m->error));
    json_object_set_new(o, "message", json_string(m->message));
    simpul__v1__blob_reply__free_unpacked(m, NULL);
    sp_seal_keyring ring;
    uint8_t *got = NULL;
    size_t n = 0;
    char hex[2 * SP_HASH_LEN + 1], why[256];
    if (sp_seal_keyring_load(&ring, a->keys) != SP_OK) return o;
    sp_err rv = sp_blob_reply_open(q, &ring, b->data, b->len, SP_INTAKE_ATTACH_BYTES, &got, &n, why,
                                   sizeof why);
    json_object_set_new(o, "open", json_string(sp_errname(rv)));
    if (rv == SP_OK) {
        sp_sha256(got, n, NULL, 0, (uint8_t *)why);
        sp_hex((const uint8_t *)why, SP_HASH_LEN, hex);
        json_object_set_new(o, "sha256", json_string(hex));
        json_object_set_new(o, "bytes", json_integer((json_int_t)n));
        json_object_set_new(o, "plaintext_on_wire",
                            json_boolean(contains(b->data, b->len, got, n < 64 ? n : 64)));
    }
    free(got);
    sp_seal_keyring_clear(&ring);
    return o;
}

int main(int argc, char **argv) {
    args a;
    sp_blob_request q;
    uint8_t *blob = NULL;
    size_t n = 0;
    memset(&q, 0, sizeof q);
    if (parse_args(&a, argc, argv) != 0) {
        fprintf(stderr, "usage: blob_probe signed|garbage|forged ADDRESS SERVER FROM KEYS_DIR "
                        "COMPLAINT SHA256_HEX\n");
        return 2;
    }
    if (request_bytes(&a, &q, &blob, &n) != SP_OK) {
        fprintf(stderr, "blob_probe: cannot build the request (keys in %s?)\n", a.keys);
        return 1;
    }
    Simpul__V1__PeerReply *rep = exchange(&a, blob, n);
    free(blob);
    if (!rep) {
        fprintf(stderr, "blob_probe: no answer from %s\n", a.address);
        return 1;
    }
    json_t *o = describe(&a, &q, &rep->blob);
    json_object_set_new(o, "peer_error", json_string(rep->error ? rep->error : ""));
    simpul__v1__peer_reply__free_unpacked(rep, NULL);
    char *text = json_dumps(o, JSON_COMPACT);
    printf("%s\n", text);
    free(text);
    json_decref(o);
    return 0;
}
