/*
 * Complaint state and statistics in a real RocksDB: maintained in the feed log's commit,
 * identical whatever the arrival order and batching, identical after `rebuild`, and queryable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/lifecycle/complaints.h"
#include "node/lifecycle/complaints_int.h"
#include "node/lifecycle/fold_testutil.h"
#include "tests/unit/testutil.h"

static sp_test_fold_env env;

typedef struct {
    char dir[256];
    sp_store *st;
    sp_complaints *c;
} db;

static db *db_new(const char *tag) {
    db *d = calloc(1, sizeof *d);
    assert_non_null(sp_test_tmpdir(d->dir, tag));
    assert_int_equal(sp_store_open(&d->st, d->dir, SP_NODE_CFS), SP_OK);
    assert_int_equal(sp_complaints_open(&d->c, d->st, &env.ctx), SP_OK);
    return d;
}

static void db_free(db *d) {
    sp_complaints_close(d->c);
    sp_store_close(d->st);
    sp_test_rmrf(d->dir);
    free(d);
}

/* Store events the way the feed log commits them: their feeds records and the stage hook's
 * derived records in one batch. Signatures are not checked by anything here. */
static void commit_bodies(db *d, const sp_fold_event *ev, uint8_t *const *bodies,
                          const size_t *lens, size_t n) {
    sp_envelope *envs = calloc(n, sizeof *envs);
    const sp_envelope **ptrs = calloc(n, sizeof *ptrs);
    uint64_t *offsets = calloc(n, sizeof *offsets);
    sp_wbatch *b = sp_wbatch_new(d->st);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(sp_envelope_init(&envs[i], ev[i].origin, bodies[i], lens[i]), SP_OK);
        envs[i].seq = ev[i].seq;
        envs[i].hlc = ev[i].hlc;
        uint8_t key[SP_FEED_KEY_MAX], *buf;
        size_t len, klen = sp_feed_key(key, ev[i].origin, ev[i].seq);
        assert_int_equal(sp_envelope_encode(&envs[i], &buf, &len), SP_OK);
        sp_wbatch_put(b, SP_CF_FEEDS, key, klen, buf, len);
        free(buf);
        ptrs[i] = &envs[i];
    }
    assert_int_equal(sp_complaints_stage(d->c, b, ptrs, offsets, n), SP_OK);
    assert_int_equal(sp_store_write(d->st, b, 0), SP_OK);
    sp_wbatch_free(b);
    for (size_t i = 0; i < n; i++) sp_envelope_clear(&envs[i]);
    free(envs);
    free(ptrs);
    free(offsets);
}

static void commit(db *d, const sp_fold_event *ev, size_t n) {
    uint8_t **bodies = calloc(n, sizeof *bodies);
    size_t *lens = calloc(n, sizeof *lens);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sp_test_encode_event(&ev[i], &bodies[i], &lens[i]), 0);
    commit_bodies(d, ev, bodies, lens, n);
    for (size_t i = 0; i < n; i++) free(bodies[i]);
    free(bodies);
    free(lens);
}

/* Every key and value of a column family, serialised, to compare stores byte for byte. */
typedef struct {
    uint8_t *p;
    size_t n, cap;
    size_t records;
} blob;

static void blob_put(blob *b, const void *p, size_t n) {
    if (b->n + n + 8 > b->cap) {
        b->cap = (b->n + n + 8) * 2;
        b->p = realloc(b->p, b->cap);
    }
    uint64_t len = n;
    memcpy(b->p + b->n, &len, 8);
    memcpy(b->p + b->n + 8, p, n);
    b->n += n + 8;
}

static blob dump_cf(db *d, sp_cf cf) {
    blob b = {0};
    sp_iter *it = sp_iter_new(d->st, cf);
    for (sp_iter_seek_first(it); sp_iter_valid(it); sp_iter_next(it)) {
        size_t kn, vn;
        const uint8_t *k = sp_iter_key(it, &kn), *v = sp_iter_value(it, &vn);
        blob_put(&b, k, kn);
        blob_put(&b, v, vn);
        b.records++;
    }
    assert_int_equal(sp_iter_status(it), SP_OK);
    sp_iter_free(it);
    return b;
}

/* x and y hold the same bytes; both are freed. */
static void assert_same_blob(blob *x, blob *y) {
    assert_int_equal(x->n, y->n);
    assert_memory_equal(x->p, y->p, x->n);
    free(x->p);
    free(y->p);
}

static void assert_same_cf(db *a, db *b, sp_cf cf) {
    blob x = dump_cf(a, cf), y = dump_cf(b, cf);
    assert_true(x.records > 0);
    assert_int_equal(x.records, y.records);
    assert_same_blob(&x, &y);
}

/* ---- a generated workload ---- */

typedef struct {
    sp_fold_event *ev;
    size_t n;
    char (*ids)[SP_TRACKING_ID_MAX];
    size_t stories;
} workload;

static void workload_make(workload *w, size_t stories, uint64_t *rng) {
    w->ev = calloc(stories * SP_TEST_STORY_MAX, sizeof *w->ev);
    w->ids = calloc(stories, sizeof *w->ids);
    w->stories = stories;
    w->n = 0;
    uint64_t start = sp_test_wib(2025, 3, 10, 8, 0);
    for (size_t i = 0; i < stories; i++) {
        uint64_t at = start + (sp_test_rand(rng) % (90 * 24)) * 3600000ull;
        w->n += sp_test_story(&env.ctx, rng, at, w->ids[i], w->ev + w->n);
    }
    sp_test_number_feeds(w->ev, w->n);
    sp_test_fill_ids(w->ev, w->n);
}

static void workload_free(workload *w) {
    free(w->ev);
    free(w->ids);
}

/* Deliver ev in random batches (1..max events). */
static void deliver(db *d, const sp_fold_event *ev, size_t n, size_t max, uint64_t *rng) {
    for (size_t i = 0; i < n;) {
        size_t k = 1 + sp_test_rand(rng) % max;
        if (k > n - i) k = n - i;
        commit(d, ev + i, k);
        i += k;
    }
}

static void check_against_fold(db *d, const workload *w) {
    sp_fold_event *mine = calloc(w->n, sizeof *mine);
    for (size_t s = 0; s < w->stories; s++) {
        size_t m = 0;
        for (size_t i = 0; i < w->n; i++)
            if (strcmp(w->ev[i].complaint, w->ids[s]) == 0) mine[m++] = w->ev[i];
        sp_complaint_state want, got;
        assert_int_equal(sp_fold_run(&env.ctx, w->ids[s], mine, m, &want), SP_OK);
        assert_int_equal(sp_complaints_get(d->c, w->ids[s], 1, &got), SP_OK);
        uint8_t *a, *b;
        size_t an, bn;
        assert_int_equal(sp_state_encode(&want, &a, &an), SP_OK);
        assert_int_equal(sp_state_encode(&got, &b, &bn), SP_OK);
        assert_int_equal(an, bn);
        assert_memory_equal(a, b, an);
        free(a);
        free(b);
        sp_state_clear(&want);
        sp_state_clear(&got);
    }
    free(mine);
}

