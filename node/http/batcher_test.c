/*
 * The batcher: many requests share one durable commit; every job is finished exactly once with
 * the envelope of the seq its body was built for; admit and prepare refusals author nothing;
 * a body prepared for a seq another writer took is rebuilt for the right one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/http/batcher.h"
#include "tests/unit/testutil.h"

typedef struct {
    char dir[256];
    sp_key *key;
    sp_store *st;
    sp_feedlog *log;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    if (!f || !sp_test_tmpdir(f->dir, "batcher") ||
        sp_key_generate(&f->key, SP_KEY_ED25519) != SP_OK ||
        sp_store_open(&f->st, f->dir, NULL) != SP_OK ||
        sp_feedlog_open(&f->log, f->st, "kota-3577", f->key) != SP_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    sp_feedlog_close(f->log);
    sp_store_close(f->st);
    sp_key_free(f->key);
    sp_test_rmrf(f->dir);
    free(f);
    return 0;
}

/* A job whose body is "seq=<n>": finish checks that it was stored under that very seq. */
typedef struct {
    sp_batch_job job;
    sp_err admit_rv, prepare_rv, build_rv;
    sp_feedlog *interfere; /* prepare authors an event here first (takes the predicted seq) */
    char body[32];
    uint64_t prepared_for;
    int finished;
    sp_err rv;
    uint64_t seq;
    int body_matches_seq;
} test_job;

static atomic_int finished_total;

static sp_err t_admit(sp_batch_job *j, void *arg) {
    return ((test_job *)j)->admit_rv;
}

static sp_err t_prepare(sp_batch_job *j, uint64_t seq) {
    test_job *t = (test_job *)j;
    if (t->interfere) {
        const uint8_t *b = (const uint8_t *)"other writer";
        size_t n = 12;
        if (sp_feedlog_author(t->interfere, &b, &n, 1, NULL) != SP_OK) return SP_ERR_STORE;
    }
    t->prepared_for = seq;
    return t->prepare_rv;
}

static sp_err t_build(sp_batch_job *j, uint64_t seq, sp_wbatch *with, uint8_t **body, size_t *len) {
    (void)with;
    test_job *t = (test_job *)j;
    if (t->build_rv != SP_OK) return t->build_rv;
    int n = snprintf(t->body, sizeof t->body, "seq=%llu", (unsigned long long)seq);
    *body = malloc((size_t)n);
    memcpy(*body, t->body, (size_t)n);
    *len = (size_t)n;
    return SP_OK;
}

static void t_finish(sp_batch_job *j, sp_err rv, const sp_envelope *env) {
    test_job *t = (test_job *)j;
    t->finished++;
    t->rv = rv;
    if (env) {
        t->seq = env->seq;
        char want[32];
        int n = snprintf(want, sizeof want, "seq=%llu", (unsigned long long)env->seq);
        t->body_matches_seq = env->body_len == (size_t)n && memcmp(env->body, want, (size_t)n) == 0;
    }
    atomic_fetch_add(&finished_total, 1);
}

static const sp_batch_job_ops ops = {t_admit, t_prepare, t_build, t_finish};

