/*
 * The feed log: every origin's signed, hash-chained feed, stored append-only in RocksDB.
 *
 * Invariants:
 *  - an envelope is stored only if it links to the stored predecessor of its origin and is
 *    authenticated by its origin's signing key (per envelope, or per run: see envelope.h);
 *    so every stored feed is a gap-free verified chain 1..head;
 *  - an envelope whose predecessor is missing is REJECTED (SP_ERR_GAP), not held: the sender or
 *    anti-entropy sends the missing range first. Holding would need a second, unverifiable store;
 *  - a stored (origin, seq) is never overwritten. The same bytes again are a no-op; different,
 *    validly signed bytes are a fork: kept as evidence in the forks column family and counted;
 *  - an API call that returns SP_OK has its events on disk (one WriteBatch, one fsync per call:
 *    group commit).
 *
 * Thread-safety: every function may be called from any thread; writers are serialised by an
 * internal lock. The log knows nothing about complaints.
 */
#ifndef SP_FEEDLOG_H
#define SP_FEEDLOG_H

#include <stddef.h>
#include <stdint.h>

#include "broker/crypto.h"
#include "broker/envelope.h"
#include "broker/store.h"

typedef struct sp_feedlog sp_feedlog;

typedef struct {
    size_t accepted;
    size_t duplicates;
    size_t forks;
    size_t rejected;                  /* all reasons together */
    size_t by_reason[SP_ERR__COUNT];  /* rejected, by reason */
} sp_ingest_stats;

/*
 * Hooks run under the log's write lock, in commit order. stage may add derived records to the
 * batch about to be written (so they are durable with the events, atomically); returning an
 * error aborts the commit. committed runs after the batch is on disk. envs[i] was stored at
 * arrival offset offsets[i]. Neither may call the log's write functions.
 */
typedef struct {
    sp_err (*stage)(void *arg, sp_wbatch *b, const sp_envelope *const *envs,
                    const uint64_t *offsets, size_t n);
    void (*committed)(void *arg, const sp_envelope *const *envs, const uint64_t *offsets,
                      size_t n);
    void *arg;
} sp_feedlog_hooks;

/* Open the log on an open store. self_id names this node's own feed (NULL: the id the store was
 * created with; SP_ERR_NOT_FOUND for a new store); sign_key (borrowed, may be
 * NULL for a read-only tool) must outlive the log. SP_ERR_CONFIG if the store was created for
 * another node id. The caller owns *out. */
sp_err sp_feedlog_open(sp_feedlog **out, sp_store *st, const char *self_id, const sp_key *sign_key);
void sp_feedlog_close(sp_feedlog *log);
void sp_feedlog_set_hooks(sp_feedlog *log, const sp_feedlog_hooks *hooks);

/*
 * A tag stored with each arrival record (the node stores the stream topic there, so that the
 * live stream and replay give an event the same topic for ever). The tagger runs under the
 * log's write lock, before the stage hook, once per commit with all its envelopes in commit
 * order; it writes a NUL-terminated tag (at most SP_ARRIVAL_TAG_MAX - 1 bytes, "" for none)
 * into tags[i]. An error aborts the commit. Without a tagger, arrivals have no tag. fn NULL
 * removes it; arg is borrowed and must stay valid while the log may be written to.
 */
#define SP_ARRIVAL_TAG_MAX 160
typedef sp_err (*sp_feedlog_tag_fn)(void *arg, const sp_envelope *const *envs, size_t n,
                                    char (*tags)[SP_ARRIVAL_TAG_MAX]);
void sp_feedlog_set_tagger(sp_feedlog *log, sp_feedlog_tag_fn fn, void *arg);

/* Trust pub as origin's signing key (the topology provides these). The node's own key is
 * trusted on open. Replacing a different known key is refused: SP_ERR_EXISTS. */
sp_err sp_feedlog_add_origin_key(sp_feedlog *log, const char *origin, const uint8_t pub[SP_PUBKEY_LEN]);
/* Whether origin has a trusted key. */
int sp_feedlog_knows_origin(sp_feedlog *log, const char *origin);

/* Author n events of our own feed (seq, HLC, prev_hash, signature) and store them durably in
 * one batch. If out is not NULL it receives copies of the n envelopes (caller clears them). */
sp_err sp_feedlog_author(sp_feedlog *log, const uint8_t *const *bodies, const size_t *lens,
                         size_t n, sp_envelope *out);

/* Author n events whose bodies may depend on the seq they get (e.g. an id derived from it that
 * sealed fields are bound to). build is
 * called under the log's lock, once per event in order, with the seq the event will have; it
 * hands over a malloc'ed body. An error from build aborts the whole batch (nothing stored).
 * Records the builder puts into `with` (the application's column families, never the log's) are
 * stored in the same durable batch as the event: they exist exactly when it does (the intake's
 * idempotency records). */
