/*
 * Test fixtures shared by the fold, SLA, complaints and property tests (and the fold bench):
 * a small federation spanning the three time zones, a fold context on it, and builders for
 * events, both as sp_fold_event and as encoded Event bodies.
 */
#ifndef SP_FOLD_TESTUTIL_H
#define SP_FOLD_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/hlc.h"
#include "node/lifecycle/calendar.h"
#include "node/lifecycle/fold.h"
#include "schemas/simpul.pb-c.h"
#include "topology/topology.h"

/* national; a ministry and a lembaga; Jawa Timur (WIB) with Kota Madiun and two OPDs; Bali
 * (WITA) with Kota Denpasar and an OPD; Papua (WIT) with Kota Jayapura. */
static const char sp_test_topology_yaml[] =
    "version: 1\n"
    "nodes:\n"
    "  - {id: national, kind: national, name: Kementerian PANRB, address: 'inproc://national'}\n"
    "  - {id: kemenkes, kind: ministry, name: Kementerian Kesehatan, parent: national,"
    " address: 'inproc://kemenkes'}\n"
    "  - {id: bpjs, kind: lembaga, name: BPJS Kesehatan, parent: national, address: "
    "'inproc://bpjs'}\n"
    "  - {id: prov-35, kind: province, code: '35', name: Jawa Timur, parent: national,"
    " address: 'inproc://prov-35'}\n"
    "  - {id: kota-3577, kind: kota, code: '35.77', name: Kota Madiun, parent: prov-35,"
    " address: 'inproc://kota-3577'}\n"
    "  - {id: opd-3577-pupr, kind: opd, name: Dinas PUPR Kota Madiun, parent: kota-3577,"
    " address: 'inproc://opd-3577-pupr'}\n"
    "  - {id: opd-3577-dinkes, kind: opd, name: Dinas Kesehatan Kota Madiun, parent: kota-3577,"
    " address: 'inproc://opd-3577-dinkes'}\n"
    "  - {id: prov-51, kind: province, code: '51', name: Bali, parent: national,"
    " address: 'inproc://prov-51'}\n"
    "  - {id: kota-5171, kind: kota, code: '51.71', name: Kota Denpasar, parent: prov-51,"
    " address: 'inproc://kota-5171'}\n"
    "  - {id: opd-5171-pupr, kind: opd, name: Dinas PUPR Kota Denpasar, parent: kota-5171,"
    " address: 'inproc://opd-5171-pupr'}\n"
    "  - {id: prov-91, kind: province, code: '91', name: Papua, parent: national,"
    " address: 'inproc://prov-91'}\n"
    "  - {id: kota-9171, kind: kota, code: '91.71', name: Kota Jayapura, parent: prov-91,"
    " address: 'inproc://kota-9171'}\n";

typedef struct {
    sp_topology *topo;
    sp_calendar *cal;
    sp_sla_policy policy;
    sp_fold_ctx ctx;
} sp_test_fold_env;

/* Topology above + the built-in calendar; returns 0 on success. */
static inline int sp_test_fold_env_init(sp_test_fold_env *e) {
    memset(e, 0, sizeof *e);
    sp_diag_list d;
    sp_diag_list_init(&d);
    sp_err rv = sp_topology_load_buffer(&e->topo, "fold-test.yaml", sp_test_topology_yaml,
                                        sizeof sp_test_topology_yaml - 1, &d);
    if (rv != SP_OK) sp_diag_list_print(&d, stderr, 10);
    sp_diag_list_clear(&d);
    if (rv != SP_OK) return -1;
    sp_sla_policy_default(&e->policy);
    if (sp_calendar_new(&e->cal) != SP_OK || sp_calendar_load_builtin(e->cal, &e->policy) != SP_OK)
        return -1;
    e->ctx = (sp_fold_ctx){.topo = e->topo, .cal = e->cal, .policy = &e->policy};
    return 0;
}

static inline void sp_test_fold_env_free(sp_test_fold_env *e) {
    sp_topology_free(e->topo);
    sp_calendar_free(e->cal);
}

/* Unix ms of a local WIB wall time. */
static inline uint64_t sp_test_wib(int y, int mo, int d, int h, int mi) {
    return (uint64_t)sp_days_from_civil(y, mo, d) * SP_DAY_MS + (uint64_t)(h * 60 + mi) * 60000ull -
           7 * 3600000ull;
}

