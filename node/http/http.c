/*
 * The HTTP server: one NNG handler for every path, our own routing (so that unknown paths and
 * methods get JSON errors, not NNG's HTML pages) over the route table below, request bodies
 * read by us with a per-route limit (so that oversized bodies get a JSON 413 before anything
 * is allocated). Replies, errors, authentication and the counters are in http_reply.c.
 *
 * Lifecycle of a request: on_request (NNG thread) -> route -> [read the body] -> the route's
 * function, which answers at once or hands the request to the batcher, which answers it once
 * the event is durable. Every answer goes through reply_ex (http_reply.c), which finishes NNG's
 * aio and frees the request. The server counts requests in flight so that stop can wait for them.
 * sp__http_serve is the handler without NNG's plumbing, so that tests and fuzz targets can drive
 * the same routing and handlers with requests made in memory.
 */
#include "node/http/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "node/http/http_int.h"
#include "node/intake/channels.h"

#include <nng/supplemental/tls/tls.h> /* after nng.h (http_int.h) */

#define MIB (1024u * 1024u)

/* Query parameters: none at all, or only Open311's jurisdiction (GeoReport v2 lets a client
 * send it to every endpoint). Routes with filters check their own (NULL). */
static const char *const no_query[] = {NULL};
static const char *const o311_query[] = {"jurisdiction_id", NULL};
/* The webhook handshakes: Meta's verification, X's challenge-response check. */
static const char *const whatsapp_query[] = {"hub.mode", "hub.verify_token", "hub.challenge", NULL};
static const char *const x_query[] = {"crc_token", "nonce", NULL};

static const sp_http_route routes[] = {
    {"GET", "/healthz", "healthz", sp__http_healthz, 0, no_query},
    {"GET", "/metrics", "metrics", sp__http_metrics, 0, no_query},
    {"GET", "/api/v1/status", "status", sp__http_status, 0, no_query},
    {"GET", "/api/v1/stats", "stats", sp__http_stats, 0, NULL},
    {"GET", "/api/v1/complaints", "complaints_list", sp__http_complaint_list, 0, NULL},
    {"POST", "/api/v1/complaints", "complaints_create", sp__http_complaint_create,
     SP_INTAKE_JSON_MAX, no_query},
    {"GET", "/api/v1/complaints/{}", "complaint_get", sp__http_complaint_get, 0, no_query},
    {"POST", "/api/v1/complaints/{}/actions", "complaint_actions", sp__http_complaint_action,
     256 * 1024, no_query},
    {"GET", "/api/v1/complaints/{}/attachments/{}", "attachment_get", sp__http_attachment_get, 0,
     no_query},
    {"POST", "/api/v1/intake/sms", "intake_sms", sp__http_intake_sms, 16 * 1024, no_query},
    /* the channel adapters (http_channels.c, docs/channels.md) */
    {"GET", "/api/v1/intake/whatsapp", "whatsapp_verify", sp__http_whatsapp_verify, 0,
     whatsapp_query},
    {"POST", "/api/v1/intake/whatsapp", "intake_whatsapp", sp__http_whatsapp, SP_CHANNEL_BODY_MAX,
     no_query},
    {"GET", "/api/v1/intake/x", "x_crc", sp__http_x_crc, 0, x_query},
    {"POST", "/api/v1/intake/x", "intake_x", sp__http_x, SP_CHANNEL_BODY_MAX, no_query},
    {"POST", "/api/v1/intake/112", "intake_112", sp__http_call, SP_INTAKE_JSON_MAX, no_query},
    {"POST", "/api/v1/intake/email", "intake_email", sp__http_email, SP_EMAIL_MAX, no_query},
    /* Open311 GeoReport v2 (http_open311.c): each in .json and .xml */
    {"GET", "/open311/discovery.json", "open311_discovery", sp__http_o311_discovery, 0, no_query},
    {"GET", "/open311/discovery.xml", "open311_discovery_xml", sp__http_o311_discovery, 0,
     no_query},
    {"GET", "/open311/v2/services.json", "open311_services", sp__http_o311_services, 0, o311_query},
    {"GET", "/open311/v2/services.xml", "open311_services_xml", sp__http_o311_services, 0,
     o311_query},
    {"GET", "/open311/v2/services/{+}.json", "open311_service", sp__http_o311_service, 0,
     o311_query},
    {"GET", "/open311/v2/services/{+}.xml", "open311_service_xml", sp__http_o311_service, 0,
     o311_query},
    {"POST", "/open311/v2/requests.json", "open311_create", sp__http_o311_create, 1 * MIB,
     o311_query},
    {"POST", "/open311/v2/requests.xml", "open311_create_xml", sp__http_o311_create, 1 * MIB,
     o311_query},
    {"GET", "/open311/v2/requests.json", "open311_list", sp__http_o311_list, 0, NULL},
    {"GET", "/open311/v2/requests.xml", "open311_list_xml", sp__http_o311_list, 0, NULL},
    {"GET", "/open311/v2/requests/{}.json", "open311_get", sp__http_o311_get, 0, o311_query},
    {"GET", "/open311/v2/requests/{}.xml", "open311_get_xml", sp__http_o311_get, 0, o311_query},
    {"GET", "/api/v1/dashboard", "dashboard", sp__http_dashboard, 0, NULL},
    {"GET", "/dashboard", "dashboard_page", sp__http_dashboard_page, 0, no_query},
    {"GET", "/dashboard/{}", "dashboard_asset", sp__http_dashboard_asset, 0, no_query},
};
#define N_ROUTES (sizeof routes / sizeof *routes)
_Static_assert(N_ROUTES <= SP_HTTP_MAX_ROUTES, "raise SP_HTTP_MAX_ROUTES");

