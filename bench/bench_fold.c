/*
 * bench_fold: complaint fold throughput — ingest with and without the fold, incremental and
 * `rebuild` — against the feed log's own ingest and RocksDB's raw iteration, in one run.
 *
 *   bench_fold [--events N] [--batch B] [--ingest N] [--ingest-batch B] [--late PCT]
 *              [--dir DIR] [--seed S] [--keep] [--smoke] [--feeds-only]
 *   bench_fold --rebuild-only --dir DIR     (what 2. runs in a child process)
 *
 * 1. generate N events of plausible lifecycles (node/lifecycle/fold_testutil.h: reroutes,
 *    escalations, auto-completions, appeals, comments) over the test federation (3 time zones),
 *    numbered per origin in hlc order;
 * 2. ingest: the first --ingest events (default all), signed by their origins, go through the
 *    real sp_feedlog_ingest of a national node as a replicator delivers them: pull rounds of
 *    --ingest-batch x origins events (hlc order), each origin's part of a round in runs of at
 *    most --ingest-batch (100) envelopes, one synced batch each (batch verification: one signature
 *    per run). Once without hooks, once with sp_complaints_stage as the stage hook like the
 *    daemon; the ratio is the fold's cost at ingest (target >= 50 %);
 * 3. incremental: batches of B events in delivery order, PCT % of them late (moved 1..2000
 *    positions back, like replication lag), go to the feeds column family and through
 *    sp_complaints_stage in one WriteBatch each, unsynced: the stage hook alone, and stage +
 *    RocksDB write. Peak RSS of this phase is measured above what the workload holds;
 * 4. raw: iterate the feeds column family, touching every key and value (the floor for any
 *    rebuild);
 * 5. rebuild: sp_complaints_rebuild (wipe, scan feeds -> event index, fold index -> states +
 *    stats) in a child process (--rebuild-only), whose peak RSS is the rebuild's;
 * 6. check that the rebuilt complaints and stats column families are byte-identical to the
 *    incremental ones, and those to what the ingest with the hook derived when it saw all the
 *    events (exit 1 otherwise).
 * --smoke: 20,000 events, all checks, a few seconds (the CTest smoke test).
 * --feeds-only: 3. stores the feeds without the stage hook (fast), for the rebuild's memory
 * and speed at sizes where the incremental path would take too long; nothing is compared.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "bench/bench_util.h"
#include "broker/feedlog.h"
#include "node/lifecycle/complaints.h"
#include "node/lifecycle/fold_testutil.h"
#include "tests/unit/testutil.h"

static void die(const char *what, sp_err rv) {
    fprintf(stderr, "bench_fold: %s: %s\n", what, sp_strerror(rv));
    exit(1);
}

typedef struct {
    size_t events, batch, ingest, ingest_batch;
    unsigned late_pct;
    const char *dir;
    uint64_t seed;
    int keep, smoke, rebuild_only, ingest_set, feeds_only;
} opts;

static void usage(void) {
    fprintf(stderr, "usage: bench_fold [--events N] [--batch B] [--ingest N] [--ingest-batch B] "
                    "[--late PCT] [--dir DIR] [--seed S] [--keep] [--smoke] [--feeds-only]\n"
                    "       bench_fold --rebuild-only --dir DIR\n");
    exit(2);
}

static void parse(int argc, char **argv, opts *o) {
    *o = (opts){.events = 1000000, .batch = 256, .ingest_batch = 100, .late_pct = 2, .seed = 42};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--events") == 0 && v) o->events = strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--batch") == 0 && v) o->batch = strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--ingest") == 0 && v) {
            o->ingest = strtoull(argv[++i], NULL, 10);
            o->ingest_set = 1;
        } else if (strcmp(a, "--ingest-batch") == 0 && v)
            o->ingest_batch = strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--late") == 0 && v) o->late_pct = (unsigned)atoi(argv[++i]);
        else if (strcmp(a, "--dir") == 0 && v) o->dir = argv[++i];
        else if (strcmp(a, "--seed") == 0 && v) o->seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--keep") == 0) o->keep = 1;
        else if (strcmp(a, "--smoke") == 0) o->smoke = 1;
        else if (strcmp(a, "--rebuild-only") == 0) o->rebuild_only = 1;
        else if (strcmp(a, "--feeds-only") == 0) o->feeds_only = 1;
        else usage();
    }
    if (o->smoke) o->events = 20000;
    if (!o->ingest_set) o->ingest = o->feeds_only ? 0 : SIZE_MAX; /* all the generated events */
    if (o->batch == 0 || o->batch > SP_MAX_BATCH_ENVELOPES) o->batch = 256;
    if (o->ingest_batch == 0 || o->ingest_batch > SP_MAX_BATCH_ENVELOPES) o->ingest_batch = 100;
    if (o->rebuild_only && !o->dir) usage();
}

