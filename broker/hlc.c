#include "broker/hlc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* SIMPUL_CLOCK_OFFSET_MS shifts this process's clock: working-day deadlines cannot be waited
 * out in a test, so tests run a node whose clock is days ahead, as a node with a wrong clock
 * would be. Read once. */
static int64_t clock_offset_ms(void) {
    static _Atomic int64_t offset = INT64_MIN;
    int64_t v = atomic_load(&offset);
    if (v == INT64_MIN) {
        const char *e = getenv("SIMPUL_CLOCK_OFFSET_MS");
        v = e ? strtoll(e, NULL, 10) : 0;
        atomic_store(&offset, v);
    }
    return v;
}

uint64_t sp_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 + (uint64_t)clock_offset_ms();
}

uint64_t sp_hlc_now(sp_hlc *c, uint64_t now_ms) {
    uint64_t candidate = sp_hlc_make(now_ms, 0);
    c->last = candidate > c->last ? candidate : c->last + 1;
    return c->last;
}

int sp_hlc_observe(sp_hlc *c, uint64_t stamp, uint64_t now_ms) {
    if (sp_hlc_ms(stamp) > now_ms + SP_HLC_MAX_DRIFT_MS) return -1;
    if (stamp > c->last) c->last = stamp;
    return 0;
}