/* ---- routing ---- */

static int hexv(char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decode the path (without its query) into a fresh string; NULL on a bad escape or a
 * decoded NUL. A trailing '/' (other than the root) is dropped. */
static char *decode_path(const char *p) {
    size_t n = strlen(p), k = 0;
    char *d = malloc(n + 1);
    if (!d) return NULL;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (p[i] != '%') {
            d[k++] = p[i];
        } else if (i + 2 < n && (hi = hexv(p[i + 1])) >= 0 && (lo = hexv(p[i + 2])) >= 0 &&
                   (hi | lo)) {
            d[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            free(d);
            return NULL;
        }
    }
    if (k > 1 && d[k - 1] == '/') k--;
    d[k] = '\0';
    return d;
}

/* Match one segment against a pattern segment ("{}", "{}.json" or a literal). */
static int seg_match(const char *pat, size_t pn, const char *seg, size_t sn, char *cap) {
    if (pn >= 2 && pat[0] == '{' && pat[1] == '}') {
        size_t suffix = pn - 2;
        if (sn <= suffix || sn - suffix >= SP_HTTP_PARAM_MAX) return 0;
        if (memcmp(seg + sn - suffix, pat + 2, suffix) != 0) return 0;
        memcpy(cap, seg, sn - suffix);
        cap[sn - suffix] = '\0';
        return 2;
    }
    return pn == sn && memcmp(pat, seg, sn) == 0;
}

/* "{+}<suffix>" as the last pattern segment: the rest of the path, slashes included, up to the
 * suffix (Open311 service codes are categories, "infrastruktur/pju"). */
static int rest_match(const char *pat, const char *path, char *cap) {
    size_t suffix = strlen(pat) - 3, n = strlen(path);
    if (n <= suffix || n - suffix >= SP_HTTP_PARAM_MAX) return 0;
    if (memcmp(path + n - suffix, pat + 3, suffix) != 0) return 0;
    memcpy(cap, path, n - suffix);
    cap[n - suffix] = '\0';
    return 1;
}

/* Whether path matches pattern; captures go to params. */
static int path_match(const char *pattern, const char *path,
                      char params[SP_HTTP_PARAMS][SP_HTTP_PARAM_MAX]) {
    size_t np = 0;
    while (*pattern && *path) {
        if (*pattern != '/' || *path != '/') return 0;
        pattern++, path++;
        if (strncmp(pattern, "{+}", 3) == 0 && !strchr(pattern, '/'))
            return rest_match(pattern, path, np < SP_HTTP_PARAMS ? params[np] : params[0]);
        size_t pn = strcspn(pattern, "/"), sn = strcspn(path, "/");
        int m = seg_match(pattern, pn, path, sn, np < SP_HTTP_PARAMS ? params[np] : params[0]);
        if (!m) return 0;
        np += m == 2;
        pattern += pn;
        path += sn;
    }
    return *pattern == '\0' && *path == '\0';
}

/* The route for the request, or NULL; *path_known tells whether another method would match. */
static const sp_http_route *find_route(sp_http_req *r, int *path_known) {
    const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
    *path_known = 0;
    for (size_t i = 0; i < N_ROUTES; i++) {
        if (!path_match(routes[i].pattern, r->path, r->params)) continue;
        *path_known = 1;
        if (strcmp(routes[i].method, method) == 0) {
            r->route_idx = i;
            return &routes[i];
        }
    }
    return NULL;
}

static void allowed_methods(const char *path, char *buf, size_t cap) {
    char params[SP_HTTP_PARAMS][SP_HTTP_PARAM_MAX];
    buf[0] = '\0';
    for (size_t i = 0; i < N_ROUTES; i++)
        if (path_match(routes[i].pattern, path, params) && !strstr(buf, routes[i].method))
            snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s", buf[0] ? ", " : "",
                     routes[i].method);
}

