/*
 * The OpenSSL wrapper. Ownership rules of EVP_PKEY and EVP_MD_CTX stay in this file; every
 * OpenSSL failure becomes SP_ERR_CRYPTO. Nothing here logs secrets.
 */
#include "broker/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

struct sp_key {
    EVP_PKEY *pkey;
    sp_key_type type;
    int has_private;
};

static int evp_type(sp_key_type t) {
    return t == SP_KEY_ED25519 ? EVP_PKEY_ED25519 : EVP_PKEY_X25519;
}

static sp_err wrap(sp_key **out, EVP_PKEY *pkey, sp_key_type type, int has_private) {
    sp_key *k = calloc(1, sizeof *k);
    if (!k) {
        EVP_PKEY_free(pkey);
        return SP_ERR_NOMEM;
    }
    k->pkey = pkey;
    k->type = type;
    k->has_private = has_private;
    *out = k;
    return SP_OK;
}

sp_err sp_key_generate(sp_key **out, sp_key_type type) {
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(evp_type(type), NULL);
    int ok = ctx && EVP_PKEY_keygen_init(ctx) > 0 && EVP_PKEY_keygen(ctx, &pkey) > 0;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) return SP_ERR_CRYPTO;
    return wrap(out, pkey, type, 1);
}

sp_err sp_key_load_pem(sp_key **out, const char *path, sp_key_type type) {
    FILE *f = fopen(path, "r");
    if (!f) return SP_ERR_IO;
    EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    int has_private = pkey != NULL;
    if (!pkey) {
        rewind(f);
        pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    }
    fclose(f);
    if (!pkey) return SP_ERR_CRYPTO;
    if (EVP_PKEY_id(pkey) != evp_type(type)) {
        EVP_PKEY_free(pkey);
        return SP_ERR_CRYPTO;
    }
    return wrap(out, pkey, type, has_private);
}

/* Open path for writing only if it does not exist yet, with the given mode. */
static sp_err create_exclusive(const char *path, mode_t mode, FILE **out) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) return errno == EEXIST ? SP_ERR_EXISTS : SP_ERR_IO;
    /* The umask may have removed bits; a private key must be exactly 0600. */
    if (fchmod(fd, mode) != 0 || !(*out = fdopen(fd, "w"))) {
        close(fd);
        unlink(path);
        return SP_ERR_IO;
    }
    return SP_OK;
}

static sp_err finish_file(FILE *f, int ok, const char *path) {
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (fclose(f) != 0) ok = 0;
    if (!ok) {
        unlink(path);
        return SP_ERR_IO;
    }
    return SP_OK;
}

sp_err sp_key_save_private_pem(const sp_key *k, const char *path) {
    if (!k->has_private) return SP_ERR_INVAL;
    FILE *f;
    sp_err rv = create_exclusive(path, 0600, &f);
    if (rv != SP_OK) return rv;
    int ok = PEM_write_PrivateKey(f, k->pkey, NULL, NULL, 0, NULL, NULL) > 0;
    return finish_file(f, ok, path);
}

sp_err sp_key_save_public_pem(const sp_key *k, const char *path) {
    FILE *f;
    sp_err rv = create_exclusive(path, 0644, &f);
    if (rv != SP_OK) return rv;
    int ok = PEM_write_PUBKEY(f, k->pkey) > 0;
    return finish_file(f, ok, path);
}

sp_err sp_key_from_raw_public(sp_key **out, sp_key_type type, const uint8_t pub[SP_PUBKEY_LEN]) {
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(evp_type(type), NULL, pub, SP_PUBKEY_LEN);
    if (!pkey) return SP_ERR_CRYPTO;
    return wrap(out, pkey, type, 0);
}

sp_err sp_key_raw_public(const sp_key *k, uint8_t pub[SP_PUBKEY_LEN]) {
    size_t n = SP_PUBKEY_LEN;
    if (EVP_PKEY_get_raw_public_key(k->pkey, pub, &n) <= 0 || n != SP_PUBKEY_LEN)
        return SP_ERR_CRYPTO;
    return SP_OK;
}

int sp_key_has_private(const sp_key *k) {
    return k->has_private;
}

