/*
 * Replication between real nodes in one process: each node has its own RocksDB store and feed
 * log and talks to its neighbours over real NNG sockets on loopback (ports chosen at run time).
 * The daemon-level tests (separate processes) are in tests/integration/federation_test.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "base/log.h"
#include "broker/hlc.h"
#include "broker/replica_store.h"
#include "schemas/simpul.pb-c.h"
#include "tests/unit/testutil.h"

#define MAX_NODES 5

typedef struct tnode {
    const char *id;
    char dir[256], url[64];
    sp_store *st;
    sp_key *key;
    sp_feedlog *log;
    sp_replica_adapter adapter;
    sp_replica_store ops;
    sp_replicator *rep;
    sp_peer_config peers[MAX_NODES];
    size_t n_peers;
    const char *keep_only; /* scoped: keep only this origin (and our own) */
    char cert[400], ca[400];  /* TLS files, when the node uses tls+tcp */
    const char *agreement;    /* what it tells its peers on sync (NULL: nothing) */
    uint8_t pub[SP_PUBKEY_LEN]; /* its key's public half, which its peers check its proof with */
} tnode;

static tnode nodes[MAX_NODES];
static size_t n_nodes;

static void on_committed(void *arg, const sp_envelope *const *envs, const uint64_t *offsets, size_t n) {
    tnode *t = arg;
    if (t->rep) sp_replicator_offer(t->rep, envs, n);
}

static int keeps(void *arg, const char *origin) {
    tnode *t = arg;
    return strcmp(origin, t->id) == 0 || strcmp(origin, t->keep_only) == 0;
}

static tnode *add_node(const char *id) {
    assert_true(n_nodes < MAX_NODES); /* a failed test left its nodes: teardown_each frees them */
    tnode *t = &nodes[n_nodes++];
    memset(t, 0, sizeof *t);
    t->id = id;
    assert_non_null(sp_test_tmpdir(t->dir, id));
    snprintf(t->url, sizeof t->url, "tcp://127.0.0.1:%d", sp_test_free_port());
    assert_int_equal(sp_key_generate(&t->key, SP_KEY_ED25519), SP_OK);
    assert_int_equal(sp_key_raw_public(t->key, t->pub), SP_OK);
    return t;
}

static void link_nodes(tnode *a, tnode *b) {
    a->peers[a->n_peers++] = (sp_peer_config){.id = b->id, .address = b->url, .sign_pub = b->pub};
    b->peers[b->n_peers++] = (sp_peer_config){.id = a->id, .address = a->url, .sign_pub = a->pub};
}

static sp_replicator_config cfg_of(tnode *t) {
    return (sp_replicator_config){.self = t->id, .listen = t->url, .peers = t->peers,
                                  .n_peers = t->n_peers, .sync_interval_ms = 300,
                                  .request_timeout_ms = 1000, .push_batch = 200,
                                  .tls_cert_key_file = t->cert[0] ? t->cert : NULL,
                                  .tls_ca_file = t->ca[0] ? t->ca : NULL, .agreement = t->agreement,
                                  .sign_key = t->key};
}

/* Switch t to tls+tcp with a certificate for `cert_id` from the CA in certs/<ca>/. */
static void use_tls(tnode *t, const char *ca, const char *cert_id) {
    char cmd[1024], dir[300];
    _Static_assert(sizeof t->cert > sizeof dir + 80, "room for the file names");
    snprintf(dir, sizeof dir, "%s/../certs-%s", t->dir, ca);
    snprintf(cmd, sizeof cmd, "bash %s/deploy/make-certs.sh %s %s", getenv("SP_SOURCE_DIR"), dir, cert_id);
    assert_int_equal(system(cmd), 0);
    snprintf(t->cert, sizeof t->cert, "%s/%s.pem", dir, cert_id);
    snprintf(t->ca, sizeof t->ca, "%s/ca.pem", dir);
    memmove(t->url + 4, t->url, strlen(t->url) + 1);
    memcpy(t->url, "tls+", 4);
}

/* The node whose key t trusts for id: itself for its own id, else the first one so named (a
 * test may add an impostor under a taken name). */
