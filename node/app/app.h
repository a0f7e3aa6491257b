/*
 * The named parts of a running node, as the daemon (node/daemon.h) assembles them and the
 * services of node/app/ and node/http/ borrow them. A plain struct with no functions, so that
 * those layers depend on what a node is made of without depending on the daemon that makes it.
 */
#ifndef SP_APP_H
#define SP_APP_H

#include "broker/feedlog.h"
#include "broker/replicator.h"
#include "node/app/config.h"
#include "node/intake/seal.h"
#include "node/lifecycle/complaints.h"
#include "node/lifecycle/fold.h"
#include "topology/topology.h"

/* The parts of a running node other modules (control, HTTP) use. Borrowed, valid while the
 * daemon runs. */
typedef struct {
    const sp_node_config *cfg;
    const sp_topology *topo;
    const sp_topo_node *self;
    sp_store *store;
    sp_feedlog *log;
    sp_replicator *rep;
    const sp_key *sign_key;
    const sp_seal_keyring *seal;  /* this node's sealing keys (may be empty) */
    sp_complaints *complaints;    /* derived complaint state, maintained with every commit */
    const sp_fold_ctx *fold;      /* topology, calendar and SLA policy the fold uses */
    /* "topology=<hex>;calendar=<hex>;policy=<hex>": the fingerprints peers compare on sync */
    const char *agreement;
} sp_daemon_parts;

#endif
