/*
 * The wire format of the attachment fetch (schemas: BlobRequest, BlobReply), version 1. A node
 * that may read a complaint's attachments but does not hold one asks the complaint's intake
 * node (node/app/blob_fetch.h):
 *
 *   request = BlobRequest{requester, server, complaint_id, sha256, sig}
 *   sig     = Ed25519 by the requester's signing key (its sign_key in the topology) over
 *             "SPB1" | u8 len | requester | u8 len | server | u8 len | complaint_id | sha256[32]
 *   reply   = BlobReply{error, message} when refused, else
 *             BlobReply{key  = a fresh 32-byte transfer key sealed to the requester
 *                              (node/intake/seal.h, field "blob-key", bound to the complaint id),
 *                       data = 0x01 | nonce[12] | AES-256-GCM(transfer key, aad, blob) | tag[16]}
 *             aad     = "simpul-blob-v1" | 0 | complaint_id | 0 | sha256[32] | requester
 *
 * The signature tells the server who asks (so that it can decide whether that node may read
 * the complaint's content) and that the request was meant for it. The sealing makes the bytes
 * readable by the requester only, whatever link carried them. The requester checks the SHA-256
 * of what it opened against the name it asked for: a server can refuse or fail, never
 * substitute. A replayed request only gets a reply sealed to its signer again, so requests
 * carry no clock. (The transfer key exists because a sealed box holds at most SP_MAX_SEALED
 * bytes and an attachment up to 2 MiB.)
 *
 * Parsing checks every length before allocating; nothing here does I/O or keeps state, so
 * every function is thread-safe.
 */
#ifndef SP_BLOB_WIRE_H
#define SP_BLOB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "broker/crypto.h"
#include "broker/envelope.h"
#include "node/intake/seal.h"
#include "node/lifecycle/fold.h"
#include "topology/topology.h"

#define SP_BLOB_REQUEST_MAX 1024     /* bytes of an encoded BlobRequest */
#define SP_BLOB_FIELD_KEY "blob-key" /* seal field of the transfer key */
#define SP_BLOB_DATA_OVERHEAD (1 + SP_AEAD_NONCE_LEN + SP_AEAD_TAG_LEN)

/* Refusal codes of BlobReply.error. */
#define SP_BLOB_MALFORMED "malformed"
#define SP_BLOB_UNKNOWN_NODE "unknown_node"
#define SP_BLOB_BAD_SIGNATURE "bad_signature"
#define SP_BLOB_WRONG_SERVER "wrong_server"
#define SP_BLOB_FORBIDDEN "forbidden"
#define SP_BLOB_NOT_FOUND "not_found"
#define SP_BLOB_UNAVAILABLE "unavailable"

typedef struct {
    char requester[SP_MAX_ORIGIN + 1];
    char server[SP_MAX_ORIGIN + 1];
    char complaint_id[SP_TRACKING_ID_MAX];
    uint8_t sha256[SP_HASH_LEN];
    uint8_t sig[SP_SIG_LEN];
} sp_blob_request;

/* Fill *req for attachment sha of complaint_id, asked by `requester` of `server`, and sign it
 * with sign_key (the requester's private Ed25519 key; borrowed). SP_ERR_INVAL for a malformed
 * node or tracking id, SP_ERR_INVAL / SP_ERR_CRYPTO when signing fails. */
sp_err sp_blob_request_make(sp_blob_request *req, const char *requester, const char *server,
                            const char *complaint_id, const uint8_t sha[SP_HASH_LEN],
                            const sp_key *sign_key);
/* Encode req: *out is malloc'ed, *n bytes (caller frees). SP_ERR_NOMEM. */
sp_err sp_blob_request_encode(const sp_blob_request *req, uint8_t **out, size_t *n);
/* Decode p[0..n) into *out and check its shape: SP_ERR_TOO_BIG over SP_BLOB_REQUEST_MAX (before
 * anything is allocated); SP_ERR_DECODE when it is no BlobRequest, a node id or the tracking
 * id is malformed or too long, the hash is not 32 bytes or the signature not 64. The signature
 * itself is checked by sp_blob_request_verify. */
sp_err sp_blob_request_parse(sp_blob_request *out, const uint8_t *p, size_t n);
/* Whether req is signed by its requester's key in topo (borrowed): SP_OK,
 * SP_ERR_UNKNOWN_ORIGIN (no such node, or it has no signing key), SP_ERR_BAD_SIG. */
sp_err sp_blob_request_verify(const sp_blob_request *req, const sp_topology *topo);

/* A refusal, BlobReply{error = code, message}: *out malloc'ed (caller frees). SP_ERR_NOMEM. */
sp_err sp_blob_reply_refuse(const char *code, const char *message, uint8_t **out, size_t *n);
/* The answer to req carrying blob[0..n), sealed to the requester's sealing key (key_id, pub:
 * from the topology): *out malloc'ed (caller frees). SP_ERR_CRYPTO, SP_ERR_NOMEM. */
sp_err sp_blob_reply_seal(const sp_blob_request *req, uint32_t key_id,
                          const uint8_t pub[SP_PUBKEY_LEN], const uint8_t *blob, size_t n,
                          uint8_t **out, size_t *out_len);
/* Open the answer p[0..n) to our request req with our sealing keys (borrowed). On SP_OK *blob
 * is malloc'ed (*blob_len bytes, caller frees) and hashes to req->sha256. A refusal gives
 * SP_ERR_FORBIDDEN ("forbidden"), SP_ERR_NOT_FOUND ("not_found") or SP_ERR_REJECTED (any other
 * code), with the server's message copied into why[0..cap) (why may be NULL). Otherwise
 * SP_ERR_DECODE (no BlobReply, or boxes of the wrong shape), SP_ERR_TOO_BIG (data over max
 * bytes, checked before allocating), SP_ERR_BAD_SIG (a box does not open: not for us, sealed
 * to a key we do not have, or altered), SP_ERR_CORRUPT (it opened, but to other bytes than
 * those asked for), SP_ERR_NOMEM. */
sp_err sp_blob_reply_open(const sp_blob_request *req, const sp_seal_keyring *ring, const uint8_t *p,
                          size_t n, size_t max, uint8_t **blob, size_t *blob_len, char *why,
                          size_t cap);

#endif
