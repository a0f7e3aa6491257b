/*
 * The national monitoring dashboard (docs/dashboard.md): GET /api/v1/dashboard answers, in one
 * request, the figures of a scope (national, a province, a kabupaten/kota, an agency) and of
 * each of its children, with a weekly trend and this node's replication health; /dashboard/
 * serves the page that draws them (node/http/dashboard/, compiled into the binary by CMake).
 *
 * Every figure comes from the statistics rows (node/lifecycle/fold_stats.h) through
 * sp_complaints_stats_*, never from complaint states: a row costs a few RocksDB scans of that
 * scope's daily rows, whatever the number of complaints. Counters are sums, so what no child
 * row covers (complaints at province level, or in a regency without a node of its own) is the
 * parent minus its children, shown as one "other" row; the shares and means are derived from
 * the counters after that subtraction, which is why this file derives them itself.
 *
 * A channel filter reads the channel's slice of the same rows (node/lifecycle/fold_stats.h), so it costs
 * what the unfiltered page costs. There is no category filter: the rows have no category
 * dimension (a category tree per scope would multiply them), and computing it from the
 * complaints would make the cost grow with their number.
 *
 * The page and the endpoint are public, like /api/v1/stats: counts only, never a complaint's
 * content or a reporter. Times are UTC on the wire; the page shows them in WIB/WITA/WIT.
 * Requests run concurrently on NNG's threads: everything here only reads (the stats, the
 * topology, the replicator's counters), through thread-safe calls, and keeps no state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/hlc.h"
#include "node/app/status.h"
#include "node/http/http_int.h"
#include "node/lifecycle/sla.h"

#define WEEKS_DEFAULT 12
#define WEEKS_MAX 52
#define SCOPE_PARAM_MAX (16 + SP_MAX_ORIGIN)
#define PATH_DEPTH_MAX 8

/* ---- figures of one scope ---- */

/* The weeks of the trend: Monday-to-Sunday local dates, the last one holding today. */
typedef struct {
    int32_t first_day; /* Monday of the oldest week (days since 1970-01-01) */
    int weeks;
} window;

typedef struct {
    sp_stats total;             /* every dated row summed: the counters since the beginning */
    sp_stats gauges;            /* complaints per status now */
    int64_t overdue;            /* open complaints past their active deadline now */
    int64_t unanswered_overdue; /* dispositioned, past the respond deadline, never answered */
    int64_t filed[WEEKS_MAX], completed[WEEKS_MAX];
} figures;

static window window_at(uint64_t now_ms, sp_timezone tz, int weeks) {
    int32_t today = sp_local_day(now_ms, tz);
    int32_t monday = today - (sp_weekday(today) + 6) % 7;
    return (window){monday - 7 * (weeks - 1), weeks};
}

typedef struct {
    figures *f;
    const window *w;
} day_ctx;

static int add_day(void *arg, uint32_t ymd, const sp_stats *row) {
    day_ctx *d = arg;
    sp_stats_add(&d->f->total, row, 1);
    int32_t day = sp_days_from_civil((int)(ymd / 10000), (int)(ymd / 100 % 100), (int)(ymd % 100));
    /* Rows dated after today (a zone east of the scope's) still fall in the current week. */
    if (day >= d->w->first_day && (day - d->w->first_day) / 7 < d->w->weeks) {
        d->f->filed[(day - d->w->first_day) / 7] += row->v[SP_STAT_FILED];
        d->f->completed[(day - d->w->first_day) / 7] += row->v[SP_STAT_COMPLETED];
    }
    return 0;
}

/* The figures of one stats scope at now. SP_ERR_STORE, SP_ERR_CORRUPT, SP_ERR_NOMEM. */
static sp_err load_figures(sp_complaints *c, sp_scope_kind kind, const char *scope, const window *w,
                           uint64_t now, figures *f) {
    memset(f, 0, sizeof *f);
    sp_stats_current cur;
    sp_err rv = sp_complaints_stats_current(c, kind, scope, now, &cur);
    f->gauges = cur.gauges;
    f->overdue = cur.overdue;
    f->unanswered_overdue = cur.unanswered_overdue;
    day_ctx d = {f, w};
    if (rv == SP_OK) rv = sp_complaints_stats_days(c, kind, scope, 1, 99991231, add_day, &d);
    return rv;
}

