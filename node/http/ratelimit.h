/*
 * Per-client request rate limits of the HTTP API: one token bucket per client key (an officer
 * token's name, or the client address a trusted proxy names), in a table of fixed size, so
 * that memory stays bounded whatever the number of clients: when the table is full, the client
 * seen longest ago among a few candidates gives up its bucket (a returning client then starts
 * with a full bucket, which errs on the side of serving it).
 *
 * Thread-safety: every function may be called from any thread.
 */
#ifndef SP_RATELIMIT_H
#define SP_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define SP_RATELIMIT_KEY_MAX 80 /* longer keys are cut: a client cannot make entries larger */

typedef struct sp_ratelimit sp_ratelimit;

/* Buckets of `burst` requests refilled at `per_second` each, for up to `clients` clients at
 * once. per_second 0 disables the limit (take always allows). */
sp_err sp_ratelimit_new(sp_ratelimit **out, uint32_t per_second, uint32_t burst, size_t clients);
void sp_ratelimit_free(sp_ratelimit *rl);

/* One request of client `key` at now_ms: 0 if allowed (and counted), else how many ms until
 * the client's next request would be (at least 1). */
uint64_t sp_ratelimit_take(sp_ratelimit *rl, const char *key, uint64_t now_ms);

#endif
