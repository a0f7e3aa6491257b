/*
 * bench_seal: the cost of privacy.
 *
 *   bench_seal [--smoke] [--n N] [--complaints N]
 *
 * 1. primitives: Ed25519 sign and verify (reference), X25519 sealed box seal/open (one per
 *    reporter identity and per content-key wrap), content box seal/open under a content key;
 * 2. intake-shaped authoring through the feed log (one fsync per 100 complaints; the key
 *    agreement of the next 100 complaints is prepared on the second core meanwhile, as intake's
 *    HTTP threads do): a
 *    ComplaintFiled body built in clear (privacy off) vs. with the identity sealed to the intake
 *    node, a content key wrapped for the intake and the verifying node, and for confidential
 *    complaints the content sealed (privacy on). Ratios tell what privacy costs at intake.
 * Every operation's result is checked (exit 1 on a failure); --smoke (for CTest) runs the same
 * at 200 operations and 300 complaints.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "bench/bench_util.h"
#include "broker/feedlog.h"
#include "node/intake/seal.h"
#include "tests/unit/testutil.h"

static const char identity[] = "\x0a\x0bSiti Aminah\x12\x0c" "081234567890\x22\x10" "3577014101900001";
static const char text[] =
    "Lampu penerangan jalan umum di Jl. Pahlawan depan SDN 2 mati sejak dua minggu, rawan "
    "kecelakaan dan kejahatan pada malam hari. Mohon segera diperbaiki.";

typedef struct {
    sp_key *sign, *seal;
    uint8_t seal_pub[SP_PUBKEY_LEN], verifier_pub[SP_PUBKEY_LEN];
} keys;

static void fail(const char *what) {
    fprintf(stderr, "bench_seal: %s failed\n", what);
    exit(1);
}

static void bench_primitives(const keys *k, long n) {
    uint8_t sig[SP_SIG_LEN], ck[SP_CONTENT_KEY_LEN], *pt, *box;
    size_t len, blen;
    double t0 = sp_bench_now_s();
    for (long i = 0; i < n; i++)
        if (sp_sign(k->sign, (const uint8_t *)text, sizeof text, sig) != SP_OK) fail("sign");
    double sign = n / (sp_bench_now_s() - t0);
    t0 = sp_bench_now_s();
    for (long i = 0; i < n; i++)
        if (sp_verify(k->sign, (const uint8_t *)text, sizeof text, sig) != SP_OK) fail("verify");
    double verify = n / (sp_bench_now_s() - t0);
    Simpul__V1__Sealed s;
    t0 = sp_bench_now_s();
    for (long i = 0; i < n; i++) {
        if (sp_seal_to(&s, "kota-3577", 1, k->seal_pub, "3577-1", SP_FIELD_REPORTER,
                       (const uint8_t *)identity, sizeof identity) != SP_OK)
            fail("sealed box: seal");
        if (i < n - 1) sp_sealed_clear(&s);
    }
    double seal = n / (sp_bench_now_s() - t0);
    t0 = sp_bench_now_s();
    for (long i = 0; i < n; i++) {
        if (sp_seal_open(&s, k->seal, "3577-1", SP_FIELD_REPORTER, &pt, &len) != SP_OK ||
            len != sizeof identity || memcmp(pt, identity, len) != 0)
            fail("sealed box: open");
        free(pt);
    }
    double open = n / (sp_bench_now_s() - t0);
    sp_sealed_clear(&s);
    sp_content_key_new(ck);
    t0 = sp_bench_now_s();
    for (long i = 0; i < n * 10; i++) {
        if (sp_content_seal(ck, "3577-1", SP_FIELD_CONTENT, (const uint8_t *)text, sizeof text,
                            &box, &blen) != SP_OK)
            fail("content box: seal");
        if (i < n * 10 - 1) free(box);
    }
    double cseal = n * 10 / (sp_bench_now_s() - t0);
    t0 = sp_bench_now_s();
    for (long i = 0; i < n * 10; i++) {
        if (sp_content_open(ck, "3577-1", SP_FIELD_CONTENT, box, blen, &pt, &len) != SP_OK ||
            len != sizeof text || memcmp(pt, text, len) != 0)
            fail("content box: open");
        free(pt);
    }
    double copen = n * 10 / (sp_bench_now_s() - t0);
    free(box);
    printf("  %-52s %10.0f /s\n", "Ed25519 sign (reference)", sign);
    printf("  %-52s %10.0f /s\n", "Ed25519 verify (reference)", verify);
    printf("  %-52s %10.0f /s\n", "sealed box, fresh ephemeral key: seal", seal);
    printf("  %-52s %10.0f /s\n", "sealed box to a node: open", open);
    printf("  %-52s %10.0f /s\n", "content box (AES-256-GCM, 150 B): seal", cseal);
    printf("  %-52s %10.0f /s\n", "content box: open", copen);
}

typedef struct {
    const keys *k;
    int privacy; /* 0 off, 1 public/anonymous (identity + key wraps), 2 confidential */
    sp_sealer *sealers; /* prepared before the batch, outside the log's lock (as intake does) */
} intake_ctx;