static void figures_sub(figures *dst, const figures *src) {
    sp_stats_add(&dst->total, &src->total, -1);
    sp_stats_add(&dst->gauges, &src->gauges, -1);
    dst->overdue -= src->overdue;
    dst->unanswered_overdue -= src->unanswered_overdue;
    for (int i = 0; i < WEEKS_MAX; i++) {
        dst->filed[i] -= src->filed[i];
        dst->completed[i] -= src->completed[i];
    }
}

static int figures_empty(const figures *f) {
    return sp_stats_is_zero(&f->total) && sp_stats_is_zero(&f->gauges) && f->overdue == 0;
}

/* ---- figures as JSON ---- */

/* part/whole in percent with one decimal; null when whole is 0. */
static json_t *percent(int64_t part, int64_t whole) {
    if (whole <= 0) return json_null();
    double x = 1000.0 * (double)part / (double)whole;
    return json_real((double)(int64_t)(x + 0.5) / 10.0);
}

/* sum/n with two decimals; null when n is 0. */
static json_t *mean2(int64_t sum, int64_t n) {
    if (n <= 0) return json_null();
    return json_real((double)(int64_t)(100.0 * (double)sum / (double)n + 0.5) / 100.0);
}

/* The histogram bucket holding the median time to first response: {"bucket": "le_1d",
 * "le_ms": 86400000} (le_ms null for "gt_30d"), or null without any response. The stats keep
 * a histogram, not the times, so the median is known to a bucket; the mean is exact. */
static json_t *median_json(const sp_stats *t) {
    int64_t n = t->v[SP_STAT_FIRST_RESPONSE], seen = 0;
    if (n <= 0) return json_null();
    for (int i = 0; i < 10; i++) {
        seen += t->v[SP_STAT_RESP_LE_1H + i];
        if (2 * seen < n) continue;
        const char *name = sp_stat_name((sp_stat)(SP_STAT_RESP_LE_1H + i)) + strlen("response_");
        uint64_t le = sp_stats_resp_bounds_ms[i];
        return json_pack("{s:s, s:o}", "bucket", name, "le_ms",
                         le ? json_integer((json_int_t)le) : json_null());
    }
    return json_null(); /* the buckets do not add up to n: rows being rewritten */
}

static json_t *series_json(const int64_t *v, int n) {
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_integer((json_int_t)v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *open_json(const sp_stats *g) {
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "filed", (json_int_t)g->v[SP_STAT_ST_FILED],
                     "verified", (json_int_t)g->v[SP_STAT_ST_VERIFIED], "dispositioned",
                     (json_int_t)g->v[SP_STAT_ST_DISPOSITIONED], "in_progress",
                     (json_int_t)g->v[SP_STAT_ST_IN_PROGRESS], "rerouted",
                     (json_int_t)g->v[SP_STAT_ST_REROUTED], "reopened",
                     (json_int_t)g->v[SP_STAT_ST_REOPENED]);
}

static int64_t open_count(const sp_stats *g) {
    return g->v[SP_STAT_ST_FILED] + g->v[SP_STAT_ST_VERIFIED] + g->v[SP_STAT_ST_DISPOSITIONED] +
           g->v[SP_STAT_ST_IN_PROGRESS] + g->v[SP_STAT_ST_REROUTED] + g->v[SP_STAT_ST_REOPENED];
}

/* The counters a row shows; docs/dashboard.md says what each one means. */
static json_t *counters_json(const figures *f) {
    const int64_t *t = f->total.v;
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
        "filed", (json_int_t)t[SP_STAT_FILED], "in_progress", (json_int_t)open_count(&f->gauges),
        "completed", (json_int_t)t[SP_STAT_COMPLETED], "completed_in_sla",
        (json_int_t)t[SP_STAT_COMPLETED_IN_SLA], "resolved", (json_int_t)t[SP_STAT_RESOLVED],
        "archived", (json_int_t)t[SP_STAT_ARCHIVED], "overdue", (json_int_t)f->overdue, "verified",
        (json_int_t)t[SP_STAT_VERIFIED], "first_response", (json_int_t)t[SP_STAT_FIRST_RESPONSE],
        "first_response_in_sla", (json_int_t)t[SP_STAT_FIRST_RESPONSE_IN_SLA], "unanswered_overdue",
        (json_int_t)f->unanswered_overdue, "escalated", (json_int_t)t[SP_STAT_ESCALATED],
        "reopened", (json_int_t)t[SP_STAT_REOPENED], "feedback", (json_int_t)t[SP_STAT_FEEDBACK],
        "satisfied", (json_int_t)t[SP_STAT_SATISFIED], "rated", (json_int_t)t[SP_STAT_RATED],
        "rating_sum", (json_int_t)t[SP_STAT_RATING_SUM]);
}

