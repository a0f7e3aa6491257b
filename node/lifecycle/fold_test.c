/*
 * The lifecycle rules, table-driven: every transition and every rejection, each from a
 * complaint brought to a given status along the canonical path, then deadlines, due actions,
 * tracking ids, order independence and the state codec.
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
#include "node/lifecycle/fold_testutil.h"
#include "tests/unit/testutil.h"

#define INTAKE "prov-35"  /* the reporter filed through the province portal */
#define RESP "kota-3577"  /* responsible for region 35.77 */
#define AGENCY "opd-3577-pupr"
#define OTHER_OPD "opd-3577-dinkes"
#define ID "35-1"

#define H 3600000ull
#define D (24 * H)

static sp_test_fold_env env;

static int setup(void **state) {
    return sp_test_fold_env_init(&env);
}

static int teardown(void **state) {
    sp_test_fold_env_free(&env);
    return 0;
}

/* A complaint under construction: its state, clock and per-origin seqs. */
typedef struct {
    sp_complaint_state s;
    uint64_t t;
    struct {
        const char *origin;
        uint64_t seq;
    } seqs[16];
} fx;

static uint64_t next_seq(fx *f, const char *origin) {
    for (int i = 0; i < 16; i++) {
        if (!f->seqs[i].origin) f->seqs[i].origin = origin;
        if (strcmp(f->seqs[i].origin, origin) == 0) return ++f->seqs[i].seq;
    }
    fail_msg("too many origins");
    return 0;
}

/* An event of this complaint by origin, dt after the previous one. */
static sp_fold_event mk(fx *f, sp_ev_kind kind, const char *origin, sp_role role, uint64_t dt) {
    f->t += dt;
    return sp_test_ev(kind, origin, next_seq(f, origin), f->t, role, ID);
}

static sp_verdict apply(fx *f, const sp_fold_event *ev) {
    sp_verdict v;
    assert_int_equal(sp_fold_apply(&env.ctx, &f->s, ev, &v), SP_OK);
    return v;
}

static void must(fx *f, sp_fold_event ev) {
    sp_verdict v = apply(f, &ev);
    if (v != SP_V_ACCEPTED)
        fail_msg("path step %s by %s refused: %s", sp_ev_kind_name(ev.kind), ev.origin,
                 sp_verdict_name(v));
}

static sp_fold_event filed_event(fx *f) {
    sp_fold_event e = mk(f, SP_EV_FILED, INTAKE, SP_ROLE_REPORTER, 0);
    e.complaint = "";
    e.type = 2;
    e.category = "infrastruktur/pju";
    e.region = "35.77";
    return e;
}

/* Bring a fresh complaint to status `to` along the canonical path, one hour per step. */
static void reach(fx *f, sp_status to) {
    memset(f, 0, sizeof *f);
    sp_state_init(&f->s, ID);
    f->t = sp_test_wib(2025, 3, 3, 9, 0); /* Monday 3 March 2025, 09:00 WIB */
    if (to == SP_ST_NONE) return;
    must(f, filed_event(f));
    if (to == SP_ST_FILED) return;
    if (to == SP_ST_ARCHIVED) {
        sp_fold_event e = mk(f, SP_EV_ARCHIVED, RESP, SP_ROLE_ADMIN_KOORDINATOR, H);
        e.reason = "duplicate";
        must(f, e);
        return;
    }
    must(f, mk(f, SP_EV_VERIFIED, RESP, SP_ROLE_ADMIN_KOORDINATOR, H));
    if (to == SP_ST_VERIFIED) return;
    sp_fold_event d = mk(f, SP_EV_DISPOSITIONED, RESP, SP_ROLE_ADMIN_KOORDINATOR, H);
    d.agency = AGENCY;
    must(f, d);
    if (to == SP_ST_DISPOSITIONED) return;
    if (to == SP_ST_REROUTED) {
        sp_fold_event r = mk(f, SP_EV_REROUTED, AGENCY, SP_ROLE_ADMIN_PENGHUBUNG, H);
        r.reason = "bukan wewenang";
        must(f, r);
        return;
    }
    must(f, mk(f, SP_EV_FOLLOW_UP, AGENCY, SP_ROLE_ADMIN_PENGHUBUNG, H));
    if (to == SP_ST_IN_PROGRESS) return;
    must(f, mk(f, SP_EV_COMPLETED, AGENCY, SP_ROLE_ADMIN_PENGHUBUNG, H));
    if (to == SP_ST_COMPLETED) return;
    sp_fold_event x = mk(f, to == SP_ST_RESOLVED ? SP_EV_FEEDBACK : SP_EV_REOPENED, INTAKE,
                         SP_ROLE_REPORTER, H);
    x.satisfied = 1;
    x.rating = 5;
    must(f, x);
}

/* ---- the transition table ---- */

typedef struct {
    const char *name;
    sp_status from;
    sp_ev_kind kind;
    const char *origin;
    sp_role role;
    const char *agency, *reason;
    uint32_t satisfied, rating, privacy;
    uint64_t after; /* ms after the path's last event; 0 means one hour */
    sp_verdict want;
    sp_status want_status; /* status afterwards (for a refusal: unchanged) */
} tcase;

#define KOOR SP_ROLE_ADMIN_KOORDINATOR
#define PUSAT SP_ROLE_ADMIN_PUSAT
#define PENGH SP_ROLE_ADMIN_PENGHUBUNG
#define REP SP_ROLE_REPORTER
#define SYS SP_ROLE_SYSTEM

