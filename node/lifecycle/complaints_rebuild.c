/*
 * `simpul rebuild`: recompute the complaints and stats column families from the feeds.
 *
 * Two passes, each in bounded memory whatever the number of events:
 *  1. scan: every stored envelope is decoded once and each complaint event goes to the event
 *     index (e/<id>/..., complaints_int.h) in bounded WriteBatches;
 *  2. fold: the index is walked in key order, which is complaint by complaint; each
 *     complaint's events are folded with sp_fold_run and its state written with the same
 *     writers as incremental maintenance, which is what makes the two byte-identical.
 *     Statistics accumulate in memory up to STATS_ROWS_MAX rows and are then added to what
 *     the stats column family holds (read-modify-write), so the accumulator stays bounded too.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "node/lifecycle/complaints_int.h"

#define PROGRESS_EVERY 65536
#define WIPE_BATCH 20000
#define SCAN_BATCH 32768    /* index records per write */
#define WRITE_BATCH 2048    /* complaints per write */
#define STATS_ROWS_MAX 16384 /* rows accumulated before they are added to the store (~7 MB) */
#define REFRESH_EVERY 262144 /* index records read before the iterator lets go of old memtables */

typedef struct {
    sp_store *st;
    const sp_fold_ctx *ctx;
    sp_rebuild_progress_fn progress;
    void *arg;
    sp__scope scope;
    sp_rebuild_result res;
} rebuild;

static void tell(rebuild *r, const char *phase, uint64_t done, uint64_t total) {
    if (r->progress) r->progress(r->arg, phase, done, total);
}

/* ---- wipe ---- */

/* Delete every record of cf; *n counts them (progress reports add up over both families). */
static sp_err wipe(rebuild *r, sp_cf cf, uint64_t *n) {
    sp_iter *it = sp_iter_new(r->st, cf);
    sp_wbatch *b = sp_wbatch_new(r->st);
    sp_err rv = it && b ? SP_OK : SP_ERR_NOMEM;
    for (sp_iter_seek_first(it); rv == SP_OK && sp_iter_valid(it); sp_iter_next(it)) {
        size_t kn;
        const uint8_t *k = sp_iter_key(it, &kn);
        sp_wbatch_delete(b, cf, k, kn);
        if (++*n % WIPE_BATCH == 0) {
            rv = sp_store_write(r->st, b, 0);
            sp_wbatch_clear(b);
            tell(r, "wipe", *n, 0);
        }
    }
    if (rv == SP_OK) rv = sp_iter_status(it);
    if (rv == SP_OK) rv = sp_store_write(r->st, b, 0);
    sp_iter_free(it);
    sp_wbatch_free(b);
    return rv;
}

/* ---- 1. scan: feeds -> event index ---- */

static sp_err scan_one(rebuild *r, sp_wbatch *b, const uint8_t *v, size_t vn) {
    sp_envelope env;
    sp_fold_event ev;
    sp_fold_body *body = NULL;
    char id[SP_TRACKING_ID_MAX];
    sp_err rv = sp_envelope_decode(&env, v, vn);
    if (rv != SP_OK) {
        sp_log_error("rebuild.bad_envelope", "error=%s", sp_errname(rv));
        return SP_ERR_CORRUPT;
    }
    rv = sp_fold_decode(&env, &ev, &body, id);
    if (rv == SP_OK && sp__scope_foreign(&r->scope, id)) {
        r->res.foreign++;
    } else if (rv == SP_OK) {
        rv = sp__put_event(b, id, &ev);
        r->res.events++;
    } else if (rv == SP_ERR_DECODE || rv == SP_ERR_NOT_FOUND) {
        r->res.skipped++;
        rv = SP_OK;
    }
    sp_fold_body_free(body);
    sp_envelope_clear(&env);
    return rv;
}

static sp_err scan_feeds(rebuild *r) {
    sp_iter *it = sp_iter_new(r->st, SP_CF_FEEDS);
    sp_wbatch *b = sp_wbatch_new(r->st);
    sp_err rv = it && b ? SP_OK : SP_ERR_NOMEM;
    uint64_t n = 0;
    for (sp_iter_seek_first(it); rv == SP_OK && sp_iter_valid(it); sp_iter_next(it)) {
        size_t vn;
        const uint8_t *v = sp_iter_value(it, &vn);
        rv = scan_one(r, b, v, vn);
        if (rv == SP_OK && sp_wbatch_count(b) >= SCAN_BATCH) {
            rv = sp_store_write(r->st, b, 0);
            sp_wbatch_clear(b);
        }
        if (++n % PROGRESS_EVERY == 0) tell(r, "scan", n, 0);
    }
    if (rv == SP_OK) rv = sp_iter_status(it);
    if (rv == SP_OK) rv = sp_store_write(r->st, b, 0);
    sp_iter_free(it);
    sp_wbatch_free(b);
    if (rv == SP_OK) tell(r, "scan", n, n);
    return rv;
}

/* ---- 2. fold: event index -> states and statistics ---- */

typedef struct {
    sp_wbatch *b;
    sp_stats_acc *acc;
    size_t pending;  /* complaints in b */
    uint64_t events;
} folder;

/* Write b; when the accumulator is full, add its rows to the store first (read-modify-write:
 * rows written before were committed by an earlier write). */
static sp_err commit(rebuild *r, folder *f, int last) {
    sp_err rv = SP_OK;
    if (last || sp_stats_acc_rows(f->acc) >= STATS_ROWS_MAX) {
        rv = sp__stats_flush(r->st, f->b, f->acc, 0, NULL, NULL);
        sp_stats_acc_reset(f->acc);
    }
    if (rv == SP_OK) rv = sp_store_write(r->st, f->b, last);
    sp_wbatch_clear(f->b);
    f->pending = 0;
    return rv;
}