/* ---- memory ---- */

/* A field of /proc/self/status in MiB (VmRSS, VmHWM); -1 when unreadable. */
static double status_mib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t n = strlen(field);
    double kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') kb = strtod(line + n + 1, NULL);
    if (f) fclose(f);
    return kb < 0 ? -1 : kb / 1024;
}

/* Start a new peak (VmHWM = VmRSS now), where the kernel allows it (Linux >= 4.0). */
static void reset_peak(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return;
    fputs("5", f);
    fclose(f);
}

/* ---- the workload ---- */

typedef struct {
    sp_fold_event *ev;
    size_t n;
    char (*ids)[SP_TRACKING_ID_MAX];
    size_t stories;
    uint8_t **bodies;
    size_t *lens;
    size_t *order; /* delivery order */
} workload;

static void generate(workload *w, const sp_test_fold_env *env, const opts *o) {
    size_t cap_stories = o->events / 4 + 16;
    w->ev = malloc((o->events + SP_TEST_STORY_MAX) * sizeof *w->ev);
    w->ids = malloc(cap_stories * sizeof *w->ids);
    if (!w->ev || !w->ids) die("generate", SP_ERR_NOMEM);
    uint64_t rng = o->seed ? o->seed : 1, start = sp_test_wib(2025, 1, 2, 8, 0);
    w->n = w->stories = 0;
    while (w->n < o->events && w->stories < cap_stories) {
        /* Filings spread over two years; each lifecycle runs days to months. */
        uint64_t at = start + (sp_test_story_rand(&rng) % (730ull * 24 * 60)) * 60000ull;
        w->n += sp_test_story(&env->ctx, &rng, at, w->ids[w->stories++], w->ev + w->n);
    }
    sp_test_number_feeds(w->ev, w->n);
    sp_test_fill_ids(w->ev, w->n);
    w->bodies = malloc(w->n * sizeof *w->bodies);
    w->lens = malloc(w->n * sizeof *w->lens);
    w->order = malloc(w->n * sizeof *w->order);
    for (size_t i = 0; i < w->n; i++) {
        if (sp_test_encode_event(&w->ev[i], &w->bodies[i], &w->lens[i]) != 0)
            die("encode", SP_ERR_NOMEM);
        w->order[i] = i;
    }
    for (size_t i = 0; i < w->n; i++) { /* late arrivals: swap an event far back */
        if (sp_test_story_rand(&rng) % 100 >= o->late_pct) continue;
        size_t j = i + 1 + sp_test_story_rand(&rng) % 2000;
        if (j >= w->n) continue;
        size_t t = w->order[i];
        w->order[i] = w->order[j];
        w->order[j] = t;
    }
}

static void workload_free(workload *w) {
    for (size_t i = 0; i < w->n; i++) free(w->bodies[i]);
    free(w->bodies);
    free(w->lens);
    free(w->order);
    free(w->ev);
    free(w->ids);
}

/* ---- 2. ingest through the feed log, with and without the fold ---- */

#define MAX_ORIGINS 64

typedef struct {
    const char *origin[MAX_ORIGINS];
    sp_key *key[MAX_ORIGINS];
    size_t n;
    sp_envelope *envs; /* signed, in delivery order (runs of one origin) */
    size_t *run_len;   /* the batches: run_len[i] envelopes each */
    size_t n_env, n_runs;
} feeds;

static size_t origin_index(feeds *f, const char *origin) {
    size_t i = 0;
    while (i < f->n && strcmp(f->origin[i], origin) != 0) i++;
    if (i == f->n) {
        if (f->n == MAX_ORIGINS) die("too many origins", SP_ERR_INVAL);
        f->origin[f->n] = origin;
        if (sp_key_generate(&f->key[f->n], SP_KEY_ED25519) != SP_OK) die("key", SP_ERR_NOMEM);
        f->n++;
    }
    return i;
}

/* Sign the first n events (hlc order: each origin's in seq order) and lay them out as a
 * replicator delivers them: per pull round, each origin's new events in runs of <= batch. */
