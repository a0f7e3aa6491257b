/*
 * simpul log append|dump|verify: the feed log from the command line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "broker/feedlog.h"
#include "broker/hlc.h"
#include "node/app/control.h"
#include "node/app/pbjson.h"
#include "node/cli/cli.h"
#include "schemas/simpul.pb-c.h"

static const char log_usage[] =
    "usage: simpul log <append|dump|verify> [options]\n"
    "\n"
    "  append --data DIR --key KEYDIR [--id ID] [--count N] [--text TEXT]\n"
    "      author N test events (Commented) on this node's feed, durably.\n"
    "      --id is needed the first time, when DIR is a new data directory.\n"
    "  dump --data DIR [--json] [--origin ID] [--from OFFSET] [--limit N]\n"
    "      print stored envelopes in arrival order; --json prints one JSON object a line.\n"
    "  verify --data DIR [--pubkey ID=FILE.pub]...\n"
    "      re-verify every stored chain (links, signatures, heads). Exit 3 on any problem.\n";

typedef struct {
    const char *data, *keydir, *id, *text, *origin;
    long count, limit;
    uint64_t from;
    int json;
    const char *pubkeys[64];
    int npubkeys;
} log_opts;

static int parse_opts(int argc, char **argv, log_opts *o) {
    *o = (log_opts){.count = 1, .text = "test event", .from = 1};
    const sp_cli_opt opts[] = {SP_OPT("data", SP_OPT_STR, &o->data),
                               SP_OPT("key", SP_OPT_STR, &o->keydir),
                               SP_OPT("id", SP_OPT_STR, &o->id),
                               SP_OPT("count", SP_OPT_LONG, &o->count),
                               SP_OPT("text", SP_OPT_STR, &o->text),
                               SP_OPT("json", SP_OPT_FLAG, &o->json),
                               SP_OPT("origin", SP_OPT_STR, &o->origin),
                               SP_OPT("from", SP_OPT_U64, &o->from),
                               SP_OPT("limit", SP_OPT_LONG, &o->limit),
                               {"pubkey", SP_OPT_STRS, o->pubkeys, &o->npubkeys, 64},
                               SP_OPT_END};
    return sp_cli_parse(argc, argv, opts) == 0 && o->data && o->count > 0 ? 0 : -1;
}

typedef struct {
    sp_store *st;
    sp_feedlog *log;
    sp_key *key;
} log_ctx;

static void ctx_close(log_ctx *c) {
    sp_feedlog_close(c->log);
    sp_store_close(c->st);
    sp_key_free(c->key);
}

static int ctx_open(log_ctx *c, const log_opts *o) {
    memset(c, 0, sizeof *c);
    sp_err rv;
    char path[4096];
    if (o->keydir) {
        snprintf(path, sizeof path, "%s/node.key", o->keydir);
        if ((rv = sp_key_load_pem(&c->key, path, SP_KEY_ED25519)) != SP_OK)
            return sp_cli_fail(path, rv);
    }
    if ((rv = sp_store_open(&c->st, o->data, SP_NODE_CFS)) != SP_OK)
        return sp_cli_fail(o->data, rv);
    rv = sp_feedlog_open(&c->log, c->st, o->id, c->key);
    if (rv == SP_ERR_NOT_FOUND) {
        fprintf(stderr, "simpul log: %s is a new data directory: give --id\n", o->data);
        ctx_close(c);
        return SP_EXIT_USAGE;
    }
    if (rv != SP_OK) {
        ctx_close(c);
        return sp_cli_fail(o->data, rv);
    }
    return SP_EXIT_OK;
}

/* ---- append ---- */

