/*
 * Durable files: what a node writes outside RocksDB (officer tokens, attachments' blobs) is
 * written to a temporary file, fsynced, renamed over its name and its folder fsynced, so that
 * after a crash the file is either the old one or the whole new one, never a torn write.
 * Thread-safe (temporary names are unique per process and call).
 */
#ifndef SP_FILE_H
#define SP_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "base/err.h"

/* Write n bytes of p to fd, retrying short writes and EINTR. SP_ERR_IO. */
sp_err sp_file_write_all(int fd, const void *p, size_t n);
/* fsync the folder dir, so that a rename in it is durable. SP_ERR_IO. */
sp_err sp_file_sync_dir(const char *dir);
/* Make path hold exactly the n bytes of p, with mode (e.g. 0600), atomically and durably, as
 * described above; dir is path's folder. On error nothing is left behind and errno tells why.
 * SP_ERR_IO. */
sp_err sp_file_replace(const char *path, const char *dir, const void *p, size_t n, mode_t mode);

#endif
