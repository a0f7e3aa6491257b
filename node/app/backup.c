/* Backup and restore of a data directory (see backup.h). */
#include "node/app/backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "base/log.h"

#define PATH_CAP 4096
#define RESTORED_MARK "restored-from-backup"

static sp_err copy_file(const char *src, const char *dst, mode_t mode, sp_backup_stats *st) {
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return SP_ERR_IO;
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777);
    sp_err rv = out < 0 ? SP_ERR_IO : SP_OK;
    char buf[1 << 16];
    ssize_t n;
    while (rv == SP_OK && (n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        rv = n < 0 ? SP_ERR_IO : sp_file_write_all(out, buf, (size_t)n);
        if (rv == SP_OK) st->bytes += (uint64_t)n;
    }
    if (rv == SP_OK && fsync(out) != 0) rv = SP_ERR_IO;
    int saved = errno;
    if (out >= 0) close(out);
    close(in);
    errno = saved;
    if (rv == SP_OK) st->files++;
    else sp_log_error("backup.copy", "from=%s to=%s error=\"%s\"", src, dst, strerror(errno));
    return rv;
}

/* Copy the tree src into dst (created, mode 0700): folders and regular files; sockets and
 * anything else are left out. */
static sp_err copy_tree(const char *src, const char *dst, sp_backup_stats *st) {
    if (mkdir(dst, 0700) != 0 && errno != EEXIST) return SP_ERR_IO;
    DIR *d = opendir(src);
    if (!d) return SP_ERR_IO;
    sp_err rv = SP_OK;
    struct dirent *e;
    while (rv == SP_OK && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char from[PATH_CAP], to[PATH_CAP];
        struct stat sb;
        if (snprintf(from, sizeof from, "%s/%s", src, e->d_name) >= PATH_CAP ||
            snprintf(to, sizeof to, "%s/%s", dst, e->d_name) >= PATH_CAP)
            rv = SP_ERR_TOO_BIG;
        else if (lstat(from, &sb) != 0)
            rv = SP_ERR_IO;
        else if (S_ISDIR(sb.st_mode))
            rv = copy_tree(from, to, st);
        else if (S_ISREG(sb.st_mode))
            rv = copy_file(from, to, sb.st_mode, st);
    }
    closedir(d);
    return rv == SP_OK ? sp_file_sync_dir(dst) : rv;
}

static int exists(const char *path) {
    struct stat sb;
    return lstat(path, &sb) == 0;
}

sp_err sp_backup_create(sp_store *st, const char *data_dir, const char *out_dir,
                        sp_backup_stats *stats) {
    sp_backup_stats local = {0};
    if (!stats) stats = &local;
    *stats = (sp_backup_stats){0};
    if (exists(out_dir)) return SP_ERR_EXISTS;
    sp_err rv = sp_store_checkpoint(st, out_dir);
    char from[PATH_CAP], to[PATH_CAP];
    snprintf(from, sizeof from, "%s/blobs", data_dir);
    snprintf(to, sizeof to, "%s/blobs", out_dir);
    if (rv == SP_OK && exists(from)) rv = copy_tree(from, to, stats);
    snprintf(from, sizeof from, "%s/tokens.json", data_dir);
    snprintf(to, sizeof to, "%s/tokens.json", out_dir);
    if (rv == SP_OK && exists(from)) rv = copy_file(from, to, 0600, stats);
    if (rv == SP_OK) rv = sp_file_sync_dir(out_dir);
    return rv;
}

static void mark_path(char *buf, const char *data_dir) {
    snprintf(buf, PATH_CAP, "%s/" RESTORED_MARK, data_dir);
}

/* Whether dir does not exist or holds nothing. */
static int empty_or_absent(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)))
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

sp_err sp_backup_restore(const char *backup_dir, const char *data_dir, sp_backup_stats *stats) {
    sp_backup_stats local = {0};
    if (!stats) stats = &local;
    *stats = (sp_backup_stats){0};
    char current[PATH_CAP];
    snprintf(current, sizeof current, "%s/CURRENT", backup_dir);
    if (!exists(current)) return SP_ERR_NOT_FOUND;
    if (!empty_or_absent(data_dir)) return SP_ERR_EXISTS;
    sp_err rv = copy_tree(backup_dir, data_dir, stats);
    char mark[PATH_CAP];
    mark_path(mark, data_dir);
    if (rv == SP_OK) rv = sp_file_replace(mark, data_dir, "restored\n", 9, 0600);
    return rv;
}

int sp_backup_restored(const char *data_dir) {
    char mark[PATH_CAP];
    mark_path(mark, data_dir);
    return exists(mark);
}

void sp_backup_clear_restored(const char *data_dir) {
    char mark[PATH_CAP];
    mark_path(mark, data_dir);
    if (unlink(mark) == 0) (void)sp_file_sync_dir(data_dir);
}
