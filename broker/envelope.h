/*
 * Envelopes: one signed, hash-chained event of one origin's feed.
 *
 * The signature and the chain hash are computed over canonical bytes defined here (not over a
 * protobuf encoding), so they stay stable whatever encoder produced the wire bytes:
 *
 *   "SPE1" | u8 origin_len | origin | u64 seq | u64 hlc | prev_hash[32] | u32 body_len | body
 *
 * (integers big-endian). sig = Ed25519(signing bytes); hash = SHA-256(signing bytes | sig).
 * Because each envelope commits to the hash of its predecessor, a contiguous run of one origin's
 * envelopes is authenticated by its hash links plus the signature of its last envelope
 * (sp_envelope_verify_run). The broker never looks inside body.
 *
 * Sealing: so an author need not sign every envelope (Ed25519 signing bounds one feed's
 * authoring at ~27k/s a core), only some carry a signature: the seals. Between two seals the
 * envelopes carry an all-zero sig and are authenticated by the next seal of their feed, whose
 * signature covers them through the chain. An author seals the last envelope of every batch
 * it writes, and at least every SP_SEAL_MAX_ENVELOPES envelopes or SP_SEAL_MAX_BYTES of bodies,
 * so whatever a node stores or sends ends with a seal and a receiver never waits long for one.
 */
#ifndef SP_ENVELOPE_H
#define SP_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "broker/crypto.h"

#define SP_MAX_ORIGIN 64                       /* bytes of a node id */
#define SP_MAX_BODY (256 * 1024)               /* one event body */
#define SP_MAX_ENVELOPE (SP_MAX_BODY + 1024)   /* encoded envelope */
#define SP_MAX_BATCH_ENVELOPES 4096            /* envelopes in one Batch message */
#define SP_MAX_BATCH_BYTES (8 * 1024 * 1024)   /* encoded Batch message */
#define SP_SEAL_MAX_ENVELOPES 256              /* envelopes from one seal to the next, at most */
#define SP_SEAL_MAX_BYTES (1024 * 1024)        /* bodies after which the author seals */

typedef struct {
    char origin[SP_MAX_ORIGIN + 1];
    uint64_t seq;
    uint64_t hlc;
    uint8_t prev_hash[SP_HASH_LEN];
    uint8_t *body; /* owned, body_len bytes */
    size_t body_len;
    uint8_t sig[SP_SIG_LEN];
} sp_envelope;

/* One entry of a version vector: an origin and the highest contiguous seq held. */
typedef struct {
    char origin[SP_MAX_ORIGIN + 1];
    uint64_t seq;
} sp_vv_entry;

/* Whether s is a well-formed node id (an origin): 1..64 of [a-z0-9._-]. */
int sp_node_id_valid(const char *s);

/* Release the body and zero the envelope. Accepts NULL. */
void sp_envelope_clear(sp_envelope *env);
/* Deep copy of src into dst (dst is overwritten, not cleared first). */
sp_err sp_envelope_copy(sp_envelope *dst, const sp_envelope *src);
/* Set origin (SP_ERR_INVAL if empty or longer than SP_MAX_ORIGIN) and copy body
 * (SP_ERR_TOO_BIG past SP_MAX_BODY). */
sp_err sp_envelope_init(sp_envelope *env, const char *origin, const uint8_t *body, size_t n);

/* Canonical signing bytes into a fresh buffer the caller frees. */
sp_err sp_envelope_signing_bytes(const sp_envelope *env, uint8_t **out, size_t *n);
/* Sign env with the origin's private Ed25519 key (fills env->sig). */
sp_err sp_envelope_sign(sp_envelope *env, const sp_key *key);
/* Check env->sig against key: SP_OK, SP_ERR_BAD_SIG, or SP_ERR_UNSEALED when env carries no
 * signature (it is authenticated by a later seal: see sp_envelope_verify_run). */
sp_err sp_envelope_verify(const sp_envelope *env, const sp_key *key);
/* Whether env carries a signature (a seal) rather than the all-zero sig of the envelopes that a
 * later seal authenticates. */
int sp_envelope_sealed(const sp_envelope *env);
/* Length of the longest prefix of env[0..n) that ends with a seal (0 if none does). */
size_t sp_envelope_sealed_prefix(const sp_envelope *env, size_t n);
/* The chain hash of a signed envelope. */
sp_err sp_envelope_hash(const sp_envelope *env, uint8_t out[SP_HASH_LEN]);

/*
 * Authenticate a contiguous run env[0..n) of one origin whose predecessor has hash prev
 * (32 zero bytes when env[0].seq == 1): same origin, consecutive seqs, each prev_hash equal to
 * the hash of the one before, and the last one's signature (so the last must be a seal). One
 * signature check for the run. On failure returns SP_ERR_BAD_CHAIN / SP_ERR_BAD_SIG /
 * SP_ERR_UNSEALED / SP_ERR_INVAL and, if bad_index is not NULL, the index of the first envelope
 * found wrong (for BAD_SIG and UNSEALED: n-1, since only the last is checked). hashes, if not
 * NULL, receives the n chain hashes.
 */
sp_err sp_envelope_verify_run(const sp_envelope *env, size_t n, const sp_key *key,
                              const uint8_t prev[SP_HASH_LEN], size_t *bad_index,
                              uint8_t (*hashes)[SP_HASH_LEN]);

/* Protobuf wire form of one envelope. encode: caller frees *out. decode: checks every size
 * against the limits before copying; SP_ERR_TOO_BIG or SP_ERR_DECODE on bad input; on success
 * the caller owns env (sp_envelope_clear). */
sp_err sp_envelope_encode(const sp_envelope *env, uint8_t **out, size_t *n);
sp_err sp_envelope_decode(sp_envelope *env, const uint8_t *p, size_t n);

/* A Batch message of many envelopes. decode: *envs is a fresh array the caller releases with
 * sp_envelopes_free. */
sp_err sp_batch_encode(const sp_envelope *envs, size_t n, uint8_t **out, size_t *out_len);
sp_err sp_batch_decode(sp_envelope **envs, size_t *n, const uint8_t *p, size_t len);
void sp_envelopes_free(sp_envelope *envs, size_t n);

#endif
