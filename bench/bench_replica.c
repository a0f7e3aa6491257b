/*
 * bench_replica: replication between real nodes (issue 6), in one run.
 *
 *   bench_replica [--smoke] [--events N] [--catchup-events N] [--rounds R] [--dir DIR]
 *                 [--push-batch B] [--queue-limit Q] [--phases thr,lat,catchup]
 *                 [--lat-seconds S]
 *
 * Defaults: 200,000 events, 1,000,000 for catch-up, 3 rounds, a 10 s latency run, the
 * replicator's own defaults (push_batch 1000, queue_limit 100000). --phases runs a subset (the
 * raw limit always runs), e.g. to attach `perf record -p` to one phase. --smoke (for CTest): the
 * same phases and checks at 3,200 events, one round, a 1 s latency run; options still apply.
 *
 * Every node is what the daemon runs (own RocksDB store, feed log, replicator, NNG tcp sockets on
 * loopback ports chosen at run time), the way tests/integration/replicator_test.c runs several
 * of them in one process: the feed log's `committed` hook offers what it stored to the replicator.
 *
 * 1. raw:        WriteBatch of B puts + fsync (B = push batch), the limit, as in bench_log
 * 2. throughput: N pre-signed envelopes of ORIGINS origins ingested at node A (batches of
 *                INGEST_BATCH, one origin's run per batch); node B receives them by eager push
 *                (and anti-entropy if A's queue overflows), verified and fsynced. Timed from A's
 *                first write to B holding all N. Pre-signed, not authored at A: one feed's
 *                authoring is serial Ed25519 signing (~34k/s here, see bench_log), which would
 *                measure signing; a province or the national relays many origins' feeds anyway.
 * 3. latency:    kota -> province -> national, authored one at a time at the kota at LAT_RATE/s
 *                for --lat-seconds; delay from the author call to the national's commit hook.
 * 4. catch-up:   a node holding M events of ORIGINS origins (pre-signed in chunks on
 *                SIGN_THREADS threads and ingested in big batches; setup time reported), then an
 *                empty node joins as its peer; progress on stderr every second.
 * 1 and 2 are repeated --rounds times in fresh directories, interleaved, median reported
 * (fsync latency is noisy on shared disks); 3 and 4 run once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/log.h"
#include "bench/bench_util.h"
#include "broker/hlc.h"
#include "broker/replica_store.h"
#include "tests/unit/testutil.h"

#define BODY_LEN 160      /* a typical event body, as in bench_log */
#define ORIGINS 16        /* feeds relayed in the throughput and catch-up runs */
#define INGEST_BATCH 1000 /* envelopes per sp_feedlog_ingest call at the source node */
#define SETUP_CHUNK 4000  /* per origin per step when filling the catch-up source */
#define SIGN_THREADS 2    /* one per core: signing is the setup's bound */
#define LAT_RATE 200      /* events/s authored at the kota in the latency run */
#define STALL_S 60.0      /* a wait that sees no progress for this long is a failure */
#define MAX_PEERS 2

typedef struct {
    size_t events, catchup_events, push_batch, queue_limit;
    int rounds, lat_seconds;
    const char *base;
    const char *phases; /* which of "thr,lat,catchup" to run (for profiling one with perf) */
} options;

static int wanted(const options *o, const char *phase) {
    return strstr(o->phases, phase) != NULL;
}

/* ---- small helpers ---- */

static void die(const char *what, sp_err rv) {
    fprintf(stderr, "bench_replica: %s: %s\n", what, sp_strerror(rv));
    exit(1);
}

static void check(sp_err rv, const char *what) {
    if (rv != SP_OK) die(what, rv);
}

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    if (!p) die("calloc", SP_ERR_NOMEM);
    return p;
}

