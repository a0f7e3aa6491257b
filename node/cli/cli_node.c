/*
 * simpul node run|append and simpul status: running a node and talking to a running one.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/log.h"
#include "node/cli/cli.h"
#include "node/daemon.h"

static const char node_usage[] =
    "usage: simpul node run --config FILE\n"
    "       simpul node append --data DIR [--count N] [--text TEXT]\n"
    "       simpul node sla-check --data DIR\n"
    "\n"
    "  run      run the node the configuration file describes, until SIGTERM or SIGINT\n"
    "  append   ask the node running on DIR to author N test events (durably)\n"
    "  sla-check  ask the node running on DIR to write the SLA escalations and\n"
    "           auto-completions due now; it also does so every 30 s\n";

static const char status_usage[] =
    "usage: simpul status --data DIR [--json]\n"
    "\n"
    "Show the running node's log and its peer links: events sent and received, lag (events\n"
    "the peer is known to lack), last contact, rejects by reason.\n";

static int run(const char *config) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread inherits it; we wait below */
    signal(SIGPIPE, SIG_IGN);
    sp_daemon *d;
    sp_err rv = sp_daemon_start(&d, config);
    if (rv != SP_OK) {
        fprintf(stderr, "simpul node: not started: %s\n", sp_strerror(rv));
        return SP_EXIT_ERROR;
    }
    int sig;
    sigwait(&set, &sig);
    sp_log_info("daemon.stopping", "signal=%d", sig);
    sp_daemon_stop(d);
    return SP_EXIT_OK;
}

typedef struct {
    const char *config, *data, *text;
    long count;
    int json;
} node_opts;

static int parse(int argc, char **argv, node_opts *o) {
    *o = (node_opts){.count = 1, .text = "test event"};
    const sp_cli_opt opts[] = {
        SP_OPT("config", SP_OPT_STR, &o->config), SP_OPT("data", SP_OPT_STR, &o->data),
        SP_OPT("count", SP_OPT_LONG, &o->count),  SP_OPT("text", SP_OPT_STR, &o->text),
        SP_OPT("json", SP_OPT_FLAG, &o->json),    SP_OPT_END};
    return sp_cli_parse(argc, argv, opts);
}

int sp_cli_node(int argc, char **argv) {
    node_opts o;
    if (argc < 2 || sp_cli_wants_help(argc, argv)) {
        fputs(node_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? SP_EXIT_USAGE : SP_EXIT_OK;
    }
    const char *sub = argv[1];
    if (parse(argc - 1, argv + 1, &o) != 0) return fputs(node_usage, stderr), SP_EXIT_USAGE;
    if (strcmp(sub, "run") == 0 && o.config) return run(o.config);
    if (strcmp(sub, "append") == 0 && o.data) {
        json_t *reply;
        int rc = sp_cli_control(o.data,
                                json_pack("{s:s, s:I, s:s}", "cmd", "append", "count",
                                          (json_int_t)o.count, "text", o.text),
                                &reply, NULL);
        if (rc != SP_EXIT_OK) return rc;
        printf("appended %lld events: seq %lld..%lld (durable)\n",
               (long long)json_integer_value(json_object_get(reply, "appended")),
               (long long)json_integer_value(json_object_get(reply, "first")),
               (long long)json_integer_value(json_object_get(reply, "last")));
        json_decref(reply);
        return SP_EXIT_OK;
    }
    if (strcmp(sub, "sla-check") == 0 && o.data) {
        json_t *reply;
        int rc = sp_cli_control(o.data, json_pack("{s:s}", "cmd", "sla-check"), &reply, NULL);
        if (rc != SP_EXIT_OK) return rc;
        printf("authored %lld SLA events\n",
               (long long)json_integer_value(json_object_get(reply, "authored")));
        json_decref(reply);
        return SP_EXIT_OK;
    }
    fputs(node_usage, stderr);
    return SP_EXIT_USAGE;
}

static void print_status(json_t *s) {
    printf("node %s (%s): %lld events, %lld origins, %lld forks\n",
           json_string_value(json_object_get(s, "node")),
           json_string_value(json_object_get(s, "name")),
           (long long)json_integer_value(json_object_get(s, "events")),
           (long long)json_object_size(json_object_get(s, "heads")),
           (long long)json_integer_value(json_object_get(s, "forks")));
    printf("%-20s %-5s %10s %10s %8s %8s %-22s %s\n", "peer", "up", "sent", "received", "lag",
           "rejects", "last contact (ms ago)", "agreement");
    size_t i;
    json_t *p;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    json_int_t now = (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    json_array_foreach(json_object_get(s, "peers"), i, p) {
        json_int_t last = json_integer_value(json_object_get(p, "last_contact_ms")), rejects = 0;
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(p, "rejects"), k, v) rejects += json_integer_value(v);
        const char *agreement = json_string_value(json_object_get(p, "agreement"));
        char last_text[32];
        snprintf(last_text, sizeof last_text, "%s%lld", last ? "" : "never ",
                 last ? (long long)(now - last) : 0LL);
        printf("%-20s %-5s %10lld %10lld %8lld %8lld %-22s %s\n",
               json_string_value(json_object_get(p, "id")),
               json_is_true(json_object_get(p, "connected")) ? "yes" : "no",
               (long long)json_integer_value(json_object_get(p, "sent_events")),
               (long long)json_integer_value(json_object_get(p, "received_events")),
               (long long)json_integer_value(json_object_get(p, "lag")), (long long)rejects,
               last_text, agreement ? agreement : "-");
    }
}

int sp_cli_status(int argc, char **argv) {
    node_opts o;
    if (sp_cli_wants_help(argc, argv)) return fputs(status_usage, stdout), SP_EXIT_OK;
    if (parse(argc, argv, &o) != 0 || !o.data) return fputs(status_usage, stderr), SP_EXIT_USAGE;
    json_t *reply;
    int rc = sp_cli_control(o.data, json_pack("{s:s}", "cmd", "status"), &reply, NULL);
    if (rc != SP_EXIT_OK) return rc;
    if (o.json) {
        json_dumpf(reply, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        print_status(reply);
    }
    json_decref(reply);
    return SP_EXIT_OK;
}