/* ---- bodies ---- */

static void dispatch(sp_http_req *r) {
    if (r->route->query && sp_http_query_only(r, r->route->query) != 0) return; /* answered */
    r->route->fn(r);
}

/* Read the announced body into r->body with rd_aio. */
static void start_read(sp_http_req *r) {
    nng_iov iov = {r->body, r->body_len};
    int rv = nng_aio_set_iov(r->rd_aio, 1, &iov);
    if (rv != 0) {
        sp_http_internal_error(r, SP_ERR_NOMEM, "body");
        return;
    }
    nng_http_conn_read_all(r->conn, r->rd_aio);
}

/* The connection went away before the body was read: nobody to answer. */
static void drop(sp_http_req *r, int rv) {
    sp_log_debug("http.body", "route=%s error=\"%s\"", r->route->name, nng_strerror(rv));
    sp__http_count_request(r, 400);
    nng_aio_finish(r->aio, rv);
    sp__http_req_free(r);
}

static void on_body(void *arg) {
    sp_http_req *r = arg;
    int rv = nng_aio_result(r->rd_aio);
    if (rv != 0) {
        drop(r, rv);
        return;
    }
    if (r->sending_continue) { /* the client was told to go on: now its body */
        r->sending_continue = 0;
        start_read(r);
        return;
    }
    r->body_unread = 0;
    r->body[r->body_len] = '\0';
    dispatch(r);
}

/* "Expect: 100-continue" (curl sends it for bodies over 1 MiB and waits a second for it). */
static int wants_continue(const sp_http_req *r) {
    const char *e = sp_http_header(r, "Expect");
    return e && strcasecmp(e, "100-continue") == 0;
}

/* Content-Length as a number; -1 when absent, -2 when malformed. */
static long long content_length(const sp_http_req *r) {
    const char *cl = sp_http_header(r, "Content-Length");
    if (!cl) return -1;
    char *end;
    unsigned long long v = strtoull(cl, &end, 10);
    if (end == cl || *end || cl[0] == '-' || v > (1ull << 40)) return -2;
    return (long long)v;
}

/* A request served without a connection (sp__http_serve from a test) carries its body as its
 * data. One shorter than its Content-Length is a client that went away before sending it all. */
static void body_in_memory(sp_http_req *r) {
    void *data;
    size_t n;
    nng_http_req_get_data(r->req, &data, &n);
    if (n < r->body_len) {
        drop(r, NNG_ECONNSHUT);
        return;
    }
    memcpy(r->body, data, r->body_len);
    r->body_unread = 0;
    dispatch(r);
}

