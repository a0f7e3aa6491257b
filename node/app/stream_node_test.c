/*
 * Stream topics: fixed when the event is stored, from the event and its complaint's filing
 * only, so that what a complaint becomes later never changes the topic of an earlier event.
 * A real RocksDB, feed log and complaint fold; the stream on inproc:// addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/app/stream_node.h"
#include "node/lifecycle/fold_testutil.h"
#include "tests/unit/testutil.h"

static sp_test_fold_env fx;

typedef struct {
    char dir[256];
    sp_store *st;
    sp_key *key;
    sp_feedlog *log;
    sp_complaints *c;
    sp_node_config cfg;
    sp_daemon_parts parts;
    sp_stream *stream;
} node;

static node *node_new(void) {
    static int count;
    char tag[32];
    node *n = calloc(1, sizeof *n);
    snprintf(tag, sizeof tag, "stream-node-%d", count);
    assert_non_null(sp_test_tmpdir(n->dir, tag));
    assert_int_equal(sp_key_generate(&n->key, SP_KEY_ED25519), SP_OK);
    assert_int_equal(sp_store_open(&n->st, n->dir, SP_NODE_CFS), SP_OK);
    assert_int_equal(sp_feedlog_open(&n->log, n->st, "kota-3577", n->key), SP_OK);
    assert_int_equal(sp_complaints_open(&n->c, n->st, &fx.ctx), SP_OK);
    sp_feedlog_hooks hooks = sp_complaints_hooks(n->c);
    sp_feedlog_set_hooks(n->log, &hooks);
    static char pub[64], rep[64];
    snprintf(pub, sizeof pub, "inproc://stream-node-pub-%d", count);
    snprintf(rep, sizeof rep, "inproc://stream-node-rep-%d", count++);
    n->cfg.listen_stream = pub;
    n->cfg.listen_replay = rep;
    n->parts = (sp_daemon_parts){.cfg = &n->cfg,
                                 .topo = fx.topo,
                                 .store = n->st,
                                 .log = n->log,
                                 .sign_key = n->key,
                                 .complaints = n->c,
                                 .fold = &fx.ctx};
    n->parts.self = sp_topology_find(fx.topo, "kota-3577");
    assert_int_equal(sp_node_stream_start(&n->stream, &n->parts), SP_OK);
    return n;
}

static void node_free(node *n) {
    sp_feedlog_set_tagger(n->log, NULL, NULL);
    sp_stream_stop(n->stream);
    sp_complaints_close(n->c);
    sp_feedlog_close(n->log);
    sp_store_close(n->st);
    sp_key_free(n->key);
    sp_test_rmrf(n->dir);
    free(n);
}

static sp_fold_event filing(void) {
    sp_fold_event e = sp_test_ev(SP_EV_FILED, "kota-3577", 0, 0, SP_ROLE_REPORTER, NULL);
    e.type = 2;
    e.category = "infrastruktur/pju";
    e.region = "35.77";
    e.channel = 4; /* WhatsApp: the topic's last part */
    return e;
}

static sp_fold_event action(sp_ev_kind kind, const char *id, const char *agency) {
    sp_fold_event e = sp_test_ev(kind, "kota-3577", 0, 0, SP_ROLE_ADMIN_KOORDINATOR, id);
    e.agency = agency ? agency : "";
    return e;
}

/* Author events of our feed in one commit (one batch). */
static void author(node *n, const sp_fold_event *ev, size_t count) {
    uint8_t *bodies[8];
    size_t lens[8];
    assert_true(count <= 8);
    for (size_t i = 0; i < count; i++)
        assert_int_equal(sp_test_encode_event(&ev[i], &bodies[i], &lens[i]), 0);
    assert_int_equal(sp_feedlog_author(n->log, (const uint8_t *const *)bodies, lens, count, NULL),
                     SP_OK);
    for (size_t i = 0; i < count; i++)
        free(bodies[i]);
}

static void assert_tag(node *n, uint64_t offset, const char *want) {
    char tag[SP_ARRIVAL_TAG_MAX];
    assert_int_equal(sp_feedlog_arrival_tag(n->log, offset, tag), SP_OK);
    assert_string_equal(tag, want);
}

