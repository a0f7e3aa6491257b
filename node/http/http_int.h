/*
 * Internals of the HTTP API shared by its files:
 *   http.c          server, routing, body reading, replies and errors, authentication
 *   http_intake.c   POST complaints (web/app), SMS, and the filing every intake route uses
 *   http_open311.c  Open311 GeoReport v2, every endpoint in JSON and XML
 *   http_channels.c the channel adapters' webhooks: WhatsApp, X, 112, e-mail
 *   http_actions.c  POST complaints/{id}/actions (officer and reporter actions)
 *   http_reads.c    GET complaints, lists, attachments, stats
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
#include "node/app/view.h"
#include "node/http/batcher.h"
#include "node/http/http.h"
#include "node/http/ratelimit.h"
#include "node/http/tokens.h"
#include "node/intake/intake.h"

#define SP_HTTP_PARAMS 2
#define SP_HTTP_CHANNELS 9 /* simpul.v1.Channel values 0..8 */
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
#define SP_HTTP_MAX_ROUTES 40

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
    int o311; /* a path under /open311/: 1 answers in JSON, 2 in XML (".xml") */
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
void sp__http_o311_discovery(sp_http_req *r);
void sp__http_o311_services(sp_http_req *r);
void sp__http_o311_service(sp_http_req *r);
void sp__http_o311_create(sp_http_req *r);
void sp__http_o311_list(sp_http_req *r);
void sp__http_o311_get(sp_http_req *r);
void sp__http_whatsapp_verify(sp_http_req *r);
void sp__http_whatsapp(sp_http_req *r);
void sp__http_x_crc(sp_http_req *r);
void sp__http_x(sp_http_req *r);
void sp__http_call(sp_http_req *r);
void sp__http_email(sp_http_req *r);
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

/* ---- filing (http_intake.c) ---- */

typedef enum { SP_REPLY_WEB, SP_REPLY_SMS, SP_REPLY_OPEN311, SP_REPLY_CHANNEL } sp_reply_kind;

/* How a channel adapter answers (SP_REPLY_CHANNEL): done is called once per filing submitted
 * with it, on the batcher thread (or at once when the filing cannot be queued), with the
 * outcome: SP_OK and the tracking id (replayed: a retry of a message filed before), or the
 * error. The adapter answers r when the last of its filings is done. */
typedef struct {
    void (*done)(void *arg, sp_http_req *r, sp_err rv, const char *id, int replayed);
    void *arg;
    const char *scope; /* idempotency scope: "whatsapp", "x", "112", "email" */
} sp_intake_replier;

/* File req (moved: req is empty after): store its attachments, queue it, answer as kind says
 * once it is durable. gateway_id (may be NULL) is the channel's message id, the idempotency
 * key when the request has no Idempotency-Key header. replier: SP_REPLY_CHANNEL only. */
void sp__http_submit(sp_http_req *r, sp_intake_req *req, sp_reply_kind kind,
                     const char *gateway_id, const sp_intake_replier *replier);

/* ---- Open311 (http_open311.c) ---- */

/* Answer an Open311 route: body (stolen) as JSON, or as XML when the path ends in ".xml",
 * with root element `root` (the list's items are named after it: services/service,
 * service_requests/request, errors/error). hname/hval: one more header, or NULL. */
void sp__http_o311_reply(sp_http_req *r, int status, json_t *body, const char *root,
                         const char *hname, const char *hval);
/* The same body as XML text (malloc'ed), for tests and errors. */
char *sp__http_o311_xml(json_t *body, const char *root);

/* ---- shared by the read routes (http_reads.c) ---- */

/* Who is reading: the request's officer token, if any (node/app/view.h). */
sp_viewer sp__http_viewer(const sp_http_req *r);
/* Load the state of complaint raw (as typed: any case); answers 404 / 400 / 500 and returns
 * -1 when it cannot. */
int sp__http_load_state(sp_http_req *r, const char *raw, sp_complaint_state *s);
/* Answer 400 naming a parameter and the rule it breaks; returns -1. */
int sp__http_bad_param(sp_http_req *r, const char *name, const char *rule);
/* Parameter name into buf[cap] ("" when absent); answers 400 (-1) when too long or bad. */
int sp__http_read_param(sp_http_req *r, const char *name, char *buf, size_t cap);
/* Whether c is spelt as a category: a-z 0-9 - segments joined by '/'. */
int sp__http_category_ok(const char *c);

/* ---- helpers ---- */
/* Times: sp_json_time, sp_json_time_str (node/app/pbjson.h). */
/* Count a refusal reason by its code name (unknown names are ignored). */
void sp_http_count_reject(sp_http *h, const char *code);

#endif
