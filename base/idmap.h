/*
 * A small open-addressing hash map from strings to indexes, used for node ids, region codes,
 * SMS keywords and route keys. Keys are borrowed (they live in an arena that outlives the map).
 * Internal to topology/; not thread-safe for writers, safe for concurrent readers.
 */
#ifndef SP_TOPOLOGY_STRMAP_H
#define SP_TOPOLOGY_STRMAP_H

#include <stddef.h>

#include "base/err.h"

typedef struct sp__strmap_slot {
    const char *key; /* NULL = empty */
    size_t value;
} sp__strmap_slot;

typedef struct sp__strmap {
    sp__strmap_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t n;
} sp__strmap;

#define SP__STRMAP_INIT                                                                            \
    { NULL, 0, 0 }

/* Looks key up; returns 1 and sets *value when present, 0 otherwise. m may be empty. */
int sp__strmap_get(const sp__strmap *m, const char *key, size_t *value);
/* Inserts key unless present. Returns SP_OK (inserted), SP_ERR_EXISTS (present: *existing gets
 * its value when existing is not NULL; the map is unchanged) or SP_ERR_NOMEM. */
sp_err sp__strmap_put(sp__strmap *m, const char *key, size_t value, size_t *existing);
/* Frees the table (not the keys). Accepts NULL. */
void sp__strmap_free(sp__strmap *m);

#endif