/* A row: counters, derived shares and means, status breakdown, trend. NULL on OOM. */
static json_t *figures_json(const figures *f, int weeks) {
    const int64_t *t = f->total.v;
    json_t *o = counters_json(f);
    if (!o) return NULL;
    int64_t resp = t[SP_STAT_FIRST_RESPONSE], rated = t[SP_STAT_RATED];
    /* Of the first responses that were due: the answered ones, and those nobody answered by
     * their deadline (missed, not merely not yet counted). */
    int64_t due = resp + f->unanswered_overdue;
    int bad = json_object_set_new(o, "followed_up_in_sla_pct",
                                  percent(t[SP_STAT_FIRST_RESPONSE_IN_SLA], due)) ||
              json_object_set_new(o, "completed_in_sla_pct",
                                  percent(t[SP_STAT_COMPLETED_IN_SLA], t[SP_STAT_COMPLETED])) ||
              json_object_set_new(o, "response_mean_ms",
                                  resp > 0 ? json_integer(t[SP_STAT_RESPONSE_MS_SUM] / resp)
                                           : json_null()) ||
              json_object_set_new(o, "response_median", median_json(&f->total)) ||
              json_object_set_new(o, "satisfied_pct",
                                  percent(t[SP_STAT_SATISFIED], t[SP_STAT_FEEDBACK])) ||
              json_object_set_new(o, "rating_mean", mean2(t[SP_STAT_RATING_SUM], rated)) ||
              json_object_set_new(o, "open", open_json(&f->gauges)) ||
              json_object_set_new(o, "trend",
                                  json_pack("{s:o, s:o}", "filed", series_json(f->filed, weeks),
                                            "completed", series_json(f->completed, weeks)));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- scopes ---- */

typedef enum { SC_NATIONAL, SC_PROVINCE, SC_REGION, SC_AGENCY } scope_type;
static const char *const scope_type_names[] = {"national", "province", "region", "agency"};

typedef struct {
    scope_type type;
    char param[SCOPE_PARAM_MAX]; /* as the client writes it: "province:35" */
    char key[SP_MAX_ORIGIN + 1]; /* the stats scope: region code ("" national) or node id */
    const sp_topo_node *node;    /* the scope's node; NULL for a regency without its own */
    sp_timezone tz;
} scope;

/* The scope parameter of a node's own page: national, province:NN, region:NN.NN, agency:ID. */
static void node_param(const sp_topo_node *n, char *buf, size_t cap) {
    switch (n->kind) {
    case SP_NODE_NATIONAL:
        snprintf(buf, cap, "national");
        break;
    case SP_NODE_PROVINCE:
        snprintf(buf, cap, "province:%s", n->code);
        break;
    case SP_NODE_KABUPATEN:
    case SP_NODE_KOTA:
        snprintf(buf, cap, "region:%s", n->code);
        break;
    default:
        snprintf(buf, cap, "agency:%s", n->id);
    }
}

static int digits(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* "NN" (1), "NN.NN" (2), else 0. */
static int code_level(const char *c) {
    size_t n = strlen(c);
    if (n == 2 && digits(c, 2)) return 1;
    if (n == 5 && digits(c, 2) && c[2] == '.' && digits(c + 3, 2)) return 2;
    return 0;
}

/* A region scope ("35" or "35.77"): 1 when the topology knows it, 0 when not, -1 malformed. */
static int region_scope(const sp_topology *t, const char *code, scope *sc) {
    int level = code_level(code);
    if (!level) return -1;
    if (!sp_topology_responsible(t, code)) return 0;
    const sp_topo_node *n = sp_topology_find_by_code(t, code, SP_NODE_REGION);
    sc->node = n && strcmp(n->code, code) == 0 ? n : NULL;
    if (level == 1 && !sc->node) return 0;
    sc->type = level == 1 ? SC_PROVINCE : SC_REGION;
    snprintf(sc->key, sizeof sc->key, "%s", code);
    snprintf(sc->param, sizeof sc->param, "%s:%s", level == 1 ? "province" : "region", code);
    return sp_timezone_for_code(code, &sc->tz) == SP_OK;
}

/* Parse scope= into sc: 1 ok, 0 unknown to the topology, -1 malformed. */
static int parse_scope(const sp_topology *t, const char *s, scope *sc) {
    memset(sc, 0, sizeof *sc);
    if (!*s || strcmp(s, "national") == 0) {
        sc->type = SC_NATIONAL;
        sc->node = sp_topology_national(t);
        sc->tz = sc->node->timezone;
        snprintf(sc->param, sizeof sc->param, "national");
        return 1;
    }
    if (strncmp(s, "province:", 9) == 0)
        return code_level(s + 9) == 1 ? region_scope(t, s + 9, sc) : -1;
    if (strncmp(s, "region:", 7) == 0) return region_scope(t, s + 7, sc);
    if (strncmp(s, "agency:", 7) != 0 || !s[7] || strlen(s + 7) > SP_MAX_ORIGIN) return -1;
    if (!(sc->node = sp_topology_find(t, s + 7))) return 0;
    sc->type = SC_AGENCY;
    sc->tz = sc->node->timezone;
    snprintf(sc->key, sizeof sc->key, "%s", sc->node->id);
    snprintf(sc->param, sizeof sc->param, "agency:%s", sc->node->id);
    return 1;
}

/* Who the scope is and how to get back up: path is the breadcrumb, national first. */
static json_t *scope_json(const sp_topology *t, const scope *sc) {
    const sp_topo_node *chain[PATH_DEPTH_MAX], *up = NULL;
    size_t n = 0;
    char prov[3] = "";
    if (sc->node)
        up = sc->node->parent;
    else { /* a regency without its own node: its province */
        memcpy(prov, sc->key, 2);
        up = sp_topology_find_by_code(t, prov, SP_NODE_PROVINCE);
    }
    for (; up && n < PATH_DEPTH_MAX; up = up->parent)
        chain[n++] = up;
    json_t *path = json_array();
    int bad = !path;
    for (size_t i = n; !bad && i-- > 0;) {
        char p[SCOPE_PARAM_MAX];
        node_param(chain[i], p, sizeof p);
        bad = json_array_append_new(
            path, json_pack("{s:s, s:s}", "scope", p, "name",
                            chain[i]->kind == SP_NODE_NATIONAL ? "Nasional" : chain[i]->name));
    }
    /* The national scope is the country, not the ministry that runs the national node. */
    const char *name = sc->type == SC_NATIONAL ? "Nasional" : sc->node ? sc->node->name : sc->key;
    if (!bad)
        bad =
            json_array_append_new(path, json_pack("{s:s, s:s}", "scope", sc->param, "name", name));
    if (bad) {
        json_decref(path);
        return NULL;
    }
    return json_pack(
        "{s:s, s:s, s:s?, s:s?, s:s, s:s, s:s?, s:o}", "param", sc->param, "type",
        scope_type_names[sc->type], "code", sc->key[0] && sc->type != SC_AGENCY ? sc->key : NULL,
        "id", sc->node ? sc->node->id : NULL, "name", name, "timezone", sp_timezone_name(sc->tz),
        "kind", sc->node ? sp_node_kind_name(sc->node->kind) : NULL, "path", path);
}

/* One child row: who it is, then its figures. */
static json_t *row_json(const sp_topo_node *n, const char *param, const figures *f, int weeks) {
    json_t *row =
        n ? json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s}", "scope", param, "id", n->id, "code",
                      n->code, "name", n->name, "kind", sp_node_kind_name(n->kind), "timezone",
                      sp_timezone_name(n->timezone))
          : json_pack("{s:n, s:n, s:n, s:n, s:s}", "scope", "id", "code", "name", "kind", "other");
    json_t *fig = figures_json(f, weeks);
    if (!row || !fig || json_object_update(row, fig) != 0) {
        json_decref(row);
        row = NULL;
    }
    json_decref(fig);
    return row;
}

