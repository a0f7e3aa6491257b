/*
 * sp_fixture: requests to the node, over loopback TCP or in memory, and the complaints filed
 * when it starts (node_fixture.h).
 *
 * In memory, a request is decoded from the bytes a client sends exactly as far as NNG 1.5's
 * server goes before it calls our handler (its line rules, request line, header folding of
 * repeated names, version and Host checks, and the path match of the tree handler on "/"):
 * the fuzz target must not report what no client could ever make our code see.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "broker/crypto.h"
#include "node/http/http_int.h"
#include "tests/integration/node_fixture.h"

/* ---- loopback TCP ---- */

static sp_err send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0) return SP_ERR_NET;
        p += k;
        n -= (size_t)k;
    }
    return SP_OK;
}

/* Everything the server sends until it closes (10 s at most without a byte). */
static sp_err recv_all(int fd, char **out, size_t *on) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    ssize_t k;
    while (buf && (k = recv(fd, buf + n, cap - n - 1, 0)) > 0) {
        n += (size_t)k;
        char *more = cap - n < 1024 ? realloc(buf, cap * 2) : buf;
        if (!more) free(buf);
        if (more != buf) cap *= 2;
        buf = more;
    }
    if (!buf) return SP_ERR_NOMEM;
    buf[n] = '\0';
    *out = buf;
    *on = n;
    return n ? SP_OK : SP_ERR_NET;
}

static sp_err connect_to(int port, int *fd_out) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {10, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return SP_ERR_NET;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return SP_ERR_NET;
    }
    *fd_out = fd;
    return SP_OK;
}

/* Status, Content-Type and body of a whole HTTP/1.1 answer. */
static sp_err parse_answer(char *raw, size_t n, sp_fixture_res *res) {
    char *end = strstr(raw, "\r\n\r\n");
    if (strncmp(raw, "HTTP/1.", 7) != 0 || !end || n < 12) return SP_ERR_DECODE;
    res->status = atoi(raw + 9);
    *end = '\0';
    for (char *h = strstr(raw, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n"))
        if (strncasecmp(h + 2, "Content-Type:", 13) == 0)
            snprintf(res->ctype, sizeof res->ctype, "%.*s", (int)strcspn(h + 16, "\r"), h + 16);
    res->len = n - (size_t)(end + 4 - raw);
    if (!(res->body = malloc(res->len + 1))) return SP_ERR_NOMEM;
    memcpy(res->body, end + 4, res->len);
    res->body[res->len] = '\0';
    return SP_OK;
}

/* The head of a request; a Content-Length only with a body, as curl sends it. */
static sp_err build_request(const sp_fixture *f, const char *method, const char *target,
                            const char *const *headers, const char *body, size_t n, char **out) {
    size_t cap = 4096, k;
    char *req = malloc(cap);
    if (!req) return SP_ERR_NOMEM;
    k = (size_t)snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n",
                         method, target, f->port);
    if (body && k < cap) k += (size_t)snprintf(req + k, cap - k, "Content-Length: %zu\r\n", n);
    for (size_t i = 0; headers && headers[i] && k < cap; i += 2)
        k += (size_t)snprintf(req + k, cap - k, "%s: %s\r\n", headers[i], headers[i + 1]);
    if (k + 3 > cap) {
        free(req);
        return SP_ERR_TOO_BIG;
    }
    memcpy(req + k, "\r\n", 3);
    *out = req;
    return SP_OK;
}

sp_err sp_fixture_http(const sp_fixture *f, const char *method, const char *target,
                       const char *const *headers, const char *body, size_t n,
                       sp_fixture_res *res) {
    char *req = NULL, *raw = NULL;
    size_t rn = 0;
    int fd = -1;
    memset(res, 0, sizeof *res);
    sp_err rv = build_request(f, method, target, headers, body, n, &req);
    if (rv == SP_OK) rv = connect_to(f->port, &fd);
    if (rv == SP_OK) rv = send_all(fd, req, strlen(req));
    if (rv == SP_OK && body && n) rv = send_all(fd, body, n);
    if (rv == SP_OK) rv = recv_all(fd, &raw, &rn);
    if (rv == SP_OK) rv = parse_answer(raw, rn, res);
    if (fd >= 0) close(fd);
    free(req);
    free(raw);
    return rv;
}

/* ---- in memory: the request as NNG's server decodes it ---- */

/* One line of the head at p[0..n): NNG's rules (no control bytes or bytes over 0x7f, CR only
 * before LF). Returns its length without the line end, and *used with it; -1 when NNG would
 * refuse the request or wait for more. */
static long head_line(const uint8_t *p, size_t n, size_t *used) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            *used = i + 1;
            return (long)(i > 0 && p[i - 1] == '\r' ? i - 1 : i);
        }
        if ((p[i] < ' ' && p[i] != '\r') || p[i] >= 0x80 || (i > 0 && p[i - 1] == '\r')) return -1;
    }
    return -1;
}

