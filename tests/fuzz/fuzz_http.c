/*
 * Fuzz target for the whole HTTP API: every route, with hostile paths, query strings, headers
 * and bodies, through the real routing, authentication, parameter parsing and handlers, reads
 * against a real RocksDB store holding complaints, and writes through the real batcher.
 *
 * The first input starts a real node in this process (tests/integration/node_fixture.h):
 * keys, topology, configuration, tokens, the daemon, its HTTP server, and three complaints (a
 * public one with an attachment, verified and dispositioned; a confidential one with an
 * attachment; an anonymous one by SMS). Each input is the bytes a client sends: request line,
 * headers, blank line, body ("GET /api/v1/complaints/$PUB HTTP/1.1\nHost: x\n\n"). $ADMIN,
 * $REPORTER, $REVOKED (bearer tokens), $PUB, $CONF, $ANON (tracking ids), $PUB_SHA and
 * $CONF_SHA (attachments) are replaced by the node's values, so the corpus reaches past
 * authentication and id lookups. Inputs NNG's server would refuse before our handler are
 * skipped; the rest is served in memory through sp__http_serve.
 *
 * Besides what ASan and UBSan catch, every answer must come within 30 s, have a status of
 * 100-599 other than 500 (hostile input must never be an internal error), and every error
 * must be our JSON: {"error", "message"}, or Open311's [{"code", "description"}] (or its
 * <errors><error> in XML on .xml paths).
 * SP_FUZZ_HTTP_LOG=debug shows the node's log; SP_FUZZ_HTTP_STATS=1 prints, at exit, how many
 * inputs were skipped and how many answers of each class came.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/integration/node_fixture.h"

#define ANSWER_TIMEOUT_MS 30000

static sp_fixture fx;
static int started;
static unsigned long n_skipped, n_dropped, by_status[6]; /* by_status[k]: kxx answers */

static void stop_node(void) {
    if (getenv("SP_FUZZ_HTTP_STATS"))
        fprintf(stderr,
                "fuzz_http: %lu skipped (NNG refuses them), %lu dropped, answers 1xx %lu, "
                "2xx %lu, 3xx %lu, 4xx %lu, 5xx %lu\n",
                n_skipped, n_dropped, by_status[1], by_status[2], by_status[3], by_status[4],
                by_status[5]);
    sp_fixture_stop(&fx);
}

static void start_node(void) {
    const char *lvl = getenv("SP_FUZZ_HTTP_LOG");
    if (sp_fixture_start(&fx, lvl ? lvl : "error") != SP_OK) {
        fprintf(stderr, "fuzz_http: the node did not start\n");
        abort();
    }
    fprintf(stderr, "fuzz_http: node in %s, complaints %s %s %s\n", fx.dir, fx.pub_id, fx.conf_id,
            fx.anon_id);
    atexit(stop_node);
    started = 1;
}

static void fail(const char *what, const sp_fixture_res *res) {
    fprintf(stderr, "fuzz_http: %s: status %d, Content-Type '%s', body '%.300s'\n", what,
            res->status, res->ctype, res->body ? res->body : "");
    abort();
}

static void check_answer(const sp_fixture_res *res) {
    if (res->status < 100 || res->status > 599) fail("status out of range", res);
    if (res->status == 500) fail("internal error", res);
    if (res->status >= 400 && strncmp(res->ctype, "application/json", 16) != 0 &&
        strncmp(res->ctype, "text/xml", 8) != 0)
        fail("error that is not JSON (nor Open311's XML)", res);
    if (res->status >= 400 && !sp_fixture_error_shape_ok(res)) fail("error body of the wrong shape", res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!started) start_node();
    uint8_t *req;
    size_t n;
    if (sp_fixture_expand(&fx, data, size, &req, &n) != SP_OK) return 0;
    sp_fixture_res res;
    sp_err rv = sp_fixture_serve_raw(&fx, req, n, ANSWER_TIMEOUT_MS, &res);
    free(req);
    if (rv == SP_ERR_TIMEOUT) fail("no answer in 30 s", &res);
    if (rv == SP_OK) check_answer(&res);
    if (rv == SP_OK) by_status[res.status / 100]++;
    n_skipped += rv == SP_ERR_DECODE;
    n_dropped += rv == SP_ERR_CLOSED;
    sp_fixture_res_free(&res);
    return 0;
}