/* One transition per line: this reads as a table, so clang-format leaves it alone. */
// clang-format off
static const tcase cases[] = {
    /* verify */
    {"verify by responsible node", SP_ST_FILED, SP_EV_VERIFIED, RESP, KOOR, .want = SP_V_ACCEPTED, .want_status = SP_ST_VERIFIED},
    {"verify by national admin", SP_ST_FILED, SP_EV_VERIFIED, "national", PUSAT, .want = SP_V_ACCEPTED, .want_status = SP_ST_VERIFIED},
    {"verify by intake node", SP_ST_FILED, SP_EV_VERIFIED, INTAKE, KOOR, .want = SP_V_NOT_RESPONSIBLE, .want_status = SP_ST_FILED},
    {"verify by agency", SP_ST_FILED, SP_EV_VERIFIED, AGENCY, KOOR, .want = SP_V_NOT_RESPONSIBLE, .want_status = SP_ST_FILED},
    {"verify by liaison officer", SP_ST_FILED, SP_EV_VERIFIED, RESP, PENGH, .want = SP_V_WRONG_ROLE, .want_status = SP_ST_FILED},
    {"verify by reporter role", SP_ST_FILED, SP_EV_VERIFIED, RESP, REP, .want = SP_V_WRONG_ROLE, .want_status = SP_ST_FILED},
    {"verify twice", SP_ST_VERIFIED, SP_EV_VERIFIED, RESP, KOOR, .want = SP_V_WRONG_STATUS, .want_status = SP_ST_VERIFIED},
    {"verify dispositioned", SP_ST_DISPOSITIONED, SP_EV_VERIFIED, RESP, KOOR, .want = SP_V_WRONG_STATUS, .want_status = SP_ST_DISPOSITIONED},
    {"verify before filing", SP_ST_NONE, SP_EV_VERIFIED, RESP, KOOR, .want = SP_V_NOT_FILED, .want_status = SP_ST_NONE},
    /* archive */
    {"archive filed", SP_ST_FILED, SP_EV_ARCHIVED, RESP, KOOR, .reason = "unclear", .want = SP_V_ACCEPTED, .want_status = SP_ST_ARCHIVED},
    {"archive verified", SP_ST_VERIFIED, SP_EV_ARCHIVED, RESP, KOOR, .reason = "duplicate", .want = SP_V_ACCEPTED, .want_status = SP_ST_ARCHIVED},
    {"archive rerouted", SP_ST_REROUTED, SP_EV_ARCHIVED, "national", PUSAT, .reason = "not-public-service", .want = SP_V_ACCEPTED, .want_status = SP_ST_ARCHIVED},
    {"archive without reason", SP_ST_FILED, SP_EV_ARCHIVED, RESP, KOOR, .want = SP_V_BAD_FIELD, .want_status = SP_ST_FILED},
    {"archive dispositioned", SP_ST_DISPOSITIONED, SP_EV_ARCHIVED, RESP, KOOR, .reason = "x", .want = SP_V_WRONG_STATUS, .want_status = SP_ST_DISPOSITIONED},
    {"archive in progress", SP_ST_IN_PROGRESS, SP_EV_ARCHIVED, RESP, KOOR, .reason = "x", .want = SP_V_WRONG_STATUS, .want_status = SP_ST_IN_PROGRESS},
    {"archive twice", SP_ST_ARCHIVED, SP_EV_ARCHIVED, RESP, KOOR, .reason = "x", .want = SP_V_WRONG_STATUS, .want_status = SP_ST_ARCHIVED},
    {"archive by agency", SP_ST_FILED, SP_EV_ARCHIVED, AGENCY, KOOR, .reason = "x", .want = SP_V_NOT_RESPONSIBLE, .want_status = SP_ST_FILED},
    /* disposition */
    {"disposition verified", SP_ST_VERIFIED, SP_EV_DISPOSITIONED, RESP, KOOR, .agency = AGENCY, .want = SP_V_ACCEPTED, .want_status = SP_ST_DISPOSITIONED},
    {"disposition rerouted", SP_ST_REROUTED, SP_EV_DISPOSITIONED, RESP, KOOR, .agency = OTHER_OPD, .want = SP_V_ACCEPTED, .want_status = SP_ST_DISPOSITIONED},
    {"re-disposition before follow-up", SP_ST_DISPOSITIONED, SP_EV_DISPOSITIONED, "national", PUSAT, .agency = "kemenkes", .want = SP_V_ACCEPTED, .want_status = SP_ST_DISPOSITIONED},
    {"disposition unknown agency", SP_ST_VERIFIED, SP_EV_DISPOSITIONED, RESP, KOOR, .agency = "dinas-fiktif", .want = SP_V_UNKNOWN_AGENCY, .want_status = SP_ST_VERIFIED},
    {"disposition without agency", SP_ST_VERIFIED, SP_EV_DISPOSITIONED, RESP, KOOR, .want = SP_V_BAD_FIELD, .want_status = SP_ST_VERIFIED},
    {"disposition unverified", SP_ST_FILED, SP_EV_DISPOSITIONED, RESP, KOOR, .agency = AGENCY, .want = SP_V_WRONG_STATUS, .want_status = SP_ST_FILED},
    {"disposition in progress", SP_ST_IN_PROGRESS, SP_EV_DISPOSITIONED, RESP, KOOR, .agency = AGENCY, .want = SP_V_WRONG_STATUS, .want_status = SP_ST_IN_PROGRESS},
    {"disposition by province", SP_ST_VERIFIED, SP_EV_DISPOSITIONED, "prov-35", KOOR, .agency = AGENCY, .want = SP_V_NOT_RESPONSIBLE, .want_status = SP_ST_VERIFIED},
    {"disposition by liaison", SP_ST_VERIFIED, SP_EV_DISPOSITIONED, RESP, PENGH, .agency = AGENCY, .want = SP_V_WRONG_ROLE, .want_status = SP_ST_VERIFIED},
    /* follow-up */
    {"follow-up dispositioned", SP_ST_DISPOSITIONED, SP_EV_FOLLOW_UP, AGENCY, PENGH, .want = SP_V_ACCEPTED, .want_status = SP_ST_IN_PROGRESS},
    {"second follow-up", SP_ST_IN_PROGRESS, SP_EV_FOLLOW_UP, AGENCY, KOOR, .want = SP_V_ACCEPTED, .want_status = SP_ST_IN_PROGRESS},
    {"follow-up reopened", SP_ST_REOPENED, SP_EV_FOLLOW_UP, AGENCY, PENGH, .want = SP_V_ACCEPTED, .want_status = SP_ST_IN_PROGRESS},
    {"follow-up by responsible node", SP_ST_DISPOSITIONED, SP_EV_FOLLOW_UP, RESP, KOOR, .want = SP_V_NOT_ASSIGNED, .want_status = SP_ST_DISPOSITIONED},
    {"follow-up by another OPD", SP_ST_DISPOSITIONED, SP_EV_FOLLOW_UP, OTHER_OPD, PENGH, .want = SP_V_NOT_ASSIGNED, .want_status = SP_ST_DISPOSITIONED},
    {"follow-up by system", SP_ST_DISPOSITIONED, SP_EV_FOLLOW_UP, AGENCY, SYS, .want = SP_V_WRONG_ROLE, .want_status = SP_ST_DISPOSITIONED},
    {"follow-up verified", SP_ST_VERIFIED, SP_EV_FOLLOW_UP, AGENCY, PENGH, .want = SP_V_WRONG_STATUS, .want_status = SP_ST_VERIFIED},
    {"follow-up completed", SP_ST_COMPLETED, SP_EV_FOLLOW_UP, AGENCY, PENGH, .want = SP_V_WRONG_STATUS, .want_status = SP_ST_COMPLETED},
    {"follow-up after reroute", SP_ST_REROUTED, SP_EV_FOLLOW_UP, AGENCY, PENGH, .want = SP_V_WRONG_STATUS, .want_status = SP_ST_REROUTED},
    /* complete */
    {"complete in progress", SP_ST_IN_PROGRESS, SP_EV_COMPLETED, AGENCY, PENGH, .want = SP_V_ACCEPTED, .want_status = SP_ST_COMPLETED},
    {"complete without follow-up", SP_ST_DISPOSITIONED, SP_EV_COMPLETED, AGENCY, KOOR, .want = SP_V_ACCEPTED, .want_status = SP_ST_COMPLETED},
    {"complete reopened", SP_ST_REOPENED, SP_EV_COMPLETED, AGENCY, PENGH, .want = SP_V_ACCEPTED, .want_status = SP_ST_COMPLETED},
    {"auto-complete after 10 working days", SP_ST_IN_PROGRESS, SP_EV_COMPLETED, AGENCY, SYS, .after = 15 * D, .want = SP_V_ACCEPTED, .want_status = SP_ST_COMPLETED},
    {"auto-complete too early", SP_ST_IN_PROGRESS, SP_EV_COMPLETED, AGENCY, SYS, .after = 1 * D, .want = SP_V_NOT_DUE, .want_status = SP_ST_IN_PROGRESS},
    {"auto-complete without follow-up", SP_ST_DISPOSITIONED, SP_EV_COMPLETED, AGENCY, SYS, .after = 30 * D, .want = SP_V_NOT_DUE, .want_status = SP_ST_DISPOSITIONED},
    {"complete by responsible node", SP_ST_IN_PROGRESS, SP_EV_COMPLETED, RESP, KOOR, .want = SP_V_NOT_ASSIGNED, .want_status = SP_ST_IN_PROGRESS},
    {"complete by reporter", SP_ST_IN_PROGRESS, SP_EV_COMPLETED, AGENCY, REP, .want = SP_V_WRONG_ROLE, .want_status = SP_ST_IN_PROGRESS},
    {"complete twice", SP_ST_COMPLETED, SP_EV_COMPLETED, AGENCY, PENGH, .want = SP_V_WRONG_STATUS, .want_status = SP_ST_COMPLETED},
    {"complete resolved", SP_ST_RESOLVED, SP_EV_COMPLETED, AGENCY, PENGH, .want = SP_V_WRONG_STATUS, .want_status = SP_ST_RESOLVED},
    /* feedback */
    {"satisfied feedback", SP_ST_COMPLETED, SP_EV_FEEDBACK, INTAKE, REP, .satisfied = 1, .rating = 5, .want = SP_V_ACCEPTED, .want_status = SP_ST_RESOLVED},
    {"unsatisfied feedback", SP_ST_COMPLETED, SP_EV_FEEDBACK, INTAKE, REP, .rating = 2, .want = SP_V_ACCEPTED, .want_status = SP_ST_COMPLETED},
    {"feedback through another node", SP_ST_COMPLETED, SP_EV_FEEDBACK, RESP, REP, .satisfied = 1, .want = SP_V_NOT_INTAKE, .want_status = SP_ST_COMPLETED},
    {"feedback by an officer", SP_ST_COMPLETED, SP_EV_FEEDBACK, INTAKE, KOOR, .satisfied = 1, .want = SP_V_WRONG_ROLE, .want_status = SP_ST_COMPLETED},
    {"feedback rating 6", SP_ST_COMPLETED, SP_EV_FEEDBACK, INTAKE, REP, .rating = 6, .want = SP_V_BAD_FIELD, .want_status = SP_ST_COMPLETED},
    {"feedback in progress", SP_ST_IN_PROGRESS, SP_EV_FEEDBACK, INTAKE, REP, .satisfied = 1, .want = SP_V_WRONG_STATUS, .want_status = SP_ST_IN_PROGRESS},
    {"feedback after tuntas", SP_ST_RESOLVED, SP_EV_FEEDBACK, INTAKE, REP, .want = SP_V_WRONG_STATUS, .want_status = SP_ST_RESOLVED},
    /* reopen */
    {"reopen completed", SP_ST_COMPLETED, SP_EV_REOPENED, INTAKE, REP, .reason = "belum selesai", .want = SP_V_ACCEPTED, .want_status = SP_ST_REOPENED},
    {"reopen through another node", SP_ST_COMPLETED, SP_EV_REOPENED, RESP, REP, .want = SP_V_NOT_INTAKE, .want_status = SP_ST_COMPLETED},
    {"reopen after tuntas", SP_ST_RESOLVED, SP_EV_REOPENED, INTAKE, REP, .want = SP_V_WRONG_STATUS, .want_status = SP_ST_RESOLVED},
    {"reopen in progress", SP_ST_IN_PROGRESS, SP_EV_REOPENED, INTAKE, REP, .want = SP_V_WRONG_STATUS, .want_status = SP_ST_IN_PROGRESS},
    /* reroute */
    {"reroute dispositioned", SP_ST_DISPOSITIONED, SP_EV_REROUTED, AGENCY, PENGH, .reason = "bukan wewenang", .want = SP_V_ACCEPTED, .want_status = SP_ST_REROUTED},
    {"reroute in progress", SP_ST_IN_PROGRESS, SP_EV_REROUTED, AGENCY, KOOR, .want = SP_V_ACCEPTED, .want_status = SP_ST_REROUTED},
    {"reroute by responsible node", SP_ST_DISPOSITIONED, SP_EV_REROUTED, RESP, KOOR, .want = SP_V_NOT_ASSIGNED, .want_status = SP_ST_DISPOSITIONED},
    {"reroute verified", SP_ST_VERIFIED, SP_EV_REROUTED, AGENCY, PENGH, .want = SP_V_WRONG_STATUS, .want_status = SP_ST_VERIFIED},
    {"reroute completed", SP_ST_COMPLETED, SP_EV_REROUTED, AGENCY, PENGH, .want = SP_V_WRONG_STATUS, .want_status = SP_ST_COMPLETED},
    /* escalate */
    {"escalate late verification", SP_ST_FILED, SP_EV_ESCALATED, "prov-35", SYS, .agency = "prov-35", .after = 5 * D, .want = SP_V_ACCEPTED, .want_status = SP_ST_FILED},
    {"escalate by national", SP_ST_FILED, SP_EV_ESCALATED, "national", SYS, .agency = "prov-35", .after = 5 * D, .want = SP_V_ACCEPTED, .want_status = SP_ST_FILED},
    {"escalate before the deadline", SP_ST_FILED, SP_EV_ESCALATED, "prov-35", SYS, .agency = "prov-35", .want = SP_V_NOT_DUE, .want_status = SP_ST_FILED},
    {"escalate past the parent", SP_ST_FILED, SP_EV_ESCALATED, "national", SYS, .agency = "national", .after = 5 * D, .want = SP_V_NOT_PARENT, .want_status = SP_ST_FILED},
    {"escalate by the holder", SP_ST_FILED, SP_EV_ESCALATED, RESP, SYS, .agency = "prov-35", .after = 5 * D, .want = SP_V_NOT_RESPONSIBLE, .want_status = SP_ST_FILED},
    {"escalate by reporter role", SP_ST_FILED, SP_EV_ESCALATED, "prov-35", REP, .agency = "prov-35", .after = 5 * D, .want = SP_V_WRONG_ROLE, .want_status = SP_ST_FILED},
    {"escalate late disposition", SP_ST_VERIFIED, SP_EV_ESCALATED, "prov-35", SYS, .agency = "prov-35", .after = 6 * D, .want = SP_V_ACCEPTED, .want_status = SP_ST_VERIFIED},
    {"escalate late response", SP_ST_DISPOSITIONED, SP_EV_ESCALATED, RESP, SYS, .agency = RESP, .after = 10 * D, .want = SP_V_ACCEPTED, .want_status = SP_ST_DISPOSITIONED},
    {"escalate response in time", SP_ST_DISPOSITIONED, SP_EV_ESCALATED, RESP, SYS, .agency = RESP, .after = 2 * D, .want = SP_V_NOT_DUE, .want_status = SP_ST_DISPOSITIONED},
    {"escalate answered complaint", SP_ST_IN_PROGRESS, SP_EV_ESCALATED, RESP, SYS, .agency = RESP, .after = 10 * D, .want = SP_V_NOT_DUE, .want_status = SP_ST_IN_PROGRESS},
    {"escalate late completion", SP_ST_IN_PROGRESS, SP_EV_ESCALATED, RESP, KOOR, .agency = RESP, .after = 70 * D, .want = SP_V_ACCEPTED, .want_status = SP_ST_IN_PROGRESS},
    {"escalate completed", SP_ST_COMPLETED, SP_EV_ESCALATED, RESP, SYS, .agency = RESP, .after = 70 * D, .want = SP_V_WRONG_STATUS, .want_status = SP_ST_COMPLETED},
    {"escalate archived", SP_ST_ARCHIVED, SP_EV_ESCALATED, "prov-35", SYS, .agency = "prov-35", .after = 70 * D, .want = SP_V_WRONG_STATUS, .want_status = SP_ST_ARCHIVED},
    /* comment */
    {"comment by anyone", SP_ST_IN_PROGRESS, SP_EV_COMMENTED, "kemenkes", KOOR, .want = SP_V_ACCEPTED, .want_status = SP_ST_IN_PROGRESS},
    {"comment by reporter", SP_ST_DISPOSITIONED, SP_EV_COMMENTED, INTAKE, REP, .want = SP_V_ACCEPTED, .want_status = SP_ST_DISPOSITIONED},
    {"comment on archived", SP_ST_ARCHIVED, SP_EV_COMMENTED, RESP, KOOR, .want = SP_V_ACCEPTED, .want_status = SP_ST_ARCHIVED},
    {"comment on tuntas", SP_ST_RESOLVED, SP_EV_COMMENTED, INTAKE, REP, .want = SP_V_ACCEPTED, .want_status = SP_ST_RESOLVED},
    {"reporter comment via another node", SP_ST_FILED, SP_EV_COMMENTED, RESP, REP, .want = SP_V_NOT_INTAKE, .want_status = SP_ST_FILED},
    {"comment before filing", SP_ST_NONE, SP_EV_COMMENTED, INTAKE, REP, .want = SP_V_NOT_FILED, .want_status = SP_ST_NONE},
    /* privacy */
    {"raise privacy", SP_ST_FILED, SP_EV_PRIVACY_RAISED, INTAKE, REP, .privacy = 2, .want = SP_V_ACCEPTED, .want_status = SP_ST_FILED},
    {"raise privacy by admin", SP_ST_VERIFIED, SP_EV_PRIVACY_RAISED, RESP, KOOR, .privacy = 1, .want = SP_V_ACCEPTED, .want_status = SP_ST_VERIFIED},
    {"lower privacy", SP_ST_FILED, SP_EV_PRIVACY_RAISED, INTAKE, REP, .privacy = 0, .want = SP_V_NOT_A_RAISE, .want_status = SP_ST_FILED},
    {"privacy by agency", SP_ST_DISPOSITIONED, SP_EV_PRIVACY_RAISED, AGENCY, KOOR, .privacy = 2, .want = SP_V_NOT_INTAKE, .want_status = SP_ST_DISPOSITIONED},
    {"privacy out of range", SP_ST_FILED, SP_EV_PRIVACY_RAISED, INTAKE, REP, .privacy = 7, .want = SP_V_BAD_FIELD, .want_status = SP_ST_FILED},
    /* unknown bodies */
    {"newer event kind", SP_ST_IN_PROGRESS, SP_EV_UNKNOWN, AGENCY, KOOR, .want = SP_V_UNKNOWN_KIND, .want_status = SP_ST_IN_PROGRESS},
};
// clang-format on

