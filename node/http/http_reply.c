/*
 * What every route uses to answer (node/http/http_int.h): replies and errors (JSON, Open311's
 * JSON and XML on its paths), the request and reject counters behind /metrics, and reading a
 * request's headers, query, token and base URL. Kept apart from the server (http.c), whose
 * route table names the routes: routes depend on this file, the server on the routes, and
 * nothing here depends on either.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "node/http/http_int.h"

const int sp__http_statuses[SP_HTTP_N_STATUS - 1] = {
#define XX(code) code,
    SP_HTTP_STATUS_MAP(XX)
#undef XX
};
#define XX(code) +1
_Static_assert(0 SP_HTTP_STATUS_MAP(XX) == SP_HTTP_N_STATUS - 1,
               "SP_HTTP_N_STATUS: statuses + other");
#undef XX

const char *const sp__http_reject_names[SP_REJ__COUNT] = {
#define XX(name) #name,
    SP_HTTP_REJECT_MAP(XX)
#undef XX
};

size_t sp__http_status_slot(int status) {
    for (size_t i = 0; i < SP_HTTP_N_STATUS - 1; i++)
        if (sp__http_statuses[i] == status) return i;
    return SP_HTTP_N_STATUS - 1;
}

void sp_http_count_reject(sp_http *h, const char *code) {
    for (size_t i = 0; i < SP_REJ__COUNT; i++)
        if (strcmp(code, sp__http_reject_names[i]) == 0) atomic_fetch_add(&h->m.rejects[i], 1);
}

/* ---- answering ---- */

void sp__http_req_free(sp_http_req *r) {
    sp_http *h = r->srv;
    if (r->rd_aio) nng_aio_reap(r->rd_aio); /* may be called from its own callback */
    free(r->uri);
    free(r->path);
    free(r->body);
    free(r);
    atomic_fetch_sub(&h->inflight, 1);
}

void sp__http_count_request(sp_http_req *r, int status) {
    size_t route = r->route ? r->route_idx : SP_HTTP_MAX_ROUTES;
    atomic_fetch_add(&r->srv->m.requests[route][sp__http_status_slot(status)], 1);
}

/* Reason phrases NNG 1.5 does not know (it would send "Unknown HTTP Status"). */
static const char *reason(int status) {
    switch (status) {
    case 413:
        return "Payload Too Large";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    default:
        return NULL;
    }
}

/* Build the response; on failure the connection is dropped (NNG closes it). hdrs (NULL, or
 * name, value, ..., NULL) come after the default Cache-Control, so they may replace it. */
static void reply_ex(sp_http_req *r, int status, const char *ctype, const void *body, size_t n,
                     const char *const *hdrs) {
    nng_http_res *res = NULL;
    int rv = nng_http_res_alloc(&res);
    if (rv == 0) rv = nng_http_res_set_status(res, (uint16_t)status);
    if (rv == 0 && reason(status)) rv = nng_http_res_set_reason(res, reason(status));
    if (rv == 0 && ctype) rv = nng_http_res_set_header(res, "Content-Type", ctype);
    if (rv == 0 && ctype) rv = nng_http_res_copy_data(res, body, n);
    if (rv == 0 && r->body_unread) rv = nng_http_res_set_header(res, "Connection", "close");
    if (rv == 0) rv = nng_http_res_set_header(res, "Cache-Control", "no-store");
    for (size_t i = 0; rv == 0 && hdrs && hdrs[i]; i += 2)
        rv = nng_http_res_set_header(res, hdrs[i], hdrs[i + 1]);
    sp__http_count_request(r, rv == 0 ? status : 500);
    if (rv != 0) {
        sp_log_error("http.reply", "status=%d error=\"%s\"", status, nng_strerror(rv));
        if (res) nng_http_res_free(res);
        nng_aio_finish(r->aio, rv);
    } else {
        nng_aio_set_output(r->aio, 0, res);
        nng_aio_finish(r->aio, 0);
    }
    sp__http_req_free(r);
}

void sp_http_reply(sp_http_req *r, int status, const char *ctype, const void *body, size_t n) {
    reply_ex(r, status, ctype, body, n, NULL);
}

void sp_http_reply_headers(sp_http_req *r, int status, const char *ctype, const void *body,
                           size_t n, const char *const *hdrs) {
    reply_ex(r, status, ctype, body, n, hdrs);
}

#define JSON_TYPE "application/json; charset=utf-8"

static void reply_json_ex(sp_http_req *r, int status, json_t *body, const char *hname,
                          const char *hval) {
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(body);
    if (!text) {
        static const char oom[] = "{\"error\":\"internal\",\"message\":\"out of memory\"}";
        reply_ex(r, 500, JSON_TYPE, oom, sizeof oom - 1, NULL);
        return;
    }
    const char *hdrs[] = {hname, hval, NULL};
    reply_ex(r, status, JSON_TYPE, text, strlen(text), hdrs);
    free(text);
}

