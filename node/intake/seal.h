/*
 * Sealed fields of complaint events: how a reporter's identity and a confidential complaint's
 * content travel through an append-only, replicated log without ever being readable by nodes
 * that must not read them. Formats, version 1:
 *
 *   Sealed box to a node (schemas: Sealed): a fresh X25519 key pair per box;
 *     shared = X25519(ephemeral, recipient's sealing key #key_id)
 *     key    = HKDF-SHA256(shared, salt = ephemeral_pub | recipient_pub, info = "simpul-seal-v1")
 *     box    = AES-256-GCM(key, random nonce, aad, plaintext)
 *   Content box under a complaint's own 32-byte content key (bytes fields "sealed_*"):
 *     0x01 | nonce[12] | AES-256-GCM(content key, nonce, aad, plaintext) | tag[16]
 *   The associated data binds every box to its complaint id and field name (and, for boxes to a
 *   node, to the recipient and key id): a box moved to another complaint or field, or altered in
 *   any bit, fails to open (SP_ERR_BAD_SIG).
 *
 * Thread-safe: no shared state.
 */
#ifndef SP_SEAL_H
#define SP_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "broker/crypto.h"
#include "schemas/simpul.pb-c.h"

#define SP_SEAL_VERSION 1
#define SP_CONTENT_KEY_LEN 32
#define SP_MAX_SEALED (128 * 1024) /* plaintext of one box */

/* Field names used as associated data. */
#define SP_FIELD_REPORTER "reporter"       /* ReporterIdentity, to the intake node */
#define SP_FIELD_REPORTER_CK "reporter-ck" /* ReporterIdentity, under the content key */
#define SP_FIELD_CONTENT "content"         /* ComplaintContent, under the content key */
#define SP_FIELD_CONTENT_KEY "content-key" /* the content key, to a reader node */
#define SP_FIELD_TEXT "text"               /* follow-up, completion, comment text */

/*
 * A sealer makes the boxes of one event: they share one ephemeral X25519 key (the HKDF salt
 * includes each recipient's key, so each recipient still gets its own AEAD key), and the key
 * agreement with a recipient is done once for all of its boxes — what a multi-recipient KEM
 * does. The expensive part (key generation, key agreement) needs no complaint id, so it can be
 * done ahead with sp_sealer_prepare, outside the feed log's lock and in parallel; sealing under
 * the lock, once the tracking id is known, is then only AES-GCM.
 * Never reuse a sealer across events. Not thread-safe.
 */
#define SP_SEALER_RECIPIENTS 4
typedef struct {
    sp_key *eph;
    uint8_t eph_pub[SP_PUBKEY_LEN];
    uint8_t pubs[SP_SEALER_RECIPIENTS][SP_PUBKEY_LEN]; /* recipients with a derived key */
    uint8_t keys[SP_SEALER_RECIPIENTS][SP_AEAD_KEY_LEN];
    size_t n;
} sp_sealer;

sp_err sp_sealer_init(sp_sealer *s);
void sp_sealer_clear(sp_sealer *s);
/* Do the key agreement with pub now (SP_ERR_TOO_BIG past SP_SEALER_RECIPIENTS recipients). */
sp_err sp_sealer_prepare(sp_sealer *s, const uint8_t pub[SP_PUBKEY_LEN]);
/* Like sp_seal_to, with the sealer's ephemeral key. */
sp_err sp_sealer_seal(sp_sealer *s, Simpul__V1__Sealed *out, const char *recipient,
                      uint32_t key_id, const uint8_t pub[SP_PUBKEY_LEN], const char *complaint_id,
                      const char *field, const uint8_t *pt, size_t n);

/* Seal pt to node `recipient` (its sealing key key_id, raw public key pub) with a fresh
 * ephemeral key. On SP_OK *out holds malloc'ed buffers: release with sp_sealed_clear. */
sp_err sp_seal_to(Simpul__V1__Sealed *out, const char *recipient, uint32_t key_id,
                  const uint8_t pub[SP_PUBKEY_LEN], const char *complaint_id, const char *field,
                  const uint8_t *pt, size_t n);
/* Open a box sealed to us with our private sealing key (the one with s->key_id). *pt is
 * malloc'ed. SP_ERR_BAD_SIG: tampered, wrong key, or moved from another complaint or field;
 * SP_ERR_DECODE: not a version-1 box. */
sp_err sp_seal_open(const Simpul__V1__Sealed *s, const sp_key *priv, const char *complaint_id,
                    const char *field, uint8_t **pt, size_t *n);
/* Free the buffers sp_seal_to allocated (not s itself). Accepts NULL and a message fresh from
 * simpul__v1__sealed__init. */
void sp_sealed_clear(Simpul__V1__Sealed *s);

/* A fresh random content key. */
sp_err sp_content_key_new(uint8_t key[SP_CONTENT_KEY_LEN]);
/* Content box: *out is malloc'ed (n + 29 bytes). */
sp_err sp_content_seal(const uint8_t key[SP_CONTENT_KEY_LEN], const char *complaint_id,
                       const char *field, const uint8_t *pt, size_t n, uint8_t **out,
                       size_t *out_len);
sp_err sp_content_open(const uint8_t key[SP_CONTENT_KEY_LEN], const char *complaint_id,
                       const char *field, const uint8_t *in, size_t n, uint8_t **pt, size_t *len);

/* A node's sealing keys by id: seal.key is id 1, seal-<n>.key is id n (after rotation).
 * Old keys stay to open old boxes; the highest id is current. */
typedef struct {
    sp_key *keys[16];
    uint32_t ids[16];
    size_t n;
} sp_seal_keyring;

/* Load DIR/seal.key and every DIR/seal-<n>.key. SP_ERR_NOT_FOUND when there is none. */
sp_err sp_seal_keyring_load(sp_seal_keyring *ring, const char *dir);
const sp_key *sp_seal_keyring_get(const sp_seal_keyring *ring, uint32_t key_id);
/* The current (highest) key and its id; NULL when the ring is empty. */
const sp_key *sp_seal_keyring_current(const sp_seal_keyring *ring, uint32_t *key_id);
void sp_seal_keyring_clear(sp_seal_keyring *ring);
/* Open a box with whichever of our keys it names. */
sp_err sp_seal_open_ring(const Simpul__V1__Sealed *s, const sp_seal_keyring *ring,
                         const char *complaint_id, const char *field, uint8_t **pt, size_t *n);

#endif
