#include "broker/tail.h"

#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/req.h>

#include "broker/stream.h"
#include "broker/stream_int.h"
#include "schemas/simpul.pb-c.h"

struct sp_tail {
    nng_socket sub, req;
    char prefix[SP_MAX_TOPIC];
    uint64_t next;     /* first offset not yet delivered */
    uint64_t wanted;   /* a live message said the log reaches at least here */
    sp_stream_event *buf;
    size_t n, head;    /* replayed events not yet handed out */
};

void sp_stream_event_clear(sp_stream_event *ev) {
    if (!ev) return;
    free(ev->topic);
    free(ev->envelope);
    memset(ev, 0, sizeof *ev);
}

static void drop_buffer(sp_tail *t) {
    for (size_t i = t->head; i < t->n; i++) sp_stream_event_clear(&t->buf[i]);
    free(t->buf);
    t->buf = NULL;
    t->n = t->head = 0;
}

sp_err sp_tail_open(sp_tail **out, const char *pub_url, const char *replay_url, const char *prefix,
                    uint64_t from) {
    if (strlen(prefix) >= SP_MAX_TOPIC) return SP_ERR_INVAL;
    sp_tail *t = calloc(1, sizeof *t);
    if (!t) return SP_ERR_NOMEM;
    strcpy(t->prefix, prefix);
    t->next = from ? from : 1;
    t->wanted = UINT64_MAX; /* replay first, until caught up */
    int rv = nng_sub0_open(&t->sub);
    if (rv == 0) rv = nng_socket_set(t->sub, NNG_OPT_SUB_SUBSCRIBE, prefix, strlen(prefix));
    if (rv == 0) nng_socket_set_int(t->sub, NNG_OPT_RECVBUF, SP_STREAM_QUEUE); /* a batch's worth */
    if (rv == 0) rv = nng_dial(t->sub, pub_url, NULL, NNG_FLAG_NONBLOCK);
    if (rv == 0) rv = nng_req0_open(&t->req);
    if (rv == 0) nng_socket_set_ms(t->req, NNG_OPT_RECVTIMEO, 5000);
    if (rv == 0) nng_socket_set_ms(t->req, NNG_OPT_SENDTIMEO, 5000);
    if (rv == 0) rv = nng_dial(t->req, replay_url, NULL, NNG_FLAG_NONBLOCK);
    if (rv != 0) {
        sp_tail_close(t);
        return rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP ? SP_ERR_INVAL : SP_ERR_NET;
    }
    *out = t;
    return SP_OK;
}

/* Ask the node for matching events from t->next; fill the buffer. *end: nothing newer. */
static sp_err replay(sp_tail *t, int *end) {
    Simpul__V1__ReplayRequest req = SIMPUL__V1__REPLAY_REQUEST__INIT;
    req.from = t->next;
    req.max = SP_REPLAY_MAX;
    req.prefix = t->prefix;
    uint8_t buf[SP_MAX_TOPIC + 64];
    size_t n = simpul__v1__replay_request__pack(&req, buf);
    nng_msg *m;
    if (nng_send(t->req, buf, n, 0) != 0 || nng_recvmsg(t->req, &m, 0) != 0) return SP_ERR_NET;
    sp_err rv = sp__tail_take_replay(t, nng_msg_body(m), nng_msg_len(m), end);
    nng_msg_free(m);
    return rv;
}

sp_err sp__tail_take_replay(sp_tail *t, const uint8_t *bytes, size_t len, int *end) {
    Simpul__V1__ReplayReply *r = simpul__v1__replay_reply__unpack(NULL, len, bytes);
    if (!r) return SP_ERR_DECODE;
    sp_err rv = r->error && r->error[0] ? SP_ERR_REJECTED : SP_OK;
    drop_buffer(t);
    if (rv == SP_OK && r->n_events && !(t->buf = calloc(r->n_events, sizeof *t->buf))) rv = SP_ERR_NOMEM;
    for (size_t i = 0; rv == SP_OK && i < r->n_events; i++) {
        const Simpul__V1__StreamEvent *e = r->events[i];
        if (e->offset < t->next) continue; /* never deliver twice */
        sp_stream_event *d = &t->buf[t->n++];
        d->offset = e->offset;
        d->topic = strdup(e->topic);
        d->envelope = malloc(e->envelope.len ? e->envelope.len : 1);
        if (!d->topic || !d->envelope) rv = SP_ERR_NOMEM;
        else if ((d->len = e->envelope.len) > 0) /* an empty one has no data pointer */
            memcpy(d->envelope, e->envelope.data, d->len);
    }
    *end = rv == SP_OK && r->next <= t->next;
    if (rv == SP_OK && r->next > t->next) t->next = r->next;
    simpul__v1__replay_reply__free_unpacked(r, NULL);
    return rv;
}

