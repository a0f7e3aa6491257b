/*
 * libsimpul-stream (client/simpul/stream.h): the public face of the node's own client
 * (broker/tail.h), with envelopes decoded and errors as the header's codes.
 */
#include "client/simpul/stream.h"

#include <stdlib.h>
#include <string.h>

#include "broker/envelope.h"
#include "broker/tail.h"

#define EXPORT __attribute__((visibility("default")))

struct simpul_stream {
    sp_tail *tail;
    sp_stream_event ev; /* the event handed out last, owned until the next call */
    sp_envelope env;
    int holding;
};

static int code_of(sp_err rv) {
    switch (rv) {
    case SP_OK: return SIMPUL_STREAM_OK;
    case SP_ERR_TIMEOUT: return SIMPUL_STREAM_TIMEOUT;
    case SP_ERR_NET: return SIMPUL_STREAM_UNREACHABLE;
    case SP_ERR_NOMEM: return SIMPUL_STREAM_NOMEM;
    case SP_ERR_INVAL: return SIMPUL_STREAM_INVALID;
    default: return SIMPUL_STREAM_PROTOCOL;
    }
}

static void release(simpul_stream *s) {
    if (!s->holding) return;
    sp_envelope_clear(&s->env);
    sp_stream_event_clear(&s->ev);
    s->holding = 0;
}

EXPORT int simpul_stream_open(simpul_stream **out, const char *stream_url,
                              const char *replay_url, const char *prefix, uint64_t from) {
    if (!out || !stream_url || !replay_url || from == 0) return SIMPUL_STREAM_INVALID;
    simpul_stream *s = calloc(1, sizeof *s);
    if (!s) return SIMPUL_STREAM_NOMEM;
    sp_err rv = sp_tail_open(&s->tail, stream_url, replay_url, prefix ? prefix : "", from);
    if (rv != SP_OK) {
        free(s);
        return code_of(rv);
    }
    *out = s;
    return SIMPUL_STREAM_OK;
}

EXPORT int simpul_stream_next(simpul_stream *s, int timeout_ms, simpul_stream_event *ev) {
    if (!s || !ev) return SIMPUL_STREAM_INVALID;
    release(s);
    sp_err rv = sp_tail_next(s->tail, timeout_ms, &s->ev);
    if (rv != SP_OK) return code_of(rv);
    if (sp_envelope_decode(&s->env, s->ev.envelope, s->ev.len) != SP_OK) {
        sp_stream_event_clear(&s->ev);
        return SIMPUL_STREAM_PROTOCOL;
    }
    s->holding = 1;
    *ev = (simpul_stream_event){s->ev.offset, s->ev.topic,   s->env.origin, s->env.seq,
                                s->env.hlc,   s->env.body,   s->env.body_len,
                                s->ev.envelope, s->ev.len, s->ev.live};
    return SIMPUL_STREAM_OK;
}

EXPORT uint64_t simpul_stream_position(const simpul_stream *s) {
    return s ? sp_tail_position(s->tail) : 0;
}

EXPORT void simpul_stream_close(simpul_stream *s) {
    if (!s) return;
    release(s);
    sp_tail_close(s->tail);
    free(s);
}

EXPORT const char *simpul_stream_strerror(int rc) {
    switch (rc) {
    case SIMPUL_STREAM_OK: return "ok";
    case SIMPUL_STREAM_TIMEOUT: return "no new event within the timeout";
    case SIMPUL_STREAM_UNREACHABLE: return "the node cannot be reached now; nothing is lost";
    case SIMPUL_STREAM_INVALID: return "invalid argument or URL";
    case SIMPUL_STREAM_NOMEM: return "out of memory";
    case SIMPUL_STREAM_PROTOCOL: return "the node answered something this library cannot read";
    default: return "unknown error";
    }
}