/* A refused event changes nothing but the rejected count and the last-event position. */
static void assert_unchanged_but_history(const sp_complaint_state *before,
                                         const sp_complaint_state *after) {
    uint8_t *a, *b;
    size_t an, bn;
    assert_int_equal(after->events, before->events + 1);
    assert_int_equal(after->rejected, before->rejected + 1);
    sp_complaint_state same = *after;
    same.events--;
    same.rejected--;
    same.last_hlc = before->last_hlc;
    same.last_seq = before->last_seq;
    memcpy(same.last_origin, before->last_origin, sizeof same.last_origin);
    assert_int_equal(sp_state_encode(before, &a, &an), SP_OK);
    assert_int_equal(sp_state_encode(&same, &b, &bn), SP_OK);
    assert_int_equal(an, bn);
    assert_memory_equal(a, b, an);
    free(a);
    free(b);
}

static void run_case(const tcase *c) {
    fx f;
    reach(&f, c->from);
    sp_complaint_state before;
    assert_int_equal(sp_state_copy(&before, &f.s), SP_OK);
    sp_fold_event e = mk(&f, c->kind, c->origin, c->role, c->after ? c->after : H);
    e.agency = c->agency ? c->agency : "";
    e.reason = c->reason ? c->reason : "";
    e.satisfied = c->satisfied;
    e.rating = c->rating;
    e.privacy = c->privacy;
    sp_verdict v = apply(&f, &e);
    if (v != c->want || f.s.status != c->want_status)
        fail_msg("%s: got %s / %s, want %s / %s", c->name, sp_verdict_name(v),
                 sp_status_name(f.s.status), sp_verdict_name(c->want),
                 sp_status_name(c->want_status));
    assert_string_equal(f.s.last_origin, c->origin);
    assert_int_equal(f.s.last_seq, e.seq);
    assert_int_equal(f.s.last_hlc, e.hlc);
    if (v != SP_V_ACCEPTED) assert_unchanged_but_history(&before, &f.s);
    sp_state_clear(&before);
    sp_state_clear(&f.s);
}

