/*
 * Durability under SIGKILL: a child process authors events in batches and acknowledges each
 * batch (by writing its last seq to a pipe) only after sp_feedlog_author returned SP_OK. The
 * parent kills it with SIGKILL at a random moment, reopens the data directory and checks that
 * every acknowledged event is there and every chain still verifies. Several rounds on the same
 * directory, so recovery after a crash is itself crashed into.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker/feedlog.h"
#include "tests/unit/testutil.h"

static char dir[256];
static sp_key *key;
static uint64_t rng;

static void child_author(int ackfd) {
    sp_store *st;
    sp_feedlog *log;
    if (sp_store_open(&st, dir, NULL) != SP_OK || sp_feedlog_open(&log, st, "kota-3577", key) != SP_OK)
        _exit(3);
    uint64_t state = rng ^ (uint64_t)getpid();
    for (;;) {
        size_t n = 1 + sp_test_rand(&state) % 50;
        uint8_t body[64];
        const uint8_t *bodies[50];
        size_t lens[50];
        for (size_t i = 0; i < n; i++) {
            bodies[i] = body;
            lens[i] = sizeof body;
        }
        if (sp_feedlog_author(log, bodies, lens, n, NULL) != SP_OK) _exit(4);
        uint64_t acked = sp_feedlog_head(log, "kota-3577", NULL);
        if (write(ackfd, &acked, sizeof acked) != sizeof acked) _exit(5);
    }
}

/* Run the child, kill it after `wait_ms`, return the highest acknowledged seq. */
static uint64_t crash_round(long wait_ms) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child_author(fds[1]);
    }
    close(fds[1]);
    struct timespec ts = {wait_ms / 1000, (wait_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    uint64_t acked = 0, v;
    while (read(fds[0], &v, sizeof v) == sizeof v) acked = v; /* acks sent before the kill */
    close(fds[0]);
    return acked;
}

static void test_sigkill_loses_no_acknowledged_event(void **state) {
    rng = sp_test_seed("crash_test");
    assert_non_null(sp_test_tmpdir(dir, "crash"));
    assert_int_equal(sp_key_generate(&key, SP_KEY_ED25519), SP_OK);
    uint64_t total_acked = 0;
    for (int round = 0; round < 5; round++) {
        uint64_t acked = crash_round(150 + (long)(sp_test_rand(&rng) % 400));
        if (acked > total_acked) total_acked = acked;
        sp_store *st;
        sp_feedlog *log;
        assert_int_equal(sp_store_open(&st, dir, NULL), SP_OK);
        assert_int_equal(sp_feedlog_open(&log, st, "kota-3577", key), SP_OK);
        uint64_t head = sp_feedlog_head(log, "kota-3577", NULL);
        size_t chains, envs, problems;
        assert_int_equal(sp_feedlog_verify_all(log, NULL, NULL, &chains, &envs, &problems), SP_OK);
        fprintf(stderr, "round %d: acknowledged %llu, stored %llu, verified %zu envelopes\n", round,
                (unsigned long long)total_acked, (unsigned long long)head, envs);
        assert_true(head >= total_acked);
        assert_int_equal(problems, 0);
        assert_int_equal(envs, head);
        total_acked = head; /* what survived is the floor for the next round */
        sp_feedlog_close(log);
        sp_store_close(st);
    }
    assert_true(total_acked > 0);
    sp_key_free(key);
    sp_test_rmrf(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_loses_no_acknowledged_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
