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
#include <time.h>
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

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

/* A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, read, close). */
static inline int sp_test_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static inline void sp_test_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}