static void make_feeds(feeds *f, const workload *w, size_t n, size_t batch) {
    memset(f, 0, sizeof *f);
    uint8_t prev[MAX_ORIGINS][SP_HASH_LEN] = {{0}};
    sp_envelope *signed_ = calloc(n ? n : 1, sizeof *signed_);
    size_t *idx = calloc(n ? n : 1, sizeof *idx);
    f->envs = calloc(n ? n : 1, sizeof *f->envs);
    f->run_len = calloc(n ? n : 1, sizeof *f->run_len);
    if (!signed_ || !idx || !f->envs || !f->run_len) die("feeds", SP_ERR_NOMEM);
    for (size_t i = 0; i < n; i++) {
        const sp_fold_event *e = &w->ev[i];
        size_t o = origin_index(f, e->origin);
        sp_envelope *env = &signed_[i];
        if (sp_envelope_init(env, e->origin, w->bodies[i], w->lens[i]) != SP_OK)
            die("envelope", SP_ERR_INVAL);
        env->seq = e->seq;
        env->hlc = e->hlc;
        memcpy(env->prev_hash, prev[o], SP_HASH_LEN);
        if (sp_envelope_sign(env, f->key[o]) != SP_OK || sp_envelope_hash(env, prev[o]) != SP_OK)
            die("sign", SP_ERR_INVAL);
        idx[i] = o;
    }
    size_t round = batch * f->n; /* a pull round: about one full run of each origin */
    for (size_t r = 0; r < n; r += round) {
        size_t end = r + round < n ? r + round : n;
        for (size_t o = 0; o < f->n; o++) {
            size_t in_run = 0;
            for (size_t i = r; i < end; i++) {
                if (idx[i] != o) continue;
                f->envs[f->n_env++] = signed_[i]; /* moves the body */
                if (in_run == 0) f->run_len[f->n_runs++] = 0;
                f->run_len[f->n_runs - 1]++;
                if (++in_run == batch) in_run = 0;
            }
        }
    }
    free(signed_);
    free(idx);
}

static void feeds_free(feeds *f) {
    sp_envelopes_free(f->envs, f->n_env);
    free(f->run_len);
    for (size_t i = 0; i < f->n; i++) sp_key_free(f->key[i]);
}

/* Events per second of ingesting f into a new national store in dir, with the fold as the
 * stage hook when ctx is not NULL. The store stays open in *out_st when out_st is not NULL. */
static double ingest(const char *dir, const feeds *f, const sp_fold_ctx *ctx, sp_store **out_st) {
    sp_store *st;
    sp_feedlog *log;
    sp_complaints *c = NULL;
    sp_err rv = sp_store_open(&st, dir, SP_NODE_CFS);
    /* A receiver outside the federation, so that every origin's feed is one it ingests. */
    if (rv == SP_OK) rv = sp_feedlog_open(&log, st, "bench-receiver", NULL);
    if (rv != SP_OK) die("open ingest store", rv);
    for (size_t o = 0; o < f->n; o++) {
        uint8_t pub[SP_PUBKEY_LEN];
        sp_key_raw_public(f->key[o], pub);
        if ((rv = sp_feedlog_add_origin_key(log, f->origin[o], pub)) != SP_OK)
            die("origin key", rv);
    }
    if (ctx) {
        if ((rv = sp_complaints_open(&c, st, ctx)) != SP_OK) die("complaints open", rv);
        sp_feedlog_hooks hooks = sp_complaints_hooks(c);
        sp_feedlog_set_hooks(log, &hooks);
    }
    sp_ingest_stats stats = {0};
    double t0 = sp_bench_now_s();
    for (size_t r = 0, at = 0; r < f->n_runs; at += f->run_len[r++])
        if ((rv = sp_feedlog_ingest(log, f->envs + at, f->run_len[r], &stats, NULL)) != SP_OK)
            die("ingest", rv);
    double rate = (double)f->n_env / (sp_bench_now_s() - t0);
    if (stats.accepted != f->n_env) {
        fprintf(stderr, "bench_fold: ingest accepted %zu of %zu\n", stats.accepted, f->n_env);
        exit(1);
    }
    sp_feedlog_close(log);
    sp_complaints_close(c);
    if (out_st)
        *out_st = st;
    else
        sp_store_close(st);
    return rate;
}
/* ---- 3. incremental ---- */

