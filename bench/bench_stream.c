/*
 * bench_stream: the integrator stream of one real node (issue 15), in one run.
 *
 *   bench_stream [--smoke] [--events N] [--live N] [--dir DIR]
 *
 * The node is what the daemon runs for its stream: a RocksDB store, the feed log with the
 * complaint fold as its stage hook, the stream's topic tagger, and the stream itself
 * (sp_node_stream_start) on tcp loopback; its committed hook publishes, as daemon.c's does.
 * Clients are the library integrators use (broker/tail.h, the core of libsimpul-stream).
 * Events are plausible lifecycles (node/lifecycle/fold_testutil.h) authored by the node.
 *
 * 1. raw:    the stored arrivals iterated with their topics and envelopes as stored
 *            (sp_feedlog_scan_stored: RocksDB's iteration, the limit replay is compared
 *            against, measured in the same run);
 * 2. replay: one client from offset 1 to the end (default 500,000 events), no prefix, then with
 *            a province prefix; events per second;
 * 3. live:   1 and then 10 clients following the live stream while --live events (default
 *            100,000) are authored as fast as the log takes them: the publish rate, the rate at
 *            which the slowest client has them all, and the delay from the commit (the
 *            committed hook) to each client's sp_tail_next, p50 and p99 over every client's
 *            events. A client's live stream may drop (PUB/SUB does for slow readers): the
 *            client then replays, and those events count with their longer delay.
 * Every phase checks that each client got every offset once, in order (exit 1 otherwise).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "bench/bench_util.h"
#include "broker/tail.h"
#include "node/app/stream_node.h"
#include "node/lifecycle/complaints.h"
#include "node/lifecycle/fold_testutil.h"
#include "tests/unit/testutil.h"

#define BATCH 256
#define MAX_CLIENTS 10

typedef struct {
    size_t events, live;
    const char *dir;
    int smoke;
} options;

typedef struct {
    char dir[256], pub[64], rep[64];
    sp_store *st;
    sp_key *key;
    sp_feedlog *log;
    sp_complaints *c;
    sp_node_config cfg;
    sp_daemon_parts parts;
    sp_stream *stream;
    _Atomic uint64_t *committed_ns; /* by offset: when the committed hook saw it */
    size_t cap;
} node;

static sp_test_fold_env env;

static void die(const char *what, sp_err rv) {
    fprintf(stderr, "bench_stream: %s: %s\n", what, sp_strerror(rv));
    exit(1);
}

static uint64_t now_ns(void) {
    return (uint64_t)(sp_bench_now_s() * 1e9);
}

/* ---- the node ---- */

static sp_err on_stage(void *arg, sp_wbatch *b, const sp_envelope *const *envs,
                       const uint64_t *offsets, size_t n) {
    node *nd = arg;
    return sp_complaints_stage(nd->c, b, envs, offsets, n);
}

static void on_committed(void *arg, const sp_envelope *const *envs, const uint64_t *offsets,
                         size_t n) {
    node *nd = arg;
    uint64_t t = now_ns();
    for (size_t i = 0; i < n; i++)
        if (offsets[i] < nd->cap) atomic_store(&nd->committed_ns[offsets[i]], t);
    sp_node_stream_publish(nd->stream, &nd->parts, envs, offsets, n);
}

static void node_open(node *nd, const options *o) {
    int port = 20000 + (int)(getpid() % 20000);
    if (o->dir)
        snprintf(nd->dir, sizeof nd->dir, "%s/stream-node", o->dir);
    else if (!sp_test_tmpdir(nd->dir, "bench-stream"))
        die("tmpdir", SP_ERR_IO);
    snprintf(nd->pub, sizeof nd->pub, "tcp://127.0.0.1:%d", port);
    snprintf(nd->rep, sizeof nd->rep, "tcp://127.0.0.1:%d", port + 1);
    nd->cap = o->events + 2 * o->live + 16;
    nd->committed_ns = calloc(nd->cap, sizeof *nd->committed_ns);
    sp_err rv = nd->committed_ns ? sp_key_generate(&nd->key, SP_KEY_ED25519) : SP_ERR_NOMEM;
    if (rv == SP_OK) rv = sp_store_open(&nd->st, nd->dir, SP_NODE_CFS);
    if (rv == SP_OK) rv = sp_feedlog_open(&nd->log, nd->st, "kota-3577", nd->key);
    if (rv == SP_OK) rv = sp_complaints_open(&nd->c, nd->st, &env.ctx);
    if (rv != SP_OK) die("open the node", rv);
    nd->cfg.listen_stream = nd->pub;
    nd->cfg.listen_replay = nd->rep;
    nd->parts = (sp_daemon_parts){.cfg = &nd->cfg,
                                  .topo = env.topo,
                                  .store = nd->st,
                                  .log = nd->log,
                                  .sign_key = nd->key,
                                  .complaints = nd->c,
                                  .fold = &env.ctx};
    nd->parts.self = sp_topology_find(env.topo, "kota-3577");
    if ((rv = sp_node_stream_start(&nd->stream, &nd->parts)) != SP_OK) die("stream", rv);
    sp_feedlog_hooks hooks = {on_stage, on_committed, nd};
    sp_feedlog_set_hooks(nd->log, &hooks);
}

