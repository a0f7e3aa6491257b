#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/feedlog.h"
#include "broker/hlc.h"
#include "tests/unit/testutil.h"

/* A node under test: its own data directory, store, key and log. */
typedef struct {
    char dir[256];
    sp_store *st;
    sp_key *key;
    sp_feedlog *log;
    const char *id;
} node;

/* An application's column family beside the log's: the stage hook writes to it. */
static const char *const app_cfs[] = {"derived", NULL};

static void node_open(node *n) {
    assert_int_equal(sp_store_open(&n->st, n->dir, app_cfs), SP_OK);
    assert_int_equal(sp_feedlog_open(&n->log, n->st, n->id, n->key), SP_OK);
}

static void node_close(node *n) {
    sp_feedlog_close(n->log);
    sp_store_close(n->st);
    n->log = NULL;
    n->st = NULL;
}

static node *node_new(const char *id) {
    node *n = calloc(1, sizeof *n);
    n->id = id;
    assert_non_null(sp_test_tmpdir(n->dir, id));
    assert_int_equal(sp_key_generate(&n->key, SP_KEY_ED25519), SP_OK);
    node_open(n);
    return n;
}

static void node_free(node *n) {
    node_close(n);
    sp_key_free(n->key);
    sp_test_rmrf(n->dir);
    free(n);
}

static void trust(node *at, const node *origin) {
    uint8_t pub[SP_PUBKEY_LEN];
    assert_int_equal(sp_key_raw_public(origin->key, pub), SP_OK);
    assert_int_equal(sp_feedlog_add_origin_key(at->log, origin->id, pub), SP_OK);
}

/* Author count events "e<k>" on n in one batch (so only its last, and every 256th, is a seal);
 * copies of them in out (if not NULL). */
static void author_batch(node *n, size_t count, sp_envelope *out) {
    uint8_t **bodies = calloc(count, sizeof *bodies);
    size_t *lens = calloc(count, sizeof *lens);
    for (size_t i = 0; i < count; i++) {
        bodies[i] = malloc(32);
        lens[i] = (size_t)snprintf((char *)bodies[i], 32, "e%zu", i);
    }
    assert_int_equal(sp_feedlog_author(n->log, (const uint8_t *const *)bodies, lens, count, out), SP_OK);
    for (size_t i = 0; i < count; i++) free(bodies[i]);
    free(bodies);
    free(lens);
}

/* Author count events one batch each: every one is a seal, so any of them stands alone. */
static void author(node *n, size_t count, sp_envelope *out) {
    for (size_t i = 0; i < count; i++) author_batch(n, 1, out ? &out[i] : NULL);
}

static void clear_all(sp_envelope *e, size_t n) {
    for (size_t i = 0; i < n; i++) sp_envelope_clear(&e[i]);
}

static void test_author_survives_close_and_reopen(void **state) {
    node *a = node_new("kota-3577");
    sp_envelope e[10];
    author(a, 10, e);
    uint8_t hash[SP_HASH_LEN], again[SP_HASH_LEN];
    assert_int_equal(sp_feedlog_head(a->log, "kota-3577", hash), 10);
    node_close(a);
    node_open(a);
    assert_int_equal(sp_feedlog_head(a->log, "kota-3577", again), 10);
    assert_memory_equal(hash, again, SP_HASH_LEN);
    assert_int_equal(sp_feedlog_next_offset(a->log), 11);
    sp_envelope got;
    assert_int_equal(sp_feedlog_get(a->log, "kota-3577", 7, &got), SP_OK);
    assert_memory_equal(got.sig, e[6].sig, SP_SIG_LEN);
    sp_envelope_clear(&got);
    /* New events continue the chain after the reopen. */
    author(a, 1, NULL);
    size_t chains, envs, problems;
    assert_int_equal(sp_feedlog_verify_all(a->log, NULL, NULL, &chains, &envs, &problems), SP_OK);
    assert_int_equal(chains, 1);
    assert_int_equal(envs, 11);
    assert_int_equal(problems, 0);
    clear_all(e, 10);
    node_free(a);
}

static void test_reopen_with_wrong_key_or_id_is_refused(void **state) {
    node *a = node_new("prov-35");
    author(a, 2, NULL);
    node_close(a);
    sp_key *other;
    assert_int_equal(sp_key_generate(&other, SP_KEY_ED25519), SP_OK);
    sp_feedlog *log;
    assert_int_equal(sp_store_open(&a->st, a->dir, app_cfs), SP_OK);
    assert_int_equal(sp_feedlog_open(&log, a->st, "prov-35", other), SP_ERR_CONFIG);
    assert_int_equal(sp_feedlog_open(&log, a->st, "prov-33", a->key), SP_ERR_CONFIG);
    sp_store *second;
    assert_int_equal(sp_store_open(&second, a->dir, app_cfs), SP_ERR_LOCKED);
    assert_int_equal(sp_feedlog_open(&a->log, a->st, NULL, NULL), SP_OK); /* tools: read-only */
    assert_string_equal(sp_feedlog_self(a->log), "prov-35");
    sp_key_free(other);
    node_free(a);
}

