/*
 * The node daemon: everything a running Simpul node holds together — configuration, topology,
 * keys, the store and feed log, the replicator, the local control socket. node/cli/main.c runs it
 * with `simpul node run --config FILE`.
 *
 * Start-up refuses, with a clear message, a bad configuration, an invalid topology, a node id
 * the topology does not know, a signing key that is not the topology's key for this node, and
 * a data directory locked by another process. SIGTERM or SIGINT stops it cleanly: links close,
 * RocksDB is flushed and closed.
 */
#ifndef SP_DAEMON_H
#define SP_DAEMON_H

#include "node/app/app.h"

typedef struct sp_daemon sp_daemon;

/* Open everything the configuration names and start serving. The caller owns *out. */
sp_err sp_daemon_start(sp_daemon **out, const char *config_path);
const sp_daemon_parts *sp_daemon_get_parts(const sp_daemon *d);
/* Stop serving, flush and close. Accepts NULL. */
void sp_daemon_stop(sp_daemon *d);

#endif
