#include "broker/envelope.h"

#include <stdlib.h>
#include <string.h>

#include "schemas/simpul.pb-c.h"

static const uint8_t zero_hash[SP_HASH_LEN];

int sp_node_id_valid(const char *s) {
    size_t n = 0;
    for (; s && s[n]; n++) {
        char c = s[n];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                 c == '_';
        if (!ok || n >= SP_MAX_ORIGIN) return 0;
    }
    return n > 0;
}

void sp_envelope_clear(sp_envelope *env) {
    if (!env) return;
    free(env->body);
    memset(env, 0, sizeof *env);
}

sp_err sp_envelope_init(sp_envelope *env, const char *origin, const uint8_t *body, size_t n) {
    size_t olen = strlen(origin);
    if (olen == 0 || olen > SP_MAX_ORIGIN) return SP_ERR_INVAL;
    if (n > SP_MAX_BODY) return SP_ERR_TOO_BIG;
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy) return SP_ERR_NOMEM;
    if (n) memcpy(copy, body, n);
    memset(env, 0, sizeof *env);
    memcpy(env->origin, origin, olen + 1);
    env->body = copy;
    env->body_len = n;
    return SP_OK;
}

sp_err sp_envelope_copy(sp_envelope *dst, const sp_envelope *src) {
    *dst = *src;
    dst->body = malloc(src->body_len ? src->body_len : 1);
    if (!dst->body) return SP_ERR_NOMEM;
    if (src->body_len) memcpy(dst->body, src->body, src->body_len);
    return SP_OK;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--) *p++ = (uint8_t)(v >> (8 * i));
    return p;
}

/* The signing bytes before the body: "SPE1" | u8 len | origin | seq | hlc | prev | u32 len. */
static size_t signing_header(const sp_envelope *env, uint8_t *buf) {
    size_t olen = strlen(env->origin);
    uint8_t *p = buf;
    memcpy(p, "SPE1", 4);
    p += 4;
    *p++ = (uint8_t)olen;
    memcpy(p, env->origin, olen);
    p += olen;
    p = put_u64(p, env->seq);
    p = put_u64(p, env->hlc);
    memcpy(p, env->prev_hash, SP_HASH_LEN);
    p += SP_HASH_LEN;
    for (int i = 3; i >= 0; i--) *p++ = (uint8_t)(env->body_len >> (8 * i));
    return (size_t)(p - buf);
}
#define SIGNING_HEADER_MAX (4 + 1 + SP_MAX_ORIGIN + 8 + 8 + SP_HASH_LEN + 4)

static int envelope_sane(const sp_envelope *env) {
    size_t olen = strnlen(env->origin, sizeof env->origin);
    return olen > 0 && olen <= SP_MAX_ORIGIN && env->body_len <= SP_MAX_BODY;
}

sp_err sp_envelope_signing_bytes(const sp_envelope *env, uint8_t **out, size_t *n) {
    if (!envelope_sane(env)) return SP_ERR_INVAL;
    uint8_t *buf = malloc(SIGNING_HEADER_MAX + env->body_len);
    if (!buf) return SP_ERR_NOMEM;
    size_t h = signing_header(env, buf);
    if (env->body_len) memcpy(buf + h, env->body, env->body_len);
    *out = buf;
    *n = h + env->body_len;
    return SP_OK;
}

sp_err sp_envelope_sign(sp_envelope *env, const sp_key *key) {
    uint8_t *msg;
    size_t n;
    sp_err rv = sp_envelope_signing_bytes(env, &msg, &n);
    if (rv != SP_OK) return rv;
    rv = sp_sign(key, msg, n, env->sig);
    free(msg);
    return rv;
}

int sp_envelope_sealed(const sp_envelope *env) {
    static const uint8_t unsealed[SP_SIG_LEN];
    return memcmp(env->sig, unsealed, SP_SIG_LEN) != 0;
}

size_t sp_envelope_sealed_prefix(const sp_envelope *env, size_t n) {
    while (n > 0 && !sp_envelope_sealed(&env[n - 1])) n--;
    return n;
}

sp_err sp_envelope_verify(const sp_envelope *env, const sp_key *key) {
    if (!sp_envelope_sealed(env)) return SP_ERR_UNSEALED;
    uint8_t *msg;
    size_t n;
    sp_err rv = sp_envelope_signing_bytes(env, &msg, &n);
    if (rv != SP_OK) return rv;
    rv = sp_verify(key, msg, n, env->sig);
    free(msg);
    return rv;
}

sp_err sp_envelope_hash(const sp_envelope *env, uint8_t out[SP_HASH_LEN]) {
    if (!envelope_sane(env)) return SP_ERR_INVAL;
    uint8_t header[SIGNING_HEADER_MAX];
    sp_bytes parts[3] = {{header, signing_header(env, header)},
                         {env->body, env->body_len},
                         {env->sig, SP_SIG_LEN}};
    sp_sha256_parts(parts, 3, out);
    return SP_OK;
}

/* Links only: same origin, consecutive seqs, each prev_hash matching. */
static sp_err check_links(const sp_envelope *env, size_t n, const uint8_t prev[SP_HASH_LEN],
                          size_t *bad, uint8_t (*hashes)[SP_HASH_LEN]) {
    uint8_t h[SP_HASH_LEN];
    for (size_t i = 0; i < n; i++) {
        *bad = i;
        if (i > 0 && (strcmp(env[i].origin, env[0].origin) != 0 || env[i].seq != env[i - 1].seq + 1))
            return SP_ERR_INVAL;
        if (env[i].seq == 0) return SP_ERR_INVAL;
        const uint8_t *want = i == 0 ? prev : h;
        if (i == 0 && env[0].seq == 1) want = zero_hash;
        if (memcmp(env[i].prev_hash, want, SP_HASH_LEN) != 0) return SP_ERR_BAD_CHAIN;
        sp_err rv = sp_envelope_hash(&env[i], h);
        if (rv != SP_OK) return rv;
        if (hashes) memcpy(hashes[i], h, SP_HASH_LEN);
    }
    return SP_OK;
}

