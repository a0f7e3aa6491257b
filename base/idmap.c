/* FNV-1a with linear probing, kept at most half full. */
#include "base/idmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static sp__strmap_slot *find_slot(const sp__strmap_slot *slots, size_t cap, const char *key) {
    size_t mask = cap - 1;
    size_t i = (size_t)hash_str(key) & mask;
    while (slots[i].key && strcmp(slots[i].key, key) != 0)
        i = (i + 1) & mask;
    return (sp__strmap_slot *)&slots[i];
}

static sp_err strmap_grow(sp__strmap *m) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    sp__strmap_slot *slots = calloc(cap, sizeof *slots);
    if (!slots) return SP_ERR_NOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key) *find_slot(slots, cap, m->slots[i].key) = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return SP_OK;
}

int sp__strmap_get(const sp__strmap *m, const char *key, size_t *value) {
    if (!m->cap) return 0;
    const sp__strmap_slot *s = find_slot(m->slots, m->cap, key);
    if (!s->key) return 0;
    *value = s->value;
    return 1;
}

sp_err sp__strmap_put(sp__strmap *m, const char *key, size_t value, size_t *existing) {
    if ((m->n + 1) * 2 > m->cap) {
        sp_err rv = strmap_grow(m);
        if (rv != SP_OK) return rv;
    }
    sp__strmap_slot *s = find_slot(m->slots, m->cap, key);
    if (s->key) {
        if (existing) *existing = s->value;
        return SP_ERR_EXISTS;
    }
    s->key = key;
    s->value = value;
    m->n++;
    return SP_OK;
}

void sp__strmap_free(sp__strmap *m) {
    if (!m) return;
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}
