/*
 * Fuzz target for what a peer sends the replicator: PeerRequests as its server receives them
 * (push, sync, pull, blob, from known and unknown nodes) and PeerReplies as a link thread takes
 * them (a push's or sync's heads, a pull's batch). A real replicator (node "national") on a
 * real feed log and RocksDB store under /dev/shm, trusting prov-35's key, is fed the bytes
 * through broker/replicator_int.h, without a network. Any bytes must be answered with a
 * PeerReply (requests) or taken or refused (replies): never a crash, a leak, undefined
 * behaviour, or a stored envelope that is not prov-35's signed chain.
 *
 * The first input byte picks what the rest is:
 *   0 a raw PeerRequest;            1 the batch of a push from prov-35;
 *   2 edits of a genuine push;      3 a push reply; 4 a sync reply; 5 a pull reply;
 *   6 edits of a genuine pull reply.
 * Edits are (u16 position, u8 xor) triples; a trailing byte cuts the message short. Genuine
 * messages carry 40 envelopes of prov-35, sealed at their end, so that mutations reach the
 * chain and seal checks behind the decoders.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/feedlog.h"
#include "broker/replica_store.h"
#include "broker/replicator_int.h"
#include "schemas/simpul.pb-c.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GENUINE 40

typedef struct {
    char dir[256], author_dir[300], node_dir[300];
    sp_key *national, *prov;
    sp_store *st, *author_st;
    sp_feedlog *log, *author_log;
    sp_replica_adapter adapter;
    sp_replica_store ops;
    sp_peer_config peer;
    sp_replicator_config cfg;
    sp_replicator *rep;
    uint8_t *push, *pull_reply; /* genuine messages to edit */
    size_t push_len, pull_reply_len;
} world;

static world w;

static uint8_t *pack_request(const Simpul__V1__PeerRequest *q, size_t *len) {
    *len = simpul__v1__peer_request__get_packed_size(q);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf) simpul__v1__peer_request__pack(q, buf);
    return buf;
}

/* prov-35 authors GENUINE events in one batch; the push and the pull reply carry them. */
static int make_genuine(void) {
    const uint8_t *bodies[GENUINE];
    size_t lens[GENUINE];
    sp_envelope envs[GENUINE];
    for (size_t i = 0; i < GENUINE; i++) bodies[i] = (const uint8_t *)"laporan", lens[i] = 7;
    if (sp_feedlog_author(w.author_log, bodies, lens, GENUINE, envs) != SP_OK) return -1;
    uint8_t *batch;
    size_t len;
    sp_err rv = sp_batch_encode(envs, GENUINE, &batch, &len);
    for (size_t i = 0; i < GENUINE; i++) sp_envelope_clear(&envs[i]);
    if (rv != SP_OK) return -1;
    Simpul__V1__PeerRequest q;
    simpul__v1__peer_request__init(&q);
    q.from = (char *)"prov-35";
    q.kind_case = SIMPUL__V1__PEER_REQUEST__KIND_PUSH;
    q.push.data = batch;
    q.push.len = len;
    w.push = pack_request(&q, &w.push_len);
    Simpul__V1__PeerReply r = SIMPUL__V1__PEER_REPLY__INIT;
    r.from = (char *)"prov-35";
    r.batch.data = batch;
    r.batch.len = len;
    w.pull_reply_len = simpul__v1__peer_reply__get_packed_size(&r);
    w.pull_reply = malloc(w.pull_reply_len);
    if (w.pull_reply) simpul__v1__peer_reply__pack(&r, w.pull_reply);
    free(batch);
    return w.push && w.pull_reply ? 0 : -1;
}

static int open_log(const char *dir, const char *id, sp_key *key, sp_store **st, sp_feedlog **log) {
    if (mkdir(dir, 0700) != 0) return -1;
    if (sp_store_open(st, dir, NULL) != SP_OK) return -1;
    return sp_feedlog_open(log, *st, id, key) == SP_OK ? 0 : -1;
}