/* "Name: value" with NNG's trimming; a repeated name is joined with ", " (add_header). */
static int add_header(nng_http_req *req, char *line) {
    char *val = strchr(line, ':');
    if (!val) return -1;
    *val++ = '\0';
    while (*val == ' ')
        val++;
    for (size_t n = strlen(val); n > 0 && val[n - 1] == ' ';)
        val[--n] = '\0';
    return nng_http_req_add_header(req, line, val) == 0 ? 0 : -1;
}

/* "METHOD URI VERSION": NNG splits at the first two blanks. */
static int request_line(nng_http_req *req, char *line, char **version) {
    char *uri = strchr(line, ' ');
    if (!uri) return -1;
    *uri++ = '\0';
    char *v = strchr(uri, ' ');
    if (!v) return -1;
    *v++ = '\0';
    *version = v;
    return nng_http_req_set_method(req, line) == 0 && nng_http_req_set_uri(req, uri) == 0 ? 0 : -1;
}

/* Whether NNG's server finds a handler for uri when the only one is the tree on "/": its
 * canonical path (query dropped, absolute URI made relative, first escape decoded) must
 * begin with '/' or be empty. */
static int path_served(const char *uri) {
    if (strncasecmp(uri, "http://", 7) == 0 || strncasecmp(uri, "https://", 8) == 0) return 1;
    if (uri[0] == '\0' || uri[0] == '?' || uri[0] == '/') return 1;
    if (uri[0] != '%' || !isxdigit((unsigned char)uri[1]) || !isxdigit((unsigned char)uri[2]))
        return 0;
    char hex[3] = {uri[1], uri[2], 0};
    long c = strtol(hex, NULL, 16);
    return c == '/' || c == 0;
}

/* The head of p into req; *body_at is where the body starts. -1 when NNG would refuse it. */
static int decode_head(nng_http_req *req, const uint8_t *p, size_t n, size_t *body_at) {
    char line[8192], *version = NULL, vbuf[64];
    size_t at = 0, used = 0;
    long len;
    for (int first = 1; (len = head_line(p + at, n - at, &used)) > 0; first = 0) {
        if ((size_t)len >= sizeof line) return -1;
        memcpy(line, p + at, (size_t)len);
        line[len] = '\0';
        at += used;
        if (first ? request_line(req, line, &version) : add_header(req, line)) return -1;
        if (first) snprintf(vbuf, sizeof vbuf, "%s", version);
    }
    if (len < 0 || !version) return -1; /* the head never ended, or had no request line */
    at += used;
    *body_at = at;
    if (strncmp(vbuf, "HTTP/1.", 7) != 0) return -1; /* NNG answers 505 itself */
    if (strcmp(vbuf, "HTTP/1.1") == 0 && !nng_http_req_get_header(req, "Host")) return -1;
    return path_served(nng_http_req_get_uri(req)) ? 0 : -1;
}

/* The body after the head. Without a Content-Length (and no Transfer-Encoding) it gets one
 * with its length, so that fuzzed bodies need no bookkeeping; a given one is kept. */
static int attach_body(nng_http_req *req, const uint8_t *p, size_t n) {
    if (n == 0) return 0;
    const char *cl = nng_http_req_get_header(req, "Content-Length");
    char *given = cl ? strdup(cl) : NULL;
    int te = nng_http_req_get_header(req, "Transfer-Encoding") != NULL;
    int rv = cl && !given ? -1 : nng_http_req_copy_data(req, p, n); /* sets Content-Length */
    if (rv == 0 && given) rv = nng_http_req_set_header(req, "Content-Length", given);
    if (rv == 0 && !given && te) rv = nng_http_req_del_header(req, "Content-Length");
    free(given);
    return rv == 0 ? 0 : -1;
}

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
} waiter;

