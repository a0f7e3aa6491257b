#include "broker/hlc.h"

#include <time.h>

uint64_t sp_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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
