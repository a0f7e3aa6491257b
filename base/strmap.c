#include "base/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

static sp_strmap_slot *find(const sp_strmap *m, const char *key) {
    if (m->cap == 0) return NULL;
    size_t i = (size_t)hash_str(key) & (m->cap - 1);
    while (m->slots[i].key) {
        if (strcmp(m->slots[i].key, key) == 0) return &m->slots[i];
        i = (i + 1) & (m->cap - 1);
    }
    return &m->slots[i];
}

void *sp_strmap_get(const sp_strmap *m, const char *key) {
    sp_strmap_slot *s = find(m, key);
    return s && s->key ? s->value : NULL;
}

static sp_err grow(sp_strmap *m) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    sp_strmap_slot *slots = calloc(cap, sizeof *slots);
    if (!slots) return SP_ERR_NOMEM;
    sp_strmap bigger = {slots, cap, m->len};
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key) *find(&bigger, m->slots[i].key) = m->slots[i];
    free(m->slots);
    *m = bigger;
    return SP_OK;
}

sp_err sp_strmap_put(sp_strmap *m, const char *key, void *value, void **old) {
    if (old) *old = NULL;
    if ((m->len + 1) * 4 > m->cap * 3) {
        sp_err rv = grow(m);
        if (rv != SP_OK) return rv;
    }
    sp_strmap_slot *s = find(m, key);
    if (s->key) {
        if (old) *old = s->value;
        s->value = value;
        return SP_OK;
    }
    if (!(s->key = strdup(key))) return SP_ERR_NOMEM;
    s->value = value;
    m->len++;
    return SP_OK;
}

void sp_strmap_free(sp_strmap *m, void (*free_value)(void *)) {
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key) continue;
        if (free_value) free_value(m->slots[i].value);
        free(m->slots[i].key);
    }
    free(m->slots);
    memset(m, 0, sizeof *m);
}