static void test_transition_table(void **state) {
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) run_case(&cases[i]);
}

/* ---- filing ---- */

static void test_filing_sets_intake_responsible_and_deadline(void **state) {
    fx f;
    reach(&f, SP_ST_FILED);
    assert_int_equal(f.s.status, SP_ST_FILED);
    assert_string_equal(f.s.intake, INTAKE);
    assert_string_equal(f.s.responsible, RESP);
    assert_string_equal(f.s.region, "35.77");
    assert_int_equal(f.s.tz, SP_TZ_WIB);
    /* Filed Monday 3 March 2025: 3 working days -> end of Thursday 6 March, WIB. */
    assert_int_equal(f.s.verify_due, sp_test_wib(2025, 3, 7, 0, 0) - 1);
    sp_state_clear(&f.s);
}

static void test_filing_rejections(void **state) {
    struct {
        const char *name, *complaint, *category, *region;
        uint32_t type, privacy;
        uint64_t seq;
        sp_verdict want;
    } t[] = {
        {"complaint id of another filing", "35-9", "x", "35.77", 2, 0, 1, SP_V_BAD_ID},
        {"seq of another complaint", "", "x", "35.77", 2, 0, 2, SP_V_BAD_ID},
        {"no type", "", "x", "35.77", 0, 0, 1, SP_V_BAD_FIELD},
        {"unknown type", "", "x", "35.77", 9, 0, 1, SP_V_BAD_FIELD},
        {"no category", "", "", "35.77", 1, 0, 1, SP_V_BAD_FIELD},
        {"bad privacy", "", "x", "35.77", 1, 3, 1, SP_V_BAD_FIELD},
        {"unknown province", "", "x", "99.01", 1, 0, 1, SP_V_UNKNOWN_REGION},
        {"malformed region", "", "x", "jatim", 1, 0, 1, SP_V_UNKNOWN_REGION},
        {"region without a node goes to its province", "", "x", "35.01", 3, 0, 1, SP_V_ACCEPTED},
        {"national-level complaint", "", "kesehatan", "", 1, 0, 1, SP_V_ACCEPTED},
        {"own id given explicitly", ID, "x", "35.77", 1, 0, 1, SP_V_ACCEPTED},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        sp_complaint_state s;
        sp_state_init(&s, ID);
        sp_fold_event e = sp_test_ev(SP_EV_FILED, INTAKE, t[i].seq, sp_test_wib(2025, 3, 3, 9, 0),
                                     SP_ROLE_REPORTER, t[i].complaint);
        e.category = t[i].category;
        e.region = t[i].region;
        e.type = t[i].type;
        e.privacy = t[i].privacy;
        sp_verdict v;
        assert_int_equal(sp_fold_apply(&env.ctx, &s, &e, &v), SP_OK);
        if (v != t[i].want)
            fail_msg("%s: got %s want %s", t[i].name, sp_verdict_name(v),
                     sp_verdict_name(t[i].want));
        assert_int_equal(s.status, v == SP_V_ACCEPTED ? SP_ST_FILED : SP_ST_NONE);
        if (i == 8) assert_string_equal(s.responsible, "prov-35");
        if (i == 9) assert_string_equal(s.responsible, "national");
        sp_state_clear(&s);
    }
}

