#include "node/http/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PROBE 8 /* slots looked at for a key; the oldest of them is evicted when all are taken */

/* Tokens are counted in thousandths of a request, so that refill needs no floating point. */
typedef struct {
    uint64_t hash; /* 0: free */
    uint64_t milli_tokens, last_ms;
    char key[SP_RATELIMIT_KEY_MAX];
} bucket;

struct sp_ratelimit {
    pthread_mutex_t lock;
    uint64_t per_second, burst_milli;
    size_t mask;
    bucket *slots;
};

sp_err sp_ratelimit_new(sp_ratelimit **out, uint32_t per_second, uint32_t burst, size_t clients) {
    size_t cap = PROBE;
    while (cap < clients) cap *= 2;
    sp_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl || !(rl->slots = calloc(cap, sizeof *rl->slots))) {
        free(rl);
        return SP_ERR_NOMEM;
    }
    pthread_mutex_init(&rl->lock, NULL);
    rl->per_second = per_second;
    rl->burst_milli = (uint64_t)(burst ? burst : 1) * 1000;
    rl->mask = cap - 1;
    *out = rl;
    return SP_OK;
}

void sp_ratelimit_free(sp_ratelimit *rl) {
    if (!rl) return;
    pthread_mutex_destroy(&rl->lock);
    free(rl->slots);
    free(rl);
}

static uint64_t fnv1a(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; s[i] && i < SP_RATELIMIT_KEY_MAX - 1; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h ? h : 1;
}

/* The bucket of key: its own, a free slot, or the slot of the client seen longest ago. */
static bucket *find(sp_ratelimit *rl, const char *key, uint64_t now_ms) {
    uint64_t h = fnv1a(key);
    bucket *victim = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        bucket *b = &rl->slots[(h + i) & rl->mask];
        if (b->hash == h && strncmp(b->key, key, SP_RATELIMIT_KEY_MAX - 1) == 0) return b;
        if (!b->hash) {
            victim = b;
            break;
        }
        if (!victim || b->last_ms < victim->last_ms) victim = b;
    }
    victim->hash = h;
    strncpy(victim->key, key, SP_RATELIMIT_KEY_MAX - 1);
    victim->key[SP_RATELIMIT_KEY_MAX - 1] = '\0';
    victim->milli_tokens = rl->burst_milli; /* a new client starts with a full bucket */
    victim->last_ms = now_ms;
    return victim;
}

uint64_t sp_ratelimit_take(sp_ratelimit *rl, const char *key, uint64_t now_ms) {
    if (!rl->per_second) return 0;
    pthread_mutex_lock(&rl->lock);
    bucket *b = find(rl, key, now_ms);
    if (now_ms > b->last_ms) { /* per_second thousandths of a request per ms */
        uint64_t elapsed = now_ms - b->last_ms, full = rl->burst_milli / rl->per_second + 1;
        uint64_t refill = (elapsed < full ? elapsed : full) * rl->per_second; /* no overflow */
        b->milli_tokens = b->milli_tokens + refill > rl->burst_milli ? rl->burst_milli : b->milli_tokens + refill;
        b->last_ms = now_ms;
    }
    uint64_t wait = 0;
    if (b->milli_tokens >= 1000)
        b->milli_tokens -= 1000;
    else
        wait = (1000 - b->milli_tokens + rl->per_second - 1) / rl->per_second;
    pthread_mutex_unlock(&rl->lock);
    return wait;
}
