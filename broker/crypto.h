/*
 * Every OpenSSL call in Simpul lives in broker/crypto.c. The rest of the code sees keys as an
 * opaque sp_key and bytes with explicit lengths.
 *
 * Signing keys are Ed25519 (envelopes); sealing keys are X25519 (privacy, node/seal). Public
 * keys travel as 32 raw bytes (base64 in the topology); private keys live in PEM files.
 * All functions are thread-safe for distinct outputs; an sp_key may be shared by threads for
 * signing, verifying and sealing.
 */
#ifndef SP_CRYPTO_H
#define SP_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define SP_HASH_LEN 32
#define SP_PUBKEY_LEN 32
#define SP_SIG_LEN 64

typedef enum { SP_KEY_ED25519, SP_KEY_X25519 } sp_key_type;
typedef struct sp_key sp_key;

/* Make a fresh private key. The caller owns *out (sp_key_free). SP_ERR_CRYPTO on failure. */
sp_err sp_key_generate(sp_key **out, sp_key_type type);
/* Load a private or public key from a PEM file; SP_ERR_IO if unreadable, SP_ERR_CRYPTO if not a
 * key of the expected type. The caller owns *out. */
sp_err sp_key_load_pem(sp_key **out, const char *path, sp_key_type type);
/* Write the private key (mode 0600) or the public key (0644). Refuses to overwrite an
 * existing file: SP_ERR_EXISTS. */
sp_err sp_key_save_private_pem(const sp_key *k, const char *path);
sp_err sp_key_save_public_pem(const sp_key *k, const char *path);
/* A public-only key from 32 raw bytes. The caller owns *out. */
sp_err sp_key_from_raw_public(sp_key **out, sp_key_type type, const uint8_t pub[SP_PUBKEY_LEN]);
/* The 32 raw public bytes of any key. */
sp_err sp_key_raw_public(const sp_key *k, uint8_t pub[SP_PUBKEY_LEN]);
int sp_key_has_private(const sp_key *k);
sp_key_type sp_key_get_type(const sp_key *k);
void sp_key_free(sp_key *k);

/* Ed25519 signature of msg. SP_ERR_INVAL if k is not a private signing key. */
sp_err sp_sign(const sp_key *k, const uint8_t *msg, size_t n, uint8_t sig[SP_SIG_LEN]);
/* SP_OK when sig is k's signature of msg, SP_ERR_BAD_SIG otherwise. */
sp_err sp_verify(const sp_key *k, const uint8_t *msg, size_t n, const uint8_t sig[SP_SIG_LEN]);

typedef struct {
    const uint8_t *p;
    size_t n;
} sp_bytes;

/* ---- sealing primitives (node/intake/seal.h builds the sealed-box format on them) ---- */

#define SP_AEAD_KEY_LEN 32
#define SP_AEAD_NONCE_LEN 12
#define SP_AEAD_TAG_LEN 16

/* X25519: shared secret of our private key and a peer's raw public key. SP_ERR_CRYPTO on a
 * degenerate (all-zero) result or a key of the wrong type. */
sp_err sp_x25519(const sp_key *priv, const uint8_t peer_pub[SP_PUBKEY_LEN], uint8_t shared[32]);
/* HKDF-SHA256 (RFC 5869) of ikm with salt and info into out (len <= 255 * 32). */
sp_err sp_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
                      const uint8_t *info, size_t info_len, uint8_t *out, size_t len);
/* AES-256-GCM. seal writes n + SP_AEAD_TAG_LEN bytes to out (ciphertext, then tag). open reads
 * n >= SP_AEAD_TAG_LEN bytes and writes n - SP_AEAD_TAG_LEN; SP_ERR_BAD_SIG when the tag (or
 * the associated data) does not match: tampered, or the wrong key. */
sp_err sp_aead_seal(const uint8_t key[SP_AEAD_KEY_LEN], const uint8_t nonce[SP_AEAD_NONCE_LEN],
                    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t n, uint8_t *out);
sp_err sp_aead_open(const uint8_t key[SP_AEAD_KEY_LEN], const uint8_t nonce[SP_AEAD_NONCE_LEN],
                    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t n, uint8_t *out);

/* SHA-256 of the concatenation of n byte strings. */
void sp_sha256_parts(const sp_bytes *parts, size_t n, uint8_t out[SP_HASH_LEN]);
/* SHA-256 of the concatenation a || b (b may be NULL with bn 0). */
void sp_sha256(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, uint8_t out[SP_HASH_LEN]);
/* Cryptographically secure random bytes. */
sp_err sp_random(uint8_t *buf, size_t n);

/* Standard base64 with padding. Encode writes a NUL-terminated string into out, which must hold
 * sp_base64_encoded_len(n) bytes. Decode returns SP_ERR_DECODE on bad input or when the result
 * does not fit in cap; *n_out is set to the decoded length. */
size_t sp_base64_encoded_len(size_t n);
void sp_base64_encode(const uint8_t *p, size_t n, char *out);
sp_err sp_base64_decode(const char *s, uint8_t *out, size_t cap, size_t *n_out);

/* Lowercase hex of p into out (2n+1 bytes, NUL-terminated). */
void sp_hex(const uint8_t *p, size_t n, char *out);

#endif