static void on_answer(void *arg) {
    waiter *w = arg;
    pthread_mutex_lock(&w->mu);
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static int wait_answer(waiter *w, int timeout_ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    int rc = 0;
    pthread_mutex_lock(&w->mu);
    while (!w->done && rc == 0)
        rc = pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    int done = w->done;
    pthread_mutex_unlock(&w->mu);
    return done;
}

static sp_err copy_answer(nng_http_res *r, sp_fixture_res *res) {
    void *data;
    size_t n;
    const char *ct = nng_http_res_get_header(r, "Content-Type");
    res->status = nng_http_res_get_status(r);
    snprintf(res->ctype, sizeof res->ctype, "%s", ct ? ct : "");
    nng_http_res_get_data(r, &data, &n);
    if (!(res->body = malloc(n + 1))) return SP_ERR_NOMEM;
    if (n) memcpy(res->body, data, n);
    res->body[n] = '\0';
    res->len = n;
    return SP_OK;
}

/* Serve req through the real handler and wait for its answer. */
static sp_err serve(sp_fixture *f, nng_http_req *req, int timeout_ms, sp_fixture_res *res) {
    static waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    nng_aio *aio;
    w.done = 0;
    if (nng_aio_alloc(&aio, on_answer, &w) != 0) return SP_ERR_NOMEM;
    if (!nng_aio_begin(aio)) {
        nng_aio_free(aio);
        return SP_ERR_CLOSED;
    }
    sp__http_serve(f->http, aio, req, NULL);
    if (!wait_answer(&w, timeout_ms)) return SP_ERR_TIMEOUT; /* both still in use: leaked */
    nng_aio_wait(aio);
    nng_http_res *r = nng_aio_result(aio) == 0 ? nng_aio_get_output(aio, 0) : NULL;
    sp_err rv = r ? copy_answer(r, res) : SP_ERR_CLOSED;
    if (r) nng_http_res_free(r);
    nng_aio_free(aio);
    return rv;
}

sp_err sp_fixture_serve_raw(sp_fixture *f, const uint8_t *p, size_t n, int timeout_ms,
                            sp_fixture_res *res) {
    nng_http_req *req = NULL;
    size_t body_at = 0;
    memset(res, 0, sizeof *res);
    if (nng_http_req_alloc(&req, NULL) != 0) return SP_ERR_NOMEM;
    sp_err rv = SP_OK;
    if (decode_head(req, p, n, &body_at) != 0 || attach_body(req, p + body_at, n - body_at) != 0)
        rv = SP_ERR_DECODE;
    if (rv == SP_OK) rv = serve(f, req, timeout_ms, res);
    if (rv != SP_ERR_TIMEOUT) nng_http_req_free(req);
    return rv;
}

/* ---- answers, and $NAME variables in raw requests ---- */

/* Open311's error list in XML (a path ending in .xml under /open311/). */
static int xml_errors_ok(const sp_fixture_res *res) {
    return res->body && strstr(res->body, "<errors><error><code>") &&
           strstr(res->body, "</code><description>") && strstr(res->body, "</errors>");
}

int sp_fixture_error_shape_ok(const sp_fixture_res *res) {
    if (strncmp(res->ctype, "text/xml", 8) == 0) return xml_errors_ok(res);
    json_t *o = json_loadb(res->body, res->len, 0, NULL);
    json_t *first = json_array_get(o, 0);
    int ok = (json_is_string(json_object_get(o, "error")) &&
              json_is_string(json_object_get(o, "message"))) ||
             (json_is_integer(json_object_get(first, "code")) &&
              json_is_string(json_object_get(first, "description")));
    json_decref(o);
    return ok;
}


sp_err sp_fixture_expand(const sp_fixture *f, const uint8_t *p, size_t n, uint8_t **out,
                         size_t *on) {
    const struct {
        const char *name, *value;
    } vars[] = {/* longer names first: $PUB_SHA before $PUB */
                {"$PUB_SHA", f->pub_sha},   {"$CONF_SHA", f->conf_sha}, {"$ADMIN", f->admin},
                {"$REPORTER", f->reporter}, {"$REVOKED", f->revoked},   {"$PUB", f->pub_id},
                {"$CONF", f->conf_id},      {"$ANON", f->anon_id}};
    size_t cap = n + 256, k = 0; /* kept 128 bytes ahead: more than the longest value */
    uint8_t *b = malloc(cap + 1);
    if (!b) return SP_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t v = 0, nv = sizeof vars / sizeof *vars;
        while (p[i] == '$' && v < nv &&
               (n - i < strlen(vars[v].name) || memcmp(p + i, vars[v].name, strlen(vars[v].name))))
            v++;
        if (p[i] != '$' || v == nv) {
            b[k++] = p[i];
        } else {
            size_t vl = strlen(vars[v].value);
            memcpy(b + k, vars[v].value, vl);
            k += vl;
            i += strlen(vars[v].name) - 1;
        }
        if (cap - k < 128) {
            uint8_t *nb = realloc(b, (cap *= 2) + 1);
            if (!nb) return free(b), SP_ERR_NOMEM;
            b = nb;
        }
    }
    b[k] = '\0';
    *out = b;
    *on = k;
    return SP_OK;
}