/* A ComplaintFiled body as intake builds it, bound to the tracking id of its seq. */
static sp_err build(void *arg, size_t i, uint64_t seq, sp_wbatch *with, uint8_t **body, size_t *len) {
    (void)with;
    const intake_ctx *c = arg;
    char id[32];
    snprintf(id, sizeof id, "3577-%llu", (unsigned long long)seq);
    Simpul__V1__Event ev = SIMPUL__V1__EVENT__INIT;
    Simpul__V1__ComplaintFiled f = SIMPUL__V1__COMPLAINT_FILED__INIT;
    Simpul__V1__ComplaintContent content = SIMPUL__V1__COMPLAINT_CONTENT__INIT;
    Simpul__V1__Sealed reporter, wraps[2], *wrap_ptrs[2] = {&wraps[0], &wraps[1]};
    uint8_t ck[SP_CONTENT_KEY_LEN], *sealed = NULL;
    size_t sealed_len = 0;
    content.title = (char *)"Lampu jalan mati";
    content.text = (char *)text;
    f.category = (char *)"infrastruktur/pju";
    f.region = (char *)"35.77";
    ev.body_case = SIMPUL__V1__EVENT__BODY_FILED;
    ev.filed = &f;
    sp_sealer *sealer = &c->sealers[i];
    if (c->privacy) { /* as intake does it: one prepared sealer for the event's three boxes */
        sp_content_key_new(ck);
        if (sp_sealer_seal(sealer, &reporter, "kota-3577", 1, c->k->seal_pub, id, SP_FIELD_REPORTER,
                           (const uint8_t *)identity, sizeof identity) != SP_OK ||
            sp_sealer_seal(sealer, &wraps[0], "kota-3577", 1, c->k->seal_pub, id,
                           SP_FIELD_CONTENT_KEY, ck, sizeof ck) != SP_OK ||
            sp_sealer_seal(sealer, &wraps[1], "prov-35", 1, c->k->verifier_pub, id,
                           SP_FIELD_CONTENT_KEY, ck, sizeof ck) != SP_OK)
            fail("intake: sealing a complaint");
        sp_sealer_clear(sealer);
        f.reporter = &reporter;
        f.n_content_keys = 2;
        f.content_keys = wrap_ptrs;
    }
    if (c->privacy == 2) {
        uint8_t buf[1024];
        size_t n = simpul__v1__complaint_content__pack(&content, buf);
        if (sp_content_seal(ck, id, SP_FIELD_CONTENT, buf, n, &sealed, &sealed_len) != SP_OK)
            fail("intake: sealing the content");
        f.sealed_content.data = sealed;
        f.sealed_content.len = sealed_len;
    } else {
        f.content = &content; /* privacy off: even the identity would be here in clear */
    }
    *len = simpul__v1__event__get_packed_size(&ev);
    *body = malloc(*len);
    simpul__v1__event__pack(&ev, *body);
    if (c->privacy) {
        sp_sealed_clear(&reporter);
        sp_sealed_clear(&wraps[0]);
        sp_sealed_clear(&wraps[1]);
    }
    free(sealed);
    return *body ? SP_OK : SP_ERR_NOMEM;
}

