/*
 * Actions: parsing, the role table, and the events they produce (sealed texts of confidential
 * complaints, the content key handed to the agency of a disposition).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/intake/actions.h"
#include "schemas/simpul.pb-c.h"

static sp_err parse(const char *json, sp_action *a, sp_intake_error *e) {
    return sp_action_parse(a, json, strlen(json), e);
}

static void test_parse_each_action(void **state) {
    static const struct {
        const char *json;
        sp_action_kind kind;
    } ok[] = {
        {"{\"action\":\"verify\"}", SP_ACT_VERIFY},
        {"{\"action\":\"archive\",\"reason\":\"duplicate\"}", SP_ACT_ARCHIVE},
        {"{\"action\":\"disposition\",\"agency\":\"opd-3577-pupr\"}", SP_ACT_DISPOSITION},
        {"{\"action\":\"disposition\",\"by_rule\":true}", SP_ACT_DISPOSITION},
        {"{\"action\":\"reroute\"}", SP_ACT_REROUTE},
        {"{\"action\":\"follow-up\",\"text\":\"Tim ke lokasi\"}", SP_ACT_FOLLOW_UP},
        {"{\"action\":\"complete\",\"summary\":\"Selesai\"}", SP_ACT_COMPLETE},
        {"{\"action\":\"comment\",\"text\":\"Terima kasih\"}", SP_ACT_COMMENT},
        {"{\"action\":\"reopen\",\"reason\":\"belum beres\"}", SP_ACT_REOPEN},
        {"{\"action\":\"feedback\",\"satisfied\":true,\"rating\":5}", SP_ACT_FEEDBACK},
        {"{\"action\":\"raise-privacy\",\"privacy\":\"confidential\"}", SP_ACT_RAISE_PRIVACY},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        sp_action a;
        sp_intake_error e;
        if (parse(ok[i].json, &a, &e) != SP_OK) fail_msg("%s: %s", ok[i].json, e.message);
        assert_int_equal(a.kind, ok[i].kind);
        sp_action_free(&a);
    }
    sp_action a;
    sp_intake_error e;
    assert_int_equal(parse("{\"action\":\"reroute\"}", &a, &e), SP_OK);
    assert_string_equal(a.reason, "bukan wewenang"); /* the default reason */
    sp_action_free(&a);
}

static void test_parse_errors(void **state) {
    static const char *const bad[] = {
        "nope",
        "{}",
        "{\"action\":\"fly\"}",
        "{\"action\":\"archive\"}",
        "{\"action\":\"disposition\"}",
        "{\"action\":\"disposition\",\"agency\":\"x\",\"by_rule\":true}",
        "{\"action\":\"follow-up\"}",
        "{\"action\":\"complete\",\"summary\":\"\"}",
        "{\"action\":\"feedback\"}",
        "{\"action\":\"feedback\",\"satisfied\":true,\"rating\":9}",
        "{\"action\":\"raise-privacy\",\"privacy\":\"hidden\"}",
        "{\"action\":\"comment\",\"text\":5}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sp_action a;
        sp_intake_error e = {0};
        if (parse(bad[i], &a, &e) == SP_OK) fail_msg("accepted: %s", bad[i]);
        assert_int_equal(e.status, 400);
    }
}

static void test_roles(void **state) {
    assert_true(sp_action_role_allowed(SP_ACT_VERIFY, SP_ROLE_ADMIN_KOORDINATOR));
    assert_true(sp_action_role_allowed(SP_ACT_DISPOSITION, SP_ROLE_ADMIN_PUSAT));
    assert_false(sp_action_role_allowed(SP_ACT_VERIFY, SP_ROLE_ADMIN_PENGHUBUNG));
    assert_false(sp_action_role_allowed(SP_ACT_VERIFY, SP_ROLE_REPORTER));
    assert_true(sp_action_role_allowed(SP_ACT_FOLLOW_UP, SP_ROLE_ADMIN_PENGHUBUNG));
    assert_false(sp_action_role_allowed(SP_ACT_FOLLOW_UP, SP_ROLE_REPORTER));
    assert_true(sp_action_role_allowed(SP_ACT_FEEDBACK, SP_ROLE_REPORTER));
    assert_false(sp_action_role_allowed(SP_ACT_FEEDBACK, SP_ROLE_ADMIN_PUSAT));
    assert_true(sp_action_role_allowed(SP_ACT_COMMENT, SP_ROLE_REPORTER));
    assert_false(sp_action_role_allowed(SP_ACT_COMMENT, SP_ROLE_SYSTEM));
}

static Simpul__V1__Event *build(const char *json, const sp_action_ctx *c, uint8_t **body,
                                size_t *len) {
    sp_action a;
    sp_intake_error e;
    assert_int_equal(parse(json, &a, &e), SP_OK);
    assert_int_equal(sp_action_build(&a, c, body, len), SP_OK);
    sp_action_free(&a);
    Simpul__V1__Event *ev = simpul__v1__event__unpack(NULL, *len, *body);
    assert_non_null(ev);
    return ev;
}