/* ---- effects beyond the status ---- */

static void test_late_verification_is_flagged(void **state) {
    fx f;
    reach(&f, SP_ST_FILED);
    must(&f, mk(&f, SP_EV_VERIFIED, RESP, KOOR, 4 * D)); /* Friday: one day late */
    assert_true(f.s.verify_late);
    assert_int_equal(f.s.verify_due, 0);
    assert_true(f.s.dispose_due > f.s.verified_at);
    /* Completion deadline: 60 calendar days after verification (7 March -> 6 May). */
    assert_int_equal(f.s.complete_due, sp_test_wib(2025, 5, 7, 0, 0) - 1);
    sp_state_clear(&f.s);
}

static void test_first_response_timing_and_autoclose(void **state) {
    fx f;
    reach(&f, SP_ST_DISPOSITIONED); /* dispositioned Monday 3 March 11:00 */
    assert_int_equal(f.s.respond_due, sp_test_wib(2025, 3, 11, 0, 0) - 1); /* Mon 10 March */
    must(&f, mk(&f, SP_EV_FOLLOW_UP, AGENCY, PENGH, 8 * D)); /* Tue 11 March: late */
    assert_true(f.s.first_response_late);
    assert_int_equal(f.s.first_response_at, f.t);
    assert_int_equal(f.s.respond_due, 0);
    /* 10 working days after Tuesday 11 March: Tuesday 25 March. */
    assert_int_equal(f.s.autoclose_at, sp_test_wib(2025, 3, 26, 0, 0) - 1);
    uint64_t first = f.s.first_response_at;
    must(&f, mk(&f, SP_EV_FOLLOW_UP, AGENCY, PENGH, D));
    assert_int_equal(f.s.first_response_at, first);
    assert_int_equal(f.s.follow_ups, 2);
    /* The reporter answers: no auto-completion until the next follow-up. */
    must(&f, mk(&f, SP_EV_COMMENTED, INTAKE, REP, H));
    assert_int_equal(f.s.autoclose_at, 0);
    sp_fold_event auto_done = mk(&f, SP_EV_COMPLETED, AGENCY, SYS, 30 * D);
    assert_int_equal(apply(&f, &auto_done), SP_V_NOT_DUE);
    must(&f, mk(&f, SP_EV_FOLLOW_UP, AGENCY, PENGH, H));
    assert_true(f.s.autoclose_at > f.t);
    sp_state_clear(&f.s);
}

static void test_reroute_clears_agency_and_redisposition_assigns(void **state) {
    fx f;
    reach(&f, SP_ST_REROUTED);
    assert_string_equal(f.s.agency, "");
    assert_string_equal(f.s.last_rerouted_by, AGENCY);
    assert_int_equal(f.s.reroutes, 1);
    assert_true(f.s.dispose_due > 0);
    assert_string_equal(sp_fold_holder(&f.s), RESP);
    sp_fold_event d = mk(&f, SP_EV_DISPOSITIONED, RESP, KOOR, H);
    d.agency = "kemenkes";
    must(&f, d);
    assert_string_equal(f.s.agency, "kemenkes");
    assert_int_equal(f.s.dispose_due, 0);
    /* The old agency lost its authority. */
    sp_fold_event fu = mk(&f, SP_EV_FOLLOW_UP, AGENCY, PENGH, H);
    assert_int_equal(apply(&f, &fu), SP_V_NOT_ASSIGNED);
    sp_state_clear(&f.s);
}

static void test_escalation_moves_the_complaint_up(void **state) {
    fx f;
    reach(&f, SP_ST_DISPOSITIONED);
    sp_fold_event e = mk(&f, SP_EV_ESCALATED, RESP, SYS, 10 * D);
    e.agency = RESP;
    must(&f, e);
    assert_string_equal(f.s.agency, RESP);
    assert_int_equal(f.s.escalations, 1);
    assert_true(f.s.respond_due > f.t); /* the new holder gets a fresh response deadline */
    sp_fold_event fu = mk(&f, SP_EV_FOLLOW_UP, AGENCY, PENGH, H);
    assert_int_equal(apply(&f, &fu), SP_V_NOT_ASSIGNED);
    must(&f, mk(&f, SP_EV_FOLLOW_UP, RESP, KOOR, H));
    /* Completion breach: escalated once, then no more escalations for it. */
    sp_fold_event late = mk(&f, SP_EV_ESCALATED, "prov-35", SYS, 70 * D);
    late.agency = "prov-35";
    must(&f, late);
    assert_true(f.s.complete_escalated);
    assert_string_equal(f.s.agency, "prov-35");
    sp_fold_event again = mk(&f, SP_EV_ESCALATED, "national", SYS, D);
    again.agency = "national";
    assert_int_equal(apply(&f, &again), SP_V_NOT_DUE);
    sp_state_clear(&f.s);
}

static void test_reopen_gives_fresh_deadlines(void **state) {
    fx f;
    reach(&f, SP_ST_REOPENED);
    assert_int_equal(f.s.reopens, 1);
    assert_true(f.s.respond_due > f.t);
    assert_true(f.s.complete_due > f.t);
    assert_string_equal(f.s.agency, AGENCY);
    must(&f, mk(&f, SP_EV_COMPLETED, AGENCY, PENGH, H));
    sp_fold_event fb = mk(&f, SP_EV_FEEDBACK, INTAKE, REP, H);
    fb.satisfied = 1;
    fb.rating = 4;
    must(&f, fb);
    assert_int_equal(f.s.status, SP_ST_RESOLVED);
    assert_int_equal(f.s.rating, 4);
    assert_true(sp_status_closed(f.s.status));
    assert_int_equal(sp_fold_active_deadline(&f.s), 0);
    sp_state_clear(&f.s);
}

/* ---- deadlines in other zones ---- */

static void test_deadlines_follow_the_region_time_zone(void **state) {
    /* 23:30 WIB on Monday 3 March 2025 is already Tuesday in WITA and WIT. */
    uint64_t t = sp_test_wib(2025, 3, 3, 23, 30);
    const char *regions[] = {"35.77", "51.71", "91.71"};
    const char *origins[] = {"kota-3577", "kota-5171", "kota-9171"};
    uint64_t want[] = {
        sp_test_wib(2025, 3, 7, 0, 0) - 1,          /* Thu 6 March 23:59:59.999 WIB */
        sp_test_wib(2025, 3, 8, 0, 0) - 1 - 1 * H, /* Fri 7 March 23:59:59.999 WITA */
        sp_test_wib(2025, 3, 8, 0, 0) - 1 - 2 * H, /* Fri 7 March 23:59:59.999 WIT */
    };
    for (int i = 0; i < 3; i++) {
        sp_complaint_state s;
        char id[SP_TRACKING_ID_MAX];
        assert_int_equal(sp_tracking_id(id, origins[i], 1), SP_OK);
        sp_state_init(&s, id);
        sp_fold_event e = sp_test_ev(SP_EV_FILED, origins[i], 1, t, REP, "");
        e.type = 2;
        e.category = "x";
        e.region = regions[i];
        assert_int_equal(sp_fold_apply(&env.ctx, &s, &e, NULL), SP_OK);
        assert_int_equal(s.status, SP_ST_FILED);
        assert_int_equal(s.tz, (sp_timezone)i);
        assert_int_equal(s.verify_due, want[i]);
        sp_state_clear(&s);
    }
}