static int cmd_append(const log_opts *o) {
    if (!o->keydir) return fputs(log_usage, stderr), SP_EXIT_USAGE;
    log_ctx c;
    int rc = ctx_open(&c, o);
    if (rc != SP_EXIT_OK) return rc;
    const char *self = sp_feedlog_self(c.log);
    uint64_t first = sp_feedlog_head(c.log, self, NULL) + 1;
    sp_err rv = SP_OK;
    for (long done = 0; rv == SP_OK && done < o->count;) {
        size_t n = (size_t)(o->count - done) < 1000 ? (size_t)(o->count - done) : 1000;
        uint8_t *bodies[1000] = {0};
        size_t lens[1000];
        for (size_t i = 0; rv == SP_OK && i < n; i++)
            rv = sp_test_event_body(self, first + (uint64_t)done + i, o->text, "simpul-cli",
                                    &bodies[i], &lens[i]);
        if (rv == SP_OK)
            rv = sp_feedlog_author(c.log, (const uint8_t *const *)bodies, lens, n, NULL);
        for (size_t i = 0; i < n; i++)
            free(bodies[i]);
        done += (long)n;
    }
    if (rv == SP_OK)
        printf("appended %ld events to %s: seq %" PRIu64 "..%" PRIu64 " (durable)\n", o->count,
               self, first, first + (uint64_t)o->count - 1);
    ctx_close(&c);
    return rv == SP_OK ? SP_EXIT_OK : sp_cli_fail("append", rv);
}

/* ---- dump ---- */

static void format_time(uint64_t hlc, char *buf, size_t cap) {
    uint64_t ms = sp_hlc_ms(hlc);
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, cap - n, ".%03dZ", (int)(ms % 1000));
}

typedef struct {
    const log_opts *o;
    long printed;
} dump_state;

static json_t *envelope_json(uint64_t offset, const sp_envelope *env) {
    char prev[2 * SP_HASH_LEN + 1], hash[2 * SP_HASH_LEN + 1], when[40];
    uint8_t h[SP_HASH_LEN];
    sp_envelope_hash(env, h);
    sp_hex(env->prev_hash, SP_HASH_LEN, prev);
    sp_hex(h, SP_HASH_LEN, hash);
    format_time(env->hlc, when, sizeof when);
    json_t *j = json_pack("{s:I, s:s, s:I, s:I, s:s, s:s, s:s, s:I}", "offset", (json_int_t)offset,
                          "origin", env->origin, "seq", (json_int_t)env->seq, "hlc",
                          (json_int_t)env->hlc, "time", when, "prev_hash", prev, "hash", hash,
                          "body_len", (json_int_t)env->body_len);
    Simpul__V1__Event *ev = simpul__v1__event__unpack(NULL, env->body_len, env->body);
    json_object_set_new(j, "event", ev ? sp_pb_to_json(&ev->base) : json_null());
    if (ev) simpul__v1__event__free_unpacked(ev, NULL);
    return j;
}

static const char *event_type(const Simpul__V1__Event *ev) {
    if (!ev || ev->body_case == SIMPUL__V1__EVENT__BODY__NOT_SET) return "-";
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(ev->base.descriptor, (unsigned)ev->body_case);
    return f ? f->name : "?";
}

static void print_human(uint64_t offset, const sp_envelope *env) {
    char when[40], hash[2 * SP_HASH_LEN + 1];
    uint8_t h[SP_HASH_LEN];
    sp_envelope_hash(env, h);
    sp_hex(h, 6, hash);
    format_time(env->hlc, when, sizeof when);
    Simpul__V1__Event *ev = simpul__v1__event__unpack(NULL, env->body_len, env->body);
    printf("%8" PRIu64 "  %-16s seq=%-6" PRIu64 " %s  %-14s %-24s %zuB hash=%s\n", offset,
           env->origin, env->seq, when, event_type(ev),
           ev && ev->complaint_id[0] ? ev->complaint_id : "-", env->body_len, hash);
    if (ev) simpul__v1__event__free_unpacked(ev, NULL);
}