static tnode *first_named(tnode *t, const char *id) {
    if (strcmp(id, t->id) == 0) return t;
    for (size_t i = 0; i < n_nodes; i++)
        if (strcmp(nodes[i].id, id) == 0) return &nodes[i];
    return NULL;
}

static void start_node(tnode *t) {
    assert_int_equal(sp_store_open(&t->st, t->dir, NULL), SP_OK);
    assert_int_equal(sp_feedlog_open(&t->log, t->st, t->id, t->key), SP_OK);
    for (size_t i = 0; i < n_nodes; i++) /* every node trusts every other's key */
        if (&nodes[i] == first_named(t, nodes[i].id))
            assert_int_equal(sp_feedlog_add_origin_key(t->log, nodes[i].id, nodes[i].pub), SP_OK);
    t->adapter = (sp_replica_adapter){t->log, t->keep_only ? keeps : NULL, t};
    sp_replica_store_init(&t->ops, &t->adapter);
    sp_feedlog_hooks hooks = {NULL, on_committed, t};
    sp_feedlog_set_hooks(t->log, &hooks);
    sp_replicator_config cfg = cfg_of(t);
    assert_int_equal(sp_replicator_start(&t->rep, &cfg, &t->ops), SP_OK);
}

static void stop_node(tnode *t) {
    sp_replicator_stop(t->rep);
    t->rep = NULL;
    sp_feedlog_close(t->log);
    sp_store_close(t->st);
    t->log = NULL;
    t->st = NULL;
}

static void teardown_all(void) {
    for (size_t i = 0; i < n_nodes; i++) {
        if (nodes[i].rep || nodes[i].log) stop_node(&nodes[i]);
        sp_key_free(nodes[i].key);
        sp_test_rmrf(nodes[i].dir);
    }
    n_nodes = 0;
}

static void author(tnode *t, size_t count) {
    uint8_t body[100] = {1};
    const uint8_t *bodies[500];
    size_t lens[500];
    for (size_t done = 0; done < count;) {
        size_t n = count - done < 500 ? count - done : 500;
        for (size_t i = 0; i < n; i++) bodies[i] = body, lens[i] = sizeof body;
        assert_int_equal(sp_feedlog_author(t->log, bodies, lens, n, NULL), SP_OK);
        done += n;
    }
}

/* Wait up to 10 s for t to hold origin up to seq. */
static int wait_head(tnode *t, const char *origin, uint64_t seq) {
    for (int i = 0; i < 1000; i++) {
        if (sp_feedlog_head(t->log, origin, NULL) >= seq) return 1;
        sp_test_sleep_ms(10);
    }
    fprintf(stderr, "%s holds %s up to %llu, wanted %llu\n", t->id, origin,
            (unsigned long long)sp_feedlog_head(t->log, origin, NULL), (unsigned long long)seq);
    return 0;
}

/* t's counters of its link to peer_id (zero when t has no such peer). */
static sp_peer_stats peer_stats_of(tnode *t, const char *peer_id) {
    sp_peer_stats *ps, found = {0};
    size_t np;
    assert_int_equal(sp_replicator_stats(t->rep, &ps, &np, NULL), SP_OK);
    for (size_t i = 0; i < np; i++)
        if (strcmp(ps[i].id, peer_id) == 0) found = ps[i];
    free(ps);
    return found;
}

static void test_kota_event_reaches_national_through_province(void **state) {
    tnode *k = add_node("kota-3577"), *p = add_node("prov-35"), *n = add_node("national");
    link_nodes(k, p);
    link_nodes(p, n);
    start_node(k);
    start_node(p);
    start_node(n);
    author(k, 1);
    assert_true(wait_head(n, "kota-3577", 1));
    author(n, 3); /* and national's events reach the kota */
    assert_true(wait_head(k, "national", 3));
    author(k, 1500); /* batches of 500, sealed every 256 and at their end; pushes of 200 */
    assert_true(wait_head(n, "kota-3577", 1501));
    /* every push and pull was cut at a seal: nothing arrived that could not be authenticated */
    assert_int_equal(peer_stats_of(p, "kota-3577").rejects[SP_ERR_UNSEALED], 0);
    assert_int_equal(peer_stats_of(n, "prov-35").rejects[SP_ERR_UNSEALED], 0);
    sp_peer_stats *ps;
    size_t np;
    sp_server_stats ss;
    assert_int_equal(sp_replicator_stats(p->rep, &ps, &np, &ss), SP_OK);
    assert_int_equal(np, 2);
    for (size_t i = 0; i < np; i++) assert_true(ps[i].last_contact_ms > 0);
    free(ps);
    teardown_all();
}

