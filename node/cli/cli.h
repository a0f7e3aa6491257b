/*
 * The `simpul` command line: one binary, one function per subcommand family. Each returns the
 * process exit code:
 *   0 success, 1 operational error (I/O, storage, bad key, invalid input file),
 *   2 usage error, 3 verification found problems (log verify).
 */
#ifndef SP_CLI_H
#define SP_CLI_H

enum { SP_EXIT_OK = 0, SP_EXIT_ERROR = 1, SP_EXIT_USAGE = 2, SP_EXIT_PROBLEMS = 3 };

int sp_cli_keygen(int argc, char **argv);
int sp_cli_keys(int argc, char **argv);
int sp_cli_log(int argc, char **argv);
int sp_cli_node(int argc, char **argv);
int sp_cli_rebuild(int argc, char **argv);
int sp_cli_status(int argc, char **argv);
int sp_cli_token(int argc, char **argv);
int sp_cli_tail(int argc, char **argv);

/* Print "simpul: <what>: <sp_strerror(e)>" to stderr and return SP_EXIT_ERROR. */
int sp_cli_fail(const char *what, int e);
/* True if argv has -h or --help. */
int sp_cli_wants_help(int argc, char **argv);

#endif