void sp_http_reply_json(sp_http_req *r, int status, json_t *body) {
    reply_json_ex(r, status, body, NULL, NULL);
}

void sp__http_reply_json_hdr(sp_http_req *r, int status, json_t *body, const char *hname,
                             const char *hval) {
    reply_json_ex(r, status, body, hname, hval);
}

/* ---- Open311's XML (http_open311.c: the shapes) ---- */

static const char *item_name(const char *list) {
    static const char *const names[][2] = {
        {"services", "service"}, {"service_requests", "request"},
        {"errors", "error"},     {"attributes", "attribute"},
        {"values", "value"},     {"endpoints", "endpoint"},
        {"formats", "format"},
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(list, names[i][0]) == 0) return names[i][1];
    return "item";
}

/* Character data: &, < and > escaped (quotes need not be in element content), and the
 * control characters XML 1.0 forbids dropped (strings are valid UTF-8 already). */
static void xml_text(FILE *f, const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        default:
            if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') fputc(c, f);
        }
    }
}

static void xml_element(FILE *f, const char *name, json_t *v);

static void xml_children(FILE *f, const char *name, json_t *v) {
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) xml_element(f, k, x);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) xml_element(f, item_name(name), x);
    }
}

static void xml_element(FILE *f, const char *name, json_t *v) {
    fprintf(f, "<%s>", name);
    switch (json_typeof(v)) {
    case JSON_OBJECT:
    case JSON_ARRAY:
        xml_children(f, name, v);
        break;
    case JSON_STRING:
        xml_text(f, json_string_value(v));
        break;
    case JSON_INTEGER:
        fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        fprintf(f, "%.10g", json_real_value(v));
        break;
    case JSON_TRUE:
        fputs("true", f);
        break;
    case JSON_FALSE:
        fputs("false", f);
        break;
    case JSON_NULL:
        break;
    }
    fprintf(f, "</%s>", name);
}

char *sp__http_o311_xml(json_t *body, const char *root) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f) return NULL;
    fputs("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n", f);
    xml_element(f, root, body);
    fputc('\n', f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

void sp__http_o311_reply(sp_http_req *r, int status, json_t *body, const char *root,
                         const char *hname, const char *hval) {
    if (r->o311 != 2 || !body) {
        sp__http_reply_json_hdr(r, status, body, hname, hval);
        return;
    }
    char *xml = sp__http_o311_xml(body, root);
    json_decref(body);
    if (!xml) {
        static const char oom[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<errors><error>"
                                  "<code>500</code><description>out of memory</description>"
                                  "</error></errors>\n";
        sp_http_reply(r, 500, "text/xml; charset=utf-8", oom, sizeof oom - 1);
        return;
    }
    const char *hdrs[] = {hname, hval, NULL};
    sp_http_reply_headers(r, status, "text/xml; charset=utf-8", xml, strlen(xml), hdrs);
    free(xml);
}

static json_t *error_body(const sp_http_req *r, int status, const char *code, const char *msg) {
    if (r->o311) return json_pack("[{s:i, s:s}]", "code", status, "description", msg);
    return json_pack("{s:s, s:s}", "error", code, "message", msg);
}

/* Messages quote the request (ids, paths), which may hold any bytes, and may be cut inside a
 * character; jansson refuses strings that are not UTF-8, which made the client's error a 500
 * "out of memory". Such a message keeps its ASCII only. */
static void ascii_unless_utf8(char *msg) {
    if (sp_utf8_valid(msg, strlen(msg))) return;
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p >= 0x80) *p = '?';
}

static void error_ex(sp_http_req *r, int status, const char *code, const char *hname,
                     const char *hval, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));
static void error_ex(sp_http_req *r, int status, const char *code, const char *hname,
                     const char *hval, const char *fmt, va_list ap) {
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    ascii_unless_utf8(msg);
    sp_http_count_reject(r->srv, code);
    sp_log_debug("http.error", "route=%s status=%d code=%s message=\"%s\"",
                 r->route ? r->route->name : "-", status, code, msg);
    if (r->o311)
        sp__http_o311_reply(r, status, error_body(r, status, code, msg), "errors", hname, hval);
    else
        reply_json_ex(r, status, error_body(r, status, code, msg), hname, hval);
}

void sp_http_error(sp_http_req *r, int status, const char *code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    error_ex(r, status, code, NULL, NULL, fmt, ap);
    va_end(ap);
}

void sp__http_error_hdr(sp_http_req *r, int status, const char *code, const char *hname,
                        const char *hval, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    error_ex(r, status, code, hname, hval, fmt, ap);
    va_end(ap);
}

void sp_http_intake_error(sp_http_req *r, const sp_intake_error *e) {
    sp_http_error(r, e->status, e->code, "%s", e->message);
}

