/*
 * sp_replicator_ask between two replicators in one process, over real NNG sockets on loopback
 * (ports chosen at run time): a request reaches a node that is not a peer and the blob_serve
 * hook answers it; what the hook classifies is counted; a node without the hook, or nobody at
 * the address, is reported; stopping answers every accepted ask exactly once; a full queue is
 * refused at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <nng/nng.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/hlc.h"
#include "broker/replicator.h"
#include "tests/unit/testutil.h"

/* ---- a store with nothing in it: these replicators have no peers ---- */

static sp_err no_ingest(void *ctx, const sp_envelope *envs, size_t n, sp_err *status) {
    return SP_OK;
}
static sp_err no_heads(void *ctx, sp_vv_entry **out, size_t *n) {
    *out = calloc(1, sizeof **out);
    *n = 0;
    return *out ? SP_OK : SP_ERR_NOMEM;
}
static uint64_t no_head(void *ctx, const char *origin) {
    return 0;
}
static sp_err no_range(void *ctx, const char *origin, uint64_t from, size_t max, size_t max_bytes,
                       sp_envelope **out, size_t *n) {
    *out = NULL;
    *n = 0;
    return SP_OK;
}
static const sp_replica_store empty_store = {no_ingest, no_heads, no_head, no_range, NULL, NULL};

/* The hook: "re:" + the request; "bad..." counts as malformed, "who..." as an unknown node,
 * "slow..." takes half a second. */
static sp_err echo(void *ctx, const char *from, const uint8_t *req, size_t n, uint8_t **reply,
                   size_t *len) {
    if (n >= 4 && memcmp(req, "slow", 4) == 0) sp_test_sleep_ms(500);
    *reply = malloc(n + 3);
    memcpy(*reply, "re:", 3);
    memcpy(*reply + 3, req, n);
    *len = n + 3;
    if (n >= 3 && memcmp(req, "bad", 3) == 0) return SP_ERR_DECODE;
    if (n >= 3 && memcmp(req, "who", 3) == 0) return SP_ERR_UNKNOWN_ORIGIN;
    return SP_OK;
}

static sp_replicator *start(const char *self, const char *listen, int hook, uint32_t timeout_ms) {
    sp_replicator_config c = {.self = self, .listen = listen, .request_timeout_ms = timeout_ms};
    if (hook) c.blob_serve = echo;
    sp_replicator *r = NULL;
    assert_int_equal(sp_replicator_start(&r, &c, &empty_store), SP_OK);
    return r;
}

/* ---- waiting for answers ---- */

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls;
    sp_err rv;
    char reply[64];
} answers;

static answers *answers_new(void) {
    answers *a = calloc(1, sizeof *a);
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    return a;
}