/* An event with empty strings; hlc from ms. */
static inline sp_fold_event sp_test_ev(sp_ev_kind kind, const char *origin, uint64_t seq,
                                       uint64_t ms, sp_role role, const char *complaint) {
    sp_fold_event e;
    memset(&e, 0, sizeof e);
    e.origin = origin;
    e.seq = seq;
    e.hlc = sp_hlc_make(ms, 0);
    e.kind = kind;
    e.role = role;
    e.complaint = complaint ? complaint : "";
    e.category = e.region = e.agency = e.reason = "";
    return e;
}

/* The Event body (protobuf) an sp_fold_event stands for. Caller frees *out. 0 on success. */
static inline int sp_test_encode_event(const sp_fold_event *e, uint8_t **out, size_t *n) {
    Simpul__V1__Event m = SIMPUL__V1__EVENT__INIT;
    Simpul__V1__ComplaintFiled filed = SIMPUL__V1__COMPLAINT_FILED__INIT;
    Simpul__V1__Verified verified = SIMPUL__V1__VERIFIED__INIT;
    Simpul__V1__Archived archived = SIMPUL__V1__ARCHIVED__INIT;
    Simpul__V1__Dispositioned disp = SIMPUL__V1__DISPOSITIONED__INIT;
    Simpul__V1__FollowUp fu = SIMPUL__V1__FOLLOW_UP__INIT;
    Simpul__V1__Completed done = SIMPUL__V1__COMPLETED__INIT;
    Simpul__V1__ReporterFeedback fb = SIMPUL__V1__REPORTER_FEEDBACK__INIT;
    Simpul__V1__Reopened reo = SIMPUL__V1__REOPENED__INIT;
    Simpul__V1__Escalated esc = SIMPUL__V1__ESCALATED__INIT;
    Simpul__V1__Rerouted rer = SIMPUL__V1__REROUTED__INIT;
    Simpul__V1__Commented com = SIMPUL__V1__COMMENTED__INIT;
    Simpul__V1__PrivacyRaised pr = SIMPUL__V1__PRIVACY_RAISED__INIT;
    m.complaint_id = (char *)e->complaint;
    m.actor = (char *)"test-officer";
    m.actor_role = (char *)(e->role ? sp_role_name(e->role) : "");
    switch (e->kind) {
    case SP_EV_FILED:
        filed.type = (Simpul__V1__ComplaintType)e->type;
        filed.category = (char *)e->category;
        filed.region = (char *)e->region;
        filed.channel = (Simpul__V1__Channel)e->channel;
        filed.privacy = (Simpul__V1__Privacy)e->privacy;
        filed.number = e->number;
        m.body_case = SIMPUL__V1__EVENT__BODY_FILED;
        m.filed = &filed;
        break;
    case SP_EV_VERIFIED:
        m.body_case = SIMPUL__V1__EVENT__BODY_VERIFIED;
        m.verified = &verified;
        break;
    case SP_EV_ARCHIVED:
        archived.reason = (char *)e->reason;
        m.body_case = SIMPUL__V1__EVENT__BODY_ARCHIVED;
        m.archived = &archived;
        break;
    case SP_EV_DISPOSITIONED:
        disp.agency = (char *)e->agency;
        m.body_case = SIMPUL__V1__EVENT__BODY_DISPOSITIONED;
        m.dispositioned = &disp;
        break;
    case SP_EV_FOLLOW_UP:
        fu.text = (char *)"ditindaklanjuti";
        m.body_case = SIMPUL__V1__EVENT__BODY_FOLLOW_UP;
        m.follow_up = &fu;
        break;
    case SP_EV_COMPLETED:
        m.body_case = SIMPUL__V1__EVENT__BODY_COMPLETED;
        m.completed = &done;
        break;
    case SP_EV_FEEDBACK:
        fb.satisfied = e->satisfied != 0;
        fb.rating = e->rating;
        m.body_case = SIMPUL__V1__EVENT__BODY_FEEDBACK;
        m.feedback = &fb;
        break;
    case SP_EV_REOPENED:
        reo.reason = (char *)e->reason;
        m.body_case = SIMPUL__V1__EVENT__BODY_REOPENED;
        m.reopened = &reo;
        break;
    case SP_EV_ESCALATED:
        esc.to_agency = (char *)e->agency;
        esc.reason = (char *)e->reason;
        m.body_case = SIMPUL__V1__EVENT__BODY_ESCALATED;
        m.escalated = &esc;
        break;
    case SP_EV_REROUTED:
        rer.reason = (char *)e->reason;
        m.body_case = SIMPUL__V1__EVENT__BODY_REROUTED;
        m.rerouted = &rer;
        break;
    case SP_EV_COMMENTED:
        com.text = (char *)"komentar";
        m.body_case = SIMPUL__V1__EVENT__BODY_COMMENTED;
        m.commented = &com;
        break;
    case SP_EV_PRIVACY_RAISED:
        pr.privacy = (Simpul__V1__Privacy)e->privacy;
        m.body_case = SIMPUL__V1__EVENT__BODY_PRIVACY_RAISED;
        m.privacy_raised = &pr;
        break;
    default: break;
    }
    *n = simpul__v1__event__get_packed_size(&m);
    if (!(*out = malloc(*n ? *n : 1))) return -1;
    simpul__v1__event__pack(&m, *out);
    return 0;
}