static void node_close(node *nd, const options *o) {
    sp_feedlog_set_tagger(nd->log, NULL, NULL);
    sp_stream_stop(nd->stream);
    sp_complaints_close(nd->c);
    sp_feedlog_close(nd->log);
    sp_store_close(nd->st);
    sp_key_free(nd->key);
    if (!o->dir) sp_test_rmrf(nd->dir);
    free(nd->committed_ns);
}

/* ---- the workload: lifecycle event bodies, authored in batches ---- */

typedef struct {
    uint8_t **bodies;
    size_t *lens, n, next;
} workload;

static void generate(workload *w, size_t want) {
    sp_fold_event *ev = malloc((want + SP_TEST_STORY_MAX) * sizeof *ev);
    char(*ids)[SP_TRACKING_ID_MAX] = malloc((want / 4 + 16) * sizeof *ids);
    if (!ev || !ids) die("generate", SP_ERR_NOMEM);
    uint64_t rng = 42, start = sp_test_wib(2025, 1, 2, 8, 0);
    size_t n = 0, stories = 0;
    while (n < want && stories < want / 4 + 16) {
        uint64_t at = start + (sp_test_story_rand(&rng) % (730ull * 24 * 60)) * 60000ull;
        n += sp_test_story(&env.ctx, &rng, at, ids[stories++], ev + n);
    }
    sp_test_number_feeds(ev, n);
    sp_test_fill_ids(ev, n);
    w->bodies = malloc(n * sizeof *w->bodies);
    w->lens = malloc(n * sizeof *w->lens);
    if (!w->bodies || !w->lens) die("generate", SP_ERR_NOMEM);
    for (size_t i = 0; i < n; i++)
        if (sp_test_encode_event(&ev[i], &w->bodies[i], &w->lens[i]) != 0)
            die("encode", SP_ERR_NOMEM);
    w->n = n;
    free(ev);
    free(ids);
}

static void author(node *nd, workload *w, size_t count) {
    const uint8_t *bodies[BATCH];
    size_t lens[BATCH];
    for (size_t done = 0; done < count;) {
        size_t k = count - done < BATCH ? count - done : BATCH;
        for (size_t i = 0; i < k; i++, w->next = (w->next + 1) % w->n) {
            bodies[i] = w->bodies[w->next];
            lens[i] = w->lens[w->next];
        }
        sp_err rv = sp_feedlog_author(nd->log, bodies, lens, k, NULL);
        if (rv != SP_OK) die("author", rv);
        done += k;
    }
}

/* ---- 1. the raw limit ---- */

static int count_arrival(void *arg, uint64_t offset, const uint8_t *bytes, size_t len,
                         const char *tag) {
    size_t *n = arg;
    (void)offset, (void)bytes, (void)len, (void)tag;
    (*n)++;
    return 0;
}

static double raw_scan(node *nd) {
    size_t n = 0;
    double t0 = sp_bench_now_s();
    sp_err rv = sp_feedlog_scan_stored(nd->log, 1, 0, count_arrival, &n);
    if (rv != SP_OK) die("scan", rv);
    return (double)n / (sp_bench_now_s() - t0);
}

/* ---- 2. replay ---- */

/* Read [from, to] through a client; checks the offsets. Returns events per second. */
static double replay(node *nd, uint64_t from, uint64_t to, const char *prefix, size_t *got) {
    sp_tail *t;
    sp_err rv = sp_tail_open(&t, nd->pub, nd->rep, prefix, from);
    if (rv != SP_OK) die("tail", rv);
    double t0 = sp_bench_now_s();
    uint64_t last = 0;
    *got = 0;
    for (int idle = 0; sp_tail_position(t) <= to;) {
        sp_stream_event ev;
        rv = sp_tail_next(t, 20, &ev);
        if (rv == SP_ERR_TIMEOUT && ++idle < 250) continue; /* a prefix skips offsets */
        if (rv != SP_OK) die("replay stalled", rv);
        idle = 0;
        if (ev.offset <= last) die("replay: an offset twice or out of order", SP_ERR_CORRUPT);
        last = ev.offset;
        (*got)++;
        sp_stream_event_clear(&ev);
    }
    double rate = (double)*got / (sp_bench_now_s() - t0);
    sp_tail_close(t);
    return rate;
}

/* ---- 3. live ---- */

typedef struct {
    node *nd;
    uint64_t from, to;
    uint64_t *delay_ns; /* one per event */
    size_t n, live;
    double done_s;
    atomic_int *ready;
} client;

