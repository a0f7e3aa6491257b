/*
 * The node's side of the integrator stream (broker/stream.h): topics, and replay from the feed
 * log's arrival order.
 *
 * Topic: <province>.<regency>.<agency>.<event type>.<channel>, e.g.
 * "35.77.opd-3577-pupr.follow-up.whatsapp"; "_" for a part that is unknown or does not apply
 * ("35._._.filed.web" for a complaint filed for a whole province, "_._._.commented._" for an
 * event that belongs to no complaint). Subscribing to "35." gets Jawa Timur, "35.77." Kota
 * Madiun, "35.77.opd-3577-pupr." one agency there. The channel comes last so that those
 * prefixes keep working; a channel alone is filtered by the subscriber (or "35.77._.filed.sms"
 * for the SMS filings of one kota). Events stored by versions before the channel part have
 * four parts, live and in replay, for ever (a topic is never recomputed).
 *
 * One topic per event, for ever, and the same on every node. It is computed once, when the
 * event is stored, from the event itself and its complaint's filing only — never from the
 * complaint's current state, which changes later and differs between nodes while events are
 * still arriving:
 *  - region: the region of the complaint's accepted filing (the filed event's own region);
 *    "_._" when this node does not hold an accepted filing of the complaint when the event is
 *    stored (the filing was refused, or arrives later — the only case in which two nodes can
 *    give one event different topics);
 *  - agency: for dispositioned and escalated, the node the event hands the complaint to; for
 *    follow-up, completed and rerouted, the agency that wrote it (its origin); "_" otherwise;
 *  - event type: sp_ev_kind_name ("other" for an envelope that is not an Event);
 *  - channel: sp_channel_name of the accepted filing's channel, found as the region is.
 * The topic is stored with the event's arrival record (sp_feedlog_set_tagger); the live stream
 * and replay both read it from there. Events stored without one (by a node without a stream,
 * or an older version) get the same rule applied at replay time.
 *
 * The stream carries envelopes exactly as stored: a reporter's identity and a confidential
 * complaint's content are sealed inside them (node/intake/seal.h), never in clear.
 */
#ifndef SP_STREAM_NODE_H
#define SP_STREAM_NODE_H

#include "broker/stream.h"
#include "node/app/app.h"

/* The topic of one stored envelope by the rule above, the filing looked up in parts' complaint
 * state. SP_ERR_NOMEM, SP_ERR_STORE, SP_ERR_CORRUPT (reading the state). Thread-safe. */
sp_err sp_stream_topic(const sp_daemon_parts *parts, const sp_envelope *env,
                       char out[SP_MAX_TOPIC]);
/* Start the stream on the configured addresses, and store every event's topic with its arrival
 * from now on. parts is borrowed and must outlive the log's writers. */
sp_err sp_node_stream_start(sp_stream **out, const sp_daemon_parts *parts);
/* Publish committed envelopes (from the feed log's committed hook) with their stored topics. */
void sp_node_stream_publish(sp_stream *s, const sp_daemon_parts *parts,
                            const sp_envelope *const *envs, const uint64_t *offsets, size_t n);

#endif
