/*
 * The `simpul` command line: one binary, one function per subcommand family. Each returns the
 * process exit code:
 *   0 success, 1 operational error (I/O, storage, bad key, invalid input file),
 *   2 usage error, 3 verification found problems (log verify).
 */
#ifndef SP_CLI_H
#define SP_CLI_H

#include <stdint.h>

#include <jansson.h>

enum { SP_EXIT_OK = 0, SP_EXIT_ERROR = 1, SP_EXIT_USAGE = 2, SP_EXIT_PROBLEMS = 3 };

int sp_cli_backup(int argc, char **argv);
int sp_cli_keygen(int argc, char **argv);
int sp_cli_keys(int argc, char **argv);
int sp_cli_log(int argc, char **argv);
int sp_cli_node(int argc, char **argv);
int sp_cli_rebuild(int argc, char **argv);
int sp_cli_restore(int argc, char **argv);
int sp_cli_status(int argc, char **argv);
int sp_cli_token(int argc, char **argv);
int sp_cli_tail(int argc, char **argv);

/* Print "simpul: <what>: <sp_strerror(e)>" to stderr and return SP_EXIT_ERROR. */
int sp_cli_fail(const char *what, int e);
/* Send req (consumed) to the node running on data over its control socket; *reply is its
 * answer (caller frees) when SP_EXIT_OK. Failures are said on stderr, except that with absent
 * not NULL, "no node runs there" only sets *absent = 1. Returns an exit code. */
int sp_cli_control(const char *data, json_t *req, json_t **reply, int *absent);
/* True if argv has -h or --help. */
int sp_cli_wants_help(int argc, char **argv);

/* A subcommand's options as a table: `--name VALUE` (or `--name` for a flag) stored in *dst. */
typedef enum {
    SP_OPT_STR,  /* const char ** */
    SP_OPT_LONG, /* long *: a whole number >= 0 */
    SP_OPT_U64,  /* uint64_t *: a whole number >= 0 */
    SP_OPT_FLAG, /* int *: set to 1 */
    SP_OPT_STRS, /* const char **[cap], *count of them: the option may repeat */
} sp_cli_opt_kind;
typedef struct {
    const char *name; /* NULL ends the table */
    sp_cli_opt_kind kind;
    void *dst;
    int *count; /* SP_OPT_STRS */
    int cap;    /* SP_OPT_STRS */
} sp_cli_opt;
#define SP_OPT(name, kind, dst)                                                                    \
    { (name), (kind), (dst), NULL, 0 }
#define SP_OPT_END                                                                                 \
    { NULL, SP_OPT_STR, NULL, NULL, 0 }
/* Parse argv[1..argc) (argv[0] names the command) against opts: every argument must be one of
 * them, numbers must be whole numbers. Returns 0, or -1 after saying what was wrong on stderr
 * (the caller then prints its usage). Defaults are whatever *dst held before. */
int sp_cli_parse(int argc, char **argv, const sp_cli_opt *opts);

#endif
