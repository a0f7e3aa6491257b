/*
 * The node's RocksDB database: one DB per node, one column family per kind of record.
 * broker/store_rocks.c owns every rocksdb_* call; the rest of Simpul sees this small interface.
 *
 * The log's column families are the broker's; an application built on the log names its own
 * at open (Simpul's node: complaints and stats, node/lifecycle/complaints.h), which get the
 * numbers SP_CF_APP, SP_CF_APP + 1, ... in that order. The broker never reads them.
 *
 * Column families:
 *   feeds       origin-key | seq (u64 BE)  -> encoded envelope      append-only
 *   arrivals    offset (u64 BE)            -> origin-key | seq      local arrival order, then
 *                                             [| tag]               the stream topic (feedlog.h)
 *   meta        text key                   -> value                 heads, clock, cursors
 *   forks       origin-key | seq | hash    -> encoded envelope      equivocation evidence
 *   (the application's, e.g. complaints and stats)
 * (origin-key = u8 length | origin bytes, so keys sort by origin then seq.)
 *
 * Thread-safety: all calls may be made concurrently (RocksDB is thread-safe); a write batch
 * and an iterator belong to one thread.
 */
#ifndef SP_STORE_H
#define SP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

typedef enum {
    SP_CF_FEEDS,
    SP_CF_ARRIVALS,
    SP_CF_META,
    SP_CF_FORKS,
    SP_CF_APP /* the application's first column family */
} sp_cf;

/* Column families a store can have open: the log's, the application's and any others found on
 * disk (RocksDB opens all of a database's column families or none). */
#define SP_STORE_CF_MAX 16

typedef struct sp_store sp_store;
typedef struct sp_wbatch sp_wbatch;
typedef struct sp_iter sp_iter;

/* Open (creating if needed) the database in dir, with the log's column families and the
 * application's app_cfs (NULL-terminated names, numbered from SP_CF_APP; NULL for none).
 * Column families already on disk that neither names are opened too and left alone, so that a
 * tool knowing only the log can open any node's database. SP_ERR_LOCKED when another process
 * has it open; SP_ERR_INVAL for too many column families; SP_ERR_STORE with a logged RocksDB
 * message otherwise. The caller owns *out. */
sp_err sp_store_open(sp_store **out, const char *dir, const char *const *app_cfs);
/* Flush and close. Accepts NULL. */
void sp_store_close(sp_store *st);

/*
 * Many stores in one process (the national simulation, bench/sim_federation.c, runs 600): by
 * default each store has its own 64 MiB block cache and 64 MiB of memtables, which is right
 * for one node per host and wasteful for hundreds. A
 * shared cache is one LRU cache for every store opened with it; it must outlive them.
 */
typedef struct sp_store_cache sp_store_cache;
sp_store_cache *sp_store_cache_new(size_t bytes); /* NULL when out of memory */
void sp_store_cache_free(sp_store_cache *c);      /* accepts NULL; after its stores closed */
size_t sp_store_cache_usage(const sp_store_cache *c);

#define SP_STORE_MEMTABLE_DEFAULT ((size_t)64 << 20)

typedef struct {
    sp_store_cache *cache;   /* shared block cache; NULL: the store's own 64 MiB */
    size_t memtable_bytes;   /* all the store's memtables together (flushed beyond); 0:
                                SP_STORE_MEMTABLE_DEFAULT */
    int max_open_files;      /* table files kept open; 0: 512 */
} sp_store_options;

/* sp_store_open with options (NULL: the defaults). */
sp_err sp_store_open_with(sp_store **out, const char *dir, const char *const *app_cfs,
                          const sp_store_options *o);
/* Bytes in the store's memtables now (all column families). */
uint64_t sp_store_memtable_bytes(sp_store *st);

/* Point read: *val is malloc'ed (caller frees), SP_ERR_NOT_FOUND when absent. */
sp_err sp_store_get(sp_store *st, sp_cf cf, const void *key, size_t klen, uint8_t **val,
                    size_t *vlen);
/* Apply a batch atomically. With sync, returns only once the batch is on disk (fsync). */
sp_err sp_store_write(sp_store *st, sp_wbatch *b, int sync);

/* A consistent copy of the whole store, taken while it is in use, into dir (which must not
 * exist; its parent must). Files are hard-linked when dir is on the same file system, copied
 * otherwise; memtables are flushed first, so the copy needs no log replay. SP_ERR_STORE. */
sp_err sp_store_checkpoint(sp_store *st, const char *dir);

/* A batch for st (it must not outlive st). NULL when out of memory. */
sp_wbatch *sp_wbatch_new(sp_store *st);
void sp_wbatch_put(sp_wbatch *b, sp_cf cf, const void *k, size_t kn, const void *v, size_t vn);
void sp_wbatch_delete(sp_wbatch *b, sp_cf cf, const void *k, size_t kn);
void sp_wbatch_clear(sp_wbatch *b);
size_t sp_wbatch_count(const sp_wbatch *b);
void sp_wbatch_free(sp_wbatch *b);

/* Iterators over one column family, in key order. Key and value pointers stay valid until the
 * next move. sp_iter_status reports a read error after the iterator became invalid. */
sp_iter *sp_iter_new(sp_store *st, sp_cf cf);
void sp_iter_seek(sp_iter *it, const void *k, size_t kn);
void sp_iter_seek_first(sp_iter *it);
/* The last key <= k (invalid when there is none). */
void sp_iter_seek_for_prev(sp_iter *it, const void *k, size_t kn);
int sp_iter_valid(const sp_iter *it);
void sp_iter_next(sp_iter *it);
const uint8_t *sp_iter_key(const sp_iter *it, size_t *n);
const uint8_t *sp_iter_value(const sp_iter *it, size_t *n);
sp_err sp_iter_status(const sp_iter *it);
void sp_iter_free(sp_iter *it);

/* Big-endian helpers for keys. */
static inline void sp_put_be64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--) *p++ = (uint8_t)(v >> (8 * i));
}
static inline uint64_t sp_get_be64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}

#endif
