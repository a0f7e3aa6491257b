/*
 * Fuzz target for the integrator stream's wire: ReplayRequests as a node's replay server takes
 * them from anyone, and ReplayReplies and live messages as the tail client (broker/tail.h,
 * what `simpul tail` and integrators link) takes them from a node. A real feed log and RocksDB
 * store under /dev/shm holds 60 events with stream topics; a real stream serves replays from
 * it and a real tail client takes the answers, through broker/stream_int.h without a network.
 * Any bytes must give an answer or a clean refusal: never a crash, a leak or undefined
 * behaviour, and every replay answer must decode and name only offsets at or after `from`.
 *
 * The first input byte picks what the rest is: 0 a ReplayRequest, 1 a ReplayReply for the tail
 * client, 2 a live message (topic, NUL, StreamEvent) for it, 3 edits (u16 position, u8 xor) of
 * the node's genuine answer to a replay from offset 1, taken by the tail client.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/feedlog.h"
#include "broker/stream_int.h"
#include "schemas/simpul.pb-c.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EVENTS 60

typedef struct {
    char dir[256];
    sp_key *key;
    sp_store *st;
    sp_feedlog *log;
    sp_stream *stream;
    sp_tail *tail;
    uint8_t *answer; /* the node's answer to a replay from 1: edited by mode 3 */
    size_t answer_len;
} world;

static world w;

/* Topics as the node gives them: region, regency, agency, type. */
static sp_err tag(void *arg, const sp_envelope *const *envs, size_t n, char (*tags)[SP_ARRIVAL_TAG_MAX]) {
    static const char *const topics[] = {"35.77.opd-3577-pupr.filed", "35.77._.comment",
                                         "33.75.kemenkes.dispositioned", ""};
    for (size_t i = 0; i < n; i++) snprintf(tags[i], SP_ARRIVAL_TAG_MAX, "%s", topics[envs[i]->seq % 4]);
    return SP_OK;
}

typedef struct {
    sp_stream_visit_fn fn;
    void *arg;
    sp_err rv;
} scan_ctx;

static int visit(void *arg, uint64_t offset, const sp_envelope *env, const char *topic) {
    scan_ctx *c = arg;
    uint8_t *buf;
    size_t len;
    if ((c->rv = sp_envelope_encode(env, &buf, &len)) != SP_OK) return 1;
    int stop = c->fn(c->arg, offset, topic, buf, len);
    free(buf);
    return stop;
}

static sp_err scan(void *ctx, uint64_t from, size_t max, sp_stream_visit_fn fn, void *arg) {
    scan_ctx c = {fn, arg, SP_OK};
    sp_err rv = sp_feedlog_scan_tagged(ctx, from, max, visit, &c);
    return rv != SP_OK ? rv : c.rv;
}

/* Serve req and check the answer; *answer (if not NULL) keeps it. */
static void serve(const uint8_t *req, size_t n, uint8_t **keep, size_t *keep_len) {
    uint8_t *reply;
    size_t len;
    if (sp__stream_serve_replay(w.stream, req, n, &reply, &len) != SP_OK) return;
    Simpul__V1__ReplayReply *r = simpul__v1__replay_reply__unpack(NULL, len, reply);
    if (!r) __builtin_trap(); /* every request gets a ReplayReply, an error one at worst */
    Simpul__V1__ReplayRequest *q = simpul__v1__replay_request__unpack(NULL, n, req);
    for (size_t i = 0; q && i < r->n_events; i++)
        if (r->events[i]->offset < q->from || r->n_events > SP_REPLAY_MAX) __builtin_trap();
    if (q) simpul__v1__replay_request__free_unpacked(q, NULL);
    simpul__v1__replay_reply__free_unpacked(r, NULL);
    if (keep) {
        *keep = reply;
        *keep_len = len;
    } else {
        free(reply);
    }
}

static int make_world(void) {
    const char *dir = sp_fuzz_scratch("replay");
    if (!dir) return -1;
    snprintf(w.dir, sizeof w.dir, "%s", dir);
    if (sp_key_generate(&w.key, SP_KEY_ED25519) != SP_OK || sp_store_open(&w.st, w.dir, NULL) != SP_OK ||
        sp_feedlog_open(&w.log, w.st, "kota-3577", w.key) != SP_OK)
        return -1;
    sp_feedlog_set_tagger(w.log, tag, NULL);
    const uint8_t *bodies[EVENTS];
    size_t lens[EVENTS];
    for (size_t i = 0; i < EVENTS; i++) bodies[i] = (const uint8_t *)"laporan", lens[i] = 7;
    if (sp_feedlog_author(w.log, bodies, lens, EVENTS, NULL) != SP_OK) return -1;
    char pub[64];
    snprintf(pub, sizeof pub, "inproc://simpul-fuzz-replay-%d", (int)getpid());
    sp_stream_source src = {scan, w.log};
    sp_stream_listen at = {{pub, NULL}, {NULL, NULL}, NULL};
    if (sp_stream_start(&w.stream, &at, &src) != SP_OK ||
        sp_tail_open(&w.tail, pub, "inproc://simpul-fuzz-replay-nowhere", "", 1) != SP_OK)
        return -1;
    Simpul__V1__ReplayRequest q = SIMPUL__V1__REPLAY_REQUEST__INIT;
    uint8_t req[64];
    q.from = 1;
    q.prefix = (char *)"35.";
    serve(req, simpul__v1__replay_request__pack(&q, req), &w.answer, &w.answer_len);
    return w.answer ? 0 : -1;
}

/* Hand out what the tail client buffered, as sp_tail_next does, and free it (no further: the
 * next call would ask the node). */
static void drain(void) {
    sp_stream_event ev;
    for (size_t k = sp__tail_buffered(w.tail); k > 0 && sp_tail_next(w.tail, 0, &ev) == SP_OK; k--)
        sp_stream_event_clear(&ev);
}

static void take_edited_answer(const uint8_t *p, size_t n) {
    uint8_t *copy = malloc(w.answer_len);
    if (!copy) return;
    memcpy(copy, w.answer, w.answer_len);
    for (size_t i = 0; i + 3 <= n; i += 3)
        copy[(((size_t)p[i] << 8) | p[i + 1]) % w.answer_len] ^= p[i + 2];
    size_t len = n % 3 == 1 ? w.answer_len - (p[n - 1] % w.answer_len) : w.answer_len;
    int end;
    if (sp__tail_take_replay(w.tail, copy, len, &end) == SP_OK) drain();
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    if (!ready) ready = make_world() == 0 ? 1 : -1;
    if (ready < 0 || size == 0) return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    int end;
    switch (data[0] % 4) {
    case 0: serve(p, n, NULL, NULL); break;
    case 1:
        if (sp__tail_take_replay(w.tail, p, n, &end) == SP_OK) drain();
        break;
    case 2:
        if (sp__tail_take_live(w.tail, p, n) == SP_OK) drain();
        break;
    default: take_edited_answer(p, n);
    }
    return 0;
}
