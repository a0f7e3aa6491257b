/*
 * Durable files (base/file.h).
 */
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_ulong tmp_counter;

sp_err sp_file_write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return SP_ERR_IO;
        c += w;
        n -= (size_t)w;
    }
    return SP_OK;
}

sp_err sp_file_sync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return SP_ERR_IO;
    sp_err rv = fsync(fd) == 0 ? SP_OK : SP_ERR_IO;
    close(fd);
    return rv;
}

sp_err sp_file_replace(const char *path, const char *dir, const void *p, size_t n, mode_t mode) {
    char tmp[4200];
    int len = snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%lu", path, (long)getpid(),
                       (unsigned long)atomic_fetch_add(&tmp_counter, 1));
    if (len < 0 || (size_t)len >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return SP_ERR_IO;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    sp_err rv = fd >= 0 ? sp_file_write_all(fd, p, n) : SP_ERR_IO;
    if (rv == SP_OK && fsync(fd) != 0) rv = SP_ERR_IO;
    if (fd >= 0 && close(fd) != 0 && rv == SP_OK) rv = SP_ERR_IO;
    if (rv == SP_OK && rename(tmp, path) != 0) rv = SP_ERR_IO;
    if (rv == SP_OK) rv = sp_file_sync_dir(dir);
    if (rv != SP_OK) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
    }
    return rv;
}
