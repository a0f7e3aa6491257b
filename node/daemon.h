/*
 * The node daemon: everything a running Simpul node holds together — configuration, topology,
 * keys, the store and feed log, the replicator, the local control socket. node/main.c runs it
 * with `simpul node run --config FILE`.
 *
 * Start-up refuses, with a clear message, a bad configuration, an invalid topology, a node id
 * the topology does not know, a signing key that is not the topology's key for this node, and
 * a data directory locked by another process. SIGTERM or SIGINT stops it cleanly: links close,
 * RocksDB is flushed and closed.
 */
#ifndef SP_DAEMON_H
#define SP_DAEMON_H

#include "broker/replicator.h"
#include "node/complaints.h"
#include "node/feedlog.h"
#include "node/fold.h"
#include "node/seal.h"
#include "topology/config.h"
#include "topology/topology.h"

typedef struct sp_daemon sp_daemon;

/* The parts of a running daemon other modules (control, HTTP) use. Borrowed, valid while the
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
} sp_daemon_parts;

/* Open everything the configuration names and start serving. The caller owns *out. */
sp_err sp_daemon_start(sp_daemon **out, const char *config_path);
const sp_daemon_parts *sp_daemon_get_parts(const sp_daemon *d);
/* Stop serving, flush and close. Accepts NULL. */
void sp_daemon_stop(sp_daemon *d);

/* The control socket of a data directory (ipc://DATA/control.sock) into buf. */
void sp_control_url(const char *data_dir, char *buf, size_t cap);

#endif