sp_err sp_envelope_verify_run(const sp_envelope *env, size_t n, const sp_key *key,
                              const uint8_t prev[SP_HASH_LEN], size_t *bad_index,
                              uint8_t (*hashes)[SP_HASH_LEN]) {
    size_t bad = 0;
    if (n == 0) return SP_OK;
    sp_err rv = check_links(env, n, prev, &bad, hashes);
    if (rv == SP_OK) {
        bad = n - 1;
        rv = sp_envelope_verify(&env[n - 1], key);
    }
    if (rv != SP_OK && bad_index) *bad_index = bad;
    return rv;
}

/* ---- protobuf wire form ---- */

static void to_pb(const sp_envelope *env, Simpul__V1__Envelope *m) {
    simpul__v1__envelope__init(m);
    m->origin = (char *)env->origin;
    m->seq = env->seq;
    m->hlc = env->hlc;
    m->prev_hash.data = (uint8_t *)env->prev_hash;
    m->prev_hash.len = SP_HASH_LEN;
    m->body.data = env->body;
    m->body.len = env->body_len;
    m->sig.data = (uint8_t *)env->sig;
    m->sig.len = SP_SIG_LEN;
}

static sp_err from_pb(sp_envelope *env, const Simpul__V1__Envelope *m) {
    if (!m->origin || m->prev_hash.len != SP_HASH_LEN || m->sig.len != SP_SIG_LEN || m->seq == 0)
        return SP_ERR_DECODE;
    sp_err rv = sp_envelope_init(env, m->origin, m->body.data, m->body.len);
    if (rv == SP_ERR_INVAL) return SP_ERR_DECODE;
    if (rv != SP_OK) return rv;
    env->seq = m->seq;
    env->hlc = m->hlc;
    memcpy(env->prev_hash, m->prev_hash.data, SP_HASH_LEN);
    memcpy(env->sig, m->sig.data, SP_SIG_LEN);
    return SP_OK;
}

sp_err sp_envelope_encode(const sp_envelope *env, uint8_t **out, size_t *n) {
    Simpul__V1__Envelope m;
    to_pb(env, &m);
    size_t len = simpul__v1__envelope__get_packed_size(&m);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) return SP_ERR_NOMEM;
    *n = simpul__v1__envelope__pack(&m, buf);
    *out = buf;
    return SP_OK;
}

sp_err sp_envelope_decode(sp_envelope *env, const uint8_t *p, size_t n) {
    if (n > SP_MAX_ENVELOPE) return SP_ERR_TOO_BIG;
    Simpul__V1__Envelope *m = simpul__v1__envelope__unpack(NULL, n, p);
    if (!m) return SP_ERR_DECODE;
    sp_err rv = from_pb(env, m);
    simpul__v1__envelope__free_unpacked(m, NULL);
    return rv;
}

sp_err sp_batch_encode(const sp_envelope *envs, size_t n, uint8_t **out, size_t *out_len) {
    if (n > SP_MAX_BATCH_ENVELOPES) return SP_ERR_TOO_BIG;
    Simpul__V1__Envelope *items = calloc(n ? n : 1, sizeof *items);
    Simpul__V1__Envelope **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    sp_err rv = SP_ERR_NOMEM;
    if (!items || !ptrs) goto out;
    for (size_t i = 0; i < n; i++) {
        to_pb(&envs[i], &items[i]);
        ptrs[i] = &items[i];
    }
    Simpul__V1__Batch b = SIMPUL__V1__BATCH__INIT;
    b.n_envelopes = n;
    b.envelopes = ptrs;
    size_t len = simpul__v1__batch__get_packed_size(&b);
    if (len > SP_MAX_BATCH_BYTES) {
        rv = SP_ERR_TOO_BIG;
        goto out;
    }
    if (!(*out = malloc(len ? len : 1))) goto out;
    *out_len = simpul__v1__batch__pack(&b, *out);
    rv = SP_OK;
out:
    free(items);
    free(ptrs);
    return rv;
}

void sp_envelopes_free(sp_envelope *envs, size_t n) {
    if (!envs) return;
    for (size_t i = 0; i < n; i++) sp_envelope_clear(&envs[i]);
    free(envs);
}

sp_err sp_batch_decode(sp_envelope **envs, size_t *n, const uint8_t *p, size_t len) {
    if (len > SP_MAX_BATCH_BYTES) return SP_ERR_TOO_BIG;
    Simpul__V1__Batch *b = simpul__v1__batch__unpack(NULL, len, p);
    if (!b) return SP_ERR_DECODE;
    sp_err rv = SP_OK;
    sp_envelope *out = NULL;
    size_t done = 0;
    if (b->n_envelopes > SP_MAX_BATCH_ENVELOPES) {
        rv = SP_ERR_TOO_BIG;
        goto out;
    }
    if (!(out = calloc(b->n_envelopes ? b->n_envelopes : 1, sizeof *out))) {
        rv = SP_ERR_NOMEM;
        goto out;
    }
    for (; done < b->n_envelopes; done++)
        if ((rv = from_pb(&out[done], b->envelopes[done])) != SP_OK) goto out;
    *envs = out;
    *n = done;
    out = NULL;
out:
    sp_envelopes_free(out, done);
    simpul__v1__batch__free_unpacked(b, NULL);
    return rv;
}
