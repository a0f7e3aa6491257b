/*
 * Helpers every subcommand shares (node/cli/cli.h). Kept apart from main.c so that the
 * subcommands depend on these and main.c on the subcommands, never in a circle.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/err.h"
#include "node/app/control.h"
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

#define MAX_OPTS 24

/* A whole number >= 0, all of s. */
static int whole(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (!*s || *s == '-' || *s == '+') return 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return 0;
    *out = v;
    return 1;
}

static int store(const sp_cli_opt *o, const char *arg) {
    uint64_t v = 0;
    switch (o->kind) {
    case SP_OPT_STR:
        *(const char **)o->dst = arg;
        return 0;
    case SP_OPT_FLAG:
        *(int *)o->dst = 1;
        return 0;
    case SP_OPT_STRS:
        if (*o->count >= o->cap) {
            fprintf(stderr, "simpul: --%s is given more than %d times\n", o->name, o->cap);
            return -1;
        }
        ((const char **)o->dst)[(*o->count)++] = arg;
        return 0;
    case SP_OPT_LONG:
    case SP_OPT_U64:
        break;
    }
    if (!whole(arg, &v) || (o->kind == SP_OPT_LONG && v > (uint64_t)LONG_MAX)) {
        fprintf(stderr, "simpul: --%s must be a whole number, not '%s'\n", o->name, arg);
        return -1;
    }
    if (o->kind == SP_OPT_LONG)
        *(long *)o->dst = (long)v;
    else
        *(uint64_t *)o->dst = v;
    return 0;
}

int sp_cli_parse(int argc, char **argv, const sp_cli_opt *opts) {
    struct option lo[MAX_OPTS + 1];
    int n = 0;
    for (; opts[n].name && n < MAX_OPTS; n++)
        lo[n] = (struct option){opts[n].name,
                                opts[n].kind == SP_OPT_FLAG ? no_argument : required_argument, NULL,
                                256 + n};
    lo[n] = (struct option){0};
    int c;
    optind = 1;
    opterr = 1; /* getopt names an unknown option or a missing value itself */
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1)
        if (c < 256 || c >= 256 + n || store(&opts[c - 256], optarg) != 0) return -1;
    if (optind != argc) {
        fprintf(stderr, "simpul: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

int sp_cli_control(const char *data, json_t *req, json_t **reply, int *absent) {
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL, *out = NULL;
    json_decref(req);
    sp_err rv = text ? sp_control_call(data, text, &out) : SP_ERR_NOMEM;
    free(text);
    if (rv == SP_ERR_NET && absent) {
        *absent = 1;
        return SP_EXIT_ERROR;
    }
    if (rv != SP_OK) {
        fprintf(stderr, "simpul: no node is running on %s\n", data);
        return SP_EXIT_ERROR;
    }
    *reply = json_loads(out, 0, NULL);
    free(out);
    const char *err = *reply ? json_string_value(json_object_get(*reply, "error")) : "bad reply";
    if (err) {
        fprintf(stderr, "simpul: %s\n", err);
        json_decref(*reply);
        return SP_EXIT_ERROR;
    }
    return SP_EXIT_OK;
}
