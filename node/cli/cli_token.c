/*
 * simpul token create|list|revoke: officer bearer tokens of a node (node/http/tokens.h). Works on
 * the data directory whether or not the node runs; a running node picks changes up on its next
 * request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "node/app/config.h"
#include "node/cli/cli.h"
#include "node/http/tokens.h"

static const char token_usage[] =
    "usage: simpul token create (--data DIR | --config FILE) --name NAME --role ROLE\n"
    "       simpul token list   (--data DIR | --config FILE) [--json]\n"
    "       simpul token revoke (--data DIR | --config FILE) --name NAME\n"
    "\n"
    "Bearer tokens for the node's HTTP API (POST /api/v1/complaints/{id}/actions, officer\n"
    "reads). ROLE is admin-pusat, admin-koordinator, admin-penghubung or reporter. NAME\n"
    "(1-64 of A-Z a-z 0-9 . _ -) is written into every event the token authors. `create`\n"
    "prints the secret once: it is stored only as a SHA-256 hash in DATA/tokens.json (0600).\n"
    "Revoked names stay reserved.\n";

typedef struct {
    const char *data, *config, *name, *role;
    int json;
} token_opts;

static int parse(int argc, char **argv, token_opts *o) {
    memset(o, 0, sizeof *o);
    const sp_cli_opt opts[] = {
        SP_OPT("data", SP_OPT_STR, &o->data),  SP_OPT("config", SP_OPT_STR, &o->config),
        SP_OPT("name", SP_OPT_STR, &o->name),  SP_OPT("role", SP_OPT_STR, &o->role),
        SP_OPT("json", SP_OPT_FLAG, &o->json), SP_OPT_END};
    return sp_cli_parse(argc, argv, opts) == 0 && (o->data || o->config) ? 0 : -1;
}

static int usage_error(void) {
    fputs(token_usage, stderr);
    return SP_EXIT_USAGE;
}

static int create(const char *data, const token_opts *o) {
    if (!o->name || !o->role) return usage_error();
    sp_role role = sp_role_parse(o->role);
    if (role == SP_ROLE_UNKNOWN || role == SP_ROLE_SYSTEM) {
        fprintf(stderr,
                "simpul token: unknown role '%s' (admin-pusat, admin-koordinator, "
                "admin-penghubung, reporter)\n",
                o->role);
        return SP_EXIT_USAGE;
    }
    if (!sp_token_name_valid(o->name)) {
        fprintf(stderr, "simpul token: invalid name '%s' (1-64 of A-Z a-z 0-9 . _ -)\n", o->name);
        return SP_EXIT_USAGE;
    }
    char secret[SP_TOKEN_SECRET_LEN + 1];
    sp_err rv = sp_tokens_create(data, o->name, role, secret);
    if (rv == SP_ERR_EXISTS) {
        fprintf(stderr, "simpul token: a token named '%s' exists (or existed) already\n", o->name);
        return SP_EXIT_ERROR;
    }
    if (rv != SP_OK) return sp_cli_fail("token create", rv);
    printf("%s\n", secret);
    fprintf(stderr, "token '%s' (%s) created; the secret above is shown only now\n", o->name,
            o->role);
    memset(secret, 0, sizeof secret);
    return SP_EXIT_OK;
}

static void iso_time(uint64_t ms, char *buf, size_t cap) {
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void print_list(const sp_token *v, size_t n, int json) {
    json_t *arr = json ? json_array() : NULL;
    if (!json) printf("%-24s %-18s %-21s %s\n", "name", "role", "created", "state");
    for (size_t i = 0; i < n; i++) {
        char created[32], revoked[32] = "";
        iso_time(v[i].created_ms, created, sizeof created);
        if (v[i].revoked_ms) iso_time(v[i].revoked_ms, revoked, sizeof revoked);
        if (arr)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s?}", "name", v[i].name, "role",
                                                 sp_role_name(v[i].role), "created", created,
                                                 "revoked", v[i].revoked_ms ? revoked : NULL));
        else
            printf("%-24s %-18s %-21s %s%s\n", v[i].name, sp_role_name(v[i].role), created,
                   v[i].revoked_ms ? "revoked " : "active", revoked);
    }
    if (arr) {
        json_dumpf(arr, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(arr);
    }
}

static int list(const char *data, const token_opts *o) {
    sp_token *v;
    size_t n;
    sp_err rv = sp_tokens_list(data, &v, &n);
    if (rv != SP_OK) return sp_cli_fail("token list", rv);
    print_list(v, n, o->json);
    free(v);
    return SP_EXIT_OK;
}

static int revoke(const char *data, const token_opts *o) {
    if (!o->name) return usage_error();
    sp_err rv = sp_tokens_revoke(data, o->name);
    if (rv == SP_ERR_NOT_FOUND || rv == SP_ERR_EXISTS) {
        fprintf(stderr, "simpul token: %s '%s'\n",
                rv == SP_ERR_NOT_FOUND ? "no token named" : "already revoked:", o->name);
        return SP_EXIT_ERROR;
    }
    if (rv != SP_OK) return sp_cli_fail("token revoke", rv);
    fprintf(stderr, "token '%s' revoked\n", o->name);
    return SP_EXIT_OK;
}

int sp_cli_token(int argc, char **argv) {
    if (argc < 2 || sp_cli_wants_help(argc, argv)) {
        fputs(token_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? SP_EXIT_USAGE : SP_EXIT_OK;
    }
    token_opts o;
    if (parse(argc - 1, argv + 1, &o) != 0) return usage_error();
    sp_node_config *cfg = NULL;
    const char *data = o.data;
    if (!data) {
        sp_diag_list diags;
        sp_diag_list_init(&diags);
        sp_err rv = sp_node_config_load(&cfg, o.config, &diags);
        sp_diag_list_print(&diags, stderr, 20);
        sp_diag_list_clear(&diags);
        if (rv != SP_OK) return sp_cli_fail(o.config, rv);
        data = cfg->data;
    }
    int rc;
    if (strcmp(argv[1], "create") == 0)
        rc = create(data, &o);
    else if (strcmp(argv[1], "list") == 0)
        rc = list(data, &o);
    else if (strcmp(argv[1], "revoke") == 0)
        rc = revoke(data, &o);
    else
        rc = usage_error();
    sp_node_config_free(cfg);
    return rc;
}