/* The live event for the very next offset, as the one buffered event. */
static sp_err take_live(sp_tail *t, const Simpul__V1__StreamEvent *e) {
    drop_buffer(t);
    if (!(t->buf = calloc(1, sizeof *t->buf))) return SP_ERR_NOMEM;
    sp_stream_event *d = &t->buf[0];
    d->offset = e->offset;
    d->live = 1;
    d->topic = strdup(e->topic ? e->topic : "");
    d->envelope = malloc(e->envelope.len ? e->envelope.len : 1);
    if (!d->topic || !d->envelope) {
        sp_stream_event_clear(d);
        drop_buffer(t);
        return SP_ERR_NOMEM;
    }
    if ((d->len = e->envelope.len) > 0) memcpy(d->envelope, e->envelope.data, d->len);
    t->n = 1;
    t->next = e->offset + 1;
    return SP_OK;
}

/* Wait for a live message: the next event itself, or news that the log has grown further (then
 * replay up to and including it, since PUB may have dropped what came between). */
static sp_err wait_live(sp_tail *t, int timeout_ms) {
    nng_socket_set_ms(t->sub, NNG_OPT_RECVTIMEO, timeout_ms);
    nng_msg *m;
    int rv = nng_recvmsg(t->sub, &m, 0);
    if (rv == NNG_ETIMEDOUT) return SP_ERR_TIMEOUT;
    if (rv != 0) return SP_ERR_NET;
    sp_err out = sp__tail_take_live(t, nng_msg_body(m), nng_msg_len(m));
    nng_msg_free(m);
    return out;
}

sp_err sp__tail_take_live(sp_tail *t, const uint8_t *bytes, size_t len) {
    size_t tlen = strnlen((const char *)bytes, len);
    Simpul__V1__StreamEvent *e =
        tlen < len ? simpul__v1__stream_event__unpack(NULL, len - tlen - 1, bytes + tlen + 1) : NULL;
    if (!e) return SP_ERR_DECODE;
    sp_err out = SP_OK;
    if (e->offset == t->next)
        out = take_live(t, e);
    else if (e->offset > t->next)
        t->wanted = e->offset;
    simpul__v1__stream_event__free_unpacked(e, NULL);
    return out;
}

sp_err sp_tail_next(sp_tail *t, int timeout_ms, sp_stream_event *ev) {
    for (int rounds = 0; rounds < 1000; rounds++) {
        if (t->head < t->n) {
            *ev = t->buf[t->head++];
            memset(&t->buf[t->head - 1], 0, sizeof *ev);
            return SP_OK;
        }
        if (t->wanted != 0 && t->wanted >= t->next) {
            int end = 0;
            sp_err rv = replay(t, &end);
            if (rv != SP_OK) return rv;
            if (end) t->wanted = 0; /* caught up: follow live */
            continue;
        }
        sp_err rv = wait_live(t, timeout_ms);
        if (rv != SP_OK && rv != SP_ERR_DECODE) return rv;
    }
    return SP_ERR_TIMEOUT;
}

size_t sp__tail_buffered(const sp_tail *t) {
    return t->n - t->head;
}

uint64_t sp_tail_position(const sp_tail *t) {
    return t->head < t->n ? t->buf[t->head].offset : t->next;
}

void sp_tail_close(sp_tail *t) {
    if (!t) return;
    drop_buffer(t);
    nng_close(t->sub);
    nng_close(t->req);
    free(t);
}

