/*
 * simpul tail: follow a node's integrator stream (replay, then live; no gap, no duplicate).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "broker/envelope.h"
#include "broker/tail.h"
#include "node/app/pbjson.h"
#include "node/cli/cli.h"
#include "schemas/simpul.pb-c.h"

static const char tail_usage[] =
    "usage: simpul tail --stream URL --replay URL [--prefix P] [--from OFFSET] [--cursor FILE]\n"
    "                   [--count N] [--json] [--idle-exit MS]\n"
    "\n"
    "Print every event of the node's stream whose topic starts with P (topics are\n"
    "<province>.<regency>.<agency>.<type>.<channel>, e.g. 35.77.opd-3577-pupr.follow-up.web),\n"
    "from OFFSET on (default 1: everything), then follow new ones. Stops after N events, after\n"
    "MS without any, or on Ctrl-C / SIGTERM; the last line on stderr says the offset to resume\n"
    "from. With --cursor, FILE holds that offset: read at start (it wins over --from) and\n"
    "rewritten after every event, so a tail stopped by a signal resumes with no gap and no\n"
    "duplicate (after SIGKILL, the event printed last may come again: its offset tells).\n";

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
    stop = sig;
}

static void print_event(const sp_stream_event *ev, int as_json) {
    sp_envelope env;
    if (sp_envelope_decode(&env, ev->envelope, ev->len) != SP_OK) {
        printf("%" PRIu64 " %s <undecodable envelope>\n", ev->offset, ev->topic);
        return;
    }
    Simpul__V1__Event *e = simpul__v1__event__unpack(NULL, env.body_len, env.body);
    if (as_json) {
        json_t *j = json_pack("{s:I, s:s, s:s, s:I, s:I, s:s}", "offset", (json_int_t)ev->offset,
                              "topic", ev->topic, "origin", env.origin, "seq", (json_int_t)env.seq,
                              "hlc", (json_int_t)env.hlc, "via", ev->live ? "live" : "replay");
        json_object_set_new(j, "event", e ? sp_pb_to_json(&e->base) : json_null());
        json_dumpf(j, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(j);
    } else {
        printf("%8" PRIu64 "  %-40s %-16s seq=%-6" PRIu64 " %s\n", ev->offset, ev->topic,
               env.origin, env.seq, e && e->complaint_id[0] ? e->complaint_id : "-");
    }
    if (e) simpul__v1__event__free_unpacked(e, NULL);
    sp_envelope_clear(&env);
    fflush(stdout);
}

typedef struct {
    const char *stream, *replay, *prefix, *cursor;
    uint64_t from;
    long count, idle_ms;
    int json;
} tail_opts;

static int parse(int argc, char **argv, tail_opts *o) {
    *o = (tail_opts){.prefix = "", .from = 1};
    const sp_cli_opt opts[] = {
        SP_OPT("stream", SP_OPT_STR, &o->stream), SP_OPT("replay", SP_OPT_STR, &o->replay),
        SP_OPT("prefix", SP_OPT_STR, &o->prefix), SP_OPT("from", SP_OPT_U64, &o->from),
        SP_OPT("count", SP_OPT_LONG, &o->count),  SP_OPT("idle-exit", SP_OPT_LONG, &o->idle_ms),
        SP_OPT("json", SP_OPT_FLAG, &o->json),    SP_OPT("cursor", SP_OPT_STR, &o->cursor),
        SP_OPT_END};
    return sp_cli_parse(argc, argv, opts) == 0 && o->stream && o->replay ? 0 : -1;
}

/* The offset saved in the cursor file into *from; 0 when there is none yet, -1 when it is
 * unreadable (said on stderr). */
static int cursor_read(const char *path, uint64_t *from) {
    FILE *f = fopen(path, "r");
    if (!f) return 0; /* the first run */
    unsigned long long v = 0;
    int ok = fscanf(f, "%llu", &v) == 1 && v >= 1;
    fclose(f);
    if (!ok) {
        fprintf(stderr, "simpul tail: %s does not hold an offset\n", path);
        return -1;
    }
    *from = v;
    return 0;
}

/* Rewrite the cursor file: a temporary file renamed over it, so that a reader (or the next
 * run after a kill) sees the old offset or the new one, never a torn line. */
static int cursor_write(const char *path, uint64_t next) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    int ok = fprintf(f, "%" PRIu64 "\n", next) > 0;
    ok = fclose(f) == 0 && ok;
    return ok && rename(tmp, path) == 0 ? 0 : -1;
}

int sp_cli_tail(int argc, char **argv) {
    tail_opts o;
    if (sp_cli_wants_help(argc, argv)) return fputs(tail_usage, stdout), SP_EXIT_OK;
    if (parse(argc, argv, &o) != 0) return fputs(tail_usage, stderr), SP_EXIT_USAGE;
    if (o.cursor && cursor_read(o.cursor, &o.from) != 0) return SP_EXIT_USAGE;
    sp_tail *t;
    sp_err rv = sp_tail_open(&t, o.stream, o.replay, o.prefix, o.from);
    if (rv != SP_OK) return sp_cli_fail("tail", rv);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    long seen = 0, idle = 0;
    while (!stop && (o.count == 0 || seen < o.count)) {
        sp_stream_event ev;
        rv = sp_tail_next(t, 200, &ev);
        if (rv == SP_OK) {
            print_event(&ev, o.json);
            sp_stream_event_clear(&ev);
            if (o.cursor && cursor_write(o.cursor, sp_tail_position(t)) != 0) {
                fprintf(stderr, "simpul tail: cannot write %s\n", o.cursor);
                break;
            }
            seen++;
            idle = 0;
        } else if (rv == SP_ERR_TIMEOUT || rv == SP_ERR_NET) {
            idle += 200; /* the node may be restarting: keep trying, nothing is skipped */
            if (o.idle_ms && idle >= o.idle_ms) break;
        } else {
            break;
        }
    }
    fprintf(stderr, "resume with --from %" PRIu64 "\n", sp_tail_position(t));
    sp_tail_close(t);
    return rv == SP_OK || rv == SP_ERR_TIMEOUT || rv == SP_ERR_NET ? SP_EXIT_OK
                                                                   : sp_cli_fail("tail", rv);
}