static sp_err fold_one(rebuild *r, folder *f, const sp__events *e) {
    sp_complaint_state s;
    sp_err rv = sp_fold_run(r->ctx, e->id, e->ev, e->n, &s);
    if (rv == SP_OK) rv = sp__put_state(f->b, &s, NULL, 0);
    if (rv == SP_OK) rv = sp_stats_contribute(f->acc, &s, +1);
    f->events += e->n;
    r->res.complaints++;
    if (rv == SP_OK && ++f->pending == WRITE_BATCH) rv = commit(r, f, 0);
    if (f->events / PROGRESS_EVERY != (f->events - e->n) / PROGRESS_EVERY &&
        f->events < r->res.events)
        tell(r, "fold", f->events, r->res.events); /* the end is told once, below */
    return rv;
}

/* A new iterator at key k: the old one pinned the memtables that existed when it was made,
 * which this pass's own writes would otherwise keep in memory to the end. */
static sp_err refresh(rebuild *r, sp_iter **it, const uint8_t *k, size_t kn) {
    uint8_t key[SP__EKEY_MAX];
    if (kn > sizeof key) return SP_ERR_CORRUPT;
    memcpy(key, k, kn);
    sp_iter_free(*it);
    if (!(*it = sp_iter_new(r->st, SP_CF_COMPLAINTS))) return SP_ERR_NOMEM;
    sp_iter_seek(*it, key, kn);
    return sp_iter_status(*it);
}

static sp_err fold_index(rebuild *r) {
    folder f = {.b = sp_wbatch_new(r->st)};
    sp__events e = {0};
    sp_err rv = f.b ? sp_stats_acc_new(&f.acc) : SP_ERR_NOMEM;
    sp_iter *it = rv == SP_OK ? sp_iter_new(r->st, SP_CF_COMPLAINTS) : NULL;
    if (rv == SP_OK && !it) rv = SP_ERR_NOMEM;
    char id[SP_TRACKING_ID_MAX];
    size_t since = 0;
    for (sp_iter_seek(it, "e/", 2); rv == SP_OK && sp_iter_valid(it); sp_iter_next(it)) {
        size_t kn, vn;
        const uint8_t *k = sp_iter_key(it, &kn), *v;
        if (kn < 2 || memcmp(k, "e/", 2) != 0) break;
        if (!sp__event_key_id(k, kn, id)) rv = SP_ERR_CORRUPT;
        else if (e.n && strcmp(id, e.id) != 0) { /* the next complaint begins */
            rv = fold_one(r, &f, &e);
            sp__events_reset(&e);
            if (rv == SP_OK && since >= REFRESH_EVERY) {
                since = 0;
                if ((rv = refresh(r, &it, k, kn)) != SP_OK || !sp_iter_valid(it)) break;
                k = sp_iter_key(it, &kn); /* the same record */
            }
        }
        since++;
        v = sp_iter_value(it, &vn);
        if (rv == SP_OK && !e.n) memcpy(e.id, id, strlen(id) + 1);
        if (rv == SP_OK) rv = sp__events_add(&e, k, kn, v, vn);
    }
    if (rv == SP_OK && it) rv = sp_iter_status(it);
    if (rv == SP_OK && e.n) rv = fold_one(r, &f, &e);
    sp_iter_free(it);
    if (rv == SP_ERR_CORRUPT) sp_log_error("rebuild.bad_event_record", "complaint=%s", e.id);
    if (rv == SP_OK) rv = commit(r, &f, 1);
    if (rv == SP_OK) tell(r, "fold", f.events, r->res.events);
    sp__events_free(&e);
    sp_stats_acc_free(f.acc);
    sp_wbatch_free(f.b);
    return rv;
}

/* Statistics rows now in the stats column family. */
static sp_err count_rows(sp_store *st, uint64_t *n) {
    sp_iter *it = sp_iter_new(st, SP_CF_STATS);
    if (!it) return SP_ERR_NOMEM;
    *n = 0;
    for (sp_iter_seek_first(it); sp_iter_valid(it); sp_iter_next(it)) (*n)++;
    sp_err rv = sp_iter_status(it);
    sp_iter_free(it);
    return rv;
}

sp_err sp_complaints_rebuild(sp_store *st, const sp_fold_ctx *ctx, sp_rebuild_progress_fn progress,
                             void *arg, sp_rebuild_result *res) {
    if (!st || !ctx || !ctx->topo) return SP_ERR_INVAL;
    rebuild r = {.st = st, .ctx = ctx, .progress = progress, .arg = arg};
    uint64_t wiped = 0;
    sp_err rv = sp__scope_init(&r.scope, ctx);
    if (rv == SP_OK) rv = wipe(&r, SP_CF_COMPLAINTS, &wiped);
    if (rv == SP_OK) rv = wipe(&r, SP_CF_STATS, &wiped);
    if (rv == SP_OK) tell(&r, "wipe", wiped, wiped);
    if (rv == SP_OK) rv = scan_feeds(&r);
    if (rv == SP_OK) rv = fold_index(&r);
    if (rv == SP_OK) rv = count_rows(st, &r.res.stats_rows);
    if (rv == SP_OK) rv = sp__write_format(st);
    if (rv == SP_OK && res) *res = r.res;
    sp__scope_free(&r.scope);
    return rv;
}
