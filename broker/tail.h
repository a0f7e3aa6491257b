/*
 * The integrator client: every event of a node's stream whose topic starts with a prefix, from
 * an offset on, in order, with no gap and no duplicate — across dropped PUB messages and
 * reconnects. It replays from the node's replay endpoint until caught up, then follows the live
 * PUB stream. A live message for the next offset is delivered as it is; one further ahead is
 * taken as "there is more up to offset X": anything between the last delivered offset and X is
 * replayed first, so a dropped message is never a lost event. (With a prefix, events that do
 * not match leave gaps in the offsets, so matching live events are mostly fetched by replay.)
 *
 *   sp_tail *t;
 *   sp_tail_open(&t, "tcp://node:7501", "tcp://node:7502", "35.77.", 1);
 *   for (;;) { sp_stream_event ev; if (sp_tail_next(t, 1000, &ev) == SP_OK) { ...; sp_stream_event_clear(&ev); } }
 *
 * One sp_tail belongs to one thread.
 */
#ifndef SP_TAIL_H
#define SP_TAIL_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

typedef struct {
    uint64_t offset;
    char *topic;        /* owned */
    uint8_t *envelope;  /* owned: an encoded Envelope (broker/envelope.h: sp_envelope_decode) */
    size_t len;
    int live;           /* 1: taken from the live PUB message; 0: from a replay reply */
} sp_stream_event;

typedef struct sp_tail sp_tail;

/* Connect to a node's stream. from = first offset wanted (1: everything). */
sp_err sp_tail_open(sp_tail **out, const char *pub_url, const char *replay_url, const char *prefix,
                    uint64_t from);
/* The next event, waiting up to timeout_ms for one: SP_ERR_TIMEOUT when none came,
 * SP_ERR_NET when the node cannot be reached (try again later: nothing is skipped). */
sp_err sp_tail_next(sp_tail *t, int timeout_ms, sp_stream_event *ev);
/* The offset after the last event delivered: where to resume after a restart. */
uint64_t sp_tail_position(const sp_tail *t);
void sp_stream_event_clear(sp_stream_event *ev);
void sp_tail_close(sp_tail *t);

#endif
