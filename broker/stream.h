/*
 * The integrator stream. Every event a node stores is published on an NNG PUB socket, prefixed
 * by its topic, and can be replayed from any offset on a REP socket. PUB/SUB may drop messages
 * (a slow subscriber, a reconnect), so the client library (broker/tail.h) uses the replay
 * endpoint as the source of truth and live messages as the signal that there is more: replay,
 * then follow live, with no gap and no duplicate.
 *
 * The broker does not compute topics (that needs complaint state): the node passes them in.
 */
#ifndef SP_STREAM_H
#define SP_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define SP_MAX_TOPIC 160
#define SP_REPLAY_MAX 1000      /* events in one replay reply */
#define SP_REPLAY_SCAN 20000    /* arrivals examined for one replay request (bounded work) */
#define SP_STREAM_QUEUE 4096    /* live messages queued per subscriber before PUB drops */

/* Where replay reads from. scan visits stored events in arrival order from offset `from`;
 * fn returns non-zero to stop. The envelope bytes are only valid during the call. */
typedef int (*sp_stream_visit_fn)(void *arg, uint64_t offset, const char *topic,
                                  const uint8_t *envelope, size_t len);
typedef struct {
    sp_err (*scan)(void *ctx, uint64_t from, size_t max, sp_stream_visit_fn fn, void *arg);
    void *ctx;
} sp_stream_source;

typedef struct sp_stream sp_stream;

/* Where the stream listens: any NNG URL, tcp:// for NNG clients, ws:// and wss:// so that a
 * browser or any language with a WebSocket reaches it (docs/stream.md). */
#define SP_STREAM_URLS 2
typedef struct {
    const char *pub[SP_STREAM_URLS];    /* PUB; at least pub[0]; unused slots NULL */
    const char *replay[SP_STREAM_URLS]; /* REP; all NULL: no replay endpoint */
    const char *tls_cert; /* PEM certificate chain and key for wss:// (NULL: none) */
} sp_stream_listen;

/* Listen where `at` says (copied). src is borrowed. SP_ERR_NET (a URL cannot be listened on:
 * logged), SP_ERR_CONFIG (wss:// without tls_cert), SP_ERR_NOMEM. */
sp_err sp_stream_start(sp_stream **out, const sp_stream_listen *at, const sp_stream_source *src);
/* Publish one stored event. Never blocks: PUB drops for slow subscribers. Thread-safe. */
void sp_stream_publish(sp_stream *s, uint64_t offset, const char *topic, const uint8_t *envelope,
                       size_t len);
/* Messages published and replay requests served. */
void sp_stream_counters(sp_stream *s, uint64_t *published, uint64_t *replays);
void sp_stream_stop(sp_stream *s);

#endif
