/*
 * simpul: the node daemon and its tools, in one binary.
 */
#include <stdio.h>
#include <string.h>

#include "node/cli/cli.h"
#include "topology/topology.h"

#ifndef SIMPUL_VERSION
#define SIMPUL_VERSION "0.1.0"
#endif

static const char usage[] =
    "usage: simpul <command> [options]\n"
    "\n"
    "commands:\n"
    "  backup      copy a node's data directory consistently, even while it runs\n"
    "  keygen      create a node's signing and sealing keys\n"
    "  keys        rotate a node's sealing key (keys rotate --keys DIR)\n"
    "  log         append to, dump and verify the feed log\n"
    "  node        run a node (node run --config FILE)\n"
    "  rebuild     recompute complaint state and statistics from the feeds\n"
    "  restore     put a backup back into an empty data directory\n"
    "  status      show a running node's log and peer links\n"
    "  tail        follow a node's integrator stream\n"
    "  token       create, list and revoke officer tokens for the HTTP API\n"
    "  topology    check, show and draw a federation topology\n"
    "  version     print the version\n"
    "\n"
    "Run 'simpul <command> --help' for a command's options.\n"
    "Exit codes: 0 success, 1 error, 2 usage error, 3 verification found problems.\n";

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? SP_EXIT_USAGE : SP_EXIT_OK;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("simpul %s\n", SIMPUL_VERSION);
        return SP_EXIT_OK;
    }
    if (strcmp(cmd, "backup") == 0) return sp_cli_backup(argc - 1, argv + 1);
    if (strcmp(cmd, "restore") == 0) return sp_cli_restore(argc - 1, argv + 1);
    if (strcmp(cmd, "keygen") == 0) return sp_cli_keygen(argc - 1, argv + 1);
    if (strcmp(cmd, "keys") == 0) return sp_cli_keys(argc - 1, argv + 1);
    if (strcmp(cmd, "log") == 0) return sp_cli_log(argc - 1, argv + 1);
    if (strcmp(cmd, "node") == 0) return sp_cli_node(argc - 1, argv + 1);
    if (strcmp(cmd, "rebuild") == 0) return sp_cli_rebuild(argc - 1, argv + 1);
    if (strcmp(cmd, "status") == 0) return sp_cli_status(argc - 1, argv + 1);
    if (strcmp(cmd, "tail") == 0) return sp_cli_tail(argc - 1, argv + 1);
    if (strcmp(cmd, "token") == 0) return sp_cli_token(argc - 1, argv + 1);
    if (strcmp(cmd, "topology") == 0) return sp_topology_cli_main(argc - 1, argv + 1);
    fprintf(stderr, "simpul: unknown command '%s'\n\n%s", cmd, usage);
    return SP_EXIT_USAGE;
}