static void test_any_order_any_batching_same_bytes_and_rebuild(void **state) {
    uint64_t rng = sp_test_seed("complaints_test order");
    workload w;
    workload_make(&w, 80, &rng);
    db *a = db_new("cmp-a"), *b = db_new("cmp-b");
    deliver(a, w.ev, w.n, 40, &rng); /* the authors' order */
    sp_fold_event *shuffled = malloc(w.n * sizeof *shuffled);
    memcpy(shuffled, w.ev, w.n * sizeof *shuffled);
    for (size_t i = w.n; i > 1; i--) {
        size_t j = sp_test_rand(&rng) % i;
        sp_fold_event t = shuffled[i - 1];
        shuffled[i - 1] = shuffled[j];
        shuffled[j] = t;
    }
    deliver(b, shuffled, w.n, 7, &rng);
    sp_complaints_counters ca, cb;
    sp_complaints_counters_get(a->c, &ca);
    sp_complaints_counters_get(b->c, &cb);
    assert_int_equal(ca.events, w.n);
    assert_int_equal(cb.events, w.n);
    assert_true(cb.refolds > 0); /* late events happened and were re-folded */
    assert_same_cf(a, b, SP_CF_COMPLAINTS);
    assert_same_cf(a, b, SP_CF_STATS);
    check_against_fold(b, &w);
    /* rebuild b from its feeds: byte-identical to a's incremental state. */
    sp_rebuild_result res;
    assert_int_equal(sp_complaints_rebuild(b->st, &env.ctx, NULL, NULL, &res), SP_OK);
    assert_int_equal(res.events, w.n);
    assert_int_equal(res.complaints, w.stories);
    assert_int_equal(res.skipped, 0);
    assert_same_cf(a, b, SP_CF_COMPLAINTS);
    assert_same_cf(a, b, SP_CF_STATS);
    free(shuffled);
    workload_free(&w);
    db_free(a);
    db_free(b);
}

/* ---- through the real feed log: three nodes author, a fourth receives in a bad order ---- */

typedef struct {
    char dir[256];
    sp_store *st;
    sp_key *key;
    sp_feedlog *log;
} lnode;

static lnode *lnode_new(const char *id) {
    lnode *n = calloc(1, sizeof *n);
    assert_non_null(sp_test_tmpdir(n->dir, id));
    assert_int_equal(sp_key_generate(&n->key, SP_KEY_ED25519), SP_OK);
    assert_int_equal(sp_store_open(&n->st, n->dir, SP_NODE_CFS), SP_OK);
    assert_int_equal(sp_feedlog_open(&n->log, n->st, id, n->key), SP_OK);
    return n;
}

static void lnode_free(lnode *n) {
    sp_feedlog_close(n->log);
    sp_store_close(n->st);
    sp_key_free(n->key);
    sp_test_rmrf(n->dir);
    free(n);
}

static void trust(lnode *at, const lnode *origin, const char *id) {
    uint8_t pub[SP_PUBKEY_LEN];
    assert_int_equal(sp_key_raw_public(origin->key, pub), SP_OK);
    assert_int_equal(sp_feedlog_add_origin_key(at->log, id, pub), SP_OK);
}

/* Author one event on n (the feed log assigns seq and hlc); a copy of the envelope in out. */
static void author(lnode *n, sp_fold_event e, sp_envelope *out) {
    uint8_t *body;
    size_t len;
    assert_int_equal(sp_test_encode_event(&e, &body, &len), 0);
    const uint8_t *bodies[1] = {body};
    assert_int_equal(sp_feedlog_author(n->log, bodies, &len, 1, out), SP_OK);
    free(body);
}

static void test_feed_log_hook_across_nodes(void **state) {
    lnode *prov = lnode_new("prov-35"), *kota = lnode_new("kota-3577"),
          *opd = lnode_new("opd-3577-pupr"), *nat = lnode_new("national");
    trust(kota, prov, "prov-35");
    trust(opd, kota, "kota-3577");
    trust(prov, opd, "opd-3577-pupr");
    trust(nat, prov, "prov-35");
    trust(nat, kota, "kota-3577");
    trust(nat, opd, "opd-3577-pupr");
    sp_complaints *c;
    assert_int_equal(sp_complaints_open(&c, nat->st, &env.ctx), SP_OK);
    sp_feedlog_hooks hooks = sp_complaints_hooks(c);
    sp_feedlog_set_hooks(nat->log, &hooks);

    sp_envelope e[7];
    sp_fold_event f = sp_test_ev(SP_EV_FILED, "prov-35", 0, 0, SP_ROLE_REPORTER, "");
    f.type = 2;
    f.category = "infrastruktur/pju";
    f.region = "35.77";
    author(prov, f, &e[0]);
    assert_int_equal(sp_feedlog_ingest(kota->log, &e[0], 1, NULL, NULL), SP_OK); /* hlc moves */
    author(kota, sp_test_ev(SP_EV_VERIFIED, "", 0, 0, SP_ROLE_ADMIN_KOORDINATOR, "35-1"), &e[1]);
    sp_fold_event d = sp_test_ev(SP_EV_DISPOSITIONED, "", 0, 0, SP_ROLE_ADMIN_KOORDINATOR, "35-1");
    d.agency = "opd-3577-pupr";
    author(kota, d, &e[2]);
    assert_int_equal(sp_feedlog_ingest(opd->log, &e[1], 2, NULL, NULL), SP_OK);
    author(opd, sp_test_ev(SP_EV_FOLLOW_UP, "", 0, 0, SP_ROLE_ADMIN_PENGHUBUNG, "35-1"), &e[3]);
    author(opd, sp_test_ev(SP_EV_COMPLETED, "", 0, 0, SP_ROLE_ADMIN_PENGHUBUNG, "35-1"), &e[4]);
    assert_int_equal(sp_feedlog_ingest(prov->log, &e[3], 2, NULL, NULL), SP_OK);
    sp_fold_event fb = sp_test_ev(SP_EV_FEEDBACK, "", 0, 0, SP_ROLE_REPORTER, "35-1");
    fb.satisfied = 1;
    fb.rating = 5;
    author(prov, fb, &e[5]);

    /* national hears the OPD first, then the city, then the province. */
    sp_complaint_state s;
    assert_int_equal(sp_feedlog_ingest(nat->log, &e[3], 2, NULL, NULL), SP_OK);
    assert_int_equal(sp_complaints_get(c, "35-1", 0, &s), SP_ERR_NOT_FOUND);
    sp_state_clear(&s);
    assert_int_equal(sp_complaints_get(c, "35-1", 1, &s), SP_OK);
    assert_int_equal(s.status, SP_ST_NONE);
    assert_int_equal(s.events, 2);
    sp_state_clear(&s);
    assert_int_equal(sp_feedlog_ingest(nat->log, &e[1], 2, NULL, NULL), SP_OK);
    sp_envelope from_prov[2] = {e[0], e[5]};
    assert_int_equal(sp_feedlog_ingest(nat->log, from_prov, 2, NULL, NULL), SP_OK);
    assert_int_equal(sp_complaints_get(c, "35-1", 0, &s), SP_OK);
    assert_int_equal(s.status, SP_ST_RESOLVED);
    assert_int_equal(s.rejected, 0);
    assert_int_equal(s.events, 6);
    assert_string_equal(s.agency, "opd-3577-pupr");
    assert_int_equal(s.rating, 5);
    sp_state_clear(&s);
    sp_complaints_counters cnt;
    sp_complaints_counters_get(c, &cnt);
    assert_int_equal(cnt.events, 6);
    assert_true(cnt.refolds >= 1);
    sp_complaints_close(c);
    for (int i = 0; i < 6; i++) sp_envelope_clear(&e[i]);
    lnode_free(prov);
    lnode_free(kota);
    lnode_free(opd);
    lnode_free(nat);
}