static void test_information_request_completes_in_ten_working_days(void **state) {
    sp_complaint_state s;
    sp_state_init(&s, ID);
    sp_fold_event e = sp_test_ev(SP_EV_FILED, INTAKE, 1, sp_test_wib(2025, 3, 3, 9, 0), REP, "");
    e.type = 3;
    e.category = "informasi";
    e.region = "35.77";
    assert_int_equal(sp_fold_apply(&env.ctx, &s, &e, NULL), SP_OK);
    sp_fold_event v = sp_test_ev(SP_EV_VERIFIED, RESP, 1, sp_test_wib(2025, 3, 3, 10, 0), KOOR, ID);
    assert_int_equal(sp_fold_apply(&env.ctx, &s, &v, NULL), SP_OK);
    assert_int_equal(s.complete_due, sp_test_wib(2025, 3, 18, 0, 0) - 1); /* Mon 17 March */
    sp_state_clear(&s);
}

/* ---- due actions ---- */

static void test_due_actions(void **state) {
    sp_due_action a[2];
    fx f;
    reach(&f, SP_ST_FILED);
    assert_int_equal(sp_fold_due_actions(&env.ctx, &f.s, f.t + D, a, 2), 0);
    assert_int_equal(sp_fold_due_actions(&env.ctx, &f.s, f.s.verify_due + 1, a, 2), 1);
    assert_int_equal(a[0].kind, SP_EV_ESCALATED);
    assert_string_equal(a[0].author, "prov-35");
    assert_string_equal(a[0].target, "prov-35");
    assert_string_equal(a[0].reason, "sla-verify");
    assert_int_equal(a[0].due_at, f.s.verify_due);
    /* The suggested event is accepted when written at that time. */
    f.t = f.s.verify_due + 1;
    sp_fold_event e = sp_test_ev(SP_EV_ESCALATED, a[0].author, 1, f.t, SYS, ID);
    e.agency = a[0].target;
    assert_int_equal(apply(&f, &e), SP_V_ACCEPTED);
    sp_state_clear(&f.s);

    reach(&f, SP_ST_IN_PROGRESS);
    assert_int_equal(sp_fold_due_actions(&env.ctx, &f.s, f.s.autoclose_at + 1, a, 2), 1);
    assert_int_equal(a[0].kind, SP_EV_COMPLETED);
    assert_string_equal(a[0].author, AGENCY);
    assert_string_equal(a[0].reason, "auto-complete");
    f.t = f.s.autoclose_at + 1;
    sp_fold_event c = sp_test_ev(SP_EV_COMPLETED, AGENCY, 99, f.t, SYS, ID);
    assert_int_equal(apply(&f, &c), SP_V_ACCEPTED);
    assert_true(f.s.auto_completed);
    assert_int_equal(sp_fold_due_actions(&env.ctx, &f.s, f.t + 400 * D, a, 2), 0);
    sp_state_clear(&f.s);

    reach(&f, SP_ST_DISPOSITIONED);
    assert_int_equal(sp_fold_due_actions(&env.ctx, &f.s, f.s.respond_due + 1, a, 2), 1);
    assert_string_equal(a[0].reason, "sla-respond");
    assert_string_equal(a[0].author, RESP); /* parent of the OPD */
    assert_true(sp_fold_overdue(&f.s, f.s.respond_due + 1));
    assert_false(sp_fold_overdue(&f.s, f.s.respond_due));
    sp_state_clear(&f.s);
}

static void test_no_escalation_above_national(void **state) {
    sp_due_action a[2];
    fx f;
    reach(&f, SP_ST_VERIFIED);
    sp_fold_event d = mk(&f, SP_EV_DISPOSITIONED, RESP, KOOR, H);
    d.agency = "national";
    must(&f, d);
    assert_int_equal(sp_fold_due_actions(&env.ctx, &f.s, f.s.respond_due + 1, a, 2), 0);
    sp_state_clear(&f.s);
}

/* ---- tracking ids ---- */

static void test_tracking_ids(void **state) {
    char id[SP_TRACKING_ID_MAX];
    struct {
        const char *origin;
        uint64_t seq;
        const char *want;
    } t[] = {
        {"kota-3577", 42, "3577-42"},      {"kab-3501", 7, "3501-7"},
        {"prov-35", 1, "35-1"},            {"kemenkes", 42, "KEMENKES-42"},
        {"national", 18446744073709551615ull, "NATIONAL-18446744073709551615"},
        {"opd-3577-pupr", 3, "OPD-3577-PUPR-3"}, {"kota-", 5, "KOTA--5"},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        assert_int_equal(sp_tracking_id(id, t[i].origin, t[i].seq), SP_OK);
        assert_string_equal(id, t[i].want);
        assert_true(sp_tracking_id_valid(id));
    }
    assert_int_equal(sp_tracking_id(id, "kota-3577", 0), SP_ERR_INVAL);
    assert_int_equal(sp_tracking_id(id, "", 1), SP_ERR_INVAL);
    const char *invalid[] = {"", "3577", "3577-", "-42", "3577-042", "TEST-kota-3577-1",
                             "3577-4x", "35 77-1", "3577-123456789012345678901"};
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++)
        assert_false(sp_tracking_id_valid(invalid[i]));
}

/* Every single wrong digit and every swap of two different neighbouring digits of the number
 * is caught by the check letter: the citizen who mishears one digit is told so. */
static void test_tracking_numbers_catch_misheard_digits(void **state) {
    char id[SP_TRACKING_ID_MAX], bad[SP_TRACKING_ID_MAX];
    for (uint64_t n = 1; n <= 3000; n++) {
        assert_int_equal(sp_tracking_number(id, "kota-3577", n), SP_OK);
        assert_true(sp_tracking_id_valid(id));
        assert_int_equal(sp_tracking_id_number(id), n);
        size_t len = strlen(id);
        for (size_t i = 5; i + 1 < len; i++) { /* the digits, after "3577-" */
            for (char d = '0'; d <= '9'; d++) {
                if (d == id[i] || (i == 5 && d == '0')) continue;
                memcpy(bad, id, len + 1);
                bad[i] = d;
                assert_false(sp_tracking_id_valid(bad));
            }
            if (i + 2 < len && id[i] != id[i + 1]) {
                memcpy(bad, id, len + 1);
                bad[i] = id[i + 1];
                bad[i + 1] = id[i];
                assert_false(sp_tracking_id_valid(bad));
            }
        }
    }
}

