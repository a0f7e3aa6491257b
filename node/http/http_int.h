/*
 * Internals of the HTTP API shared by its files:
 *   http.c          server, routing, body reading, replies and errors, authentication
 *   http_intake.c   POST complaints (web/app), SMS, Open311 services and POST requests
 *   http_actions.c  POST complaints/{id}/actions (officer and reporter actions)
 *   http_reads.c    GET complaints, lists, attachments, Open311 GET requests, stats
 *   http_metrics.c  /metrics, /healthz, /api/v1/status
 *   http_dashboard.c GET /api/v1/dashboard and the embedded page at /dashboard/
 *
 * A request (sp_http_req) is owned by the code handling it until it is answered: every
 * sp_http_reply* call answers it, frees it, and must be the last thing done with it.
 */
#ifndef SP_HTTP_INT_H
#define SP_HTTP_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "node/app/pbjson.h"
#include "node/http/batcher.h"
#include "node/http/http.h"
#include "node/http/ratelimit.h"
#include "node/http/tokens.h"
#include "node/intake/intake.h"

#define SP_HTTP_PARAMS 2
#define SP_HTTP_CHANNELS 8 /* simpul.v1.Channel values 0..7 */
#define SP_HTTP_PARAM_MAX 128

typedef struct sp_http_req sp_http_req;
typedef void (*sp_http_fn)(sp_http_req *r);

typedef struct {
    const char *method;  /* "GET" (HEAD too) or "POST" */
    const char *pattern; /* "/api/v1/complaints/{}/actions": {} captures one segment, and may
                            have a literal suffix ("{}.json") */
    const char *name;    /* label for metrics */
    sp_http_fn fn;
    size_t max_body; /* POST bodies over this are refused with 413 */
    int open311;     /* errors in the Open311 format */
    /* The query parameters the route takes, NULL-terminated: the server answers 400 naming any
     * other before calling fn. NULL: fn checks them itself (sp_http_query_only). */
    const char *const *query;
} sp_http_route;

/* HTTP statuses counted per route in metrics; the last slot counts any other. */
/* clang-format off */
#define SP_HTTP_STATUS_MAP(XX)                                                                    \
    XX(200) XX(201) XX(301) XX(304) XX(400) XX(401) XX(403) XX(404) XX(405) XX(409)                               \
    XX(411) XX(413) XX(415) XX(422) XX(429) XX(500) XX(503)
/* clang-format on */
#define SP_HTTP_N_STATUS 18
#define SP_HTTP_MAX_ROUTES 24

/* Reasons intake and actions refused a request (the sp_intake_error / action codes). */
/* clang-format off */
#define SP_HTTP_REJECT_MAP(XX)                                                                    \
    XX(bad_json) XX(missing_field) XX(invalid_field) XX(too_large) XX(unknown_category)           \
    XX(unknown_region) XX(unknown_keyword) XX(unauthorized) XX(forbidden) XX(conflict)            \
    XX(not_found) XX(unsupported_media_type) XX(length_required) XX(method_not_allowed)           \
    XX(overloaded) XX(internal) XX(unavailable) XX(rate_limited)
/* clang-format on */

typedef enum {
#define XX(name) SP_REJ_##name,
    SP_HTTP_REJECT_MAP(XX)
#undef XX
        SP_REJ__COUNT
} sp_http_reject;

typedef struct {
    atomic_uint_fast64_t requests[SP_HTTP_MAX_ROUTES + 1][SP_HTTP_N_STATUS]; /* +1: no route */
    atomic_uint_fast64_t rejects[SP_REJ__COUNT];
    atomic_uint_fast64_t intake[SP_HTTP_CHANNELS]; /* complaints accepted, by channel */
    atomic_uint_fast64_t actions[SP_EV__COUNT]; /* actions authored, by event kind */
    atomic_uint_fast64_t attachments, attachment_bytes;
    atomic_uint_fast64_t intake_replayed; /* retries answered with their first filing */
    atomic_uint_fast64_t rate_limited[3];  /* 429s: by token, by client address, anonymous */
} sp_http_metrics;

#define SP_HTTP_KEYED_PER_BATCH 256 /* the batcher's default batch */

struct sp_http {
    const sp_daemon_parts *p;
    const sp_http_route *routes; /* the route table (http.c), for metrics */
    size_t n_routes;
    nng_http_server *server;
    nng_url *url;
    sp_batcher *batcher;
    sp_tokens *tokens;
    sp_ratelimit *clients, *anonymous; /* limits.*: per client, and shared by the rest */
    sp_http_metrics m;
    atomic_int stopping;
    atomic_size_t inflight;
    void *action_cache;     /* http_actions.c, batcher thread only */
    uint64_t intake_number; /* http_intake.c: last filing number given; batcher thread only */
    int renumber;           /* http_intake.c: a filing failed, re-read the number; batcher only */
    /* http_intake.c, batcher thread only: idempotency keys admitted in the current batch */
    uint8_t keyed[SP_HTTP_KEYED_PER_BATCH][SP_HASH_LEN];
    size_t n_keyed;
};

