/*
 * bench_log: the feed log's write paths against RocksDB's own synced batch rate, in one run.
 *
 *   bench_log [--smoke] [--events N] [--batch B] [--rounds R] [--dir DIR]
 *
 * --smoke: the same runs at a tiny size (2,000 events, one round), for CTest; the checks stay.
 *
 * 1. raw:     WriteBatch of B puts (envelope-sized values) + fsync, through node/store (the limit)
 * 2. author:  sp_feedlog_author, B events per call: seq, HLC, chain hash, Ed25519 sign, fsync
 * 3. ingest, per-envelope verification: each batch holds one envelope from each of B origins,
 *    so every envelope is a run of one and costs one signature check
 * 4. ingest, batch verification: each batch is B consecutive envelopes of one origin, so the run
 *    costs one signature check plus B hash links
 * Every figure is printed with its ratio to (1). Events are pre-signed outside the timed part.
 * fsync latency is noisy on shared disks, so each measurement is repeated (--rounds, default 3)
 * in fresh directories, interleaved, and the median is reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "bench/bench_util.h"
#include "broker/feedlog.h"
#include "broker/hlc.h"
#include "tests/unit/testutil.h"

#define BODY_LEN 160 /* a typical event body: a short complaint action */

static void die(const char *what, sp_err rv) {
    fprintf(stderr, "bench_log: %s: %s\n", what, sp_strerror(rv));
    exit(1);
}

static void subdir(char *out, const char *base, const char *name, int round) {
    snprintf(out, 512, "%s/%s-%d", base, name, round);
}

static double bench_author(const char *dir, const sp_key *key, size_t events, size_t batch) {
    sp_store *st;
    sp_feedlog *log;
    sp_err rv = sp_store_open(&st, dir, NULL);
    if (rv == SP_OK) rv = sp_feedlog_open(&log, st, "kota-3577", key);
    if (rv != SP_OK) die("open author", rv);
    uint8_t body[BODY_LEN] = {0};
    const uint8_t **bodies = malloc(batch * sizeof *bodies);
    size_t *lens = malloc(batch * sizeof *lens);
    for (size_t i = 0; i < batch; i++) bodies[i] = body, lens[i] = BODY_LEN;
    double t0 = sp_bench_now_s();
    for (size_t done = 0; done < events; done += batch)
        if ((rv = sp_feedlog_author(log, bodies, lens, batch, NULL)) != SP_OK) die("author", rv);
    double rate = (double)events / (sp_bench_now_s() - t0);
    if (sp_feedlog_head(log, "kota-3577", NULL) != events) {
        fprintf(stderr, "bench_log: authored %zu events, the feed's head is %llu\n", events,
                (unsigned long long)sp_feedlog_head(log, "kota-3577", NULL));
        exit(1);
    }
    free(bodies);
    free(lens);
    sp_feedlog_close(log);
    sp_store_close(st);
    return rate;
}

/* Pre-sign `per_origin` events for each of `origins` origins: envs[o * per_origin + k]. */
static sp_envelope *make_feeds(sp_key **keys, size_t origins, size_t per_origin) {
    sp_envelope *envs = calloc(origins * per_origin, sizeof *envs);
    uint8_t body[BODY_LEN] = {0};
    for (size_t o = 0; o < origins; o++) {
        char id[32];
        uint8_t prev[SP_HASH_LEN] = {0};
        snprintf(id, sizeof id, "kota-%04zu", o);
        for (size_t k = 0; k < per_origin; k++) {
            sp_envelope *e = &envs[o * per_origin + k];
            sp_envelope_init(e, id, body, BODY_LEN);
            e->seq = k + 1;
            e->hlc = sp_hlc_make(1760000000000ULL + k, (uint16_t)o);
            memcpy(e->prev_hash, prev, SP_HASH_LEN);
            sp_envelope_sign(e, keys[o]);
            sp_envelope_hash(e, prev);
        }
    }
    return envs;
}

static sp_feedlog *open_receiver(const char *dir, sp_store **st, sp_key **keys, size_t origins) {
    sp_feedlog *log;
    sp_err rv = sp_store_open(st, dir, NULL);
    if (rv == SP_OK) rv = sp_feedlog_open(&log, *st, "national", NULL);
    if (rv != SP_OK) die("open ingest", rv);
    for (size_t o = 0; o < origins; o++) {
        char id[32];
        uint8_t pub[SP_PUBKEY_LEN];
        snprintf(id, sizeof id, "kota-%04zu", o);
        sp_key_raw_public(keys[o], pub);
        sp_feedlog_add_origin_key(log, id, pub);
    }
    return log;
}