/* CPU seconds (user + system) used so far by the whole process: all nodes' threads. */
static double cpu_s(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Nearest-rank percentile of sorted v[0..n). */
static double percentile(const double *v, size_t n, double p) {
    size_t rank = (size_t)(p * (double)n + 0.999999);
    return v[rank == 0 ? 0 : rank - 1];
}

/* ---- watchdog ---- */

/* A benchmark that hangs (say, a node that never finishes shutting down) must fail loudly, not
 * sit there: each phase arms a deadline, and a thread aborts the run when one passes. The waits
 * on replication have their own stall check (STALL_S); this one covers everything else. */
static struct {
    pthread_mutex_t lock;
    char phase[64];
    double deadline; /* CLOCK_MONOTONIC s; 0: disarmed */
} watchdog = {PTHREAD_MUTEX_INITIALIZER, "", 0};

static void *watchdog_main(void *arg) {
    for (;;) {
        sp_test_sleep_ms(1000);
        pthread_mutex_lock(&watchdog.lock);
        if (watchdog.deadline > 0 && sp_bench_now_s() > watchdog.deadline) {
            fprintf(stderr, "bench_replica: %s did not finish in time (hung?), aborting\n",
                    watchdog.phase);
            abort(); /* a core dump shows where it hung */
        }
        pthread_mutex_unlock(&watchdog.lock);
    }
    return NULL;
}

static void watchdog_arm(const char *phase, int round, double seconds) {
    pthread_mutex_lock(&watchdog.lock);
    snprintf(watchdog.phase, sizeof watchdog.phase, "%s %d", phase, round);
    watchdog.deadline = sp_bench_now_s() + seconds;
    pthread_mutex_unlock(&watchdog.lock);
}

static void watchdog_start(void) {
    pthread_t t;
    if (pthread_create(&t, NULL, watchdog_main, NULL) != 0) die("watchdog thread", SP_ERR_NOMEM);
    pthread_detach(t);
}

/* ---- pre-signed feeds ---- */

/* One origin's feed as a generator: its key and where its chain stands. */
typedef struct {
    char id[SP_MAX_ORIGIN + 1];
    sp_key *key;
    uint64_t seq;              /* last seq generated */
    uint8_t prev[SP_HASH_LEN]; /* chain hash of that envelope */
} feed_gen;

static feed_gen *gens_new(size_t n) {
    feed_gen *g = xcalloc(n, sizeof *g);
    for (size_t i = 0; i < n; i++) {
        snprintf(g[i].id, sizeof g[i].id, "kota-%04zu", i);
        check(sp_key_generate(&g[i].key, SP_KEY_ED25519), "key");
    }
    return g;
}

static void gens_free(feed_gen *g, size_t n) {
    for (size_t i = 0; g && i < n; i++)
        sp_key_free(g[i].key);
    free(g);
}

/* Sign the next n envelopes of g's feed into out (the caller clears them). Bodies are
 * pseudo-random so that RocksDB's LZ4 does not get an unrealistically easy job. */
static sp_err feed_next(feed_gen *g, sp_envelope *out, size_t n) {
    uint8_t body[BODY_LEN];
    uint64_t x = 0x9e3779b97f4a7c15ULL ^ g->seq;
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < BODY_LEN; i++)
            body[i] = (uint8_t)((x = x * 6364136223846793005ULL + 1) >> 56);
        sp_envelope *e = &out[k];
        sp_err rv = sp_envelope_init(e, g->id, body, BODY_LEN);
        if (rv != SP_OK) return rv;
        e->seq = ++g->seq;
        e->hlc = sp_hlc_make(sp_wall_ms(), 0);
        memcpy(e->prev_hash, g->prev, SP_HASH_LEN);
        if ((rv = sp_envelope_sign(e, g->key)) != SP_OK) return rv;
        if ((rv = sp_envelope_hash(e, g->prev)) != SP_OK) return rv;
    }
    return SP_OK;
}

typedef struct {
    feed_gen *gens;
    size_t n_gens, per, first;
    sp_envelope *out;
    sp_err rv;
} sign_job;

static void *sign_worker(void *arg) {
    sign_job *j = arg;
    for (size_t g = j->first; g < j->n_gens && j->rv == SP_OK; g += SIGN_THREADS)
        j->rv = feed_next(&j->gens[g], j->out + g * j->per, j->per);
    return NULL;
}

/* The next `per` envelopes of every feed: out[g * per + k]. Feeds are independent chains, so
 * they are signed on SIGN_THREADS threads. */