static void test_partition_then_converge(void **state) {
    tnode *k = add_node("kota-3577"), *p = add_node("prov-35"), *n = add_node("national");
    link_nodes(k, p);
    link_nodes(p, n);
    start_node(k);
    start_node(p);
    start_node(n);
    author(k, 10);
    assert_true(wait_head(n, "kota-3577", 10));
    stop_node(p); /* the province goes down */
    author(k, 200);
    author(n, 50);
    sp_test_sleep_ms(500);
    assert_int_equal(sp_feedlog_head(n->log, "kota-3577", NULL), 10);
    start_node(p);
    assert_true(wait_head(n, "kota-3577", 210));
    assert_true(wait_head(k, "national", 50));
    assert_true(wait_head(p, "national", 50));
    teardown_all();
}

static void test_new_empty_node_catches_up(void **state) {
    tnode *p = add_node("prov-35"), *n = add_node("national"), *fresh = add_node("kota-3577");
    link_nodes(p, n);
    link_nodes(p, fresh);
    start_node(p);
    start_node(n);
    author(p, 3000);
    author(n, 700);
    assert_true(wait_head(p, "national", 700));
    start_node(fresh);
    assert_true(wait_head(fresh, "prov-35", 3000));
    assert_true(wait_head(fresh, "national", 700));
    teardown_all();
}

/* Two provinces that are each other's extra peer get national's events from national; the
 * lazy link between them pushes nothing eagerly, and still repairs (anti-entropy). */
static void test_lazy_link_only_repairs(void **state) {
    tnode *n = add_node("national"), *a = add_node("prov-35"), *b = add_node("prov-51");
    link_nodes(n, a);
    link_nodes(n, b);
    link_nodes(a, b);
    a->peers[a->n_peers - 1].lazy = 1;
    b->peers[b->n_peers - 1].lazy = 1;
    start_node(n);
    start_node(a);
    start_node(b);
    author(n, 1000);
    assert_true(wait_head(a, "national", 1000));
    assert_true(wait_head(b, "national", 1000));
    /* nothing eager over the lazy link: whatever crossed it, anti-entropy sent (a slow run
     * lets a sync round see b lacking the national's events before the national's push lands) */
    sp_peer_stats ab = peer_stats_of(a, "prov-51"), ba = peer_stats_of(b, "prov-35");
    assert_int_equal(ab.sent_events, ab.repaired_events);
    assert_int_equal(ba.sent_events, ba.repaired_events);
    /* every event left the national at least once, over the tree links: pushed by the national
     * or pulled by a province's sync round (which the national's peer counters do not see, so
     * count what the provinces received from it) */
    assert_true(peer_stats_of(a, "national").received_events +
                    peer_stats_of(b, "national").received_events >= 1000);
    stop_node(n); /* and the lazy link still repairs: b gets a's events by anti-entropy */
    author(a, 20);
    assert_true(wait_head(b, "prov-35", 20));
    teardown_all();
}

/* Peers compare what they must share on every sync: both ends of a link name the part that
 * differs; a peer that agrees shows none, and a change is seen at the next sync. */
static int wait_agreement(tnode *t, const char *peer_id, const char *differs) {
    for (int i = 0; i < 500; i++) {
        sp_peer_stats s = peer_stats_of(t, peer_id);
        if (s.agreement_known && strcmp(s.disagrees, differs) == 0) return 1;
        sp_test_sleep_ms(10);
    }
    sp_peer_stats s = peer_stats_of(t, peer_id);
    fprintf(stderr, "%s: %s known=%d disagrees=\"%s\", wanted \"%s\"\n", t->id, peer_id,
            s.agreement_known, s.disagrees, differs);
    return 0;
}