/* Read the body (if any) then dispatch; or answer 411/413. */
static void read_body(sp_http_req *r) {
    long long len = content_length(r);
    r->body_unread = len > 0 || sp_http_header(r, "Transfer-Encoding");
    if (len == -2) {
        sp_http_error(r, 400, "invalid_field", "malformed Content-Length");
        return;
    }
    if (len < 0 && sp_http_header(r, "Transfer-Encoding")) {
        sp_http_error(r, 411, "length_required", "send the body with a Content-Length");
        return;
    }
    if (len > (long long)r->route->max_body) {
        sp_http_error(r, 413, "too_large", "the body has %lld bytes; this route takes at most %zu",
                      len, r->route->max_body);
        return;
    }
    r->body_len = len > 0 ? (size_t)len : 0;
    if (!(r->body = malloc(r->body_len + 1))) {
        sp_http_internal_error(r, SP_ERR_NOMEM, "body");
        return;
    }
    r->body[r->body_len] = '\0';
    if (r->body_len == 0) {
        dispatch(r);
        return;
    }
    if (!r->conn) {
        body_in_memory(r);
        return;
    }
    if (nng_aio_alloc(&r->rd_aio, on_body, r) != 0) {
        sp_http_internal_error(r, SP_ERR_NOMEM, "body");
        return;
    }
    if (!wants_continue(r)) {
        start_read(r);
        return;
    }
    static char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    nng_iov iov = {continue_line, sizeof continue_line - 1};
    r->sending_continue = 1;
    if (nng_aio_set_iov(r->rd_aio, 1, &iov) != 0) {
        sp_http_internal_error(r, SP_ERR_NOMEM, "body");
        return;
    }
    nng_http_conn_write_all(r->conn, r->rd_aio);
}

/* ---- the handler ---- */

static sp_err parse_uri(sp_http_req *r) {
    if (!(r->uri = strdup(nng_http_req_get_uri(r->req)))) return SP_ERR_NOMEM;
    char *q = strchr(r->uri, '?');
    r->query = "";
    if (q) {
        *q = '\0';
        r->query = q + 1;
    }
    return (r->path = decode_path(r->uri)) ? SP_OK : SP_ERR_DECODE;
}

/* ---- rate limits ---- */

#define RATE_CLIENTS 65536 /* clients followed at once (~6 MiB); beyond, the oldest is forgotten   \
                            */

/* The client a trusted proxy names: the last address it appended to the header. */
static void proxied_client(const char *v, char *out, size_t cap) {
    const char *last = strrchr(v, ',');
    last = last ? last + 1 : v;
    while (*last == ' ' || *last == '\t')
        last++;
    size_t n = strcspn(last, " \t");
    snprintf(out, cap, "h:%.*s", (int)(n < 64 ? n : 64), last);
}

/* Which bucket r is counted in: an officer token's (by name), the client a trusted proxy names,
 * or the one everyone else shares. An unknown token counts as no token (so that made-up
 * tokens do not each get a bucket). */
static sp_ratelimit *rate_bucket(sp_http_req *r, char *key, size_t cap, int *kind) {
    const sp_node_config *cfg = r->srv->p->cfg;
    const char *auth = sp_http_header(r, "Authorization"), *v;
    sp_token tok;
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0 &&
        sp_tokens_check(r->srv->tokens, auth + 7, &tok) == SP_OK) {
        snprintf(key, cap, "t:%s", tok.name);
        *kind = 0;
        return r->srv->clients;
    }
    if (cfg->client_header && (v = sp_http_header(r, cfg->client_header)) && *v) {
        proxied_client(v, key, cap);
        *kind = 1;
        return r->srv->clients;
    }
    snprintf(key, cap, "anonymous");
    *kind = 2;
    return r->srv->anonymous;
}

/* Answer 429 with Retry-After when r's client is over its limit. Health and metrics are not
 * limited: monitoring must see an overloaded node. */
static int over_rate_limit(sp_http_req *r) {
    if (strcmp(r->path, "/healthz") == 0 || strcmp(r->path, "/metrics") == 0) return 0;
    char key[SP_RATELIMIT_KEY_MAX], after[24];
    int kind;
    sp_ratelimit *rl = rate_bucket(r, key, sizeof key, &kind);
    struct timespec now; /* monotonic: a clock step must not refill or empty every bucket */
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t now_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
    uint64_t wait_ms = sp_ratelimit_take(rl, key, now_ms);
    if (!wait_ms) return 0;
    atomic_fetch_add(&r->srv->m.rate_limited[kind], 1);
    unsigned secs = (unsigned)((wait_ms + 999) / 1000);
    snprintf(after, sizeof after, "%u", secs);
    r->body_unread = content_length(r) > 0 || sp_http_header(r, "Transfer-Encoding");
    sp__http_error_hdr(r, 429, "rate_limited", "Retry-After", after,
                       "too many requests from this %s: retry after %u s",
                       kind == 2 ? "node's unidentified clients together" : "client", secs);
    return 1;
}