static void sign_chunk(feed_gen *gens, size_t n_gens, size_t per, sp_envelope *out) {
    sign_job jobs[SIGN_THREADS];
    pthread_t th[SIGN_THREADS];
    for (int t = 0; t < SIGN_THREADS; t++) {
        jobs[t] = (sign_job){gens, n_gens, per, (size_t)t, out, SP_OK};
        if (t > 0 && pthread_create(&th[t], NULL, sign_worker, &jobs[t]) != 0)
            die("thread", SP_ERR_NOMEM);
    }
    sign_worker(&jobs[0]);
    for (int t = 1; t < SIGN_THREADS; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < SIGN_THREADS; t++)
        check(jobs[t].rv, "sign");
}

static void clear_all(sp_envelope *envs, size_t n) {
    for (size_t i = 0; i < n; i++)
        sp_envelope_clear(&envs[i]);
}

/* ---- nodes ---- */

typedef struct {
    char id[SP_MAX_ORIGIN + 1], dir[400], url[64];
    sp_key *key; /* the node's own signing key */
    sp_store *st;
    sp_feedlog *log;
    sp_replica_adapter adapter;
    sp_replica_store ops;
    _Atomic(sp_replicator *) rep; /* set after start; the hook may run on replicator threads */
    sp_peer_config peers[MAX_PEERS];
    size_t n_peers;
    atomic_size_t stored; /* envelopes committed by this node's log */
    const char *watch;    /* latency run: origin whose arrivals are timestamped... */
    double *arrived;      /* ...into arrived[seq] (CLOCK_MONOTONIC s), seq < watch_cap */
    size_t watch_cap;
} bnode;

/* Runs under the log's write lock, right after the batch is on disk: this is "stored". */
static void on_committed(void *arg, const sp_envelope *const *envs, const uint64_t *offsets,
                         size_t n) {
    bnode *b = arg;
    if (b->watch) {
        double t = sp_bench_now_s();
        for (size_t i = 0; i < n; i++)
            if (envs[i]->seq < b->watch_cap && strcmp(envs[i]->origin, b->watch) == 0)
                b->arrived[envs[i]->seq] = t;
    }
    atomic_fetch_add(&b->stored, n); /* after the stamps: whoever sees the count sees them */
    sp_replicator *rep = atomic_load(&b->rep);
    if (rep) sp_replicator_offer(rep, envs, n); /* as the daemon does: relay to the other peers */
}

static void node_open(bnode *b, const char *base, const char *id, const char *scenario, int round) {
    memset(b, 0, sizeof *b);
    snprintf(b->id, sizeof b->id, "%s", id);
    snprintf(b->dir, sizeof b->dir, "%s/%s-%s-%d", base, scenario, id, round);
    int port = sp_test_free_port();
    if (port < 0) die("free port", SP_ERR_NET);
    snprintf(b->url, sizeof b->url, "tcp://127.0.0.1:%d", port);
    check(sp_key_generate(&b->key, SP_KEY_ED25519), "node key");
    check(sp_store_open(&b->st, b->dir, NULL), b->dir);
    check(sp_feedlog_open(&b->log, b->st, b->id, b->key), "feedlog open");
    sp_feedlog_hooks hooks = {NULL, on_committed, b};
    sp_feedlog_set_hooks(b->log, &hooks);
    b->adapter = (sp_replica_adapter){b->log, NULL, NULL};
    sp_replica_store_init(&b->ops, &b->adapter);
}

static void node_trust(bnode *b, const char *origin, const sp_key *key) {
    uint8_t pub[SP_PUBKEY_LEN];
    check(sp_key_raw_public(key, pub), "public key");
    check(sp_feedlog_add_origin_key(b->log, origin, pub), origin);
}

static void node_trust_gens(bnode *b, const feed_gen *gens, size_t n) {
    for (size_t i = 0; i < n; i++)
        node_trust(b, gens[i].id, gens[i].key);
}

/* Peers both ways, and each trusts the other's own feed, as the topology would set up. */
static void node_link(bnode *a, bnode *b) {
    if (a->n_peers == MAX_PEERS || b->n_peers == MAX_PEERS) die("link", SP_ERR_INVAL);
    a->peers[a->n_peers++] = (sp_peer_config){.id = b->id, .address = b->url};
    b->peers[b->n_peers++] = (sp_peer_config){.id = a->id, .address = a->url};
    node_trust(a, b->id, b->key);
    node_trust(b, a->id, a->key);
}