void sp_http_internal_error(sp_http_req *r, sp_err rv, const char *what) {
    if (rv == SP_ERR_CLOSED) {
        sp_http_error(r, 503, "unavailable", "the node is stopping");
        return;
    }
    if (rv == SP_ERR_TOO_BIG && strcmp(what, "queue") == 0) {
        sp_http_error(r, 503, "overloaded", "too many requests waiting; retry shortly");
        return;
    }
    sp_log_error("http.internal", "route=%s what=%s error=\"%s\"", r->route ? r->route->name : "-",
                 what, sp_strerror(rv));
    sp_http_error(r, 500, "internal", "%s: %s", what, sp_strerror(rv));
}

/* ---- reading the request ---- */

const char *sp_http_header(const sp_http_req *r, const char *name) {
    return nng_http_req_get_header(r->req, name);
}

int sp_http_query(const sp_http_req *r, const char *key, char *out, size_t cap) {
    sp_form_pair *p;
    size_t n;
    if (sp_form_parse(r->query, strlen(r->query), &p, &n) != SP_OK) return -1;
    const char *v = sp_form_get(p, n, key);
    int rv = v ? 1 : 0;
    if (v && (size_t)snprintf(out, cap, "%s", v) >= cap) rv = -1;
    sp_form_free(p, n);
    return rv;
}

static int name_in(const char *name, const char *const *list) {
    for (; *list; list++)
        if (strcmp(name, *list) == 0) return 1;
    return 0;
}

/* The allowed names as "a, b, c" into buf (the error message lists them); cut when too long. */
static void join_names(const char *const *list, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = '\0';
    for (; *list && n < cap; list++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", *list);
}

/* The first pair that is not allowed or repeats an earlier name, or NULL; *why says which. */
static const char *first_bad(const sp_form_pair *p, size_t n, const char *const *allowed,
                             const char **why) {
    for (size_t i = 0; i < n; i++) {
        *why = "is not a parameter of this route";
        if (!name_in(p[i].key, allowed)) return p[i].key;
        *why = "is given more than once";
        for (size_t j = 0; j < i; j++)
            if (strcmp(p[i].key, p[j].key) == 0) return p[i].key;
    }
    return NULL;
}

int sp_http_query_only(sp_http_req *r, const char *const *allowed) {
    sp_form_pair *p;
    size_t n;
    sp_err rv = sp_form_parse(r->query, strlen(r->query), &p, &n);
    if (rv == SP_ERR_NOMEM) {
        sp_http_internal_error(r, rv, "query");
        return -1;
    }
    if (rv != SP_OK) {
        sp_http_error(r, 400, "invalid_field", "the query string is not valid (%s)",
                      rv == SP_ERR_TOO_BIG ? "too many parameters" : "bad %-escape or UTF-8");
        return -1;
    }
    const char *why = "", *bad = first_bad(p, n, allowed, &why);
    if (bad) {
        char names[256];
        join_names(allowed, names, sizeof names);
        sp_http_error(r, 400, "invalid_field", "query parameter '%.64s' %s (this route takes %s%s)",
                      bad, why, names[0] ? "only: " : "no parameters", names);
    }
    sp_form_free(p, n);
    return bad ? -1 : 0;
}

int sp_http_authenticate(sp_http_req *r, int required) {
    const char *auth = sp_http_header(r, "Authorization");
    r->has_token = 0;
    if (!auth) {
        if (!required) return 0;
        sp__http_error_hdr(r, 401, "unauthorized", "WWW-Authenticate", "Bearer realm=\"simpul\"",
                           "this needs an officer token: Authorization: Bearer <token>");
        return -1;
    }
    if (strncasecmp(auth, "Bearer ", 7) != 0) {
        sp__http_error_hdr(r, 401, "unauthorized", "WWW-Authenticate", "Bearer realm=\"simpul\"",
                           "the Authorization header must be 'Bearer <token>'");
        return -1;
    }
    sp_err rv = sp_tokens_check(r->srv->tokens, auth + 7, &r->token);
    if (rv == SP_ERR_CORRUPT) {
        sp_http_error(r, 503, "unavailable", "the node's token file is unreadable; see its log");
        return -1;
    }
    if (rv != SP_OK) {
        sp__http_error_hdr(r, 401, "unauthorized", "WWW-Authenticate",
                           "Bearer realm=\"simpul\", error=\"invalid_token\"",
                           "unknown or revoked token");
        return -1;
    }
    r->has_token = 1;
    return 0;
}

void sp_http_base_url(const sp_http_req *r, char *buf, size_t cap) {
    const char *host = sp_http_header(r, "Host");
    int ok = host && *host && strlen(host) < 200 && !strpbrk(host, " /\\\"<>");
    const char *scheme =
        strncmp(r->srv->p->cfg->listen_http, "https://", 8) == 0 ? "https" : "http";
    if (ok)
        snprintf(buf, cap, "%s://%s", scheme, host);
    else
        snprintf(buf, cap, "%s", r->srv->p->cfg->listen_http);
}