static void wait_finished(int n) {
    for (int i = 0; i < 2000 && atomic_load(&finished_total) < n; i++) {
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(atomic_load(&finished_total), n);
}

typedef struct {
    sp_batcher *b;
    test_job *jobs;
    size_t n;
} submitter;

static void *submit_all(void *arg) {
    submitter *s = arg;
    for (size_t i = 0; i < s->n; i++)
        assert_int_equal(sp_batcher_submit(s->b, &s->jobs[i].job), SP_OK);
    return NULL;
}

static void test_many_requests_share_commits(void **state) {
    fixture *f = *state;
    enum { THREADS = 4, PER = 500 };
    test_job *jobs = calloc(THREADS * PER, sizeof *jobs);
    for (size_t i = 0; i < THREADS * PER; i++)
        jobs[i].job.ops = &ops;
    sp_batcher *b;
    sp_batcher_config cfg = {.log = f->log, .max_batch = 64, .threads = 2};
    assert_int_equal(sp_batcher_start(&b, &cfg), SP_OK);
    atomic_store(&finished_total, 0);
    pthread_t th[THREADS];
    submitter s[THREADS];
    for (int t = 0; t < THREADS; t++) {
        s[t] = (submitter){b, jobs + t * PER, PER};
        pthread_create(&th[t], NULL, submit_all, &s[t]);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    wait_finished(THREADS * PER);
    sp_batcher_stats st;
    sp_batcher_get_stats(b, &st);
    sp_batcher_stop(b);
    uint8_t *seen = calloc(THREADS * PER + 1, 1);
    for (size_t i = 0; i < THREADS * PER; i++) {
        assert_int_equal(jobs[i].finished, 1);
        assert_int_equal(jobs[i].rv, SP_OK);
        assert_true(jobs[i].body_matches_seq);
        assert_true(jobs[i].seq >= 1 && jobs[i].seq <= THREADS * PER);
        assert_false(seen[jobs[i].seq]); /* every seq once */
        seen[jobs[i].seq] = 1;
    }
    assert_int_equal(sp_feedlog_head(f->log, "kota-3577", NULL), THREADS * PER);
    assert_int_equal(st.authored, THREADS * PER);
    assert_true(st.batches < THREADS * PER); /* group commit happened */
    assert_true(st.max_batch <= 64);
    free(seen);
    free(jobs);
}

static void test_refusals_author_nothing(void **state) {
    fixture *f = *state;
    test_job jobs[4] = {{.job.ops = &ops, .admit_rv = SP_ERR_REJECTED},
                        {.job.ops = &ops, .prepare_rv = SP_ERR_CRYPTO},
                        {.job.ops = &ops, .build_rv = SP_ERR_TOO_BIG},
                        {.job.ops = &ops}};
    uint64_t head = sp_feedlog_head(f->log, "kota-3577", NULL);
    sp_batcher *b;
    sp_batcher_config cfg = {.log = f->log, .threads = 1};
    assert_int_equal(sp_batcher_start(&b, &cfg), SP_OK);
    atomic_store(&finished_total, 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(sp_batcher_submit(b, &jobs[i].job), SP_OK);
    wait_finished(4);
    sp_batcher_stop(b);
    assert_int_equal(jobs[0].rv, SP_ERR_REJECTED);
    assert_int_equal(jobs[1].rv, SP_ERR_CRYPTO);
    assert_int_equal(jobs[2].rv, SP_ERR_TOO_BIG);
    assert_int_equal(jobs[3].rv, SP_OK); /* the others do not take it down */
    assert_true(jobs[3].body_matches_seq);
    for (int i = 0; i < 4; i++)
        assert_int_equal(jobs[i].finished, 1);
    assert_int_equal(sp_feedlog_head(f->log, "kota-3577", NULL), head + 1);
}

static void test_body_follows_the_seq_it_really_gets(void **state) {
    fixture *f = *state;
    test_job jobs[3] = {
        {.job.ops = &ops, .interfere = f->log}, {.job.ops = &ops}, {.job.ops = &ops}};
    sp_batcher *b;
    sp_batcher_config cfg = {.log = f->log, .threads = 1};
    assert_int_equal(sp_batcher_start(&b, &cfg), SP_OK);
    atomic_store(&finished_total, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sp_batcher_submit(b, &jobs[i].job), SP_OK);
    wait_finished(3);
    sp_batcher_stats st;
    sp_batcher_get_stats(b, &st);
    sp_batcher_stop(b);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(jobs[i].rv, SP_OK);
        assert_true(jobs[i].body_matches_seq);
    }
    if (jobs[0].seq != jobs[0].prepared_for) assert_true(st.rebuilt >= 1);
    assert_int_not_equal(jobs[0].seq, jobs[0].prepared_for); /* the other writer took it */
}

static void test_stop_finishes_queued_and_refuses_new(void **state) {
    fixture *f = *state;
    test_job jobs[50];
    memset(jobs, 0, sizeof jobs);
    sp_batcher *b;
    sp_batcher_config cfg = {.log = f->log};
    assert_int_equal(sp_batcher_start(&b, &cfg), SP_OK);
    atomic_store(&finished_total, 0);
    for (int i = 0; i < 50; i++) {
        jobs[i].job.ops = &ops;
        assert_int_equal(sp_batcher_submit(b, &jobs[i].job), SP_OK);
    }
    sp_batcher_stop(b);
    assert_int_equal(atomic_load(&finished_total), 50);
    for (int i = 0; i < 50; i++)
        assert_int_equal(jobs[i].rv, SP_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_many_requests_share_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_author_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_follows_the_seq_it_really_gets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_finishes_queued_and_refuses_new, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