static void node_start(bnode *b, const options *o) {
    /* Only the two knobs under test; sync interval and timeouts stay at the daemon's defaults. */
    sp_replicator_config cfg = {.self = b->id,
                                .listen = b->url,
                                .peers = b->peers,
                                .n_peers = b->n_peers,
                                .push_batch = o->push_batch,
                                .queue_limit = o->queue_limit};
    sp_replicator *rep;
    check(sp_replicator_start(&rep, &cfg, &b->ops), "replicator start");
    atomic_store(&b->rep, rep);
}

static void node_close(bnode *b) {
    sp_replicator_stop(atomic_exchange(&b->rep, NULL));
    sp_feedlog_close(b->log);
    sp_store_close(b->st);
    sp_key_free(b->key);
    free(b->arrived);
    sp_test_rmrf(b->dir);
}

/* Counters of b's link to its peer number i. */
static sp_peer_stats peer_stats(bnode *b, size_t i) {
    sp_peer_stats *ps, out;
    size_t n;
    check(sp_replicator_stats(atomic_load(&b->rep), &ps, &n, NULL), "stats");
    if (i >= n) die("stats: no such peer", SP_ERR_INVAL);
    out = ps[i];
    free(ps);
    return out;
}

/* Wait until b's link to every peer has completed a request (the first anti-entropy round). */
static void wait_connected(bnode *b) {
    for (size_t i = 0; i < b->n_peers; i++) {
        double t0 = sp_bench_now_s();
        while (!peer_stats(b, i).connected) {
            if (sp_bench_now_s() - t0 > STALL_S) die("peer never connected", SP_ERR_TIMEOUT);
            sp_test_sleep_ms(1);
        }
    }
}

/* Wait until b's log has committed `target` envelopes; with a label, print progress on stderr
 * every second. Dies if nothing moves for STALL_S. */
static void wait_stored(bnode *b, size_t target, const char *label) {
    size_t last = atomic_load(&b->stored);
    double moved = sp_bench_now_s(), start = moved, shown = moved;
    for (size_t have; (have = atomic_load(&b->stored)) < target; sp_test_sleep_ms(1)) {
        double t = sp_bench_now_s();
        if (have != last) last = have, moved = t;
        if (t - moved > STALL_S) {
            fprintf(stderr, "bench_replica: %s holds %zu of %zu, no progress for %.0f s\n", b->id,
                    have, target, STALL_S);
            exit(1);
        }
        if (label && t - shown >= 1.0) {
            shown = t;
            fprintf(stderr, "%s: %zu / %zu events held (%.1f %%), %.1f s\n", label, have, target,
                    100.0 * (double)have / (double)target, t - start);
        }
    }
}

/* Every feed of gens is complete at b, up to `per` (so nothing was lost or reordered). */
static void check_heads(bnode *b, const feed_gen *gens, size_t n, uint64_t per) {
    for (size_t i = 0; i < n; i++)
        if (sp_feedlog_head(b->log, gens[i].id, NULL) != per) {
            fprintf(stderr, "bench_replica: %s holds %s up to %llu, expected %llu\n", b->id,
                    gens[i].id, (unsigned long long)sp_feedlog_head(b->log, gens[i].id, NULL),
                    (unsigned long long)per);
            exit(1);
        }
}

/* Ingest envs (per envelopes of each of n_gens feeds, feed-major) at b in INGEST_BATCH runs,
 * round-robin over the feeds, as a relay receiving from many kota would. */
static void ingest_feeds(bnode *b, const sp_envelope *envs, size_t n_gens, size_t per) {
    for (size_t k = 0; k < per; k += INGEST_BATCH)
        for (size_t g = 0; g < n_gens; g++) {
            size_t n = per - k < INGEST_BATCH ? per - k : INGEST_BATCH;
            sp_ingest_stats st = {0};
            check(sp_feedlog_ingest(b->log, envs + g * per + k, n, &st, NULL), "ingest");
            if (st.accepted != n) die("ingest: not every envelope accepted", SP_ERR_REJECTED);
        }
}

