/*
 * simpul rebuild: recompute derived complaint state and statistics from the feeds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/hlc.h"
#include "node/app/config.h"
#include "node/cli/cli.h"
#include "node/lifecycle/calendar.h"
#include "node/lifecycle/complaints.h"
#include "topology/topology.h"

static const char rebuild_usage[] =
    "usage: simpul rebuild --data DIR --topology FILE [--calendar FILE] [--quiet]\n"
    "       simpul rebuild --config FILE [--data DIR] [--topology FILE] [--calendar FILE]\n"
    "\n"
    "  Wipe the complaints and stats column families of the data directory and recompute them\n"
    "  from the stored feeds. The result is byte-identical to what the node maintains while\n"
    "  running. The node must be stopped (the data directory is locked while it runs).\n"
    "  --topology  the federation topology (authority rules and parents depend on it)\n"
    "  --calendar  a holiday calendar loaded on top of the built-in one (the node's `calendar`)\n"
    "  --config    take data, topology and calendar (and replication.keep, which decides the\n"
    "              complaints a node folds) from a node configuration file\n"
    "  --quiet     no progress line on stderr\n";

typedef struct {
    const char *data, *topology, *calendar, *config;
    int quiet;
} rebuild_opts;

static int parse_opts(int argc, char **argv, rebuild_opts *o) {
    memset(o, 0, sizeof *o);
    const sp_cli_opt opts[] = {
        SP_OPT("data", SP_OPT_STR, &o->data),         SP_OPT("topology", SP_OPT_STR, &o->topology),
        SP_OPT("calendar", SP_OPT_STR, &o->calendar), SP_OPT("config", SP_OPT_STR, &o->config),
        SP_OPT("quiet", SP_OPT_FLAG, &o->quiet),      SP_OPT_END};
    return sp_cli_parse(argc, argv, opts);
}

typedef struct {
    int tty, quiet;
    uint64_t start_ms, phase_ms, last_ms;
    const char *phase;
} progress;

/* "rebuild: scan 524288 events, 1.9 s" on one line that updates itself on a terminal (at most
 * 5 times a second), or one line per finished phase otherwise. */
static void on_progress(void *arg, const char *phase, uint64_t done, uint64_t total) {
    progress *p = arg;
    uint64_t now = sp_wall_ms();
    if (!p->phase || strcmp(p->phase, phase) != 0) {
        if (p->tty && p->phase && !p->quiet) fputc('\n', stderr);
        p->phase = phase;
        p->phase_ms = now;
    }
    int phase_end = total && done == total;
    if (p->quiet || (!p->tty && !phase_end) || (p->tty && !phase_end && now - p->last_ms < 200))
        return;
    p->last_ms = now;
    double secs = (double)(now - p->phase_ms) / 1000.0;
    const char *what = strcmp(phase, "wipe") == 0 ? "derived records deleted" : "events";
    fprintf(stderr, "%srebuild: %-4s %" PRIu64, p->tty ? "\r" : "", phase, done);
    if (total) fprintf(stderr, "/%" PRIu64, total);
    fprintf(stderr, " %s, %.1f s%s", what, secs, p->tty ? "\033[K" : "\n");
}

/* Topology, calendar and policy: what the fold depends on. */
typedef struct {
    sp_node_config *cfg;
    sp_topology *topo;
    sp_calendar *cal;
    sp_sla_policy policy;
} inputs;

static void inputs_free(inputs *in) {
    sp_node_config_free(in->cfg);
    sp_topology_free(in->topo);
    sp_calendar_free(in->cal);
}