/* ---- children ---- */

typedef struct {
    const sp_daemon_parts *p;
    const scope *sc;
    const window *w;
    uint64_t now;
    uint32_t channel; /* simpul.v1.Channel of the filter; 0: every channel */
} build_ctx;

/* The figures of a region code or node id, in the channel slice the request asked for. */
static sp_err load_scope(const build_ctx *b, sp_scope_kind kind, const char *base, figures *f) {
    char key[SP_STATS_SCOPE_MAX + 1];
    sp_err rv = sp_stats_scope(key, base, b->channel);
    return rv == SP_OK ? load_figures(b->p->complaints, kind, key, b->w, b->now, f) : rv;
}

static int is_region_child(const scope *sc, const sp_topo_node *n) {
    if (sc->type == SC_NATIONAL) return n->kind == SP_NODE_PROVINCE;
    return sc->type == SC_PROVINCE && (n->kind == SP_NODE_KABUPATEN || n->kind == SP_NODE_KOTA) &&
           strncmp(n->code, sc->key, 2) == 0;
}

/* Agencies listed under a scope (besides its own node): the ministries and lembaga at national,
 * the OPDs of a province (all levels) or of a kabupaten/kota, the OPDs under an agency. */
static int is_agency_child(const scope *sc, const sp_topo_node *n) {
    switch (sc->type) {
    case SC_NATIONAL:
        return n->kind == SP_NODE_MINISTRY || n->kind == SP_NODE_LEMBAGA;
    case SC_PROVINCE:
        return n->kind == SP_NODE_OPD && n->code && strncmp(n->code, sc->key, 2) == 0;
    case SC_REGION:
        return n->kind == SP_NODE_OPD && n->code && strcmp(n->code, sc->key) == 0;
    default:
        return n->kind == SP_NODE_OPD && n->parent == sc->node;
    }
}