/* ---- 1. the raw limit ---- */

static double bench_raw(const char *base, int round, size_t events, size_t batch) {
    char dir[400];
    snprintf(dir, sizeof dir, "%s/raw-%d", base, round);
    double rate = sp_bench_raw_synced(dir, events, batch, BODY_LEN + 140);
    if (rate < 0) die("raw RocksDB", SP_ERR_STORE);
    sp_test_rmrf(dir);
    return rate;
}

/* ---- 2. throughput A -> B ---- */

typedef struct {
    double rate;   /* end to end */
    double a_rate; /* A's own ingest, while replicating */
    double cores;  /* CPU used by the process over the run, in cores (the machine has 2) */
    sp_peer_stats a_to_b, b_from_a;
} thr_result;

static thr_result bench_throughput(const options *o, int round, feed_gen *gens,
                                   const sp_envelope *envs, size_t per) {
    bnode *a = xcalloc(2, sizeof *a), *b = a + 1;
    size_t total = ORIGINS * per;
    node_open(a, o->base, "node-a", "thr", round);
    node_open(b, o->base, "node-b", "thr", round);
    node_trust_gens(a, gens, ORIGINS);
    node_trust_gens(b, gens, ORIGINS);
    node_link(a, b);
    node_start(b, o);
    node_start(a, o);
    wait_connected(a);
    wait_connected(b);
    double t0 = sp_bench_now_s(), c0 = cpu_s();
    ingest_feeds(a, envs, ORIGINS, per);
    double t_a = sp_bench_now_s();
    wait_stored(b, total, NULL);
    double t1 = sp_bench_now_s(), c1 = cpu_s();
    check_heads(b, gens, ORIGINS, per);
    sp_test_sleep_ms(200); /* let the last replies update the counters before reading them */
    thr_result r = {(double)total / (t1 - t0), (double)total / (t_a - t0), (c1 - c0) / (t1 - t0),
                    peer_stats(a, 0), peer_stats(b, 0)};
    node_close(a);
    node_close(b);
    free(a);
    return r;
}

/* ---- 3. latency kota -> province -> national ---- */

typedef struct {
    size_t events;
    double p50, p90, p99, max; /* ms, author call to national commit */
    double author_p50;         /* ms, the kota's own author call (sign + fsync) */
} lat_result;

/* Author one event at t0 + i / LAT_RATE, for i in [0, n); authored[seq] = time of the call. */
static void author_paced(bnode *k, size_t n, double *authored, double *author_ms) {
    uint8_t body[BODY_LEN] = {1};
    const uint8_t *bodies[1] = {body};
    size_t lens[1] = {BODY_LEN};
    double t0 = sp_bench_now_s();
    for (size_t i = 0; i < n; i++) {
        double due = t0 + (double)i / LAT_RATE, t = sp_bench_now_s();
        if (due > t) sp_test_sleep_ms((long)((due - t) * 1000.0));
        sp_envelope env;
        t = sp_bench_now_s();
        check(sp_feedlog_author(k->log, bodies, lens, 1, &env), "author");
        author_ms[i] = (sp_bench_now_s() - t) * 1000.0;
        if (env.seq < n + 1) authored[env.seq] = t;
        sp_envelope_clear(&env);
    }
}

