#include "broker/stream.h"
#include "broker/stream_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>

#include "base/log.h"
#include "base/varint.h"
#include "schemas/simpul.pb-c.h"

struct sp_stream {
    nng_socket pub, rep;
    int rep_open;
    pthread_t thread;
    sp_stream_source src;
    atomic_uint_fast64_t published, replays;
};

void sp_stream_publish(sp_stream *s, uint64_t offset, const char *topic, const uint8_t *envelope,
                       size_t len) {
    Simpul__V1__StreamEvent ev = SIMPUL__V1__STREAM_EVENT__INIT;
    ev.offset = offset;
    ev.topic = (char *)topic;
    ev.envelope.data = (uint8_t *)envelope;
    ev.envelope.len = len;
    size_t tlen = strlen(topic) + 1, n = simpul__v1__stream_event__get_packed_size(&ev);
    nng_msg *m;
    if (nng_msg_alloc(&m, tlen + n) != 0) return;
    memcpy(nng_msg_body(m), topic, tlen); /* topic and its NUL: SUB filters on the prefix */
    simpul__v1__stream_event__pack(&ev, (uint8_t *)nng_msg_body(m) + tlen);
    if (nng_sendmsg(s->pub, m, NNG_FLAG_NONBLOCK) != 0)
        nng_msg_free(m);
    else
        atomic_fetch_add(&s->published, 1);
}

/* ---- replay ---- */

/* A replay reply is written straight into its protobuf encoding (ReplayReply, field by
 * field: schemas/simpul.proto) as the scan visits the arrivals: one buffer, no per-event
 * allocation or copy into an intermediate message, so that replay runs near the speed of the
 * stored arrivals' own iteration (bench/RESULTS.md, bench_stream). Clients decode it with any
 * protobuf library; tests and fuzz targets decode it with protobuf-c. */
typedef struct {
    const char *prefix;
    size_t plen, max, scanned, n;
    uint8_t *buf;
    size_t len, cap;
    uint64_t next;
    int nomem;
} replay_ctx;

#define PB_LEN(field) ((uint8_t)((field) << 3 | 2))
#define PB_VARINT(field) ((uint8_t)((field) << 3))

static int reserve(replay_ctx *c, size_t more) {
    if (c->len + more <= c->cap) return 0;
    size_t cap = c->cap ? c->cap : 64 * 1024;
    while (cap < c->len + more)
        cap *= 2;
    uint8_t *b = realloc(c->buf, cap);
    if (!b) return c->nomem = 1, -1;
    c->buf = b;
    c->cap = cap;
    return 0;
}

static void put_varint(replay_ctx *c, uint64_t v) {
    c->len += sp_varint_put(c->buf + c->len, v);
}

static void put_bytes(replay_ctx *c, uint8_t tag, const void *p, size_t n) {
    c->buf[c->len++] = tag;
    put_varint(c, n);
    memcpy(c->buf + c->len, p, n);
    c->len += n;
}

/* ReplayReply.events += StreamEvent{offset, topic, envelope}. */
static int append_event(replay_ctx *c, uint64_t offset, const char *topic, const uint8_t *env,
                        size_t len) {
    size_t tn = strlen(topic),
           body = 1 + SP_VARINT_MAX + 1 + SP_VARINT_MAX + tn + 1 + SP_VARINT_MAX + len;
    if (reserve(c, 1 + SP_VARINT_MAX + body) != 0) return -1;
    uint8_t tmp[SP_VARINT_MAX];
    size_t inner = 1 + sp_varint_put(tmp, offset) + 1 + sp_varint_put(tmp, tn) + tn + 1 +
                   sp_varint_put(tmp, len) + len;
    c->buf[c->len++] = PB_LEN(1);
    put_varint(c, inner);
    c->buf[c->len++] = PB_VARINT(1);
    put_varint(c, offset);
    put_bytes(c, PB_LEN(2), topic, tn);
    put_bytes(c, PB_LEN(3), env, len);
    return 0;
}

static int replay_visit(void *arg, uint64_t offset, const char *topic, const uint8_t *envelope,
                        size_t len) {
    replay_ctx *c = arg;
    c->scanned++;
    c->next = offset + 1;
    if (strncmp(topic, c->prefix, c->plen) == 0) {
        if (append_event(c, offset, topic, envelope, len) != 0) return 1;
        c->n++;
    }
    return c->n >= c->max || c->scanned >= SP_REPLAY_SCAN;
}

static nng_msg *pack_replay(const Simpul__V1__ReplayReply *r) {
    nng_msg *m;
    size_t n = simpul__v1__replay_reply__get_packed_size(r);
    if (nng_msg_alloc(&m, n) != 0) return NULL;
    simpul__v1__replay_reply__pack(r, nng_msg_body(m));
    return m;
}

static nng_msg *replay_error(const char *text) {
    Simpul__V1__ReplayReply r = SIMPUL__V1__REPLAY_REPLY__INIT;
    r.error = (char *)text;
    return pack_replay(&r);
}

/* The events written, then ReplayReply.next. */
static nng_msg *finish_replay(replay_ctx *c) {
    nng_msg *m;
    if (reserve(c, 1 + SP_VARINT_MAX) != 0) return replay_error("out of memory");
    c->buf[c->len++] = PB_VARINT(2);
    put_varint(c, c->next);
    if (nng_msg_alloc(&m, c->len) != 0) return NULL;
    memcpy(nng_msg_body(m), c->buf, c->len);
    return m;
}