static void test_ingest_accepts_a_valid_chain_and_dedupes(void **state) {
    node *a = node_new("kota-3577"), *b = node_new("prov-35");
    trust(b, a);
    sp_envelope e[20];
    author(a, 20, e);
    sp_ingest_stats st = {0};
    sp_err status[20];
    assert_int_equal(sp_feedlog_ingest(b->log, e, 20, &st, status), SP_OK);
    assert_int_equal(st.accepted, 20);
    for (int i = 0; i < 20; i++) assert_int_equal(status[i], SP_OK);
    assert_int_equal(sp_feedlog_head(b->log, "kota-3577", NULL), 20);
    uint64_t next = sp_feedlog_next_offset(b->log);
    /* Everything again, and a batch that contains the same envelope twice. */
    assert_int_equal(sp_feedlog_ingest(b->log, e, 20, &st, status), SP_OK);
    assert_int_equal(st.duplicates, 20);
    assert_int_equal(sp_feedlog_next_offset(b->log), next);
    sp_envelope more[2], twice[2];
    author(a, 2, more);
    twice[0] = more[0];
    twice[1] = more[0];
    memset(&st, 0, sizeof st);
    assert_int_equal(sp_feedlog_ingest(b->log, twice, 2, &st, status), SP_OK);
    assert_int_equal(status[0], SP_OK);
    assert_int_equal(status[1], SP_ERR_EXISTS);
    assert_int_equal(sp_feedlog_head(b->log, "kota-3577", NULL), 21);
    clear_all(e, 20);
    clear_all(more, 2);
    node_free(a);
    node_free(b);
}

static void test_ingest_rejects_forged_broken_gapped_unknown(void **state) {
    node *a = node_new("kota-3577"), *b = node_new("prov-35"), *evil = node_new("kota-3577");
    trust(b, a);
    sp_envelope e[5], forged[1];
    author(a, 5, e);
    author(evil, 1, forged); /* right origin name, wrong key */
    sp_ingest_stats st = {0};
    sp_err status[1];
    assert_int_equal(sp_feedlog_ingest(b->log, forged, 1, &st, status), SP_OK);
    assert_int_equal(status[0], SP_ERR_BAD_SIG);
    e[0].body[0] ^= 1; /* tampered body */
    assert_int_equal(sp_feedlog_ingest(b->log, e, 1, &st, status), SP_OK);
    assert_int_equal(status[0], SP_ERR_BAD_SIG);
    e[0].body[0] ^= 1;
    assert_int_equal(sp_feedlog_ingest(b->log, &e[2], 1, &st, status), SP_OK); /* gap */
    assert_int_equal(status[0], SP_ERR_GAP);
    assert_int_equal(sp_feedlog_ingest(b->log, e, 1, &st, status), SP_OK);
    assert_int_equal(status[0], SP_OK);
    e[1].prev_hash[3] ^= 1; /* broken link (and the signature no longer matches either) */
    assert_int_equal(sp_feedlog_ingest(b->log, &e[1], 1, &st, status), SP_OK);
    assert_int_equal(status[0], SP_ERR_BAD_CHAIN);
    e[1].prev_hash[3] ^= 1;
    node *stranger = node_new("kota-9999");
    sp_envelope s[1];
    author(stranger, 1, s);
    assert_int_equal(sp_feedlog_ingest(b->log, s, 1, &st, status), SP_OK);
    assert_int_equal(status[0], SP_ERR_UNKNOWN_ORIGIN);
    assert_int_equal(st.rejected, 5);
    assert_int_equal(st.by_reason[SP_ERR_BAD_SIG], 2);
    assert_int_equal(st.by_reason[SP_ERR_GAP], 1);
    assert_int_equal(st.by_reason[SP_ERR_BAD_CHAIN], 1);
    assert_int_equal(st.by_reason[SP_ERR_UNKNOWN_ORIGIN], 1);
    assert_int_equal(sp_feedlog_head(b->log, "kota-3577", NULL), 1);
    clear_all(e, 5);
    clear_all(forged, 1);
    clear_all(s, 1);
    node_free(a);
    node_free(b);
    node_free(evil);
    node_free(stranger);
}

