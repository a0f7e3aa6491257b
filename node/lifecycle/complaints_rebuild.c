/*
 * `simpul rebuild`: recompute the complaints and stats column families from the feeds.
 *
 * One pass over the feeds groups every complaint event by complaint (strings interned, one
 * sp_fold_event of ~100 bytes per event), then each complaint is folded once with sp_fold_run
 * and written with the same writers as incremental maintenance (complaints_int.h), which is
 * what makes the two byte-identical.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/strmap.h"
#include "node/lifecycle/complaints_int.h"

#define PROGRESS_EVERY 65536
#define WIPE_BATCH 20000
#define WRITE_BATCH 2048 /* complaints per write */

typedef struct {
    char id[SP_TRACKING_ID_MAX];
    sp_fold_event *ev;
    size_t n, cap;
} group;

typedef struct {
    sp_store *st;
    const sp_fold_ctx *ctx;
    sp_rebuild_progress_fn progress;
    void *arg;
    sp_strmap pool;   /* interned strings: text -> owned copy */
    sp_strmap by_id;  /* complaint id -> group */
    group **groups;
    size_t n_groups, cap_groups;
    sp_rebuild_result res;
} rebuild;

static void tell(rebuild *r, const char *phase, uint64_t done, uint64_t total) {
    if (r->progress) r->progress(r->arg, phase, done, total);
}

static void free_group(void *p) {
    group *g = p;
    if (g) free(g->ev);
    free(g);
}

static void rebuild_free(rebuild *r) {
    sp_strmap_free(&r->pool, free);
    sp_strmap_free(&r->by_id, free_group);
    free(r->groups);
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

/* ---- scan: group events by complaint ---- */

static const char *intern(rebuild *r, const char *s) {
    if (!*s) return "";
    const char *v = sp_strmap_get(&r->pool, s);
    if (v) return v;
    char *copy = strdup(s);
    if (!copy || sp_strmap_put(&r->pool, s, copy, NULL) != SP_OK) {
        free(copy);
        return NULL;
    }
    return copy;
}

static group *group_of(rebuild *r, const char *id) {
    group *g = sp_strmap_get(&r->by_id, id);
    if (g) return g;
    if (r->n_groups == r->cap_groups) {
        size_t cap = r->cap_groups ? r->cap_groups * 2 : 1024;
        group **v = realloc(r->groups, cap * sizeof *v);
        if (!v) return NULL;
        r->groups = v;
        r->cap_groups = cap;
    }
    if (!(g = calloc(1, sizeof *g))) return NULL;
    strcpy(g->id, id); /* ids from sp_fold_decode fit */
    if (sp_strmap_put(&r->by_id, id, g, NULL) != SP_OK) {
        free(g);
        return NULL;
    }
    r->groups[r->n_groups++] = g;
    return g;
}

/* Keep ev (its strings interned) in its complaint's group. */
static sp_err keep(rebuild *r, const char *id, const sp_fold_event *ev) {
    group *g = group_of(r, id);
    if (!g) return SP_ERR_NOMEM;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 8;
        sp_fold_event *v = realloc(g->ev, cap * sizeof *v);
        if (!v) return SP_ERR_NOMEM;
        g->ev = v;
        g->cap = cap;
    }
    sp_fold_event e = *ev;
    e.complaint = strcmp(ev->complaint, g->id) == 0 ? g->id : intern(r, ev->complaint);
    e.origin = intern(r, ev->origin);
    e.category = intern(r, ev->category);
    e.region = intern(r, ev->region);
    e.agency = intern(r, ev->agency);
    e.reason = intern(r, ev->reason);
    if (!e.complaint || !e.origin || !e.category || !e.region || !e.agency || !e.reason)
        return SP_ERR_NOMEM;
    g->ev[g->n++] = e;
    return SP_OK;
}

static sp_err scan_one(rebuild *r, const uint8_t *v, size_t vn) {
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
    if (rv == SP_OK) {
        rv = keep(r, id, &ev);
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
    if (!it) return SP_ERR_NOMEM;
    sp_err rv = SP_OK;
    uint64_t n = 0;
    for (sp_iter_seek_first(it); rv == SP_OK && sp_iter_valid(it); sp_iter_next(it)) {
        size_t vn;
        const uint8_t *v = sp_iter_value(it, &vn);
        rv = scan_one(r, v, vn);
        if (++n % PROGRESS_EVERY == 0) tell(r, "scan", n, 0);
    }
    if (rv == SP_OK) rv = sp_iter_status(it);
    sp_iter_free(it);
    if (rv == SP_OK) tell(r, "scan", n, n);
    return rv;
}

/* ---- fold and write ---- */

static sp_err fold_group(rebuild *r, const group *g, sp_wbatch *b, sp_stats_acc *acc) {
    sp_complaint_state s;
    sp_err rv = sp_fold_run(r->ctx, g->id, g->ev, g->n, &s);
    if (rv == SP_OK) rv = sp__put_state(b, &s, NULL, 0);
    if (rv == SP_OK) rv = sp_stats_contribute(acc, &s, +1);
    sp_state_clear(&s);
    return rv;
}

static sp_err fold_all(rebuild *r) {
    sp_wbatch *b = sp_wbatch_new(r->st);
    sp_stats_acc *acc = NULL;
    sp_err rv = b ? sp_stats_acc_new(&acc) : SP_ERR_NOMEM;
    uint64_t events = 0;
    for (size_t i = 0; rv == SP_OK && i < r->n_groups; i++) {
        rv = fold_group(r, r->groups[i], b, acc);
        events += r->groups[i]->n;
        if (rv == SP_OK && (i + 1) % WRITE_BATCH == 0) {
            rv = sp_store_write(r->st, b, 0);
            sp_wbatch_clear(b);
        }
        if ((i + 1) % (PROGRESS_EVERY / 8) == 0 && events < r->res.events)
            tell(r, "fold", events, r->res.events); /* the end is told once, below */
    }
    r->res.complaints = rv == SP_OK ? r->n_groups : 0;
    if (rv == SP_OK) rv = sp__stats_flush(r->st, b, acc, 1, &r->res.stats_rows);
    if (rv == SP_OK) rv = sp_store_write(r->st, b, 1);
    if (rv == SP_OK) tell(r, "fold", events, r->res.events);
    sp_stats_acc_free(acc);
    sp_wbatch_free(b);
    return rv;
}

sp_err sp_complaints_rebuild(sp_store *st, const sp_fold_ctx *ctx, sp_rebuild_progress_fn progress,
                             void *arg, sp_rebuild_result *res) {
    if (!st || !ctx || !ctx->topo) return SP_ERR_INVAL;
    rebuild r = {.st = st, .ctx = ctx, .progress = progress, .arg = arg};
    uint64_t wiped = 0;
    sp_err rv = wipe(&r, SP_CF_COMPLAINTS, &wiped);
    if (rv == SP_OK) rv = wipe(&r, SP_CF_STATS, &wiped);
    if (rv == SP_OK) tell(&r, "wipe", wiped, wiped);
    if (rv == SP_OK) rv = scan_feeds(&r);
    if (rv == SP_OK) rv = fold_all(&r);
    if (rv == SP_OK) rv = sp__write_format(st);
    if (rv == SP_OK && res) *res = r.res;
    rebuild_free(&r);
    return rv;
}
