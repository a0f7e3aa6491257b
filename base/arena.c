/*
 * Chunks grow geometrically from 16 KiB so a small topology costs little and the national one
 * (a few MiB of parse tree) needs few mallocs. Large requests get a chunk of their own.
 */
#include "base/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_MIN_CHUNK (16u * 1024u)
#define ARENA_MAX_CHUNK (1u * 1024u * 1024u)
#define ARENA_ALIGN alignof(max_align_t)

struct sp__arena_chunk {
    sp__arena_chunk *next;
    size_t size;
    alignas(max_align_t) unsigned char data[];
};

static size_t align_up(size_t n) {
    return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

static int arena_grow(sp__arena *a, size_t need) {
    size_t size = a->head ? a->head->size * 2 : ARENA_MIN_CHUNK;
    if (size > ARENA_MAX_CHUNK) size = ARENA_MAX_CHUNK;
    if (size < need) size = need;
    sp__arena_chunk *c = malloc(sizeof *c + size);
    if (!c) return -1;
    c->size = size;
    c->next = a->head;
    a->head = c;
    a->used = 0;
    a->cap = size;
    return 0;
}

void *sp__arena_alloc(sp__arena *a, size_t n) {
    if (n > SIZE_MAX / 2) return NULL;
    n = align_up(n ? n : 1);
    if (!a->head || a->cap - a->used < n) {
        if (arena_grow(a, n) != 0) return NULL;
    }
    void *p = a->head->data + a->used;
    a->used += n;
    memset(p, 0, n);
    return p;
}

char *sp__arena_strndup(sp__arena *a, const char *s, size_t n) {
    if (n == SIZE_MAX) return NULL;
    char *p = sp__arena_alloc(a, n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *sp__arena_strdup(sp__arena *a, const char *s) {
    return sp__arena_strndup(a, s, strlen(s));
}

void sp__arena_free(sp__arena *a) {
    if (!a) return;
    sp__arena_chunk *c = a->head;
    while (c) {
        sp__arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used = a->cap = 0;
}
