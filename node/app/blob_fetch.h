/*
 * Attachments across the federation (docs/privacy.md#attachments). A blob is written where its
 * complaint is filed (node/intake/blobs.h); the nodes that handle the complaint fetch it from the
 * intake node on first read, directly at the intake node's peer address (the replicator's
 * sp_replicator_ask; wire format in node/intake/blob_wire.h), check its SHA-256 and keep it in their
 * own blob store.
 *
 * Who may fetch (sp_blob_entitled), decided by the serving node from the complaint's events:
 *  - a node holding a genuine wrap of the complaint's content key: the intake node's wraps in
 *    the filing, and those in accepted dispositions and privacy raises authored by a node that
 *    held a wrap itself (anyone can write a box *addressed* to a node; only a holder can put
 *    the key in it, so a wrap from a non-holder does not count);
 *  - when the complaint is not confidential, also national, the responsible (verifying) node
 *    and the assigned agency (a disposition made at national wraps no key).
 * Blob bytes are not encrypted at rest, so this rule, not a key, is what keeps a confidential
 * attachment from a node that cannot open the complaint's content. Readers at a node are then
 * checked as for the content (node/app/view.h).
 *
 * Thread-safety: every function may be called from any thread.
 */
#ifndef SP_BLOB_FETCH_H
#define SP_BLOB_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "node/app/app.h"
#include "node/app/view.h"

/* Whether node `node` may fetch the attachments of complaint s (its history and events e,
 * sp_view_load), by the rule above. All borrowed. */
int sp_blob_entitled(const sp_topology *topo, const sp_complaint_state *s,
                     const sp_complaint_events *e, const char *node);

/* Whether this node can hand out s's attachments: it is the intake node, or entitled to fetch
 * them (then it fetches on first read). */
int sp_blob_served_here(const sp_daemon_parts *p, const sp_complaint_state *s,
                        const sp_complaint_events *e);

/* The replicator's blob_serve hook (broker/replicator.h); ctx is the daemon's
 * sp_daemon_parts. Answers a BlobRequest: the attachment sealed to the requester when the
 * request is well-formed, signed by a node of the topology, meant for us, the requester is
 * entitled and the attachment belongs to the complaint's content; a BlobReply refusal with a
 * clear message (logged) otherwise. Returns SP_ERR_DECODE (malformed), SP_ERR_UNKNOWN_ORIGIN
 * (unknown requester or bad signature), SP_ERR_FORBIDDEN, SP_ERR_NOT_FOUND, or SP_OK. */
sp_err sp_blob_serve(void *ctx, const char *from, const uint8_t *req, size_t n, uint8_t **reply,
                     size_t *reply_len);

/* The outcome of sp_blob_fetch, called exactly once on a replicator thread. SP_OK: blob[0..n)
 * (borrowed for the call) hashes to the name asked for and is stored in our blob store.
 * Otherwise blob is NULL and why says what happened: SP_ERR_FORBIDDEN / SP_ERR_NOT_FOUND (the
 * intake node refused), SP_ERR_NET / SP_ERR_TIMEOUT / SP_ERR_CLOSED / SP_ERR_CONFIG (it was
 * not reached), SP_ERR_REJECTED / SP_ERR_DECODE / SP_ERR_BAD_SIG / SP_ERR_CORRUPT /
 * SP_ERR_TOO_BIG (an answer we do not accept; logged), SP_ERR_IO (storing it failed). */
typedef void (*sp_blob_fetched)(void *arg, sp_err rv, const uint8_t *blob, size_t n,
                                const char *why);

/* Fetch attachment sha of complaint s (events e) from its intake node; s and e are only read
 * during the call. SP_ERR_FORBIDDEN when this node is the intake node or may not fetch it,
 * SP_ERR_NOT_FOUND when the intake node has no address in the topology, SP_ERR_CONFIG when
 * this node has no signing key, SP_ERR_TOO_BIG when too many fetches wait, SP_ERR_CLOSED,
 * SP_ERR_NOMEM; done is then never called. */
sp_err sp_blob_fetch(const sp_daemon_parts *p, const sp_complaint_state *s,
                     const sp_complaint_events *e, const uint8_t sha[SP_HASH_LEN],
                     sp_blob_fetched done, void *arg);

/* Attachment requests this node answered as the intake node, by outcome: "served" then each
 * refusal code (SP_BLOB_MALFORMED ... SP_BLOB_UNAVAILABLE, node/intake/blob_wire.h), for
 * /metrics. names[i] and counts[i] for i < SP_BLOB_OUTCOMES; process-wide, thread-safe. */
#define SP_BLOB_OUTCOMES 8
extern const char *const sp_blob_outcome_names[SP_BLOB_OUTCOMES];
void sp_blob_outcome_counts(uint64_t counts[SP_BLOB_OUTCOMES]);

#endif
