/*
 * Property test of the fold: random multi-agency lifecycles (valid steps, refused steps, clock
 * skew, escalations and auto-completions when due) delivered to N simulated replicas in random
 * order with duplicates. Each replica maintains state and statistics incrementally exactly like
 * node/lifecycle/complaints.c (append when the event is the latest, else re-fold; stats by subtracting
 * the old state's contribution and adding the new one; states stored encoded). Every replica
 * must end with the same bytes and the same statistics as folding each complaint's full event
 * set at once (what `simpul rebuild` does).
 *
 *   fold_prop_test [--schedules N] [--seed S] [--long]
 * prints its seed; --long runs 10,000 schedules with up to 7 replicas.
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

#include "node/lifecycle/fold.h"
#include "node/lifecycle/fold_stats.h"
#include "node/lifecycle/fold_testutil.h"
#include "tests/unit/testutil.h"

#define MAX_COMPLAINTS 8
#define MAX_EVENTS 320
#define MAX_DELIVERIES (MAX_EVENTS * 3)

static long opt_schedules = 1000;
static uint64_t opt_seed;
static int opt_long;
static sp_test_fold_env env;

/* ---- generating a schedule ---- */

static const char *const intakes[] = {"prov-35", "kota-3577", "kota-5171", "national",
                                      "kota-9171", "kemenkes"};
static const char *const regions[] = {"35.77", "51.71", "91.71", "35", "35.01", "51", ""};
static const char *const agencies[] = {"opd-3577-pupr", "opd-3577-dinkes", "kemenkes", "bpjs",
                                       "opd-5171-pupr", "kota-9171", "kota-3577"};
static const char *const outsiders[] = {"bpjs", "prov-91", "opd-5171-pupr", "kota-3577"};
static const char *const origins_all[] = {"national", "kemenkes", "bpjs", "prov-35", "kota-3577",
                                          "opd-3577-pupr", "opd-3577-dinkes", "prov-51",
                                          "kota-5171", "opd-5171-pupr", "prov-91", "kota-9171"};
#define N_ORIGINS (sizeof origins_all / sizeof *origins_all)
#define PICK(arr, rng) (arr[sp_test_rand(rng) % (sizeof arr / sizeof *arr)])

typedef struct {
    char id[SP_TRACKING_ID_MAX];
    sp_complaint_state shadow; /* the author's view, to choose plausible next steps */
    int steps;
} author_view;

typedef struct {
    uint64_t rng;
    uint64_t now;
    uint64_t seqs[N_ORIGINS];
    sp_fold_event ev[MAX_EVENTS];
    char ids[MAX_EVENTS][SP_TRACKING_ID_MAX]; /* complaint of each event */
    size_t n;
    author_view c[MAX_COMPLAINTS];
    size_t nc;
} schedule;

static uint64_t seq_for(schedule *s, const char *origin) {
    for (size_t i = 0; i < N_ORIGINS; i++)
        if (strcmp(origins_all[i], origin) == 0) return ++s->seqs[i];
    fail_msg("unknown origin %s", origin);
    return 0;
}

/* The static copy of a node id (events must not point into the author's shadow state). */
static const char *stable(const char *origin, const char *otherwise) {
    for (size_t i = 0; i < N_ORIGINS; i++)
        if (strcmp(origins_all[i], origin) == 0) return origins_all[i];
    return otherwise;
}

static uint64_t chance(schedule *s, unsigned pct) {
    return sp_test_rand(&s->rng) % 100 < pct;
}

/* Append an event of complaint k and show it to the author's shadow state. */
static void emit(schedule *s, size_t k, sp_fold_event e) {
    if (s->n == MAX_EVENTS) return;
    author_view *c = &s->c[k];
    e.seq = seq_for(s, e.origin);
    if (e.kind == SP_EV_FILED) {
        assert_int_equal(sp_tracking_id(c->id, e.origin, e.seq), SP_OK);
        sp_state_init(&c->shadow, c->id);
    } else {
        e.complaint = c->id;
    }
    strcpy(s->ids[s->n], c->id);
    s->ev[s->n++] = e;
    if (sp_fold_can_append(&c->shadow, &e)) sp_fold_apply(&env.ctx, &c->shadow, &e, NULL);
    c->steps++;
}

