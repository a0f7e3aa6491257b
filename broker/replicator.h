/*
 * The replicator moves signed envelopes between neighbouring nodes over NNG req/rep. It knows
 * nothing about complaints; it reaches the node's log only through sp_replica_store.
 *
 * - Eager push: sp_replicator_offer() queues newly stored envelopes for every peer that is not
 *   known to have them (lazy peers excepted); each peer's thread sends them in batches (one NNG
 *   message per batch).
 * - Anti-entropy: on connect, periodically, and whenever a push could not be delivered, a peer's
 *   thread exchanges heads (version vectors) with the peer, pulls what this node lacks and
 *   pushes what the peer lacks, from the store, in bounded batches. A periodic round repairs
 *   only what the previous round saw already (newer envelopes are usually in an eager push on
 *   the way); a round after connecting, a failure or sp_replicator_sync_now repairs all.
 * - Serving: a REP socket answers peers' push, sync and pull requests. Requests from a node
 *   that is not a configured peer are refused and counted; malformed and oversized messages are
 *   counted and answered with an error; the link stays up.
 * - Asking any node: sp_replicator_ask sends one opaque blob request (attachments, see
 *   node/intake/blob_wire.h) straight to a node of the federation that need not be a peer, on the
 *   replicator's own threads (started with the first request); the REP socket hands such
 *   requests to the blob_serve hook, which authenticates them itself (they are not limited to
 *   peers).
 *
 * TLS refusals: NNG retries a refused handshake by itself and tells nobody, so a peer whose
 * certificate is refused would only show as timeouts. Each peer thread reads NNG's count of
 * failed handshakes after a failure; when it grew, it logs replica.tls_refused with the reason
 * (broker/tls_probe.h finds it) and counts it in sp_peer_stats.tls_refused.
 *
 * Backpressure: every peer has its own thread, socket and bounded queue. A slow or dead peer
 * only fills its own queue; when full, the queue is dropped and the peer is repaired by
 * anti-entropy from the store later. Offering never blocks on the network.
 */
#ifndef SP_REPLICATOR_H
#define SP_REPLICATOR_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "broker/envelope.h"

/* The narrow interface to the node's log. All functions may be called from several threads. */
typedef struct {
    /* Verify and store durably; per-envelope outcome in status (see sp_feedlog_ingest). */
    sp_err (*ingest)(void *ctx, const sp_envelope *envs, size_t n, sp_err *status);
    /* Every origin's head: a fresh array the caller frees. */
    sp_err (*heads)(void *ctx, sp_vv_entry **out, size_t *n);
    /* One origin's head (0 if none). */
    uint64_t (*head)(void *ctx, const char *origin);
    /* Up to max envelopes of origin from seq `from`, at most max_bytes (sp_envelopes_free). */
    sp_err (*range)(void *ctx, const char *origin, uint64_t from, size_t max, size_t max_bytes,
                    sp_envelope **out, size_t *n);
    /* Whether this node keeps origin's feed (scoped replication); NULL means every origin. */
    int (*keeps)(void *ctx, const char *origin);
    void *ctx;
} sp_replica_store;

typedef struct {
    const char *id;      /* peer node id */
    const char *address; /* NNG URL to dial: tcp://, tls+tcp://, ipc://, inproc:// */
    /* Anti-entropy only: nothing is pushed eagerly over this link. For links that close a
     * cycle (a province's extra peer, itself a child of national like us): both ends get the
     * same events from their parent anyway, so eager pushes would only deliver each of them
     * a second time. The link still repairs what the other path lost. */
    int lazy;
    /* The peer's Ed25519 public key (32 bytes, borrowed): with a sign_key in the replicator's
     * config, the peer must prove it holds the matching private key when the link opens. */
    const uint8_t *sign_pub;
} sp_peer_config;

typedef struct {
    const char *self;             /* this node's id */
    const char *listen;           /* URL to serve peers on (NULL: do not listen) */
    const sp_peer_config *peers;  /* borrowed for the replicator's lifetime */
    size_t n_peers;
    const char *tls_cert_key_file; /* PEM with this node's certificate and key (tls+tcp) */
    const char *tls_ca_file;       /* PEM with the certificates this node trusts (tls+tcp) */
    uint32_t sync_interval_ms;    /* anti-entropy period; default 10000 */
    uint32_t request_timeout_ms;  /* one request to a peer; default 5000 */
    size_t push_batch;            /* envelopes per message; default 1000 */
    size_t queue_limit;           /* envelopes queued per peer; default 100000 */
    /* What this node and its peers must share, as "name=value;name=value" (the daemon sends
     * the fingerprints of its topology, calendar and SLA policy): sent with every sync, both
     * ways; the names whose values a peer has otherwise are in its stats (disagrees) and
     * logged (replica.disagreement) when they change. NULL: nothing is compared. */
    const char *agreement;
    /* This node's Ed25519 key (borrowed). Set: every link is bound to node identities — each
     * side signs a challenge over both nonces when it opens (broker/link_auth.h) — and every
     * peer needs sign_pub; requests on a connection that has not proved its peer are refused.
     * NULL: links are not authenticated (tests and benchmarks of the transport only). */
    const sp_key *sign_key;
    /* Serves PeerRequest.blob: req[0..n) from node `from` (unverified: any node of the
     * federation may ask, so the hook authenticates the request itself). On return *reply is
     * the encoded answer (malloc'ed; the replicator frees it) or NULL when out of memory. The
     * result says how the request is counted: SP_ERR_UNKNOWN_ORIGIN (an unknown requester or a
     * wrong signature: unknown_peer), SP_ERR_DECODE (malformed), anything else is not counted
     * here. NULL: blob requests are refused as unknown requests. Runs on the server threads. */
    sp_err (*blob_serve)(void *ctx, const char *from, const uint8_t *req, size_t n, uint8_t **reply,
                         size_t *reply_len);
    void *blob_ctx;
} sp_replicator_config;

