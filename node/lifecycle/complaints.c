/*
 * Incremental maintenance of complaint state and statistics in the feed log's commit.
 */
#include "node/lifecycle/complaints.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "node/lifecycle/complaints_int.h"

const char *const sp_node_cfs[] = {"complaints", "stats", "intake", NULL};

#define CACHE_RECORDS 32768 /* hot states and rows kept by the stage (~30 MB at most) */

struct sp_complaints {
    sp_store *st;
    sp_fold_ctx ctx;
    sp_stats_acc *acc; /* reused by stage, which the feed log serialises */
    sp__events evs;    /* likewise: a late event's complaint, read back from the index */
    sp__cache cache;   /* likewise: hot states and statistics rows */
    sp__scope scope;   /* the complaints this node folds */
    atomic_uint_fast64_t events, skipped, foreign, appended, refolds;
};

/* ---- shared with rebuild and reads ---- */

sp_store *sp__complaints_store(sp_complaints *c) {
    return c->st;
}

const sp_fold_ctx *sp__complaints_ctx(sp_complaints *c) {
    return &c->ctx;
}

size_t sp__state_key(char *key, const char *id) {
    int n = snprintf(key, SP__CKEY_MAX, "s/%s", id);
    return n > 0 && n < SP__CKEY_MAX ? (size_t)n : 0;
}

size_t sp__index_keys(const sp_complaint_state *s, char keys[SP__INDEX_KEYS][SP__CKEY_MAX]) {
    if (s->status == SP_ST_NONE) return 0;
    size_t n = 0;
    snprintf(keys[n++], SP__CKEY_MAX, "i/S/%02u/%s", (unsigned)s->status, s->id);
    snprintf(keys[n++], SP__CKEY_MAX, "i/R/%s/%s", s->region, s->id);
    snprintf(keys[n++], SP__CKEY_MAX, "i/A/%s/%s", sp_fold_holder(s), s->id);
    uint64_t due = sp_fold_active_deadline(s);
    if (due) snprintf(keys[n++], SP__CKEY_MAX, "i/D/%016" PRIx64 "/%s", due, s->id);
    uint64_t number = sp_tracking_id_number(s->id);
    if (number) snprintf(keys[n++], SP__CKEY_MAX, "i/N/%s/%016" PRIx64, s->intake, number);
    return n;
}

static int has_key(char keys[SP__INDEX_KEYS][SP__CKEY_MAX], size_t n, const char *k) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i], k) == 0) return 1;
    return 0;
}

sp_err sp__put_state(sp_wbatch *b, const sp_complaint_state *s,
                     char old[SP__INDEX_KEYS][SP__CKEY_MAX], size_t n_old) {
    char key[SP__CKEY_MAX], idx[SP__INDEX_KEYS][SP__CKEY_MAX];
    uint8_t *buf;
    size_t len, klen = sp__state_key(key, s->id);
    if (!klen) return SP_ERR_INVAL;
    sp_err rv = sp_state_encode(s, &buf, &len);
    if (rv != SP_OK) return rv;
    sp_wbatch_put(b, SP_CF_COMPLAINTS, key, klen, buf, len);
    free(buf);
    size_t n = sp__index_keys(s, idx);
    for (size_t i = 0; i < n_old; i++)
        if (!has_key(idx, n, old[i])) sp_wbatch_delete(b, SP_CF_COMPLAINTS, old[i], strlen(old[i]));
    for (size_t i = 0; i < n; i++)
        if (!has_key(old, n_old, idx[i]))
            sp_wbatch_put(b, SP_CF_COMPLAINTS, idx[i], strlen(idx[i]), "", 0);
    return SP_OK;
}

sp_err sp__load_state(sp_store *st, const char *id, sp_complaint_state *out) {
    char key[SP__CKEY_MAX];
    uint8_t *val;
    size_t n, klen = sp__state_key(key, id);
    sp_state_init(out, id);
    if (!klen) return SP_ERR_NOT_FOUND;
    sp_err rv = sp_store_get(st, SP_CF_COMPLAINTS, key, klen, &val, &n);
    if (rv != SP_OK) return rv;
    rv = sp_state_decode(out, val, n);
    free(val);
    if (rv == SP_OK && strcmp(out->id, id) != 0) rv = SP_ERR_CORRUPT;
    if (rv != SP_OK) sp_log_error("complaints.bad_state", "id=%s error=%s", id, sp_errname(rv));
    return rv;
}

