/*
 * The replicator moves signed envelopes between neighbouring nodes over NNG req/rep. It knows
 * nothing about complaints; it reaches the node's log only through sp_replica_store.
 *
 * - Eager push: sp_replicator_offer() queues newly stored envelopes for every peer that is not
 *   known to have them; each peer's thread sends them in batches (one NNG message per batch).
 * - Anti-entropy: on connect, periodically, and whenever a push could not be delivered, a peer's
 *   thread exchanges heads (version vectors) with the peer, pulls what this node lacks and
 *   pushes what the peer lacks, from the store, in bounded batches.
 * - Serving: a REP socket answers peers' push, sync and pull requests. Requests from a node
 *   that is not a configured peer are refused and counted; malformed and oversized messages are
 *   counted and answered with an error; the link stays up.
 *
 * Backpressure: every peer has its own thread, socket and bounded queue. A slow or dead peer
 * only fills its own queue; when full, the queue is dropped and the peer is repaired by
 * anti-entropy from the store later. Offering never blocks on the network.
 */
#ifndef SP_REPLICATOR_H
#define SP_REPLICATOR_H

#include <stddef.h>
#include <stdint.h>

#include "broker/envelope.h"
#include "schemas/err.h"

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
} sp_replicator_config;

/* Counters of one peer link. */
typedef struct {
    char id[SP_MAX_ORIGIN + 1];
    char address[256];
    int connected;                 /* the last request to the peer succeeded */
    uint64_t sent_events, sent_bytes;
    uint64_t received_events, received_bytes; /* envelopes the peer sent us (push or pull) */
    uint64_t lag;                  /* envelopes we hold that the peer is known to lack */
    uint64_t last_contact_ms;      /* unix ms of the last successful exchange, 0 if never */
    uint64_t queued, queue_dropped;
    uint64_t sync_rounds, failures;
    uint64_t rejects[SP_ERR__COUNT]; /* envelopes from this peer rejected, by reason */
} sp_peer_stats;

/* Counters of the serving side. */
typedef struct {
    uint64_t requests;
    uint64_t unknown_peer;   /* requests from a node that is not our peer */
    uint64_t malformed;      /* undecodable requests */
    uint64_t oversized;      /* requests over SP_MAX_BATCH_BYTES (larger ones NNG drops) */
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

/* Snapshot of the counters: *peers is a fresh array of n peers (caller frees). */
sp_err sp_replicator_stats(sp_replicator *r, sp_peer_stats **peers, size_t *n,
                           sp_server_stats *server);

#endif
