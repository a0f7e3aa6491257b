/*
 * Queries over derived state: paged lists through the secondary indexes, statistics rows.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "node/lifecycle/complaints_int.h"

static sp_store *store_of(sp_complaints *c) {
    return sp__complaints_store(c);
}

/* ---- history ---- */

/* The stored envelopes of the history's events, aligned with h[0..n). */
static sp_err read_envelopes(sp_store *st, const sp_history_entry *h, size_t n,
                             sp_envelope **out) {
    sp_envelope *envs = calloc(n ? n : 1, sizeof *envs);
    if (!envs) return SP_ERR_NOMEM;
    sp_err rv = SP_OK;
    for (size_t i = 0; i < n && rv == SP_OK; i++) {
        uint8_t key[SP_FEED_KEY_MAX], *val;
        size_t klen = sp_feed_key(key, h[i].origin, h[i].seq), vn;
        rv = sp_store_get(st, SP_CF_FEEDS, key, klen, &val, &vn);
        if (rv == SP_ERR_NOT_FOUND) {
            rv = SP_OK; /* indexed, not stored: cannot happen unless feeds were pruned */
            continue;
        }
        if (rv != SP_OK) break;
        rv = sp_envelope_decode(&envs[i], val, vn);
        free(val);
        if (rv != SP_OK) {
            sp_log_error("complaints.history_unreadable", "origin=%s seq=%" PRIu64 " error=%s",
                         h[i].origin, h[i].seq, sp_errname(rv));
            rv = SP_ERR_CORRUPT;
        }
    }
    if (rv != SP_OK) {
        sp_envelopes_free(envs, n);
        return rv;
    }
    *out = envs;
    return SP_OK;
}

sp_err sp_complaints_history(sp_complaints *c, const char *id, sp_history_entry **out,
                             size_t *n, sp_envelope **envs) {
    *out = NULL;
    *n = 0;
    if (envs) *envs = NULL;
    if (!id || strlen(id) >= SP_TRACKING_ID_MAX) return SP_ERR_NOT_FOUND;
    sp__events e = {0};
    sp_complaint_state s;
    sp_history_entry *h = NULL;
    size_t nh = 0;
    sp_err rv = sp__read_events(store_of(c), id, &e);
    if (rv == SP_OK && e.n == 0) rv = SP_ERR_NOT_FOUND;
    if (rv == SP_OK) rv = sp_fold_run_history(sp__complaints_ctx(c), id, e.ev, e.n, &s, &h, NULL, &nh);
    if (rv == SP_OK && envs) rv = read_envelopes(store_of(c), h, nh, envs);
    sp__events_free(&e);
    if (rv != SP_OK) {
        free(h);
        return rv;
    }
    *out = h;
    *n = nh;
    return SP_OK;
}

/* ---- lists ---- */

typedef struct {
    char prefix[SP__CKEY_MAX];
    size_t plen;
    int states;           /* the s/ records themselves, not an index */
    int region_prefix;    /* region index scanned by code prefix: check the boundary */
    int deadline;         /* deadline index: stop at now */
} scan_plan;

static int single_status(uint32_t mask) {
    return mask && (mask & (mask - 1)) == 0;
}

static sp_err plan_scan(const sp_complaint_filter *f, scan_plan *p) {
    memset(p, 0, sizeof *p);
    int n;
    if (f->agency)
        n = snprintf(p->prefix, sizeof p->prefix, "i/A/%s/", f->agency);
    else if (f->region) {
        n = snprintf(p->prefix, sizeof p->prefix, "i/R/%s", f->region);
        p->region_prefix = 1;
    } else if (f->overdue_only) {
        n = snprintf(p->prefix, sizeof p->prefix, "i/D/");
        p->deadline = 1;
    } else if (single_status(f->status_mask)) {
        unsigned st = 0;
        while (!((f->status_mask >> st) & 1u)) st++;
        n = snprintf(p->prefix, sizeof p->prefix, "i/S/%02u/", st);
    } else {
        n = snprintf(p->prefix, sizeof p->prefix, "s/");
        p->states = 1;
    }
    if (n <= 0 || (size_t)n >= sizeof p->prefix) return SP_ERR_INVAL;
    p->plen = (size_t)n;
    return SP_OK;
}

static int region_matches(const char *region, const char *want) {
    size_t n = strlen(want);
    return strncmp(region, want, n) == 0 && (region[n] == '\0' || region[n] == '.');
}

/* "infrastruktur" matches itself and its subcategories, not "infrastrukturx". */
static int category_matches(const char *category, const char *want) {
    size_t n = strlen(want);
    return strncmp(category, want, n) == 0 && (category[n] == '\0' || category[n] == '/');
}