/* ---- complaints filed at start ---- */

/* POST a JSON body; the "id" of a 201 answer into id. */
static sp_err file(sp_fixture *f, const char *path, const char *body, char id[SP_TRACKING_ID_MAX]) {
    static const char *const json[] = {"Content-Type", "application/json", NULL};
    sp_fixture_res res;
    sp_err rv = sp_fixture_http(f, "POST", path, json, body, strlen(body), &res);
    json_t *o = rv == SP_OK && res.status == 201 ? json_loadb(res.body, res.len, 0, NULL) : NULL;
    const char *s = json_string_value(json_object_get(o, "id"));
    if (rv == SP_OK && !s) {
        fprintf(stderr, "fixture: POST %s answered %d %s\n", path, res.status,
                res.body ? res.body : "");
        rv = SP_ERR_REJECTED;
    }
    if (s) snprintf(id, SP_TRACKING_ID_MAX, "%s", s);
    json_decref(o);
    sp_fixture_res_free(&res);
    return rv;
}

static sp_err act(sp_fixture *f, const char *id, const char *body) {
    char path[200], auth[100];
    snprintf(path, sizeof path, "/api/v1/complaints/%s/actions", id);
    snprintf(auth, sizeof auth, "Bearer %s", f->admin);
    const char *const hdrs[] = {"Content-Type", "application/json", "Authorization", auth, NULL};
    sp_fixture_res res;
    sp_err rv = sp_fixture_http(f, "POST", path, hdrs, body, strlen(body), &res);
    if (rv == SP_OK && res.status != 200) {
        fprintf(stderr, "fixture: %s on %s answered %d %s\n", body, id, res.status, res.body);
        rv = SP_ERR_REJECTED;
    }
    sp_fixture_res_free(&res);
    return rv;
}

static void sha_hex(const char *data, char out[65]) {
    uint8_t h[SP_HASH_LEN];
    sp_sha256((const uint8_t *)data, strlen(data), NULL, 0, h);
    sp_hex(h, SP_HASH_LEN, out);
}

sp_err sp__fixture_seed(sp_fixture *f);

/* Attachments "halo" (aGFsbw==) and "rahasia" (cmFoYXNpYQ==). */
sp_err sp__fixture_seed(sp_fixture *f) {
    sha_hex("halo", f->pub_sha);
    sha_hex("rahasia", f->conf_sha);
    sp_err rv = file(f, "/api/v1/complaints",
                     "{\"title\":\"Lampu jalan mati\",\"body\":\"Lampu PJU di Jl. Pahlawan mati.\","
                     "\"category\":\"infrastruktur/pju\",\"region\":\"35.77\",\"location\":"
                     "{\"lat\":-7.6298,\"lon\":111.5239},\"reporter\":{\"name\":\"Siti Aminah\","
                     "\"phone\":\"0812-3456-7890\"},\"attachments\":[{\"name\":\"catatan.txt\","
                     "\"media_type\":\"text/plain\",\"data\":\"aGFsbw==\"}]}",
                     f->pub_id);
    if (rv == SP_OK)
        rv = file(f, "/api/v1/complaints",
                  "{\"body\":\"Pungutan liar di kantor kelurahan\",\"category\":\"umum\","
                  "\"region\":\"35.77\",\"privacy\":\"confidential\",\"reporter\":{\"nik\":"
                  "\"3577014101900001\"},\"attachments\":[{\"name\":\"bukti.txt\","
                  "\"media_type\":\"text/plain\",\"data\":\"cmFoYXNpYQ==\"}]}",
                  f->conf_id);
    if (rv == SP_OK)
        rv = file(f, "/api/v1/intake/sms",
                  "{\"from\":\"081234567890\",\"text\":\"KotaMadiun #anonim Jalan berlubang\"}",
                  f->anon_id);
    if (rv == SP_OK) rv = act(f, f->pub_id, "{\"action\":\"verify\",\"note\":\"lengkap\"}");
    if (rv == SP_OK) rv = act(f, f->pub_id, "{\"action\":\"disposition\",\"by_rule\":true}");
    return rv;
}
