/*
 * Who may fetch a complaint's attachments (sp_blob_entitled), on hand-built histories: the
 * serving node decides from events alone, so every way an event could claim access is here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/app/blob_fetch.h"

static const char topo_yaml[] =
    "nodes:\n"
    "  - {id: national, kind: national, name: N, address: tcp://h:1}\n"
    "  - {id: prov-35, kind: province, code: \"35\", name: P, parent: national, address: "
    "tcp://h:2}\n"
    "  - {id: kota-3577, kind: kota, code: \"35.77\", name: M, parent: prov-35, address: "
    "tcp://h:3}\n"
    "  - {id: kota-3572, kind: kota, code: \"35.72\", name: B, parent: prov-35, address: "
    "tcp://h:4}\n"
    "  - {id: opd-3577-pupr, kind: opd, name: O, parent: kota-3577, address: tcp://h:5}\n";

#define MAX_EV 8

/* A complaint filed at kota-3577 (which verifies it too), its events and their wraps. */
typedef struct {
    sp_topology *topo;
    sp_complaint_state s;
    Simpul__V1__Event ev[MAX_EV];
    Simpul__V1__Event *evp[MAX_EV];
    Simpul__V1__ComplaintFiled filed;
    Simpul__V1__Dispositioned disp[MAX_EV];
    Simpul__V1__PrivacyRaised raised[MAX_EV];
    Simpul__V1__Sealed wrap[MAX_EV];
    Simpul__V1__Sealed *wrapp[MAX_EV];
    sp_history_entry hist[MAX_EV];
    sp_complaint_events e;
} fixture;

/* Append the event at f->ev[n] to the history: authored by origin, with the fold's verdict. */
static void push(fixture *f, const char *origin, sp_verdict v) {
    size_t i = f->e.n++;
    memset(&f->hist[i], 0, sizeof f->hist[i]);
    snprintf(f->hist[i].origin, sizeof f->hist[i].origin, "%s", origin);
    f->hist[i].verdict = (uint8_t)v;
    f->evp[i] = &f->ev[i];
}

/* A wrap "for" node: only its recipient matters to the rule (its bytes cannot be checked). */
static Simpul__V1__Sealed **wrap_for(fixture *f, const char *node) {
    size_t i = f->e.n;
    simpul__v1__sealed__init(&f->wrap[i]);
    f->wrap[i].recipient = (char *)node;
    f->wrapp[i] = &f->wrap[i];
    return &f->wrapp[i];
}

static void dispositioned(fixture *f, const char *by, const char *agency, const char *wrap,
                          sp_verdict v) {
    size_t i = f->e.n;
    simpul__v1__event__init(&f->ev[i]);
    simpul__v1__dispositioned__init(&f->disp[i]);
    f->disp[i].agency = (char *)agency;
    if (wrap) {
        f->disp[i].content_keys = wrap_for(f, wrap);
        f->disp[i].n_content_keys = 1;
    }
    f->ev[i].body_case = SIMPUL__V1__EVENT__BODY_DISPOSITIONED;
    f->ev[i].dispositioned = &f->disp[i];
    push(f, by, v);
    if (v == SP_V_ACCEPTED) snprintf(f->s.agency, sizeof f->s.agency, "%s", agency);
}

static void privacy_raised(fixture *f, const char *by, const char *wrap) {
    size_t i = f->e.n;
    simpul__v1__event__init(&f->ev[i]);
    simpul__v1__privacy_raised__init(&f->raised[i]);
    f->raised[i].content_keys = wrap_for(f, wrap);
    f->raised[i].n_content_keys = 1;
    f->ev[i].body_case = SIMPUL__V1__EVENT__BODY_PRIVACY_RAISED;
    f->ev[i].privacy_raised = &f->raised[i];
    push(f, by, SP_V_ACCEPTED);
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    assert_int_equal(
        sp_topology_load_buffer(&f->topo, "t.yaml", topo_yaml, sizeof topo_yaml - 1, NULL), SP_OK);
    sp_state_init(&f->s, "3577-12");
    snprintf(f->s.intake, sizeof f->s.intake, "kota-3577");
    snprintf(f->s.responsible, sizeof f->s.responsible, "kota-3577");
    f->s.privacy = SIMPUL__V1__PRIVACY__CONFIDENTIAL;
    f->e.ev = f->evp;
    f->e.hist = f->hist;
    simpul__v1__event__init(&f->ev[0]);
    simpul__v1__complaint_filed__init(&f->filed);
    f->filed.content_keys = wrap_for(f, "kota-3577");
    f->filed.n_content_keys = 1;
    f->ev[0].body_case = SIMPUL__V1__EVENT__BODY_FILED;
    f->ev[0].filed = &f->filed;
    push(f, "kota-3577", SP_V_ACCEPTED);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    sp_state_clear(&f->s);
    sp_topology_free(f->topo);
    free(f);
    return 0;
}