static sp_fold_event base(schedule *s, sp_ev_kind kind, const char *origin, sp_role role) {
    /* Mostly hours apart, sometimes days, sometimes the very same millisecond. */
    uint64_t r = sp_test_rand(&s->rng) % 100;
    s->now += r < 10 ? 0 : r < 70 ? (1 + r) * 60000ull : (r - 60) * 8 * 3600000ull;
    sp_fold_event e = sp_test_ev(kind, origin, 0, s->now, role, "");
    e.hlc |= sp_test_rand(&s->rng) % 3; /* HLC counter bits */
    return e;
}

static void file_new(schedule *s) {
    size_t k = s->nc++;
    memset(&s->c[k], 0, sizeof s->c[k]);
    sp_fold_event e = base(s, SP_EV_FILED, PICK(intakes, &s->rng), SP_ROLE_REPORTER);
    e.type = 1 + (uint32_t)(sp_test_rand(&s->rng) % 3);
    e.category = chance(s, 3) ? "" : "infrastruktur/pju";
    e.region = chance(s, 3) ? "99.99" : PICK(regions, &s->rng);
    e.privacy = (uint32_t)(sp_test_rand(&s->rng) % 3);
    e.channel = (uint32_t)(sp_test_rand(&s->rng) % 8);
    emit(s, k, e);
}

/* A system event the shadow says is due (escalation or auto-completion), or nothing. */
static int due_step(schedule *s, size_t k) {
    sp_due_action a[2];
    author_view *c = &s->c[k];
    uint64_t probe = s->now + (sp_test_rand(&s->rng) % 25) * 86400000ull;
    if (sp_fold_due_actions(&env.ctx, &c->shadow, probe, a, 2) == 0) return 0;
    s->now = probe;
    sp_fold_event e = base(
        s, a[0].kind, chance(s, 80) ? stable(a[0].author, "national") : "national", SP_ROLE_SYSTEM);
    static char targets[MAX_EVENTS][SP_MAX_ORIGIN + 1];
    strcpy(targets[s->n], a[0].target);
    e.agency = targets[s->n];
    e.reason = a[0].reason;
    emit(s, k, e);
    return 1;
}

/* Choose the next step of complaint k from its (author's) status. */
static void next_step(schedule *s, size_t k) {
    author_view *c = &s->c[k];
    const sp_complaint_state *sh = &c->shadow;
    const char *resp = stable(sh->responsible, "kota-3577");
    const char *agency = stable(sh->agency, PICK(agencies, &s->rng));
    const char *intake = stable(sh->intake, "national");
    sp_role admin = chance(s, 85) ? SP_ROLE_ADMIN_KOORDINATOR : SP_ROLE_ADMIN_PUSAT;
    if (chance(s, 12) && due_step(s, k)) return;
    if (chance(s, 8)) { /* somebody acting out of turn: refused, but in the log */
        sp_fold_event e = base(s, (sp_ev_kind)(sp_test_rand(&s->rng) % 13),
                               PICK(outsiders, &s->rng), (sp_role)(sp_test_rand(&s->rng) % 6));
        e.agency = PICK(agencies, &s->rng);
        if (e.kind != SP_EV_FILED) emit(s, k, e);
        return;
    }
    if (chance(s, 10)) {
        int reporter = chance(s, 50);
        sp_fold_event e = base(s, SP_EV_COMMENTED, reporter ? intake : PICK(agencies, &s->rng),
                               reporter ? SP_ROLE_REPORTER : SP_ROLE_ADMIN_PENGHUBUNG);
        emit(s, k, e);
        return;
    }
    sp_fold_event e;
    switch (sh->status) {
    case SP_ST_FILED:
        e = base(s, chance(s, 85) ? SP_EV_VERIFIED : SP_EV_ARCHIVED,
                 chance(s, 85) ? resp : "national", admin);
        e.reason = chance(s, 90) ? "duplicate" : "";
        break;
    case SP_ST_VERIFIED:
    case SP_ST_REROUTED:
        e = base(s, chance(s, 92) ? SP_EV_DISPOSITIONED : SP_EV_ARCHIVED, resp, admin);
        e.agency = chance(s, 95) ? PICK(agencies, &s->rng) : "dinas-fiktif";
        e.reason = "not-public-service";
        break;
    case SP_ST_DISPOSITIONED:
    case SP_ST_IN_PROGRESS:
    case SP_ST_REOPENED: {
        uint64_t r = sp_test_rand(&s->rng) % 100;
        sp_ev_kind kind = r < 55 ? SP_EV_FOLLOW_UP : r < 80 ? SP_EV_COMPLETED : SP_EV_REROUTED;
        e = base(s, kind, agency, SP_ROLE_ADMIN_PENGHUBUNG);
        e.reason = "bukan wewenang";
        break;
    }
    case SP_ST_COMPLETED:
        e = base(s, chance(s, 70) ? SP_EV_FEEDBACK : SP_EV_REOPENED, intake, SP_ROLE_REPORTER);
        e.satisfied = chance(s, 60);
        e.rating = (uint32_t)(sp_test_rand(&s->rng) % 6);
        break;
    default: /* closed or never filed: the odd comment or privacy request */
        e = base(s, chance(s, 80) ? SP_EV_COMMENTED : SP_EV_PRIVACY_RAISED, intake,
                 SP_ROLE_REPORTER);
        e.privacy = (uint32_t)(sp_test_rand(&s->rng) % 3);
        break;
    }
    emit(s, k, e);
}