static nng_msg *serve_replay(sp_stream *s, const nng_msg *in) {
    Simpul__V1__ReplayRequest *req =
        simpul__v1__replay_request__unpack(NULL, nng_msg_len(in), nng_msg_body((nng_msg *)in));
    if (!req) return replay_error("malformed replay request");
    replay_ctx c = {.prefix = req->prefix ? req->prefix : "", .next = req->from};
    c.plen = strlen(c.prefix);
    c.max = req->max && req->max < SP_REPLAY_MAX ? req->max : SP_REPLAY_MAX;
    sp_err rv = s->src.scan(s->src.ctx, req->from, 0, replay_visit, &c);
    nng_msg *m;
    if (rv != SP_OK || c.nomem)
        m = replay_error(rv != SP_OK ? sp_strerror(rv) : "out of memory");
    else
        m = finish_replay(&c);
    free(c.buf);
    simpul__v1__replay_request__free_unpacked(req, NULL);
    atomic_fetch_add(&s->replays, 1);
    return m;
}

sp_err sp__stream_serve_replay(sp_stream *s, const uint8_t *req, size_t n, uint8_t **reply,
                               size_t *reply_len) {
    nng_msg *in, *out;
    if (nng_msg_alloc(&in, n) != 0) return SP_ERR_NOMEM;
    if (n) memcpy(nng_msg_body(in), req, n);
    out = serve_replay(s, in);
    nng_msg_free(in);
    if (!out) return SP_ERR_NOMEM;
    *reply_len = nng_msg_len(out);
    *reply = malloc(*reply_len ? *reply_len : 1);
    if (*reply && *reply_len) memcpy(*reply, nng_msg_body(out), *reply_len);
    nng_msg_free(out);
    return *reply ? SP_OK : SP_ERR_NOMEM;
}

static void *replay_main(void *arg) {
    sp_stream *s = arg;
    for (;;) {
        nng_msg *in, *out;
        if (nng_recvmsg(s->rep, &in, 0) != 0) break; /* closed */
        out = serve_replay(s, in);
        nng_msg_free(in);
        if (out && nng_sendmsg(s->rep, out, 0) != 0) nng_msg_free(out);
    }
    return NULL;
}

/* wss://: the node's HTTPS certificate and key. */
static int set_tls(nng_listener l, const char *cert) {
    nng_tls_config *tls;
    int rv = nng_tls_config_alloc(&tls, NNG_TLS_MODE_SERVER);
    if (rv != 0) return rv;
    if ((rv = nng_tls_config_cert_key_file(tls, cert, NULL)) == 0)
        rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, tls);
    nng_tls_config_free(tls); /* the listener holds its own reference */
    return rv;
}

static sp_err listen_on(nng_socket sock, const char *url, const char *cert) {
    nng_listener l;
    int wss = strncmp(url, "wss://", 6) == 0;
    if (wss && !cert) {
        sp_log_error("stream.listen", "url=%s error=\"wss:// needs tls.http_cert\"", url);
        return SP_ERR_CONFIG;
    }
    int rv = nng_listener_create(&l, sock, url);
    if (rv == 0 && wss) rv = set_tls(l, cert);
    if (rv == 0) rv = nng_listener_start(l, 0);
    if (rv != 0) sp_log_error("stream.listen", "url=%s error=\"%s\"", url, nng_strerror(rv));
    return rv == 0 ? SP_OK : SP_ERR_NET;
}

static sp_err listen_all(nng_socket sock, const char *const *urls, const char *cert) {
    sp_err rv = SP_OK;
    for (size_t i = 0; rv == SP_OK && i < SP_STREAM_URLS; i++)
        if (urls[i]) rv = listen_on(sock, urls[i], cert);
    return rv;
}

sp_err sp_stream_start(sp_stream **out, const sp_stream_listen *at, const sp_stream_source *src) {
    sp_stream *s = calloc(1, sizeof *s);
    if (!s) return SP_ERR_NOMEM;
    s->src = *src;
    sp_err rv = nng_pub0_open(&s->pub) == 0 ? SP_OK : SP_ERR_NET;
    /* A commit publishes a whole batch at once (up to a few thousand events): with NNG's
     * default queue of a few messages per subscriber, PUB dropped most of every batch and
     * clients replayed nearly everything. 4096 queued messages (about 2 MiB) per subscriber. */
    if (rv == SP_OK) nng_socket_set_int(s->pub, NNG_OPT_SENDBUF, SP_STREAM_QUEUE);
    if (rv == SP_OK) rv = listen_all(s->pub, at->pub, at->tls_cert);
    if (rv == SP_OK && (at->replay[0] || at->replay[1])) {
        rv = nng_rep0_open(&s->rep) == 0 ? SP_OK : SP_ERR_NET;
        s->rep_open = rv == SP_OK;
        if (rv == SP_OK) nng_socket_set_size(s->rep, NNG_OPT_RECVMAXSZ, 4096);
        if (rv == SP_OK) rv = listen_all(s->rep, at->replay, at->tls_cert);
        if (rv == SP_OK && pthread_create(&s->thread, NULL, replay_main, s) != 0) rv = SP_ERR_NOMEM;
    }
    if (rv != SP_OK) {
        nng_close(s->pub);
        if (s->rep_open) nng_close(s->rep);
        free(s);
        return rv;
    }
    *out = s;
    return SP_OK;
}

void sp_stream_counters(sp_stream *s, uint64_t *published, uint64_t *replays) {
    *published = atomic_load(&s->published);
    *replays = atomic_load(&s->replays);
}

void sp_stream_stop(sp_stream *s) {
    if (!s) return;
    nng_close(s->pub);
    if (s->rep_open) {
        nng_close(s->rep);
        pthread_join(s->thread, NULL);
    }
    free(s);
}