static void route_request(sp_http_req *r) {
    int known;
    if (parse_uri(r) != SP_OK) {
        r->body_unread = content_length(r) > 0;
        sp_http_error(r, 400, "invalid_field", "malformed request path");
        return;
    }
    if (strncmp(r->path, "/open311/", 9) == 0) { /* every answer there in the spec's formats */
        size_t n = strlen(r->path);
        r->o311 = n > 4 && strcmp(r->path + n - 4, ".xml") == 0 ? 2 : 1;
    }
    if (!(r->route = find_route(r, &known))) {
        r->body_unread = content_length(r) > 0 || sp_http_header(r, "Transfer-Encoding");
        if (!known) {
            sp_http_error(r, 404, "not_found", "no such resource: %s", r->path);
            return;
        }
        char allow[64];
        allowed_methods(r->path, allow, sizeof allow);
        sp__http_error_hdr(r, 405, "method_not_allowed", "Allow", allow,
                           "%s is not allowed on %s (allowed: %s)", r->method, r->path, allow);
        return;
    }
    if (over_rate_limit(r)) return;
    if (strcmp(r->route->method, "POST") == 0) {
        read_body(r);
        return;
    }
    r->body_unread = content_length(r) > 0;
    if (!(r->body = calloc(1, 1))) {
        sp_http_internal_error(r, SP_ERR_NOMEM, "request");
        return;
    }
    dispatch(r);
}

void sp__http_serve(sp_http *h, nng_aio *aio, nng_http_req *req, nng_http_conn *conn) {
    sp_http_req *r = calloc(1, sizeof *r);
    if (!r) {
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    atomic_fetch_add(&h->inflight, 1);
    r->srv = h;
    r->aio = aio;
    r->req = req;
    r->conn = conn;
    r->method = nng_http_req_get_method(r->req);
    if (atomic_load(&h->stopping)) {
        r->body_unread = 1;
        sp_http_error(r, 503, "unavailable", "the node is stopping");
        return;
    }
    route_request(r);
}

static void on_request(nng_aio *aio) {
    sp__http_serve(nng_http_handler_get_data(nng_aio_get_input(aio, 1)), aio,
                   nng_aio_get_input(aio, 0), nng_aio_get_input(aio, 2));
}

/* ---- start and stop ---- */

/* NNG answers some malformed requests itself; make those bodies JSON too. */
static void set_error_pages(nng_http_server *s) {
    static const struct {
        uint16_t code;
        const char *body;
    } pages[] = {
        {400, "{\"error\":\"bad_request\",\"message\":\"malformed HTTP request\"}"},
        {404, "{\"error\":\"not_found\",\"message\":\"no such resource\"}"},
        {405, "{\"error\":\"method_not_allowed\",\"message\":\"method not allowed\"}"},
        {413, "{\"error\":\"too_large\",\"message\":\"request too large\"}"},
        {500, "{\"error\":\"internal\",\"message\":\"internal error\"}"},
        {505, "{\"error\":\"bad_request\",\"message\":\"HTTP version not supported\"}"},
    };
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++)
        nng_http_server_set_error_page(s, pages[i].code, pages[i].body);
}

static int add_handler(sp_http *h) {
    nng_http_handler *hd;
    int rv = nng_http_handler_alloc(&hd, "/", on_request);
    if (rv != 0) return rv;
    if ((rv = nng_http_handler_set_method(hd, NULL)) == 0 &&
        (rv = nng_http_handler_set_tree(hd)) == 0 &&
        (rv = nng_http_handler_collect_body(hd, false, 0)) == 0 &&
        (rv = nng_http_handler_set_data(hd, h, NULL)) == 0)
        rv = nng_http_server_add_handler(h->server, hd); /* the server owns it from here */
    if (rv != 0) nng_http_handler_free(hd);
    return rv;
}

void sp__http_actions_batch_done(void *arg);
sp_err sp__http_actions_init(sp_http *h);
void sp__http_actions_fini(sp_http *h);

sp_err sp__http_intake_init(sp_http *h);
void sp__http_intake_batch_done(sp_http *h);