/* One event with a lagging clock: sorts before the filing on some replicas' view of time. */
static void skewed_step(schedule *s, size_t k) {
    uint64_t saved = s->now;
    s->now = s->now > 7200000 ? s->now - 7200000 : 0;
    sp_fold_event e = base(s, SP_EV_VERIFIED, "kota-3577", SP_ROLE_ADMIN_KOORDINATOR);
    emit(s, k, e);
    s->now = saved;
}

static void generate(schedule *s, uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->rng = seed ? seed : 1;
    s->now = sp_test_wib(2025, 1, 2, 8, 0) + (sp_test_rand(&s->rng) % 1000) * 86400000ull;
    size_t want = 1 + sp_test_rand(&s->rng) % MAX_COMPLAINTS;
    for (size_t i = 0; i < want; i++) file_new(s);
    for (int round = 0; round < 400 && s->n < MAX_EVENTS - 2; round++) {
        size_t k = sp_test_rand(&s->rng) % s->nc;
        sp_status st = s->c[k].shadow.status;
        if (s->c[k].steps > 24 || ((sp_status_closed(st) || st == SP_ST_NONE) && chance(s, 90)))
            continue;
        if (chance(s, 2))
            skewed_step(s, k);
        else
            next_step(s, k);
    }
    for (size_t k = 0; k < s->nc; k++) sp_state_clear(&s->c[k].shadow);
}

/* ---- the replicas ---- */

typedef struct {
    char id[SP_TRACKING_ID_MAX];
    uint8_t *state; /* encoded */
    size_t len;
    const sp_fold_event **ev; /* the complaint's events this replica holds */
    size_t n;
} r_complaint;

typedef struct {
    r_complaint c[MAX_COMPLAINTS];
    size_t nc;
    uint8_t have[MAX_EVENTS];
    sp_stats_acc *stats;
} replica;

static r_complaint *r_find(replica *r, const char *id) {
    for (size_t i = 0; i < r->nc; i++)
        if (strcmp(r->c[i].id, id) == 0) return &r->c[i];
    r_complaint *c = &r->c[r->nc++];
    memset(c, 0, sizeof *c);
    strcpy(c->id, id);
    c->ev = calloc(MAX_EVENTS, sizeof *c->ev);
    return c;
}

/* What node/lifecycle/complaints.c does for one arriving event. */
static void r_deliver(replica *r, const schedule *s, size_t i) {
    if (r->have[i]++) return; /* a duplicate: the feed log drops it */
    r_complaint *c = r_find(r, s->ids[i]);
    sp_complaint_state st;
    if (c->state)
        assert_int_equal(sp_state_decode(&st, c->state, c->len), SP_OK);
    else
        sp_state_init(&st, c->id);
    assert_int_equal(sp_stats_contribute(r->stats, &st, -1), SP_OK);
    c->ev[c->n++] = &s->ev[i];
    if (sp_fold_can_append(&st, &s->ev[i])) {
        assert_int_equal(sp_fold_apply(&env.ctx, &st, &s->ev[i], NULL), SP_OK);
    } else {
        sp_fold_event all[MAX_EVENTS];
        for (size_t k = 0; k < c->n; k++) all[k] = *c->ev[k];
        sp_state_clear(&st);
        assert_int_equal(sp_fold_run(&env.ctx, c->id, all, c->n, &st), SP_OK);
    }
    assert_int_equal(sp_stats_contribute(r->stats, &st, +1), SP_OK);
    free(c->state);
    assert_int_equal(sp_state_encode(&st, &c->state, &c->len), SP_OK);
    sp_state_clear(&st);
}