static int by_code(const void *a, const void *b) {
    return strcmp((*(const sp_topo_node *const *)a)->code, (*(const sp_topo_node *const *)b)->code);
}

/* Append the row of node n (its region scope, or as agency) to arr; subtract it from rest. */
static sp_err add_row(const build_ctx *b, const sp_topo_node *n, int as_agency, json_t *arr,
                      figures *rest) {
    figures f;
    char param[SCOPE_PARAM_MAX];
    sp_err rv = as_agency ? load_scope(b, SP_SCOPE_AGENCY, n->id, &f)
                          : load_scope(b, SP_SCOPE_REGION, n->code, &f);
    if (rv != SP_OK) return rv;
    if (as_agency)
        snprintf(param, sizeof param, "agency:%s", n->id);
    else
        node_param(n, param, sizeof param);
    if (rest) figures_sub(rest, &f);
    return json_array_append_new(arr, row_json(n, param, &f, b->w->weeks)) == 0 ? SP_OK
                                                                                : SP_ERR_NOMEM;
}

/* The provinces of national or the kabupaten/kota of a province, by code, then "other" when
 * the scope holds complaints none of them does (national-level ones; at a province, those
 * filed at province level or in a regency without its own node). */
static sp_err region_rows(const build_ctx *b, const figures *parent, json_t *arr) {
    if (b->sc->type != SC_NATIONAL && b->sc->type != SC_PROVINCE) return SP_OK; /* no regions */
    const sp_topology *t = b->p->topo;
    size_t total = sp_topology_count(t), n = 0;
    const sp_topo_node **v = malloc((total ? total : 1) * sizeof *v);
    figures *rest = malloc(sizeof *rest);
    sp_err rv = v && rest ? SP_OK : SP_ERR_NOMEM;
    for (size_t i = 0; rv == SP_OK && i < total; i++)
        if (is_region_child(b->sc, sp_topology_node_at(t, i))) v[n++] = sp_topology_node_at(t, i);
    if (rv == SP_OK) {
        qsort(v, n, sizeof *v, by_code);
        *rest = *parent;
    }
    for (size_t i = 0; rv == SP_OK && i < n; i++)
        rv = add_row(b, v[i], 0, arr, rest);
    if (rv == SP_OK && !figures_empty(rest))
        rv = json_array_append_new(arr, row_json(NULL, NULL, rest, b->w->weeks)) == 0
                 ? SP_OK
                 : SP_ERR_NOMEM;
    free(v);
    free(rest);
    return rv;
}

