/*
 * A bounded cache of the records the stage hook reads back (states, statistics rows), so that
 * a hot complaint or row costs no RocksDB read. Coherent with the store without any hook of
 * its own: stage runs under the feed log's lock, and the log gives every commit the next
 * arrival offsets, advancing them only when the batch is on disk. What a stage wrote is kept
 * apart (pending) and believed only when the next stage's first offset is past the last one
 * it saw, i.e. its batch was committed; after a failed commit the offsets repeat and the
 * pending values are dropped. Callers that pass no increasing offsets (tests that write the
 * batch themselves with offsets 0) simply never hit.
 */
#include <stdlib.h>
#include <string.h>

#include "node/lifecycle/complaints_int.h"

typedef struct {
    size_t len;
    unsigned char bytes[];
} value;

static void drop(sp_strmap *m) {
    sp_strmap_free(m, free);
    memset(m, 0, sizeof *m);
}

void sp__cache_free(sp__cache *c) {
    if (!c) return;
    drop(&c->committed);
    drop(&c->pending);
}

void sp__cache_begin(sp__cache *c, const uint64_t *offsets, size_t n) {
    int committed = c->pending_end && n && offsets[0] > c->pending_end;
    if (committed && c->committed.len + c->pending.len > c->cap) drop(&c->committed);
    for (size_t i = 0; committed && i < c->pending.cap; i++) {
        sp_strmap_slot *s = &c->pending.slots[i];
        void *old = NULL;
        if (!s->key) continue;
        if (sp_strmap_put(&c->committed, s->key, s->value, &old) != SP_OK) {
            drop(&c->committed); /* out of memory: forget rather than be wrong */
            break;
        }
        free(old);
        s->value = NULL; /* moved */
    }
    drop(&c->pending);
    c->pending_end = 0;
}

void sp__cache_end(sp__cache *c, const uint64_t *offsets, size_t n, sp_err rv) {
    if (rv != SP_OK || !n) {
        drop(&c->pending);
        return;
    }
    for (size_t i = 1; i < n; i++)
        if (offsets[i] <= offsets[i - 1]) { /* not offsets of one commit: trust nothing */
            drop(&c->pending);
            return;
        }
    c->pending_end = offsets[n - 1];
}

int sp__cache_get(const sp__cache *c, const char *key, void *out, size_t len) {
    const value *v = sp_strmap_get(&c->committed, key);
    if (!v || v->len != len) return 0;
    memcpy(out, v->bytes, len);
    return 1;
}

void sp__cache_put(sp__cache *c, const char *key, const void *p, size_t len) {
    value *v = malloc(sizeof *v + len), *old = NULL;
    if (!v) return; /* not cached: the next read goes to the store */
    v->len = len;
    memcpy(v->bytes, p, len);
    if (sp_strmap_put(&c->pending, key, v, (void **)&old) != SP_OK) free(v);
    free(old);
}
