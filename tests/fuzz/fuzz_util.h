/*
 * What the fuzz targets share: a topology loaded once from YAML text, and a scratch folder
 * under /dev/shm (fsync costs nothing there) removed when the process exits.
 */
#ifndef SP_FUZZ_UTIL_H
#define SP_FUZZ_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "topology/topology.h"

/* Four nodes of Jawa Timur and a routing rule: enough for intake checks (regions, categories). */
#define SP_FUZZ_INTAKE_TOPOLOGY                                                                   \
    "nodes:\n"                                                                                    \
    "  - {id: national, kind: national, name: N, address: tcp://h:1}\n"                           \
    "  - {id: prov-35, kind: province, code: \"35\", name: J, parent: national, address: "        \
    "tcp://h:2}\n"                                                                                \
    "  - {id: kota-3577, kind: kota, code: \"35.77\", name: M, parent: prov-35, address: "        \
    "tcp://h:3}\n"                                                                                \
    "  - {id: opd-3577-pupr, kind: opd, name: P, parent: kota-3577, address: tcp://h:4}\n"        \
    "routes:\n"                                                                                   \
    "  - {category: infrastruktur/pju, region: \"35.77\", agency: opd-3577-pupr}\n"

/* The topology of yaml, loaded on the first call (NULL if it does not load). */
static inline sp_topology *sp_fuzz_topology(const char *yaml) {
    static sp_topology *t;
    if (!t) sp_topology_load_buffer(&t, "fuzz.yaml", yaml, strlen(yaml), NULL);
    return t;
}

static char sp_fuzz_scratch_dir[256];

/* rm -rf path: the scratch folder holds plain files and folders only. */
static inline void sp_fuzz_rmrf(const char *path) {
    DIR *d = opendir(path);
    struct dirent *e;
    char sub[1024];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            snprintf(sub, sizeof sub, "%.500s/%.255s", path, e->d_name) < (int)sizeof sub)
            sp_fuzz_rmrf(sub);
    if (d) closedir(d);
    remove(path);
}

/* Only the folder goes at exit: RocksDB's static objects may already be destroyed by then, so
 * stores stay open (and reachable, so no leak is reported) until the process ends. */
static inline void sp_fuzz_scratch_remove(void) {
    if (sp_fuzz_scratch_dir[0]) sp_fuzz_rmrf(sp_fuzz_scratch_dir);
}

/* A fresh folder simpul-fuzz-<tag>-XXXXXX under /dev/shm (else /tmp), removed at exit; NULL on
 * failure. One per process. */
static inline const char *sp_fuzz_scratch(const char *tag) {
    struct stat sb;
    const char *base = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp";
    snprintf(sp_fuzz_scratch_dir, sizeof sp_fuzz_scratch_dir, "%s/simpul-fuzz-%s-XXXXXX", base, tag);
    if (!mkdtemp(sp_fuzz_scratch_dir)) return NULL;
    atexit(sp_fuzz_scratch_remove);
    return sp_fuzz_scratch_dir;
}

#endif