static int make_world(void) {
    const char *dir = sp_fuzz_scratch("peer");
    if (!dir) return -1;
    snprintf(w.dir, sizeof w.dir, "%s", dir);
    snprintf(w.node_dir, sizeof w.node_dir, "%s/national", w.dir);
    snprintf(w.author_dir, sizeof w.author_dir, "%s/prov-35", w.dir);
    uint8_t pub[SP_PUBKEY_LEN];
    if (sp_key_generate(&w.national, SP_KEY_ED25519) != SP_OK ||
        sp_key_generate(&w.prov, SP_KEY_ED25519) != SP_OK ||
        open_log(w.node_dir, "national", w.national, &w.st, &w.log) != 0 ||
        open_log(w.author_dir, "prov-35", w.prov, &w.author_st, &w.author_log) != 0 ||
        sp_key_raw_public(w.prov, pub) != SP_OK ||
        sp_feedlog_add_origin_key(w.log, "prov-35", pub) != SP_OK || make_genuine() != 0)
        return -1;
    w.adapter = (sp_replica_adapter){w.log, NULL, NULL};
    sp_replica_store_init(&w.ops, &w.adapter);
    /* a peer nobody listens for, lazy and with hour-long rounds: no traffic of its own */
    w.peer = (sp_peer_config){.id = "prov-35", .address = "inproc://simpul-fuzz-nowhere", .lazy = 1};
    w.cfg = (sp_replicator_config){.self = "national", .listen = NULL, .peers = &w.peer,
                                   .n_peers = 1, .sync_interval_ms = 3600 * 1000,
                                   .request_timeout_ms = 100};
    return sp_replicator_start(&w.rep, &w.cfg, &w.ops) == SP_OK ? 0 : -1;
}

static void serve(const uint8_t *p, size_t n) {
    uint8_t *reply;
    size_t len;
    if (sp__replicator_serve(w.rep, p, n, &reply, &len) != SP_OK) return;
    Simpul__V1__PeerReply *r = simpul__v1__peer_reply__unpack(NULL, len, reply);
    if (!r) __builtin_trap(); /* every request gets a PeerReply, an error one at worst */
    simpul__v1__peer_reply__free_unpacked(r, NULL);
    free(reply);
}

static void serve_push(const uint8_t *batch, size_t n) {
    Simpul__V1__PeerRequest q;
    simpul__v1__peer_request__init(&q);
    q.from = (char *)"prov-35";
    q.kind_case = SIMPUL__V1__PEER_REQUEST__KIND_PUSH;
    q.push.data = (uint8_t *)batch;
    q.push.len = n;
    size_t len;
    uint8_t *buf = pack_request(&q, &len);
    if (buf) serve(buf, len);
    free(buf);
}

/* A copy of msg[0..len) with the edits of p[0..n) applied (see the top of the file). */
static uint8_t *edited(const uint8_t *msg, size_t len, const uint8_t *p, size_t n, size_t *out) {
    uint8_t *copy = malloc(len);
    if (!copy) return NULL;
    memcpy(copy, msg, len);
    for (size_t i = 0; i + 3 <= n; i += 3) copy[(((size_t)p[i] << 8) | p[i + 1]) % len] ^= p[i + 2];
    *out = n % 3 == 1 ? len - (p[n - 1] % len) : len;
    return copy;
}

/* Whatever was stored is prov-35's chain, verified: the log's own check finds nothing. */
static void check_store(void) {
    size_t chains, envelopes, problems;
    if (sp_feedlog_verify_all(w.log, NULL, NULL, &chains, &envelopes, &problems) == SP_OK &&
        problems)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    if (!ready) ready = make_world() == 0 ? 1 : -1;
    if (ready < 0 || size == 0) return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1, len;
    uint8_t *msg = NULL;
    switch (data[0] % 7) {
    case 0: serve(p, n); break;
    case 1: serve_push(p, n); break;
    case 2:
        if ((msg = edited(w.push, w.push_len, p, n, &len))) serve(msg, len);
        break;
    case 3: sp__replicator_take_reply(w.rep, "prov-35", SP__REPLY_PUSH, p, n); break;
    case 4: sp__replicator_take_reply(w.rep, "prov-35", SP__REPLY_SYNC, p, n); break;
    case 5: sp__replicator_take_reply(w.rep, "prov-35", SP__REPLY_PULL, p, n); break;
    default:
        if ((msg = edited(w.pull_reply, w.pull_reply_len, p, n, &len)))
            sp__replicator_take_reply(w.rep, "prov-35", SP__REPLY_PULL, msg, len);
    }
    free(msg);
    if (data[0] % 7 == 2 || data[0] % 7 >= 5) check_store();
    return 0;
}