typedef struct {
    sp_store *st;
    sp_wbatch *b;
    int fresh;
    sp__cache *cache;
    uint64_t rows;
    sp_err rv;
} flush_ctx;

static int flush_row(void *arg, const char *key, const sp_stats *delta) {
    flush_ctx *f = arg;
    sp_stats cur = *delta, old;
    size_t klen = strlen(key);
    if (f->cache && sp__cache_get(f->cache, key, &old, sizeof old)) {
        sp_stats_add(&cur, &old, 1);
    } else if (!f->fresh) {
        uint8_t *val;
        size_t n;
        sp_err rv = sp_store_get(f->st, SP_CF_STATS, key, klen, &val, &n);
        if (rv == SP_OK) {
            rv = sp_stats_decode(&old, val, n);
            free(val);
            if (rv == SP_OK) sp_stats_add(&cur, &old, 1);
        }
        if (rv != SP_OK && rv != SP_ERR_NOT_FOUND) {
            f->rv = rv;
            return 1;
        }
    }
    if (f->cache) sp__cache_put(f->cache, key, &cur, sizeof cur); /* zero: as good as absent */
    if (sp_stats_is_zero(&cur)) {
        sp_wbatch_delete(f->b, SP_CF_STATS, key, klen);
        return 0;
    }
    uint8_t buf[SP_STATS_VALUE_MAX];
    sp_wbatch_put(f->b, SP_CF_STATS, key, klen, buf, sp_stats_encode(&cur, buf));
    f->rows++;
    return 0;
}

sp_err sp__stats_flush(sp_store *st, sp_wbatch *b, const sp_stats_acc *acc, int fresh,
                       sp__cache *cache, uint64_t *rows) {
    flush_ctx f = {st, b, fresh, cache, 0, SP_OK};
    sp_err rv = sp_stats_acc_each(acc, flush_row, &f);
    if (rows) *rows = f.rows;
    return rv != SP_OK ? rv : f.rv;
}

/* ---- the format of derived state ---- */

#define FORMAT_KEY "format"

sp_err sp__write_format(sp_store *st) {
    char v[16];
    int n = snprintf(v, sizeof v, "%u", (unsigned)SP_COMPLAINTS_FORMAT);
    sp_wbatch *b = sp_wbatch_new(st);
    if (!b) return SP_ERR_NOMEM;
    sp_wbatch_put(b, SP_CF_COMPLAINTS, FORMAT_KEY, strlen(FORMAT_KEY), v, (size_t)n);
    sp_err rv = sp_store_write(st, b, 1);
    sp_wbatch_free(b);
    return rv;
}

/* Whether the complaints column family holds anything at all. */
static sp_err cf_empty(sp_store *st, int *empty) {
    sp_iter *it = sp_iter_new(st, SP_CF_COMPLAINTS);
    if (!it) return SP_ERR_NOMEM;
    sp_iter_seek_first(it);
    *empty = !sp_iter_valid(it);
    sp_err rv = sp_iter_status(it);
    sp_iter_free(it);
    return rv;
}

sp_err sp_complaints_format(sp_complaints *c, uint32_t *found) {
    uint8_t *v = NULL;
    size_t n = 0;
    sp_err rv = sp_store_get(c->st, SP_CF_COMPLAINTS, FORMAT_KEY, strlen(FORMAT_KEY), &v, &n);
    if (rv == SP_ERR_NOT_FOUND) { /* state from before formats were recorded: format 1 */
        *found = 1;
        return SP_OK;
    }
    if (rv != SP_OK) return rv;
    char text[16];
    snprintf(text, sizeof text, "%.*s", (int)(n < 15 ? n : 15), (const char *)v);
    free(v);
    char *end;
    unsigned long f = strtoul(text, &end, 10);
    if (end == text || *end || f == 0 || f > UINT32_MAX) return SP_ERR_CORRUPT;
    *found = (uint32_t)f;
    return SP_OK;
}

/* A new store (nothing derived yet, not even a format record) starts in the current format;
 * an old one keeps what it has. */
static sp_err mark_new_store(sp_store *st) {
    int empty = 0;
    sp_err rv = cf_empty(st, &empty);
    return rv == SP_OK && empty ? sp__write_format(st) : rv;
}

/* ---- the handle ---- */

