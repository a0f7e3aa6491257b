/*
 * The RocksDB wrapper. Every rocksdb_* call and every RocksDB error string lives here; errors
 * become SP_ERR_STORE (or SP_ERR_LOCKED) after being logged with the directory and operation.
 */
#include "broker/store.h"

#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "base/log.h"

static const char *const log_cfs[SP_CF_APP] = {"default", "arrivals", "meta", "forks"};
/* "feeds" is RocksDB's default column family: the log is the database's main content. */

struct sp_store {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_writeoptions_t *wsync, *wnosync;
    rocksdb_readoptions_t *ropts;
    rocksdb_column_family_handle_t *cf[SP_STORE_CF_MAX];
    size_t n_cf;
    rocksdb_block_based_table_options_t *table;
    rocksdb_cache_t *cache; /* the store's own, NULL with a shared one */
    char *dir;
};

struct sp_store_cache {
    rocksdb_cache_t *cache;
};

struct sp_wbatch {
    rocksdb_writebatch_t *wb;
    rocksdb_column_family_handle_t *const *cf; /* the store's handles, borrowed */
};

struct sp_iter {
    rocksdb_iterator_t *it;
};


static sp_err check(char *err, const char *op, const char *dir) {
    if (!err) return SP_OK;
    sp_err rv = strstr(err, "lock") ? SP_ERR_LOCKED : SP_ERR_STORE;
    sp_log_error("store", "op=%s dir=%s error=\"%s\"", op, dir ? dir : "-", err);
    rocksdb_free(err);
    return rv;
}

static void set_options(sp_store *st, const sp_store_options *o) {
    st->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(st->opts, 1);
    rocksdb_options_set_create_missing_column_families(st->opts, 1);
    rocksdb_options_set_compression(st->opts, rocksdb_lz4_compression);
    rocksdb_options_increase_parallelism(st->opts, 2);
    rocksdb_options_set_max_open_files(st->opts, o && o->max_open_files ? o->max_open_files : 512);
    /* A quarter of the budget per column family: a busy one flushes before it takes it all.
     * RocksDB's own default (64 MiB per column family, two of them each) would let a node's
     * six column families hold 768 MiB. */
    size_t memtables = o && o->memtable_bytes ? o->memtable_bytes : SP_STORE_MEMTABLE_DEFAULT;
    rocksdb_options_set_db_write_buffer_size(st->opts, memtables);
    rocksdb_options_set_write_buffer_size(st->opts, memtables / 4);
    st->table = rocksdb_block_based_options_create();
    if (o && o->cache) {
        rocksdb_block_based_options_set_block_cache(st->table, o->cache->cache);
    } else {
        st->cache = rocksdb_cache_create_lru(64 << 20);
        rocksdb_block_based_options_set_block_cache(st->table, st->cache);
    }
    rocksdb_options_set_block_based_table_factory(st->opts, st->table);
    st->wsync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(st->wsync, 1);
    st->wnosync = rocksdb_writeoptions_create();
    st->ropts = rocksdb_readoptions_create();
}

sp_store_cache *sp_store_cache_new(size_t bytes) {
    sp_store_cache *c = malloc(sizeof *c);
    if (c && !(c->cache = rocksdb_cache_create_lru(bytes))) {
        free(c);
        c = NULL;
    }
    return c;
}

void sp_store_cache_free(sp_store_cache *c) {
    if (!c) return;
    rocksdb_cache_destroy(c->cache);
    free(c);
}

size_t sp_store_cache_usage(const sp_store_cache *c) {
    return rocksdb_cache_get_usage(c->cache);
}

uint64_t sp_store_memtable_bytes(sp_store *st) {
    uint64_t sum = 0, v;
    for (size_t i = 0; i < st->n_cf; i++)
        if (rocksdb_property_int_cf(st->db, st->cf[i], "rocksdb.cur-size-all-mem-tables", &v) == 0)
            sum += v;
    return sum;
}

static int listed(const char *const *names, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0) return 1;
    return 0;
}

/* names[0..*n): the log's column families, the application's, then the others on disk. The
 * strings of *disk (free with rocksdb_list_column_families_destroy) back the last ones. */
static sp_err cf_names(const sp_store *st, const char *const *app, const char **names, size_t *n,
                       char ***disk, size_t *n_disk) {
    *n = 0;
    for (size_t i = 0; i < SP_CF_APP; i++) names[(*n)++] = log_cfs[i];
    for (; app && *app; app++) {
        if (*n == SP_STORE_CF_MAX || listed(names, *n, *app)) return SP_ERR_INVAL;
        names[(*n)++] = *app;
    }
    char *err = NULL; /* a new directory has no list: nothing more to open */
    *disk = rocksdb_list_column_families(st->opts, st->dir, n_disk, &err);
    rocksdb_free(err);
    for (size_t i = 0; *disk && i < *n_disk; i++) {
        if (listed(names, *n, (*disk)[i])) continue;
        if (*n == SP_STORE_CF_MAX) return SP_ERR_INVAL;
        names[(*n)++] = (*disk)[i];
    }
    return SP_OK;
}

sp_err sp_store_open(sp_store **out, const char *dir, const char *const *app_cfs) {
    return sp_store_open_with(out, dir, app_cfs, NULL);
}

