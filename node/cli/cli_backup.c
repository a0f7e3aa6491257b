/*
 * simpul backup and simpul restore (node/app/backup.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/app/backup.h"
#include "node/cli/cli.h"
#include "node/lifecycle/complaints.h"

static const char backup_usage[] =
    "usage: simpul backup --data DIR BACKUP_DIR\n"
    "\n"
    "Copy the node's data directory DIR into BACKUP_DIR (which must not exist), consistently:\n"
    "a RocksDB checkpoint of the store, taken by the running node when one runs on DIR, plus\n"
    "blobs/ and tokens.json. The backup is a data directory: `simpul log verify --data\n"
    "BACKUP_DIR` checks it, `simpul restore` puts it back. Keys are not in it.\n";

static const char restore_usage[] =
    "usage: simpul restore --data DIR BACKUP_DIR\n"
    "\n"
    "Copy the backup BACKUP_DIR into the data directory DIR, which must not exist or be empty\n"
    "(stop the node first), then check that the store opens. Start the node on DIR afterwards:\n"
    "its peers send it whatever was filed since the backup.\n";

/* The one positional argument (the last one, not an option's value) out of argv. */
static const char *take_positional(int *argc, char **argv) {
    if (*argc < 2 || strncmp(argv[*argc - 1], "--", 2) == 0) return NULL;
    if (*argc >= 3 && strncmp(argv[*argc - 2], "--", 2) == 0) return NULL; /* an option's value */
    return argv[--*argc];
}

static int parse(int argc, char **argv, const char **data, const char **dir) {
    *data = NULL;
    *dir = take_positional(&argc, argv);
    const sp_cli_opt opts[] = {SP_OPT("data", SP_OPT_STR, data), SP_OPT_END};
    return sp_cli_parse(argc, argv, opts) == 0 && *data && *dir ? 0 : -1;
}

static void print_done(const char *what, const char *dir, uint64_t files, uint64_t bytes) {
    printf("%s %s: store checkpoint + %llu files (%llu bytes)\n", what, dir,
           (unsigned long long)files, (unsigned long long)bytes);
}

/* Ask the node running on data for the backup. 0 done, 1 failed (said), -1 no node runs. */
static int backup_by_node(const char *data, const char *dir) {
    json_t *reply;
    int absent = 0;
    int rc = sp_cli_control(data, json_pack("{s:s, s:s}", "cmd", "backup", "dir", dir), &reply,
                            &absent);
    if (absent) return -1;
    if (rc != SP_EXIT_OK) return 1;
    print_done("backup", dir, (uint64_t)json_integer_value(json_object_get(reply, "files")),
               (uint64_t)json_integer_value(json_object_get(reply, "bytes")));
    json_decref(reply);
    return 0;
}

static int backup_offline(const char *data, const char *dir) {
    sp_store *st;
    sp_err rv = sp_store_open(&st, data, SP_NODE_CFS);
    if (rv != SP_OK) return sp_cli_fail(data, rv);
    sp_backup_stats s;
    rv = sp_backup_create(st, data, dir, &s);
    sp_store_close(st);
    if (rv == SP_ERR_EXISTS) {
        fprintf(stderr, "simpul backup: %s exists: give a new folder\n", dir);
        return SP_EXIT_ERROR;
    }
    if (rv != SP_OK) return sp_cli_fail("backup", rv);
    print_done("backup", dir, s.files, s.bytes);
    return SP_EXIT_OK;
}

int sp_cli_backup(int argc, char **argv) {
    const char *data, *dir;
    if (sp_cli_wants_help(argc, argv)) return fputs(backup_usage, stdout), SP_EXIT_OK;
    if (parse(argc, argv, &data, &dir) != 0) return fputs(backup_usage, stderr), SP_EXIT_USAGE;
    int rc = backup_by_node(data, dir);
    if (rc >= 0) return rc ? SP_EXIT_ERROR : SP_EXIT_OK;
    return backup_offline(data, dir);
}

int sp_cli_restore(int argc, char **argv) {
    const char *data, *dir;
    if (sp_cli_wants_help(argc, argv)) return fputs(restore_usage, stdout), SP_EXIT_OK;
    if (parse(argc, argv, &data, &dir) != 0) return fputs(restore_usage, stderr), SP_EXIT_USAGE;
    sp_backup_stats s;
    sp_err rv = sp_backup_restore(dir, data, &s);
    if (rv == SP_ERR_NOT_FOUND) {
        fprintf(stderr, "simpul restore: %s is not a backup (no RocksDB CURRENT file)\n", dir);
        return SP_EXIT_ERROR;
    }
    if (rv == SP_ERR_EXISTS) {
        fprintf(stderr, "simpul restore: %s is not empty: restore into a new or empty folder\n", data);
        return SP_EXIT_ERROR;
    }
    if (rv != SP_OK) return sp_cli_fail("restore", rv);
    sp_store *st;
    if ((rv = sp_store_open(&st, data, SP_NODE_CFS)) != SP_OK) return sp_cli_fail(data, rv);
    sp_store_close(st);
    print_done("restored", data, s.files, s.bytes);
    return SP_EXIT_OK;
}