static void test_peers_show_what_they_do_not_agree_on(void **state) {
    tnode *n = add_node("national"), *a = add_node("prov-35"), *b = add_node("prov-51");
    n->agreement = "topology=00aa;calendar=0001;policy=0abc";
    a->agreement = "topology=00aa;calendar=0001;policy=0abc";
    b->agreement = "topology=00aa;calendar=0002;policy=0def";
    link_nodes(n, a);
    link_nodes(n, b);
    start_node(n);
    start_node(a);
    start_node(b);
    assert_true(wait_agreement(n, "prov-35", ""));
    assert_true(wait_agreement(a, "national", ""));
    assert_true(wait_agreement(n, "prov-51", "calendar,policy"));
    assert_true(wait_agreement(b, "national", "calendar,policy"));
    stop_node(b); /* prov-51 installs the federation's calendar and policy */
    b->agreement = n->agreement;
    start_node(b);
    assert_true(wait_agreement(n, "prov-51", ""));
    assert_true(wait_agreement(b, "national", ""));
    teardown_all();
}

/* Authors events at two kotas while the main thread stops and restarts their province. */
typedef struct {
    tnode *a, *b;
    int rounds;
    sp_err failed; /* the first authoring error: cmocka's asserts belong to the main thread */
} authoring;

static sp_err author_quietly(tnode *t, size_t count) {
    uint8_t body[100] = {1};
    const uint8_t *bodies[64];
    size_t lens[64];
    for (size_t i = 0; i < count && i < 64; i++) bodies[i] = body, lens[i] = sizeof body;
    return sp_feedlog_author(t->log, bodies, lens, count < 64 ? count : 64, NULL);
}

static void *author_both(void *arg) {
    authoring *w = arg;
    for (int i = 0; i < w->rounds && w->failed == SP_OK; i++) {
        w->failed = author_quietly(w->a, 50);
        if (w->failed == SP_OK) w->failed = author_quietly(w->b, 50);
        sp_test_sleep_ms(5);
    }
    return NULL;
}

/* Stopping a node whose server and peer threads are busy storing (and, through the commit hook,
 * offering to its peers' queues) must not free a queue under them: every thread stops before
 * anything is freed (a use after free the national simulation found; ASan sees it here). */
static void test_stop_while_peers_stream_in(void **state) {
    tnode *k1 = add_node("kota-3577"), *k2 = add_node("kota-3578"), *p = add_node("prov-35"),
          *n = add_node("national");
    link_nodes(k1, p);
    link_nodes(k2, p);
    link_nodes(p, n);
    start_node(k1);
    start_node(k2);
    start_node(p);
    start_node(n);
    authoring w = {k1, k2, 40, SP_OK};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, author_both, &w), 0);
    for (int i = 0; i < 6; i++) {
        sp_test_sleep_ms(60);
        stop_node(p);
        sp_test_sleep_ms(20);
        start_node(p);
    }
    pthread_join(t, NULL);
    assert_int_equal(w.failed, SP_OK);
    assert_true(wait_head(n, "kota-3577", 2000));
    assert_true(wait_head(n, "kota-3578", 2000));
    teardown_all();
}

/* Send raw bytes to a node's peer socket; return the reply's error text (caller frees). */
static char *raw_request(const char *url, const uint8_t *buf, size_t len) {
    nng_socket s;
    nng_msg *m;
    char *err = NULL;
    assert_int_equal(nng_req0_open(&s), 0);
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 2000);
    assert_int_equal(nng_dial(s, url, NULL, 0), 0);
    assert_int_equal(nng_send(s, (void *)buf, len, 0), 0);
    if (nng_recvmsg(s, &m, 0) == 0) {
        Simpul__V1__PeerReply *rep = simpul__v1__peer_reply__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
        if (rep) err = strdup(rep->error ? rep->error : "");
        if (rep) simpul__v1__peer_reply__free_unpacked(rep, NULL);
        nng_msg_free(m);
    }
    nng_close(s);
    return err;
}

static char *push_as(const char *url, const char *from, const sp_envelope *envs, size_t n) {
    uint8_t *batch, *buf;
    size_t blen;
    assert_int_equal(sp_batch_encode(envs, n, &batch, &blen), SP_OK);
    Simpul__V1__PeerRequest req;
    simpul__v1__peer_request__init(&req);
    req.from = (char *)from;
    req.kind_case = SIMPUL__V1__PEER_REQUEST__KIND_PUSH;
    req.push.data = batch;
    req.push.len = blen;
    size_t len = simpul__v1__peer_request__get_packed_size(&req);
    buf = malloc(len);
    simpul__v1__peer_request__pack(&req, buf);
    char *err = raw_request(url, buf, len);
    free(buf);
    free(batch);
    return err;
}

