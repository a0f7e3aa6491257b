/*
 * libsimpul-stream: follow a Simpul node's integrator stream from C.
 *
 * Every event the node stores whose topic starts with a prefix, from an offset on, in order,
 * with no gap and no duplicate — across dropped PUB messages and reconnects: the library
 * replays from the node's replay endpoint until caught up, then follows the live stream, and
 * replays again whatever the live stream skipped. Topics, the wire schema and the guarantees
 * are in docs/stream.md; the event bodies are simpul.v1.Event (schemas/simpul.proto), which
 * any protobuf library decodes.
 *
 *   simpul_stream *s;
 *   if (simpul_stream_open(&s, "tcp://node:7501", "tcp://node:7502", "35.77.", 1) != 0) ...;
 *   for (;;) {
 *       simpul_stream_event ev;
 *       int rc = simpul_stream_next(s, 1000, &ev);
 *       if (rc == SIMPUL_STREAM_OK) handle(&ev);            // save ev.offset + 1 to resume
 *       else if (rc != SIMPUL_STREAM_TIMEOUT && rc != SIMPUL_STREAM_UNREACHABLE) break;
 *   }
 *   simpul_stream_close(s);
 *
 * Build with `pkg-config --cflags --libs simpul-stream`. A handle belongs to one thread;
 * handles on different threads are independent. This header is the whole API: it needs
 * nothing else of Simpul.
 */
#ifndef SIMPUL_STREAM_H
#define SIMPUL_STREAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIMPUL_STREAM_VERSION_MAJOR 1
#define SIMPUL_STREAM_VERSION_MINOR 0

enum {
    SIMPUL_STREAM_OK = 0,
    SIMPUL_STREAM_TIMEOUT = 1,     /* nothing new within the timeout */
    SIMPUL_STREAM_UNREACHABLE = 2, /* the node cannot be reached now: try again, nothing is lost */
    SIMPUL_STREAM_INVALID = -1,    /* a bad argument or URL */
    SIMPUL_STREAM_NOMEM = -2,
    SIMPUL_STREAM_PROTOCOL = -3, /* the node answered something this library cannot read */
};

typedef struct simpul_stream simpul_stream;

/* One event, valid until the next simpul_stream_next or simpul_stream_close on its handle. */
typedef struct {
    uint64_t offset;         /* the node's arrival offset: resume from offset + 1 */
    const char *topic;       /* "35.77.opd-3577-pupr.follow-up.web" */
    const char *origin;      /* the node that wrote it ("kota-3577") */
    uint64_t seq;            /* its position in the origin's feed: 1, 2, 3... */
    uint64_t hlc;            /* the origin's hybrid clock: unix ms << 16 | counter */
    const uint8_t *body;     /* the encoded simpul.v1.Event */
    size_t body_len;
    const uint8_t *envelope; /* the signed simpul.v1.Envelope exactly as stored */
    size_t envelope_len;
    int live;                /* 1: from the live stream; 0: from a replay */
} simpul_stream_event;

/* Follow the node whose stream (PUB) and replay (REP) endpoints are given (tcp://, ws://,
 * wss://...), from offset `from` (1: everything it holds), topics starting with prefix ("":
 * all). Returns SIMPUL_STREAM_OK and *out, or an error (nothing is allocated then). */
int simpul_stream_open(simpul_stream **out, const char *stream_url, const char *replay_url,
                       const char *prefix, uint64_t from);
/* The next event into *ev, waiting up to timeout_ms for one. */
int simpul_stream_next(simpul_stream *s, int timeout_ms, simpul_stream_event *ev);
/* The offset after the last event delivered: where to resume after a restart. */
uint64_t simpul_stream_position(const simpul_stream *s);
void simpul_stream_close(simpul_stream *s); /* accepts NULL */
/* A sentence for a return code. */
const char *simpul_stream_strerror(int rc);

#ifdef __cplusplus
}
#endif

#endif
