/*
 * A bump allocator for the topology: the parse trees and the loaded model are made of many
 * small strings and records that all die together, so they come from a few large chunks and
 * are released with one call. Internal to topology/; not thread-safe.
 */
#ifndef SP_TOPOLOGY_ARENA_H
#define SP_TOPOLOGY_ARENA_H

#include <stddef.h>

typedef struct sp__arena_chunk sp__arena_chunk;

typedef struct sp__arena {
    sp__arena_chunk *head; /* newest chunk first */
    size_t used;           /* bytes used in head */
    size_t cap;            /* bytes available in head */
} sp__arena;

/* Zero-initialised sp__arena is ready to use. */
#define SP__ARENA_INIT                                                                             \
    { NULL, 0, 0 }

/* Returns n bytes aligned for any type, zeroed, owned by the arena; NULL when out of memory. */
void *sp__arena_alloc(sp__arena *a, size_t n);
/* Copies n bytes of s and a terminating NUL into the arena; NULL when out of memory. */
char *sp__arena_strndup(sp__arena *a, const char *s, size_t n);
/* Same for a NUL-terminated string. */
char *sp__arena_strdup(sp__arena *a, const char *s);
/* Releases every allocation; the arena is empty and reusable afterwards. Accepts NULL. */
void sp__arena_free(sp__arena *a);

#endif