sp_err sp_complaints_open(sp_complaints **out, sp_store *st, const sp_fold_ctx *ctx) {
    if (!st || !ctx || !ctx->topo) return SP_ERR_INVAL;
    sp_err rv = mark_new_store(st);
    if (rv != SP_OK) return rv;
    sp_complaints *c = calloc(1, sizeof *c);
    if (!c) return SP_ERR_NOMEM;
    c->st = st;
    c->ctx = *ctx;
    c->cache.cap = CACHE_RECORDS;
    if (sp__scope_init(&c->scope, ctx) != SP_OK) {
        free(c);
        return SP_ERR_NOMEM;
    }
    if (sp_stats_acc_new(&c->acc) != SP_OK) {
        sp__scope_free(&c->scope);
        free(c);
        return SP_ERR_NOMEM;
    }
    *out = c;
    return SP_OK;
}

void sp_complaints_close(sp_complaints *c) {
    if (!c) return;
    sp__events_free(&c->evs);
    sp__cache_free(&c->cache);
    sp__scope_free(&c->scope);
    sp_stats_acc_free(c->acc);
    free(c);
}

sp_feedlog_hooks sp_complaints_hooks(sp_complaints *c) {
    return (sp_feedlog_hooks){.stage = sp_complaints_stage, .arg = c};
}

void sp_complaints_counters_get(sp_complaints *c, sp_complaints_counters *out) {
    out->events = atomic_load(&c->events);
    out->skipped = atomic_load(&c->skipped);
    out->foreign = atomic_load(&c->foreign);
    out->appended = atomic_load(&c->appended);
    out->refolds = atomic_load(&c->refolds);
}

sp_err sp_complaints_last_number(sp_complaints *c, const char *intake, uint64_t *out) {
    char prefix[SP__CKEY_MAX];
    int n = snprintf(prefix, sizeof prefix, "i/N/%s/\xff", intake);
    *out = 0;
    if (n <= 0 || (size_t)n >= sizeof prefix) return SP_ERR_INVAL;
    size_t plen = (size_t)n - 1, klen = 0;
    sp_iter *it = sp_iter_new(c->st, SP_CF_COMPLAINTS);
    if (!it) return SP_ERR_NOMEM;
    sp_iter_seek_for_prev(it, prefix, (size_t)n); /* the highest key of this intake, if any */
    const uint8_t *key = sp_iter_valid(it) ? sp_iter_key(it, &klen) : NULL;
    sp_err rv = sp_iter_status(it);
    if (rv == SP_OK && key && klen > plen && memcmp(key, prefix, plen) == 0) {
        char hex[17];
        if (klen != plen + 16) rv = SP_ERR_CORRUPT;
        else {
            memcpy(hex, key + plen, 16);
            hex[16] = '\0';
            *out = strtoull(hex, NULL, 16);
        }
    }
    sp_iter_free(it);
    return rv;
}

sp_err sp_complaints_get(sp_complaints *c, const char *id, int include_unfiled,
                         sp_complaint_state *out) {
    if (!id || strlen(id) >= SP_TRACKING_ID_MAX) {
        sp_state_init(out, "");
        return SP_ERR_NOT_FOUND;
    }
    sp_err rv = sp__load_state(c->st, id, out);
    if (rv == SP_OK && out->status == SP_ST_NONE && !include_unfiled) rv = SP_ERR_NOT_FOUND;
    return rv;
}

/* ---- stage: group the batch's events by complaint, update each complaint once ---- */

typedef struct {
    sp_fold_event ev;
    sp_fold_body *body;
    char id[SP_TRACKING_ID_MAX];
} pending;

static int cmp_pending(const void *a, const void *b) {
    const pending *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : sp_fold_event_cmp(&x->ev, &y->ev);
}

/* A late event: fold the complaint again from everything (its indexed events + the new ones,
 * which are not in the index yet: they are written in this batch). */
static sp_err refold(sp_complaints *c, sp_complaint_state *s, const pending *p, size_t k) {
    sp_err rv = sp__read_events(c->st, s->id, &c->evs);
    if (rv != SP_OK) return rv;
    for (size_t i = 0; i < k && rv == SP_OK; i++) rv = sp__events_push(&c->evs, &p[i].ev);
    sp_complaint_state fresh;
    if (rv == SP_OK) rv = sp_fold_run(&c->ctx, s->id, c->evs.ev, c->evs.n, &fresh);
    if (rv == SP_OK) *s = fresh;
    sp__events_reset(&c->evs);
    return rv;
}