static void test_tracking_numbers_are_short_and_per_intake(void **state) {
    char id[SP_TRACKING_ID_MAX], other[SP_TRACKING_ID_MAX];
    assert_int_equal(sp_tracking_number(id, "kota-3577", 12), SP_OK);
    assert_int_equal(strlen(id), strlen("3577-12") + 1); /* one check letter */
    assert_int_equal(strncmp(id, "3577-12", 7), 0);
    assert_int_equal(sp_tracking_number(other, "opd-3577-pupr", 12), SP_OK);
    assert_int_equal(strncmp(other, "3577PUPR-12", 11), 0);
    assert_int_equal(sp_tracking_number(other, "kemenkes", 1), SP_OK);
    assert_int_equal(strncmp(other, "KEMENKES-1", 10), 0);
    assert_int_equal(sp_tracking_number(other, "kota-3577", 0), SP_ERR_INVAL);
    assert_int_equal(sp_tracking_number(other, "---", 1), SP_ERR_INVAL);
    /* what people type: any case, blanks around; legacy ids still resolve */
    char typed[SP_TRACKING_ID_MAX + 4], norm[SP_TRACKING_ID_MAX];
    snprintf(typed, sizeof typed, "  %s ", id);
    for (char *p = typed; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    assert_int_equal(sp_tracking_normalize(typed, norm), SP_OK);
    assert_string_equal(norm, id);
    assert_int_equal(sp_tracking_normalize("3577-18", norm), SP_OK);
    assert_int_equal(sp_tracking_normalize("opd-3577-pupr-13", norm), SP_OK);
    assert_string_equal(norm, "OPD-3577-PUPR-13");
    assert_int_equal(sp_tracking_id_number("3577-18"), 0);
    snprintf(typed, sizeof typed, "%s", id);
    typed[5] = typed[5] == '1' ? '7' : '1'; /* misheard: satu for tujuh */
    assert_int_equal(sp_tracking_normalize(typed, norm), SP_ERR_REJECTED);
    const char *junk[] = {"3577 12", "3577%2012", "", "   ", "3577-12KK", "3577-1I", "-12K"};
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++)
        assert_int_equal(sp_tracking_normalize(junk[i], norm), SP_ERR_INVAL);
}

/* ---- order independence, late events, codec ---- */

/* A full lifecycle with a reroute, an escalation, a reopen and noise. */
static size_t story(sp_fold_event *ev) {
    fx f;
    memset(&f, 0, sizeof f);
    f.t = sp_test_wib(2025, 3, 27, 9, 0); /* Thursday before Idul Fitri 2025 */
    size_t n = 0;
    ev[n] = filed_event(&f);
    ev[n].privacy = 1;
    n++;
    ev[n++] = mk(&f, SP_EV_COMMENTED, "kemenkes", KOOR, H);
    ev[n++] = mk(&f, SP_EV_VERIFIED, RESP, KOOR, 2 * D);
    ev[n] = mk(&f, SP_EV_DISPOSITIONED, RESP, KOOR, H);
    ev[n++].agency = OTHER_OPD;
    ev[n++] = mk(&f, SP_EV_REROUTED, OTHER_OPD, PENGH, D);
    ev[n] = mk(&f, SP_EV_DISPOSITIONED, "national", PUSAT, 20 * D);
    ev[n++].agency = AGENCY;
    ev[n++] = mk(&f, SP_EV_FOLLOW_UP, RESP, KOOR, H); /* refused: not assigned */
    ev[n] = mk(&f, SP_EV_ESCALATED, RESP, SYS, 12 * D);
    ev[n++].agency = RESP;
    ev[n++] = mk(&f, SP_EV_FOLLOW_UP, RESP, KOOR, D);
    ev[n++] = mk(&f, SP_EV_COMPLETED, RESP, KOOR, D);
    ev[n] = mk(&f, SP_EV_FEEDBACK, INTAKE, REP, H);
    ev[n++].rating = 1;
    ev[n++] = mk(&f, SP_EV_REOPENED, INTAKE, REP, H);
    ev[n++] = mk(&f, SP_EV_FOLLOW_UP, RESP, PENGH, D);
    ev[n++] = mk(&f, SP_EV_COMPLETED, RESP, SYS, 20 * D);
    ev[n] = mk(&f, SP_EV_FEEDBACK, INTAKE, REP, D);
    ev[n].satisfied = 1;
    ev[n++].rating = 5;
    return n;
}

static void encode_or_fail(const sp_complaint_state *s, uint8_t **p, size_t *n) {
    assert_int_equal(sp_state_encode(s, p, n), SP_OK);
}

static void test_order_independence_and_late_events(void **state) {
    sp_fold_event ev[32], shuffled[64];
    size_t n = story(ev);
    sp_complaint_state ref;
    assert_int_equal(sp_fold_run(&env.ctx, ID, ev, n, &ref), SP_OK);
    assert_int_equal(ref.status, SP_ST_RESOLVED);
    assert_int_equal(ref.rejected, 1);
    assert_int_equal(ref.escalations, 1);
    assert_int_equal(ref.reopens, 1);
    assert_true(ref.auto_completed);
    assert_int_equal(ref.privacy, 1);
    uint8_t *want;
    size_t want_n;
    encode_or_fail(&ref, &want, &want_n);
    uint64_t seed = sp_test_seed("fold_test order");
    for (int round = 0; round < 200; round++) {
        /* A random order with duplicates, folded at once... */
        size_t m = 0;
        for (size_t i = 0; i < n; i++) shuffled[m++] = ev[i];
        for (size_t i = 0; i < n / 2; i++) shuffled[m++] = ev[sp_test_rand(&seed) % n];
        for (size_t i = m; i > 1; i--) {
            size_t j = sp_test_rand(&seed) % i;
            sp_fold_event tmp = shuffled[i - 1];
            shuffled[i - 1] = shuffled[j];
            shuffled[j] = tmp;
        }
        sp_complaint_state s;
        assert_int_equal(sp_fold_run(&env.ctx, ID, shuffled, m, &s), SP_OK);
        uint8_t *got;
        size_t got_n;
        encode_or_fail(&s, &got, &got_n);
        assert_int_equal(got_n, want_n);
        assert_memory_equal(got, want, want_n);
        free(got);
        sp_state_clear(&s);
        /* ...and one at a time, appending or re-folding like the store does. */
        sp_state_init(&s, ID);
        for (size_t k = 0; k < m; k++) {
            if (sp_fold_can_append(&s, &shuffled[k])) {
                assert_int_equal(sp_fold_apply(&env.ctx, &s, &shuffled[k], NULL), SP_OK);
            } else {
                sp_complaint_state again;
                assert_int_equal(sp_fold_run(&env.ctx, ID, shuffled, k + 1, &again), SP_OK);
                sp_state_clear(&s);
                s = again;
            }
        }
        encode_or_fail(&s, &got, &got_n);
        assert_int_equal(got_n, want_n);
        assert_memory_equal(got, want, want_n);
        free(got);
        sp_state_clear(&s);
    }
    free(want);
    sp_state_clear(&ref);
}

static void test_events_before_filing_apply_once_it_arrives(void **state) {
    sp_fold_event ev[32];
    size_t n = story(ev);
    sp_complaint_state s;
    /* Everything but the filing: all refused, nothing filed. */
    sp_history_entry *h;
    size_t nh;
    assert_int_equal(sp_fold_run_history(&env.ctx, ID, ev + 1, n - 1, &s, &h, NULL, &nh), SP_OK);
    assert_int_equal(s.status, SP_ST_NONE);
    assert_int_equal(s.events, n - 1);
    assert_int_equal(nh, n - 1);
    assert_int_equal(s.rejected, n - 1);
    for (size_t i = 0; i < nh; i++) {
        assert_int_equal(h[i].verdict, SP_V_NOT_FILED);
        assert_int_equal(h[i].status_after, SP_ST_NONE);
    }
    free(h);
    assert_false(sp_fold_can_append(&s, &ev[0]));
    sp_state_clear(&s);
    /* With the filing they apply, and the history says so: the last one closes it. */
    assert_int_equal(sp_fold_run_history(&env.ctx, ID, ev, n, &s, &h, NULL, &nh), SP_OK);
    assert_int_equal(s.status, SP_ST_RESOLVED);
    assert_int_equal(nh, n);
    assert_int_equal(h[0].kind, SP_EV_FILED);
    assert_int_equal(h[0].verdict, SP_V_ACCEPTED);
    assert_int_equal(h[nh - 1].status_after, SP_ST_RESOLVED);
    assert_int_equal(s.filed_seq, ev[0].seq);
    free(h);
    sp_state_clear(&s);
}