static int load_inputs(inputs *in, rebuild_opts *o) {
    sp_diag_list d;
    sp_diag_list_init(&d);
    sp_err rv = SP_OK;
    if (o->config && (rv = sp_node_config_load(&in->cfg, o->config, &d)) == SP_OK) {
        if (!o->data) o->data = in->cfg->data;
        if (!o->topology) o->topology = in->cfg->topology;
        if (!o->calendar) o->calendar = in->cfg->calendar;
    }
    const char *what = o->config;
    if (rv == SP_OK && !o->data) {
        fprintf(stderr, "simpul rebuild: give --data DIR (or --config FILE)\n\n%s", rebuild_usage);
        return SP_EXIT_USAGE;
    }
    if (rv == SP_OK && !o->topology) {
        fprintf(stderr, "simpul rebuild: the fold needs the federation topology: give --topology "
                        "FILE (or --config FILE)\n");
        return SP_EXIT_USAGE;
    }
    if (rv == SP_OK && (rv = sp_topology_load(&in->topo, o->topology, &d)) != SP_OK)
        what = o->topology;
    sp_sla_policy_default(&in->policy);
    if (rv == SP_OK && (rv = sp_calendar_new(&in->cal)) == SP_OK)
        rv = sp_calendar_load_builtin(in->cal, &in->policy);
    if (rv == SP_OK && o->calendar &&
        (rv = sp_calendar_load_file(in->cal, &in->policy, o->calendar, &d)) != SP_OK)
        what = o->calendar;
    for (size_t i = 0; i < d.n_errors; i++)
        fprintf(stderr, "%s\n", d.errors[i]); /* not warnings */
    sp_diag_list_clear(&d);
    return rv == SP_OK ? SP_EXIT_OK : sp_cli_fail(what ? what : "rebuild", rv);
}

/* The node the store belongs to (the id its feed log was created with), which decides the
 * complaints it folds, as the daemon does; NULL (fold all) when the topology lacks it. */
static const sp_topo_node *store_node(sp_store *st, const sp_topology *topo) {
    sp_feedlog *log;
    if (sp_feedlog_open(&log, st, NULL, NULL) != SP_OK) return NULL;
    const sp_topo_node *n = sp_topology_find(topo, sp_feedlog_self(log));
    if (!n) fprintf(stderr, "simpul rebuild: node %s is not in the topology: folding every complaint\n",
                    sp_feedlog_self(log));
    sp_feedlog_close(log);
    return n;
}

static int run(const rebuild_opts *o, inputs *in) {
    char current[4096];
    snprintf(current, sizeof current, "%s/CURRENT", o->data);
    if (access(current, F_OK) != 0) { /* opening would create an empty store */
        fprintf(stderr, "simpul rebuild: %s is not a Simpul data directory\n", o->data);
        return SP_EXIT_ERROR;
    }
    sp_store *st;
    sp_err rv = sp_store_open(&st, o->data, SP_NODE_CFS);
    if (rv == SP_ERR_LOCKED) {
        fprintf(stderr, "simpul rebuild: %s is in use by a running node: stop it first\n", o->data);
        return SP_EXIT_ERROR;
    }
    if (rv != SP_OK) return sp_cli_fail(o->data, rv);
    int keep_all = in->cfg && in->cfg->keep_all; /* as the daemon decides (node/daemon.c) */
    sp_fold_ctx ctx = {.topo = in->topo, .cal = in->cal, .policy = &in->policy,
                       .self = keep_all ? NULL : store_node(st, in->topo)};
    progress p = {.tty = isatty(2), .quiet = o->quiet, .start_ms = sp_wall_ms()};
    sp_rebuild_result res;
    rv = sp_complaints_rebuild(st, &ctx, on_progress, &p, &res);
    if (p.tty && p.phase && !o->quiet) fputc('\n', stderr);
    sp_store_close(st);
    if (rv != SP_OK) return sp_cli_fail("rebuild", rv);
    double secs = (double)(sp_wall_ms() - p.start_ms) / 1000.0;
    printf("rebuilt %" PRIu64 " complaints from %" PRIu64 " events (%" PRIu64
           " other envelopes skipped, %" PRIu64 " events of complaints filed where this node "
           "keeps no feed), %" PRIu64 " stats rows, in %.2f s (%.0f events/s)\n",
           res.complaints, res.events, res.skipped, res.foreign, res.stats_rows, secs,
           secs > 0 ? (double)(res.events + res.skipped + res.foreign) / secs : 0.0);
    return SP_EXIT_OK;
}

int sp_cli_rebuild(int argc, char **argv) {
    rebuild_opts o;
    if (sp_cli_wants_help(argc, argv)) {
        fputs(rebuild_usage, stdout);
        return SP_EXIT_OK;
    }
    if (parse_opts(argc, argv, &o) != 0) {
        fputs(rebuild_usage, stderr);
        return SP_EXIT_USAGE;
    }
    inputs in = {0};
    int code = load_inputs(&in, &o);
    if (code == SP_EXIT_OK) code = run(&o, &in);
    inputs_free(&in);
    return code;
}