static void test_hostile_peer_is_counted_while_honest_traffic_flows(void **state) {
    tnode *k = add_node("kota-3577"), *p = add_node("prov-35");
    link_nodes(k, p);
    start_node(k);
    start_node(p);
    author(k, 5);
    assert_true(wait_head(p, "kota-3577", 5));
    char *e = raw_request(p->url, (const uint8_t *)"\xff\xfe garbage", 10);
    assert_string_equal(e, "malformed request");
    free(e);
    size_t big = SP_MAX_BATCH_BYTES + 10000;
    uint8_t *huge = calloc(1, big);
    e = raw_request(p->url, huge, big);
    assert_string_equal(e, "message too large");
    free(e);
    free(huge);
    /* A forged envelope under the kota's name, signed by another key, sent as if by the kota. */
    sp_key *evil;
    sp_key_generate(&evil, SP_KEY_ED25519);
    sp_envelope forged;
    uint8_t prev[SP_HASH_LEN];
    sp_feedlog_head(k->log, "kota-3577", prev);
    sp_envelope_init(&forged, "kota-3577", (const uint8_t *)"evil", 4);
    forged.seq = 6;
    forged.hlc = sp_hlc_make(sp_wall_ms(), 0);
    memcpy(forged.prev_hash, prev, SP_HASH_LEN);
    sp_envelope_sign(&forged, evil);
    e = push_as(p->url, "kota-3577", &forged, 1); /* on a connection that proved nothing */
    assert_string_equal(e, "unauthenticated");
    free(e);
    e = push_as(p->url, "kota-9999", &forged, 1); /* not a peer of the province */
    assert_string_equal(e, "unknown peer");
    free(e);
    sp_envelope_clear(&forged);
    sp_key_free(evil);
    author(k, 20); /* honest traffic still flows, the forgery did not take seq 6 */
    assert_true(wait_head(p, "kota-3577", 25));
    sp_envelope got;
    assert_int_equal(sp_feedlog_get(p->log, "kota-3577", 6, &got), SP_OK);
    assert_int_not_equal(got.body_len, 4);
    sp_envelope_clear(&got);
    sp_peer_stats *ps;
    size_t np;
    sp_server_stats ss;
    assert_int_equal(sp_replicator_stats(p->rep, &ps, &np, &ss), SP_OK);
    assert_int_equal(ss.malformed, 1);
    assert_int_equal(ss.oversized, 1);
    assert_int_equal(ss.unknown_peer, 1);
    assert_int_equal(ss.unauthenticated, 1);
    assert_int_equal(ss.bad_proof, 0);
    assert_int_equal(ps[0].impostor, 0);
    free(ps);
    teardown_all();
}

/* A node that claims prov-35's name (and could hold a valid federation certificate) but not
 * its key: the national refuses its proof, does not believe its server either, and nothing
 * crosses the link either way; the real prov-35 then links at once. */
static void test_impersonating_peer_can_neither_pull_nor_push(void **state) {
    tnode *n = add_node("national"), *real = add_node("prov-35"), *evil = add_node("prov-35");
    link_nodes(n, real);
    strcpy(evil->url, real->url); /* where the national dials prov-35 */
    evil->peers[evil->n_peers++] = (sp_peer_config){.id = "national", .address = n->url, .sign_pub = n->pub};
    start_node(n);
    start_node(evil);
    author(n, 10);
    author(evil, 10);
    sp_server_stats ss = {0};
    /* up to 10 s: the national dials the impostor in its own sync round (slow under ASan) */
    for (int i = 0; i < 1000 && (ss.bad_proof == 0 || peer_stats_of(n, "prov-35").impostor == 0);
         i++) {
        sp_test_sleep_ms(10);
        sp_peer_stats *ps;
        size_t np;
        assert_int_equal(sp_replicator_stats(n->rep, &ps, &np, &ss), SP_OK);
        free(ps);
    }
    assert_true(ss.bad_proof >= 1);                         /* its proof, as a client */
    assert_true(peer_stats_of(n, "prov-35").impostor >= 1); /* its proof, as a server */
    sp_test_sleep_ms(700); /* two sync rounds */
    assert_int_equal(sp_feedlog_head(evil->log, "national", NULL), 0);
    assert_int_equal(sp_feedlog_head(n->log, "prov-35", NULL), 0);
    stop_node(evil);
    start_node(real);
    assert_true(wait_head(real, "national", 10));
    teardown_all();
}

