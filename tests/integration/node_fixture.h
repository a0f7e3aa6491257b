/*
 * A real node in the test's own process, for tests and fuzz targets of the HTTP API: a
 * temporary folder (under /dev/shm when there is one, so that the batcher's fsyncs are cheap)
 * with fresh keys, a small topology (Kota Madiun, its province, national, a ministry and an
 * OPD, with routing rules), a configuration and officer tokens; the daemon started from that
 * configuration with sp_daemon_start, as `simpul node run` does; its HTTP API served on a free
 * loopback port; and complaints filed through that port (the real intake and batcher), so
 * that read routes reach deep code.
 *
 * The HTTP server is started by the fixture on the daemon's parts (sp_http_start, the call
 * daemon.c makes) rather than by the daemon, so that a test can also drive the very same
 * server in memory (sp_fixture_serve_raw, through sp__http_serve) without a socket.
 *
 * Not thread-safe: one thread uses a fixture at a time.
 */
#ifndef SP_NODE_FIXTURE_H
#define SP_NODE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "node/daemon.h"
#include "node/http/http.h"
#include "node/http/tokens.h"
#include "node/lifecycle/fold.h"

typedef struct {
    char dir[256]; /* the temporary folder: keys/, data/, node.yaml, topology.yaml */
    int port;      /* HTTP on 127.0.0.1:port */
    sp_daemon *daemon;
    sp_node_config cfg;    /* the daemon's configuration, with listen_http set */
    sp_daemon_parts parts; /* the daemon's parts, with cfg above */
    sp_http *http;
    char url[64];                           /* "http://127.0.0.1:port" */
    char admin[SP_TOKEN_SECRET_LEN + 1];    /* admin-koordinator of this node */
    char reporter[SP_TOKEN_SECRET_LEN + 1]; /* reporter (the citizens' app) */
    char revoked[SP_TOKEN_SECRET_LEN + 1];  /* a revoked admin token */
    char pub_id[SP_TRACKING_ID_MAX];  /* public, with an attachment, verified, dispositioned */
    char conf_id[SP_TRACKING_ID_MAX]; /* confidential, with an attachment */
    char anon_id[SP_TRACKING_ID_MAX]; /* anonymous, by SMS */
    char pub_sha[65], conf_sha[65];   /* hex SHA-256 of their attachments */
} sp_fixture;

/* An answer: status, body (malloc'ed, NUL-terminated after len bytes), Content-Type. */
typedef struct {
    int status;
    char *body;
    size_t len;
    char ctype[128];
} sp_fixture_res;

/* Set the node up and start it; log_level as in the configuration ("warn", "error"...).
 * On an error everything made so far is removed. SP_ERR_IO, SP_ERR_NET, SP_ERR_CRYPTO, or the
 * daemon's error. */
sp_err sp_fixture_start(sp_fixture *f, const char *log_level);
/* Stop the server and the daemon, remove the folder. Accepts a fixture that failed to start. */
void sp_fixture_stop(sp_fixture *f);

/* One request over a new loopback connection (HTTP/1.1, Connection: close). target is the
 * request target as sent ("/api/v1/complaints/3577%2012"); headers NULL or name, value, ...,
 * NULL; body may be NULL. SP_ERR_NET when the node does not answer (refused, closed, or no
 * answer within 10 s), SP_ERR_DECODE when the answer is not HTTP. */
sp_err sp_fixture_http(const sp_fixture *f, const char *method, const char *target,
                       const char *const *headers, const char *body, size_t n, sp_fixture_res *res);

/* One request given as the bytes a client sends ("GET /x HTTP/1.1\r\nHost: h\r\n\r\nbody"),
 * decoded as NNG's server decodes it and served in memory through sp__http_serve, waiting at
 * most timeout_ms for the answer. The body is the bytes after the head; without a
 * Content-Length header it gets one with its length. SP_OK with *res filled;
 * SP_ERR_DECODE when NNG would refuse the request before our handler (no answer of ours);
 * SP_ERR_CLOSED when the node dropped it without an answer (a body shorter than its
 * Content-Length); SP_ERR_TIMEOUT when no answer came in time (then the fixture must not be
 * used again). */
sp_err sp_fixture_serve_raw(sp_fixture *f, const uint8_t *p, size_t n, int timeout_ms,
                            sp_fixture_res *res);

/* p with $ADMIN, $REPORTER, $REVOKED, $PUB, $CONF, $ANON, $PUB_SHA, $CONF_SHA replaced by the
 * fixture's values, into a fresh buffer (*out, malloc'ed, NUL-terminated after *on bytes).
 * SP_ERR_NOMEM. */
sp_err sp_fixture_expand(const sp_fixture *f, const uint8_t *p, size_t n, uint8_t **out,
                         size_t *on);

/* Whether an answer's body is one of our error shapes: {"error": s, "message": s}, or on
 * Open311 routes [{"code": i, "description": s}]. */
int sp_fixture_error_shape_ok(const sp_fixture_res *res);

void sp_fixture_res_free(sp_fixture_res *r); /* accepts NULL */

#endif