sp_key_type sp_key_get_type(const sp_key *k) {
    return k->type;
}

void sp_key_free(sp_key *k) {
    if (!k) return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

sp_err sp_sign(const sp_key *k, const uint8_t *msg, size_t n, uint8_t sig[SP_SIG_LEN]) {
    if (k->type != SP_KEY_ED25519 || !k->has_private) return SP_ERR_INVAL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t siglen = SP_SIG_LEN;
    int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) > 0 &&
             EVP_DigestSign(ctx, sig, &siglen, msg, n) > 0 && siglen == SP_SIG_LEN;
    EVP_MD_CTX_free(ctx);
    return ok ? SP_OK : SP_ERR_CRYPTO;
}

sp_err sp_verify(const sp_key *k, const uint8_t *msg, size_t n, const uint8_t sig[SP_SIG_LEN]) {
    if (k->type != SP_KEY_ED25519) return SP_ERR_INVAL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) return SP_ERR_NOMEM;
    int ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) > 0 &&
             EVP_DigestVerify(ctx, sig, SP_SIG_LEN, msg, n) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? SP_OK : SP_ERR_BAD_SIG;
}

/* OpenSSL 3 looks an algorithm up on every EVP_sha256() use; fetch it once. A digest context per
 * thread is reused (released when the thread exits): hashing is on the ingest hot path. */
static EVP_MD *sha256_md;
static pthread_key_t sha256_ctx_key;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void free_ctx(void *ctx) {
    EVP_MD_CTX_free(ctx);
}

static void sha256_init_once(void) {
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (pthread_key_create(&sha256_ctx_key, free_ctx) != 0) abort();
}

static EVP_MD_CTX *sha256_ctx(void) {
    pthread_once(&sha256_once, sha256_init_once);
    EVP_MD_CTX *ctx = pthread_getspecific(sha256_ctx_key);
    if (!ctx && (ctx = EVP_MD_CTX_new())) pthread_setspecific(sha256_ctx_key, ctx);
    return ctx;
}

void sp_sha256_parts(const sp_bytes *parts, size_t n, uint8_t out[SP_HASH_LEN]) {
    EVP_MD_CTX *ctx = sha256_ctx();
    unsigned int len = SP_HASH_LEN;
    int ok = ctx && sha256_md && EVP_DigestInit_ex(ctx, sha256_md, NULL) > 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = parts[i].n == 0 || EVP_DigestUpdate(ctx, parts[i].p, parts[i].n) > 0;
    ok = ok && EVP_DigestFinal_ex(ctx, out, &len) > 0;
    /* SHA-256 cannot fail short of memory exhaustion; never hand back an uninitialised hash. */
    if (!ok) abort();
}

void sp_sha256(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, uint8_t out[SP_HASH_LEN]) {
    sp_bytes parts[2] = {{a, an}, {b, bn}};
    sp_sha256_parts(parts, 2, out);
}

sp_err sp_random(uint8_t *buf, size_t n) {
    return RAND_bytes(buf, (int)n) == 1 ? SP_OK : SP_ERR_CRYPTO;
}

size_t sp_base64_encoded_len(size_t n) {
    return 4 * ((n + 2) / 3) + 1;
}

void sp_base64_encode(const uint8_t *p, size_t n, char *out) {
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

sp_err sp_base64_decode(const char *s, uint8_t *out, size_t cap, size_t *n_out) {
    size_t len = strlen(s);
    if (len == 0 || len % 4 != 0 || len / 4 * 3 > cap + 2) return SP_ERR_DECODE;
    unsigned char *tmp = malloc(len / 4 * 3 + 1);
    if (!tmp) return SP_ERR_NOMEM;
    int n = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)len);
    if (n < 0) {
        free(tmp);
        return SP_ERR_DECODE;
    }
    /* EVP_DecodeBlock counts the padding as zero bytes; remove them. */
    if (s[len - 1] == '=') n--;
    if (s[len - 2] == '=') n--;
    if ((size_t)n > cap) {
        free(tmp);
        return SP_ERR_DECODE;
    }
    memcpy(out, tmp, (size_t)n);
    *n_out = (size_t)n;
    free(tmp);
    return SP_OK;
}