static void test_fork_is_detected_not_overwritten(void **state) {
    node *a = node_new("kota-3577"), *b = node_new("prov-35");
    trust(b, a);
    sp_envelope e[3], fork;
    author(a, 3, e);
    assert_int_equal(sp_feedlog_ingest(b->log, e, 3, NULL, NULL), SP_OK);
    /* The origin equivocates: a second, validly signed envelope for seq 2. */
    assert_int_equal(sp_envelope_copy(&fork, &e[1]), SP_OK);
    fork.body[0] = 'X';
    assert_int_equal(sp_envelope_sign(&fork, a->key), SP_OK);
    sp_err status[1];
    sp_ingest_stats st = {0};
    assert_int_equal(sp_feedlog_ingest(b->log, &fork, 1, &st, status), SP_OK);
    assert_int_equal(status[0], SP_ERR_FORK);
    assert_int_equal(st.forks, 1);
    assert_int_equal(sp_feedlog_fork_count(b->log), 1);
    sp_envelope kept;
    assert_int_equal(sp_feedlog_get(b->log, "kota-3577", 2, &kept), SP_OK);
    assert_memory_equal(kept.sig, e[1].sig, SP_SIG_LEN);
    sp_envelope_clear(&kept);
    node_close(b);
    node_open(b);
    assert_int_equal(sp_feedlog_fork_count(b->log), 1); /* the evidence is durable */
    sp_envelope_clear(&fork);
    clear_all(e, 3);
    node_free(a);
    node_free(b);
}

/* One tampered envelope in the middle of a batch: the run before it is stored, it is rejected,
 * the ones after it cannot be linked (gap) and wait for a correct copy. */
static void test_batch_with_one_tampered_keeps_the_verified_prefix(void **state) {
    node *a = node_new("kota-3577"), *b = node_new("prov-35");
    trust(b, a);
    sp_envelope e[30];
    author(a, 30, e);
    e[12].body[0] ^= 1;
    sp_err status[30];
    sp_ingest_stats st = {0};
    assert_int_equal(sp_feedlog_ingest(b->log, e, 30, &st, status), SP_OK);
    for (int i = 0; i < 12; i++) assert_int_equal(status[i], SP_OK);
    assert_int_equal(status[12], SP_ERR_BAD_SIG); /* its own signature no longer matches */
    for (int i = 13; i < 30; i++) assert_int_equal(status[i], SP_ERR_GAP);
    assert_int_equal(sp_feedlog_head(b->log, "kota-3577", NULL), 12);
    e[12].body[0] ^= 1; /* the correct copy arrives later: the rest follows */
    assert_int_equal(sp_feedlog_ingest(b->log, e + 12, 18, &st, status), SP_OK);
    assert_int_equal(sp_feedlog_head(b->log, "kota-3577", NULL), 30);
    clear_all(e, 30);
    node_free(a);
    node_free(b);
}

static void test_tampered_last_envelope_is_caught_by_its_signature(void **state) {
    node *a = node_new("kota-3577"), *b = node_new("prov-35");
    trust(b, a);
    sp_envelope e[8];
    author(a, 8, e);
    e[7].hlc ^= 4;
    sp_err status[8];
    assert_int_equal(sp_feedlog_ingest(b->log, e, 8, NULL, status), SP_OK);
    for (int i = 0; i < 7; i++) assert_int_equal(status[i], SP_OK);
    assert_int_equal(status[7], SP_ERR_BAD_SIG);
    assert_int_equal(sp_feedlog_head(b->log, "kota-3577", NULL), 7);
    clear_all(e, 8);
    node_free(a);
    node_free(b);
}

/* A batch authored at once is signed at its last envelope and every 256th: the envelopes
 * between are authenticated by the seal after them, and only a run that reaches one is stored. */
