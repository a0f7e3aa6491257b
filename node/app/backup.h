/*
 * Backup and restore of a node's data directory.
 *
 * A backup is itself a data directory: a RocksDB checkpoint of the store (every feed, arrival
 * order, heads, derived state, idempotency records), taken consistently while the node runs,
 * plus what exists only outside RocksDB: the attachments' blobs/ and tokens.json. Blobs are
 * copied after the checkpoint; a blob is written before the event naming it and never deleted,
 * so every attachment the checkpoint's events name is in the copy. `simpul log verify --data
 * BACKUP` checks it; restore copies it to an empty data directory.
 *
 * Not in a backup: the keys (kept elsewhere, docs/operations.md) and the control socket.
 */
#ifndef SP_BACKUP_H
#define SP_BACKUP_H

#include <stdint.h>

#include "broker/store.h"

typedef struct {
    uint64_t files;        /* files copied besides the checkpoint */
    uint64_t bytes;        /* their bytes */
} sp_backup_stats;

/* Back up the store st (open, possibly in use) of data_dir into out_dir, which must not exist.
 * SP_ERR_EXISTS (out_dir exists), SP_ERR_STORE (checkpoint), SP_ERR_IO (copies; errno kept). */
sp_err sp_backup_create(sp_store *st, const char *data_dir, const char *out_dir,
                        sp_backup_stats *stats);
/* Copy the backup backup_dir into data_dir, which must not exist or be empty. SP_ERR_NOT_FOUND
 * (backup_dir is no backup: no RocksDB CURRENT file), SP_ERR_EXISTS (data_dir has files),
 * SP_ERR_IO. The copy is fsynced. Open it with sp_store_open to check it.
 * A restored directory is marked: its own feed may be behind what its peers hold, and
 * authoring the next seq before they send the rest back would fork the node's own chain, so
 * the daemon first waits for a sync round with its peers, as for an empty feed. */
sp_err sp_backup_restore(const char *backup_dir, const char *data_dir, sp_backup_stats *stats);
/* Whether data_dir was restored and has not started since; clear the mark once it has. */
int sp_backup_restored(const char *data_dir);
void sp_backup_clear_restored(const char *data_dir);

#endif