/* The scope's own node as a holder (what it handles itself), then its agencies. */
static sp_err agency_rows(const build_ctx *b, json_t *arr) {
    const sp_topology *t = b->p->topo;
    sp_err rv = SP_OK;
    if (b->sc->node && b->sc->type != SC_AGENCY) rv = add_row(b, b->sc->node, 1, arr, NULL);
    for (size_t i = 0; rv == SP_OK && i < sp_topology_count(t); i++) {
        const sp_topo_node *n = sp_topology_node_at(t, i);
        if (n != b->sc->node && is_agency_child(b->sc, n)) rv = add_row(b, n, 1, arr, NULL);
    }
    return rv;
}

/* ---- replication health ---- */

static json_t *peer_json(const sp_topology *t, json_t *st) {
    const char *id = json_string_value(json_object_get(st, "id"));
    const sp_topo_node *n = id ? sp_topology_find(t, id) : NULL;
    json_int_t last = json_integer_value(json_object_get(st, "last_contact_ms"));
    return json_pack(
        "{s:s?, s:s?, s:s?, s:s?, s:O?, s:O?, s:o, s:O?, s:O?, s:O?}", "id", id, "name",
        n ? n->name : NULL, "kind", n ? sp_node_kind_name(n->kind) : NULL, "timezone",
        n ? sp_timezone_name(n->timezone) : NULL, "connected", json_object_get(st, "connected"),
        "lag", json_object_get(st, "lag"), "last_contact", sp_json_time((uint64_t)last),
        "sent_events", json_object_get(st, "sent_events"), "received_events",
        json_object_get(st, "received_events"), "failures", json_object_get(st, "failures"));
}

/* This node's log and each peer link, from the status JSON (node/app/status.h), with the peers'
 * names and zones; addresses are left out of this public page. */
static json_t *replication_json(const sp_daemon_parts *p) {
    json_t *st = sp_status_json(p);
    if (!st) return NULL;
    json_t *peers = json_array(), *src = json_object_get(st, "peers"), *one;
    size_t i;
    json_array_foreach(src, i, one) {
        if (!peers || json_array_append_new(peers, peer_json(p->topo, one)) != 0) {
            json_decref(peers);
            peers = NULL;
        }
    }
    json_t *o = json_pack("{s:O?, s:O?, s:o}", "events", json_object_get(st, "events"), "forks",
                          json_object_get(st, "forks"), "peers", peers);
    json_decref(st);
    return o;
}

