#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "node/http/ratelimit.h"

/* A burst is served, the next request waits for its refill, and the bucket refills with time. */
static void test_burst_then_wait_then_refill(void **state) {
    sp_ratelimit *rl;
    assert_int_equal(sp_ratelimit_new(&rl, 10, 5, 64), SP_OK);
    for (int i = 0; i < 5; i++) assert_int_equal(sp_ratelimit_take(rl, "t:madiun", 1000), 0);
    assert_int_equal(sp_ratelimit_take(rl, "t:madiun", 1000), 100); /* 10/s: one every 100 ms */
    assert_int_equal(sp_ratelimit_take(rl, "t:madiun", 1050), 50);
    assert_int_equal(sp_ratelimit_take(rl, "t:madiun", 1100), 0);
    assert_true(sp_ratelimit_take(rl, "t:madiun", 1100) > 0);
    for (int i = 0; i < 5; i++) assert_int_equal(sp_ratelimit_take(rl, "t:madiun", 60000), 0);
    assert_true(sp_ratelimit_take(rl, "t:madiun", 60000) > 0); /* refilled to the burst, no more */
    sp_ratelimit_free(rl);
}

/* One client's exhaustion does not touch another's bucket. */
static void test_clients_are_independent(void **state) {
    sp_ratelimit *rl;
    assert_int_equal(sp_ratelimit_new(&rl, 1, 2, 64), SP_OK);
    assert_int_equal(sp_ratelimit_take(rl, "h:10.0.0.1", 0), 0);
    assert_int_equal(sp_ratelimit_take(rl, "h:10.0.0.1", 0), 0);
    assert_int_equal(sp_ratelimit_take(rl, "h:10.0.0.1", 0), 1000);
    assert_int_equal(sp_ratelimit_take(rl, "h:10.0.0.2", 0), 0);
    assert_int_equal(sp_ratelimit_take(rl, "t:pupr-1", 0), 0);
    sp_ratelimit_free(rl);
}

/* Many more clients than slots: memory stays fixed, recent clients keep their buckets. */
static void test_table_stays_bounded(void **state) {
    sp_ratelimit *rl;
    char key[32];
    assert_int_equal(sp_ratelimit_new(&rl, 1, 1, 64), SP_OK);
    assert_int_equal(sp_ratelimit_take(rl, "h:attacker", 0), 0);
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "h:%d", i);
        sp_ratelimit_take(rl, key, 1); /* each new client gets its first request */
    }
    for (int i = 99990; i < 100000; i++) { /* the last ones are still known: empty buckets */
        snprintf(key, sizeof key, "h:%d", i);
        assert_true(sp_ratelimit_take(rl, key, 2) > 0);
    }
    sp_ratelimit_free(rl);
}

/* 0 per second: no limit. */
static void test_zero_is_unlimited(void **state) {
    sp_ratelimit *rl;
    assert_int_equal(sp_ratelimit_new(&rl, 0, 1, 8), SP_OK);
    for (int i = 0; i < 1000; i++) assert_int_equal(sp_ratelimit_take(rl, "anon", 0), 0);
    sp_ratelimit_free(rl);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_wait_then_refill),
        cmocka_unit_test(test_clients_are_independent),
        cmocka_unit_test(test_table_stays_bounded),
        cmocka_unit_test(test_zero_is_unlimited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
