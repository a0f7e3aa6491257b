/*
 * Officer tokens: the file (hashed secrets, mode 0600, reserved names) and the daemon's checker
 * (it sees changes made behind its back, by mtime).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "node/http/tokens.h"
#include "tests/unit/testutil.h"

static char dir[256];

static int setup(void **state) {
    return sp_test_tmpdir(dir, "tokens") ? 0 : -1;
}

static int teardown(void **state) {
    sp_test_rmrf(dir);
    return 0;
}

static char *file_text(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, SP_TOKEN_FILE);
    FILE *f = fopen(path, "rb");
    static char buf[65536];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    return buf;
}

static void test_create_stores_only_a_hash_with_mode_0600(void **state) {
    char secret[SP_TOKEN_SECRET_LEN + 1], path[512];
    assert_int_equal(sp_tokens_create(dir, "madiun-admin", SP_ROLE_ADMIN_KOORDINATOR, secret),
                     SP_OK);
    assert_int_equal(strlen(secret), SP_TOKEN_SECRET_LEN);
    assert_null(strstr(file_text(), secret + 4)); /* the secret is nowhere on disk */
    assert_non_null(strstr(file_text(), "madiun-admin"));
    snprintf(path, sizeof path, "%s/%s", dir, SP_TOKEN_FILE);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    sp_tokens *t;
    sp_token tok;
    assert_int_equal(sp_tokens_open(&t, dir), SP_OK);
    assert_int_equal(sp_tokens_check(t, secret, &tok), SP_OK);
    assert_string_equal(tok.name, "madiun-admin");
    assert_int_equal(tok.role, SP_ROLE_ADMIN_KOORDINATOR);
    secret[10] ^= 1;
    assert_int_equal(sp_tokens_check(t, secret, &tok), SP_ERR_AUTH);
    assert_int_equal(sp_tokens_check(t, "Bearer", &tok), SP_ERR_AUTH);
    assert_int_equal(sp_tokens_check(t, NULL, &tok), SP_ERR_AUTH);
    sp_tokens_close(t);
}

static void test_names_are_unique_and_validated(void **state) {
    char secret[SP_TOKEN_SECRET_LEN + 1];
    assert_int_equal(sp_tokens_create(dir, "dup", SP_ROLE_REPORTER, secret), SP_OK);
    assert_int_equal(sp_tokens_create(dir, "dup", SP_ROLE_REPORTER, secret), SP_ERR_EXISTS);
    assert_int_equal(sp_tokens_create(dir, "bad name", SP_ROLE_REPORTER, secret), SP_ERR_INVAL);
    assert_int_equal(sp_tokens_create(dir, "x", SP_ROLE_SYSTEM, secret), SP_ERR_INVAL);
    assert_int_equal(sp_tokens_create(dir, "x", SP_ROLE_UNKNOWN, secret), SP_ERR_INVAL);
}

static void test_checker_sees_revocation_and_new_tokens(void **state) {
    char a[SP_TOKEN_SECRET_LEN + 1], b[SP_TOKEN_SECRET_LEN + 1];
    sp_tokens *t;
    sp_token tok;
    assert_int_equal(sp_tokens_create(dir, "rev-a", SP_ROLE_ADMIN_PUSAT, a), SP_OK);
    assert_int_equal(sp_tokens_open(&t, dir), SP_OK);
    assert_int_equal(sp_tokens_check(t, a, &tok), SP_OK);
    assert_int_equal(sp_tokens_create(dir, "rev-b", SP_ROLE_ADMIN_PENGHUBUNG, b), SP_OK);
    assert_int_equal(sp_tokens_check(t, b, &tok), SP_OK); /* picked up without a restart */
    assert_int_equal(sp_tokens_revoke(dir, "rev-a"), SP_OK);
    assert_int_equal(sp_tokens_check(t, a, &tok), SP_ERR_AUTH);
    assert_int_equal(sp_tokens_revoke(dir, "rev-a"), SP_ERR_EXISTS);
    assert_int_equal(sp_tokens_revoke(dir, "nobody"), SP_ERR_NOT_FOUND);
    assert_int_equal(sp_tokens_create(dir, "rev-a", SP_ROLE_ADMIN_PUSAT, a),
                     SP_ERR_EXISTS); /* reserved */
    sp_token *v;
    size_t n;
    assert_int_equal(sp_tokens_list(dir, &v, &n), SP_OK);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, "rev-a") == 0) found = v[i].revoked_ms != 0;
    assert_true(found);
    free(v);
    sp_tokens_close(t);
}

static void test_corrupt_file_refuses_everything(void **state) {
    char d2[256], path[512], secret[SP_TOKEN_SECRET_LEN + 1];
    sp_tokens *t;
    sp_token tok;
    assert_non_null(sp_test_tmpdir(d2, "tokens2"));
    assert_int_equal(sp_tokens_create(d2, "ok", SP_ROLE_REPORTER, secret), SP_OK);
    assert_int_equal(sp_tokens_open(&t, d2), SP_OK);
    assert_int_equal(sp_tokens_check(t, secret, &tok), SP_OK);
    snprintf(path, sizeof path, "%s/%s", d2, SP_TOKEN_FILE);
    FILE *f = fopen(path, "w");
    fputs("{\"tokens\": [ {\"name\": 5} ]}", f);
    fclose(f);
    assert_int_equal(sp_tokens_check(t, secret, &tok), SP_ERR_CORRUPT);
    sp_token *v;
    size_t n;
    assert_int_equal(sp_tokens_list(d2, &v, &n), SP_ERR_CORRUPT);
    sp_tokens_close(t);
    sp_test_rmrf(d2);
}

static void test_missing_file_is_an_empty_list(void **state) {
    char d2[256];
    sp_token *v;
    size_t n = 9;
    assert_non_null(sp_test_tmpdir(d2, "tokens3"));
    assert_int_equal(sp_tokens_list(d2, &v, &n), SP_OK);
    assert_int_equal(n, 0);
    free(v);
    sp_tokens *t;
    sp_token tok;
    assert_int_equal(sp_tokens_open(&t, d2), SP_OK);
    assert_int_equal(
        sp_tokens_check(t, "spt_0000000000000000000000000000000000000000000000000000000000000000",
                        &tok),
        SP_ERR_AUTH);
    sp_tokens_close(t);
    sp_test_rmrf(d2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_stores_only_a_hash_with_mode_0600),
        cmocka_unit_test(test_names_are_unique_and_validated),
        cmocka_unit_test(test_checker_sees_revocation_and_new_tokens),
        cmocka_unit_test(test_corrupt_file_refuses_everything),
        cmocka_unit_test(test_missing_file_is_an_empty_list),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