void sp_hex(const uint8_t *p, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* ---- sealing primitives ---- */

sp_err sp_x25519(const sp_key *priv, const uint8_t peer_pub[SP_PUBKEY_LEN], uint8_t shared[32]) {
    if (priv->type != SP_KEY_X25519 || !priv->has_private) return SP_ERR_INVAL;
    EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_pub, SP_PUBKEY_LEN);
    EVP_PKEY_CTX *ctx = peer ? EVP_PKEY_CTX_new(priv->pkey, NULL) : NULL;
    size_t len = 32;
    int ok = ctx && EVP_PKEY_derive_init(ctx) > 0 && EVP_PKEY_derive_set_peer(ctx, peer) > 0 &&
             EVP_PKEY_derive(ctx, shared, &len) > 0 && len == 32;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    /* OpenSSL refuses an all-zero shared secret (a small-order peer key) itself. */
    return ok ? SP_OK : SP_ERR_CRYPTO;
}

/* Fetched once: OpenSSL 3's implicit fetches cost more than the operations at these sizes. */
static EVP_KDF *hkdf_alg;
static EVP_CIPHER *gcm_alg;
static pthread_once_t algs_once = PTHREAD_ONCE_INIT;
static void fetch_algs(void) {
    hkdf_alg = EVP_KDF_fetch(NULL, "HKDF", NULL);
    gcm_alg = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

sp_err sp_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                      const uint8_t *info, size_t info_len, uint8_t *out, size_t len) {
    pthread_once(&algs_once, fetch_algs);
    EVP_KDF_CTX *ctx = hkdf_alg ? EVP_KDF_CTX_new(hkdf_alg) : NULL;
    OSSL_PARAM params[5], *p = params;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    *p = OSSL_PARAM_construct_end();
    int ok = ctx && EVP_KDF_derive(ctx, out, len, params) > 0;
    EVP_KDF_CTX_free(ctx);
    return ok ? SP_OK : SP_ERR_CRYPTO;
}

static sp_err aead(int encrypt, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad,
                   size_t aad_len, const uint8_t *in, size_t n, uint8_t *out) {
    pthread_once(&algs_once, fetch_algs);
    EVP_CIPHER_CTX *ctx = gcm_alg ? EVP_CIPHER_CTX_new() : NULL;
    int len = 0;
    if (!ctx) return SP_ERR_NOMEM;
    int ok = EVP_CipherInit_ex(ctx, gcm_alg, NULL, NULL, NULL, encrypt) > 0 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SP_AEAD_NONCE_LEN, NULL) > 0 &&
             EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, encrypt) > 0 &&
             (aad_len == 0 || EVP_CipherUpdate(ctx, NULL, &len, aad, (int)aad_len) > 0) &&
             (n == 0 || EVP_CipherUpdate(ctx, out, &len, in, (int)n) > 0);
    if (ok && !encrypt)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SP_AEAD_TAG_LEN, (void *)(in + n)) > 0;
    int final_ok = ok && EVP_CipherFinal_ex(ctx, out + len, &len) > 0;
    if (final_ok && encrypt)
        final_ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SP_AEAD_TAG_LEN, out + n) > 0;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) return SP_ERR_CRYPTO;
    return final_ok ? SP_OK : (encrypt ? SP_ERR_CRYPTO : SP_ERR_BAD_SIG);
}

sp_err sp_aead_seal(const uint8_t key[SP_AEAD_KEY_LEN], const uint8_t nonce[SP_AEAD_NONCE_LEN],
                    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t n, uint8_t *out) {
    return aead(1, key, nonce, aad, aad_len, in, n, out);
}

sp_err sp_aead_open(const uint8_t key[SP_AEAD_KEY_LEN], const uint8_t nonce[SP_AEAD_NONCE_LEN],
                    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t n, uint8_t *out) {
    if (n < SP_AEAD_TAG_LEN) return SP_ERR_DECODE;
    return aead(0, key, nonce, aad, aad_len, in, n - SP_AEAD_TAG_LEN, out);
}