static int can_append_all(const sp_complaint_state *s, const pending *p) {
    return sp_fold_can_append(s, &p[0].ev); /* p is sorted: the first is the earliest */
}

static sp_err apply_all(sp_complaints *c, sp_complaint_state *s, const pending *p, size_t k) {
    sp_err rv = SP_OK;
    for (size_t i = 0; i < k && rv == SP_OK; i++)
        if (sp_fold_can_append(s, &p[i].ev)) rv = sp_fold_apply(&c->ctx, s, &p[i].ev, NULL);
    return rv;
}

/* Update one complaint with its k new events p[0..k) (sorted). */
static sp_err update_complaint(sp_complaints *c, sp_wbatch *b, const pending *p, size_t k) {
    sp_complaint_state s;
    char ckey[SP__CKEY_MAX];
    sp__state_key(ckey, p[0].id); /* ids from sp_fold_decode fit */
    sp_err rv = SP_OK;
    if (!sp__cache_get(&c->cache, ckey, &s, sizeof s)) rv = sp__load_state(c->st, p[0].id, &s);
    if (rv == SP_ERR_NOT_FOUND) rv = SP_OK;
    if (rv != SP_OK) goto out;
    if ((rv = sp_stats_contribute(c->acc, &s, -1)) != SP_OK) goto out;
    char old[SP__INDEX_KEYS][SP__CKEY_MAX];
    size_t n_old = sp__index_keys(&s, old);
    if (can_append_all(&s, p)) {
        rv = apply_all(c, &s, p, k);
        atomic_fetch_add(&c->appended, 1);
    } else {
        rv = refold(c, &s, p, k);
        atomic_fetch_add(&c->refolds, 1);
    }
    for (size_t i = 0; i < k && rv == SP_OK; i++) rv = sp__put_event(b, s.id, &p[i].ev);
    if (rv == SP_OK) rv = sp_stats_contribute(c->acc, &s, +1);
    if (rv == SP_OK) rv = sp__put_state(b, &s, old, n_old);
    if (rv == SP_OK) sp__cache_put(&c->cache, ckey, &s, sizeof s);
out:
    sp_state_clear(&s);
    return rv;
}

/* Decode the batch's envelopes into p; returns how many are complaint events. */
static sp_err decode_batch(sp_complaints *c, const sp_envelope *const *envs, size_t n, pending *p,
                           size_t *m) {
    *m = 0;
    for (size_t i = 0; i < n; i++) {
        sp_err rv = sp_fold_decode(envs[i], &p[*m].ev, &p[*m].body, p[*m].id);
        if (rv == SP_OK && sp__scope_foreign(&c->scope, p[*m].id)) {
            sp_fold_body_free(p[*m].body);
            atomic_fetch_add(&c->foreign, 1);
        } else if (rv == SP_OK) {
            (*m)++;
        } else if (rv == SP_ERR_DECODE || rv == SP_ERR_NOT_FOUND) {
            atomic_fetch_add(&c->skipped, 1);
        } else {
            return rv;
        }
    }
    atomic_fetch_add(&c->events, *m);
    return SP_OK;
}

sp_err sp_complaints_stage(void *arg, sp_wbatch *b, const sp_envelope *const *envs,
                           const uint64_t *offsets, size_t n) {
    sp_complaints *c = arg;
    size_t m = 0;
    pending *p = calloc(n ? n : 1, sizeof *p);
    if (!p) return SP_ERR_NOMEM;
    sp__cache_begin(&c->cache, offsets, n);
    sp_err rv = decode_batch(c, envs, n, p, &m);
    qsort(p, m, sizeof *p, cmp_pending);
    sp_stats_acc_reset(c->acc);
    for (size_t i = 0, j; rv == SP_OK && i < m; i = j) {
        for (j = i + 1; j < m && strcmp(p[j].id, p[i].id) == 0;) j++;
        rv = update_complaint(c, b, p + i, j - i);
    }
    if (rv == SP_OK) rv = sp__stats_flush(c->st, b, c->acc, 0, &c->cache, NULL);
    sp__cache_end(&c->cache, offsets, n, rv);
    for (size_t i = 0; i < m; i++) sp_fold_body_free(p[i].body);
    free(p);
    return rv;
}