typedef struct {
    double stage_s, total_s;
    size_t records; /* derived records staged */
    sp_complaints_counters counters;
} incr_result;

static void incremental(sp_store *st, const sp_fold_ctx *ctx, const workload *w, size_t batch,
                        int feeds_only, incr_result *r) {
    sp_complaints *c;
    sp_err rv = sp_complaints_open(&c, st, ctx);
    if (rv != SP_OK) die("complaints open", rv);
    sp_envelope *envs = calloc(batch, sizeof *envs);
    const sp_envelope **ptrs = calloc(batch, sizeof *ptrs);
    uint64_t *offsets = calloc(batch, sizeof *offsets);
    memset(r, 0, sizeof *r);
    for (size_t done = 0; done < w->n; done += batch) {
        size_t k = w->n - done < batch ? w->n - done : batch;
        sp_wbatch *b = sp_wbatch_new(st);
        for (size_t i = 0; i < k; i++) { /* what the feed log does before the hook: untimed */
            const sp_fold_event *e = &w->ev[w->order[done + i]];
            size_t at = w->order[done + i];
            if ((rv = sp_envelope_init(&envs[i], e->origin, w->bodies[at], w->lens[at])) != SP_OK)
                die("envelope", rv);
            envs[i].seq = e->seq;
            envs[i].hlc = e->hlc;
            uint8_t key[SP_FEED_KEY_MAX], *buf;
            size_t len, klen = sp_feed_key(key, e->origin, e->seq);
            if ((rv = sp_envelope_encode(&envs[i], &buf, &len)) != SP_OK) die("encode", rv);
            sp_wbatch_put(b, SP_CF_FEEDS, key, klen, buf, len);
            free(buf);
            ptrs[i] = &envs[i];
            offsets[i] = done + i + 1;
        }
        size_t before = sp_wbatch_count(b);
        double t0 = sp_bench_now_s();
        if (!feeds_only && (rv = sp_complaints_stage(c, b, ptrs, offsets, k)) != SP_OK)
            die("stage", rv);
        r->records += sp_wbatch_count(b) - before;
        double t1 = sp_bench_now_s();
        if ((rv = sp_store_write(st, b, 0)) != SP_OK) die("write", rv);
        double t2 = sp_bench_now_s();
        r->stage_s += t1 - t0;
        r->total_s += t2 - t0;
        sp_wbatch_free(b);
        for (size_t i = 0; i < k; i++) sp_envelope_clear(&envs[i]);
    }
    sp_complaints_counters_get(c, &r->counters);
    sp_complaints_close(c);
    free(envs);
    free(ptrs);
    free(offsets);
}

/* ---- 4. raw iteration, 6. fingerprints ---- */

static double raw_scan(sp_store *st, size_t *count) {
    double t0 = sp_bench_now_s();
    sp_iter *it = sp_iter_new(st, SP_CF_FEEDS);
    uint64_t sum = 0;
    *count = 0;
    for (sp_iter_seek_first(it); sp_iter_valid(it); sp_iter_next(it)) {
        size_t kn, vn;
        const uint8_t *k = sp_iter_key(it, &kn), *v = sp_iter_value(it, &vn);
        sum += k[kn - 1] + v[vn - 1] + kn + vn; /* touch both */
        (*count)++;
    }
    sp_iter_free(it);
    double dt = sp_bench_now_s() - t0;
    if (sum == 42) fputc(' ', stderr); /* keep the loop */
    return dt;
}

static uint64_t fingerprint(sp_store *st, sp_cf cf, size_t *records) {
    uint64_t h = 1469598103934665603ull;
    sp_iter *it = sp_iter_new(st, cf);
    *records = 0;
    for (sp_iter_seek_first(it); sp_iter_valid(it); sp_iter_next(it)) {
        size_t kn, vn;
        const uint8_t *k = sp_iter_key(it, &kn), *v = sp_iter_value(it, &vn);
        for (size_t i = 0; i < kn; i++) h = (h ^ k[i]) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;
        for (size_t i = 0; i < vn; i++) h = (h ^ v[i]) * 1099511628211ull;
        (*records)++;
    }
    sp_iter_free(it);
    return h;
}

/* ---- 5. rebuild, with phase times ---- */

typedef struct {
    double t0, wipe_end, scan_end, fold_end;
} phases;