static void test_batch_is_sealed_and_only_sealed_runs_are_stored(void **state) {
    node *a = node_new("kota-3577"), *b = node_new("prov-35");
    trust(b, a);
    enum { N = 600 };
    sp_envelope *e = calloc(N, sizeof *e);
    sp_err *status = calloc(N, sizeof *status);
    author_batch(a, N, e);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(sp_envelope_sealed(&e[i]), i == 255 || i == 511 || i == N - 1);
    assert_int_equal(sp_envelope_verify(&e[3], a->key), SP_ERR_UNSEALED);
    sp_ingest_stats st = {0};
    /* a run cut before its seal: nothing stored, every envelope told why */
    assert_int_equal(sp_feedlog_ingest(b->log, e, 100, &st, status), SP_OK);
    for (size_t i = 0; i < 100; i++) assert_int_equal(status[i], SP_ERR_UNSEALED);
    assert_int_equal(st.by_reason[SP_ERR_UNSEALED], 100);
    assert_int_equal(sp_feedlog_head(b->log, "kota-3577", NULL), 0);
    /* one that goes past a seal: stored up to it */
    assert_int_equal(sp_feedlog_ingest(b->log, e, 300, NULL, status), SP_OK);
    for (size_t i = 0; i < 300; i++) assert_int_equal(status[i], i < 256 ? SP_OK : SP_ERR_UNSEALED);
    assert_int_equal(sp_feedlog_head(b->log, "kota-3577", NULL), 256);
    /* the author's own ranges end at seals: 10 asked, 256 given */
    sp_envelope *r;
    size_t got;
    assert_int_equal(sp_feedlog_range(a->log, "kota-3577", 1, 10, 1 << 20, &r, &got), SP_OK);
    assert_int_equal(got, 256);
    sp_envelopes_free(r, got);
    assert_int_equal(sp_feedlog_range(a->log, "kota-3577", 257, 1000, 1 << 20, &r, &got), SP_OK);
    assert_int_equal(got, N - 256);
    assert_int_equal(sp_feedlog_ingest(b->log, r, got, NULL, status), SP_OK);
    sp_envelopes_free(r, got);
    assert_int_equal(sp_feedlog_head(b->log, "kota-3577", NULL), N);
    size_t chains, envs, problems;
    assert_int_equal(sp_feedlog_verify_all(b->log, NULL, NULL, &chains, &envs, &problems), SP_OK);
    assert_int_equal(envs, N);
    assert_int_equal(problems, 0);
    sp_envelopes_free(e, N);
    free(status);
    node_free(a);
    node_free(b);
}

/* A forged seal, or a tampered envelope before one, fails the whole run up to that seal. */
static void test_forged_seal_or_tampered_unsealed_envelope_is_refused(void **state) {
    node *a = node_new("kota-3577"), *b = node_new("prov-35");
    trust(b, a);
    sp_envelope e[20];
    sp_err status[20];
    author_batch(a, 20, e);
    e[19].sig[0] ^= 1;
    assert_int_equal(sp_feedlog_ingest(b->log, e, 20, NULL, status), SP_OK);
    assert_int_equal(status[0], SP_ERR_BAD_SIG);
    assert_int_equal(sp_feedlog_head(b->log, "kota-3577", NULL), 0);
    e[19].sig[0] ^= 1;
    e[5].body[0] ^= 1; /* its hash changes, so e[6]'s link breaks */
    assert_int_equal(sp_feedlog_ingest(b->log, e, 20, NULL, status), SP_OK);
    assert_int_equal(status[0], SP_ERR_BAD_CHAIN);
    assert_int_equal(sp_feedlog_head(b->log, "kota-3577", NULL), 0);
    e[5].body[0] ^= 1;
    assert_int_equal(sp_feedlog_ingest(b->log, e, 20, NULL, status), SP_OK);
    assert_int_equal(sp_feedlog_head(b->log, "kota-3577", NULL), 20);
    clear_all(e, 20);
    node_free(a);
    node_free(b);
}

static void test_relay_version_vector_and_range(void **state) {
    node *k = node_new("kota-3577"), *p = node_new("prov-35"), *n = node_new("national");
    trust(p, k);
    trust(n, k);
    trust(n, p);
    sp_envelope ke[10], pe[4];
    author(k, 10, ke);
    author(p, 4, pe);
    assert_int_equal(sp_feedlog_ingest(p->log, ke, 10, NULL, NULL), SP_OK);
    /* national pulls kota's feed from the province, in two ranges. */
    sp_envelope *r;
    size_t got;
    assert_int_equal(sp_feedlog_range(p->log, "kota-3577", 1, 6, 1 << 20, &r, &got), SP_OK);
    assert_int_equal(got, 6);
    assert_int_equal(sp_feedlog_ingest(n->log, r, got, NULL, NULL), SP_OK);
    sp_envelopes_free(r, got);
    assert_int_equal(sp_feedlog_range(p->log, "kota-3577", 7, 100, 1 << 20, &r, &got), SP_OK);
    assert_int_equal(got, 4);
    assert_int_equal(sp_feedlog_ingest(n->log, r, got, NULL, NULL), SP_OK);
    sp_envelopes_free(r, got);
    assert_int_equal(sp_feedlog_ingest(n->log, pe, 4, NULL, NULL), SP_OK);
    sp_vv_entry *vv;
    size_t nvv;
    assert_int_equal(sp_feedlog_version_vector(n->log, &vv, &nvv), SP_OK);
    assert_int_equal(nvv, 2);
    for (size_t i = 0; i < nvv; i++)
        assert_int_equal(vv[i].seq, strcmp(vv[i].origin, "kota-3577") == 0 ? 10 : 4);
    free(vv);
    /* The clock of national is not behind anything it stored. */
    assert_true(sp_feedlog_clock(n->log) >= ke[9].hlc && sp_feedlog_clock(n->log) >= pe[3].hlc);
    clear_all(ke, 10);
    clear_all(pe, 4);
    node_free(k);
    node_free(p);
    node_free(n);
}