static void answers_free(answers *a) {
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

static void on_done(void *arg, sp_err rv, const uint8_t *reply, size_t n) {
    answers *a = arg;
    pthread_mutex_lock(&a->lock);
    a->calls++;
    a->rv = rv;
    snprintf(a->reply, sizeof a->reply, "%.*s", (int)(n < 60 ? n : 60),
             reply ? (const char *)reply : "");
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
}

/* Wait until `calls` answers came (at most 10 s); returns the last one's result. */
static sp_err wait_calls(answers *a, int calls) {
    uint64_t until = sp_wall_ms() + 10000;
    pthread_mutex_lock(&a->lock);
    while (a->calls < calls && sp_wall_ms() < until) {
        struct timespec ts = {(time_t)(until / 1000), (long)(until % 1000) * 1000000L};
        pthread_cond_timedwait(&a->cond, &a->lock, &ts);
    }
    sp_err rv = a->calls >= calls ? a->rv : SP_ERR__COUNT;
    pthread_mutex_unlock(&a->lock);
    return rv;
}

static sp_err ask(sp_replicator *r, const char *url, const char *text, answers *a) {
    return sp_replicator_ask(r, "kota-3577", url, (const uint8_t *)text, strlen(text), on_done, a);
}

static void url_of(char *buf, size_t cap) {
    snprintf(buf, cap, "tcp://127.0.0.1:%d", sp_test_free_port());
}

/* ---- tests ---- */

static void test_ask_reaches_a_node_that_is_not_a_peer(void **state) {
    char url[64];
    url_of(url, sizeof url);
    sp_replicator *server = start("kota-3577", url, 1, 2000),
                  *client = start("national", NULL, 0, 2000);
    answers *a = answers_new();
    assert_int_equal(ask(client, url, "hello", a), SP_OK);
    assert_int_equal(wait_calls(a, 1), SP_OK);
    assert_string_equal(a->reply, "re:hello");
    assert_int_equal(ask(client, url, "bad request", a), SP_OK);
    assert_int_equal(wait_calls(a, 2), SP_OK); /* the hook's own answer still goes back */
    assert_string_equal(a->reply, "re:bad request");
    assert_int_equal(ask(client, url, "who am i", a), SP_OK);
    assert_int_equal(wait_calls(a, 3), SP_OK);
    sp_peer_stats *ps;
    size_t n;
    sp_server_stats ss;
    assert_int_equal(sp_replicator_stats(server, &ps, &n, &ss), SP_OK);
    free(ps);
    assert_int_equal(ss.requests, 3);
    assert_int_equal(ss.malformed, 1);
    assert_int_equal(ss.unknown_peer, 1);
    assert_int_equal(sp_replicator_ask(client, "Not An Id", url, NULL, 0, on_done, a),
                     SP_ERR_INVAL);
    sp_replicator_stop(client);
    sp_replicator_stop(server);
    assert_int_equal(a->calls, 3);
    answers_free(a);
}

static void test_ask_without_hook_is_refused(void **state) {
    char url[64];
    url_of(url, sizeof url);
    sp_replicator *server = start("kota-3577", url, 0, 2000),
                  *client = start("national", NULL, 0, 2000);
    answers *a = answers_new();
    assert_int_equal(ask(client, url, "hello", a), SP_OK);
    assert_int_equal(wait_calls(a, 1), SP_ERR_REJECTED);
    assert_string_equal(a->reply, "unknown request");
    sp_replicator_stop(client);
    sp_replicator_stop(server);
    answers_free(a);
}

static void test_ask_to_nowhere_times_out(void **state) {
    char url[64];
    url_of(url, sizeof url); /* nobody listens there */
    sp_replicator *client = start("national", NULL, 0, 300);
    answers *a = answers_new();
    uint64_t t0 = sp_wall_ms();
    assert_int_equal(ask(client, url, "hello", a), SP_OK);
    sp_err rv = wait_calls(a, 1);
    assert_true(rv == SP_ERR_TIMEOUT || rv == SP_ERR_NET);
    assert_true(sp_wall_ms() - t0 < 3000);
    sp_replicator_stop(client);
    answers_free(a);
}

/* Two asks in flight on a slow server, the queue filled behind them: the ask past the queue is
 * refused at once; stopping answers every accepted one exactly once, without waiting for the
 * server. */
static void test_stop_answers_every_ask_once(void **state) {
    char url[64];
    url_of(url, sizeof url);
    sp_replicator *server = start("kota-3577", url, 1, 5000),
                  *client = start("national", NULL, 0, 5000);
    answers *a = answers_new();
    int accepted = 0, refused = 0;
    for (int i = 0; i < SP_ASK_QUEUE + 10; i++) {
        sp_err rv = ask(client, url, "slow", a);
        accepted += rv == SP_OK;
        refused += rv == SP_ERR_TOO_BIG;
        if (i == 1) sp_test_sleep_ms(100); /* let both threads take one */
    }
    assert_true(refused > 0);
    assert_int_equal(accepted + refused, SP_ASK_QUEUE + 10);
    uint64_t t0 = sp_wall_ms();
    sp_replicator_stop(client);
    assert_true(sp_wall_ms() - t0 < 2000);
    assert_int_equal(a->calls, accepted);
    assert_int_equal(a->rv, SP_ERR_CLOSED);
    sp_replicator_stop(server);
    answers_free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ask_reaches_a_node_that_is_not_a_peer),
        cmocka_unit_test(test_ask_without_hook_is_refused),
        cmocka_unit_test(test_ask_to_nowhere_times_out),
        cmocka_unit_test(test_stop_answers_every_ask_once),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    nng_fini(); /* let NNG's reaper free what closed sockets left, before the leak check */
    return failed;
}