/* ---- skipping what is not a complaint event ---- */

static void test_non_complaint_bodies_are_skipped(void **state) {
    db *d = db_new("cmp-skip");
    sp_fold_event ev[3] = {
        sp_test_ev(SP_EV_COMMENTED, "kota-3577", 1, 1000, SP_ROLE_UNKNOWN, "TEST-kota-3577-1"),
        sp_test_ev(SP_EV_COMMENTED, "kota-3577", 2, 2000, SP_ROLE_UNKNOWN, ""),
        sp_test_ev(SP_EV_COMMENTED, "kota-3577", 3, 3000, SP_ROLE_UNKNOWN, ""),
    };
    uint8_t *bodies[3];
    size_t lens[3];
    assert_int_equal(sp_test_encode_event(&ev[0], &bodies[0], &lens[0]), 0);
    bodies[1] = (uint8_t *)strdup("e1");
    lens[1] = 2;
    bodies[2] = (uint8_t *)strdup("");
    lens[2] = 0; /* an empty Event: no complaint id */
    commit_bodies(d, ev, bodies, lens, 3);
    sp_complaints_counters cnt;
    sp_complaints_counters_get(d->c, &cnt);
    assert_int_equal(cnt.skipped, 3);
    assert_int_equal(cnt.events, 0);
    blob x = dump_cf(d, SP_CF_COMPLAINTS);
    assert_int_equal(x.records, 1); /* only the format record */
    free(x.p);
    sp_rebuild_result res;
    assert_int_equal(sp_complaints_rebuild(d->st, &env.ctx, NULL, NULL, &res), SP_OK);
    assert_int_equal(res.skipped, 3);
    assert_int_equal(res.complaints, 0);
    for (int i = 0; i < 3; i++) free(bodies[i]);
    db_free(d);
}

/* ---- queries ---- */

#define H 3600000ull
#define DAY (24 * H)

/* Complaint i of region/agency, taken to status `to`, starting at t. */
static size_t scripted(sp_fold_event *ev, size_t n, uint64_t *seq, const char *intake,
                       const char *region, const char *resp, const char *agency, sp_status to,
                       uint64_t t, char *id) {
    size_t k = n;
    ev[k] = sp_test_ev(SP_EV_FILED, intake, ++*seq, t, SP_ROLE_REPORTER, "");
    ev[k].type = 2;
    ev[k].category = "x";
    ev[k].region = region;
    sp_tracking_id(id, intake, *seq);
    k++;
    static uint64_t officer_seq = 1000; /* one counter: unique (origin, seq) for every officer */
    uint64_t *rs = &officer_seq;
    if (to == SP_ST_FILED) return k;
    ev[k++] = sp_test_ev(SP_EV_VERIFIED, resp, ++*rs, t + H, SP_ROLE_ADMIN_KOORDINATOR, id);
    if (to == SP_ST_VERIFIED) return k;
    ev[k] = sp_test_ev(SP_EV_DISPOSITIONED, resp, ++*rs, t + 2 * H, SP_ROLE_ADMIN_KOORDINATOR, id);
    ev[k++].agency = agency;
    if (to == SP_ST_DISPOSITIONED) return k;
    ev[k++] = sp_test_ev(SP_EV_FOLLOW_UP, agency, ++*rs, t + 3 * H, SP_ROLE_ADMIN_PENGHUBUNG, id);
    return k;
}

typedef struct {
    uint32_t days[64];
    size_t n;
} day_list;

static int collect_day(void *arg, uint32_t ymd, const sp_stats *row) {
    day_list *l = arg;
    l->days[l->n++] = ymd;
    return 0;
}