static void *follow(void *arg) {
    client *c = arg;
    sp_tail *t;
    sp_err rv = sp_tail_open(&t, c->nd->pub, c->nd->rep, "", c->from);
    if (rv != SP_OK) die("tail", rv);
    sp_stream_event ev;
    while (sp_tail_next(t, 50, &ev) == SP_OK)
        sp_stream_event_clear(&ev); /* connected */
    atomic_fetch_add(c->ready, 1);
    uint64_t expect = c->from;
    while (expect <= c->to) {
        rv = sp_tail_next(t, 10000, &ev);
        if (rv != SP_OK) die("live client", rv);
        uint64_t at = now_ns(), committed = atomic_load(&c->nd->committed_ns[ev.offset]);
        if (ev.offset != expect) die("live: an offset missing or twice", SP_ERR_CORRUPT);
        c->delay_ns[c->n++] = at > committed ? at - committed : 0;
        c->live += ev.live;
        expect++;
        sp_stream_event_clear(&ev);
    }
    c->done_s = sp_bench_now_s();
    sp_tail_close(t);
    return NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void live(node *nd, workload *w, size_t count, int k) {
    client cl[MAX_CLIENTS];
    pthread_t th[MAX_CLIENTS];
    atomic_int ready = 0;
    uint64_t head = sp_feedlog_head(nd->log, "kota-3577", NULL); /* one feed: offsets = seqs */
    for (int i = 0; i < k; i++) {
        cl[i] =
            (client){nd, head + 1, head + count, malloc(count * sizeof(uint64_t)), 0, 0, 0, &ready};
        if (!cl[i].delay_ns || pthread_create(&th[i], NULL, follow, &cl[i]) != 0)
            die("client", SP_ERR_NOMEM);
    }
    while (atomic_load(&ready) < k)
        usleep(1000);
    usleep(200000); /* the SUB sockets are connected */
    double t0 = sp_bench_now_s();
    author(nd, w, count);
    double authored = sp_bench_now_s() - t0, last = t0;
    uint64_t *all = malloc((size_t)k * count * sizeof *all);
    size_t n = 0, live_n = 0;
    for (int i = 0; i < k; i++) {
        pthread_join(th[i], NULL);
        memcpy(all + n, cl[i].delay_ns, cl[i].n * sizeof *all);
        n += cl[i].n;
        live_n += cl[i].live;
        if (cl[i].done_s > last) last = cl[i].done_s;
        free(cl[i].delay_ns);
    }
    qsort(all, n, sizeof *all, cmp_u64);
    printf("  live, %2d client%s: published %9.0f events/s; every client had all %zu at %9.0f "
           "events/s; commit -> client p50 %.2f ms, p99 %.2f ms (%.1f %% of deliveries live, "
           "the rest replayed)\n",
           k, k > 1 ? "s" : " ", (double)count / authored, count, (double)count / (last - t0),
           (double)all[n / 2] / 1e6, (double)all[n * 99 / 100] / 1e6,
           100.0 * (double)live_n / (double)n);
    free(all);
}

static void parse(int argc, char **argv, options *o) {
    *o = (options){.events = 500000, .live = 100000};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--smoke") == 0) {
            o->smoke = 1;
            o->events = 5000;
            o->live = 2000;
        } else if (strcmp(a, "--events") == 0 && v) {
            o->events = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(a, "--live") == 0 && v) {
            o->live = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(a, "--dir") == 0 && v) {
            o->dir = argv[++i];
        } else {
            fprintf(stderr, "usage: bench_stream [--smoke] [--events N] [--live N] [--dir DIR]\n");
            exit(2);
        }
    }
}

int main(int argc, char **argv) {
    options o;
    parse(argc, argv, &o);
    sp_log_set_level(SP_LOG_WARN);
    if (sp_test_fold_env_init(&env) != 0) die("topology", SP_ERR_CONFIG);
    workload w = {0};
    generate(&w, o.events < 200000 ? o.events : 200000); /* bodies reused round-robin */
    node nd = {0};
    node_open(&nd, &o);
    double t0 = sp_bench_now_s();
    author(&nd, &w, o.events);
    printf("bench_stream: %zu events authored with the fold and topics in %.1f s\n", o.events,
           sp_bench_now_s() - t0);
    double raw = raw_scan(&nd);
    printf("  raw: stored arrivals iterated with topics and envelopes %7.0f events/s  100.0 %%\n",
           raw);
    size_t got;
    double all = replay(&nd, 1, o.events, "", &got);
    if (got != o.events) die("replay: not every event", SP_ERR_CORRUPT);
    printf("  replay from offset 1, no prefix (%zu events)      %10.0f events/s  %5.1f %%  "
           "(target >= 500,000)\n",
           got, all, 100 * all / raw);
    double some =
        replay(&nd, 1, o.events, "35.", &got) * (double)o.events / (double)(got ? got : 1);
    printf("  replay from offset 1, prefix \"35.\" (%zu matching) %10.0f offsets/s\n", got, some);
    live(&nd, &w, o.live, 1);
    live(&nd, &w, o.live, MAX_CLIENTS);
    node_close(&nd, &o);
    sp_test_fold_env_free(&env);
    return 0;
}
