/*
 * What every benchmark program needs: a monotonic clock, medians of repeated rounds, and the
 * limit every write path is compared against — RocksDB's own synced batch rate, measured in
 * the same run through broker/store.h.
 */
#ifndef SP_BENCH_UTIL_H
#define SP_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "broker/store.h"

static inline double sp_bench_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int sp_bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n) (sorts v). */
static inline double sp_bench_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, sp_bench_cmp_double);
    return v[n / 2];
}

/* Puts per second of WriteBatches of `batch` puts of value_len bytes, each batch fsynced, into
 * a new store in dir: the raw limit. Returns a negative rate (and says why) on a store error. */
static inline double sp_bench_raw_synced(const char *dir, size_t events, size_t batch,
                                         size_t value_len) {
    sp_store *st = NULL; /* set only when the open succeeds */
    sp_err rv = sp_store_open(&st, dir, NULL);
    uint8_t *value = calloc(1, value_len ? value_len : 1), key[8];
    if (rv == SP_OK && !value) rv = SP_ERR_NOMEM;
    double t0 = sp_bench_now_s();
    for (size_t done = 0; rv == SP_OK && done < events; done += batch) {
        sp_wbatch *b = sp_wbatch_new(st);
        if (!b) rv = SP_ERR_NOMEM;
        for (size_t i = 0; b && i < batch; i++) {
            sp_put_be64(key, done + i);
            sp_wbatch_put(b, SP_CF_FEEDS, key, 8, value, value_len);
        }
        if (b) rv = sp_store_write(st, b, 1);
        sp_wbatch_free(b);
    }
    double rate = (double)events / (sp_bench_now_s() - t0);
    sp_store_close(st);
    free(value);
    if (rv != SP_OK) {
        fprintf(stderr, "raw RocksDB benchmark in %s: %s\n", dir, sp_strerror(rv));
        return -1;
    }
    return rate;
}

#endif