/* The tracking id the fold gives our filing at seq 1. */
static void first_id(char id[SP_TRACKING_ID_MAX]) {
    sp_envelope e;
    uint8_t *body;
    size_t len;
    sp_fold_event f = filing(), ev;
    sp_fold_body *b;
    assert_int_equal(sp_test_encode_event(&f, &body, &len), 0);
    assert_int_equal(sp_envelope_init(&e, "kota-3577", body, len), SP_OK);
    e.seq = 1;
    assert_int_equal(sp_fold_decode(&e, &ev, &b, id), SP_OK);
    sp_fold_body_free(b);
    sp_envelope_clear(&e);
    free(body);
}

static void test_a_filing_keeps_its_topic_after_the_disposition(void **state) {
    node *n = node_new();
    char id[SP_TRACKING_ID_MAX];
    first_id(id);
    sp_fold_event f = filing();
    author(n, &f, 1);
    sp_fold_event later[] = {action(SP_EV_VERIFIED, id, NULL),
                             action(SP_EV_DISPOSITIONED, id, "opd-3577-pupr")};
    author(n, later, 2);
    assert_tag(n, 1, "35.77._.filed.whatsapp");
    assert_tag(n, 2, "35.77._.verified.whatsapp");
    assert_tag(n, 3, "35.77.opd-3577-pupr.dispositioned.whatsapp");
    /* computing it again now, with the complaint assigned, gives the same */
    sp_envelope env;
    char topic[SP_MAX_TOPIC];
    assert_int_equal(sp_feedlog_get(n->log, "kota-3577", 1, &env), SP_OK);
    assert_int_equal(sp_stream_topic(&n->parts, &env, topic), SP_OK);
    assert_string_equal(topic, "35.77._.filed.whatsapp");
    sp_envelope_clear(&env);
    node_free(n);
}

static void test_an_event_stored_with_its_filing_gets_its_region(void **state) {
    node *n = node_new();
    char id[SP_TRACKING_ID_MAX];
    first_id(id);
    sp_fold_event both[] = {filing(), action(SP_EV_COMMENTED, id, NULL)};
    author(n, both, 2);
    assert_tag(n, 2, "35.77._.commented.whatsapp");
    node_free(n);
}

static int collect(void *arg, uint64_t offset, const sp_envelope *env, const char *tag) {
    char(*tags)[SP_ARRIVAL_TAG_MAX] = arg;
    snprintf(tags[offset], SP_ARRIVAL_TAG_MAX, "%s", tag);
    return 0;
}

static void test_rule_without_filing_and_for_non_complaint_events(void **state) {
    node *n = node_new();
    sp_fold_event ev[] = {action(SP_EV_VERIFIED, "3578-9", NULL), /* filing not here */
                          action(SP_EV_ESCALATED, "3578-9", "prov-35"),
                          action(SP_EV_COMMENTED, "no complaint", NULL)};
    author(n, ev, 3);
    uint8_t junk[] = {0xff, 0xff, 0xff};
    const uint8_t *bodies[] = {junk};
    size_t lens[] = {sizeof junk};
    assert_int_equal(sp_feedlog_author(n->log, bodies, lens, 1, NULL), SP_OK);
    char tags[5][SP_ARRIVAL_TAG_MAX];
    memset(tags, 0, sizeof tags);
    assert_int_equal(sp_feedlog_scan_tagged(n->log, 1, 0, collect, tags), SP_OK);
    assert_string_equal(tags[1], "_._._.verified._");
    assert_string_equal(tags[2], "_._.prov-35.escalated._");
    assert_string_equal(tags[3], "_._._.commented._");
    assert_string_equal(tags[4], "_._._.other._");
    node_free(n);
}

static void test_arrivals_without_a_tagger_have_no_tag(void **state) {
    node *n = node_new();
    sp_feedlog_set_tagger(n->log, NULL, NULL);
    sp_fold_event f = filing();
    author(n, &f, 1);
    char tag[SP_ARRIVAL_TAG_MAX];
    assert_int_equal(sp_feedlog_arrival_tag(n->log, 1, tag), SP_ERR_NOT_FOUND);
    assert_int_equal(sp_feedlog_arrival_tag(n->log, 2, tag), SP_ERR_NOT_FOUND);
    node_free(n);
}

int main(void) {
    if (sp_test_fold_env_init(&fx) != 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_filing_keeps_its_topic_after_the_disposition),
        cmocka_unit_test(test_an_event_stored_with_its_filing_gets_its_region),
        cmocka_unit_test(test_rule_without_filing_and_for_non_complaint_events),
        cmocka_unit_test(test_arrivals_without_a_tagger_have_no_tag),
    };
    int rv = cmocka_run_group_tests(tests, NULL, NULL);
    sp_test_fold_env_free(&fx);
    return rv;
}
