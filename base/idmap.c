/*
 * String to index, over the string map (base/idmap.h).
 */
#include "base/idmap.h"

#include <stdint.h>

int sp_idmap_get(const sp_idmap *m, const char *key, size_t *value) {
    void *v = sp_strmap_get(&m->map, key);
    if (!v) return 0;
    *value = (size_t)((uintptr_t)v - 1);
    return 1;
}

sp_err sp_idmap_put(sp_idmap *m, const char *key, size_t value, size_t *existing) {
    size_t found;
    if (sp_idmap_get(m, key, &found)) {
        if (existing) *existing = found;
        return SP_ERR_EXISTS;
    }
    return sp_strmap_put(&m->map, key, (void *)((uintptr_t)value + 1), NULL);
}

void sp_idmap_free(sp_idmap *m) {
    if (m) sp_strmap_free(&m->map, NULL);
}
