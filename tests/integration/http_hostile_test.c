/*
 * Hostile complaint ids against a real node over loopback HTTP (tests/integration/
 * node_fixture.h: the daemon, its store with complaints in it, its HTTP server).
 *
 * GET /api/v1/complaints/3577%2012 (a blank in the id), GET /open311/v2/requests/kemenkes-1.json
 * (lower case) and the attachment route with a bad id used to kill the node with "double free
 * or corruption": load_state cleared a complaint state it had never initialised when the id
 * failed validation (fixed in 7086579). Every route that takes an id must answer such ids
 * with a 4xx JSON error, and the node must go on answering. Under ASan (label sanitize) any
 * bad free or read in those paths fails the test even when it would not crash a plain build.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/integration/node_fixture.h"

#define HEX64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Ids as they appear in the request target: escapes, case, lengths, bytes the id rules refuse. */
static const char *const hostile_ids[] = {
    "3577%2012",    "kemenkes-1", "KEMENKES-1",  "%20",         "-",
    "3577-",        "-12",        "3577-0",      "3577--1",     "3577-1%0A",
    "3577-1%0D%0A", "3577-1%09",  "%FF%FE",      "%C0%AF",      "3577%E2%80%AE-1",
    "3577-1%22%7D", "%25",        "%2E%2E",      "..",          "3577-18446744073709551616",
    "3577-1%20",    "%203577-1",  "3577-1;drop", "3577-1.json",
};

static int setup(void **state) {
    static sp_fixture f;
    if (sp_fixture_start(&f, "error") != SP_OK) return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state) {
    if (*state) sp_fixture_stop(*state);
    return 0;
}

/* An id longer than any tracking id (SP_TRACKING_ID_MAX) but short enough to be captured as
 * a path segment (SP_HTTP_PARAM_MAX); and one longer than that. */
static const char *long_id(size_t n) {
    static char buf[2][300];
    static int k;
    char *b = buf[k++ & 1];
    memset(b, '9', n);
    memcpy(b, "3577-", 5);
    b[n] = '\0';
    return b;
}

static void expect_4xx_json(sp_fixture *f, const char *method, const char *target,
                            const char *const *hdrs, const char *body) {
    sp_fixture_res res;
    sp_err rv = sp_fixture_http(f, method, target, hdrs, body, body ? strlen(body) : 0, &res);
    if (rv != SP_OK)
        fail_msg("%s %s: no answer (%s): did the node die?", method, target, sp_strerror(rv));
    if (res.status < 400 || res.status > 499 || strncmp(res.ctype, "application/json", 16) ||
        !sp_fixture_error_shape_ok(&res))
        fail_msg("%s %s: %d '%s' %s", method, target, res.status, res.ctype, res.body);
    sp_fixture_res_free(&res);
}

static void expect_healthy(sp_fixture *f) {
    sp_fixture_res res;
    assert_int_equal(sp_fixture_http(f, "GET", "/healthz", NULL, NULL, 0, &res), SP_OK);
    assert_int_equal(res.status, 200);
    assert_non_null(strstr(res.body, "\"ok\""));
    sp_fixture_res_free(&res);
}

/* The three requests that crashed the node. */
static void test_crashing_requests_get_4xx_json(void **state) {
    sp_fixture *f = *state;
    expect_4xx_json(f, "GET", "/api/v1/complaints/3577%2012", NULL, NULL);
    expect_healthy(f);
    expect_4xx_json(f, "GET", "/open311/v2/requests/kemenkes-1.json", NULL, NULL);
    expect_healthy(f);
    expect_4xx_json(f, "GET", "/api/v1/complaints/3577%2012/attachments/" HEX64, NULL, NULL);
    expect_healthy(f);
}

static void hostile_id_everywhere(sp_fixture *f, const char *id) {
    char auth[100], t[5][400];
    snprintf(auth, sizeof auth, "Bearer %s", f->admin);
    const char *const officer[] = {"Authorization", auth, NULL};
    const char *const action[] = {"Authorization", auth, "Content-Type", "application/json", NULL};
    snprintf(t[0], sizeof t[0], "/api/v1/complaints/%s", id);
    snprintf(t[1], sizeof t[1], "/api/v1/complaints/%s/attachments/" HEX64, id);
    snprintf(t[2], sizeof t[2], "/api/v1/complaints/%s/attachments/%s", id, f->pub_sha);
    snprintf(t[3], sizeof t[3], "/open311/v2/requests/%s.json", id);
    snprintf(t[4], sizeof t[4], "/api/v1/complaints/%s/actions", id);
    for (int i = 0; i < 4; i++)
        expect_4xx_json(f, "GET", t[i], NULL, NULL);
    expect_4xx_json(f, "GET", t[0], officer, NULL);
    expect_4xx_json(f, "POST", t[4], action, "{\"action\":\"comment\",\"text\":\"halo\"}");
}

static void test_hostile_ids_on_every_id_route(void **state) {
    sp_fixture *f = *state;
    for (size_t i = 0; i < sizeof hostile_ids / sizeof *hostile_ids; i++)
        hostile_id_everywhere(f, hostile_ids[i]);
    hostile_id_everywhere(f, long_id(SP_TRACKING_ID_MAX + 4));
    hostile_id_everywhere(f, long_id(200));
    expect_healthy(f);
}

/* Open311's list takes ids in a query: unknown ones are left out, never an error or a crash;
 * a query that is not UTF-8 is refused as a whole. */
static void test_hostile_ids_in_open311_list(void **state) {
    sp_fixture *f = *state;
    char target[2000];
    int k = snprintf(target, sizeof target, "/open311/v2/requests.json?service_request_id=");
    for (size_t i = 0; i < sizeof hostile_ids / sizeof *hostile_ids; i++)
        if (!strstr(hostile_ids[i], "%FF") && !strstr(hostile_ids[i], "%C0"))
            k += snprintf(target + k, sizeof target - (size_t)k, "%s%s", i ? "," : "",
                          hostile_ids[i]);
    sp_fixture_res res;
    assert_int_equal(sp_fixture_http(f, "GET", target, NULL, NULL, 0, &res), SP_OK);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.body, "[]");
    sp_fixture_res_free(&res);
    expect_4xx_json(f, "GET", "/open311/v2/requests.json?service_request_id=%FF%FE,3577%2012", NULL,
                    NULL);
    expect_healthy(f);
}

/* The bad ids did not hurt the good ones: the filed complaints still read back. */
static void test_valid_ids_still_answer(void **state) {
    sp_fixture *f = *state;
    char target[300];
    sp_fixture_res res;
    snprintf(target, sizeof target, "/api/v1/complaints/%s/attachments/%s", f->pub_id, f->pub_sha);
    assert_int_equal(sp_fixture_http(f, "GET", target, NULL, NULL, 0, &res), SP_OK);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.body, "halo");
    sp_fixture_res_free(&res);
    snprintf(target, sizeof target, "/open311/v2/requests/%s.json", f->conf_id);
    assert_int_equal(sp_fixture_http(f, "GET", target, NULL, NULL, 0, &res), SP_OK);
    assert_int_equal(res.status, 200);
    sp_fixture_res_free(&res);
    expect_healthy(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crashing_requests_get_4xx_json),
        cmocka_unit_test(test_hostile_ids_on_every_id_route),
        cmocka_unit_test(test_hostile_ids_in_open311_list),
        cmocka_unit_test(test_valid_ids_still_answer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