/* ---- the endpoint ---- */

static json_t *weeks_json(const window *w) {
    json_t *a = json_array();
    for (int i = 0; a && i < w->weeks; i++) {
        int y, m, d;
        char buf[16];
        sp_civil_from_days(w->first_day + 7 * i, &y, &m, &d);
        snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
        json_array_append_new(a, json_string(buf));
    }
    return a;
}

static sp_err put(json_t *o, const char *key, json_t *v) {
    return json_object_set_new(o, key, v) == 0 ? SP_OK : SP_ERR_NOMEM;
}

static sp_err build(const build_ctx *b, json_t *out) {
    figures *sum = malloc(sizeof *sum);
    json_t *regions = json_array(), *agencies = json_array();
    sp_err rv = sum && regions && agencies ? SP_OK : SP_ERR_NOMEM;
    if (rv == SP_OK)
        rv = load_scope(b, b->sc->type == SC_AGENCY ? SP_SCOPE_AGENCY : SP_SCOPE_REGION, b->sc->key,
                        sum);
    if (rv == SP_OK) rv = put(out, "summary", figures_json(sum, b->w->weeks));
    if (rv == SP_OK) rv = region_rows(b, sum, regions);
    if (rv == SP_OK) rv = agency_rows(b, agencies);
    if (rv == SP_OK) rv = put(out, "regions", json_incref(regions));
    if (rv == SP_OK) rv = put(out, "agencies", json_incref(agencies));
    if (rv == SP_OK) rv = put(out, "replication", replication_json(b->p));
    json_decref(regions);
    json_decref(agencies);
    free(sum);
    return rv;
}

static const char *const dashboard_names[] = {"scope", "weeks", "channel", NULL};

typedef struct {
    scope sc;
    int weeks;
    uint32_t channel; /* 0: every channel */
} dash_params;

static int dash_error(sp_http_req *r, const char *name, const char *rule) {
    sp_http_error(r, 400, "invalid_field", "bad parameter '%s': %s", name, rule);
    return -1;
}

/* scope=, weeks= and channel=; answers 400/404 and returns -1 when they are not usable. */
static int dashboard_params(sp_http_req *r, dash_params *d) {
    char s[SCOPE_PARAM_MAX] = "", w[8] = "", ch[16] = "";
    if (sp_http_query_only(r, dashboard_names) != 0) return -1;
    if (sp_http_query(r, "scope", s, sizeof s) < 0)
        return dash_error(r, "scope", "national|province:<NN>|region:<NN.NN>|agency:<node id>");
    char *end = w;
    long n = WEEKS_DEFAULT;
    int got = sp_http_query(r, "weeks", w, sizeof w);
    if (got > 0 && w[0]) n = strtol(w, &end, 10);
    if (got < 0 || *end || n < 1 || n > WEEKS_MAX) return dash_error(r, "weeks", "1..52");
    d->channel = 0;
    if (sp_http_query(r, "channel", ch, sizeof ch) < 0 ||
        (ch[0] && sp_channel_parse(ch, &d->channel) != SP_OK))
        return dash_error(r, "channel", "web, app, sms, whatsapp, social, call-center, open311 or email");
    int known = parse_scope(r->srv->p->topo, s, &d->sc);
    if (known < 0)
        return dash_error(r, "scope", "national|province:<NN>|region:<NN.NN>|agency:<node id>");
    if (!known) {
        sp_http_error(r, 404, "not_found", "this federation has no %s", s);
        return -1;
    }
    d->weeks = (int)n;
    return 0;
}

