/*
 * Hybrid logical clock: 48 bits of Unix milliseconds, 16 bits of counter. Stamps are strictly
 * increasing on one node and never behind any stamp the node has received, so ordering events
 * by (hlc, origin, seq) respects causality across the federation.
 * Not thread-safe: the owner serialises access (the feed log holds it under its lock).
 */
#ifndef SP_HLC_H
#define SP_HLC_H

#include <stdint.h>

/* A received stamp more than this far ahead of our wall clock is not adopted: one peer with a
 * broken clock must not drag the federation's clocks into the future. */
#define SP_HLC_MAX_DRIFT_MS (60 * 1000)

typedef struct {
    uint64_t last;
} sp_hlc;

static inline uint64_t sp_hlc_ms(uint64_t stamp) {
    return stamp >> 16;
}
static inline uint64_t sp_hlc_make(uint64_t ms, uint16_t counter) {
    return (ms << 16) | counter;
}

/* Current wall clock in Unix milliseconds (shifted by $SIMPUL_CLOCK_OFFSET_MS, for tests). */
uint64_t sp_wall_ms(void);
/* A new stamp for a local event, strictly greater than every stamp seen; now_ms is the wall
 * clock (pass sp_wall_ms()). */
uint64_t sp_hlc_now(sp_hlc *c, uint64_t now_ms);
/* Take a received stamp into account. Returns 0, or -1 when the stamp is too far in the
 * future and was not adopted. */
int sp_hlc_observe(sp_hlc *c, uint64_t stamp, uint64_t now_ms);

#endif