static void test_lists_and_stats(void **state) {
    db *d = db_new("cmp-query");
    sp_fold_event ev[64];
    char ids[8][SP_TRACKING_ID_MAX];
    uint64_t seq = 0, t = sp_test_wib(2025, 6, 2, 9, 0); /* Monday 2 June 2025 */
    size_t n = 0;
    n = scripted(ev, n, &seq, "kota-3577", "35.77", "kota-3577", "opd-3577-pupr", SP_ST_FILED, t,
                 ids[0]);
    n = scripted(ev, n, &seq, "kota-3577", "35.77", "kota-3577", "opd-3577-pupr",
                 SP_ST_DISPOSITIONED, t, ids[1]);
    n = scripted(ev, n, &seq, "kota-3577", "35.77", "kota-3577", "opd-3577-pupr", SP_ST_IN_PROGRESS,
                 t, ids[2]);
    n = scripted(ev, n, &seq, "kota-3577", "35.77", "kota-3577", "kemenkes", SP_ST_IN_PROGRESS, t,
                 ids[3]);
    n = scripted(ev, n, &seq, "kota-3577", "35", "prov-35", "kemenkes", SP_ST_VERIFIED, t, ids[4]);
    uint64_t s5 = 0;
    n = scripted(ev, n, &s5, "kota-5171", "51.71", "kota-5171", "opd-5171-pupr",
                 SP_ST_DISPOSITIONED, t, ids[5]);
    commit(d, ev, n);

    sp_complaint_page pg;
    sp_complaint_filter f = {0};
    /* Everything, two at a time: 6 complaints, 3 pages, no duplicates. */
    char cursor[SP_CURSOR_MAX] = "";
    size_t seen = 0;
    for (int page = 0; page < 5; page++) {
        assert_int_equal(sp_complaints_list(d->c, &f, cursor, 2, &pg), SP_OK);
        seen += pg.n;
        snprintf(cursor, sizeof cursor, "%s", pg.next);
        sp_complaint_page_free(&pg);
        if (!cursor[0]) break;
    }
    assert_int_equal(seen, 6);
    /* By status. */
    f.status_mask = 1u << SP_ST_IN_PROGRESS;
    assert_int_equal(sp_complaints_list(d->c, &f, NULL, 10, &pg), SP_OK);
    assert_int_equal(pg.n, 2);
    assert_string_equal(pg.next, "");
    sp_complaint_page_free(&pg);
    /* By region: "35" covers the province and its regencies; "35.77" only the city. */
    f = (sp_complaint_filter){.region = "35"};
    assert_int_equal(sp_complaints_list(d->c, &f, NULL, 10, &pg), SP_OK);
    assert_int_equal(pg.n, 5);
    sp_complaint_page_free(&pg);
    f.region = "35.77";
    assert_int_equal(sp_complaints_list(d->c, &f, NULL, 10, &pg), SP_OK);
    assert_int_equal(pg.n, 4);
    sp_complaint_page_free(&pg);
    /* By agency (the holder), combined with a status. */
    f = (sp_complaint_filter){.agency = "kemenkes", .status_mask = 1u << SP_ST_IN_PROGRESS};
    assert_int_equal(sp_complaints_list(d->c, &f, NULL, 10, &pg), SP_OK);
    assert_int_equal(pg.n, 1);
    assert_string_equal(pg.v[0].id, ids[3]);
    sp_complaint_page_free(&pg);
    /* Overdue on Saturday 14 June: the filed one (verify by Thu 5 June), the verified one
     * (dispose by 5 June) and the two dispositioned ones (respond by Wed 11 June: Idul Adha on
     * 6 June and cuti bersama on 9 June) -- not the two followed up. */
    f = (sp_complaint_filter){.overdue_only = 1, .now_ms = t + 12 * DAY};
    assert_int_equal(sp_complaints_list(d->c, &f, NULL, 10, &pg), SP_OK);
    assert_int_equal(pg.n, 4);
    for (size_t i = 1; i < pg.n; i++)
        assert_true(sp_fold_active_deadline(&pg.v[i - 1]) <= sp_fold_active_deadline(&pg.v[i]));
    sp_complaint_page_free(&pg);
    f.now_ms = t + H;
    assert_int_equal(sp_complaints_list(d->c, &f, NULL, 10, &pg), SP_OK);
    assert_int_equal(pg.n, 0);
    sp_complaint_page_free(&pg);
    /* A cursor from another filter is refused, so is a silly limit. */
    assert_int_equal(sp_complaints_list(d->c, &f, "s/3577-1", 10, &pg), SP_ERR_INVAL);
    assert_int_equal(sp_complaints_list(d->c, &f, NULL, 0, &pg), SP_ERR_INVAL);

    /* Stats: national scope, by day and now. */
    sp_stats sum;
    assert_int_equal(sp_complaints_stats_sum(d->c, SP_SCOPE_REGION, "", 20250601, 20250630, &sum),
                     SP_OK);
    assert_int_equal(sum.v[SP_STAT_FILED], 6);
    assert_int_equal(sum.v[SP_STAT_VERIFIED], 5);
    assert_int_equal(sum.v[SP_STAT_FIRST_RESPONSE], 2);
    assert_int_equal(sum.v[SP_STAT_FIRST_RESPONSE_IN_SLA], 2);
    assert_int_equal(sum.v[SP_STAT_RESPONSE_MS_SUM], 6 * H);
    assert_int_equal(sum.v[SP_STAT_RESP_LE_4H], 2);
    assert_int_equal(sp_complaints_stats_sum(d->c, SP_SCOPE_REGION, "51", 20250601, 20250630, &sum),
                     SP_OK);
    assert_int_equal(sum.v[SP_STAT_FILED], 1);
    assert_int_equal(
        sp_complaints_stats_sum(d->c, SP_SCOPE_AGENCY, "kemenkes", 20250601, 20250630, &sum),
        SP_OK);
    assert_int_equal(sum.v[SP_STAT_FILED], 1); /* the verified one is held by prov-35 */
    sp_stats g;
    int64_t overdue;
    assert_int_equal(sp_complaints_stats_now(d->c, SP_SCOPE_REGION, "", t + 12 * DAY, &g, &overdue),
                     SP_OK);
    assert_int_equal(g.v[SP_STAT_ST_FILED], 1);
    assert_int_equal(g.v[SP_STAT_ST_IN_PROGRESS], 2);
    assert_int_equal(g.v[SP_STAT_ST_DISPOSITIONED], 2);
    assert_int_equal(overdue, 4);
    /* On Tuesday 10 June the responses are not yet late. */
    assert_int_equal(sp_complaints_stats_now(d->c, SP_SCOPE_REGION, "", t + 8 * DAY, &g, &overdue),
                     SP_OK);
    assert_int_equal(overdue, 2);
    assert_int_equal(sp_complaints_stats_now(d->c, SP_SCOPE_REGION, "", t + H, &g, &overdue),
                     SP_OK);
    assert_int_equal(overdue, 0);
    day_list days = {0};
    assert_int_equal(
        sp_complaints_stats_days(d->c, SP_SCOPE_REGION, "35.77", 1, 99999999, collect_day, &days),
        SP_OK);
    assert_true(days.n >= 2);
    for (size_t i = 1; i < days.n; i++) assert_true(days.days[i - 1] < days.days[i]);
    assert_int_equal(days.days[0], 20250602);
    db_free(d);
}

/* Four complaints filed in Kota Madiun on Monday 2 June 2025, dispositioned to Dinas PUPR
 * unless said: one followed up (web), two never answered (SMS; the second in
 * kesehatan/puskesmas), one left unverified (app). */
