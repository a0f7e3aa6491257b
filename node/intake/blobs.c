#include "node/intake/blobs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "base/log.h"

#define DIR_CAP 4200
#define PATH_CAP 4300

/* DATA/blobs/ab/abcdef... ; dir receives DATA/blobs/ab. */
static void blob_paths(const char *data_dir, const uint8_t sha[SP_HASH_LEN], char *dir,
                       char *path) {
    char hex[2 * SP_HASH_LEN + 1];
    sp_hex(sha, SP_HASH_LEN, hex);
    snprintf(dir, DIR_CAP, "%s/blobs/%.2s", data_dir, hex);
    snprintf(path, PATH_CAP, "%s/%s", dir, hex);
}

static sp_err make_dirs(const char *data_dir, const char *dir) {
    char top[DIR_CAP];
    snprintf(top, sizeof top, "%s/blobs", data_dir);
    if (mkdir(top, 0700) != 0 && errno != EEXIST) return SP_ERR_IO;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) return SP_ERR_IO;
    return SP_OK;
}

sp_err sp_blob_put(const char *data_dir, const uint8_t *p, size_t n, uint8_t sha[SP_HASH_LEN]) {
    char dir[DIR_CAP], path[PATH_CAP];
    sp_sha256(p, n, NULL, 0, sha);
    blob_paths(data_dir, sha, dir, path);
    if (access(path, F_OK) == 0) return SP_OK; /* content-addressed: already there */
    sp_err rv = make_dirs(data_dir, dir);
    if (rv == SP_OK) rv = sp_file_replace(path, dir, p, n, 0600);
    if (rv != SP_OK) sp_log_error("blob.put", "file=%s error=\"%s\"", path, strerror(errno));
    return rv;
}

sp_err sp_blob_get(const char *data_dir, const uint8_t sha[SP_HASH_LEN], size_t max, uint8_t **out,
                   size_t *n) {
    char dir[DIR_CAP], path[PATH_CAP];
    blob_paths(data_dir, sha, dir, path);
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? SP_ERR_NOT_FOUND : SP_ERR_IO;
    struct stat st;
    sp_err rv = fstat(fileno(f), &st) == 0 ? SP_OK : SP_ERR_IO;
    if (rv == SP_OK && (size_t)st.st_size > max) rv = SP_ERR_TOO_BIG;
    size_t size = rv == SP_OK ? (size_t)st.st_size : 0;
    uint8_t *buf = rv == SP_OK ? malloc(size ? size : 1) : NULL;
    if (rv == SP_OK && !buf) rv = SP_ERR_NOMEM;
    if (rv == SP_OK && fread(buf, 1, size, f) != size) rv = SP_ERR_IO;
    fclose(f);
    uint8_t check[SP_HASH_LEN];
    if (rv == SP_OK) {
        sp_sha256(buf, size, NULL, 0, check);
        if (memcmp(check, sha, SP_HASH_LEN) != 0) rv = SP_ERR_CORRUPT;
    }
    if (rv != SP_OK) {
        free(buf);
        return rv;
    }
    *out = buf;
    *n = size;
    return SP_OK;
}
