/*
 * Helpers shared by the unit and integration tests: temporary directories that clean up after
 * themselves, and a seeded random generator whose seed is printed for replay.
 */
#ifndef SP_TESTUTIL_H
#define SP_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* mkdtemp under $TMPDIR (or /tmp); the caller passes a buffer of at least 256 bytes. */
static inline char *sp_test_tmpdir(char *buf, const char *tag) {
    const char *base = getenv("TMPDIR");
    snprintf(buf, 256, "%s/simpul-%s-XXXXXX", base ? base : "/tmp", tag);
    return mkdtemp(buf);
}

/* rm -rf path (test data only). */
static inline void sp_test_rmrf(const char *path) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", path);
}

/* Seed from $SP_TEST_SEED or the clock, printed so a failing run can be replayed. */
static inline uint64_t sp_test_seed(const char *test) {
    const char *s = getenv("SP_TEST_SEED");
    uint64_t seed = s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)getpid();
    fprintf(stderr, "%s: seed %llu (replay with SP_TEST_SEED=%llu)\n", test,
            (unsigned long long)seed, (unsigned long long)seed);
    return seed ? seed : 1;
}

static inline uint64_t sp_test_rand(uint64_t *state) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

#endif