static int matches(const sp_complaint_filter *f, const sp_complaint_state *s) {
    if (s->status == SP_ST_NONE) return 0;
    if (f->category && !category_matches(s->category, f->category)) return 0;
    if (f->channel_mask && (s->channel >= 32 || !((f->channel_mask >> s->channel) & 1u))) return 0;
    if (s->filed_at < f->filed_from || (f->filed_to && s->filed_at > f->filed_to)) return 0;
    if (f->status_mask && !((f->status_mask >> s->status) & 1u)) return 0;
    if (f->region && !region_matches(s->region, f->region)) return 0;
    if (f->agency && strcmp(sp_fold_holder(s), f->agency) != 0) return 0;
    if (f->overdue_only && !sp_fold_overdue(s, f->now_ms)) return 0;
    return 1;
}

/* Whether an index key past the prefix is still in range; *id receives the complaint id. */
static int index_entry(const scan_plan *p, const sp_complaint_filter *f, const char *key,
                       size_t kn, const char **id) {
    if (kn < p->plen || memcmp(key, p->prefix, p->plen) != 0) return -1; /* past the range */
    const char *rest = key + p->plen;
    if (p->states) {
        *id = rest;
        return 1;
    }
    if (p->region_prefix && *rest != '/' && *rest != '.') return 0;
    if (p->deadline) {
        uint64_t due = strtoull(rest, NULL, 16);
        if (due >= f->now_ms) return -1; /* sorted by deadline: nothing later is overdue */
    }
    const char *slash = strrchr(rest, '/');
    *id = slash ? slash + 1 : rest;
    return 1;
}

static sp_err page_push(sp_complaint_page *pg, size_t limit, sp_complaint_state *s) {
    if (!pg->v && !(pg->v = calloc(limit, sizeof *pg->v))) return SP_ERR_NOMEM;
    pg->v[pg->n++] = *s;
    sp_state_init(s, "");
    return SP_OK;
}

/* Load the candidate (from the value for s/ scans, else from its s/ record) and keep it if it
 * matches. */
static sp_err consider(sp_complaints *c, const scan_plan *p, const sp_complaint_filter *f,
                       const char *id, const uint8_t *val, size_t vn, sp_complaint_page *pg,
                       size_t limit) {
    sp_complaint_state s;
    sp_err rv = p->states ? sp_state_decode(&s, val, vn) : sp__load_state(store_of(c), id, &s);
    if (rv == SP_ERR_NOT_FOUND) rv = SP_ERR_CORRUPT; /* an index entry without its state */
    if (rv == SP_OK && matches(f, &s)) rv = page_push(pg, limit, &s);
    sp_state_clear(&s);
    return rv;
}

static sp_err scan(sp_complaints *c, const scan_plan *p, const sp_complaint_filter *f,
                   const char *cursor, size_t limit, sp_complaint_page *pg) {
    sp_iter *it = sp_iter_new(store_of(c), SP_CF_COMPLAINTS);
    if (!it) return SP_ERR_NOMEM;
    sp_err rv = SP_OK;
    if (cursor && *cursor)
        sp_iter_seek(it, cursor, strlen(cursor));
    else
        sp_iter_seek(it, p->prefix, p->plen);
    char key[SP__CKEY_MAX];
    int more = 0;
    for (; rv == SP_OK && sp_iter_valid(it); sp_iter_next(it)) {
        size_t kn, vn;
        const uint8_t *k = sp_iter_key(it, &kn), *v = sp_iter_value(it, &vn);
        if (kn >= sizeof key) continue;
        memcpy(key, k, kn);
        key[kn] = '\0';
        if (cursor && strcmp(key, cursor) == 0) continue;
        const char *id;
        int in = index_entry(p, f, key, kn, &id);
        if (in < 0) break;
        if (in == 0) continue;
        if (pg->n == limit) { /* another candidate exists: resume after the page's last */
            more = 1;
            break;
        }
        rv = consider(c, p, f, id, v, vn, pg, limit);
        if (rv == SP_OK && pg->n == limit) snprintf(pg->next, sizeof pg->next, "%s", key);
    }
    if (!more) pg->next[0] = '\0';
    if (rv == SP_OK) rv = sp_iter_status(it);
    sp_iter_free(it);
    return rv;
}