static lat_result bench_latency(const options *o) {
    size_t n = (size_t)LAT_RATE * (size_t)o->lat_seconds;
    bnode *k = xcalloc(3, sizeof *k), *p = k + 1, *nat = k + 2;
    node_open(k, o->base, "kota-3577", "lat", 0);
    node_open(p, o->base, "prov-35", "lat", 0);
    node_open(nat, o->base, "national", "lat", 0);
    node_link(k, p);
    node_link(p, nat);
    node_trust(nat, k->id, k->key); /* national verifies the kota's feed relayed by the province */
    nat->arrived = xcalloc(n + 1, sizeof *nat->arrived);
    nat->watch_cap = n + 1;
    nat->watch = k->id;
    node_start(nat, o);
    node_start(p, o);
    node_start(k, o);
    wait_connected(k);
    wait_connected(p);
    double *authored = xcalloc(n + 1, sizeof *authored), *delay = xcalloc(n, sizeof *delay);
    double *author_ms = xcalloc(n, sizeof *author_ms);
    author_paced(k, n, authored, author_ms);
    wait_stored(nat, n, NULL);
    for (size_t s = 1; s <= n; s++)
        delay[s - 1] = (nat->arrived[s] - authored[s]) * 1000.0;
    qsort(delay, n, sizeof *delay, sp_bench_cmp_double);
    qsort(author_ms, n, sizeof *author_ms, sp_bench_cmp_double);
    lat_result r = {n,
                    percentile(delay, n, 0.50),
                    percentile(delay, n, 0.90),
                    percentile(delay, n, 0.99),
                    delay[n - 1],
                    percentile(author_ms, n, 0.50)};
    free(authored);
    free(delay);
    free(author_ms);
    node_close(k);
    node_close(p);
    node_close(nat);
    free(k);
    return r;
}

/* ---- 4. catch-up of an empty node ---- */

typedef struct {
    size_t events;
    double setup_s, sign_s; /* filling the source; of which signing */
    double seconds, rate, cores;
    sp_peer_stats src_to_new, new_from_src;
} cu_result;

/* Fill src with per envelopes of each feed, SETUP_CHUNK per feed at a time (bounded memory). */
static void fill_source(bnode *src, feed_gen *gens, size_t per, cu_result *r) {
    sp_envelope *buf = xcalloc(ORIGINS * SETUP_CHUNK, sizeof *buf);
    double t0 = sp_bench_now_s(), shown = t0;
    for (size_t done = 0; done < per;) {
        size_t n = per - done < SETUP_CHUNK ? per - done : SETUP_CHUNK;
        double ts = sp_bench_now_s();
        sign_chunk(gens, ORIGINS, n, buf);
        r->sign_s += sp_bench_now_s() - ts;
        ingest_feeds(src, buf, ORIGINS, n);
        clear_all(buf, ORIGINS * n);
        done += n;
        if (sp_bench_now_s() - shown >= 1.0) {
            shown = sp_bench_now_s();
            fprintf(stderr, "catch-up setup: %zu / %zu events stored at the source, %.1f s\n",
                    done * ORIGINS, per * ORIGINS, shown - t0);
        }
    }
    r->setup_s = sp_bench_now_s() - t0;
    free(buf);
}

static cu_result bench_catchup(const options *o) {
    size_t per = o->catchup_events / ORIGINS;
    cu_result r = {.events = per * ORIGINS};
    feed_gen *gens = gens_new(ORIGINS);
    bnode *src = xcalloc(2, sizeof *src), *fresh = src + 1;
    node_open(src, o->base, "node-src", "catchup", 0);
    node_trust_gens(src, gens, ORIGINS);
    fill_source(src, gens, per, &r);
    node_open(fresh, o->base, "node-new", "catchup", 0);
    node_trust_gens(fresh, gens, ORIGINS);
    node_link(src, fresh);
    node_start(src, o); /* the source is up; the new node's first dial starts the clock */
    double t0 = sp_bench_now_s(), c0 = cpu_s();
    node_start(fresh, o);
    wait_stored(fresh, r.events, "catch-up");
    r.seconds = sp_bench_now_s() - t0;
    r.cores = (cpu_s() - c0) / r.seconds;
    r.rate = (double)r.events / r.seconds;
    check_heads(fresh, gens, ORIGINS, per);
    sp_test_sleep_ms(200);
    r.src_to_new = peer_stats(src, 0);
    r.new_from_src = peer_stats(fresh, 0);
    node_close(src);
    node_close(fresh);
    free(src);
    gens_free(gens, ORIGINS);
    return r;
}

/* ---- main ---- */

