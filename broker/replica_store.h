/*
 * The feed log seen through the replicator's narrow store interface (broker/replicator.h).
 */
#ifndef SP_REPLICA_STORE_H
#define SP_REPLICA_STORE_H

#include "broker/feedlog.h"
#include "broker/replicator.h"

/* Which origins this node keeps (scoped replication). */
typedef int (*sp_keeps_fn)(void *arg, const char *origin);

/* What the adapter needs; the caller owns it and keeps it alive as long as the replicator. */
typedef struct {
    sp_feedlog *log;
    sp_keeps_fn keeps; /* NULL: keep every origin */
    void *keeps_arg;
} sp_replica_adapter;

/* Fill ops so that the replicator reads and writes a->log. */
void sp_replica_store_init(sp_replica_store *ops, sp_replica_adapter *a);

#endif