static void on_phase(void *arg, const char *phase, uint64_t done, uint64_t total) {
    phases *p = arg;
    if (!total || done != total) return; /* only phase ends */
    double t = sp_bench_now_s();
    if (strcmp(phase, "wipe") == 0) p->wipe_end = t;
    if (strcmp(phase, "scan") == 0) p->scan_end = t;
    if (strcmp(phase, "fold") == 0) p->fold_end = t;
}

static void report_incremental(const workload *w, const opts *o, const incr_result *inc,
                               double raw_rate, double rss_mib, double workload_mib) {
    double inc_stage = (double)w->n / inc->stage_s, inc_total = (double)w->n / inc->total_s;
    printf("  raw RocksDB iteration of feeds            %10.0f events/s  100.0 %%\n", raw_rate);
    printf("  incremental: stage hook (fold+reads)      %10.0f events/s  %5.1f %%\n", inc_stage,
           100 * inc_stage / raw_rate);
    printf("  incremental: stage + WriteBatch (no sync) %10.0f events/s  %5.1f %%\n", inc_total,
           100 * inc_total / raw_rate);
    printf("    (batches of %zu, %u%% late: %llu appends, %llu re-folds, %.1f derived records per "
           "event; peak RSS %.0f MiB, %.0f MiB of it the workload)\n",
           o->batch, o->late_pct, (unsigned long long)inc->counters.appended,
           (unsigned long long)inc->counters.refolds, (double)inc->records / (double)w->n, rss_mib,
           workload_mib);
}

/* --rebuild-only: rebuild DIR/data as `simpul rebuild` would, in this fresh process, and say
 * how fast and how much memory it took. */
static int rebuild_main(const opts *o) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/data", o->dir);
    sp_test_fold_env env;
    if (sp_test_fold_env_init(&env) != 0) die("fixture", SP_ERR_CONFIG);
    sp_store *st;
    sp_err rv = sp_store_open(&st, dir, SP_NODE_CFS);
    if (rv != SP_OK) die(dir, rv);
    phases ph = {.t0 = sp_bench_now_s()};
    sp_rebuild_result res;
    if ((rv = sp_complaints_rebuild(st, &env.ctx, on_phase, &ph, &res)) != SP_OK)
        die("rebuild", rv);
    double dt = sp_bench_now_s() - ph.t0, rate = (double)(res.events + res.skipped) / dt;
    sp_store_close(st);
    sp_test_fold_env_free(&env);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("  rebuild (wipe + scan + fold + write)      %10.0f events/s  (%.2f s)\n", rate, dt);
    printf("    wipe %.2f s, scan feeds -> event index %.2f s, fold index -> state + stats %.2f s;"
           " %llu states, %llu stats rows\n",
           ph.wipe_end - ph.t0, ph.scan_end - ph.wipe_end, ph.fold_end - ph.scan_end,
           (unsigned long long)res.complaints, (unsigned long long)res.stats_rows);
    printf("    rebuild process peak RSS %.0f MiB (VmHWM; ru_maxrss %.0f MiB)\n",
           status_mib("VmHWM"), (double)ru.ru_maxrss / 1024);
    return 0;
}

/* Run this program with --rebuild-only on dir in a child process; 0 when it succeeded. */
static int rebuild_child(const char *dir) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        char *args[] = {(char *)"bench_fold", (char *)"--rebuild-only", (char *)"--dir",
                        (char *)dir, NULL};
        execv("/proc/self/exe", args);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

typedef struct {
    uint64_t c, s;
    size_t crec, srec;
} prints;

static void take_prints(sp_store *st, prints *p) {
    p->c = fingerprint(st, SP_CF_COMPLAINTS, &p->crec);
    p->s = fingerprint(st, SP_CF_STATS, &p->srec);
}

static int same_prints(const prints *a, const prints *b) {
    return a->c == b->c && a->s == b->s && a->crec == b->crec && a->srec == b->srec;
}

/* 2.: the fold's cost at ingest. *with (when all events were ingested) gets the derived
 * state's fingerprints. Returns 0 when skipped. */
