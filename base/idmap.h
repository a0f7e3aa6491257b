/*
 * A map from strings to indexes (node ids, region codes, SMS keywords, route keys, YAML keys
 * seen), on top of base/strmap.h: one hash table implementation in the tree. Keys are copied.
 * Not thread-safe for writers, safe for concurrent readers.
 */
#ifndef SP_IDMAP_H
#define SP_IDMAP_H

#include <stddef.h>

#include "base/err.h"
#include "base/strmap.h"

typedef struct {
    sp_strmap map; /* value: index + 1, so that no index is NULL */
} sp_idmap;

#define SP_IDMAP_INIT {{NULL, 0, 0}}

/* Looks key up; returns 1 and sets *value when present, 0 otherwise. m may be empty. */
int sp_idmap_get(const sp_idmap *m, const char *key, size_t *value);
/* Inserts key unless present. Returns SP_OK (inserted), SP_ERR_EXISTS (present: *existing gets
 * its value when existing is not NULL; the map is unchanged) or SP_ERR_NOMEM. */
sp_err sp_idmap_put(sp_idmap *m, const char *key, size_t value, size_t *existing);
/* Frees the map. Accepts NULL. */
void sp_idmap_free(sp_idmap *m);

#endif