sp_err sp_store_open_with(sp_store **out, const char *dir, const char *const *app_cfs,
                          const sp_store_options *o) {
    sp_store *st = calloc(1, sizeof *st);
    if (!st || !(st->dir = strdup(dir))) {
        free(st);
        return SP_ERR_NOMEM;
    }
    set_options(st, o);
    const char *names[SP_STORE_CF_MAX];
    const rocksdb_options_t *cf_opts[SP_STORE_CF_MAX];
    char **disk = NULL, *err = NULL;
    size_t n = 0, n_disk = 0;
    sp_err rv = cf_names(st, app_cfs, names, &n, &disk, &n_disk);
    for (size_t i = 0; i < n; i++) cf_opts[i] = st->opts;
    if (rv == SP_OK) {
        st->db = rocksdb_open_column_families(st->opts, dir, (int)n, names, cf_opts, st->cf, &err);
        rv = check(err, "open", dir);
    } else {
        sp_log_error("store", "op=open dir=%s error=\"more than %d column families\"", dir,
                     SP_STORE_CF_MAX);
    }
    if (disk) rocksdb_list_column_families_destroy(disk, n_disk);
    if (rv != SP_OK) {
        sp_store_close(st);
        return rv;
    }
    st->n_cf = n;
    *out = st;
    return SP_OK;
}

void sp_store_close(sp_store *st) {
    if (!st) return;
    if (st->db) {
        for (size_t i = 0; i < st->n_cf; i++)
            if (st->cf[i]) rocksdb_column_family_handle_destroy(st->cf[i]);
        rocksdb_close(st->db);
    }
    if (st->wsync) rocksdb_writeoptions_destroy(st->wsync);
    if (st->wnosync) rocksdb_writeoptions_destroy(st->wnosync);
    if (st->ropts) rocksdb_readoptions_destroy(st->ropts);
    if (st->opts) rocksdb_options_destroy(st->opts);
    if (st->table) rocksdb_block_based_options_destroy(st->table);
    if (st->cache) rocksdb_cache_destroy(st->cache);
    free(st->dir);
    free(st);
}

sp_err sp_store_get(sp_store *st, sp_cf cf, const void *key, size_t klen, uint8_t **val,
                    size_t *vlen) {
    char *err = NULL;
    size_t n = 0;
    char *v = rocksdb_get_cf(st->db, st->ropts, st->cf[cf], key, klen, &n, &err);
    sp_err rv = check(err, "get", st->dir);
    if (rv != SP_OK) return rv;
    if (!v) return SP_ERR_NOT_FOUND;
    /* RocksDB's buffer comes from its allocator; hand the caller a malloc'ed copy. */
    uint8_t *copy = malloc(n ? n : 1);
    if (copy) memcpy(copy, v, n);
    rocksdb_free(v);
    if (!copy) return SP_ERR_NOMEM;
    *val = copy;
    *vlen = n;
    return SP_OK;
}

sp_err sp_store_write(sp_store *st, sp_wbatch *b, int sync) {
    char *err = NULL;
    rocksdb_write(st->db, sync ? st->wsync : st->wnosync, b->wb, &err);
    return check(err, "write", st->dir);
}

sp_err sp_store_checkpoint(sp_store *st, const char *dir) {
    char *err = NULL;
    rocksdb_checkpoint_t *cp = rocksdb_checkpoint_object_create(st->db, &err);
    if (cp) rocksdb_checkpoint_create(cp, dir, 0, &err); /* 0: always flush the memtables first */
    if (cp) rocksdb_checkpoint_object_destroy(cp);
    return check(err, "checkpoint", dir);
}

sp_wbatch *sp_wbatch_new(sp_store *st) {
    sp_wbatch *b = malloc(sizeof *b);
    if (!b) return NULL;
    b->wb = rocksdb_writebatch_create();
    b->cf = st->cf;
    return b;
}

void sp_wbatch_put(sp_wbatch *b, sp_cf cf, const void *k, size_t kn, const void *v, size_t vn) {
    rocksdb_writebatch_put_cf(b->wb, b->cf[cf], k, kn, v, vn);
}

void sp_wbatch_delete(sp_wbatch *b, sp_cf cf, const void *k, size_t kn) {
    rocksdb_writebatch_delete_cf(b->wb, b->cf[cf], k, kn);
}

void sp_wbatch_clear(sp_wbatch *b) {
    rocksdb_writebatch_clear(b->wb);
}

size_t sp_wbatch_count(const sp_wbatch *b) {
    return (size_t)rocksdb_writebatch_count(b->wb);
}

void sp_wbatch_free(sp_wbatch *b) {
    if (!b) return;
    rocksdb_writebatch_destroy(b->wb);
    free(b);
}

sp_iter *sp_iter_new(sp_store *st, sp_cf cf) {
    sp_iter *it = malloc(sizeof *it);
    if (it) it->it = rocksdb_create_iterator_cf(st->db, st->ropts, st->cf[cf]);
    return it;
}

void sp_iter_seek(sp_iter *it, const void *k, size_t kn) {
    rocksdb_iter_seek(it->it, k, kn);
}

void sp_iter_seek_for_prev(sp_iter *it, const void *k, size_t kn) {
    rocksdb_iter_seek_for_prev(it->it, k, kn);
}

void sp_iter_seek_first(sp_iter *it) {
    rocksdb_iter_seek_to_first(it->it);
}

int sp_iter_valid(const sp_iter *it) {
    return rocksdb_iter_valid(it->it);
}

void sp_iter_next(sp_iter *it) {
    rocksdb_iter_next(it->it);
}

const uint8_t *sp_iter_key(const sp_iter *it, size_t *n) {
    return (const uint8_t *)rocksdb_iter_key(it->it, n);
}

const uint8_t *sp_iter_value(const sp_iter *it, size_t *n) {
    return (const uint8_t *)rocksdb_iter_value(it->it, n);
}

sp_err sp_iter_status(const sp_iter *it) {
    char *err = NULL;
    rocksdb_iter_get_error(it->it, &err);
    return check(err, "iterate", NULL);
}

void sp_iter_free(sp_iter *it) {
    if (!it) return;
    rocksdb_iter_destroy(it->it);
    free(it);
}