static void test_scoped_node_keeps_only_its_origins(void **state) {
    tnode *p = add_node("prov-35"), *k = add_node("kota-3577"), *other = add_node("kota-3578");
    link_nodes(p, k);
    link_nodes(p, other);
    k->keep_only = "prov-35";
    start_node(p);
    start_node(k);
    start_node(other);
    author(other, 40);
    author(p, 7);
    author(k, 3);
    assert_true(wait_head(p, "kota-3577", 3));
    assert_true(wait_head(p, "kota-3578", 40));
    assert_true(wait_head(k, "prov-35", 7));
    /* The province learns that the scoped kota does not keep kota-3578: no lag stays. */
    uint64_t lag = UINT64_MAX;
    for (int i = 0; i < 500 && lag != 0; i++) {
        sp_peer_stats *ps;
        size_t np;
        assert_int_equal(sp_replicator_stats(p->rep, &ps, &np, NULL), SP_OK);
        for (size_t j = 0; j < np; j++)
            if (strcmp(ps[j].id, "kota-3577") == 0) lag = ps[j].lag;
        free(ps);
        sp_test_sleep_ms(10);
    }
    assert_int_equal(lag, 0);
    sp_test_sleep_ms(700); /* a couple more sync rounds change nothing */
    assert_int_equal(sp_feedlog_head(k->log, "kota-3578", NULL), 0);
    teardown_all();
}

/* ---- what an operator reads: the log, captured from stderr ---- */

typedef struct {
    char path[300];
    int saved; /* the real stderr */
} log_capture;

static log_capture *capturing; /* released by the teardown if a test fails while capturing */