static db *four_complaints(uint64_t t, char ids[4][SP_TRACKING_ID_MAX]) {
    db *d = db_new("cmp-four");
    sp_fold_event ev[32];
    uint64_t seq = 0;
    size_t n = 0, at[4];
    const sp_status to[4] = {SP_ST_IN_PROGRESS, SP_ST_DISPOSITIONED, SP_ST_DISPOSITIONED,
                             SP_ST_FILED};
    const uint32_t channel[4] = {1, 3, 3, 2}; /* web, sms, sms, app */
    for (int i = 0; i < 4; i++) {
        at[i] = n;
        n = scripted(ev, n, &seq, "kota-3577", "35.77", "kota-3577", "opd-3577-pupr", to[i], t,
                     ids[i]);
        ev[at[i]].channel = channel[i];
    }
    ev[at[2]].category = "kesehatan/puskesmas";
    commit(d, ev, n);
    return d;
}

static void test_lists_filter_by_category_and_channel(void **state) {
    char ids[4][SP_TRACKING_ID_MAX];
    db *d = four_complaints(sp_test_wib(2025, 6, 2, 9, 0), ids);
    sp_complaint_page pg;
    sp_complaint_filter f = {.channel_mask = 1u << 3};
    assert_int_equal(sp_complaints_list(d->c, &f, NULL, 10, &pg), SP_OK);
    assert_int_equal(pg.n, 2);
    sp_complaint_page_free(&pg);
    f = (sp_complaint_filter){.channel_mask = 1u << 1 | 1u << 2, .region = "35"};
    assert_int_equal(sp_complaints_list(d->c, &f, NULL, 10, &pg), SP_OK);
    assert_int_equal(pg.n, 2);
    sp_complaint_page_free(&pg);
    /* A category matches itself and its subcategories, not another word it starts. */
    f = (sp_complaint_filter){.category = "kesehatan"};
    assert_int_equal(sp_complaints_list(d->c, &f, NULL, 10, &pg), SP_OK);
    assert_int_equal(pg.n, 1);
    assert_string_equal(pg.v[0].id, ids[2]);
    sp_complaint_page_free(&pg);
    f = (sp_complaint_filter){.category = "kes"};
    assert_int_equal(sp_complaints_list(d->c, &f, NULL, 10, &pg), SP_OK);
    assert_int_equal(pg.n, 0);
    sp_complaint_page_free(&pg);
    f = (sp_complaint_filter){.category = "kesehatan", .channel_mask = 1u << 1};
    assert_int_equal(sp_complaints_list(d->c, &f, NULL, 10, &pg), SP_OK);
    assert_int_equal(pg.n, 0);
    sp_complaint_page_free(&pg);
    /* Filing time bounds (Open311's start_date and end_date). */
    uint64_t t = sp_test_wib(2025, 6, 2, 9, 0);
    f = (sp_complaint_filter){.filed_from = t, .filed_to = t};
    assert_int_equal(sp_complaints_list(d->c, &f, NULL, 10, &pg), SP_OK);
    assert_int_equal(pg.n, 4);
    sp_complaint_page_free(&pg);
    f = (sp_complaint_filter){.filed_from = t + 1};
    assert_int_equal(sp_complaints_list(d->c, &f, NULL, 10, &pg), SP_OK);
    assert_int_equal(pg.n, 0);
    sp_complaint_page_free(&pg);
    db_free(d);
}

/* Every statistics row also exists per intake channel, so that a channel filter reads rows. */
static void test_stats_per_channel_slice(void **state) {
    char ids[4][SP_TRACKING_ID_MAX], scope[SP_STATS_SCOPE_MAX + 1];
    uint64_t t = sp_test_wib(2025, 6, 2, 9, 0);
    db *d = four_complaints(t, ids);
    sp_stats sum, g;
    int64_t overdue;
    assert_int_equal(sp_stats_scope(scope, "35.77", 3), SP_OK);
    assert_string_equal(scope, "35.77#3");
    assert_int_equal(sp_complaints_stats_sum(d->c, SP_SCOPE_REGION, scope, 1, 99991231, &sum),
                     SP_OK);
    assert_int_equal(sum.v[SP_STAT_FILED], 2);
    assert_int_equal(sum.v[SP_STAT_FIRST_RESPONSE], 0);
    assert_int_equal(
        sp_complaints_stats_now(d->c, SP_SCOPE_REGION, scope, t + 12 * DAY, &g, &overdue), SP_OK);
    assert_int_equal(g.v[SP_STAT_ST_DISPOSITIONED], 2);
    assert_int_equal(overdue, 2);
    assert_int_equal(sp_stats_scope(scope, "opd-3577-pupr", 1), SP_OK);
    assert_int_equal(sp_complaints_stats_sum(d->c, SP_SCOPE_AGENCY, scope, 1, 99991231, &sum),
                     SP_OK);
    assert_int_equal(sum.v[SP_STAT_FIRST_RESPONSE], 1);
    assert_int_equal(sum.v[SP_STAT_FIRST_RESPONSE_IN_SLA], 1);
    assert_int_equal(sp_stats_scope(scope, "", 2), SP_OK); /* national, app */
    assert_int_equal(sp_complaints_stats_sum(d->c, SP_SCOPE_REGION, scope, 1, 99991231, &sum),
                     SP_OK);
    assert_int_equal(sum.v[SP_STAT_FILED], 1);
    assert_int_equal(sp_complaints_stats_sum(d->c, SP_SCOPE_REGION, "", 1, 99991231, &sum), SP_OK);
    assert_int_equal(sum.v[SP_STAT_FILED], 4); /* the plain rows still count every channel */
    assert_int_equal(sp_stats_scope(scope, "35.77", 9), SP_ERR_INVAL); /* no such channel */
    assert_int_equal(sp_stats_scope(scope, "35#7", 1), SP_ERR_INVAL);  /* not a base scope */
    db_free(d);
}

/* "Followed up within SLA" counts the first responses that were due: the answers, late or not,
 * and the dispositioned complaints nobody answered by their respond deadline (regression: it
 * counted only the answers, and read 100 % with unanswered complaints overdue). */
