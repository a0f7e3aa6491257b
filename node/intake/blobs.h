/*
 * Attachments (photos, videos, documents) stay at the intake node as content-addressed blobs:
 * DATA/blobs/<first 2 hex digits>/<64 hex digits of SHA-256>. Events carry only the hash, size
 * and media type (DESIGN §5), so a blob is written, fsynced and renamed into place BEFORE the
 * event that names it is authored: an acknowledged complaint never points at a missing blob.
 * Writing the same bytes twice is a no-op. Thread-safe (no shared state; temporary files have
 * unique names).
 */
#ifndef SP_BLOBS_H
#define SP_BLOBS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "broker/crypto.h"

/* Store p[0..n) under data_dir; sha receives its SHA-256. SP_ERR_IO (logged with the path). */
sp_err sp_blob_put(const char *data_dir, const uint8_t *p, size_t n, uint8_t sha[SP_HASH_LEN]);
/* Read a blob back: *out is malloc'ed (caller frees). SP_ERR_NOT_FOUND, SP_ERR_CORRUPT (its
 * bytes no longer hash to its name), SP_ERR_TOO_BIG (over max), SP_ERR_IO, SP_ERR_NOMEM. */
sp_err sp_blob_get(const char *data_dir, const uint8_t sha[SP_HASH_LEN], size_t max, uint8_t **out,
                   size_t *n);

#endif
