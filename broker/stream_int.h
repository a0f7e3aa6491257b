/*
 * The stream's parsers of outside input, callable without a network: for fuzz targets
 * (tests/fuzz/fuzz_replay.c). The node's replay server takes ReplayRequests from any
 * integrator; the tail client (broker/tail.h) takes ReplayReplies and live messages from a node.
 */
#ifndef SP_STREAM_INT_H
#define SP_STREAM_INT_H

#include "broker/stream.h"
#include "broker/tail.h"

/* Serve one ReplayRequest as the replay thread does: *reply is the encoded ReplayReply
 * (caller frees). SP_ERR_NOMEM only when out of memory. */
sp_err sp__stream_serve_replay(sp_stream *s, const uint8_t *req, size_t n, uint8_t **reply,
                               size_t *reply_len);
/* Take a ReplayReply as sp_tail_next does after asking: buffer its events; *end when the node
 * has nothing newer. SP_ERR_DECODE, SP_ERR_REJECTED (the node's error answer), SP_ERR_NOMEM. */
sp_err sp__tail_take_replay(sp_tail *t, const uint8_t *bytes, size_t len, int *end);
/* Take one live message (topic, NUL, StreamEvent) as sp_tail_next does. SP_ERR_DECODE. */
sp_err sp__tail_take_live(sp_tail *t, const uint8_t *bytes, size_t len);
/* Events taken but not yet handed out by sp_tail_next. */
size_t sp__tail_buffered(const sp_tail *t);

#endif