struct sp_http_req {
    sp_http *srv;
    nng_aio *aio; /* the server's: finished when answered */
    nng_http_req *req;
    nng_http_conn *conn;
    const sp_http_route *route;
    size_t route_idx;
    const char *method;
    char *uri;         /* copy of the request URI: path, then '\0', then the query */
    char *path;        /* decoded path */
    const char *query; /* raw query string ("" when none) */
    char params[SP_HTTP_PARAMS][SP_HTTP_PARAM_MAX];
    uint8_t *body; /* NUL-terminated copy of the request body (body_len bytes before the NUL) */
    size_t body_len;
    int body_unread; /* a body was announced and not read: the connection must close */
    nng_aio *rd_aio;
    int sending_continue; /* rd_aio is writing "100 Continue" before the body is read */
    int has_token;
    sp_token token;
};

/* ---- the routes (each implemented in its file) ---- */
void sp__http_healthz(sp_http_req *r);
void sp__http_metrics(sp_http_req *r);
void sp__http_status(sp_http_req *r);
void sp__http_stats(sp_http_req *r);
void sp__http_complaint_create(sp_http_req *r);
void sp__http_complaint_get(sp_http_req *r);
void sp__http_complaint_list(sp_http_req *r);
void sp__http_attachment_get(sp_http_req *r);
void sp__http_complaint_action(sp_http_req *r);
void sp__http_intake_sms(sp_http_req *r);
void sp__http_o311_services(sp_http_req *r);
void sp__http_o311_create(sp_http_req *r);
void sp__http_o311_list(sp_http_req *r);
void sp__http_o311_get(sp_http_req *r);
void sp__http_dashboard(sp_http_req *r);
void sp__http_dashboard_page(sp_http_req *r);
void sp__http_dashboard_asset(sp_http_req *r);

/* Serve one request: route it, read its body from conn, answer it through aio. NNG's server
 * calls this for every request, with aio begun (nng_aio_begin); once aio finishes with 0 its
 * output 0 is the nng_http_res, which the caller owns. req and conn are borrowed until then.
 * conn NULL: the body is req's data (nng_http_req_copy_data) instead of being read; tests and
 * fuzz targets drive the real routing and handlers in memory this way. */
void sp__http_serve(sp_http *h, nng_aio *aio, nng_http_req *req, nng_http_conn *conn);

/* Answer bookkeeping (http_reply.c): count the request under its route and status; free it
 * (the last thing done with a request, after its aio is finished). */
void sp__http_count_request(sp_http_req *r, int status);
void sp__http_req_free(sp_http_req *r);
/* sp_http_error with one more header (hname: hval) on the answer: Allow, WWW-Authenticate. */
void sp__http_reply_json_hdr(sp_http_req *r, int status, json_t *body, const char *hname,
                             const char *hval);
void sp__http_error_hdr(sp_http_req *r, int status, const char *code, const char *hname,
                        const char *hval, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Index of a status in the metrics table. */
size_t sp__http_status_slot(int status);
extern const int sp__http_statuses[SP_HTTP_N_STATUS - 1];
extern const char *const sp__http_reject_names[SP_REJ__COUNT];

/* ---- answering (each frees r) ---- */

/* Answer with status and body (copied); ctype NULL means no body. */
void sp_http_reply(sp_http_req *r, int status, const char *ctype, const void *body, size_t n);
/* The same with extra headers: NULL, or name, value, ..., NULL (they may replace the default
 * "Cache-Control: no-store"). */
void sp_http_reply_headers(sp_http_req *r, int status, const char *ctype, const void *body,
                           size_t n, const char *const *hdrs);
/* Answer with JSON (the reference is stolen; NULL answers 500). */
void sp_http_reply_json(sp_http_req *r, int status, json_t *body);
/* Answer with an error: {"error": code, "message": ...} (Open311 routes: [{"code": status,
 * "description": ...}]). The code is counted in the reject metrics when it is one of them. */
void sp_http_error(sp_http_req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An sp_intake_error as the answer. */
void sp_http_intake_error(sp_http_req *r, const sp_intake_error *e);
/* 201/400/... for an sp_err that is not the client's fault (500, 503). */
void sp_http_internal_error(sp_http_req *r, sp_err rv, const char *what);

/* ---- reading the request ---- */

/* A request header, or NULL. */
const char *sp_http_header(const sp_http_req *r, const char *name);
/* The first query parameter named key, decoded into out (NUL-terminated). 1 when present, 0
 * when absent, -1 when malformed or too long for cap. */
int sp_http_query(const sp_http_req *r, const char *key, char *out, size_t cap);
/* Refuse query parameters the route does not take: allowed is the route's names, NULL-ended.
 * Returns 0 when every parameter is allowed and given once; else answers 400 invalid_field
 * naming the first one that is unknown, repeated or undecodable, and returns -1. A route that
 * takes parameters calls this first, so that a filter it lacks is an error, never ignored. */
int sp_http_query_only(sp_http_req *r, const char *const *allowed);
/* Check the Authorization header. Returns 0 (r->has_token tells whether a valid token came),
 * or -1 after answering 401 (a token was given but is unknown or revoked, or one is required
 * and missing). */
int sp_http_authenticate(sp_http_req *r, int required);
/* "http://host:port" this node is reached at (the Host header when given, else the configured
 * listen address) into buf. */
void sp_http_base_url(const sp_http_req *r, char *buf, size_t cap);

/* ---- helpers ---- */
/* Times: sp_json_time, sp_json_time_str (node/app/pbjson.h). */
/* Count a refusal reason by its code name (unknown names are ignored). */
void sp_http_count_reject(sp_http *h, const char *code);

#endif