static void test_missed_first_responses_count_once_due(void **state) {
    char ids[4][SP_TRACKING_ID_MAX], scope[SP_STATS_SCOPE_MAX + 1];
    uint64_t t = sp_test_wib(2025, 6, 2, 9, 0);
    db *d = four_complaints(t, ids);
    sp_stats_current cur;
    /* Tuesday 10 June: the responses are due by Wednesday 11 June (6 and 9 June are off). */
    assert_int_equal(sp_complaints_stats_current(d->c, SP_SCOPE_REGION, "", t + 8 * DAY, &cur),
                     SP_OK);
    assert_int_equal(cur.unanswered_overdue, 0);
    assert_int_equal(cur.overdue, 1); /* the unverified one */
    /* Saturday 14 June: the two dispositioned ones missed it; the one in triage owes none. */
    assert_int_equal(sp_complaints_stats_current(d->c, SP_SCOPE_REGION, "", t + 12 * DAY, &cur),
                     SP_OK);
    assert_int_equal(cur.unanswered_overdue, 2);
    assert_int_equal(cur.overdue, 3);
    assert_int_equal(
        sp_complaints_stats_current(d->c, SP_SCOPE_AGENCY, "opd-3577-pupr", t + 12 * DAY, &cur),
        SP_OK);
    assert_int_equal(cur.unanswered_overdue, 2);
    assert_int_equal(sp_stats_scope(scope, "35.77", 3), SP_OK); /* both came by SMS */
    assert_int_equal(sp_complaints_stats_current(d->c, SP_SCOPE_REGION, scope, t + 12 * DAY, &cur),
                     SP_OK);
    assert_int_equal(cur.unanswered_overdue, 2);
    assert_int_equal(sp_stats_scope(scope, "35.77", 1), SP_OK); /* the web one was answered */
    assert_int_equal(sp_complaints_stats_current(d->c, SP_SCOPE_REGION, scope, t + 12 * DAY, &cur),
                     SP_OK);
    assert_int_equal(cur.unanswered_overdue, 0);
    db_free(d);
}

static void on_progress(void *arg, const char *phase, uint64_t done, uint64_t total) {
    (*(int *)arg)++;
}