static options parse(int argc, char **argv) {
    options o = {200000, 1000000, 1000, 0, 3, 10, NULL, "thr,lat,catchup"};
    int smoke = 0;
    for (int i = 1; i < argc; i++) /* --smoke first: the options given still apply */
        if (strcmp(argv[i], "--smoke") == 0) {
            smoke = 1;
            o.events = o.catchup_events = 3200;
            o.rounds = o.lat_seconds = 1;
        }
    for (int i = 1; i < argc; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(k, "--smoke") == 0) {
            i--; /* takes no value */
            continue;
        }
        if (!v) { /* every other option takes a value */
            fprintf(stderr, "bench_replica: option %s needs a value\n", k);
            exit(2);
        }
        if (strcmp(k, "--events") == 0)
            o.events = strtoul(v, NULL, 10);
        else if (strcmp(k, "--catchup-events") == 0)
            o.catchup_events = strtoul(v, NULL, 10);
        else if (strcmp(k, "--rounds") == 0)
            o.rounds = atoi(v);
        else if (strcmp(k, "--dir") == 0)
            o.base = v;
        else if (strcmp(k, "--push-batch") == 0)
            o.push_batch = strtoul(v, NULL, 10);
        else if (strcmp(k, "--queue-limit") == 0)
            o.queue_limit = strtoul(v, NULL, 10);
        else if (strcmp(k, "--phases") == 0)
            o.phases = v;
        else if (strcmp(k, "--lat-seconds") == 0)
            o.lat_seconds = atoi(v);
        else {
            fprintf(stderr, "bench_replica: unknown option %s\n", k);
            exit(2);
        }
    }
    if (o.rounds < 1 || o.rounds > 15) o.rounds = 3;
    if (o.push_batch == 0 || o.push_batch > SP_MAX_BATCH_ENVELOPES) o.push_batch = 1000;
    if (o.lat_seconds < 1) o.lat_seconds = 10;
    if (o.events < (smoke ? ORIGINS : ORIGINS * INGEST_BATCH))
        o.events = smoke ? ORIGINS : ORIGINS * INGEST_BATCH;
    if (o.catchup_events < ORIGINS) o.catchup_events = ORIGINS;
    return o;
}

static uint64_t rejected(const sp_peer_stats *s) {
    uint64_t n = 0;
    for (int i = 0; i < SP_ERR__COUNT; i++)
        n += s->rejects[i];
    return n;
}

static void print_peer(const char *what, const sp_peer_stats *s) {
    printf("    %-34s sent %llu, received %llu, rejected %llu, queue dropped %llu, "
           "sync rounds %llu, failures %llu\n",
           what, (unsigned long long)s->sent_events, (unsigned long long)s->received_events,
           (unsigned long long)rejected(s), (unsigned long long)s->queue_dropped,
           (unsigned long long)s->sync_rounds, (unsigned long long)s->failures);
}

/* Raw limit and throughput over the rounds: medians, the spread, the median round's counters. */
typedef struct {
    size_t events;
    double raw, rate, a_rate, lo, hi;
    thr_result mid;
} thr_summary;

static void summarise(thr_summary *s, int rounds, double *raw, double *rate, double *a_rate,
                      const thr_result *thr) {
    for (int r = 0; r < rounds; r++) { /* the round whose rate is the median, before sorting */
        int below = 0;
        for (int q = 0; q < rounds; q++)
            below += rate[q] < rate[r];
        if (below == rounds / 2) s->mid = thr[r];
    }
    s->raw = sp_bench_median(raw, rounds);
    s->a_rate = sp_bench_median(a_rate, rounds);
    s->rate = sp_bench_median(rate, rounds);
    s->lo = rate[0]; /* sp_bench_median() sorted it */
    s->hi = rate[rounds - 1];
}

static thr_summary run_rounds(const options *o) {
    thr_summary s = {0};
    size_t per = o->events / ORIGINS;
    feed_gen *gens = gens_new(ORIGINS);
    sp_envelope *envs = NULL;
    if (wanted(o, "thr")) {
        fprintf(stderr, "signing %zu envelopes for the throughput runs...\n", ORIGINS * per);
        envs = xcalloc(ORIGINS * per, sizeof *envs);
        sign_chunk(gens, ORIGINS, per, envs);
    }
    double raw[15], rate[15] = {0}, a_rate[15] = {0};
    thr_result thr[15] = {0};
    for (int r = 0; r < o->rounds; r++) {
        watchdog_arm("raw + throughput round", r, 120 + (double)o->events / 2000);
        raw[r] = bench_raw(o->base, r, ORIGINS * per, o->push_batch);
        if (envs) thr[r] = bench_throughput(o, r, gens, envs, per);
        rate[r] = thr[r].rate;
        a_rate[r] = thr[r].a_rate;
        fprintf(stderr, "round %d: raw %.0f/s, replicated %.0f/s\n", r, raw[r], rate[r]);
    }
    s.events = ORIGINS * per;
    summarise(&s, o->rounds, raw, rate, a_rate, thr);
    if (envs) clear_all(envs, ORIGINS * per);
    free(envs);
    gens_free(gens, ORIGINS);
    return s;
}