void sp__http_dashboard(sp_http_req *r) {
    dash_params q;
    if (dashboard_params(r, &q) != 0) return;
    const sp_daemon_parts *p = r->srv->p;
    uint64_t now = sp_wall_ms();
    window w = window_at(now, q.sc.tz, q.weeks);
    build_ctx b = {p, &q.sc, &w, now, q.channel};
    json_t *out = json_pack("{s:s, s:s, s:o, s:o, s:s?, s:o}", "node", p->self->id, "node_name",
                            p->self->name ? p->self->name : "", "at", sp_json_time(now),
                            "scope", scope_json(p->topo, &q.sc), "channel",
                            q.channel ? sp_channel_name(q.channel) : NULL, "weeks", weeks_json(&w));
    sp_err rv = out ? build(&b, out) : SP_ERR_NOMEM;
    if (rv != SP_OK) {
        json_decref(out);
        sp_http_internal_error(r, rv, "dashboard");
        return;
    }
    sp_http_reply_json(r, 200, out);
}

/* ---- the page ---- */

/* clang-format off */
#define DASH_ASSETS(XX)                                                                           \
    XX(index_html, "index.html", "text/html; charset=utf-8")                                      \
    XX(app_js, "app.js", "text/javascript; charset=utf-8")                                        \
    XX(app_css, "app.css", "text/css; charset=utf-8")
/* clang-format on */

/* Generated by node/CMakeLists.txt from node/http/dashboard/ (dashboard_assets.c). */
#define XX(sym, file, type)                                                                        \
    extern const unsigned char sp__dash_##sym[];                                                   \
    extern const size_t sp__dash_##sym##_len;                                                      \
    extern const char sp__dash_##sym##_etag[];
DASH_ASSETS(XX)
#undef XX

typedef struct {
    const char *file, *ctype;
    const unsigned char *data;
    const size_t *len;
    const char *etag;
} asset;

static const asset assets[] = {
#define XX(sym, file, type)                                                                        \
    {file, type, sp__dash_##sym, &sp__dash_##sym##_len, sp__dash_##sym##_etag},
    DASH_ASSETS(XX)
#undef XX
};

/* Everything the page loads comes from this node: no inline script, no other origin. */
#define CSP                                                                                        \
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "                \
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/* The assets change only with the binary; "no-cache" + ETag makes a browser revalidate (a
 * cheap 304), so after an upgrade the page and its script never come from different builds. */
static void send_asset(sp_http_req *r, const asset *a) {
    char len[24];
    snprintf(len, sizeof len, "%zu", *a->len);
    const char *hdrs[] = {"Cache-Control",
                          "no-cache",
                          "ETag",
                          a->etag,
                          "X-Content-Type-Options",
                          "nosniff",
                          "Content-Security-Policy",
                          CSP,
                          NULL,
                          NULL,
                          NULL};
    const char *inm = sp_http_header(r, "If-None-Match");
    if (inm && strstr(inm, a->etag)) {
        /* No body; NNG frames nothing by itself, and RFC 9110 wants the 200's length here. */
        hdrs[8] = "Content-Length";
        hdrs[9] = len;
        sp_http_reply_headers(r, 304, NULL, NULL, 0, hdrs);
    } else {
        sp_http_reply_headers(r, 200, a->ctype, a->data, *a->len, hdrs);
    }
}

void sp__http_dashboard_page(sp_http_req *r) {
    size_t n = strlen(r->uri);
    if (n == 0 || r->uri[n - 1] != '/') { /* relative URLs of the page need the slash */
        static const char text[] = "Moved to dashboard/\n";
        const char *hdrs[] = {"Location", "dashboard/", NULL};
        sp_http_reply_headers(r, 301, "text/plain; charset=utf-8", text, sizeof text - 1, hdrs);
        return;
    }
    send_asset(r, &assets[0]);
}

void sp__http_dashboard_asset(sp_http_req *r) {
    for (size_t i = 0; i < sizeof assets / sizeof *assets; i++)
        if (strcmp(r->params[0], assets[i].file) == 0) {
            send_asset(r, &assets[i]);
            return;
        }
    sp_http_error(r, 404, "not_found", "no such file: /dashboard/%s", r->params[0]);
}