static void test_rebuild_wipes_stale_records(void **state) {
    uint64_t rng = 12345;
    workload w;
    workload_make(&w, 20, &rng);
    db *d = db_new("cmp-stale");
    commit(d, w.ev, w.n);
    blob before = dump_cf(d, SP_CF_STATS), cbefore = dump_cf(d, SP_CF_COMPLAINTS);
    /* Junk that no event explains disappears. */
    sp_wbatch *b = sp_wbatch_new(d->st);
    sp_wbatch_put(b, SP_CF_COMPLAINTS, "s/9999-1", 8, "junk", 4);
    sp_wbatch_put(b, SP_CF_STATS, "R99/20250101", 12, "\x01\x02", 2);
    assert_int_equal(sp_store_write(d->st, b, 0), SP_OK);
    sp_wbatch_free(b);
    int calls = 0;
    sp_rebuild_result res;
    assert_int_equal(sp_complaints_rebuild(d->st, &env.ctx, on_progress, &calls, &res), SP_OK);
    assert_true(calls >= 2);
    assert_true(res.stats_rows > 0);
    blob after = dump_cf(d, SP_CF_STATS), cafter = dump_cf(d, SP_CF_COMPLAINTS);
    assert_same_blob(&before, &after);
    assert_same_blob(&cbefore, &cafter);
    sp_complaint_state s;
    assert_int_equal(sp_complaints_get(d->c, "9999-1", 1, &s), SP_ERR_NOT_FOUND);
    sp_state_clear(&s);
    char long_id[300];
    memset(long_id, 'A', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_int_equal(sp_complaints_get(d->c, long_id, 1, &s), SP_ERR_NOT_FOUND);
    sp_state_clear(&s);
    workload_free(&w);
    db_free(d);
}

/* Filing numbers: where an intake's numbering resumes comes from the store (and survives a
 * rebuild); ids of filings made before numbers existed still resolve. */
static void test_filing_numbers_resume_and_legacy_ids_resolve(void **state) {
    db *d = db_new("cmp-numbers");
    sp_fold_event ev[8];
    char ids[8][SP_TRACKING_ID_MAX];
    uint64_t t = sp_test_wib(2025, 6, 2, 9, 0);
    const char *origin[] = {"kota-3577", "kota-3577", "kota-3577", "kota-3577", "kota-5171"};
    uint64_t seq[] = {1, 2, 5, 9, 1}, number[] = {0, 1, 2, 3, 1};
    for (size_t i = 0; i < 5; i++) {
        ev[i] = sp_test_ev(SP_EV_FILED, origin[i], seq[i], t + i, SP_ROLE_REPORTER, "");
        ev[i].type = 2;
        ev[i].category = "x";
        ev[i].region = i == 4 ? "51.71" : "35.77";
        ev[i].number = number[i];
        if (number[i])
            assert_int_equal(sp_tracking_number(ids[i], origin[i], number[i]), SP_OK);
        else
            assert_int_equal(sp_tracking_id(ids[i], origin[i], seq[i]), SP_OK);
    }
    commit(d, ev, 5);
    uint64_t last;
    assert_int_equal(sp_complaints_last_number(d->c, "kota-3577", &last), SP_OK);
    assert_int_equal(last, 3);
    assert_int_equal(sp_complaints_last_number(d->c, "kota-5171", &last), SP_OK);
    assert_int_equal(last, 1);
    assert_int_equal(sp_complaints_last_number(d->c, "kota-35", &last), SP_OK);
    assert_int_equal(last, 0); /* a prefix of another intake's id counts nothing */
    assert_string_equal(ids[0], "3577-1");
    for (size_t i = 0; i < 5; i++) {
        sp_complaint_state s;
        assert_int_equal(sp_complaints_get(d->c, ids[i], 0, &s), SP_OK);
        assert_int_equal(s.status, SP_ST_FILED);
        sp_state_clear(&s);
    }
    blob before = dump_cf(d, SP_CF_COMPLAINTS);
    sp_rebuild_result res;
    assert_int_equal(sp_complaints_rebuild(d->st, &env.ctx, NULL, NULL, &res), SP_OK);
    blob after = dump_cf(d, SP_CF_COMPLAINTS);
    assert_same_blob(&before, &after);
    assert_int_equal(sp_complaints_last_number(d->c, "kota-3577", &last), SP_OK);
    assert_int_equal(last, 3);
    db_free(d);
}

/* A store whose derived state is in an older format says so until it is rebuilt; a new store
 * starts in the current format. */
static void test_derived_state_format_is_recorded(void **state) {
    db *d = db_new("cmp-format");
    uint32_t f = 0;
    assert_int_equal(sp_complaints_format(d->c, &f), SP_OK);
    assert_int_equal(f, SP_COMPLAINTS_FORMAT);
    uint64_t rng = 7;
    workload w;
    workload_make(&w, 5, &rng);
    commit(d, w.ev, w.n);
    /* what a node of the previous version left: the same state without the format record */
    sp_wbatch *b = sp_wbatch_new(d->st);
    sp_wbatch_delete(b, SP_CF_COMPLAINTS, "format", 6);
    assert_int_equal(sp_store_write(d->st, b, 0), SP_OK);
    sp_wbatch_free(b);
    assert_int_equal(sp_complaints_format(d->c, &f), SP_OK);
    assert_int_equal(f, 1);
    sp_complaints_close(d->c); /* opening again keeps the old format: it is not a new store */
    assert_int_equal(sp_complaints_open(&d->c, d->st, &env.ctx), SP_OK);
    assert_int_equal(sp_complaints_format(d->c, &f), SP_OK);
    assert_int_equal(f, 1);
    sp_rebuild_result res;
    assert_int_equal(sp_complaints_rebuild(d->st, &env.ctx, NULL, NULL, &res), SP_OK);
    assert_int_equal(sp_complaints_format(d->c, &f), SP_OK);
    assert_int_equal(f, SP_COMPLAINTS_FORMAT);
    b = sp_wbatch_new(d->st);
    sp_wbatch_put(b, SP_CF_COMPLAINTS, "format", 6, "x2", 2);
    assert_int_equal(sp_store_write(d->st, b, 0), SP_OK);
    sp_wbatch_free(b);
    assert_int_equal(sp_complaints_format(d->c, &f), SP_ERR_CORRUPT);
    workload_free(&w);
    db_free(d);
}

/* ---- history, upgrade, long threads ---- */

/* The history is computed from the event index: verdicts and statuses as the fold gives them
 * now, also after a late event changed what came after it; the envelopes come aligned. */
static void test_history_follows_late_events(void **state) {
    db *d = db_new("cmp-history");
    sp_fold_event ev[8];
    uint64_t seq = 0, t = sp_test_wib(2025, 6, 2, 9, 0);
    char id[SP_TRACKING_ID_MAX];
    size_t n = scripted(ev, 0, &seq, "prov-35", "35.77", "kota-3577", "opd-3577-pupr",
                        SP_ST_DISPOSITIONED, t, id);
    /* a follow-up by an agency the complaint was not given to: refused */
    ev[n++] = sp_test_ev(SP_EV_FOLLOW_UP, "opd-3577-dinkes", 1, t + 3 * H,
                         SP_ROLE_ADMIN_PENGHUBUNG, id);
    sp_history_entry *h;
    sp_envelope *envs;
    size_t nh;
    assert_int_equal(sp_complaints_history(d->c, id, &h, &nh, NULL), SP_ERR_NOT_FOUND);
    commit(d, ev + 1, n - 1); /* everything but the filing: nothing applies yet */
    assert_int_equal(sp_complaints_history(d->c, id, &h, &nh, NULL), SP_OK);
    assert_int_equal(nh, n - 1);
    for (size_t i = 0; i < nh; i++) {
        assert_int_equal(h[i].verdict, SP_V_NOT_FILED);
        assert_int_equal(h[i].status_after, SP_ST_NONE);
    }
    free(h);
    commit(d, ev, 1); /* the filing arrives last and sorts first */
    assert_int_equal(sp_complaints_history(d->c, id, &h, &nh, &envs), SP_OK);
    assert_int_equal(nh, n);
    const uint8_t want_status[] = {SP_ST_FILED, SP_ST_VERIFIED, SP_ST_DISPOSITIONED,
                                   SP_ST_DISPOSITIONED};
    for (size_t i = 0; i < nh; i++) {
        assert_int_equal(h[i].status_after, want_status[i]);
        assert_int_equal(h[i].verdict, i < 3 ? SP_V_ACCEPTED : SP_V_NOT_ASSIGNED);
        assert_string_equal(h[i].origin, ev[i].origin);
        assert_int_equal(h[i].seq, ev[i].seq);
        assert_int_equal(h[i].kind, ev[i].kind);
        assert_string_equal(envs[i].origin, ev[i].origin);
        assert_int_equal(envs[i].seq, ev[i].seq);
        assert_int_equal(envs[i].hlc, ev[i].hlc);
    }
    sp_complaint_state s;
    assert_int_equal(sp_complaints_get(d->c, id, 0, &s), SP_OK);
    assert_int_equal(s.events, n);
    assert_int_equal(s.rejected, 1);
    assert_int_equal(s.filed_seq, ev[0].seq);
    assert_string_equal(s.last_origin, "opd-3577-dinkes");
    sp_envelopes_free(envs, nh);
    free(h);
    db_free(d);
}

/* A store left by the previous version (format 2: states with their history, version 1) is
 * recognised as such, its states are refused rather than misread, and a rebuild brings it to
 * the current format with the same bytes as incremental maintenance. */
static void test_format_2_store_is_rebuilt(void **state) {
    uint64_t rng = 99;
    workload w;
    workload_make(&w, 8, &rng);
    db *d = db_new("cmp-format2");
    commit(d, w.ev, w.n);
    blob want = dump_cf(d, SP_CF_COMPLAINTS);
    /* what format 2 left: no event index, a version-1 state (field 1 = 1, id, history) */
    sp_wbatch *b = sp_wbatch_new(d->st);
    sp_wbatch_put(b, SP_CF_COMPLAINTS, "format", 6, "2", 1);
    char key[SP__CKEY_MAX];
    size_t kn = sp__state_key(key, w.ids[0]), idn = strlen(w.ids[0]);
    uint8_t old[128] = {0x08, 0x01, 0x12, (uint8_t)idn};
    memcpy(old + 4, w.ids[0], idn);
    memcpy(old + 4 + idn, "\x82\x05\x04\x0a\x02x1", 7); /* a history entry, field 80 */
    sp_wbatch_put(b, SP_CF_COMPLAINTS, key, kn, old, 4 + idn + 7);
    /* and no event index: format 2 had none */
    sp_iter *it = sp_iter_new(d->st, SP_CF_COMPLAINTS);
    for (sp_iter_seek(it, "e/", 2); sp_iter_valid(it); sp_iter_next(it)) {
        size_t ekn;
        const uint8_t *ek = sp_iter_key(it, &ekn);
        if (ekn < 2 || memcmp(ek, "e/", 2) != 0) break;
        sp_wbatch_delete(b, SP_CF_COMPLAINTS, ek, ekn);
    }
    sp_iter_free(it);
    assert_int_equal(sp_store_write(d->st, b, 0), SP_OK);
    sp_wbatch_free(b);
    uint32_t f = 0;
    assert_int_equal(sp_complaints_format(d->c, &f), SP_OK);
    assert_int_equal(f, 2);
    sp_complaint_state s;
    assert_int_equal(sp_complaints_get(d->c, w.ids[0], 1, &s), SP_ERR_CORRUPT);
    sp_state_clear(&s);
    sp_rebuild_result res;
    assert_int_equal(sp_complaints_rebuild(d->st, &env.ctx, NULL, NULL, &res), SP_OK);
    assert_int_equal(sp_complaints_format(d->c, &f), SP_OK);
    assert_int_equal(f, SP_COMPLAINTS_FORMAT);
    assert_int_equal(f, 4);
    assert_int_equal(sp_complaints_get(d->c, w.ids[0], 1, &s), SP_OK);
    sp_state_clear(&s);
    blob got = dump_cf(d, SP_CF_COMPLAINTS);
    assert_same_blob(&got, &want);
    workload_free(&w);
    db_free(d);
}

/* The stored state of a complaint with thousands of comments is as small as with a few: the
 * history is not in it. Its history still lists every event, and rebuild agrees. */
static void test_long_thread_state_size_stays_constant(void **state) {
    db *d = db_new("cmp-long");
    enum { COMMENTS = 5000, PER_BATCH = 250 };
    sp_fold_event *ev = calloc(COMMENTS + 8, sizeof *ev);
    uint64_t seq = 0, t = sp_test_wib(2025, 6, 2, 9, 0);
    char id[SP_TRACKING_ID_MAX], key[SP__CKEY_MAX];
    size_t n = scripted(ev, 0, &seq, "prov-35", "35.77", "kota-3577", "opd-3577-pupr",
                        SP_ST_DISPOSITIONED, t, id),
           kn = sp__state_key(key, id), first = 0;
    commit(d, ev, n);
    for (size_t i = 0; i < COMMENTS; i++)
        ev[n + i] = sp_test_ev(SP_EV_COMMENTED, i % 2 ? "prov-35" : "opd-3577-pupr",
                               100000 + i, t + 4 * H + i * 1000,
                               i % 2 ? SP_ROLE_REPORTER : SP_ROLE_ADMIN_PENGHUBUNG, id);
    for (size_t i = 0; i < COMMENTS; i += PER_BATCH) {
        commit(d, ev + n + i, PER_BATCH);
        uint8_t *v;
        size_t vn;
        assert_int_equal(sp_store_get(d->st, SP_CF_COMPLAINTS, key, kn, &v, &vn), SP_OK);
        free(v);
        if (!first) first = vn;
        /* only varints grow: counters and the last seq, a few bytes in all */
        if (vn > first + 6) fail_msg("state of %zu bytes after %zu comments, %zu after %d", vn,
                                     i + PER_BATCH, first, PER_BATCH);
        assert_true(vn < 400);
    }
    sp_complaint_state s;
    assert_int_equal(sp_complaints_get(d->c, id, 0, &s), SP_OK);
    assert_int_equal(s.comments, COMMENTS);
    assert_int_equal(s.events, n + COMMENTS);
    sp_history_entry *h;
    size_t nh;
    assert_int_equal(sp_complaints_history(d->c, id, &h, &nh, NULL), SP_OK);
    assert_int_equal(nh, n + COMMENTS);
    assert_int_equal(h[nh - 1].kind, SP_EV_COMMENTED);
    assert_int_equal(h[nh - 1].status_after, SP_ST_DISPOSITIONED);
    free(h);
    blob before = dump_cf(d, SP_CF_COMPLAINTS);
    sp_rebuild_result res;
    assert_int_equal(sp_complaints_rebuild(d->st, &env.ctx, NULL, NULL, &res), SP_OK);
    blob after = dump_cf(d, SP_CF_COMPLAINTS);
    assert_same_blob(&before, &after);
    free(ev);
    db_free(d);
}

/* A node folds only the complaints whose intake node's feed it keeps (sp_fold_ctx.self): at
 * Kota Denpasar, complaints taken in at Kota Madiun or the Jawa Timur province are stored as
 * events but leave no state, and a rebuild agrees byte for byte. */
static void test_node_folds_only_complaints_it_can_hold(void **state) {
    uint64_t rng = 777;
    workload w;
    workload_make(&w, 40, &rng);
    sp_fold_ctx ctx = env.ctx;
    ctx.self = sp_topology_find(env.topo, "kota-5171");
    assert_non_null(ctx.self);
    db *d = calloc(1, sizeof *d);
    assert_non_null(sp_test_tmpdir(d->dir, "cmp-scope"));
    assert_int_equal(sp_store_open(&d->st, d->dir, SP_NODE_CFS), SP_OK);
    assert_int_equal(sp_complaints_open(&d->c, d->st, &ctx), SP_OK);
    commit(d, w.ev, w.n);
    size_t held = 0, foreign = 0;
    for (size_t i = 0; i < w.stories; i++) {
        int mine = strncmp(w.ids[i], "3577-", 5) != 0 && strncmp(w.ids[i], "35-", 3) != 0;
        sp_complaint_state st;
        sp_err rv = sp_complaints_get(d->c, w.ids[i], 1, &st);
        assert_int_equal(rv, mine ? SP_OK : SP_ERR_NOT_FOUND);
        sp_state_clear(&st);
        held += mine, foreign += !mine;
    }
    assert_true(held > 0 && foreign > 0);
    sp_complaints_counters c;
    sp_complaints_counters_get(d->c, &c);
    assert_true(c.foreign > 0);
    blob before = dump_cf(d, SP_CF_COMPLAINTS), sbefore = dump_cf(d, SP_CF_STATS);
    sp_rebuild_result res;
    assert_int_equal(sp_complaints_rebuild(d->st, &ctx, NULL, NULL, &res), SP_OK);
    assert_int_equal(res.foreign, c.foreign);
    blob after = dump_cf(d, SP_CF_COMPLAINTS), safter = dump_cf(d, SP_CF_STATS);
    assert_same_blob(&before, &after);
    assert_same_blob(&sbefore, &safter);
    workload_free(&w);
    db_free(d);
}

static int setup(void **state) {
    return sp_test_fold_env_init(&env);
}

static int teardown(void **state) {
    sp_test_fold_env_free(&env);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_any_order_any_batching_same_bytes_and_rebuild),
        cmocka_unit_test(test_feed_log_hook_across_nodes),
        cmocka_unit_test(test_non_complaint_bodies_are_skipped),
        cmocka_unit_test(test_lists_and_stats),
        cmocka_unit_test(test_lists_filter_by_category_and_channel),
        cmocka_unit_test(test_stats_per_channel_slice),
        cmocka_unit_test(test_missed_first_responses_count_once_due),
        cmocka_unit_test(test_rebuild_wipes_stale_records),
        cmocka_unit_test(test_filing_numbers_resume_and_legacy_ids_resolve),
        cmocka_unit_test(test_derived_state_format_is_recorded),
        cmocka_unit_test(test_history_follows_late_events),
        cmocka_unit_test(test_format_2_store_is_rebuilt),
        cmocka_unit_test(test_long_thread_state_size_stays_constant),
        cmocka_unit_test(test_node_folds_only_complaints_it_can_hold),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
