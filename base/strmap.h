/*
 * A string-keyed hash map (open addressing, linear probing). Keys are copied; values are
 * borrowed pointers the caller owns. Not thread-safe: the owner locks.
 */
#ifndef SP_STRMAP_H
#define SP_STRMAP_H

#include <stddef.h>

#include "base/err.h"

typedef struct {
    char *key;
    void *value;
} sp_strmap_slot;

typedef struct {
    sp_strmap_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t len;
} sp_strmap;

/* Value for key, or NULL. */
void *sp_strmap_get(const sp_strmap *m, const char *key);
/* Insert or replace; *old (if not NULL) receives the replaced value or NULL. */
sp_err sp_strmap_put(sp_strmap *m, const char *key, void *value, void **old);
/* Free the map's own memory; call free_value on each value first if not NULL. */
void sp_strmap_free(sp_strmap *m, void (*free_value)(void *));

/* Iterate: for (size_t i = 0; i < m->cap; i++) if (m->slots[i].key) ... */

#endif