typedef sp_err (*sp_body_builder)(void *arg, size_t i, uint64_t seq, sp_wbatch *with,
                                  uint8_t **body, size_t *len);
sp_err sp_feedlog_author_built(sp_feedlog *log, size_t n, sp_body_builder build, void *arg,
                               sp_envelope *out);

/* Verify and store envelopes from elsewhere, in one durable batch. Contiguous runs of one
 * origin are verified with one signature check. Per-envelope outcome in status[i] if not NULL:
 * SP_OK stored, SP_ERR_EXISTS duplicate, SP_ERR_FORK fork (evidence kept), or the rejection
 * reason (BAD_SIG, BAD_CHAIN, GAP, UNKNOWN_ORIGIN, INVAL). The call itself fails only on storage
 * errors (then nothing of the batch is stored). stats (optional) are added to. */
sp_err sp_feedlog_ingest(sp_feedlog *log, const sp_envelope *envs, size_t n,
                         sp_ingest_stats *stats, sp_err *status);

/* Read one stored envelope (caller clears it). SP_ERR_NOT_FOUND when absent. */
sp_err sp_feedlog_get(sp_feedlog *log, const char *origin, uint64_t seq, sp_envelope *out);
/* Highest stored seq of origin (0 if none) and its hash (if hash not NULL). */
uint64_t sp_feedlog_head(sp_feedlog *log, const char *origin, uint8_t hash[SP_HASH_LEN]);
/* Version vector: a fresh array (caller frees) of every origin's head. */
sp_err sp_feedlog_version_vector(sp_feedlog *log, sp_vv_entry **out, size_t *n);
/* About max envelopes of origin from seq `from` on, stopping near max_bytes of encoded
 * envelopes: past either limit it goes on to the next seal (at most SP_SEAL_MAX_ENVELOPES more),
 * so a receiver can authenticate everything it gets. *out is a fresh array (sp_envelopes_free). */
sp_err sp_feedlog_range(sp_feedlog *log, const char *origin, uint64_t from, size_t max,
                        size_t max_bytes, sp_envelope **out, size_t *n);
/* The offset the next stored envelope will get (offsets start at 1). */
uint64_t sp_feedlog_next_offset(sp_feedlog *log);
/* Number of forks recorded in the forks column family. */
uint64_t sp_feedlog_fork_count(sp_feedlog *log);
/* Current HLC stamp of this node (the last one issued or observed). */
uint64_t sp_feedlog_clock(sp_feedlog *log);
const char *sp_feedlog_self(const sp_feedlog *log);

/* Visit stored envelopes in arrival order from offset `from`; stop after max (0: no limit) or
 * when fn returns non-zero. */
typedef int (*sp_feedlog_visit_fn)(void *arg, uint64_t offset, const sp_envelope *env);
sp_err sp_feedlog_scan_arrivals(sp_feedlog *log, uint64_t from, size_t max, sp_feedlog_visit_fn fn,
                                void *arg);
/* The same with each arrival's tag ("" when it has none). */
typedef int (*sp_feedlog_tagged_fn)(void *arg, uint64_t offset, const sp_envelope *env,
                                    const char *tag);
sp_err sp_feedlog_scan_tagged(sp_feedlog *log, uint64_t from, size_t max, sp_feedlog_tagged_fn fn,
                              void *arg);
/* The same with the envelopes as stored (the bytes sp_envelope_encode made, valid during the
 * call), not decoded: what replay sends as it is. */
typedef int (*sp_feedlog_stored_fn)(void *arg, uint64_t offset, const uint8_t *envelope,
                                    size_t len, const char *tag);
sp_err sp_feedlog_scan_stored(sp_feedlog *log, uint64_t from, size_t max, sp_feedlog_stored_fn fn,
                              void *arg);
/* The tag of the arrival at offset. SP_ERR_NOT_FOUND when there is no such arrival or it has no
 * tag; SP_ERR_CORRUPT, SP_ERR_STORE. Takes no lock: may be called from the hooks. */
sp_err sp_feedlog_arrival_tag(sp_feedlog *log, uint64_t offset, char tag[SP_ARRIVAL_TAG_MAX]);

/* Re-verify every stored chain from seq 1: links, signatures (one per run of up to 1024), and
 * that each chain ends at the recorded head. report (optional) is told each problem found.
 * *problems counts them; the call fails only on read errors. */
typedef void (*sp_feedlog_report_fn)(void *arg, const char *origin, uint64_t seq, sp_err why);
sp_err sp_feedlog_verify_all(sp_feedlog *log, sp_feedlog_report_fn report, void *arg,
                             size_t *chains, size_t *envelopes, size_t *problems);

/* Key of an envelope in the feeds column family: u8 len | origin | u64 BE seq. Returns length. */
size_t sp_feed_key(uint8_t *key, const char *origin, uint64_t seq);
#define SP_FEED_KEY_MAX (1 + SP_MAX_ORIGIN + 8)

#endif