static void test_state_codec_round_trips(void **state) {
    sp_fold_event ev[32];
    size_t n = story(ev);
    sp_complaint_state s, back;
    assert_int_equal(sp_fold_run(&env.ctx, ID, ev, n, &s), SP_OK);
    uint8_t *a, *b;
    size_t an, bn;
    encode_or_fail(&s, &a, &an);
    assert_int_equal(sp_state_decode(&back, a, an), SP_OK);
    encode_or_fail(&back, &b, &bn);
    assert_int_equal(an, bn);
    assert_memory_equal(a, b, an);
    assert_int_equal(back.events, s.events);
    assert_int_equal(back.last_hlc, s.last_hlc);
    assert_int_equal(back.last_seq, s.last_seq);
    assert_string_equal(back.last_origin, s.last_origin);
    assert_int_equal(back.filed_seq, s.filed_seq);
    sp_state_clear(&back);
    /* Garbage and truncations are CORRUPT, never a crash. */
    for (size_t cut = 0; cut < an; cut += 7) {
        sp_err rv = sp_state_decode(&back, a, cut);
        assert_true(rv == SP_OK || rv == SP_ERR_CORRUPT);
        sp_state_clear(&back);
    }
    uint8_t junk[] = {0x08, 0x09, 0x18, 0x63};
    assert_int_equal(sp_state_decode(&back, junk, sizeof junk), SP_ERR_CORRUPT);
    sp_state_clear(&back);
    free(a);
    free(b);
    sp_state_clear(&s);
}

static void test_decode_event_bodies(void **state) {
    sp_fold_event e = sp_test_ev(SP_EV_DISPOSITIONED, RESP, 5, 1000, KOOR, ID), got;
    e.agency = AGENCY;
    uint8_t *body;
    size_t n;
    assert_int_equal(sp_test_encode_event(&e, &body, &n), 0);
    sp_fold_body *hold;
    char id[SP_TRACKING_ID_MAX];
    assert_int_equal(sp_fold_decode_raw(RESP, 5, e.hlc, body, n, &got, &hold, id), SP_OK);
    assert_string_equal(id, ID);
    assert_int_equal(got.kind, SP_EV_DISPOSITIONED);
    assert_int_equal(got.role, KOOR);
    assert_string_equal(got.agency, AGENCY);
    sp_fold_body_free(hold);
    free(body);
    /* A filing belongs to its own tracking id whatever it says. */
    e = sp_test_ev(SP_EV_FILED, "kota-3577", 42, 1000, REP, "");
    e.category = "x";
    assert_int_equal(sp_test_encode_event(&e, &body, &n), 0);
    assert_int_equal(sp_fold_decode_raw("kota-3577", 42, 1, body, n, &got, &hold, id), SP_OK);
    assert_string_equal(id, "3577-42");
    sp_fold_body_free(hold);
    free(body);
    /* Test events of `simpul log append` and non-Events belong to no complaint. */
    e = sp_test_ev(SP_EV_COMMENTED, "kota-3577", 1, 1000, SP_ROLE_UNKNOWN, "TEST-kota-3577-1");
    assert_int_equal(sp_test_encode_event(&e, &body, &n), 0);
    assert_int_equal(sp_fold_decode_raw("kota-3577", 1, 1, body, n, &got, &hold, id),
                     SP_ERR_NOT_FOUND);
    assert_null(hold);
    free(body);
    const uint8_t garbage[] = "e0 not a protobuf \xff\xff";
    assert_int_equal(
        sp_fold_decode_raw("kota-3577", 1, 1, garbage, sizeof garbage, &got, &hold, id),
        SP_ERR_DECODE);
}

static void test_out_of_range_kinds_and_roles_are_recorded_as_unknown(void **state) {
    fx f;
    reach(&f, SP_ST_FILED);
    sp_fold_event ev[2] = {filed_event(&f), mk(&f, (sp_ev_kind)99, RESP, (sp_role)77, H)};
    sp_complaint_state s;
    sp_history_entry *h;
    size_t nh, *at;
    assert_int_equal(sp_fold_run_history(&env.ctx, ID, ev, 2, &s, &h, &at, &nh), SP_OK);
    assert_int_equal(nh, 2);
    assert_int_equal(at[1], 1);
    assert_int_equal(h[1].kind, SP_EV_UNKNOWN);
    assert_int_equal(h[1].role, SP_ROLE_UNKNOWN);
    assert_int_equal(h[1].verdict, SP_V_UNKNOWN_KIND);
    uint8_t *p;
    size_t n;
    sp_complaint_state back;
    assert_int_equal(sp_state_encode(&s, &p, &n), SP_OK);
    assert_int_equal(sp_state_decode(&back, p, n), SP_OK);
    assert_int_equal(back.events, 2);
    free(p);
    free(h);
    free(at);
    sp_state_clear(&back);
    sp_state_clear(&s);
    sp_state_clear(&f.s);
}

static void test_names(void **state) {
    sp_status st;
    for (int i = 0; i < SP_ST__COUNT; i++) {
        assert_int_equal(sp_status_parse(sp_status_name((sp_status)i), &st), SP_OK);
        assert_int_equal(st, i);
    }
    assert_int_equal(sp_status_parse("tuntas", &st), SP_ERR_INVAL);
    for (int i = 1; i < SP_ROLE__COUNT; i++)
        assert_int_equal(sp_role_parse(sp_role_name((sp_role)i)), i);
    assert_int_equal(sp_role_parse("root"), SP_ROLE_UNKNOWN);
    assert_string_equal(sp_verdict_name(SP_V_NOT_ASSIGNED), "NOT_ASSIGNED");
    assert_string_equal(sp_ev_kind_name(SP_EV_FOLLOW_UP), "follow-up");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transition_table),
        cmocka_unit_test(test_filing_sets_intake_responsible_and_deadline),
        cmocka_unit_test(test_filing_rejections),
        cmocka_unit_test(test_late_verification_is_flagged),
        cmocka_unit_test(test_first_response_timing_and_autoclose),
        cmocka_unit_test(test_reroute_clears_agency_and_redisposition_assigns),
        cmocka_unit_test(test_escalation_moves_the_complaint_up),
        cmocka_unit_test(test_reopen_gives_fresh_deadlines),
        cmocka_unit_test(test_deadlines_follow_the_region_time_zone),
        cmocka_unit_test(test_information_request_completes_in_ten_working_days),
        cmocka_unit_test(test_due_actions),
        cmocka_unit_test(test_no_escalation_above_national),
        cmocka_unit_test(test_tracking_ids),
        cmocka_unit_test(test_order_independence_and_late_events),
        cmocka_unit_test(test_events_before_filing_apply_once_it_arrives),
        cmocka_unit_test(test_state_codec_round_trips),
        cmocka_unit_test(test_decode_event_bodies),
        cmocka_unit_test(test_out_of_range_kinds_and_roles_are_recorded_as_unknown),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_tracking_numbers_catch_misheard_digits),
        cmocka_unit_test(test_tracking_numbers_are_short_and_per_intake),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
