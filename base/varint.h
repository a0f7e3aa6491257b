/*
 * Unsigned LEB128 varints (protobuf's), for the compact records Simpul writes itself: the
 * replicator's pre-encoded batches, statistics rows and the fold's event index.
 */
#ifndef SP_VARINT_H
#define SP_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define SP_VARINT_MAX 10 /* bytes of the longest (a uint64_t) */

/* Write v at p (room for SP_VARINT_MAX bytes); returns the bytes written. */
static inline size_t sp_varint_put(uint8_t *p, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Read a varint from p[*at..n) into *v and move *at past it: 1, or 0 when truncated or longer
 * than 64 bits. */
static inline int sp_varint_get(const uint8_t *p, size_t n, size_t *at, uint64_t *v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 64 && *at < n; shift += 7) {
        uint8_t b = p[(*at)++];
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 1;
        }
    }
    return 0;
}

#endif
