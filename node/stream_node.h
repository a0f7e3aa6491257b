/*
 * The node's side of the integrator stream (broker/stream.h): topics from complaint state,
 * replay from the feed log's arrival order.
 *
 * Topic: <province>.<regency>.<agency>.<event type>, e.g. "35.77.opd-3577-pupr.follow-up";
 * "_" for a part that is unknown or does not apply ("35._._.filed" for a complaint filed for a
 * whole province, "_._._.commented" for an event that belongs to no complaint). Subscribing to
 * "35." gets Jawa Timur, "35.77." Kota Madiun, "35.77.opd-3577-pupr." one agency there.
 *
 * The stream carries envelopes exactly as stored: a reporter's identity and a confidential
 * complaint's content are sealed inside them (node/seal.h), never in clear.
 */
#ifndef SP_STREAM_NODE_H
#define SP_STREAM_NODE_H

#include "broker/stream.h"
#include "node/daemon.h"

/* The topic of a stored envelope (after its commit: the complaint state includes it). */
void sp_stream_topic(sp_complaints *c, const sp_envelope *env, char out[SP_MAX_TOPIC]);
/* Start the stream on the configured addresses; parts borrowed. */
sp_err sp_node_stream_start(sp_stream **out, const sp_daemon_parts *parts);
/* Publish committed envelopes (from the feed log's committed hook). */
void sp_node_stream_publish(sp_stream *s, const sp_daemon_parts *parts,
                            const sp_envelope *const *envs, const uint64_t *offsets, size_t n);

#endif