static void test_event_carries_actor_and_role(void **state) {
    sp_action_ctx c = {
        .complaint_id = "3577-1", .actor = "pupr-1", .role = SP_ROLE_ADMIN_PENGHUBUNG};
    uint8_t *body;
    size_t len;
    Simpul__V1__Event *ev =
        build("{\"action\":\"follow-up\",\"text\":\"Tim ke lokasi\"}", &c, &body, &len);
    assert_string_equal(ev->complaint_id, "3577-1");
    assert_string_equal(ev->actor, "pupr-1");
    assert_string_equal(ev->actor_role, "admin-penghubung");
    assert_int_equal(ev->body_case, SIMPUL__V1__EVENT__BODY_FOLLOW_UP);
    assert_string_equal(ev->follow_up->text, "Tim ke lokasi");
    simpul__v1__event__free_unpacked(ev, NULL);
    free(body);
}

static void test_confidential_text_is_sealed(void **state) {
    uint8_t ck[SP_CONTENT_KEY_LEN], *body, *pt;
    size_t len, n;
    assert_int_equal(sp_content_key_new(ck), SP_OK);
    sp_action_ctx c = {.complaint_id = "3577-2",
                       .actor = "pupr-1",
                       .role = SP_ROLE_ADMIN_PENGHUBUNG,
                       .confidential = 1,
                       .content_key = ck};
    Simpul__V1__Event *ev =
        build("{\"action\":\"complete\",\"summary\":\"Pelaku diperiksa\"}", &c, &body, &len);
    assert_string_equal(ev->completed->summary, "");
    assert_int_equal(sp_content_open(ck, "3577-2", SP_FIELD_TEXT,
                                     ev->completed->sealed_summary.data,
                                     ev->completed->sealed_summary.len, &pt, &n),
                     SP_OK);
    assert_memory_equal(pt, "Pelaku diperiksa", n);
    free(pt);
    simpul__v1__event__free_unpacked(ev, NULL);
    free(body);
    /* no key here: refuse rather than write the text in clear */
    c.content_key = NULL;
    sp_action a;
    sp_intake_error e;
    assert_int_equal(parse("{\"action\":\"comment\",\"text\":\"rahasia\"}", &a, &e), SP_OK);
    assert_int_equal(sp_action_build(&a, &c, &body, &len), SP_ERR_FORBIDDEN);
    sp_action_free(&a);
}

static void test_disposition_wraps_the_key_for_the_agency(void **state) {
    sp_key *k;
    uint8_t pub[SP_PUBKEY_LEN], ck[SP_CONTENT_KEY_LEN], *body, *pt;
    size_t len, n;
    char b64[64], yaml[512];
    assert_int_equal(sp_key_generate(&k, SP_KEY_X25519), SP_OK);
    assert_int_equal(sp_key_raw_public(k, pub), SP_OK);
    sp_base64_encode(pub, sizeof pub, b64);
    snprintf(yaml, sizeof yaml,
             "nodes:\n  - {id: national, kind: national, name: N, address: tcp://h:1}\n"
             "  - {id: kemenkes, kind: ministry, name: K, parent: national, address: tcp://h:2, "
             "seal_key: %s}\n",
             b64);
    sp_topology *t;
    assert_int_equal(sp_topology_load_buffer(&t, "t.yaml", yaml, strlen(yaml), NULL), SP_OK);
    assert_int_equal(sp_content_key_new(ck), SP_OK);
    sp_action_ctx c = {.complaint_id = "3577-3",
                       .actor = "admin",
                       .role = SP_ROLE_ADMIN_KOORDINATOR,
                       .content_key = ck,
                       .agency = sp_topology_find(t, "kemenkes"),
                       .rule = "kesehatan@national"};
    Simpul__V1__Event *ev = build("{\"action\":\"disposition\",\"by_rule\":true}", &c, &body, &len);
    assert_string_equal(ev->dispositioned->agency, "kemenkes");
    assert_string_equal(ev->dispositioned->rule, "kesehatan@national");
    assert_int_equal(ev->dispositioned->n_content_keys, 1);
    assert_int_equal(sp_seal_open(ev->dispositioned->content_keys[0], k, "3577-3",
                                  SP_FIELD_CONTENT_KEY, &pt, &n),
                     SP_OK);
    assert_memory_equal(pt, ck, SP_CONTENT_KEY_LEN);
    free(pt);
    sp_fold_event fe;
    sp_action a = {.kind = SP_ACT_DISPOSITION};
    sp_action_fold_event(&a, &c, "kota-3577", &fe);
    assert_int_equal(fe.kind, SP_EV_DISPOSITIONED);
    assert_string_equal(fe.agency, "kemenkes");
    simpul__v1__event__free_unpacked(ev, NULL);
    free(body);
    sp_topology_free(t);
    sp_key_free(k);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_each_action),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_event_carries_actor_and_role),
        cmocka_unit_test(test_confidential_text_is_sealed),
        cmocka_unit_test(test_disposition_wraps_the_key_for_the_agency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