/* Counters of one peer link. */
typedef struct {
    char id[SP_MAX_ORIGIN + 1];
    char address[256];
    int connected;                 /* the last request to the peer succeeded */
    uint64_t requests;             /* push, sync and pull requests sent to the peer */
    uint64_t sent_events, sent_bytes;
    uint64_t repaired_events;      /* of sent_events, those anti-entropy sent (not eager pushes) */
    uint64_t received_events, received_bytes; /* envelopes the peer sent us (push or pull) */
    uint64_t lag;                  /* envelopes we hold that the peer is known to lack */
    uint64_t last_contact_ms;      /* unix ms of the last successful exchange, 0 if never */
    uint64_t queued, queue_dropped;
    uint64_t sync_rounds, failures;
    uint64_t rejects[SP_ERR__COUNT]; /* envelopes from this peer rejected, by reason */
    uint64_t tls_refused;          /* TLS handshakes with the peer that failed (a certificate
                                      refused, by us or by it: see the replica.tls_refused log) */
    uint64_t impostor;             /* link openings where the peer failed to prove its key */
    int agreement_known;           /* the peer told its agreement (on a sync either way) */
    char disagrees[128];           /* names of the agreement's parts it has otherwise, comma
                                      separated ("" when all agree) */
} sp_peer_stats;

/* Counters of the serving side. */
typedef struct {
    uint64_t requests;
    uint64_t unknown_peer;   /* requests from a node that is not our peer */
    uint64_t malformed;      /* undecodable requests */
    uint64_t oversized;      /* requests over SP_MAX_BATCH_BYTES (larger ones NNG drops) */
    uint64_t tls_refused;    /* TLS handshakes of dialing nodes that failed */
    uint64_t unauthenticated; /* requests on a connection that had not proved its peer */
    uint64_t bad_proof;      /* link proofs that did not verify (an impersonating peer) */
} sp_server_stats;

typedef struct sp_replicator sp_replicator;

/* Start serving and linking to the peers. The config and store are borrowed and must outlive
 * the replicator. Errors: SP_ERR_NET (cannot listen), SP_ERR_CONFIG (bad URL or TLS files). */
sp_err sp_replicator_start(sp_replicator **out, const sp_replicator_config *cfg,
                           const sp_replica_store *store);
/* Stop threads, close sockets, free. Accepts NULL. */
void sp_replicator_stop(sp_replicator *r);

/* Newly stored envelopes (authored here or received from anyone): queue them for every peer
 * not known to have them. Never blocks on the network. Thread-safe. */
void sp_replicator_offer(sp_replicator *r, const sp_envelope *const *envs, size_t n);
/* Ask every peer thread to run anti-entropy now. */
void sp_replicator_sync_now(sp_replicator *r);

/* The answer to one sp_replicator_ask, called exactly once on a replicator thread: SP_OK with
 * the reply's blob bytes (borrowed for the call), SP_ERR_NET / SP_ERR_TIMEOUT (the node was not
 * reached, or did not answer, within request_timeout_ms), SP_ERR_REJECTED (it refused the
 * request itself: reply holds its error text, NUL-terminated), SP_ERR_DECODE (an undecodable
 * answer), SP_ERR_CLOSED (the replicator stopped first), SP_ERR_CONFIG (bad URL or TLS files). */
typedef void (*sp_ask_done)(void *arg, sp_err rv, const uint8_t *reply, size_t n);

#define SP_ASK_QUEUE 64 /* requests waiting for an ask thread */

/* Send one blob request, req[0..n) (copied), as PeerRequest.blob directly to node `to` at
 * `address` — any node of the federation, peer or not, with the peer links' TLS settings (the
 * server's certificate must name `to`) — and hand the answer to done. Never blocks on the
 * network. SP_ERR_TOO_BIG when SP_ASK_QUEUE requests already wait, SP_ERR_CLOSED when stopping,
 * SP_ERR_INVAL for a bad argument, SP_ERR_NOMEM; done is then never called. Thread-safe. */
sp_err sp_replicator_ask(sp_replicator *r, const char *to, const char *address, const uint8_t *req,
                         size_t n, sp_ask_done done, void *arg);

/* Snapshot of the counters: *peers is a fresh array of n peers (caller frees). */
sp_err sp_replicator_stats(sp_replicator *r, sp_peer_stats **peers, size_t *n,
                           sp_server_stats *server);

#endif
