/*
 * The replicator's parsers of what peers send, callable without a network: for fuzz targets
 * (tests/fuzz/fuzz_peer.c), which feed them hostile bytes on a real replicator and store.
 */
#ifndef SP_REPLICATOR_INT_H
#define SP_REPLICATOR_INT_H

#include "broker/replicator.h"

/* Serve one PeerRequest as a server thread does (counted in the server stats): *reply is the
 * encoded PeerReply (caller frees). SP_ERR_NOMEM only when out of memory. */
sp_err sp__replicator_serve(sp_replicator *r, const uint8_t *req, size_t n, uint8_t **reply,
                            size_t *reply_len);

typedef enum { SP__REPLY_PUSH, SP__REPLY_SYNC, SP__REPLY_PULL } sp__reply_kind;

/* Take peer peer_id's answer to a request of `kind` as its link thread does: decode, learn its
 * heads (push, sync), store a pull's batch. SP_ERR_INVAL for an unknown peer_id. */
sp_err sp__replicator_take_reply(sp_replicator *r, const char *peer_id, sp__reply_kind kind,
                                 const uint8_t *bytes, size_t n);

#endif