static void r_free(replica *r) {
    for (size_t i = 0; i < r->nc; i++) {
        free(r->c[i].state);
        free(r->c[i].ev);
    }
    sp_stats_acc_free(r->stats);
}

/* ---- comparing ---- */

typedef struct {
    char keys[2048][SP_STATS_KEY_MAX];
    sp_stats rows[2048];
    size_t n;
} stats_dump;

static int dump_row(void *arg, const char *key, const sp_stats *row) {
    stats_dump *d = arg;
    if (d->n == 2048) return 1;
    strcpy(d->keys[d->n], key);
    d->rows[d->n++] = *row;
    return 0;
}

static void dump(const sp_stats_acc *acc, stats_dump *d) {
    d->n = 0;
    assert_int_equal(sp_stats_acc_each(acc, dump_row, d), SP_OK);
    assert_true(d->n < 2048);
}

/* The reference: each complaint folded once from its full set, stats added once. */
typedef struct {
    char id[SP_TRACKING_ID_MAX];
    uint8_t *state;
    size_t len;
} ref_state;

static size_t reference(const schedule *s, ref_state *out, sp_stats_acc *acc,
                        uint64_t verdicts[SP_V__COUNT]) {
    size_t n = 0;
    static sp_fold_event mine[MAX_EVENTS];
    for (size_t i = 0; i < s->n; i++) {
        size_t k = 0;
        while (k < n && strcmp(out[k].id, s->ids[i]) != 0) k++;
        if (k < n) continue;
        strcpy(out[n].id, s->ids[i]);
        size_t m = 0;
        for (size_t j = 0; j < s->n; j++)
            if (strcmp(s->ids[j], s->ids[i]) == 0) mine[m++] = s->ev[j];
        sp_complaint_state st;
        sp_history_entry *h;
        size_t nh;
        assert_int_equal(sp_fold_run_history(&env.ctx, out[n].id, mine, m, &st, &h, NULL, &nh),
                         SP_OK);
        assert_int_equal(nh, m); /* every event is in the history */
        assert_int_equal(st.events, m);
        for (size_t v = 0; v < nh; v++) verdicts[h[v].verdict]++;
        free(h);
        assert_true(!sp_status_closed(st.status) || sp_fold_active_deadline(&st) == 0);
        assert_int_equal(sp_stats_contribute(acc, &st, +1), SP_OK);
        assert_int_equal(sp_state_encode(&st, &out[n].state, &out[n].len), SP_OK);
        sp_state_clear(&st);
        n++;
    }
    return n;
}