static void batch_done(void *arg) {
    sp__http_actions_batch_done(arg);
    sp__http_intake_batch_done(arg);
}

static sp_err start_batcher(sp_http *h) {
    sp_batcher_config bc = {.log = h->p->log, .batch_done = batch_done, .batch_arg = h};
    sp_err rv = sp__http_actions_init(h);
    if (rv == SP_OK) rv = sp__http_intake_init(h);
    return rv == SP_OK ? sp_batcher_start(&h->batcher, &bc) : rv;
}

/* https://: NNG's TLS (mbedTLS) with the node's HTTPS certificate chain and key. */
static int set_tls(sp_http *h) {
    const char *cert = h->p->cfg->tls_http_cert;
    if (strcmp(h->url->u_scheme, "https") != 0) return 0;
    nng_tls_config *tls;
    int rv = nng_tls_config_alloc(&tls, NNG_TLS_MODE_SERVER);
    if (rv != 0) return rv;
    if (!cert) rv = NNG_EINVAL; /* the configuration check refuses this first */
    if (rv == 0 && (rv = nng_tls_config_cert_key_file(tls, cert, NULL)) != 0)
        sp_log_error("http.tls", "cert=%s error=\"%s\"", cert, nng_strerror(rv));
    if (rv == 0) rv = nng_tls_config_version(tls, NNG_TLS_1_2, NNG_TLS_1_3);
    if (rv == 0) rv = nng_http_server_set_tls(h->server, tls);
    nng_tls_config_free(tls); /* the server holds its own reference */
    return rv;
}

static sp_err start_server(sp_http *h) {
    const char *url = h->p->cfg->listen_http;
    int rv = nng_url_parse(&h->url, url);
    if (rv != 0) {
        sp_log_error("http.listen", "url=%s error=\"%s\"", url, nng_strerror(rv));
        return SP_ERR_CONFIG;
    }
    if ((rv = nng_http_server_hold(&h->server, h->url)) == 0 && (rv = add_handler(h)) == 0 &&
        (rv = set_tls(h)) == 0) {
        set_error_pages(h->server);
        rv = nng_http_server_start(h->server);
    }
    if (rv != 0) {
        sp_log_error("http.listen", "url=%s error=\"%s\"", url, nng_strerror(rv));
        return SP_ERR_NET;
    }
    return SP_OK;
}

sp_err sp_http_start(sp_http **out, const sp_daemon_parts *parts) {
    sp_http *h = calloc(1, sizeof *h);
    if (!h) return SP_ERR_NOMEM;
    h->p = parts;
    h->routes = routes;
    h->n_routes = N_ROUTES;
    sp_err rv = sp_tokens_open(&h->tokens, parts->cfg->data);
    const sp_node_config *cfg = parts->cfg;
    if (rv == SP_OK)
        rv = sp_ratelimit_new(&h->clients, cfg->rate_per_second, cfg->rate_burst, RATE_CLIENTS);
    if (rv == SP_OK)
        rv = sp_ratelimit_new(&h->anonymous, cfg->anonymous_per_second, cfg->anonymous_burst, 1);
    if (rv == SP_OK) rv = start_batcher(h);
    if (rv == SP_OK) rv = start_server(h);
    if (rv != SP_OK) {
        sp_http_stop(h);
        return rv;
    }
    sp_log_info("http.started", "url=%s", parts->cfg->listen_http);
    *out = h;
    return SP_OK;
}

void sp_http_stop(sp_http *h) {
    if (!h) return;
    atomic_store(&h->stopping, 1);
    if (h->server) nng_http_server_stop(h->server); /* closes connections: body reads fail */
    /* Requests already queued are still authored and answered by the running batcher. */
    for (int i = 0; i < 1000 && atomic_load(&h->inflight) > 0; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&h->inflight) > 0) { /* freeing now would pull the server from under them */
        sp_log_warn("http.stop", "inflight=%zu detail=\"requests still running; not freed\"",
                    atomic_load(&h->inflight));
        return;
    }
    sp_batcher_stop(h->batcher);
    if (h->server) nng_http_server_release(h->server);
    nng_url_free(h->url);
    sp__http_actions_fini(h);
    sp_tokens_close(h->tokens);
    sp_ratelimit_free(h->clients);
    sp_ratelimit_free(h->anonymous);
    free(h);
}