/* interleaved: batch i holds envelope k of every origin (runs of one); else one origin's run. */
static double bench_ingest(const char *dir, sp_key **keys, const sp_envelope *envs, size_t origins,
                           size_t per_origin, int interleaved) {
    sp_store *st;
    sp_feedlog *log = open_receiver(dir, &st, keys, origins);
    size_t total = origins * per_origin, batch = origins;
    sp_envelope *order = malloc(total * sizeof *order);
    for (size_t i = 0; i < total; i++) /* shallow copies: bodies stay owned by envs */
        order[i] = interleaved ? envs[(i % origins) * per_origin + i / origins] : envs[i];
    sp_ingest_stats stats = {0};
    double t0 = sp_bench_now_s();
    for (size_t done = 0; done < total; done += batch) {
        sp_err rv = sp_feedlog_ingest(log, order + done, batch, &stats, NULL);
        if (rv != SP_OK) die("ingest", rv);
    }
    double rate = (double)total / (sp_bench_now_s() - t0);
    if (stats.accepted != total) {
        fprintf(stderr, "bench_log: only %zu of %zu accepted\n", stats.accepted, total);
        exit(1);
    }
    free(order);
    sp_feedlog_close(log);
    sp_store_close(st);
    return rate;
}

static void usage(void) {
    fputs("usage: bench_log [--smoke] [--events N] [--batch B] [--rounds R] [--dir DIR]\n", stderr);
    exit(2);
}

int main(int argc, char **argv) {
    size_t events = 100000, batch = 100;
    int rounds = 3;
    const char *base = NULL;
    for (int i = 1; i < argc; i++) /* --smoke first: the options given still apply */
        if (strcmp(argv[i], "--smoke") == 0) events = 2000, rounds = 1;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--smoke") == 0) continue;
        if (!v) usage();
        if (strcmp(argv[i], "--events") == 0)
            events = strtoul(v, NULL, 10);
        else if (strcmp(argv[i], "--batch") == 0)
            batch = strtoul(v, NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0)
            base = v;
        else if (strcmp(argv[i], "--rounds") == 0)
            rounds = atoi(v);
        else
            usage();
        i++;
    }
    if (batch == 0 || events < batch) usage();
    sp_log_set_level(SP_LOG_ERROR);
    events -= events % batch;
    char tmp[256], d[512];
    if (!base) base = sp_test_tmpdir(tmp, "bench-log");
    sp_key **keys = calloc(batch, sizeof *keys);
    for (size_t o = 0; o < batch; o++) sp_key_generate(&keys[o], SP_KEY_ED25519);
    size_t per_origin = events / batch;
    fprintf(stderr, "signing %zu envelopes for the ingest runs...\n", events);
    sp_envelope *envs = make_feeds(keys, batch, per_origin);

    if (rounds < 1 || rounds > 15) rounds = 3;
    double r_raw[15], r_author[15], r_each[15], r_run[15];
    for (int r = 0; r < rounds; r++) {
        subdir(d, base, "raw", r);
        r_raw[r] = sp_bench_raw_synced(d, events, batch, BODY_LEN + 140);
        if (r_raw[r] < 0) exit(1);
        subdir(d, base, "author", r);
        r_author[r] = bench_author(d, keys[0], events, batch);
        subdir(d, base, "ingest-each", r);
        r_each[r] = bench_ingest(d, keys, envs, batch, per_origin, 1);
        subdir(d, base, "ingest-batch", r);
        r_run[r] = bench_ingest(d, keys, envs, batch, per_origin, 0);
    }
    double raw = sp_bench_median(r_raw, rounds), author = sp_bench_median(r_author, rounds);
    double each = sp_bench_median(r_each, rounds), run = sp_bench_median(r_run, rounds);

    printf("bench_log: %zu events, %zu per batch, %d-byte bodies, one fsync per batch, "
           "median of %d rounds\n", events, batch, BODY_LEN, rounds);
    printf("  %-44s %10.0f /s  %5.1f %%\n", "raw RocksDB WriteBatch + fsync (puts)", raw, 100.0);
    printf("  %-44s %10.0f /s  %5.1f %%\n", "author: signed + stored events", author, 100 * author / raw);
    printf("  %-44s %10.0f /s  %5.1f %%\n", "ingest, per-envelope verification", each, 100 * each / raw);
    printf("  %-44s %10.0f /s  %5.1f %%\n", "ingest, batch verification", run, 100 * run / raw);
    sp_envelopes_free(envs, events);
    for (size_t o = 0; o < batch; o++) sp_key_free(keys[o]);
    free(keys);
    if (base == tmp) sp_test_rmrf(tmp);
    return 0;
}