sp_err sp_complaints_list(sp_complaints *c, const sp_complaint_filter *f, const char *cursor,
                          size_t limit, sp_complaint_page *out) {
    memset(out, 0, sizeof *out);
    scan_plan p;
    if (limit == 0 || limit > 1000) return SP_ERR_INVAL;
    sp_err rv = plan_scan(f, &p);
    if (rv != SP_OK) return rv;
    if (cursor && *cursor &&
        (strncmp(cursor, p.prefix, p.plen) != 0 || strlen(cursor) >= SP_CURSOR_MAX))
        return SP_ERR_INVAL;
    rv = scan(c, &p, f, cursor, limit, out);
    if (rv != SP_OK) sp_complaint_page_free(out);
    return rv;
}

void sp_complaint_page_free(sp_complaint_page *p) {
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) sp_state_clear(&p->v[i]);
    free(p->v);
    memset(p, 0, sizeof *p);
}

/* ---- statistics ---- */

static sp_err scan_rows(sp_complaints *c, sp_scope_kind kind, const char *scope, uint32_t from,
                        uint32_t to, sp_stats_day_fn fn, void *arg) {
    char lo[SP_STATS_KEY_MAX];
    size_t lo_n = sp_stats_key(lo, kind, scope, from);
    if (!lo_n || from > to) return lo_n ? SP_OK : SP_ERR_INVAL;
    sp_iter *it = sp_iter_new(store_of(c), SP_CF_STATS);
    if (!it) return SP_ERR_NOMEM;
    sp_err rv = SP_OK;
    size_t plen = lo_n - 8; /* kind + scope + '/' */
    for (sp_iter_seek(it, lo, lo_n); rv == SP_OK && sp_iter_valid(it); sp_iter_next(it)) {
        size_t kn, vn;
        const uint8_t *k = sp_iter_key(it, &kn), *v = sp_iter_value(it, &vn);
        if (kn != lo_n || memcmp(k, lo, plen) != 0) break;
        sp_scope_kind kk;
        char sc[SP_STATS_SCOPE_MAX + 1];
        uint32_t ymd;
        sp_stats row;
        if ((rv = sp_stats_key_parse(k, kn, &kk, sc, &ymd)) != SP_OK) break;
        if (ymd > to) break;
        if ((rv = sp_stats_decode(&row, v, vn)) != SP_OK) break;
        if (fn(arg, ymd, &row)) break;
    }
    if (rv == SP_OK) rv = sp_iter_status(it);
    sp_iter_free(it);
    return rv;
}

static int sum_row(void *arg, uint32_t ymd, const sp_stats *row) {
    sp_stats_add(arg, row, 1);
    return 0;
}

sp_err sp_complaints_stats_sum(sp_complaints *c, sp_scope_kind kind, const char *scope,
                               uint32_t from_ymd, uint32_t to_ymd, sp_stats *out) {
    memset(out, 0, sizeof *out);
    return scan_rows(c, kind, scope, from_ymd ? from_ymd : 1, to_ymd, sum_row, out);
}

sp_err sp_complaints_stats_days(sp_complaints *c, sp_scope_kind kind, const char *scope,
                                uint32_t from_ymd, uint32_t to_ymd, sp_stats_day_fn fn, void *arg) {
    return scan_rows(c, kind, scope, from_ymd ? from_ymd : 1, to_ymd, fn, arg);
}

typedef struct {
    uint64_t now;
    sp_stats_current *out;
} overdue_ctx;

static int add_overdue(void *arg, uint32_t ymd, const sp_stats *row) {
    overdue_ctx *o = arg;
    o->out->overdue += sp_stats_overdue(row, ymd, o->now);
    o->out->unanswered_overdue += sp_stats_unanswered_overdue(row, ymd, o->now);
    return 0;
}

sp_err sp_complaints_stats_current(sp_complaints *c, sp_scope_kind kind, const char *scope,
                                   uint64_t now_ms, sp_stats_current *out) {
    memset(out, 0, sizeof *out);
    sp_err rv = scan_rows(c, kind, scope, 0, 0, sum_row, &out->gauges);
    if (rv != SP_OK) return rv;
    /* No deadline after today's date in the easternmost zone can have passed. */
    overdue_ctx o = {now_ms, out};
    return scan_rows(c, kind, scope, 1, sp_day_ymd(sp_local_day(now_ms, SP_TZ_WIT)), add_overdue,
                     &o);
}

sp_err sp_complaints_stats_now(sp_complaints *c, sp_scope_kind kind, const char *scope,
                               uint64_t now_ms, sp_stats *gauges, int64_t *overdue) {
    sp_stats_current cur;
    sp_err rv = sp_complaints_stats_current(c, kind, scope, now_ms, &cur);
    *gauges = cur.gauges;
    *overdue = rv == SP_OK ? cur.overdue : 0;
    return rv;
}