static int may(const fixture *f, const char *node) {
    return sp_blob_entitled(f->topo, &f->s, &f->e, node);
}

/* Confidential: the intake node, and an agency once a key holder dispositioned to it. */
static void test_confidential_goes_to_key_holders_only(void **state) {
    fixture *f = *state;
    assert_true(may(f, "kota-3577"));
    assert_false(may(f, "opd-3577-pupr")); /* not dispositioned yet */
    dispositioned(f, "kota-3577", "opd-3577-pupr", "opd-3577-pupr", SP_V_ACCEPTED);
    assert_true(may(f, "opd-3577-pupr"));
    assert_false(may(f, "national")); /* sees metadata only (docs/privacy.md) */
    assert_false(may(f, "prov-35"));
    assert_false(may(f, "kota-3572"));
    assert_false(may(f, ""));
    assert_false(may(f, "nowhere"));
}

/* Anyone can write a box addressed to anyone: a wrap counts only when the fold accepted the
 * event and its author held the key itself. */
static void test_wraps_from_non_holders_or_refused_events_do_not_count(void **state) {
    fixture *f = *state;
    dispositioned(f, "national", "kota-3572", "kota-3572", SP_V_ACCEPTED);
    assert_false(may(f, "kota-3572")); /* national holds no wrap: its disposition shares none */
    dispositioned(f, "kota-3577", "prov-35", "prov-35", SP_V_WRONG_STATUS);
    assert_false(may(f, "prov-35"));
    dispositioned(f, "kota-3577", "opd-3577-pupr", "opd-3577-pupr", SP_V_ACCEPTED);
    privacy_raised(f, "opd-3577-pupr", "prov-35"); /* a holder's wrap: counts */
    assert_true(may(f, "prov-35"));
}

/* Not confidential: national, the verifying node and the assigned agency too (even when a
 * disposition at national gave the agency no key); other nodes still not. */
static void test_public_adds_national_verifier_and_agency(void **state) {
    fixture *f = *state;
    f->s.privacy = SIMPUL__V1__PRIVACY__PUBLIC;
    assert_true(may(f, "national"));
    assert_false(may(f, "kota-3572"));
    dispositioned(f, "national", "kota-3572", NULL, SP_V_ACCEPTED);
    assert_true(may(f, "kota-3572"));
    snprintf(f->s.responsible, sizeof f->s.responsible, "prov-35"); /* escalated */
    assert_true(may(f, "prov-35"));
    assert_false(may(f, "opd-3577-pupr"));
    f->s.privacy = SIMPUL__V1__PRIVACY__ANONYMOUS;
    assert_true(may(f, "national"));
    f->s.privacy = SIMPUL__V1__PRIVACY__CONFIDENTIAL; /* raised: back to key holders only */
    assert_false(may(f, "national"));
    assert_false(may(f, "kota-3572"));
}

/* Events this node does not store (NULL) give nothing; the state's own fields still count. */
static void test_missing_events_give_no_access(void **state) {
    fixture *f = *state;
    dispositioned(f, "kota-3577", "opd-3577-pupr", "opd-3577-pupr", SP_V_ACCEPTED);
    f->evp[1] = NULL;
    assert_false(may(f, "opd-3577-pupr"));
    f->s.privacy = SIMPUL__V1__PRIVACY__PUBLIC;
    assert_true(may(f, "opd-3577-pupr")); /* the assigned agency */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_confidential_goes_to_key_holders_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wraps_from_non_holders_or_refused_events_do_not_count,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_public_adds_national_verifier_and_agency, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_missing_events_give_no_access, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