static void shuffle(size_t *v, size_t n, uint64_t *rng) {
    for (size_t i = n; i > 1; i--) {
        size_t j = sp_test_rand(rng) % i, t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

static void check_replica(const replica *r, const ref_state *ref, size_t nref,
                          const stats_dump *want, uint64_t seed) {
    static stats_dump got;
    assert_int_equal(r->nc, nref);
    for (size_t k = 0; k < nref; k++) {
        const r_complaint *c = NULL;
        for (size_t i = 0; i < r->nc; i++)
            if (strcmp(r->c[i].id, ref[k].id) == 0) c = &r->c[i];
        if (!c || c->len != ref[k].len || memcmp(c->state, ref[k].state, c->len) != 0)
            fail_msg("schedule seed %llu: complaint %s differs from the reference fold",
                     (unsigned long long)seed, ref[k].id);
    }
    dump(r->stats, &got);
    if (got.n != want->n)
        fail_msg("seed %llu: %zu stats rows, want %zu", (unsigned long long)seed, got.n, want->n);
    for (size_t i = 0; i < got.n; i++) {
        assert_string_equal(got.keys[i], want->keys[i]);
        if (memcmp(&got.rows[i], &want->rows[i], sizeof got.rows[i]) != 0)
            fail_msg("seed %llu: stats row %s differs", (unsigned long long)seed, got.keys[i]);
    }
}

typedef struct {
    uint64_t events, refused, complaints, resolved, escalated;
    uint64_t verdicts[SP_V__COUNT];
} totals;

static void run_schedule(uint64_t seed, int replicas, totals *t) {
    static schedule s;
    static ref_state ref[MAX_COMPLAINTS * 2];
    static stats_dump want;
    static size_t order[MAX_DELIVERIES];
    generate(&s, seed);
    sp_stats_acc *ref_stats;
    assert_int_equal(sp_stats_acc_new(&ref_stats), SP_OK);
    size_t nref = reference(&s, ref, ref_stats, t->verdicts);
    dump(ref_stats, &want);
    uint64_t rng = seed ^ 0x9e3779b97f4a7c15ull;
    for (int r = 0; r < replicas; r++) {
        replica rep;
        memset(&rep, 0, sizeof rep);
        assert_int_equal(sp_stats_acc_new(&rep.stats), SP_OK);
        size_t m = 0;
        for (size_t i = 0; i < s.n; i++) {
            order[m++] = i;
            while (sp_test_rand(&rng) % 4 == 0 && m < MAX_DELIVERIES) order[m++] = i;
        }
        if (r > 0) shuffle(order, m, &rng); /* replica 0 gets the authors' order */
        for (size_t i = 0; i < m; i++) r_deliver(&rep, &s, order[i]);
        check_replica(&rep, ref, nref, &want, seed);
        r_free(&rep);
    }
    t->events += s.n;
    t->complaints += nref;
    for (size_t k = 0; k < nref; k++) {
        sp_complaint_state st;
        assert_int_equal(sp_state_decode(&st, ref[k].state, ref[k].len), SP_OK);
        t->refused += st.rejected;
        t->resolved += st.status == SP_ST_RESOLVED;
        t->escalated += st.escalations > 0;
        sp_state_clear(&st);
        free(ref[k].state);
    }
    sp_stats_acc_free(ref_stats);
}

static void test_replicas_converge(void **state) {
    uint64_t seed = opt_seed;
    totals t = {0};
    for (long i = 0; i < opt_schedules; i++) {
        uint64_t one = seed + (uint64_t)i * 0x2545f4914f6cdd1dull;
        int replicas = 2 + (int)(one % (opt_long ? 6 : 3));
        run_schedule(one ? one : 1, replicas, &t);
    }
    fprintf(stderr,
            "fold_prop_test: %ld schedules, %llu events, %llu complaints (%llu resolved, %llu "
            "escalated), %llu events refused by the rules\n",
            opt_schedules, (unsigned long long)t.events, (unsigned long long)t.complaints,
            (unsigned long long)t.resolved, (unsigned long long)t.escalated,
            (unsigned long long)t.refused);
    for (int v = 0; v < SP_V__COUNT; v++)
        fprintf(stderr, "  %-16s %llu\n", sp_verdict_name((sp_verdict)v),
                (unsigned long long)t.verdicts[v]);
    /* The generator must exercise the lifecycle, not just refusals. */
    assert_true(t.resolved > 0 || opt_schedules < 50);
    assert_true(t.escalated > 0 || opt_schedules < 50);
}

static int setup(void **state) {
    return sp_test_fold_env_init(&env);
}

static int teardown(void **state) {
    sp_test_fold_env_free(&env);
    return 0;
}

int main(int argc, char **argv) {
    int have_seed = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--schedules") == 0 && i + 1 < argc) {
            opt_schedules = atol(argv[++i]);
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            opt_seed = strtoull(argv[++i], NULL, 10);
            have_seed = 1;
        } else if (strcmp(argv[i], "--long") == 0) {
            opt_long = 1;
            if (opt_schedules < 10000) opt_schedules = 10000;
        } else {
            fprintf(stderr, "usage: fold_prop_test [--schedules N] [--seed S] [--long]\n");
            return 2;
        }
    }
    if (have_seed)
        fprintf(stderr, "fold_prop_test: seed %llu\n", (unsigned long long)opt_seed);
    else
        opt_seed = sp_test_seed("fold_prop_test");
    fprintf(stderr, "fold_prop_test: replay with --seed %llu --schedules %ld%s\n",
            (unsigned long long)opt_seed, opt_schedules, opt_long ? " --long" : "");
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_replicas_converge)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