static int run_ingest(const opts *o, const workload *w, const sp_fold_ctx *ctx, prints *with) {
    if (!o->ingest) return 0;
    char d1[700], d2[700];
    snprintf(d1, sizeof d1, "%s/ingest-plain", o->dir);
    snprintf(d2, sizeof d2, "%s/ingest-fold", o->dir);
    feeds f;
    size_t n = o->ingest < w->n ? o->ingest : w->n;
    double t0 = sp_bench_now_s();
    make_feeds(&f, w, n, o->ingest_batch);
    printf("bench_fold: signed %zu envelopes of %zu origins in %.1f s; %zu synced batches "
           "(%.1f envelopes each)\n",
           f.n_env, f.n, sp_bench_now_s() - t0, f.n_runs, (double)f.n_env / (double)f.n_runs);
    sp_store *st;
    double plain = ingest(d1, &f, NULL, NULL), folded = ingest(d2, &f, ctx, &st);
    take_prints(st, with);
    sp_store_close(st);
    printf("  ingest, batch verification, no hook       %10.0f events/s  100.0 %%\n", plain);
    printf("  ingest + sp_complaints_stage (daemon)     %10.0f events/s  %5.1f %%  (target >= "
           "50 %%)\n",
           folded, 100 * folded / plain);
    feeds_free(&f);
    sp_test_rmrf(d1);
    sp_test_rmrf(d2);
    return n == w->n;
}

int main(int argc, char **argv) {
    opts o;
    parse(argc, argv, &o);
    if (o.rebuild_only) return rebuild_main(&o);
    sp_log_set_level(SP_LOG_ERROR);
    char tmp[256], dir[600];
    if (!o.dir) {
        if (!sp_test_tmpdir(tmp, "bench-fold")) die("mkdtemp", SP_ERR_IO);
        o.dir = tmp;
    }
    snprintf(dir, sizeof dir, "%s/data", o.dir);
    sp_test_fold_env env;
    if (sp_test_fold_env_init(&env) != 0) die("fixture", SP_ERR_CONFIG);
    workload w;
    double tg = sp_bench_now_s(), rss0 = status_mib("VmRSS");
    generate(&w, &env, &o);
    printf("bench_fold: generated %zu events of %zu complaints in %.1f s (seed %llu)\n", w.n,
           w.stories, sp_bench_now_s() - tg, (unsigned long long)o.seed);

    prints ing, inc_p, reb;
    int ingested_all = run_ingest(&o, &w, &env.ctx, &ing);

    sp_store *st;
    sp_err rv = sp_store_open(&st, dir, SP_NODE_CFS);
    if (rv != SP_OK) die(dir, rv);
    reset_peak();
    double workload_mib = status_mib("VmRSS") - rss0;
    incr_result inc;
    incremental(st, &env.ctx, &w, o.batch, o.feeds_only, &inc);
    double peak = status_mib("VmHWM");
    take_prints(st, &inc_p);
    size_t scanned;
    raw_scan(st, &scanned); /* warm the cache the same way for both measurements */
    double raw = raw_scan(st, &scanned);
    sp_store_close(st);
    if (o.feeds_only)
        printf("  feeds only (no stage hook): %.0f events/s stored\n", (double)w.n / inc.total_s);
    else
        report_incremental(&w, &o, &inc, (double)scanned / raw, peak, workload_mib);

    if (rebuild_child(o.dir) != 0) die("rebuild child", SP_ERR_IO);
    if ((rv = sp_store_open(&st, dir, SP_NODE_CFS)) != SP_OK) die(dir, rv);
    take_prints(st, &reb);
    sp_store_close(st);
    int same = o.feeds_only || same_prints(&inc_p, &reb),
        same_ingest = !ingested_all || o.feeds_only || same_prints(&ing, &inc_p);
    if (o.feeds_only)
        printf("  rebuild: %zu complaint records, %zu stats rows (not compared: --feeds-only)\n",
               reb.crec, reb.srec);
    else
        printf("  rebuild == incremental: %s (%zu complaint records, %zu stats rows)\n",
               same ? "byte-identical" : "DIFFERENT", inc_p.crec, inc_p.srec);
    if (ingested_all)
        printf("  ingest with the hook == incremental: %s\n",
               same_ingest ? "byte-identical" : "DIFFERENT");
    if (!o.keep) {
        sp_test_rmrf(o.dir);
    } else {
        char path[700];
        snprintf(path, sizeof path, "%s/topology.yaml", o.dir);
        FILE *f = fopen(path, "w");
        if (f) {
            fputs(sp_test_topology_yaml, f);
            fclose(f);
        }
        printf("  kept %s (topology in %s)\n", dir, path);
    }
    workload_free(&w);
    sp_test_fold_env_free(&env);
    return same && same_ingest ? 0 : 1;
}