typedef struct {
    const keys *k;
    sp_sealer *sealers;
} prep_job;

static void *prepare(void *arg) {
    prep_job *j = arg;
    for (int i = 0; i < 100; i++) {
        sp_sealer_init(&j->sealers[i]);
        sp_sealer_prepare(&j->sealers[i], j->k->seal_pub);
        sp_sealer_prepare(&j->sealers[i], j->k->verifier_pub);
    }
    return NULL;
}

static double bench_intake(const keys *k, const char *base, int privacy, long complaints) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/intake-%d", base, privacy);
    sp_store *st;
    sp_feedlog *log;
    if (sp_store_open(&st, dir, NULL) != SP_OK ||
        sp_feedlog_open(&log, st, "kota-3577", k->sign) != SP_OK)
        fail(dir);
    static sp_sealer sealers[2][100];
    prep_job job = {k, sealers[0]};
    double t0 = sp_bench_now_s();
    if (privacy) prepare(&job);
    for (long done = 0, b = 0; done < complaints; done += 100, b ^= 1) {
        /* The next batch's key agreement runs on the other core while this batch is authored,
         * as intake's HTTP threads do it while the batcher holds the log. */
        pthread_t th;
        prep_job next = {k, sealers[b ^ 1]};
        int more = privacy && done + 100 < complaints;
        if (more) pthread_create(&th, NULL, prepare, &next);
        intake_ctx c = {k, privacy, sealers[b]};
        if (sp_feedlog_author_built(log, 100, build, &c, NULL) != SP_OK) fail("authoring");
        if (more) pthread_join(th, NULL);
    }
    double rate = complaints / (sp_bench_now_s() - t0);
    if (sp_feedlog_head(log, "kota-3577", NULL) != (uint64_t)complaints) fail("the feed's head");
    sp_feedlog_close(log);
    sp_store_close(st);
    return rate;
}

int main(int argc, char **argv) {
    long n = 5000, complaints = 20000;
    for (int i = 1; i < argc; i++) /* --smoke first: the options given still apply */
        if (strcmp(argv[i], "--smoke") == 0) n = 200, complaints = 300;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0) continue;
        if (i + 1 < argc && strcmp(argv[i], "--n") == 0)
            n = atol(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--complaints") == 0)
            complaints = atol(argv[++i]) / 100 * 100;
        else {
            fputs("usage: bench_seal [--smoke] [--n N] [--complaints N]\n", stderr);
            return 2;
        }
    }
    if (n < 1 || complaints < 100) {
        fputs("bench_seal: --n must be >= 1 and --complaints >= 100\n", stderr);
        return 2;
    }
    sp_log_set_level(SP_LOG_ERROR);
    keys k;
    sp_key *verifier;
    sp_key_generate(&k.sign, SP_KEY_ED25519);
    sp_key_generate(&k.seal, SP_KEY_X25519);
    sp_key_generate(&verifier, SP_KEY_X25519);
    sp_key_raw_public(k.seal, k.seal_pub);
    sp_key_raw_public(verifier, k.verifier_pub);
    printf("bench_seal: primitives, %ld operations each (content box: %ld)\n", n, n * 10);
    bench_primitives(&k, n);
    char tmp[256];
    sp_test_tmpdir(tmp, "bench-seal");
    double off = bench_intake(&k, tmp, 0, complaints), on = bench_intake(&k, tmp, 1, complaints);
    double conf = bench_intake(&k, tmp, 2, complaints);
    printf("intake through the feed log: %ld complaints, 100 per fsync, signed\n", complaints);
    printf("  %-52s %10.0f /s  %5.1f %%\n", "privacy off (everything in clear)", off, 100.0);
    printf("  %-52s %10.0f /s  %5.1f %%\n", "public/anonymous: identity sealed, 2 key wraps", on, 100 * on / off);
    printf("  %-52s %10.0f /s  %5.1f %%\n", "confidential: + content sealed", conf, 100 * conf / off);
    sp_test_rmrf(tmp);
    sp_key_free(k.sign);
    sp_key_free(k.seal);
    sp_key_free(verifier);
    return 0;
}
