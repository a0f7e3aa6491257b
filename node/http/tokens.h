/*
 * Officer bearer tokens of one node, kept in DATA/tokens.json.
 *
 * A token is a name (the audit identity written into Event.actor), a role (node/lifecycle/fold.h
 * sp_role) and the SHA-256 of its secret. The secret ("spt_" + 64 hex digits) is shown once,
 * by `simpul token create`, and never stored. The file is written atomically (temporary file,
 * fsync, rename, fsync of the folder) with mode 0600, under an flock on DATA/tokens.lock so
 * that concurrent CLI runs cannot lose each other's changes. Revoked tokens stay in the file
 * (revoked_ms) so that their names are never reused: an event's actor names one token forever.
 *
 * The daemon holds an sp_tokens handle and checks bearer secrets against it; it re-reads the
 * file whenever its mtime, size or inode changes, so tokens created or revoked by the CLI take
 * effect on the next request, whether the daemon was running or not.
 */
#ifndef SP_TOKENS_H
#define SP_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "node/lifecycle/fold.h"

#define SP_TOKEN_NAME_MAX 64
#define SP_TOKEN_SECRET_LEN 68 /* "spt_" + 64 hex digits */
#define SP_TOKEN_FILE "tokens.json"

typedef struct {
    char name[SP_TOKEN_NAME_MAX + 1];
    sp_role role;
    char hash[65]; /* hex SHA-256 of the secret */
    uint64_t created_ms;
    uint64_t revoked_ms; /* 0: active */
} sp_token;

/* Whether name is a valid token name: 1-64 of [A-Za-z0-9._-]. */
int sp_token_name_valid(const char *name);

/* ---- the file (CLI side; safe whether or not a daemon runs on the directory) ---- */

/* Create token `name` with `role` in data_dir (created if missing). secret receives the clear
 * secret (NUL-terminated, SP_TOKEN_SECRET_LEN + 1 bytes), which exists nowhere else.
 * Errors: SP_ERR_INVAL (bad name or role), SP_ERR_EXISTS (name taken, revoked ones included),
 * SP_ERR_IO, SP_ERR_CORRUPT (unreadable tokens.json), SP_ERR_NOMEM. */
sp_err sp_tokens_create(const char *data_dir, const char *name, sp_role role,
                        char secret[SP_TOKEN_SECRET_LEN + 1]);
/* Revoke token `name`. SP_ERR_NOT_FOUND, SP_ERR_EXISTS (already revoked), SP_ERR_IO,
 * SP_ERR_CORRUPT. */
sp_err sp_tokens_revoke(const char *data_dir, const char *name);
/* Every token of data_dir (revoked ones too), in creation order. *out is malloc'ed (caller
 * frees); a missing file is an empty list. SP_ERR_IO, SP_ERR_CORRUPT, SP_ERR_NOMEM. */
sp_err sp_tokens_list(const char *data_dir, sp_token **out, size_t *n);

/* ---- checking secrets (daemon side) ---- */

typedef struct sp_tokens sp_tokens;

/* A checker for data_dir (the file may not exist yet). The caller owns *out. SP_ERR_NOMEM. */
sp_err sp_tokens_open(sp_tokens **out, const char *data_dir);
void sp_tokens_close(sp_tokens *t); /* accepts NULL */
/* Find the active token whose secret is `secret` (the bearer value), re-reading the file first
 * if it changed. SP_OK with *out filled; SP_ERR_AUTH when unknown, malformed or revoked;
 * SP_ERR_CORRUPT when the file cannot be read (then every secret is refused, and logged).
 * Thread-safe. */
sp_err sp_tokens_check(sp_tokens *t, const char *secret, sp_token *out);

#endif