static int dump_one(void *arg, uint64_t offset, const sp_envelope *env) {
    dump_state *d = arg;
    if (d->o->origin && strcmp(d->o->origin, env->origin) != 0) return 0;
    if (d->o->json) {
        json_t *j = envelope_json(offset, env);
        json_dumpf(j, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(j);
    } else {
        print_human(offset, env);
    }
    d->printed++;
    return d->o->limit > 0 && d->printed >= d->o->limit;
}

static int cmd_dump(const log_opts *o) {
    log_ctx c;
    int rc = ctx_open(&c, o);
    if (rc != SP_EXIT_OK) return rc;
    dump_state d = {o, 0};
    sp_err rv = sp_feedlog_scan_arrivals(c.log, o->from, 0, dump_one, &d);
    ctx_close(&c);
    return rv == SP_OK ? SP_EXIT_OK : sp_cli_fail("dump", rv);
}

/* ---- verify ---- */

static void report_problem(void *arg, const char *origin, uint64_t seq, sp_err why) {
    printf("problem: origin=%s seq=%" PRIu64 ": %s\n", origin, seq, sp_strerror(why));
}

static int trust_pubkey(sp_feedlog *log, const char *spec) {
    const char *eq = strchr(spec, '=');
    char origin[SP_MAX_ORIGIN + 1];
    if (!eq || eq == spec || (size_t)(eq - spec) > SP_MAX_ORIGIN) return SP_EXIT_USAGE;
    memcpy(origin, spec, (size_t)(eq - spec));
    origin[eq - spec] = '\0';
    sp_key *k = NULL;
    uint8_t raw[SP_PUBKEY_LEN];
    sp_err rv = sp_key_load_pem(&k, eq + 1, SP_KEY_ED25519);
    if (rv == SP_OK) rv = sp_key_raw_public(k, raw);
    if (rv == SP_OK) rv = sp_feedlog_add_origin_key(log, origin, raw);
    sp_key_free(k);
    if (rv == SP_ERR_EXISTS) {
        fprintf(stderr, "simpul log verify: %s is not the key %s's chain was stored with\n", eq + 1,
                origin);
        return SP_EXIT_PROBLEMS;
    }
    return rv == SP_OK ? SP_EXIT_OK : sp_cli_fail(eq + 1, rv);
}

static int cmd_verify(const log_opts *o) {
    log_ctx c;
    int rc = ctx_open(&c, o);
    for (int i = 0; rc == SP_EXIT_OK && i < o->npubkeys; i++)
        rc = trust_pubkey(c.log, o->pubkeys[i]);
    if (rc != SP_EXIT_OK) {
        if (c.st) ctx_close(&c);
        return rc;
    }
    size_t chains = 0, envelopes = 0, problems = 0;
    sp_err rv = sp_feedlog_verify_all(c.log, report_problem, NULL, &chains, &envelopes, &problems);
    ctx_close(&c);
    if (rv != SP_OK) return sp_cli_fail("verify", rv);
    printf("verified %zu chains, %zu envelopes: %s (%zu problems)\n", chains, envelopes,
           problems ? "FAILED" : "ok", problems);
    return problems ? SP_EXIT_PROBLEMS : SP_EXIT_OK;
}

int sp_cli_log(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(log_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? SP_EXIT_USAGE : SP_EXIT_OK;
    }
    const char *sub = argv[1];
    if (sp_cli_wants_help(argc, argv)) return fputs(log_usage, stdout), SP_EXIT_OK;
    log_opts o;
    if (parse_opts(argc - 1, argv + 1, &o) != 0) return fputs(log_usage, stderr), SP_EXIT_USAGE;
    if (strcmp(sub, "append") == 0) return cmd_append(&o);
    if (strcmp(sub, "dump") == 0) return cmd_dump(&o);
    if (strcmp(sub, "verify") == 0) return cmd_verify(&o);
    fprintf(stderr, "simpul log: unknown subcommand '%s'\n", sub);
    return SP_EXIT_USAGE;
}