/* stderr into DIR/../<name>.log until release_log (a failed test leaves the file behind). */
static void capture_log(log_capture *c, const char *dir, const char *name) {
    snprintf(c->path, sizeof c->path, "%s/../%s.log", dir, name);
    int fd = open(c->path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    assert_true(fd >= 0);
    fflush(stderr);
    c->saved = dup(2);
    assert_true(c->saved >= 0 && dup2(fd, 2) == 2);
    close(fd);
    sp_log_set_level(SP_LOG_WARN);
    capturing = c;
}

static void release_log(log_capture *c) {
    capturing = NULL;
    sp_log_set_level(SP_LOG_ERROR);
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    unlink(c->path);
}

/* The first captured line containing every one of the NULL-terminated needles, waiting up to
 * 10 s for it; "" when none came. */
static const char *log_line(log_capture *c, char *buf, size_t cap, ...) {
    for (int tries = 0; tries < 100; tries++, sp_test_sleep_ms(100)) {
        FILE *f = fopen(c->path, "r");
        while (f && fgets(buf, (int)cap, f)) {
            va_list ap;
            va_start(ap, cap);
            const char *needle;
            int all = 1;
            while ((needle = va_arg(ap, const char *))) all = all && strstr(buf, needle);
            va_end(ap);
            if (all) {
                fclose(f);
                return buf;
            }
        }
        if (f) fclose(f);
    }
    buf[0] = '\0';
    return buf;
}

/* After a failed assertion too: the real stderr back, the nodes stopped (the log file stays
 * for reading). */
/* After every test, so a failed one does not leave its nodes (and ports) to the next. */
static int teardown_each(void **state) {
    teardown_all();
    return 0;
}

static int teardown_capture(void **state) {
    if (capturing) {
        fflush(stderr);
        dup2(capturing->saved, 2);
        close(capturing->saved);
        fprintf(stderr, "log kept in %s\n", capturing->path);
        capturing = NULL;
        sp_log_set_level(SP_LOG_ERROR);
    }
    teardown_all();
    return 0;
}

static void test_tls_link_works_and_unknown_certificate_is_refused(void **state) {
    tnode *k = add_node("kota-3577"), *p = add_node("prov-35"), *rogue = add_node("kota-3578");
    use_tls(k, "federation", "kota-3577");
    use_tls(p, "federation", "prov-35");
    use_tls(rogue, "elsewhere", "kota-3578"); /* a certificate our CA never issued */
    link_nodes(k, p);
    rogue->peers[rogue->n_peers++] = (sp_peer_config){.id = p->id, .address = p->url, .sign_pub = p->pub};
    p->peers[p->n_peers++] = (sp_peer_config){.id = rogue->id, .address = rogue->url, .sign_pub = rogue->pub};
    log_capture log;
    capture_log(&log, p->dir, "tls-unknown-ca");
    start_node(k);
    start_node(p);
    start_node(rogue);
    author(k, 50);
    author(rogue, 5);
    assert_true(wait_head(p, "kota-3577", 50));
    /* The province refuses the rogue's certificate, and its log says so and why, not just that
     * requests time out; the rogue, which trusts another CA, says the same of the province's. */
    char line[1024];
    /* (a probe that times out on a busy machine logs "no diagnosis" and tries again) */
    log_line(&log, line, sizeof line, "msg=replica.tls_refused", "peer=kota-3578", "was refused", NULL);
    assert_non_null(strstr(line, "the certificate of kota-3578 was refused: not signed by the federation CA"));
    log_line(&log, line, sizeof line, "msg=replica.tls_refused", "peer=prov-35", "was refused", NULL);
    assert_non_null(strstr(line, "the certificate of prov-35 was refused: not signed by the federation CA"));
    assert_true(peer_stats_of(p, "kota-3578").tls_refused > 0);
    assert_int_equal(peer_stats_of(p, "kota-3577").tls_refused, 0);
    release_log(&log);
    assert_int_equal(sp_feedlog_head(p->log, "kota-3578", NULL), 0);
    sp_peer_stats *ps;
    size_t np;
    assert_int_equal(sp_replicator_stats(rogue->rep, &ps, &np, NULL), SP_OK);
    assert_int_equal(ps[0].connected, 0);
    assert_int_equal(ps[0].last_contact_ms, 0);
    free(ps);
    teardown_all();
}

static void test_tls_certificate_for_another_node_is_refused_by_name(void **state) {
    tnode *p = add_node("prov-35"), *impostor = add_node("kota-3579");
    use_tls(p, "federation", "prov-35");
    use_tls(impostor, "federation", "kota-3580"); /* our CA, but issued to another node */
    link_nodes(p, impostor);
    log_capture log;
    capture_log(&log, p->dir, "tls-wrong-name");
    start_node(p);
    start_node(impostor);
    char line[1024];
    log_line(&log, line, sizeof line, "msg=replica.tls_refused", "peer=kota-3579", NULL);
    assert_non_null(strstr(line, "the certificate of kota-3579 was refused: issued to another name than kota-3579"));
    assert_non_null(strstr(line, "CN=kota-3580"));
    assert_true(peer_stats_of(p, "kota-3579").tls_refused > 0);
    release_log(&log);
    teardown_all();
}

int main(void) {
    sp_log_set_level(SP_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_kota_event_reaches_national_through_province, teardown_each),
        cmocka_unit_test_teardown(test_partition_then_converge, teardown_each),
        cmocka_unit_test_teardown(test_new_empty_node_catches_up, teardown_each),
        cmocka_unit_test_teardown(test_stop_while_peers_stream_in, teardown_each),
        cmocka_unit_test_teardown(test_lazy_link_only_repairs, teardown_each),
        cmocka_unit_test_teardown(test_peers_show_what_they_do_not_agree_on, teardown_each),
        cmocka_unit_test_teardown(test_impersonating_peer_can_neither_pull_nor_push, teardown_each),
        cmocka_unit_test_teardown(test_hostile_peer_is_counted_while_honest_traffic_flows, teardown_each),
        cmocka_unit_test_teardown(test_scoped_node_keeps_only_its_origins, teardown_each),
        cmocka_unit_test_teardown(test_tls_link_works_and_unknown_certificate_is_refused,
                                  teardown_capture),
        cmocka_unit_test_teardown(test_tls_certificate_for_another_node_is_refused_by_name,
                                  teardown_capture),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    nng_fini(); /* let NNG's reaper free what closed sockets left, before the leak check */
    return failed;
}