static int count_visit(void *arg, uint64_t offset, const sp_envelope *env) {
    uint64_t *expect = arg;
    assert_int_equal(offset, *expect);
    (*expect)++;
    return 0;
}

typedef struct {
    int staged, committed;
    uint64_t first_offset;
} hook_log;

static sp_err on_stage(void *arg, sp_wbatch *b, const sp_envelope *const *envs,
                       const uint64_t *offsets, size_t n) {
    hook_log *h = arg;
    h->staged += (int)n;
    h->first_offset = offsets[0];
    sp_wbatch_put(b, SP_CF_APP, "derived", 7, "1", 1);
    return SP_OK;
}

static void on_committed(void *arg, const sp_envelope *const *envs, const uint64_t *offsets, size_t n) {
    ((hook_log *)arg)->committed += (int)n;
}

static void test_hooks_and_arrival_order(void **state) {
    node *a = node_new("kota-3577");
    hook_log h = {0};
    sp_feedlog_hooks hooks = {on_stage, on_committed, &h};
    sp_feedlog_set_hooks(a->log, &hooks);
    author_batch(a, 5, NULL);
    author_batch(a, 3, NULL);
    assert_int_equal(h.staged, 8);
    assert_int_equal(h.committed, 8);
    assert_int_equal(h.first_offset, 6);
    uint8_t *v;
    size_t vn;
    assert_int_equal(sp_store_get(a->st, SP_CF_APP, "derived", 7, &v, &vn), SP_OK);
    free(v);
    uint64_t expect = 1;
    assert_int_equal(sp_feedlog_scan_arrivals(a->log, 1, 0, count_visit, &expect), SP_OK);
    assert_int_equal(expect, 9);
    node_free(a);
}

static void report(void *arg, const char *origin, uint64_t seq, sp_err why) {
    *(uint64_t *)arg = seq;
}

/* Someone edits the database behind the log's back: log verify finds it. */
static void test_verify_all_detects_tampering_on_disk(void **state) {
    node *a = node_new("kota-3577");
    sp_envelope e[40];
    author(a, 40, e);
    e[17].body[0] ^= 1;
    uint8_t key[SP_FEED_KEY_MAX], *buf;
    size_t klen = sp_feed_key(key, "kota-3577", 18), len;
    assert_int_equal(sp_envelope_encode(&e[17], &buf, &len), SP_OK);
    sp_wbatch *b = sp_wbatch_new(a->st);
    sp_wbatch_put(b, SP_CF_FEEDS, key, klen, buf, len);
    assert_int_equal(sp_store_write(a->st, b, 1), SP_OK);
    sp_wbatch_free(b);
    free(buf);
    size_t chains, envs, problems;
    uint64_t where = 0;
    assert_int_equal(sp_feedlog_verify_all(a->log, report, &where, &chains, &envs, &problems), SP_OK);
    assert_int_equal(problems, 1);
    assert_int_equal(where, 19); /* seq 19 no longer links to the altered seq 18 */
    clear_all(e, 40);
    node_free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_author_survives_close_and_reopen),
        cmocka_unit_test(test_reopen_with_wrong_key_or_id_is_refused),
        cmocka_unit_test(test_ingest_accepts_a_valid_chain_and_dedupes),
        cmocka_unit_test(test_ingest_rejects_forged_broken_gapped_unknown),
        cmocka_unit_test(test_fork_is_detected_not_overwritten),
        cmocka_unit_test(test_batch_with_one_tampered_keeps_the_verified_prefix),
        cmocka_unit_test(test_tampered_last_envelope_is_caught_by_its_signature),
        cmocka_unit_test(test_batch_is_sealed_and_only_sealed_runs_are_stored),
        cmocka_unit_test(test_forged_seal_or_tampered_unsealed_envelope_is_refused),
        cmocka_unit_test(test_relay_version_vector_and_range),
        cmocka_unit_test(test_hooks_and_arrival_order),
        cmocka_unit_test(test_verify_all_detects_tampering_on_disk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
