/*
 * bench_fold: complaint fold throughput, incremental and `rebuild`, against RocksDB's raw
 * iteration speed over the same feeds in the same run.
 *
 *   bench_fold [--events N] [--batch B] [--late PCT] [--dir DIR] [--seed S] [--keep]
 *
 * 1. generate N events of plausible lifecycles (node/lifecycle/fold_testutil.h: reroutes, escalations,
 *    auto-completions, appeals, comments) over the test federation (3 time zones), numbered
 *    per origin in hlc order; PCT % of them arrive late (moved 1..2000 positions back in the
 *    delivery order, like replication lag), so the incremental path also re-folds;
 * 2. incremental: batches of B events go to the feeds column family and through
 *    sp_complaints_stage (the feed log's commit hook) in one WriteBatch each, unsynced.
 *    Reported: the stage hook alone, and stage + RocksDB write of events and derived records;
 * 3. raw: iterate the feeds column family, touching every key and value (the floor for any
 *    rebuild);
 * 4. rebuild: sp_complaints_rebuild (wipe, scan + decode + group, fold + write);
 * 5. check that the rebuilt complaints and stats column families are byte-identical to the
 *    incremental ones (exit 1 otherwise).
 * Signatures play no part in the fold, so envelopes are stored unsigned here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_util.h"
#include "node/lifecycle/complaints.h"
#include "node/lifecycle/fold_testutil.h"
#include "tests/unit/testutil.h"

static void die(const char *what, sp_err rv) {
    fprintf(stderr, "bench_fold: %s: %s\n", what, sp_strerror(rv));
    exit(1);
}

typedef struct {
    size_t events, batch;
    unsigned late_pct;
    const char *dir;
    uint64_t seed;
    int keep;
} opts;

static void parse(int argc, char **argv, opts *o) {
    *o = (opts){.events = 1000000, .batch = 256, .late_pct = 2, .seed = 42};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--events") == 0 && v) o->events = strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--batch") == 0 && v) o->batch = strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--late") == 0 && v) o->late_pct = (unsigned)atoi(argv[++i]);
        else if (strcmp(a, "--dir") == 0 && v) o->dir = argv[++i];
        else if (strcmp(a, "--seed") == 0 && v) o->seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--keep") == 0) o->keep = 1;
        else {
            fprintf(stderr, "usage: bench_fold [--events N] [--batch B] [--late PCT] [--dir DIR] "
                            "[--seed S] [--keep]\n");
            exit(2);
        }
    }
    if (o->batch == 0 || o->batch > SP_MAX_BATCH_ENVELOPES) o->batch = 256;
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

/* ---- 2. incremental ---- */

typedef struct {
    double stage_s, total_s;
    sp_complaints_counters counters;
} incr_result;

static void incremental(sp_store *st, const sp_fold_ctx *ctx, const workload *w, size_t batch,
                        incr_result *r) {
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
        double t0 = sp_bench_now_s();
        if ((rv = sp_complaints_stage(c, b, ptrs, offsets, k)) != SP_OK) die("stage", rv);
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

/* ---- 3. raw iteration, 5. fingerprints ---- */

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

/* ---- 4. rebuild, with phase times ---- */

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

static void report(const workload *w, const opts *o, const incr_result *inc,
                   const sp_rebuild_result *res, const phases *ph, double raw_rate,
                   double rebuild_s, size_t scanned) {
    double inc_stage = (double)w->n / inc->stage_s, inc_total = (double)w->n / inc->total_s;
    double rb_rate = (double)scanned / rebuild_s;
    printf("bench_fold: %zu events, %zu complaints, batches of %zu, %u%% late arrivals\n", w->n,
           (size_t)res->complaints, o->batch, o->late_pct);
    printf("  raw RocksDB iteration of feeds            %10.0f events/s  100.0 %%\n", raw_rate);
    printf("  incremental: stage hook (fold+reads)      %10.0f events/s  %5.1f %%\n", inc_stage,
           100 * inc_stage / raw_rate);
    printf("  incremental: stage + WriteBatch (no sync) %10.0f events/s  %5.1f %%\n", inc_total,
           100 * inc_total / raw_rate);
    printf("    (%llu appends, %llu re-folds for late events)\n",
           (unsigned long long)inc->counters.appended, (unsigned long long)inc->counters.refolds);
    printf("  rebuild (wipe + scan + fold + write)      %10.0f events/s  %5.1f %%  (%.2f s)\n",
           rb_rate, 100 * rb_rate / raw_rate, rebuild_s);
    printf("    wipe %.2f s, scan+decode+group %.2f s, fold+write %.2f s; %llu states, %llu stats "
           "rows\n",
           ph->wipe_end - ph->t0, ph->scan_end - ph->wipe_end, ph->fold_end - ph->scan_end,
           (unsigned long long)res->complaints, (unsigned long long)res->stats_rows);
}

int main(int argc, char **argv) {
    opts o;
    parse(argc, argv, &o);
    char tmp[256], dir[600];
    if (!o.dir) {
        if (!sp_test_tmpdir(tmp, "bench-fold")) die("mkdtemp", SP_ERR_IO);
        o.dir = tmp;
    }
    snprintf(dir, sizeof dir, "%s/data", o.dir);
    sp_test_fold_env env;
    if (sp_test_fold_env_init(&env) != 0) die("fixture", SP_ERR_CONFIG);
    workload w;
    double tg = sp_bench_now_s();
    generate(&w, &env, &o);
    printf("bench_fold: generated %zu events of %zu complaints in %.1f s (seed %llu)\n", w.n,
           w.stories, sp_bench_now_s() - tg, (unsigned long long)o.seed);
    sp_store *st;
    sp_err rv = sp_store_open(&st, dir, SP_NODE_CFS);
    if (rv != SP_OK) die(dir, rv);

    incr_result inc;
    incremental(st, &env.ctx, &w, o.batch, &inc);
    size_t crec, srec, crec2, srec2, scanned;
    uint64_t c1 = fingerprint(st, SP_CF_COMPLAINTS, &crec),
             s1 = fingerprint(st, SP_CF_STATS, &srec);

    raw_scan(st, &scanned); /* warm the cache the same way for both measurements */
    double raw = raw_scan(st, &scanned);
    phases ph = {.t0 = sp_bench_now_s()};
    sp_rebuild_result res;
    if ((rv = sp_complaints_rebuild(st, &env.ctx, on_phase, &ph, &res)) != SP_OK)
        die("rebuild", rv);
    double rebuild = sp_bench_now_s() - ph.t0;
    uint64_t c2 = fingerprint(st, SP_CF_COMPLAINTS, &crec2),
             s2 = fingerprint(st, SP_CF_STATS, &srec2);
    int same = c1 == c2 && s1 == s2 && crec == crec2 && srec == srec2;

    report(&w, &o, &inc, &res, &ph, (double)scanned / raw, rebuild, scanned);
    printf("  rebuild == incremental: %s (%zu complaint records, %zu stats rows)\n",
           same ? "byte-identical" : "DIFFERENT", crec, srec);
    sp_store_close(st);
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
    for (size_t i = 0; i < w.n; i++) free(w.bodies[i]);
    free(w.bodies);
    free(w.lens);
    free(w.order);
    free(w.ev);
    free(w.ids);
    sp_test_fold_env_free(&env);
    return same ? 0 : 1;
}
