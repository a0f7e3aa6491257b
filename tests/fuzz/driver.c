/*
 * A small stand-in for libFuzzer so every fuzz target also runs as a CTest smoke test with gcc:
 * it feeds each corpus file to LLVMFuzzerTestOneInput, then random mutations of them (bit
 * flips, truncations, splices, random bytes) for a bounded number of iterations.
 *
 *   fuzz_x [-n ITERATIONS] [-s SEED] CORPUS_DIR_OR_FILE...
 *
 * The seed is printed so a failure can be replayed. Built with -DSP_LIBFUZZER=ON the targets
 * link clang's libFuzzer instead and this file is not used.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUTS 4096
#define MAX_INPUT_SIZE (1 << 20)

static uint8_t *inputs[MAX_INPUTS];
static size_t sizes[MAX_INPUTS];
static size_t n_inputs;

static void load_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f || n_inputs == MAX_INPUTS) {
        if (f) fclose(f);
        return;
    }
    uint8_t *buf = malloc(MAX_INPUT_SIZE);
    size_t n = fread(buf, 1, MAX_INPUT_SIZE, f);
    fclose(f);
    inputs[n_inputs] = buf;
    sizes[n_inputs++] = n;
}

static void load(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return;
    if (!S_ISDIR(st.st_mode)) {
        load_file(path);
        return;
    }
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        load(p);
    }
    if (d) closedir(d);
}

static uint64_t rng_state;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t mutate(uint8_t *buf, size_t n, size_t cap) {
    int rounds = 1 + (int)(rnd() % 4);
    for (int r = 0; r < rounds; r++) {
        switch (rnd() % 6) {
        case 0: /* flip a bit */
            if (n) buf[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
            break;
        case 1: /* random byte */
            if (n) buf[rnd() % n] = (uint8_t)rnd();
            break;
        case 2: /* truncate */
            if (n) n = rnd() % n;
            break;
        case 3: /* splice in part of another input */
            if (n_inputs) {
                size_t j = rnd() % n_inputs;
                size_t off = sizes[j] ? rnd() % sizes[j] : 0;
                size_t len = sizes[j] - off;
                size_t at = n ? rnd() % n : 0;
                if (at + len > cap) len = cap - at;
                memcpy(buf + at, inputs[j] + off, len);
                if (at + len > n) n = at + len;
            }
            break;
        case 4: /* interesting values */
            if (n) buf[rnd() % n] = (uint8_t[]){0, 0xff, 0x7f, 0x80, '"', ':', '\n'}[rnd() % 7];
            break;
        default: /* append random bytes */
            for (int k = 0; k < 8 && n < cap; k++) buf[n++] = (uint8_t)rnd();
        }
    }
    return n;
}

int main(int argc, char **argv) {
    long iterations = 20000;
    uint64_t seed = (uint64_t)time(NULL);
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "-n") == 0) iterations = atol(argv[i + 1]);
        if (strcmp(argv[i], "-s") == 0) seed = strtoull(argv[i + 1], NULL, 10);
    }
    if (getenv("SP_FUZZ_SEED")) seed = strtoull(getenv("SP_FUZZ_SEED"), NULL, 10);
    for (; i < argc; i++) load(argv[i]);
    printf("fuzz smoke: %zu corpus inputs, %ld mutations, seed %llu\n", n_inputs, iterations,
           (unsigned long long)seed);
    rng_state = seed ? seed : 1;
    for (size_t k = 0; k < n_inputs; k++) LLVMFuzzerTestOneInput(inputs[k], sizes[k]);
    uint8_t *buf = malloc(MAX_INPUT_SIZE);
    for (long it = 0; it < iterations; it++) {
        size_t n = 0;
        if (n_inputs) {
            size_t j = rnd() % n_inputs;
            n = sizes[j];
            memcpy(buf, inputs[j], n);
        }
        n = mutate(buf, n, 65536 < MAX_INPUT_SIZE ? 65536 : MAX_INPUT_SIZE);
        LLVMFuzzerTestOneInput(buf, n);
    }
    free(buf);
    for (size_t k = 0; k < n_inputs; k++) free(inputs[k]);
    printf("fuzz smoke: ok\n");
    return 0;
}