static void report_thr(const options *o, const thr_summary *s) {
    printf("bench_replica: %d origins, %d-byte bodies, push_batch %zu, queue_limit %zu%s, "
           "tcp loopback, median of %d rounds\n",
           ORIGINS, BODY_LEN, o->push_batch, o->queue_limit ? o->queue_limit : (size_t)100000,
           o->queue_limit ? "" : " (default)", o->rounds);
    printf("  %-50s %9.0f /s  %5.1f %%\n", "raw RocksDB WriteBatch + fsync (puts)", s->raw, 100.0);
    if (!wanted(o, "thr")) return;
    char what[96];
    snprintf(what, sizeof what, "replicated A -> B, %zu events, end to end", s->events);
    printf("  %-50s %9.0f /s  %5.1f %%   (rounds %.0f-%.0f)\n", what, s->rate,
           100 * s->rate / s->raw, s->lo, s->hi);
    printf("  %-50s %9.0f /s  %5.1f %%\n", "  A's own ingest, meanwhile", s->a_rate,
           100 * s->a_rate / s->raw);
    printf("    CPU used during the median round: %.2f cores of 2\n", s->mid.cores);
    print_peer("A's link to B (median round):", &s->mid.a_to_b);
    print_peer("B's link to A:", &s->mid.b_from_a);
}

static void report_lat(const lat_result *lat) {
    char what[96];
    snprintf(what, sizeof what, "latency kota->prov->national, %zu ev @ %d/s", lat->events,
             LAT_RATE);
    printf("  %-50s p50 %.2f  p90 %.2f  p99 %.2f  max %.2f ms\n", what, lat->p50, lat->p90,
           lat->p99, lat->max);
    printf("  %-50s p50 %.2f ms\n", "  of which the kota's own author call", lat->author_p50);
}

static void report_cu(const cu_result *cu, double raw) {
    char what[96];
    snprintf(what, sizeof what, "catch-up of an empty node, %zu events", cu->events);
    printf("  %-50s %9.0f /s  %5.1f %%   (%.1f s)\n", what, cu->rate, 100 * cu->rate / raw,
           cu->seconds);
    printf("    CPU used: %.2f cores of 2\n", cu->cores);
    print_peer("source's link to the new node:", &cu->src_to_new);
    print_peer("new node's link to the source:", &cu->new_from_src);
    printf("    setup of the source: %.1f s (%.1f s of it signing on %d threads)\n", cu->setup_s,
           cu->sign_s, SIGN_THREADS);
}

int main(int argc, char **argv) {
    options o = parse(argc, argv);
    sp_log_set_level(SP_LOG_ERROR);
    watchdog_start();
    char tmp[256];
    if (!o.base && !(o.base = sp_test_tmpdir(tmp, "bench-replica"))) die("tmpdir", SP_ERR_IO);
    thr_summary thr = run_rounds(&o);
    lat_result lat = {0};
    cu_result cu = {0};
    if (wanted(&o, "lat")) {
        watchdog_arm("latency run", 0, o.lat_seconds + 120);
        fprintf(stderr, "latency run: %d s...\n", o.lat_seconds);
        lat = bench_latency(&o);
    }
    if (wanted(&o, "catchup")) {
        watchdog_arm("catch-up (setup included)", 0, 120 + (double)o.catchup_events / 2000);
        cu = bench_catchup(&o);
    }
    report_thr(&o, &thr);
    if (wanted(&o, "lat")) report_lat(&lat);
    if (wanted(&o, "catchup")) report_cu(&cu, thr.raw);
    if (o.base == tmp) sp_test_rmrf(tmp);
    return 0;
}