/* ---- generated lifecycles (complaints_test, bench_fold) ---- */

static inline uint64_t sp_test_story_rand(uint64_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

#define SP_TEST_STORY_MAX 24

/* The parent of a node in ctx's topology ("" when none). */
static inline const char *sp_test_parent(const sp_fold_ctx *ctx, const char *id) {
    const sp_topo_node *n = sp_topology_find(ctx->topo, id);
    return n && n->parent ? n->parent->id : "";
}

/*
 * One plausible lifecycle starting at start_ms: filed, sometimes archived; verified,
 * dispositioned, sometimes rerouted and re-dispositioned, sometimes escalated after a missed
 * response deadline; one to three follow-ups, reporter comments; completed by the agency or
 * automatically; feedback, sometimes an appeal and a second round. Events are strictly
 * increasing in time, with seq 0 (the caller numbers each origin's events in hlc order) and
 * complaint = id_buf (a buffer of SP_TRACKING_ID_MAX bytes that sp_test_fill_ids fills with
 * the tracking id of out[0], the filing, once it is numbered). Returns the number of events (<=
 * SP_TEST_STORY_MAX).
 */
static inline size_t sp_test_story(const sp_fold_ctx *ctx, uint64_t *rng, uint64_t start_ms,
                                   char *id_buf, sp_fold_event *out) {
    static const struct {
        const char *region, *resp, *intake, *agencies[3];
    } places[] = {
        {"35.77", "kota-3577", "prov-35", {"opd-3577-pupr", "opd-3577-dinkes", "kemenkes"}},
        {"35.77", "kota-3577", "kota-3577", {"opd-3577-pupr", "opd-3577-dinkes", "bpjs"}},
        {"51.71", "kota-5171", "kota-5171", {"opd-5171-pupr", "bpjs", "kemenkes"}},
        {"91.71", "kota-9171", "national", {"kota-9171", "kemenkes", "bpjs"}},
    };
    uint64_t r = sp_test_story_rand(rng);
    const size_t p = r % 4;
    const char *intake = places[p].intake, *resp = places[p].resp;
    const char *agency = places[p].agencies[(r >> 8) % 3];
    uint64_t t = start_ms;
    size_t n = 0;
#define STEP(kind, origin, role, gap_ms)                                                          \
    (t += 1 + (gap_ms), out[n] = sp_test_ev((kind), (origin), 0, t, (role), id_buf), &out[n++])
#define HOURS(a, b) ((uint64_t)((a) + sp_test_story_rand(rng) % ((b) - (a) + 1)) * 3600000ull)
    sp_fold_event *e = STEP(SP_EV_FILED, intake, SP_ROLE_REPORTER, 0);
    e->type = 1 + (uint32_t)((r >> 12) % 3);
    e->category = (r >> 16) % 2 ? "infrastruktur/pju" : "kesehatan";
    e->region = places[p].region;
    e->channel = (uint32_t)((r >> 20) % 8);
    if ((r >> 24) % 10 == 0) {
        e = STEP(SP_EV_ARCHIVED, resp, SP_ROLE_ADMIN_KOORDINATOR, HOURS(1, 48));
        e->reason = "duplicate";
        return n;
    }
    STEP(SP_EV_VERIFIED, resp, SP_ROLE_ADMIN_KOORDINATOR, HOURS(1, 60));
    e = STEP(SP_EV_DISPOSITIONED, resp, SP_ROLE_ADMIN_KOORDINATOR, HOURS(1, 30));
    e->agency = agency;
    if ((r >> 28) % 7 == 0) {
        e = STEP(SP_EV_REROUTED, agency, SP_ROLE_ADMIN_PENGHUBUNG, HOURS(2, 72));
        e->reason = "bukan wewenang";
        agency = places[p].agencies[((r >> 8) + 1) % 3];
        e = STEP(SP_EV_DISPOSITIONED, resp, SP_ROLE_ADMIN_KOORDINATOR, HOURS(1, 48));
        e->agency = agency;
    }
    if ((r >> 32) % 8 == 0 && sp_test_parent(ctx, agency)[0]) {
        agency = sp_test_parent(ctx, agency); /* the agency missed its response deadline */
        e = STEP(SP_EV_ESCALATED, agency, SP_ROLE_SYSTEM, 20 * 24 * 3600000ull);
        e->agency = agency;
        e->reason = "sla-respond";
    }
    for (uint64_t k = 0; k <= (r >> 36) % 3; k++) {
        STEP(SP_EV_FOLLOW_UP, agency, SP_ROLE_ADMIN_PENGHUBUNG, HOURS(2, 96));
        if ((r >> (40 + k)) % 5 == 0) STEP(SP_EV_COMMENTED, intake, SP_ROLE_REPORTER, HOURS(1, 24));
    }
    int automatic = (r >> 44) % 6 == 0;
    STEP(SP_EV_COMPLETED, agency, automatic ? SP_ROLE_SYSTEM : SP_ROLE_ADMIN_PENGHUBUNG,
         automatic ? 30 * 24 * 3600000ull : HOURS(4, 200));
    e = STEP(SP_EV_FEEDBACK, intake, SP_ROLE_REPORTER, HOURS(1, 100));
    e->satisfied = (r >> 48) % 10 < 7;
    e->rating = e->satisfied ? 4 + (uint32_t)((r >> 52) % 2) : 1 + (uint32_t)((r >> 52) % 3);
    if (!e->satisfied && (r >> 56) % 2) {
        e = STEP(SP_EV_REOPENED, intake, SP_ROLE_REPORTER, HOURS(1, 48));
        e->reason = "belum tuntas";
        STEP(SP_EV_FOLLOW_UP, agency, SP_ROLE_ADMIN_KOORDINATOR, HOURS(2, 96));
        STEP(SP_EV_COMPLETED, agency, SP_ROLE_ADMIN_KOORDINATOR, HOURS(4, 96));
        e = STEP(SP_EV_FEEDBACK, intake, SP_ROLE_REPORTER, HOURS(1, 48));
        e->satisfied = 1;
        e->rating = 4;
    }
#undef HOURS
#undef STEP
    return n;
}

/* Number each origin's events 1, 2, 3... in (hlc, origin) order, like the feeds would: ev is
 * sorted in place by that order. */
static inline int sp_test_cmp_hlc_origin(const void *a, const void *b) {
    const sp_fold_event *x = a, *y = b;
    if (x->hlc != y->hlc) return x->hlc < y->hlc ? -1 : 1;
    return strcmp(x->origin, y->origin);
}

static inline void sp_test_number_feeds(sp_fold_event *ev, size_t n) {
    typedef struct {
        const char *origin;
        uint64_t seq;
    } feed;
    feed feeds[64];
    size_t nf = 0;
    qsort(ev, n, sizeof *ev, sp_test_cmp_hlc_origin);
    for (size_t i = 0; i < n; i++) {
        size_t f = 0;
        while (f < nf && strcmp(feeds[f].origin, ev[i].origin) != 0) f++;
        if (f == nf && nf < 64) feeds[nf++] = (feed){ev[i].origin, 0};
        ev[i].seq = ++feeds[f].seq;
    }
}

/* After numbering: write each filing's tracking id into the story's id buffer, which every
 * event of the story (the filing included: a filing may name its own id) points at. */
static inline void sp_test_fill_ids(sp_fold_event *ev, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (ev[i].kind == SP_EV_FILED && ev[i].number)
            sp_tracking_number((char *)ev[i].complaint, ev[i].origin, ev[i].number);
        else if (ev[i].kind == SP_EV_FILED)
            sp_tracking_id((char *)ev[i].complaint, ev[i].origin, ev[i].seq);
}

#endif
