/*
 * Helpers every subcommand shares (node/cli/cli.h). Kept apart from main.c so that the
 * subcommands depend on these and main.c on the subcommands, never in a circle.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "node/cli/cli.h"

int sp_cli_fail(const char *what, int e) {
    fprintf(stderr, "simpul: %s: %s\n", what, sp_strerror((sp_err)e));
    return SP_EXIT_ERROR;
}

int sp_cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return 1;
    return 0;
}
