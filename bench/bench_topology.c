/*
 * bench_topology: load and validate the whole national topology (39 files, 600 nodes), the
 * work a node does at start. Reports the time of the first (cold-process) load and the
 * min/median/max of --rounds further loads, the heap the loaded topology keeps (mallinfo2),
 * and the process's peak RSS (getrusage ru_maxrss), which bounds the peak of a load.
 *
 *   bench_topology [--smoke] [--rounds N] [FILE]
 *
 * FILE defaults to deploy/topology/national.yaml of the source tree. Targets (issue 4):
 * a load under 200 ms and under 50 MiB. --smoke (for CTest) does 3 rounds instead of 20.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "topology/topology.h"

#ifndef SP_SOURCE_DIR
#define SP_SOURCE_DIR "."
#endif

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double maxrss_mib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* Linux reports KiB */
}

static double heap_mib(void) {
    struct mallinfo2 mi = mallinfo2();
    return (double)(mi.uordblks + mi.hblkhd) / (1024.0 * 1024.0);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Loads file once; returns the time in ms, or exits on failure. Keeps the topology in *keep
 * when keep is not NULL. */
static double load_once(const char *file, sp_topology **keep) {
    sp_topology *t = NULL;
    sp_diag_list d;
    sp_diag_list_init(&d);
    double t0 = now_ms();
    sp_err rv = sp_topology_load(&t, file, &d);
    double ms = now_ms() - t0;
    if (rv != SP_OK) {
        sp_diag_list_print(&d, stderr, 0);
        fprintf(stderr, "bench_topology: %s: %s\n", file, sp_strerror(rv));
        exit(1);
    }
    sp_diag_list_clear(&d);
    if (keep)
        *keep = t;
    else
        sp_topology_free(t);
    return ms;
}

int main(int argc, char **argv) {
    int rounds = -1, smoke = 0;
    const char *file = SP_SOURCE_DIR "/deploy/topology/national.yaml";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--smoke") == 0)
            smoke = 1;
        else
            file = argv[i];
    }
    if (rounds < 0) rounds = smoke ? 3 : 20;
    if (rounds < 1) rounds = 1;
    double rss0 = maxrss_mib(), heap0 = heap_mib();
    sp_topology *t = NULL;
    double first = load_once(file, &t);
    double heap_kept = heap_mib() - heap0;
    printf("file:            %s\n", file);
    printf("nodes:           %zu (provinces %zu, kabupaten %zu, kota %zu)\n", sp_topology_count(t),
           sp_topology_count_kind(t, SP_NODE_PROVINCE),
           sp_topology_count_kind(t, SP_NODE_KABUPATEN), sp_topology_count_kind(t, SP_NODE_KOTA));
    sp_topology_free(t);
    double *ms = calloc((size_t)rounds, sizeof *ms);
    if (!ms) return 1;
    for (int r = 0; r < rounds; r++)
        ms[r] = load_once(file, NULL);
    qsort(ms, (size_t)rounds, sizeof *ms, cmp_double);
    printf("first load:      %.2f ms\n", first);
    printf("load, %d rounds: min %.2f ms, median %.2f ms, max %.2f ms\n", rounds, ms[0],
           ms[rounds / 2], ms[rounds - 1]);
    printf("heap kept:       %.2f MiB (loaded topology, mallinfo2)\n", heap_kept);
    printf("peak RSS:        %.2f MiB (process; %.2f MiB before the first load)\n", maxrss_mib(),
           rss0);
    free(ms);
    return 0;
}
